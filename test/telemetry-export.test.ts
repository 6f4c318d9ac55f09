// Telemetry as a running function exports it: a function under faas-js-runtime (`npm start`,
// telemetry started by its init()) configured by standard OTEL_* variables sends http/protobuf
// spans to a local OTLP receiver, decoded here; with the collector dead or stalled, every
// review is still answered.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decodePatch } from '../shared/response.ts';
import { ATTR } from '../shared/telemetry/observe.ts';
import { apiserverVerdicts, projectRoot } from './support/apiserver.ts';
import { inParallel, postReview, type RunningFunction, startFunction } from './support/function-process.ts';
import { SPAN_KIND_SERVER, STATUS_CODE_ERROR, startOtlpReceiver } from './support/otlp-receiver.ts';
import { runToExit } from './support/process.ts';
import { type Json, sample } from './support/reviews.ts';
import {
  call,
  OPENFAAS,
  OPENFAAS_URL,
  type RunningEntry,
  STANDALONE,
  STANDALONE_URL,
  startEntry,
  temporaryDirectory,
} from './support/runtimes.ts';

const patchedReview = sample('knative-pod-volumes.json');
const deniedReview = sample('knative-pod-bad-volumes.json');

describe('OTLP export (http/protobuf)', () => {
  let receiver: Awaited<ReturnType<typeof startOtlpReceiver>>;
  let server: RunningFunction;
  before(async () => {
    receiver = await startOtlpReceiver();
    server = await startFunction('volume-extension', {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
      OTEL_BSP_SCHEDULE_DELAY: '50',
      OTEL_METRIC_EXPORT_INTERVAL: '200',
      LOG_LEVEL: 'debug',
    });
  });
  after(async () => {
    await server?.stop();
    await receiver?.close();
  });

  it('exports one SERVER span per review, continuing the traceparent, with the admission attributes', async () => {
    const traceId = randomBytes(16).toString('hex');
    const parentSpanId = randomBytes(8).toString('hex');
    const body = JSON.stringify(patchedReview);
    const patched = await postReview(server.url, body, {
      timeout: '7s',
      headers: { traceparent: `00-${traceId}-${parentSpanId}-01` },
    });
    const denied = await postReview(server.url, deniedReview, { timeout: '10s' });
    const rejected = await postReview(server.url, '{"kind": "AdmissionReview"}');
    assert.deepEqual([patched.status, denied.status, rejected.status], [200, 200, 400]);
    const verdicts = await apiserverVerdicts([
      { request: patchedReview, reply: patched.body },
      { request: deniedReview, reply: denied.body },
    ]);
    assert.ok(verdicts.every((v) => v.accepted));

    const spans = await receiver.waitFor((s) => s.length >= 3);
    const span = spans.find((s) => s.traceId === traceId);
    assert.ok(span, `no span with trace id ${traceId} among ${spans.map((s) => s.traceId)}`);
    assert.equal(span.parentSpanId, parentSpanId);
    assert.equal(span.kind, SPAN_KIND_SERVER);
    assert.equal(span.name, 'admission volume-extension');
    assert.equal(span.scope, 'faas-admission');
    assert.equal(span.resource['service.name'], 'volume-extension');
    const reply = patched.body as Json;
    const a = span.attributes;
    assert.deepEqual(
      {
        function: a[ATTR.function],
        namespace: a[ATTR.namespace],
        operation: a[ATTR.operation],
        kind: a[ATTR.kind],
        resource: a[ATTR.resource],
        uid: a[ATTR.uid],
        dryRun: a[ATTR.dryRun],
        allowed: a[ATTR.allowed],
        outcome: a[ATTR.outcome],
        patchOperations: a[ATTR.patchOperations],
        objectSize: a[ATTR.objectSize],
        budget: a[ATTR.budget],
        budgetSource: a[ATTR.budgetSource],
      },
      {
        function: 'volume-extension',
        namespace: 'nfaas-demo',
        operation: 'CREATE',
        kind: 'Pod',
        resource: 'pods',
        uid: reply.response.uid,
        dryRun: false,
        allowed: true,
        outcome: 'patched',
        patchOperations: decodePatch(reply.response).length,
        objectSize: Buffer.byteLength(body),
        budget: 7,
        budgetSource: 'request',
      },
    );
    // The admitted object's namespace under a name of our own: k8s.namespace.name is the
    // process's namespace, which the Collector's k8sattributes processor writes.
    assert.equal(a['admission.namespace'], 'nfaas-demo');
    assert.equal(a['k8s.namespace.name'], undefined);
    const used = a[ATTR.budgetUsed] as number;
    assert.ok(used > 0 && used < 7, `used ${used} s`);
    assert.equal(a[ATTR.budgetFraction], used / 7);
    // The span covers the time used (it starts when the request arrived).
    assert.ok(
      Number(span.durationNanos) / 1e9 >= used * 0.999,
      `span ${span.durationNanos} ns, used ${used} s`,
    );

    const denial = spans.find((s) => s.attributes[ATTR.outcome] === 'denied');
    assert.equal(denial?.attributes[ATTR.allowed], false);
    assert.equal(denial?.attributes[ATTR.statusCode], 400);
    assert.equal(denial?.attributes[ATTR.budget], 10);
    const failed = spans.find((s) => s.attributes[ATTR.httpStatus] === 400);
    assert.equal(failed?.status.code, STATUS_CODE_ERROR);
    assert.equal(failed?.attributes[ATTR.outcome], 'error');

    // The log line of the traced review leads to the exported span.
    const line = server.logLines().find((l) => l.msg === 'review answered' && l.trace_id === traceId) as Json;
    assert.ok(line, 'no debug line with the trace id');
    assert.equal(line.span_id, span.spanId);
    assert.equal(line.uid, reply.response.uid);
  });

  it('exports the metrics over OTLP too when an endpoint is set', async () => {
    const deadline = Date.now() + 10_000;
    while (!receiver.metricExports.some((e) => e.body.includes('admission.review.duration'))) {
      assert.ok(Date.now() < deadline, 'no OTLP metric export with admission.review.duration');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.equal(receiver.metricExports[0]?.contentType, 'application/x-protobuf');
  });
});

/** Sends `count` reviews, 8 at a time, and checks every answer with the apiserver. */
async function assertAllAnswered(server: RunningFunction, count: number): Promise<void> {
  const replies = await inParallel(Array.from({ length: count }), 8, () =>
    postReview(server.url, patchedReview, { timeout: '10s' }),
  );
  const failures = replies.filter((r) => r.status !== 200);
  assert.equal(failures.length, 0, `failed: ${JSON.stringify(failures.slice(0, 3))}`);
  const verdicts = await apiserverVerdicts(replies.map((r) => ({ request: patchedReview, reply: r.body })));
  assert.equal(verdicts.filter((v) => !(v.accepted && v.allowed)).length, 0);
}

/** Reviews counted by the running function's own Prometheus endpoint. */
async function reviewsCounted(server: RunningFunction): Promise<number> {
  assert.ok(server.metricsUrl);
  const text = await (await fetch(server.metricsUrl)).text();
  return [...text.matchAll(/^admission_reviews_total\{[^}]*\} (\d+)/gm)].reduce(
    (n, m) => n + Number(m[1]),
    0,
  );
}

describe('a collector that is down or stalled', () => {
  it('dead address: every review answered, none failed, the export failures only logged', async () => {
    const deadPort = await closedPort();
    const server = await startFunction('volume-extension', {
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${deadPort}`,
      OTEL_BSP_SCHEDULE_DELAY: '20',
      OTEL_METRIC_EXPORT_INTERVAL: '100',
      OTEL_LOG_LEVEL: 'error',
    });
    try {
      await assertAllAnswered(server, 300);
      assert.equal(await reviewsCounted(server), 300);
      // Not vacuous: the exporter did try, and said so in the log.
      const deadline = Date.now() + 10_000;
      while (!server.logLines().some((l) => l.component === 'opentelemetry')) {
        assert.ok(Date.now() < deadline, 'no export error logged');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    } finally {
      await server.stop();
    }
  });

  it('stalled collector (accepts, never answers): every review answered, none failed', async () => {
    const held: import('node:http').ServerResponse[] = [];
    const stalled = createServer((_request, response) => void held.push(response));
    await new Promise<void>((resolve) => stalled.listen(0, '127.0.0.1', resolve));
    const server = await startFunction('volume-extension', {
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${(stalled.address() as AddressInfo).port}`,
      OTEL_BSP_SCHEDULE_DELAY: '20',
      OTEL_METRIC_EXPORT_INTERVAL: '100',
    });
    try {
      await assertAllAnswered(server, 300);
      assert.ok(held.length > 0, 'the exporter never reached the stalled collector');
      assert.equal(await reviewsCounted(server), 300);
    } finally {
      await server.stop();
      await closeServer(stalled);
    }
  });
});

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await closeServer(server);
  return port;
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

describe('telemetry at start', { concurrency: 3 }, () => {
  const entry = join(projectRoot, 'runtimes', 'start.ts');
  for (const [variable, value] of [
    ['WEBHOOK_TIMEOUT_SECONDS', '99'],
    ['BUDGET_WARN_FRACTION', 'half'],
    ['LOG_LEVEL', 'loud'],
    ['OTEL_METRICS_EXPORTER', 'statsd'],
    ['OTEL_EXPORTER_PROMETHEUS_PORT', 'http'],
  ] as const) {
    it(`stops the function with a message naming ${variable}=${value}`, async () => {
      const { code, output } = await runToExit(process.execPath, [entry], {
        FUNCTION: 'node-selector',
        FUNC_PORT: '0',
        [variable]: value,
      });
      assert.equal(code, 1, output);
      assert.match(output, new RegExp(`^faas-admission: .*${variable}: `, 'm'));
    });
  }

  it('serves reviews without metrics when the metrics port is taken, and says so', async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const taken = (holder.address() as AddressInfo).port;
    const server = await startFunction('volume-extension', { OTEL_EXPORTER_PROMETHEUS_PORT: String(taken) });
    try {
      assert.equal(server.metricsUrl, undefined);
      const error = server.logLines().find((l) => l.msg === 'metrics endpoint not served') as Json;
      assert.equal(error?.level, 'error');
      assert.equal(error?.port, taken);
      assert.equal((await postReview(server.url, patchedReview, { timeout: '10s' })).status, 200);
    } finally {
      await server.stop();
      await closeServer(holder);
    }
  });
});

describe('telemetry in the standalone HTTPS and OpenFaaS entries', () => {
  /** The metrics URL from the entry's "telemetry started" line, and its review log lines. */
  const jsonLines = (entry: RunningEntry) =>
    entry
      .stderr()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Json);

  const entries = [
    {
      name: 'standalone HTTPS',
      file: STANDALONE,
      announce: STANDALONE_URL,
      on: 'stdout' as const,
      https: true,
    },
    { name: 'OpenFaaS', file: OPENFAAS, announce: OPENFAAS_URL, on: 'stderr' as const, https: false },
  ];
  for (const { name, file, announce, on, https } of entries) {
    it(`${name}: counts the review it answered and logs it under the sent trace id`, async () => {
      const certs = temporaryDirectory('telemetry');
      const entry = await startEntry(
        file,
        { PORT: '0', HOST: '127.0.0.1', DEV_CERTS_DIR: certs.dir, LOG_LEVEL: 'debug' },
        announce,
        on,
      );
      try {
        const traceId = randomBytes(16).toString('hex');
        const reply = await call(`${entry.url}/volume-extension?timeout=7s`, {
          method: 'POST',
          body: JSON.stringify(patchedReview),
          headers: {
            'Content-Type': 'application/json',
            traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01`,
          },
          ...(https ? { ca: readFileSync(join(certs.dir, 'ca.crt'), 'utf8') } : {}),
        });
        assert.equal(reply.status, 200, reply.text);
        const [verdict] = await apiserverVerdicts([{ request: patchedReview, reply: reply.json }]);
        assert.ok(verdict?.accepted);

        const metricsUrl = jsonLines(entry).find((l) => l.msg === 'telemetry started')?.metrics_url;
        assert.match(metricsUrl ?? '', /^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
        const exposition = await (await fetch(metricsUrl)).text();
        assert.match(
          exposition,
          /^admission_reviews_total\{admission_function="volume-extension",admission_outcome="patched",admission_operation="CREATE"[^}]*\} 1$/m,
        );
        assert.match(
          exposition,
          /^admission_budget_seconds\{admission_function="volume-extension"[^}]*\} 7$/m,
        );
        await entry.waitFor(new RegExp(`"trace_id":"${traceId}"`), 'stderr');
        const line = jsonLines(entry).find((l) => l.trace_id === traceId);
        assert.equal(line?.msg, 'review answered');
        assert.equal(line?.budget_s, 7);
      } finally {
        await entry.stop();
        certs.remove();
      }
    });
  }
});
