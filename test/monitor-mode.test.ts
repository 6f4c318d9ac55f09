// Monitor mode (MODE=monitor): admitted unchanged, with a warning, a log line and a metric
// label saying what the function would have done; registered with failurePolicy Ignore.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { metrics } from '@opentelemetry/api';
import {
  AggregationTemporality,
  type DataPoint,
  MeterProvider,
  MetricReader,
} from '@opentelemetry/sdk-metrics';
import { functionNamed } from '../functions/index.ts';
import { deployedFuncYaml, deployedWebhook } from '../scripts/manifests/function-config.ts';
import { loadConfig } from '../shared/config.ts';
import { ConfigError } from '../shared/errors.ts';
import { type FunctionHandler, functionHandler, serveReview } from '../shared/handler.ts';
import { loadMode, modeVariable } from '../shared/mode.ts';
import { decodePatch } from '../shared/response.ts';
import { parseAdmissionReview } from '../shared/review.ts';
import { METRIC } from '../shared/telemetry/instruments.ts';
import { createLogger, useLogger } from '../shared/telemetry/log.ts';
import { ATTR } from '../shared/telemetry/observe.ts';
import { apiserverVerdict } from './support/apiserver.ts';
import { type Json, sample } from './support/reviews.ts';

class CollectingReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE });
  }
  protected override async onShutdown() {}
  protected override async onForceFlush() {}
}

const reader = new CollectingReader();
const lines: Json[] = [];

function loaded(name: string, env: Record<string, string>): FunctionHandler {
  const mutation = functionNamed(name);
  return functionHandler({ mutation, config: loadConfig(mutation, env), mode: loadMode(mutation, env) });
}

describe('monitor mode', () => {
  before(() => {
    metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }));
    useLogger(
      createLogger({ level: 'info', destination: { write: (line) => void lines.push(JSON.parse(line)) } }),
    );
  });
  after(() => metrics.disable());

  it('admits unpatched and warns the patch it would have made; the apiserver accepts the reply', async () => {
    const request = sample('knative-pod-volumes.json');
    const enforced = serveReview(loaded('volume-extension', {}), parseAdmissionReview(request));
    assert.equal(decodePatch(enforced.response).length, 4, 'enforced, the sample is patched');
    const reply = serveReview(loaded('volume-extension', { MODE: 'monitor' }), parseAdmissionReview(request));
    assert.equal(reply.response.allowed, true);
    assert.equal(reply.response.patch, undefined);
    assert.deepEqual(reply.response.warnings, [
      'volume-extension (monitor mode) would patch 4 operation(s): add /spec/containers/0/volumeMounts/1, add /spec/containers/0/volumeMounts/2, add /spec/volumes/1, add /spec/volumes/2',
    ]);
    const verdict = await apiserverVerdict(request, reply);
    assert.ok(verdict.accepted && verdict.allowed);
    assert.deepEqual(verdict.object, (request.request as Json).object, 'the object is admitted unchanged');
    const line = lines.find((l) => l.mode === 'monitor' && l.uid === (request.request as Json).uid);
    assert.equal(line?.monitored_outcome, 'patched');
    assert.match(String(line?.msg), /^monitor mode: would patch 4 operation/);
  });

  it('admits what it would deny, with the denial and its message as a warning', () => {
    const reply = serveReview(
      loaded('volume-extension', { VOLUME_EXTENSION_MODE: 'monitor' }),
      parseAdmissionReview(sample('knative-pod-bad-volumes.json')),
    );
    assert.equal(reply.response.allowed, true);
    assert.equal(reply.response.status, undefined);
    const [warning] = reply.response.warnings ?? [];
    assert.match(
      String(warning),
      /^volume-extension \(monitor mode\) would deny \(400\): annotation knative\.netease\.dev\/volumes: item 0: name: "Script_Vol"/,
    );
    assert.ok(String(warning).length <= 256, 'within the length the apiserver passes on whole');
  });

  it('counts monitored answers by what they would have been', async () => {
    const { resourceMetrics } = await reader.collect();
    const metric = resourceMetrics.scopeMetrics
      .flatMap((s) => s.metrics)
      .find((m) => m.descriptor.name === METRIC.reviews);
    const points = (metric?.dataPoints ?? []) as DataPoint<number>[];
    const monitored = (outcome: string) =>
      points
        .filter((p) => p.attributes[ATTR.monitored] === outcome && p.attributes[ATTR.outcome] === 'allowed')
        .reduce((sum, p) => sum + p.value, 0);
    assert.equal(monitored('patched'), 1);
    assert.equal(monitored('denied'), 1);
    const enforced = points.filter((p) => p.attributes[ATTR.monitored] === undefined);
    assert.equal(
      enforced.reduce((sum, p) => sum + p.value, 0),
      1,
      'the enforced review has no such label',
    );
  });

  it('MODE names its variable and the allowed values when wrong; <FUNCTION>_MODE wins over MODE', () => {
    const mutation = functionNamed('node-selector');
    assert.equal(modeVariable('node-selector'), 'NODE_SELECTOR_MODE');
    assert.throws(
      () => loadMode(mutation, { MODE: 'watch' }),
      (error: unknown) =>
        error instanceof ConfigError &&
        /node-selector: invalid configuration: MODE: "watch" is not one of enforce, monitor/.test(
          error.message,
        ),
    );
    assert.equal(loadMode(mutation, { MODE: 'monitor', NODE_SELECTOR_MODE: 'enforce' }), 'enforce');
    assert.equal(loadMode(mutation, {}), 'enforce');
  });

  it('a monitored function is registered failurePolicy Ignore, with the reason', () => {
    const mutation = functionNamed('volume-extension');
    const fn = deployedFuncYaml('volume-extension');
    assert.equal(deployedWebhook(mutation, fn).failurePolicy, 'Fail');
    const monitored = {
      ...fn,
      run: { ...fn.run, envs: [...(fn.run?.envs ?? []), { name: 'MODE', value: 'monitor' }] },
    };
    const settings = deployedWebhook(mutation, monitored);
    assert.equal(settings.failurePolicy, 'Ignore');
    assert.match(settings.failurePolicyReason, /MODE=monitor/);
  });
});
