// sidecar-injection together with volume-extension (reinvocation as the apiserver orders it),
// node-oversale on a kubelet's real heartbeat, and knative-service-validation on the Knative
// Service CRD, through the real apiserver (1.20.2), registered as the generator writes it for
// 1.20 (so without sidecar-injection's matchConditions).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import { kubeToolsDir } from '../support/control-plane.ts';
import {
  type Cluster,
  createDeployment,
  createNamespace,
  eventually,
  type Json,
  onlyPodOf,
  registerWebhooks,
  type Suite,
  startSuite,
} from '../support/e2e.ts';
import { checkStandIn, explainedByApiserver } from '../support/stand-in.ts';
import { AGENT_DIR, agentVolumes, functionEnv, knativeTemplate, PREFIX } from './objects.ts';

const REGISTERED = ['volume-extension', 'sidecar-injection', 'node-oversale', 'knative-service-validation'];
const NODE = 'node-a';

describe('sidecar-injection, node-oversale and knative-service-validation through the real apiserver', () => {
  const dir = mkdtempSync(join(tmpdir(), 'faas-admission-e2e-more-'));
  let suite: Suite;
  let cluster: Cluster;
  const env = functionEnv(dir);
  const tapped = () => suite.reviews();

  before(async () => {
    suite = await startSuite({ dir, nodes: [NODE], env, tap: true });
    cluster = suite.cluster;
    await registerWebhooks(cluster, {
      functions: REGISTERED,
      envOf: () => env,
      endpoint: suite.endpoint,
      caPems: suite.caPems,
    });
  });

  after(() => suite?.stop());

  const onlyPod = (namespace: string, app: string) => onlyPodOf(cluster, namespace, `app=${app}`);
  const names = (list: Json[] | undefined) => (list ?? []).map((item) => item.name as string);

  describe('sidecar-injection with volume-extension', () => {
    let pod: Json;

    it('a pod of an opted-in namespace gets the sidecar and volume-extension’s volume; reinvoked, nothing changes', async (t) => {
      await createNamespace(cluster, 'inject-on', { [`${PREFIX}/inject`]: 'enabled' });
      const template = knativeTemplate('shop', agentVolumes());
      await createDeployment(cluster, 'inject-on', 'shop-00001-deployment', template);
      const listed = await onlyPod('inject-on', 'shop-00001');
      pod = (await cluster.raw('GET', `/api/v1/namespaces/inject-on/pods/${listed.metadata.name}`)).body;
      assert.deepEqual(names(pod.spec.containers), ['user-container', 'queue-proxy', 'log-shipper']);
      assert.deepEqual(
        names(pod.spec.volumes).filter((n) => !n.startsWith('default-token-')),
        ['script-vol', 'app-logs'],
      );
      assert.deepEqual(
        pod.spec.volumes.find((v: Json) => v.name === 'script-vol'),
        { name: 'script-vol', hostPath: { path: AGENT_DIR, type: '' } },
      );
      const user = pod.spec.containers[0];
      assert.deepEqual(
        names(user.volumeMounts).filter((n) => !n.startsWith('default-token-')),
        ['script-vol'],
      );
      const shipper = pod.spec.containers[2];
      assert.equal(shipper.image, 'registry.example.com/platform/fluent-bit:3.1');
      assert.deepEqual(
        shipper.volumeMounts.filter((m: Json) => m.name === 'app-logs'),
        [{ name: 'app-logs', mountPath: '/var/log/app', readOnly: true }],
      );
      assert.match(pod.metadata.annotations[`${PREFIX}/injected`], /^[0-9a-f]+ /);

      // The apiserver's order: volume-extension, sidecar-injection (on its opted-in namespaces'
      // entry), then, reinvoked (IfNeeded: the object changed after they ran, the second time
      // by the ServiceAccount plugin mounting the token into the sidecar), each again, finding
      // its work done and answering no patch.
      const calls = tapped()
        .filter(
          (c) =>
            (c.review.request as Json).namespace === 'inject-on' &&
            (c.review.request as Json).kind.kind === 'Pod',
        )
        .sort((a, b) => a.at - b.at);
      const order = calls.map((c) => c.path.split('?')[0]);
      t.diagnostic(`calls in order: ${order.join(', ')}`);
      assert.deepEqual(order.slice(0, 2), ['/volume-extension', '/sidecar-injection/namespace']);
      assert.ok(order.length >= 3, order.join(' '));
      for (const call of calls.slice(2))
        assert.equal(
          ((call.reply as Json).response as Json).patch,
          undefined,
          `the reinvocation of ${call.path} changes nothing`,
        );
      const report = await checkStandIn(calls, pod, 'sidecar-injection + volume-extension');
      for (const d of [...report.verdictDifferences, ...report.chainDifferences, ...report.storedDifferences])
        console.log(`stand-in difference: ${d}`);
      assert.deepEqual(report.verdictDifferences, []);
      assert.deepEqual(
        [...report.chainDifferences, ...report.storedDifferences].filter((d) => !explainedByApiserver(d)),
        [],
      );
    });

    it('a second apply changes nothing: the Deployment again, and the final pod again (dry run)', async () => {
      const path = '/apis/apps/v1/namespaces/inject-on/deployments/shop-00001-deployment';
      const current = await cluster.raw('GET', path);
      const again = await cluster.raw('PUT', path, current.body);
      assert.equal(again.status, 200, JSON.stringify(again.body));
      assert.equal(again.body.metadata.generation, current.body.metadata.generation, 'no new generation');
      const same = await onlyPod('inject-on', 'shop-00001');
      assert.equal(same.metadata.uid, pod.metadata.uid);
      const replay = structuredClone(pod);
      for (const key of [
        'uid',
        'resourceVersion',
        'creationTimestamp',
        'managedFields',
        'ownerReferences',
        'name',
      ])
        delete replay.metadata[key];
      delete replay.status;
      const dry = await cluster.raw('POST', '/api/v1/namespaces/inject-on/pods?dryRun=All', replay);
      assert.equal(dry.status, 201, JSON.stringify(dry.body));
      assert.deepEqual(dry.body.spec, pod.spec);
      assert.deepEqual(dry.body.metadata.annotations, pod.metadata.annotations);
    });

    it('a pod annotated "false" in an opted-in namespace is left alone', async () => {
      const created = await cluster.raw('POST', '/api/v1/namespaces/inject-on/pods', {
        metadata: { name: 'opted-out', annotations: { [`${PREFIX}/inject`]: 'false' } },
        spec: { containers: [{ name: 'app', image: 'registry.example.com/app:1' }] },
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assert.deepEqual(names(created.body.spec.containers), ['app']);
    });

    it('a pod annotated "true" elsewhere gets the sidecar', async () => {
      await createNamespace(cluster, 'inject-off');
      const created = await cluster.raw('POST', '/api/v1/namespaces/inject-off/pods', {
        metadata: { name: 'asks', annotations: { [`${PREFIX}/inject`]: 'true' } },
        spec: { containers: [{ name: 'app', image: 'registry.example.com/app:1' }] },
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assert.deepEqual(names(created.body.spec.containers), ['app', 'log-shipper']);
    });

    // 1.20 drops matchConditions: the function itself must leave a pod that did not opt in alone.
    it('on 1.20 (matchConditions dropped) a pod that did not opt in is sent, and left alone', async () => {
      const created = await cluster.raw('POST', '/api/v1/namespaces/inject-off/pods', {
        metadata: { name: 'did-not-ask' },
        spec: { containers: [{ name: 'app', image: 'registry.example.com/app:1' }] },
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const sent = tapped()
        .filter(
          (c) => c.path.startsWith('/sidecar-injection') && (c.review.request as Json).name === 'did-not-ask',
        )
        .map((c) => c.path.split('?')[0]);
      // Sent on the entry for pods of other namespaces, which alone does not opt a pod in.
      assert.deepEqual(sent, ['/sidecar-injection/pod'], 'without matchConditions the apiserver sends it');
      assert.deepEqual(names(created.body.spec.containers), ['app']);
      assert.equal(created.body.metadata.annotations?.[`${PREFIX}/injected`], undefined);
    });
  });

  describe('node-oversale', () => {
    const kubelet = () => ({ kubeconfigPath: cluster.plane.nodeKubeconfigPath(NODE) });
    const capacity = { cpu: '8', memory: '32779400Ki', pods: '110' };
    const reported = { cpu: '7800m', memory: '31628424Ki', pods: '110' };

    it('the kubelet’s status heartbeat is stored with allocatable scaled by the rule', async () => {
      const registered = await cluster.raw(
        'POST',
        '/api/v1/nodes',
        {
          metadata: {
            name: NODE,
            labels: { 'kubernetes.io/hostname': NODE, 'node-role.example.com/oversale': 'true' },
          },
          status: { capacity, allocatable: reported },
        },
        kubelet(),
      );
      assert.equal(registered.status, 201, JSON.stringify(registered.body));
      const heartbeat = await cluster.raw(
        'PATCH',
        `/api/v1/nodes/${NODE}/status`,
        {
          status: {
            allocatable: reported,
            conditions: [
              {
                type: 'Ready',
                status: 'True',
                reason: 'KubeletReady',
                message: 'kubelet is posting ready status',
                lastHeartbeatTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
                lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
              },
            ],
          },
        },
        { ...kubelet(), contentType: 'application/strategic-merge-patch+json' },
      );
      assert.equal(heartbeat.status, 200, JSON.stringify(heartbeat.body));
      const stored = (await cluster.raw('GET', `/api/v1/nodes/${NODE}`)).body;
      // cpu ×2, memory ×1.5 (OVERSALE_RULES), capacity and pods as the kubelet wrote them.
      assert.deepEqual(stored.status.allocatable, { cpu: '15600m', memory: '47442636Ki', pods: '110' });
      assert.deepEqual(stored.status.capacity, capacity);
      const record = JSON.parse(stored.metadata.annotations[`${PREFIX}/oversale`]);
      assert.deepEqual(record.kubelet, { cpu: '7800m', memory: '31628424Ki' });
      const calls = tapped().filter((c) => c.path.startsWith('/node-oversale'));
      const last = calls.at(-1);
      assert.ok(last);
      assert.equal((last.review.request as Json).userInfo.username, `system:node:${NODE}`);
      const report = await checkStandIn([last], stored, 'node-oversale');
      for (const d of report.storedDifferences) console.log(`stand-in difference: ${d}`);
      assert.deepEqual(
        [...report.verdictDifferences, ...report.storedDifferences.filter((d) => !explainedByApiserver(d))],
        [],
      );
    });

    it('a status update by another user leaves the scaled allocatable alone', async () => {
      const before = (await cluster.raw('GET', `/api/v1/nodes/${NODE}`)).body;
      const update = await cluster.raw(
        'PATCH',
        `/api/v1/nodes/${NODE}/status`,
        {
          status: {
            conditions: [
              {
                type: 'KernelDeadlock',
                status: 'False',
                reason: 'KernelHasNoDeadlock',
                message: 'kernel has no deadlock',
              },
            ],
          },
        },
        { contentType: 'application/strategic-merge-patch+json' },
      );
      assert.equal(update.status, 200, JSON.stringify(update.body));
      assert.deepEqual(update.body.status.allocatable, before.status.allocatable);
      assert.equal(
        update.body.metadata.annotations[`${PREFIX}/oversale`],
        before.metadata.annotations[`${PREFIX}/oversale`],
      );
      assert.ok(update.body.status.conditions.some((c: Json) => c.type === 'KernelDeadlock'));
    });
  });

  describe('knative-service-validation', () => {
    const services = '/apis/serving.knative.dev/v1/namespaces/ksvc/services';
    const sample = (file: string): Json => {
      const object = JSON.parse(readFileSync(join('samples', 'knative-service', file), 'utf8')).request
        .object;
      return {
        apiVersion: object.apiVersion,
        kind: object.kind,
        metadata: { name: object.metadata.name },
        spec: object.spec,
      };
    };

    before(async () => {
      const crd = parse(readFileSync(join(kubeToolsDir, 'knative-service-crd.1.20.yaml'), 'utf8'));
      const created = await cluster.raw(
        'POST',
        '/apis/apiextensions.k8s.io/v1/customresourcedefinitions',
        crd,
      );
      assert.equal(created.status, 201, JSON.stringify(created.body).slice(0, 500));
      await eventually(
        'the Service CRD established',
        () =>
          cluster.raw('GET', `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd.metadata.name}`),
        (r) =>
          (r.body.status?.conditions ?? []).some(
            (c: Json) => c.type === 'Established' && c.status === 'True',
          ),
      );
      await createNamespace(cluster, 'ksvc');
      await eventually(
        'services.serving.knative.dev served',
        () => cluster.raw('GET', services),
        (r) => r.status === 200,
      );
    });

    it('a Service with broken annotations is refused at create with the function’s message', async () => {
      const refused = await cluster.raw('POST', services, sample('create-broken-annotations.v1.json'));
      assert.ok(
        refused.status === 400 || refused.status === 403,
        `${refused.status} ${JSON.stringify(refused.body)}`,
      );
      const message = String(refused.body.message);
      assert.match(
        message,
        /admission webhook "knative-service-validation\.faas-admission-tls\.faas-admission\.svc" denied the request/,
      );
      assert.match(message, /revision template \(spec\.template\)/);
      assert.match(message, /annotation knative\.netease\.dev\/volumeMounts/);
      assert.match(message, /annotation knative\.netease\.dev\/nodeSelector/);
      const absent = await cluster.raw('GET', `${services}/hello`);
      assert.equal(absent.status, 404);
    });

    /** The good sample, its annotations within the suite's policy (read-only mounts of the agent directory). */
    const good = (): Json => {
      const service = sample('create-good.v1.json');
      Object.assign(service.spec.template.metadata.annotations, agentVolumes(), {
        [`${PREFIX}/nodeSelector`]: JSON.stringify({ disktype: 'ssd' }),
      });
      return service;
    };

    it('a good Service is stored', async () => {
      const created = await cluster.raw('POST', services, good());
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const stored = await cluster.raw('GET', `${services}/hello`);
      assert.equal(stored.status, 200);
      assert.equal(
        stored.body.spec.template.metadata.annotations[`${PREFIX}/volumes`],
        good().spec.template.metadata.annotations[`${PREFIX}/volumes`],
      );
    });
  });
});
