// What every review records (span, metrics, log line) measured against its time budget, in
// process, with the SDK's in-memory span exporter and a collecting metric reader. The wire
// formats (OTLP, Prometheus) are covered by telemetry-export.test.ts and prometheus.test.ts.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { metrics, propagation, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  AggregationTemporality,
  type DataPoint,
  type Histogram,
  MeterProvider,
  MetricReader,
} from '@opentelemetry/sdk-metrics';
import {
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import * as z from 'zod';
import { functionNamed } from '../functions/index.ts';
import { loadConfig } from '../shared/config.ts';
import { ConfigError } from '../shared/errors.ts';
import { chainHandler, functionHandler, type LoadedMutation, serveReview } from '../shared/handler.ts';
import { answerBody } from '../shared/http-answer.ts';
import { defineMutation } from '../shared/mutation.ts';
import type { RequestInfo } from '../shared/request-info.ts';
import { decodePatch } from '../shared/response.ts';
import { parseAdmissionReview } from '../shared/review.ts';
import { budgetOf } from '../shared/telemetry/budget.ts';
import { DURATION_BUCKETS, METRIC } from '../shared/telemetry/instruments.ts';
import { createLogger, useLogger } from '../shared/telemetry/log.ts';
import { ATTR } from '../shared/telemetry/observe.ts';
import { loadTelemetrySettings, useTelemetrySettings } from '../shared/telemetry/settings.ts';
import { apiserverVerdict } from './support/apiserver.ts';
import { type Json, sample } from './support/reviews.ts';

class CollectingReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE });
  }
  protected override async onShutdown() {}
  protected override async onForceFlush() {}
}

const spans = new InMemorySpanExporter();
const reader = new CollectingReader();
const lines: Json[] = [];

const step = (name: string, env: Record<string, string> = {}): LoadedMutation => {
  const mutation = functionNamed(name);
  return { mutation, config: loadConfig(mutation, env) };
};
const volumeExtension = functionHandler(step('volume-extension'));
const throwingStep = (onError: 'deny' | 'allow'): LoadedMutation => ({
  mutation: defineMutation({
    name: `broken-${onError}`,
    description: 'throws',
    appliesTo: { resources: ['pods'], operations: ['CREATE'] },
    config: z.object({}),
    webhook: { failurePolicy: 'Ignore', failurePolicyReason: 'test' },
    onError,
    mutate() {
      throw new Error('boom');
    },
  }),
  config: {},
});
const throwing = (onError: 'deny' | 'allow') => functionHandler(throwingStep(onError));

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_SPAN_ID = '00f067aa0ba902b7';
const traceparent = `00-${TRACE_ID}-${PARENT_SPAN_ID}-01`;

function lastSpan(): ReadableSpan {
  const all = spans.getFinishedSpans();
  const span = all.at(-1);
  assert.ok(span, 'no span was recorded');
  return span;
}

async function points(name: string): Promise<DataPoint<unknown>[]> {
  const { resourceMetrics } = await reader.collect();
  const metric = resourceMetrics.scopeMetrics
    .flatMap((s) => s.metrics)
    .find((m) => m.descriptor.name === name);
  return (metric?.dataPoints ?? []) as DataPoint<unknown>[];
}

async function count(name: string, labels: Record<string, string>): Promise<number> {
  const matching = (await points(name)).filter((p) =>
    Object.entries(labels).every(([key, value]) => p.attributes[key] === value),
  );
  return matching.reduce((sum, p) => {
    const value = p.value as number | Histogram;
    return sum + (typeof value === 'number' ? value : value.count);
  }, 0);
}

describe('review telemetry', () => {
  before(() => {
    useTelemetrySettings({ defaultBudgetSeconds: 10, warnFraction: 0.5, logLevel: 'debug' });
    useLogger(
      createLogger({ level: 'debug', destination: { write: (line) => void lines.push(JSON.parse(line)) } }),
    );
  });
  after(async () => {
    trace.disable();
    metrics.disable();
    propagation.disable();
  });

  it('counts nothing and fails nothing before an SDK is registered, then counts once one is', async () => {
    const first = answerBody(volumeExtension, sample('knative-pod-volumes.json'));
    assert.equal(first.status, 200);
    metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }));
    trace.setGlobalTracerProvider(
      new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter: spans })] }),
    );
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    answerBody(volumeExtension, sample('knative-pod-volumes.json'));
    assert.equal(await count(METRIC.reviews, { [ATTR.function]: 'volume-extension' }), 1);
    assert.equal(spans.getFinishedSpans().length, 1);
  });

  it('records one SERVER span continuing the traceparent, with the review and its budget', async () => {
    const body = JSON.stringify(sample('knative-pod-volumes.json'));
    const answer = answerBody(volumeExtension, body, {
      headers: { traceparent, 'content-length': String(Buffer.byteLength(body)) },
      timeoutMs: 7000,
    });
    assert.equal(answer.status, 200);
    const reply = answer.body as Json;
    const verdict = await apiserverVerdict(JSON.parse(body), reply);
    assert.ok(verdict.accepted && verdict.allowed, 'the apiserver accepts the patch');

    const span = lastSpan();
    assert.equal(span.kind, 1); // SpanKind.SERVER
    assert.equal(span.name, 'admission volume-extension');
    assert.equal(span.spanContext().traceId, TRACE_ID);
    assert.equal(span.parentSpanContext?.spanId, PARENT_SPAN_ID);
    const a = span.attributes;
    assert.equal(a[ATTR.function], 'volume-extension');
    assert.equal(a[ATTR.namespace], 'nfaas-demo');
    assert.equal(a[ATTR.operation], 'CREATE');
    assert.equal(a[ATTR.kind], 'Pod');
    assert.equal(a[ATTR.resource], 'pods');
    assert.equal(a[ATTR.uid], reply.response.uid);
    assert.equal(a[ATTR.dryRun], false);
    assert.equal(a[ATTR.allowed], true);
    assert.equal(a[ATTR.outcome], 'patched');
    assert.equal(a[ATTR.patchOperations], decodePatch(reply.response).length);
    assert.equal(a[ATTR.objectSize], Buffer.byteLength(body));
    assert.equal(a[ATTR.objectSizeEstimated], undefined);
    assert.equal(a[ATTR.budget], 7);
    assert.equal(a[ATTR.budgetSource], 'request');
    const used = a[ATTR.budgetUsed] as number;
    assert.ok(used > 0 && used < 7, `used ${used}`);
    assert.equal(a[ATTR.budgetFraction], used / 7);
  });

  it('falls back to WEBHOOK_TIMEOUT_SECONDS without a usable ?timeout=, and estimates the size without a body', () => {
    for (const timeoutMs of [undefined, 0, Number.NaN, -3000]) {
      answerBody(volumeExtension, sample('knative-pod-volumes.json'), { timeoutMs });
      assert.equal(lastSpan().attributes[ATTR.budget], 10, `timeoutMs=${timeoutMs}`);
      assert.equal(lastSpan().attributes[ATTR.budgetSource], 'default');
    }
    const reviewed = parseAdmissionReview(sample('knative-pod-volumes.json'));
    serveReview(volumeExtension, reviewed);
    assert.equal(lastSpan().attributes[ATTR.objectSize], JSON.stringify(reviewed.request.object).length);
    assert.equal(lastSpan().attributes[ATTR.objectSizeEstimated], true);
  });

  it('gives each kind of answer its outcome', async () => {
    const cases: {
      name: string;
      answer: () => unknown;
      outcome: string;
      allowed: boolean;
      error?: boolean;
    }[] = [
      {
        name: 'patched',
        answer: () => answerBody(volumeExtension, sample('knative-pod-volumes.json')),
        outcome: 'patched',
        allowed: true,
      },
      {
        name: 'not applicable (DELETE)',
        answer: () => answerBody(volumeExtension, sample('pod-delete.json')),
        outcome: 'allowed',
        allowed: true,
      },
      {
        name: 'denied',
        answer: () => answerBody(volumeExtension, sample('knative-pod-bad-volumes.json')),
        outcome: 'denied',
        allowed: false,
      },
      {
        name: 'mutation threw, onError deny',
        answer: () => answerBody(throwing('deny'), sample('plain-pod.json')),
        outcome: 'error',
        allowed: false,
        error: true,
      },
      {
        name: 'mutation threw, onError allow',
        answer: () => answerBody(throwing('allow'), sample('plain-pod.json')),
        outcome: 'error',
        allowed: true,
        error: true,
      },
    ];
    for (const c of cases) {
      const answer = c.answer() as Json;
      assert.equal(answer.status, 200, c.name);
      const a = lastSpan().attributes;
      assert.equal(a[ATTR.outcome], c.outcome, c.name);
      assert.equal(a[ATTR.allowed], c.allowed, c.name);
      assert.equal(lastSpan().status.code, c.error ? 2 : 0, c.name);
      if (c.error) assert.equal(lastSpan().events[0]?.name, 'exception', c.name);
    }
    assert.equal(lastSpan().attributes[ATTR.statusCode], 500);
    const before = await count(METRIC.reviews, {
      [ATTR.function]: 'volume-extension',
      [ATTR.outcome]: 'denied',
    });
    answerBody(volumeExtension, sample('knative-pod-bad-volumes.json'));
    const afterDenial = await count(METRIC.reviews, {
      [ATTR.function]: 'volume-extension',
      [ATTR.outcome]: 'denied',
      [ATTR.operation]: 'CREATE',
    });
    assert.equal(afterDenial, before + 1);
  });

  it('observes a chain as one review under its name, an error when a step failed even if admitted', async () => {
    const chain = chainHandler('pods-chain', [throwingStep('allow'), step('node-selector')]);
    const answer = answerBody(chain, sample('knative-pod-node-selector.json'), { timeoutMs: 4000 }) as Json;
    assert.equal(answer.status, 200);
    assert.equal(answer.body.response.allowed, true);
    const span = lastSpan();
    assert.equal(span.name, 'admission pods-chain');
    assert.equal(span.attributes[ATTR.function], 'pods-chain');
    assert.equal(span.attributes[ATTR.outcome], 'error');
    assert.equal(span.attributes[ATTR.patchOperations], decodePatch(answer.body.response).length);
    assert.ok((span.attributes[ATTR.patchOperations] as number) > 0, 'the other step still patched');
    assert.equal(span.attributes[ATTR.budget], 4);
    assert.equal(await count(METRIC.reviews, { [ATTR.function]: 'pods-chain', [ATTR.outcome]: 'error' }), 1);
    const clean = chainHandler('pods-chain', [step('node-selector')]);
    answerBody(clean, sample('knative-pod-node-selector.json'));
    assert.equal(lastSpan().attributes[ATTR.outcome], 'patched');
  });

  it('records a malformed request as an error span and count, answered 400', async () => {
    const before = await count(METRIC.reviews, {
      [ATTR.outcome]: 'error',
      [ATTR.function]: 'volume-extension',
    });
    const answer = answerBody(volumeExtension, '{"kind": "AdmissionReview"}', { headers: { traceparent } });
    assert.equal(answer.status, 400);
    const span = lastSpan();
    assert.equal(span.spanContext().traceId, TRACE_ID);
    assert.equal(span.attributes[ATTR.httpStatus], 400);
    assert.equal(span.status.code, 2);
    assert.equal(
      await count(METRIC.reviews, { [ATTR.outcome]: 'error', [ATTR.function]: 'volume-extension' }),
      before + 1,
    );
  });

  it('histograms the duration in buckets from 100 µs to 30 s, and the fraction of the budget', async () => {
    const [point] = await points(METRIC.duration);
    assert.ok(point, 'no duration recorded');
    assert.deepEqual((point.value as Histogram).buckets.boundaries, DURATION_BUCKETS);
    // An answer ready 6 s after a 10 s budget started: 60% used, deterministic without waiting.
    const reviewsBefore = await count(METRIC.budgetFraction, {});
    answerBody(volumeExtension, sample('knative-pod-volumes.json'), {
      timeoutMs: 10_000,
      receivedAt: performance.now() - 6000,
    });
    assert.equal(await count(METRIC.budgetFraction, {}), reviewsBefore + 1);
    const fraction = lastSpan().attributes[ATTR.budgetFraction] as number;
    assert.ok(fraction >= 0.6 && fraction < 0.7, `fraction ${fraction}`);
    const [budget] = (await points(METRIC.budget)).filter(
      (p) => p.attributes[ATTR.function] === 'volume-extension',
    );
    assert.equal(budget?.value, 10);
  });

  it('counts and logs a warning for each answer over BUDGET_WARN_FRACTION of its budget', async () => {
    const labels = { [ATTR.function]: 'volume-extension' };
    const before = await count(METRIC.budgetWarnings, labels);
    lines.length = 0;
    const late = { timeoutMs: 10_000, receivedAt: performance.now() - 5100 };
    answerBody(volumeExtension, sample('knative-pod-volumes.json'), late);
    const lateSpan = lastSpan();
    answerBody(volumeExtension, sample('knative-pod-volumes.json'), { timeoutMs: 10_000 });
    assert.equal(await count(METRIC.budgetWarnings, labels), before + 1);
    const warnings = lines.filter((l) => /budget/.test(l.msg) && l.level === 'warn');
    assert.equal(warnings.length, 1);
    assert.match(warnings[0].msg, /review used 5\d% of its 10s budget \(warning above 50%\)/);
    assert.equal(warnings[0].trace_id, lateSpan.spanContext().traceId);
    assert.equal(warnings[0].span_id, lateSpan.spanContext().spanId);
  });

  it('logs one JSON line per review with trace and span ids: debug, warn for a denial, error for a failure', () => {
    lines.length = 0;
    const info: RequestInfo = { headers: { traceparent } };
    answerBody(volumeExtension, sample('knative-pod-volumes.json'), info);
    const patched = lastSpan();
    answerBody(volumeExtension, sample('knative-pod-bad-volumes.json'), info);
    answerBody(throwing('deny'), sample('plain-pod.json'), info);
    assert.deepEqual(
      lines.map((l) => [l.level, l.outcome]),
      [
        ['debug', 'patched'],
        ['warn', 'denied'],
        ['error', 'error'],
      ],
    );
    assert.equal(lines[0].trace_id, TRACE_ID);
    assert.equal(lines[0].span_id, patched.spanContext().spanId);
    assert.equal(lines[0].uid, 'b1c2d3e4-0001-4a00-8000-000000000001');
    assert.equal(lines[0].namespace, 'nfaas-demo');
    assert.match(lines[1].msg, /^review denied: annotation knative\.netease\.dev\/volumes/);
    assert.equal(lines[2].err.message, 'boom');
    // Identifying fields only: nothing of the object (its image, its annotations) is printed.
    const printed = JSON.stringify(lines.slice(0, 1));
    assert.doesNotMatch(printed, /image|annotations|nagent/);
  });
});

describe('the time budget', () => {
  it("takes the request's ?timeout=, else the configured default", () => {
    assert.deepEqual(budgetOf(7000, 10), { seconds: 7, source: 'request' });
    assert.deepEqual(budgetOf(1500, 10), { seconds: 1.5, source: 'request' });
    assert.deepEqual(budgetOf(undefined, 10), { seconds: 10, source: 'default' });
    assert.deepEqual(budgetOf(0, 12), { seconds: 12, source: 'default' });
  });
});

describe('observability settings', () => {
  it('defaults to a 10 s budget, warnings above half of it, and info logs', () => {
    assert.deepEqual(loadTelemetrySettings({}), {
      defaultBudgetSeconds: 10,
      warnFraction: 0.5,
      logLevel: 'info',
    });
    assert.deepEqual(
      loadTelemetrySettings({
        WEBHOOK_TIMEOUT_SECONDS: '5',
        BUDGET_WARN_FRACTION: '0.25',
        LOG_LEVEL: 'debug',
      }),
      { defaultBudgetSeconds: 5, warnFraction: 0.25, logLevel: 'debug' },
    );
  });

  for (const [variable, value] of [
    ['WEBHOOK_TIMEOUT_SECONDS', 'ten'],
    ['WEBHOOK_TIMEOUT_SECONDS', '31'],
    ['BUDGET_WARN_FRACTION', '1.5'],
    ['BUDGET_WARN_FRACTION', '0'],
    ['LOG_LEVEL', 'loud'],
  ] as const) {
    it(`stops at start naming ${variable}=${value}`, () => {
      assert.throws(
        () => loadTelemetrySettings({ [variable]: value }),
        (error: Error) => error instanceof ConfigError && error.message.includes(`${variable}: `),
      );
    });
  }
});
