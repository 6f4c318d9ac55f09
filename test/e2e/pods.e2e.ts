// The pod functions through the real apiserver (Kubernetes 1.20.2): volume-extension,
// node-selector, label-stamping, config-volume and image-mirror registered together, as
// `npm run manifests -- --endpoint ... --kubernetes-version 1.20` writes them. Every function is
// served by the standalone HTTPS server, label-stamping by faas-js-runtime behind nginx; a tap
// in front of each keeps the replies, which admission-check judges again at the end.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
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
  onlyPodOf,
  podsOf,
  registerWebhooks,
  type Suite,
  startSuite,
} from '../support/e2e.ts';
import type { TappedReview } from '../support/review-tap.ts';
import { checkStandIn, differences, explainedByApiserver } from '../support/stand-in.ts';
import {
  AGENT_DIR,
  agentVolumes,
  functionEnv,
  knativeTemplate,
  LABEL_STAMPING_ENV,
  PREFIX,
  sameToken,
} from './objects.ts';

const REGISTERED = ['volume-extension', 'node-selector', 'label-stamping', 'image-mirror', 'config-volume'];
const WEBHOOK = (fn: string) => `${fn}.faas-admission-tls.faas-admission.svc`;

describe('pod functions through the real apiserver', () => {
  const dir = mkdtempSync(join(tmpdir(), 'faas-admission-e2e-pods-'));
  let suite: Suite;
  let cluster: Cluster;
  /** Objects stored, with the namespace and name their calls are found by, for the stand-in check. */
  const checked: { label: string; namespace: string; stored: () => Promise<Json> }[] = [];
  const env = functionEnv(dir);

  before(async () => {
    suite = await startSuite({
      dir,
      env,
      fronted: { name: 'label-stamping', env: LABEL_STAMPING_ENV },
      tap: true,
    });
    cluster = suite.cluster;
    await registerWebhooks(cluster, {
      functions: REGISTERED,
      envOf: (name) => (name === 'label-stamping' ? LABEL_STAMPING_ENV : env),
      endpoint: suite.endpoint,
      endpointByFunction: { 'label-stamping': suite.frontedEndpoint as string },
      caPems: suite.caPems,
    });
  });

  after(() => suite?.stop());

  const onlyPod = (namespace: string, app: string) => onlyPodOf(cluster, namespace, `app=${app}`);

  /** The stored pod of a Deployment, read by name (list items carry no kind). */
  async function storedPod(namespace: string, app: string): Promise<Json> {
    const pod = await onlyPod(namespace, app);
    return (await cluster.raw('GET', `/api/v1/namespaces/${namespace}/pods/${pod.metadata.name}`)).body;
  }

  /** The FailedCreate message of the ReplicaSet of Deployment `name`, read from its Event. */
  async function failedCreate(namespace: string, name: string): Promise<string> {
    const events = await eventually(
      `FailedCreate of ${namespace}/${name}`,
      async () =>
        (await eventsOf(cluster, namespace, 'ReplicaSet')).filter(
          (e) => e.reason === 'FailedCreate' && String(e.involvedObject.name).startsWith(`${name}-`),
        ),
      (found) => found.length > 0,
    );
    return String(events[0]?.message);
  }

  it('volume-extension: the pods of a Knative-shaped Deployment carry exactly the volume and mount, nothing else changed', async () => {
    await createNamespace(cluster, 've-good');
    const template = knativeTemplate('hello', agentVolumes());
    await createDeployment(cluster, 've-good', 'hello-00001-deployment', template);
    // The same Deployment where no webhook is called (the webhooks' own namespace): the pod as it is without them.
    await createDeployment(cluster, 'faas-admission', 'hello-00001-deployment', template);
    const pod = await onlyPod('ve-good', 'hello-00001');
    const plain = await onlyPod('faas-admission', 'hello-00001');
    checked.push({
      label: 'volume-extension',
      namespace: 've-good',
      stored: () => storedPod('ve-good', 'hello-00001'),
    });

    assert.deepEqual(
      pod.spec.volumes.filter((v: Json) => v.name === 'script-vol'),
      [{ name: 'script-vol', hostPath: { path: AGENT_DIR, type: '' } }],
    );
    const userContainer = pod.spec.containers.find((c: Json) => c.name === 'user-container');
    assert.deepEqual(
      userContainer.volumeMounts.filter((m: Json) => m.name === 'script-vol'),
      [{ name: 'script-vol', mountPath: '/usr/local/nagent', readOnly: true }],
    );
    // Nothing else: the spec is the plain pod's plus the volume and the mount.
    const expected = sameToken(structuredClone(plain.spec));
    expected.volumes.push({ name: 'script-vol', hostPath: { path: AGENT_DIR, type: '' } });
    expected.containers[0].volumeMounts.push({
      name: 'script-vol',
      mountPath: '/usr/local/nagent',
      readOnly: true,
    });
    assert.deepEqual(differences(expected, sameToken(pod.spec)), []);
    assert.deepEqual(pod.metadata.annotations, plain.metadata.annotations);
    // label-stamping (behind nginx) stamped the pod too; the ReplicaSet controller's identity.
    const {
      'e2e.example.com/created-by': createdBy,
      'e2e.example.com/team': team,
      ...labels
    } = pod.metadata.labels;
    assert.deepEqual(labels, plain.metadata.labels);
    assert.equal(team, 'shop');
    assert.equal(createdBy, controllerManagerUser());
  });

  /** Who the controller-manager acts as here: start.sh runs it with the admin kubeconfig. */
  function controllerManagerUser(): string {
    const line = readFileSync(join(cluster.plane.dir, 'pki', 'tokens.csv'), 'utf8').split('\n')[0] ?? '';
    return line.split(',')[1] ?? '';
  }

  it('volume-extension: bad JSON, a schema error, a hostPath outside the policy: no pod, the FailedCreate event says why', async () => {
    await createNamespace(cluster, 've-bad');
    const cases: [string, Record<string, string>, RegExp[]][] = [
      [
        'bad-json',
        { [`${PREFIX}/volumes`]: '[{"name":"script-vol",', [`${PREFIX}/volumeMounts`]: '[]' },
        [/annotation knative\.netease\.dev\/volumes/, /JSON/i],
      ],
      [
        'schema-error',
        {
          [`${PREFIX}/volumes`]: JSON.stringify([{ name: 'Script_Vol', hostPath: { path: 'relative/dir' } }]),
          [`${PREFIX}/volumeMounts`]: '[]',
        },
        [/annotation knative\.netease\.dev\/volumes/, /item 0/, /name/, /hostPath\.path/, /absolute/],
      ],
      [
        'outside-policy',
        agentVolumes('/etc'),
        [/annotation knative\.netease\.dev\/volumes/, /item 0/, /hostPath\.path/, /"\/etc"/, /not under/],
      ],
    ];
    for (const [name, annotations] of cases) {
      await createDeployment(cluster, 've-bad', name, knativeTemplate(name, annotations));
    }
    for (const [name, , patterns] of cases) {
      const message = await failedCreate('ve-bad', name);
      assert.match(
        message,
        new RegExp(
          `admission webhook "${WEBHOOK('volume-extension').replaceAll('.', '\\.')}" denied the request`,
        ),
      );
      for (const pattern of patterns) assert.match(message, pattern, `${name}: ${message}`);
      assert.deepEqual(await podsOf(cluster, 've-bad', `app=${name}-00001`), [], name);
    }
  });

  it('node-selector: the pods get the annotation’s nodeSelector; a conflicting one is refused with the key named', async () => {
    await createNamespace(cluster, 'ns-select');
    const annotation = { [`${PREFIX}/nodeSelector`]: JSON.stringify({ disktype: 'ssd' }) };
    await createDeployment(cluster, 'ns-select', 'select', knativeTemplate('select', annotation));
    await createDeployment(
      cluster,
      'ns-select',
      'conflict',
      knativeTemplate('conflict', annotation, { nodeSelector: { disktype: 'hdd' } }),
    );
    const pod = await onlyPod('ns-select', 'select-00001');
    checked.push({
      label: 'node-selector',
      namespace: 'ns-select',
      stored: () => storedPod('ns-select', 'select-00001'),
    });
    assert.deepEqual(pod.spec.nodeSelector, { disktype: 'ssd' });
    const message = await failedCreate('ns-select', 'conflict');
    assert.match(
      message,
      new RegExp(`admission webhook "${WEBHOOK('node-selector').replaceAll('.', '\\.')}" denied`),
    );
    assert.match(message, /knative\.netease\.dev\/nodeSelector/);
    assert.match(message, /disktype/);
    assert.deepEqual(await podsOf(cluster, 'ns-select', 'app=conflict-00001'), []);
  });

  it('label-stamping: a Pod, a ConfigMap and a Deployment get the labels, {user} the real identity', async () => {
    await createNamespace(cluster, 'labels');
    await cluster.raw('POST', '/api/v1/namespaces/labels/serviceaccounts', {
      metadata: { name: 'deployer' },
    });
    await cluster.raw('POST', '/apis/rbac.authorization.k8s.io/v1/namespaces/labels/rolebindings', {
      metadata: { name: 'deployer-edit' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'edit' },
      subjects: [{ kind: 'ServiceAccount', name: 'deployer', namespace: 'labels' }],
    });
    const account = await eventually(
      'token of ServiceAccount deployer',
      () => cluster.raw('GET', '/api/v1/namespaces/labels/serviceaccounts/deployer'),
      (r) => (r.body.secrets?.length ?? 0) > 0,
    );
    const secret = await cluster.raw(
      'GET',
      `/api/v1/namespaces/labels/secrets/${account.body.secrets[0].name}`,
    );
    const token = Buffer.from(secret.body.data.token, 'base64').toString('utf8');
    const asDeployer = { token };
    const serviceAccountUser = 'system-serviceaccount-labels-deployer';

    const pod = await cluster.raw(
      'POST',
      '/api/v1/namespaces/labels/pods',
      {
        metadata: { name: 'by-deployer' },
        spec: { containers: [{ name: 'app', image: 'registry.example.com/app:1' }] },
      },
      asDeployer,
    );
    assert.equal(pod.status, 201, JSON.stringify(pod.body));
    const configMap = await cluster.raw(
      'POST',
      '/api/v1/namespaces/labels/configmaps',
      { metadata: { name: 'settings', labels: { own: 'kept' } }, data: { a: '1' } },
      asDeployer,
    );
    assert.equal(configMap.status, 201, JSON.stringify(configMap.body));
    const deployment = await cluster.raw(
      'POST',
      '/apis/apps/v1/namespaces/labels/deployments',
      {
        metadata: { name: 'shop' },
        spec: {
          selector: { matchLabels: { app: 'shop' } },
          template: {
            metadata: { labels: { app: 'shop' } },
            spec: { containers: [{ name: 'app', image: 'registry.example.com/app:1' }] },
          },
        },
      },
      asDeployer,
    );
    assert.equal(deployment.status, 201, JSON.stringify(deployment.body));
    for (const [what, object] of [
      ['Pod', pod.body],
      ['ConfigMap', configMap.body],
      ['Deployment', deployment.body],
    ] as const) {
      assert.equal(object.metadata.labels['e2e.example.com/created-by'], serviceAccountUser, what);
      assert.equal(object.metadata.labels['e2e.example.com/team'], 'shop', what);
    }
    assert.equal(configMap.body.metadata.labels.own, 'kept');
    // The Deployment's pod is created by the ReplicaSet controller, in its name.
    const rsPod = await onlyPod('labels', 'shop');
    assert.equal(rsPod.metadata.labels['e2e.example.com/created-by'], controllerManagerUser());
    checked.push({
      label: 'label-stamping (ConfigMap)',
      namespace: 'labels',
      stored: async () => (await cluster.raw('GET', '/api/v1/namespaces/labels/configmaps/settings')).body,
    });
  });

  it('config-volume: a pod labelled hello=true gets the volume in every container and the label; others are not sent', async () => {
    await createNamespace(cluster, 'hello');
    const spec = {
      containers: [
        { name: 'hello', image: 'registry.example.com/busybox:1.36' },
        { name: 'helper', image: 'registry.example.com/busybox:1.36' },
      ],
    };
    const labelled = await cluster.raw('POST', '/api/v1/namespaces/hello/pods', {
      metadata: { name: 'hello', labels: { hello: 'true' } },
      spec,
    });
    const other = await cluster.raw('POST', '/api/v1/namespaces/hello/pods', {
      metadata: { name: 'other' },
      spec,
    });
    assert.equal(labelled.status, 201, JSON.stringify(labelled.body));
    checked.push({
      label: 'config-volume',
      namespace: 'hello',
      stored: async () => (await cluster.raw('GET', '/api/v1/namespaces/hello/pods/hello')).body,
    });
    const pod = labelled.body;
    assert.deepEqual(
      pod.spec.volumes.filter((v: Json) => v.name === 'hello-volume'),
      [{ name: 'hello-volume', configMap: { name: 'hello-configmap', defaultMode: 420 } }],
    );
    for (const container of pod.spec.containers)
      assert.deepEqual(
        container.volumeMounts.filter((m: Json) => m.name === 'hello-volume'),
        [{ name: 'hello-volume', mountPath: '/etc/config', readOnly: true }],
        container.name,
      );
    assert.equal(pod.metadata.labels['hello-added'], 'OK');
    assert.ok(!other.body.spec.volumes.some((v: Json) => v.name === 'hello-volume'));
    assert.equal(other.body.metadata.labels?.['hello-added'], undefined);
    const sentOther = tapped().filter(
      (c) => c.path.startsWith('/config-volume') && request(c).name === 'other',
    );
    assert.deepEqual(sentOther, [], 'the objectSelector keeps unlabelled pods from config-volume');
  });

  it('image-mirror: pods of a Deployment get mirrored images; a later UPDATE that changes no image changes nothing', async () => {
    await createNamespace(cluster, 'mirror');
    await createDeployment(cluster, 'mirror', 'web', {
      metadata: { labels: { app: 'web' } },
      spec: {
        initContainers: [{ name: 'init', image: 'busybox:1.36' }],
        containers: [
          { name: 'web', image: 'nginx:1.27' },
          { name: 'exporter', image: 'quay.io/prometheus/node-exporter:v1' },
          { name: 'private', image: 'registry.example.com:5000/team/app:2' },
        ],
      },
    });
    const pod = await onlyPod('mirror', 'web');
    checked.push({
      label: 'image-mirror',
      namespace: 'mirror',
      stored: () => storedPod('mirror', 'web'),
    });
    assert.deepEqual(
      [...pod.spec.initContainers, ...pod.spec.containers].map((c: Json) => c.image),
      [
        'mirror.example.com/dockerhub/library/busybox:1.36',
        'mirror.example.com/dockerhub/library/nginx:1.27',
        'mirror.example.com/quay/prometheus/node-exporter:v1',
        'registry.example.com:5000/team/app:2',
      ],
    );
    const updated = await cluster.raw(
      'PATCH',
      `/api/v1/namespaces/mirror/pods/${pod.metadata.name}`,
      { metadata: { annotations: { touched: 'yes' } } },
      { contentType: 'application/merge-patch+json' },
    );
    assert.equal(updated.status, 200, JSON.stringify(updated.body));
    assert.deepEqual(updated.body.spec, pod.spec);
    const update = tapped().filter(
      (c) =>
        c.path.startsWith('/image-mirror') &&
        request(c).operation === 'UPDATE' &&
        request(c).name === pod.metadata.name,
    );
    assert.ok(update.length >= 1, 'the UPDATE was sent to image-mirror');
    for (const call of update) assert.equal((call.reply as Json).response.patch, undefined);
  });

  const tapped = (): TappedReview[] => suite.reviews();
  const request = (call: TappedReview) => call.review.request as Json;

  it('the stand-in checked: admission-check predicts, from the same replies, what the apiserver passed on and stored', async (t) => {
    const all = { verdict: [] as string[], chain: [] as string[], stored: [] as string[] };
    let calls = 0;
    for (const { label, namespace, stored } of checked) {
      const object = await stored();
      const ofObject = tapped()
        .filter((c) => {
          const r = request(c);
          return (
            r.namespace === namespace &&
            r.operation === 'CREATE' &&
            r.kind?.kind === object.kind &&
            (r.name === object.metadata.name ||
              (!r.name && r.object?.metadata?.generateName === object.metadata.generateName))
          );
        })
        .sort((a, b) => a.at - b.at);
      if (ofObject.length === 0) continue;
      const report = await checkStandIn(ofObject, object, label);
      calls += report.calls;
      all.verdict.push(...report.verdictDifferences);
      all.chain.push(...report.chainDifferences);
      all.stored.push(...report.storedDifferences);
    }
    const found = [...all.verdict, ...all.chain, ...all.stored];
    t.diagnostic(
      `stand-in: ${calls} replies judged for ${checked.length} objects, ${found.length} differences`,
    );
    for (const d of found) {
      t.diagnostic(d);
      console.log(`stand-in difference${explainedByApiserver(d) ? ' (the apiserver’s own)' : ''}: ${d}`);
    }
    assert.ok(calls >= checked.length);
    assert.deepEqual(all.verdict, []);
    // Defaults the apiserver fills in after a patch are expected (admission-check does not
    // default); any other difference is a disagreement about the reply.
    assert.deepEqual(
      [...all.chain, ...all.stored].filter((d) => !explainedByApiserver(d)),
      [],
    );
  });
});
