// `faas-admission check` and `invoke --pod` against the real control plane (Kubernetes 1.20.2),
// run as a user runs them (the CLI as a child process, the admin kubeconfig):
// - for each reason an object is or is not sent (rules, operations, namespaceSelector against the
//   live namespace's labels, objectSelector, the webhook's own namespace), check's verdict is
//   compared with what the apiserver then does when the object is created: the reviews a tap in
//   front of the functions saw. (matchConditions: 1.20 drops them, test/check-matching.test.ts.)
// - the budget: two slow Ignore webhooks of another vendor put it over the deadline, and a real
//   create takes their timeouts one after the other;
// - a pod created while label-stamping (failurePolicy Ignore) was stopped is reported as missing
//   its mutation, one created while it ran as carrying it;
// - `invoke --pod` on a Deployment gives the pod the ReplicaSet controller creates from it, as
//   the apiserver hands it to the webhooks.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { TOKEN_MOUNT_PATH } from '../../cli/review/defaults.ts';
import { projectRoot } from '../support/apiserver.ts';
import {
  type Cluster,
  createNamespace,
  createWebhookNamespace,
  type Env,
  eventually,
  type FrontedFunction,
  type Json,
  labelExistingNamespaces,
  registerWebhooks,
  type StandaloneFunctions,
  startCluster,
  startFunctionBehindNginx,
  startStandaloneFunctions,
} from '../support/e2e.ts';
import { runScript, type ScriptRun } from '../support/process.ts';
import { type ReviewTap, tapInFront } from '../support/review-tap.ts';
import { functionEnv, knativeTemplate, LABEL_STAMPING_ENV, PREFIX } from './objects.ts';

const REGISTERED = ['volume-extension', 'node-selector', 'label-stamping', 'sidecar-injection'];
const SUFFIX = '.faas-admission-tls.faas-admission.svc';
const webhookOfPath = (path: string) => `${(path.split('?')[0] ?? '').slice(1).replace('/', '-')}${SUFFIX}`;
const SAFE = '[bcdfghjklmnpqrstvwxz2456789]';
// The development CA's PEM has no final new line: joined as is to the next, the bundle would
// lose it (registerWebhooks concatenates them).
const pemLine = (pem: string) => `${pem.trim()}\n`;

function cli(args: string[], input?: string): Promise<ScriptRun> {
  const env = { PATH: process.env.PATH ?? '', NO_COLOR: '1', SHARED_DIR: process.env.SHARED_DIR ?? '' };
  return runScript(join('bin', 'faas-admission.js'), args, env, input);
}

interface Verdict {
  readonly called: boolean;
  readonly reason: string;
}

/** check's verdict per webhook, by webhook name: `  config/webhook (fn): CALLED (...)` lines. */
function verdicts(stdout: string): Map<string, Verdict> {
  const found = new Map<string, Verdict>();
  for (const line of stdout.split('\n')) {
    const match = /^ {2}[^/\s]+\/(\S+?)(?: \([a-z-]+\))?: (CALLED|not called)(.*)$/.exec(line);
    if (match) found.set(match[1] as string, { called: match[2] === 'CALLED', reason: match[3] as string });
  }
  return found;
}

const calledOnes = (v: Map<string, Verdict>) =>
  [...v]
    .filter(([name, d]) => d.called && name.endsWith(SUFFIX))
    .map(([name]) => name)
    .sort();

describe('faas-admission check against the real apiserver', { timeout: 10 * 60_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'faas-admission-e2e-check-'));
  // nginx runs as nobody (as in the pod): it must reach its folder below this one.
  chmodSync(dir, 0o755);
  const env = functionEnv(dir);
  let cluster: Cluster;
  let functions: StandaloneFunctions;
  let stamping: FrontedFunction;
  let tap: ReviewTap;
  let stampTap: ReviewTap;
  let hanging: Server;
  const sockets = new Set<Socket>();
  let kubeconfig: string;
  /** The configuration `check` runs the functions with: what their processes were given. */
  let envFlags: string[];

  before(async () => {
    // One after the other, so that after() stops whatever started when a later one fails.
    cluster = await startCluster();
    functions = await startStandaloneFunctions(join(dir, 'functions'), env);
    // label-stamping as Knative runs it (faas-js-runtime behind nginx), to stop it while the others serve.
    stamping = await startFunctionBehindNginx('label-stamping', LABEL_STAMPING_ENV);
    kubeconfig = cluster.plane.kubeconfigPath;
    tap = await tapInFront(functions);
    stampTap = await tapInFront(stamping);
    await labelExistingNamespaces(cluster);
    await createWebhookNamespace(cluster);
    await registerWebhooks(cluster, {
      functions: REGISTERED,
      envOf: (name) => (name === 'label-stamping' ? LABEL_STAMPING_ENV : env),
      endpoint: tap.url,
      endpointByFunction: { 'label-stamping': stampTap.url },
      caPems: [functions.caPem, stamping.caPem].map(pemLine),
    });
    envFlags = [
      ...Object.entries(env).flatMap(([k, v]) => ['--env', `${k}=${v}`]),
      ...Object.entries(LABEL_STAMPING_ENV).flatMap(([k, v]) => ['--env', `label-stamping:${k}=${v}`]),
    ];
    // Another vendor's webhooks that never answer (accept, then silence), Ignore, 3 s each.
    hanging = createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    }).listen(0, '127.0.0.1');
    await new Promise((resolve) => hanging.once('listening', resolve));
    const port = (hanging.address() as { port: number }).port;
    const slow = (name: string) => ({
      name: `${name}.slow.example.com`,
      clientConfig: {
        url: `https://127.0.0.1:${port}/${name}`,
        caBundle: Buffer.from(functions.caPem).toString('base64'),
      },
      rules: [{ apiGroups: [''], apiVersions: ['v1'], resources: ['pods'], operations: ['CREATE'] }],
      namespaceSelector: { matchLabels: { 'budget.example.com/slow-vendor': 'true' } },
      failurePolicy: 'Ignore',
      sideEffects: 'None',
      timeoutSeconds: 3,
      admissionReviewVersions: ['v1'],
    });
    const created = await cluster.raw(
      'POST',
      '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations',
      {
        apiVersion: 'admissionregistration.k8s.io/v1',
        kind: 'MutatingWebhookConfiguration',
        metadata: { name: 'acme-slow' },
        webhooks: [slow('audit'), slow('quota')],
      },
    );
    assert.equal(created.status, 201, JSON.stringify(created.body));
    for (const ns of ['check-knative', 'check-plain', 'check-optin', 'check-drift', 'shop'])
      await createNamespace(cluster, ns);
    await createNamespace(cluster, 'check-budget', { 'budget.example.com/slow-vendor': 'true' });
    await new Promise((resolve) => setTimeout(resolve, 1500));
  });

  after(async () => {
    for (const socket of sockets) socket.destroy();
    hanging?.close();
    await Promise.all([tap?.stop(), stampTap?.stop()]);
    await Promise.all([functions?.stop(), stamping?.stop()]);
    cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const check = (target: string, ...args: string[]) =>
    cli(['check', target, '--kubeconfig', kubeconfig, ...envFlags, ...args]);

  function write(name: string, object: Json): string {
    const file = join(dir, name);
    writeFileSync(file, JSON.stringify(object));
    return file;
  }

  /** The webhooks of ours the apiserver sent a review of `namespace/name` (of `kind`) to. */
  function sentTo(namespace: string, name: string, kind: string, operation = 'CREATE'): string[] {
    const sent = new Set<string>();
    for (const { path, review } of [...tap.reviews, ...stampTap.reviews]) {
      const request = (review as Json).request as Json;
      if (request.namespace !== namespace || request.kind.kind !== kind || request.operation !== operation)
        continue;
      const objectName = request.name || request.object?.metadata?.name || request.oldObject?.metadata?.name;
      if (objectName === name) sent.add(webhookOfPath(path));
    }
    return [...sent].sort();
  }

  /** Creates an object as the admin, the way `kubectl create -f` does. */
  async function create(path: string, object: Json): Promise<Json> {
    const response = await cluster.raw('POST', path, object);
    assert.equal(response.status, 201, JSON.stringify(response.body));
    return response.body;
  }

  const knativePod = (name: string, namespace: string): Json => {
    const template = knativeTemplate('hello', {
      [`${PREFIX}/volumes`]: JSON.stringify([{ name: 'cache', emptyDir: {} }]),
      [`${PREFIX}/volumeMounts`]: JSON.stringify([{ name: 'cache', mountPath: '/var/cache/hello' }]),
    });
    return {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { ...template.metadata, name, namespace },
      spec: template.spec,
    };
  };
  const plainPod = (name: string, namespace: string, spec: Json = {}): Json => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels: { app: name } },
    spec: { containers: [{ name: 'web', image: 'registry.example.com/web:1.0' }], ...spec },
  });
  // Without the token: reinvoked after the ServiceAccount plugin mounted the token into the
  // injected container too, sidecar-injection refuses its own sidecar as "a different definition".
  const noToken = { automountServiceAccountToken: false };

  /** check on a manifest, then the same object created: the webhooks called are those check named. */
  async function sameAsApiserver(object: Json, resourcePath: string): Promise<Map<string, Verdict>> {
    const { namespace, name } = object.metadata;
    const run = await check(write(`${namespace}-${name}.json`, object));
    assert.ok(run.code === 0 || run.code === 1, `${run.stdout}\n${run.stderr}`);
    const predicted = verdicts(run.stdout);
    assert.ok(predicted.size >= 5, run.stdout);
    await create(resourcePath, object);
    const sent = await eventually(
      `reviews of ${namespace}/${name}`,
      async () => sentTo(namespace, name, object.kind),
      (s) => s.length >= calledOnes(predicted).length,
      10_000,
    ).catch(() => sentTo(namespace, name, object.kind));
    assert.deepEqual(sent, calledOnes(predicted), run.stdout);
    return predicted;
  }

  it('a Knative pod: sent to the pod functions; not to the namespace entry of sidecar-injection (namespaceSelector)', async () => {
    const v = await sameAsApiserver(
      knativePod('hello-1', 'check-knative'),
      '/api/v1/namespaces/check-knative/pods',
    );
    assert.equal(v.get(`volume-extension${SUFFIX}`)?.called, true);
    assert.equal(v.get(`node-selector${SUFFIX}`)?.called, true);
    assert.match(
      String(v.get(`sidecar-injection-namespace${SUFFIX}`)?.reason),
      /namespaceSelector: namespace check-knative lacks knative\.netease\.dev\/inject=enabled \(no such label\)/,
    );
  });

  it('a pod without the Knative label: not sent to volume-extension nor node-selector (objectSelector)', async () => {
    const v = await sameAsApiserver(plainPod('web-1', 'check-plain'), '/api/v1/namespaces/check-plain/pods');
    for (const fn of ['volume-extension', 'node-selector'])
      assert.equal(
        v.get(`${fn}${SUFFIX}`)?.reason,
        ': objectSelector: the object lacks serving.knative.dev/service (no such label)',
      );
    assert.equal(v.get(`label-stamping${SUFFIX}`)?.called, true);
  });

  it('a ConfigMap: sent to label-stamping only (rules); its DELETE to none (operations)', async () => {
    const configMap = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'settings', namespace: 'check-plain' },
      data: { a: '1' },
    };
    const v = await sameAsApiserver(configMap, '/api/v1/namespaces/check-plain/configmaps');
    assert.deepEqual(calledOnes(v), [`label-stamping${SUFFIX}`]);
    assert.match(
      String(v.get(`volume-extension${SUFFIX}`)?.reason),
      /rules: resource configmaps not in \[pods/,
    );
    // The DELETE of the stored object: check reads it from the cluster.
    const deletion = await check('configmap/settings', '--namespace', 'check-plain', '--operation', 'DELETE');
    const d = verdicts(deletion.stdout);
    assert.deepEqual(calledOnes(d), [], deletion.stdout);
    assert.match(
      String(d.get(`label-stamping${SUFFIX}`)?.reason),
      /rules: operation DELETE not in \[CREATE, UPDATE\]/,
    );
    const gone = await cluster.raw('DELETE', '/api/v1/namespaces/check-plain/configmaps/settings');
    assert.equal(gone.status, 200);
    assert.deepEqual(sentTo('check-plain', 'settings', 'ConfigMap', 'DELETE'), []);
  });

  it("the webhooks' own namespace: sent to none, and check says it is their own", async () => {
    const v = await sameAsApiserver(
      plainPod('own-1', 'faas-admission'),
      '/api/v1/namespaces/faas-admission/pods',
    );
    assert.deepEqual(calledOnes(v), []);
    for (const [name, verdict] of v)
      if (name.endsWith(SUFFIX))
        assert.match(
          verdict.reason,
          /namespace faas-admission lacks .*\(faas-admission is the webhook's own namespace\)$/,
        );
  });

  it("namespaceSelector against the live namespace: labelled, its pods go to sidecar-injection's namespace entry", async () => {
    const before = verdicts(
      (await check(write('optin-0.json', plainPod('app-0', 'check-optin', noToken)))).stdout,
    );
    assert.equal(before.get(`sidecar-injection-namespace${SUFFIX}`)?.called, false);
    const labelled = await cluster.raw(
      'PATCH',
      '/api/v1/namespaces/check-optin',
      { metadata: { labels: { 'knative.netease.dev/inject': 'enabled' } } },
      { contentType: 'application/merge-patch+json' },
    );
    assert.equal(labelled.status, 200);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const run = await check(write('optin-1.json', plainPod('app-1', 'check-optin', noToken)));
    assert.match(run.stdout, /sidecar-injection on \/sidecar-injection\/namespace: configuration --env/);
    assert.match(run.stdout, /sidecar-injection: ALLOWED with \d+ patch operation\(s\)/);
    const v = await sameAsApiserver(
      plainPod('app-2', 'check-optin', noToken),
      '/api/v1/namespaces/check-optin/pods',
    );
    assert.equal(v.get(`sidecar-injection-namespace${SUFFIX}`)?.called, true);
    assert.match(
      String(v.get(`sidecar-injection-pod${SUFFIX}`)?.reason),
      /knative\.netease\.dev\/inject notin \(enabled\)/,
    );
    const stored = await cluster.raw('GET', '/api/v1/namespaces/check-optin/pods/app-2');
    assert.ok(
      (stored.body.spec.containers as Json[]).some((c) => c.name === 'log-shipper'),
      'the apiserver injected the sidecar check said it would',
    );
  });

  it('a budget over the deadline: two slow Ignore webhooks, and a real create waits for both', async () => {
    const pod = plainPod('slow-1', 'check-budget');
    const run = await check(write('slow-1.json', pod), '--deadline', '10');
    assert.equal(run.code, 1, run.stdout);
    const budget = run.stdout.slice(run.stdout.indexOf('admission budget'));
    assert.match(budget, /1\. mutating +3 s +Ignore acme-slow\/audit\.slow\.example\.com\n/);
    assert.match(budget, /2\. mutating +3 s +Ignore acme-slow\/quota\.slow\.example\.com\n/);
    assert.match(
      budget,
      /worst case: mutating 16 s \+ reinvocation 10 s = 26 s of 10 s: OVER the deadline by 16 s/,
    );
    // Within it elsewhere: the same pod where the slow vendor does not select.
    const elsewhere = await check(
      write('slow-0.json', plainPod('slow-0', 'check-plain')),
      '--deadline',
      '30',
    );
    assert.match(elsewhere.stdout, /within the deadline/);
    // The apiserver calls them one after the other: the create takes both timeouts.
    const started = Date.now();
    await create('/api/v1/namespaces/check-budget/pods', pod);
    const took = Date.now() - started;
    assert.ok(took >= 6000, `the create took ${took} ms, less than the two 3 s timeouts`);
  });

  it('a pod created while label-stamping was stopped is missing its mutation; one created while it ran is not', async () => {
    await create('/api/v1/namespaces/check-drift/pods', plainPod('while-up', 'check-drift'));
    // Created by hand: by this control plane's admin, whose name label-stamping writes ({user}).
    const up = await check('pod/while-up', '--namespace', 'check-drift', '--user', 'admin');
    assert.equal(up.code, 0, up.stdout);
    assert.match(up.stdout, /label-stamping: carries its mutation/);
    await stamping.stop();
    await create('/api/v1/namespaces/check-drift/pods', plainPod('while-down', 'check-drift'));
    const stored = await cluster.raw('GET', '/api/v1/namespaces/check-drift/pods/while-down');
    assert.equal(
      stored.body.metadata.labels['e2e.example.com/team'],
      undefined,
      'admitted unmutated (Ignore)',
    );
    const down = await check('pod/while-down', '--namespace', 'check-drift', '--user', 'admin');
    assert.equal(down.code, 1, down.stdout);
    assert.match(
      down.stdout,
      /label-stamping: MISSING its mutation: the function would patch 2 operation\(s\)/,
    );
    assert.match(down.stdout, /add \/metadata\/labels\/e2e\.example\.com~1team "shop"/);
  });
});

describe('invoke --pod against the pod the ReplicaSet controller creates', { timeout: 10 * 60_000 }, () => {
  // Separate from the suite above only in what it compares: it shares nothing but the helpers.
  const dir = mkdtempSync(join(tmpdir(), 'faas-admission-e2e-pod-'));
  let cluster: Cluster;
  let functions: StandaloneFunctions;
  let tap: ReviewTap;
  const env: Env = functionEnv(dir);

  before(async () => {
    cluster = await startCluster();
    functions = await startStandaloneFunctions(join(dir, 'f'), env);
    tap = await tapInFront(functions);
    await labelExistingNamespaces(cluster);
    await createWebhookNamespace(cluster);
    // label-stamping sees every pod first (volume-extension and node-selector see Knative pods
    // first): the review it gets is the pod as the controller and admission made it.
    await registerWebhooks(cluster, {
      functions: ['volume-extension', 'label-stamping'],
      envOf: () => ({ ...env, ...LABEL_STAMPING_ENV }),
      endpoint: tap.url,
      caPems: [functions.caPem].map(pemLine),
    });
    await createNamespace(cluster, 'shop');
  });

  after(async () => {
    await tap?.stop();
    await functions?.stop();
    cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The first review of a pod in `namespace` the apiserver sent: the controller's pod, before any webhook. */
  async function firstPodReview(namespace: string): Promise<Json> {
    const found = await eventually(
      `a pod review in ${namespace}`,
      async () =>
        tap.reviews
          .map((r) => (r.review as Json).request as Json)
          .filter((r) => r.namespace === namespace && r.kind.kind === 'Pod' && r.operation === 'CREATE'),
      (list) => list.length > 0,
    );
    return found[0] as Json;
  }

  /** The token volume (1.20: the Secret default-token-*; 1.21+: projected kube-api-access-*) set apart. */
  function withoutToken(spec: Json): { spec: Json; token: Json | undefined; mounts: Json[] } {
    const copy = structuredClone(spec);
    const mounts: Json[] = [];
    let tokenName: string | undefined;
    for (const c of [...(copy.initContainers ?? []), ...(copy.containers ?? [])] as Json[]) {
      const at = (c.volumeMounts ?? []).findIndex((m: Json) => m.mountPath === TOKEN_MOUNT_PATH);
      if (at < 0) continue;
      const [mount] = c.volumeMounts.splice(at, 1);
      mounts.push(mount);
      tokenName = mount.name;
      if (c.volumeMounts.length === 0) delete c.volumeMounts;
    }
    const token = (copy.volumes ?? []).find((v: Json) => v.name === tokenName);
    copy.volumes = (copy.volumes ?? []).filter((v: Json) => v.name !== tokenName);
    if (copy.volumes.length === 0) delete copy.volumes;
    return { spec: copy, token, mounts };
  }

  const cases: { name: string; namespace: string; deployment: () => Json }[] = [
    {
      name: 'samples/manifests/deployment.yaml (hostPath without type, configMap without defaultMode)',
      namespace: 'shop',
      deployment: () =>
        parseYaml(readFileSync(join(projectRoot, 'samples', 'manifests', 'deployment.yaml'), 'utf8')),
    },
    {
      name: "a Knative revision's Deployment (user-container, queue-proxy, probes, preStop)",
      namespace: 'knative',
      deployment: () => ({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'hello-00001-deployment', namespace: 'knative' },
        spec: {
          replicas: 1,
          selector: { matchLabels: { 'serving.knative.dev/revision': 'hello-00001' } },
          template: knativeTemplate('hello', {}),
        },
      }),
    },
  ];

  for (const c of cases) {
    it(`the same pod as the controller's, but for names and hashes: ${c.name}`, async () => {
      if (c.namespace !== 'shop') await createNamespace(cluster, c.namespace);
      const deployment = c.deployment();
      const file = join(dir, `${c.namespace}-deployment.json`);
      writeFileSync(file, JSON.stringify(deployment));
      const built = await cli(['invoke', 'label-stamping', file, '--pod', '--print-review']);
      assert.equal(built.code, 0, built.stderr);
      const mine = (JSON.parse(built.stdout) as Json).request as Json;
      const created = await cluster.raw(
        'POST',
        `/apis/apps/v1/namespaces/${c.namespace}/deployments`,
        deployment,
      );
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const real = await firstPodReview(c.namespace);

      // The request: who creates it, what it is, where.
      for (const field of [
        'kind',
        'resource',
        'requestKind',
        'requestResource',
        'namespace',
        'operation',
        'name',
        'dryRun',
      ])
        assert.deepEqual(mine[field], real[field], `request.${field}`);
      // Clusters run each controller as its own ServiceAccount (kubeadm:
      // --use-service-account-credentials); this control plane runs them all as the admin.
      assert.equal(mine.userInfo.username, 'system:serviceaccount:kube-system:replicaset-controller');
      if (String(real.userInfo.username).startsWith('system:serviceaccount:')) {
        assert.equal(mine.userInfo.username, real.userInfo.username);
        assert.deepEqual(mine.userInfo.groups, real.userInfo.groups);
      } else assert.ok(real.userInfo.groups.includes('system:masters'), JSON.stringify(real.userInfo));
      assert.deepEqual(mine.options, real.options);

      // Metadata: generateName and the hash label have the controller's shape; owner by kind and name.
      const [m, r] = [mine.object.metadata as Json, real.object.metadata as Json];
      const rsName = String(r.ownerReferences[0].name);
      assert.match(r.generateName, new RegExp(`^${deployment.metadata.name}-${SAFE}{1,10}-$`));
      assert.match(m.generateName, new RegExp(`^${deployment.metadata.name}-${SAFE}{1,10}-$`));
      assert.equal(r.generateName, `${rsName}-`);
      assert.equal(m.generateName, `${m.ownerReferences[0].name}-`);
      const hashless = (labels: Json) => ({ ...labels, 'pod-template-hash': '<hash>' });
      assert.deepEqual(hashless(m.labels), hashless(r.labels));
      assert.match(String(m.labels['pod-template-hash']), new RegExp(`^${SAFE}{1,10}$`));
      assert.deepEqual(m.annotations, r.annotations);
      const ownerless = (o: Json) => ({ ...o, name: '<rs>', uid: '<uid>' });
      assert.deepEqual(m.ownerReferences.map(ownerless), r.ownerReferences.map(ownerless));
      // 1.20 fills metadata.namespace from the URL after the mutating webhooks; later releases before.
      assert.equal(m.namespace, c.namespace);
      assert.ok(r.namespace === undefined || r.namespace === c.namespace, String(r.namespace));

      // The spec, defaults included, as the functions see it; the token volume differs by release.
      const [ms, rs] = [withoutToken(mine.object.spec), withoutToken(real.object.spec)];
      assert.deepEqual(ms.spec, rs.spec);
      // 1.20's ServiceAccount plugin adds a Secret volume after defaulting (no defaultMode until
      // stored); 1.21+ adds the projected one with defaultMode 420, as the builder does.
      assert.ok(rs.token?.secret?.secretName?.startsWith('default-token-'), JSON.stringify(rs.token));
      assert.equal(ms.token?.projected?.defaultMode, 420);
      const mountShape = (mounts: Json[]) => mounts.map((x) => ({ ...x, name: '<token>' }));
      assert.deepEqual(mountShape(ms.mounts), mountShape(rs.mounts));
    });
  }
});
