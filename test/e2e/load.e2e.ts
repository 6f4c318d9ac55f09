// Load through the real apiserver: a Knative-shaped Deployment scaled to 300 replicas and a
// burst of single pods while volume-extension and node-selector (standalone HTTPS server) and
// label-stamping (faas-js-runtime behind nginx) serve, registered directly (no tap). Every
// stored pod must carry every mutation, none lost or refused, and each function's own
// histogram must count exactly the calls the apiserver's metrics say it made.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  type Cluster,
  createDeployment,
  createNamespace,
  eventsOf,
  eventually,
  type Json,
  metricSum,
  podsOf,
  registerWebhooks,
  type Suite,
  startSuite,
} from '../support/e2e.ts';
import { inParallel } from '../support/function-process.ts';
import {
  AGENT_DIR,
  agentVolumes,
  functionEnv,
  knativeTemplate,
  LABEL_STAMPING_ENV,
  PREFIX,
} from './objects.ts';

const REPLICAS = 300;
const BURST = 100;
const FUNCTIONS = ['volume-extension', 'node-selector', 'label-stamping'];
const webhookName = (fn: string) => `${fn}.faas-admission-tls.faas-admission.svc`;

describe('load through the real apiserver', () => {
  const dir = mkdtempSync(join(tmpdir(), 'faas-admission-e2e-load-'));
  let suite: Suite;
  let cluster: Cluster;
  const env = functionEnv(dir);

  before(async () => {
    suite = await startSuite({ dir, env, fronted: { name: 'label-stamping', env: LABEL_STAMPING_ENV } });
    cluster = suite.cluster;
    await createNamespace(cluster, 'load');
    await registerWebhooks(cluster, {
      functions: FUNCTIONS,
      envOf: (name) => (name === 'label-stamping' ? LABEL_STAMPING_ENV : env),
      endpoint: suite.endpoint,
      endpointByFunction: { 'label-stamping': suite.frontedEndpoint as string },
      caPems: suite.caPems,
    });
  });

  after(() => suite?.stop());

  const mutated = (pod: Json) =>
    pod.spec.volumes?.some((v: Json) => v.hostPath?.path === AGENT_DIR) &&
    pod.spec.containers[0].volumeMounts?.some((m: Json) => m.name === 'script-vol') &&
    pod.spec.nodeSelector?.disktype === 'ssd' &&
    pod.metadata.labels?.['e2e.example.com/team'] === 'shop';

  /** Calls the apiserver made to each webhook, and those it rejected, from its own /metrics. */
  async function apiserverCounts(): Promise<Record<string, { calls: number; rejected: number }>> {
    const metrics = await cluster.raw('GET', '/metrics');
    const text = String(metrics.body.text ?? '');
    const sum = (metric: string, fn: string) =>
      text
        .split('\n')
        .filter((l) => l.startsWith(`${metric}{`) && l.includes(`name="${webhookName(fn)}"`))
        .reduce((total, l) => total + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
    return Object.fromEntries(
      FUNCTIONS.map((fn) => [
        fn,
        {
          calls: sum('apiserver_admission_webhook_admission_duration_seconds_count', fn),
          rejected: sum('apiserver_admission_webhook_rejection_count', fn),
        },
      ]),
    );
  }

  async function functionCounts(): Promise<Record<string, number>> {
    const counts: Record<string, number> = {};
    for (const fn of FUNCTIONS) {
      const url = fn === 'label-stamping' ? suite.fronted?.metricsUrl : suite.standalone.metricsUrl;
      assert.ok(url, `${fn} serves metrics`);
      counts[fn] = await metricSum(url, 'admission_review_duration_seconds_count', {
        admission_function: fn,
      });
    }
    return counts;
  }

  it(`a Deployment of ${REPLICAS} replicas and a burst of ${BURST} single pods: every pod mutated, none lost or refused`, async (t) => {
    const started = Date.now();
    const template = knativeTemplate('load', {
      ...agentVolumes(),
      [`${PREFIX}/nodeSelector`]: JSON.stringify({ disktype: 'ssd' }),
    });
    await createDeployment(cluster, 'load', 'load-00001-deployment', template, REPLICAS);
    // While the ReplicaSet controller creates its pods, the burst: single pods, 16 at a time.
    const single = knativeTemplate('burst', template.metadata.annotations);
    const burst = await inParallel(
      Array.from({ length: BURST }, (_, i) => i),
      16,
      (i) =>
        cluster.raw('POST', '/api/v1/namespaces/load/pods', {
          metadata: { ...single.metadata, name: `burst-${i}` },
          spec: single.spec,
        }),
    );
    const refusedBurst = burst.filter((r) => r.status !== 201);
    const deploymentPods = await eventually(
      `${REPLICAS} pods of the Deployment`,
      () => podsOf(cluster, 'load', 'app=load-00001'),
      (pods) => pods.length >= REPLICAS,
      240_000,
    );
    const seconds = (Date.now() - started) / 1000;
    const burstPods = await podsOf(cluster, 'load', 'app=burst-00001');
    const all = [...deploymentPods, ...burstPods];
    const notMutated = all.filter((pod) => !mutated(pod));
    const failedCreate = (await eventsOf(cluster, 'load', 'ReplicaSet')).filter(
      (e) => e.reason === 'FailedCreate',
    );

    // The functions' histograms are read after the apiserver's counters settle.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const apiserver = await apiserverCounts();
    const own = await functionCounts();
    const figures = [
      `pods created: ${all.length} (${deploymentPods.length} by the ReplicaSet controller, ${burstPods.length} single) in ${seconds.toFixed(1)} s`,
      `pods mutated by all three functions: ${all.length - notMutated.length}; not mutated: ${notMutated.length}`,
      `lost: ${REPLICAS + BURST - all.length}; refused: ${refusedBurst.length} single, ${failedCreate.length} FailedCreate events`,
      ...FUNCTIONS.map(
        (fn) =>
          `${fn}: apiserver called it ${apiserver[fn]?.calls} times (rejected ${apiserver[fn]?.rejected}); its own histogram counted ${own[fn]}`,
      ),
    ];
    for (const line of figures) {
      t.diagnostic(line);
      console.log(`load: ${line}`);
    }
    assert.deepEqual(
      refusedBurst.map((r) => r.body.message),
      [],
    );
    assert.equal(deploymentPods.length, REPLICAS);
    assert.equal(burstPods.length, BURST);
    assert.deepEqual(
      notMutated.map((p) => p.metadata.name),
      [],
    );
    assert.deepEqual(
      failedCreate.map((e) => e.message),
      [],
    );
    for (const fn of FUNCTIONS) {
      assert.equal(apiserver[fn]?.rejected, 0, fn);
      assert.ok((apiserver[fn]?.calls ?? 0) >= REPLICAS + BURST, `${fn}: ${apiserver[fn]?.calls} calls`);
      assert.equal(
        own[fn],
        apiserver[fn]?.calls,
        `${fn}: the histogram counts every review the apiserver sent`,
      );
    }
  });
});
