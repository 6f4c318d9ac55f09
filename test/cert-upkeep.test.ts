// The certificate upkeep (cli/cert-upkeep.ts) against the real control plane: it creates the
// Secrets and fills every caBundle, the apiserver then calls the standalone server serving the
// Secret's certificate; with short lifetimes, runs of it renew the serving certificate and
// rotate the CA while pods are created through the apiserver, none refused or left unmutated;
// bad states are refused with a message and nothing changed; the Component's RBAC suffices.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { KubeConfig } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { type KubeApi, KubeError, kubeApi } from '../runtimes/tls/kube-api.ts';
import { bundleCertificates } from '../runtimes/tls/upkeep-plan.ts';
import { projectRoot } from './support/apiserver.ts';
import { type ControlPlane, startControlPlane } from './support/control-plane.ts';
import { runScript, type ScriptRun } from './support/process.ts';
import type { Json } from './support/reviews.ts';
import { type RunningEntry, STANDALONE, STANDALONE_URL, startEntry } from './support/runtimes.ts';
import { secretVolume } from './support/secret-volume.ts';

const NAMESPACE = 'faas-admission';
const WORKLOADS = 'workloads';
const STAMP = 'upkeep.example.com/stamped';
const ROTATION = 'rotation';
const ROTATION_WORKLOADS = 'rotation-workloads';

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const address = server.address();
  server.close();
  if (!address || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** One run of the command, as a person or the CronJob runs it. */
function upkeep(kubeconfig: string, args: string[]): Promise<ScriptRun> {
  return runScript(join('cli', 'cert-upkeep.ts'), ['--kubeconfig', kubeconfig, ...args]);
}

function webhookConfiguration(
  kind: string,
  name: string,
  port: number,
  labelled = true,
  podNamespace = WORKLOADS,
): Json {
  const hook = (fn: string, objectSelector?: Json) => ({
    name: `${fn}.faas-admission-tls.faas-admission.svc`,
    clientConfig: { url: `https://127.0.0.1:${port}/${fn}` },
    rules: [
      { apiGroups: [''], apiVersions: ['v1'], resources: ['pods'], operations: ['CREATE'], scope: '*' },
    ],
    namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': podNamespace } },
    ...(objectSelector && { objectSelector }),
    failurePolicy: 'Fail',
    sideEffects: 'None',
    timeoutSeconds: 10,
    admissionReviewVersions: ['v1'],
    ...(kind === 'MutatingWebhookConfiguration' && { reinvocationPolicy: 'Never' }),
  });
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind,
    metadata: { name, ...(labelled && { labels: { 'app.kubernetes.io/name': 'faas-admission' } }) },
    webhooks:
      kind === 'MutatingWebhookConfiguration'
        ? [
            hook('label-stamping'),
            // Called for no pod here (no pod has the label): its caBundle is kept all the same.
            hook('volume-extension', { matchLabels: { 'upkeep.example.com/never': 'x' } }),
          ]
        : [hook('knative-service-validation', { matchLabels: { 'upkeep.example.com/never': 'x' } })],
  };
}

const configurationPath = (kind: string, name: string) =>
  `/apis/admissionregistration.k8s.io/v1/${kind === 'MutatingWebhookConfiguration' ? 'mutating' : 'validating'}webhookconfigurations/${name}`;
const secretPath = (namespace: string, name = '') =>
  `/api/v1/namespaces/${namespace}/secrets${name ? `/${name}` : ''}`;

function decode(secret: Json, key: string): string {
  return Buffer.from(secret.data[key], 'base64').toString('utf8');
}

/** The kubelet's part: the serving Secret projected into a volume the server reads, polled. */
function mountSecret(api: KubeApi, namespace: string, name: string, dir: string) {
  const volume = secretVolume(dir);
  let last = '';
  let stopped = false;
  const sync = async () => {
    const secret = await api.get(secretPath(namespace, name), name);
    if (!secret) return;
    const data = { 'tls.crt': decode(secret, 'tls.crt'), 'tls.key': decode(secret, 'tls.key') };
    const text = data['tls.crt'] + data['tls.key'];
    if (text !== last) {
      volume.project(data);
      last = text;
    }
  };
  const loop = (async () => {
    while (!stopped) {
      await sync().catch(() => undefined);
      await sleep(500);
    }
  })();
  return {
    sync,
    certFile: join(dir, 'tls.crt'),
    keyFile: join(dir, 'tls.key'),
    stop: async () => {
      stopped = true;
      await loop;
    },
  };
}

interface PodTally {
  created: number;
  refused: string[];
  unmutated: number;
  /** Creates the apiserver itself could not complete (etcd busy: "please try again"), retried. */
  retried?: number;
}

async function createPod(api: KubeApi, tally: PodTally, namespace = WORKLOADS, attempt = 1): Promise<void> {
  try {
    const pod = await api.create(`/api/v1/namespaces/${namespace}/pods`, 'a pod', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { generateName: 'upkeep-' },
      spec: { containers: [{ name: 'app', image: 'registry.example.com/app:1' }] },
    });
    tally.created++;
    if ((pod.metadata as Json).labels?.[STAMP] !== 'yes') tally.unmutated++;
  } catch (error) {
    const message = error instanceof KubeError ? error.message : String(error);
    // The apiserver's own ServerTimeout (storage busy, "please try again"), which no webhook
    // answer causes: a failed webhook call is an InternalError reading "failed calling webhook".
    if (error instanceof KubeError && error.reason === 'ServerTimeout' && attempt < 3) {
      tally.retried = (tally.retried ?? 0) + 1;
      return createPod(api, tally, namespace, attempt + 1);
    }
    tally.refused.push(message);
  }
}

function bundleSerials(configuration: Json): string[][] {
  return configuration.webhooks.map((w: Json) =>
    (bundleCertificates(w.clientConfig.caBundle) as string[]).map(
      (pem) => new X509Certificate(pem).serialNumber,
    ),
  );
}

async function createServiceAccount(api: KubeApi, name: string): Promise<void> {
  await api.create(`/api/v1/namespaces/${NAMESPACE}/serviceaccounts`, name, {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: { name },
  });
}

/** A kubeconfig for a ServiceAccount, with the token 1.20's token controller writes for it. */
async function kubeconfigFor(cp: ControlPlane, api: KubeApi, name: string, dir: string): Promise<string> {
  let token: string | undefined;
  for (let i = 0; i < 100 && !token; i++) {
    const account = await api.get(`/api/v1/namespaces/${NAMESPACE}/serviceaccounts/${name}`, name);
    const secretName = (account?.secrets as Json[] | undefined)?.[0]?.name;
    if (secretName) {
      const secret = await api.get(secretPath(NAMESPACE, secretName), secretName);
      if (secret && (secret as Json).data?.token) token = decode(secret, 'token');
    }
    if (!token) await sleep(100);
  }
  assert.ok(token, `no token for ServiceAccount ${name}`);
  const config = new KubeConfig();
  config.loadFromClusterAndUser(
    { name: 'local', server: cp.server, caFile: join(cp.dir, 'pki', 'ca.crt'), skipTLSVerify: false },
    { name, token },
  );
  const path = join(dir, `kubeconfig-${name}`);
  writeFileSync(path, config.exportConfig(), { mode: 0o600 });
  return path;
}

describe('cert-upkeep against the real control plane', { timeout: 30 * 60_000 }, () => {
  let cp: ControlPlane;
  let api: KubeApi;
  let dir: string;
  const cleanups: (() => Promise<unknown> | unknown)[] = [];

  before(async () => {
    cp = await startControlPlane();
    api = kubeApi(cp.kubeConfig);
    dir = mkdtempSync(join(tmpdir(), 'faas-admission-upkeep-'));
    for (const name of [NAMESPACE, WORKLOADS, ROTATION, ROTATION_WORKLOADS])
      await api.create('/api/v1/namespaces', name, {
        apiVersion: 'v1',
        kind: 'Namespace',
        // What 1.21+ sets by itself; the webhooks select namespaces by it.
        metadata: { name, labels: { 'kubernetes.io/metadata.name': name } },
      });
  });

  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    cp?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function startServer(mount: ReturnType<typeof mountSecret>, port: number): Promise<RunningEntry> {
    const server = await startEntry(
      STANDALONE,
      {
        PORT: String(port),
        TLS_CERT_FILE: mount.certFile,
        TLS_KEY_FILE: mount.keyFile,
        STAMP_LABELS: `${STAMP}=yes`,
        LOG_LEVEL: 'info',
      },
      STANDALONE_URL,
      'stdout',
    );
    cleanups.push(() => server.stop());
    return server;
  }

  const BASE = ['--namespace', NAMESPACE, '--extra-host', '127.0.0.1'];
  let port: number;

  it('a dry run writes nothing; a first run creates both Secrets and fills every caBundle; the apiserver then calls the function', async () => {
    port = await freePort();
    for (const kind of ['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration'])
      await api.create(
        configurationPath(kind, '').replace(/\/$/, ''),
        kind,
        webhookConfiguration(kind, 'faas-admission', port),
      );

    const dry = await upkeep(cp.kubeconfigPath, [...BASE, '--dry-run']);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /dry run: would create Secret faas-admission\/faas-admission-ca/);
    assert.match(dry.stdout, /dry run: would patch MutatingWebhookConfiguration faas-admission/);
    assert.equal(await api.get(secretPath(NAMESPACE, 'faas-admission-ca'), 'ca'), undefined);

    const first = await upkeep(cp.kubeconfigPath, BASE);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /created Secret faas-admission\/faas-admission-ca: a new CA/);
    assert.match(
      first.stdout,
      /created Secret faas-admission\/faas-admission-tls: serving certificate issued .*: there is none/,
    );
    assert.match(
      first.stdout,
      /patched MutatingWebhookConfiguration faas-admission: caBundle of 2 of 2 webhooks/,
    );
    assert.match(
      first.stdout,
      /patched ValidatingWebhookConfiguration faas-admission: caBundle of 1 of 1 webhooks/,
    );

    const ca = (await api.get(secretPath(NAMESPACE, 'faas-admission-ca'), 'ca')) as Json;
    const tls = (await api.get(secretPath(NAMESPACE, 'faas-admission-tls'), 'tls')) as Json;
    assert.equal(tls.type, 'kubernetes.io/tls');
    const caPem = decode(ca, 'tls.crt');
    const serving = new X509Certificate(decode(tls, 'tls.crt'));
    assert.ok(serving.verify(new X509Certificate(caPem).publicKey));
    assert.match(serving.subjectAltName ?? '', /DNS:faas-admission-tls\.faas-admission\.svc/);
    assert.equal(decode(tls, 'ca.crt'), caPem);
    const caSerial = new X509Certificate(caPem).serialNumber;
    for (const kind of ['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration']) {
      const configuration = (await api.get(configurationPath(kind, 'faas-admission'), kind)) as Json;
      for (const serials of bundleSerials(configuration)) assert.deepEqual(serials, [caSerial], kind);
    }

    const mount = mountSecret(api, NAMESPACE, 'faas-admission-tls', join(dir, 'tls'));
    cleanups.push(() => mount.stop());
    await mount.sync();
    await startServer(mount, port);
    const tally: PodTally = { created: 0, refused: [], unmutated: 0 };
    for (let i = 0; i < 3; i++) await createPod(api, tally);
    assert.deepEqual([tally.created, tally.refused, tally.unmutated], [3, [], 0]);
  });

  it('a second run changes nothing', async () => {
    const versions = async () =>
      Promise.all([
        api.get(secretPath(NAMESPACE, 'faas-admission-ca'), 'ca'),
        api.get(secretPath(NAMESPACE, 'faas-admission-tls'), 'tls'),
        api.get(configurationPath('MutatingWebhookConfiguration', 'faas-admission'), 'm'),
        api.get(configurationPath('ValidatingWebhookConfiguration', 'faas-admission'), 'v'),
      ]).then((objects) => objects.map((o) => (o as Json).metadata.resourceVersion));
    const before = await versions();
    const second = await upkeep(cp.kubeconfigPath, BASE);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /nothing to change/);
    assert.doesNotMatch(second.stdout, /created|updated|patched/);
    assert.deepEqual(await versions(), before);
  });

  it('refuses a serving Secret whose key is not its certificate, changing nothing', async () => {
    const tls = (await api.get(secretPath(NAMESPACE, 'faas-admission-tls'), 'tls')) as Json;
    const ca = (await api.get(secretPath(NAMESPACE, 'faas-admission-ca'), 'ca')) as Json;
    // The CA's key in place of the serving key: a key, but not the certificate's.
    const broken = await api.update(secretPath(NAMESPACE, 'faas-admission-tls'), 'tls', {
      ...tls,
      data: { ...tls.data, 'tls.key': ca.data['tls.key'] },
    });
    const run = await upkeep(cp.kubeconfigPath, BASE);
    assert.equal(run.code, 1);
    assert.match(
      run.stderr,
      /Secret faas-admission\/faas-admission-tls: tls\.crt and tls\.key: the key does not belong to the certificate; nothing changed/,
    );
    const afterRun = (await api.get(secretPath(NAMESPACE, 'faas-admission-tls'), 'tls')) as Json;
    assert.equal((afterRun.metadata as Json).resourceVersion, (broken.metadata as Json).resourceVersion);
    await api.update(secretPath(NAMESPACE, 'faas-admission-tls'), 'tls', { ...afterRun, data: tls.data });
  });

  it("leaves alone a configuration someone else changed, and one that is not labelled as the project's", async () => {
    const path = configurationPath('MutatingWebhookConfiguration', 'faas-admission');
    const stored = (await api.get(path, 'm')) as Json;
    const foreign = Buffer.from(cp.caPem).toString('base64');
    const changed = await api.jsonPatch(path, 'm', [
      { op: 'replace', path: '/webhooks/1/clientConfig/caBundle', value: foreign },
    ]);
    await api.create(
      configurationPath('MutatingWebhookConfiguration', '').replace(/\/$/, ''),
      'other',
      // Selects no namespace: its webhooks have no caBundle and would refuse every pod.
      webhookConfiguration('MutatingWebhookConfiguration', 'someone-else', port, false, 'nowhere'),
    );
    const run = await upkeep(cp.kubeconfigPath, [
      ...BASE,
      '--mutating',
      'faas-admission',
      '--mutating',
      'someone-else',
    ]);
    assert.equal(run.code, 1);
    assert.match(
      run.stderr,
      /MutatingWebhookConfiguration faas-admission, webhook volume-extension\.faas-admission-tls\.faas-admission\.svc: its caBundle holds a CA the upkeep did not make \(CN=kube-ca\); someone else changed it: left alone/,
    );
    assert.match(
      run.stderr,
      /MutatingWebhookConfiguration someone-else is not labelled app\.kubernetes\.io\/name=faas-admission: not ours, left alone/,
    );
    const afterRun = (await api.get(path, 'm')) as Json;
    assert.equal((afterRun.metadata as Json).resourceVersion, (changed.metadata as Json).resourceVersion);
    const other = (await api.get(
      configurationPath('MutatingWebhookConfiguration', 'someone-else'),
      'o',
    )) as Json;
    assert.ok(
      other.webhooks.every((w: Json) => w.clientConfig.caBundle === undefined),
      'someone-else untouched',
    );
    await api.jsonPatch(path, 'm', [
      {
        op: 'replace',
        path: '/webhooks/1/clientConfig/caBundle',
        value: stored.webhooks[1].clientConfig.caBundle,
      },
    ]);
  });

  it('renews the serving certificate, then rotates the CA, while pods are created: none refused or unmutated', async (t) => {
    const rotationPort = await freePort();
    const name = 'faas-admission-rotation';
    for (const kind of ['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration'])
      await api.create(
        configurationPath(kind, '').replace(/\/$/, ''),
        kind,
        webhookConfiguration(kind, name, rotationPort, true, ROTATION_WORKLOADS),
      );
    const scope = [
      '--namespace',
      ROTATION,
      '--extra-host',
      '127.0.0.1',
      '--mutating',
      name,
      '--validating',
      name,
    ];
    // Lifetimes short enough to see everything within minutes, yet longer than the time between
    // two runs on this machine (three times a dry run): on a loaded machine a run takes
    // seconds, and a certificate must not expire between the run that finds it due and the next.
    // The serving certificate is renewed below a third of its life (3 steps), the CA rotated
    // below a third of its 9 steps, each step of the rotation 4 s after the one before.
    const probe = await upkeep(cp.kubeconfigPath, [...scope, '--dry-run']);
    assert.equal(probe.code, 0, probe.stderr);
    const step = Math.max(10, Math.ceil((3 * probe.ms) / 1000) + 1);
    const args = [
      ...scope,
      ...['--ca-lifetime', `${9 * step}s`, '--serving-lifetime', `${3 * step}s`],
      ...['--renew-fraction', '0.34', '--settle', '4s'],
    ];
    const started = Date.now();
    const first = await upkeep(cp.kubeconfigPath, args);
    assert.equal(first.code, 0, first.stderr);
    const mount = mountSecret(api, ROTATION, 'faas-admission-tls', join(dir, 'rotation-tls'));
    cleanups.push(() => mount.stop());
    await mount.sync();
    const server = await startServer(mount, rotationPort);

    const tally: PodTally = { created: 0, refused: [], unmutated: 0 };
    let creating = true;
    const creators = Array.from({ length: 2 }, async () => {
      while (creating) {
        await createPod(api, tally, ROTATION_WORKLOADS);
        await sleep(50);
      }
    });
    const runs: (ScriptRun & { at: number })[] = [];
    const events: { at: number; what: string }[] = [];
    const LEFT = /the previous CA .* leaves the caBundles/;
    const leftAt = () => runs.findIndex((r) => LEFT.test(r.stdout));
    /** The state the run that removed the old CA left: later runs may start the next rotation. */
    let afterRotation: { ca: Json; configurations: Json[] } | undefined;
    while (Date.now() - started < 24 * step * 1000) {
      const run = await upkeep(cp.kubeconfigPath, args);
      const at = (Date.now() - started) / 1000;
      runs.push({ ...run, at });
      assert.equal(run.code, 0, `run ${runs.length}: ${run.stderr}`);
      for (const line of run.stdout.split('\n').filter((l) => /created|updated|patched/.test(l)))
        events.push({ at, what: line.replace(/^cert-upkeep: /, '') });
      if (!afterRotation && LEFT.test(run.stdout))
        afterRotation = {
          ca: (await api.get(secretPath(ROTATION, 'faas-admission-ca'), 'ca')) as Json,
          configurations: await Promise.all(
            ['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration'].map(
              async (kind) => (await api.get(configurationPath(kind, name), kind)) as Json,
            ),
          ),
        };
      if (leftAt() >= 0 && leftAt() < runs.length - 3) break;
      await sleep(1000);
    }
    // Pods keep coming a moment after the last change.
    await sleep(3000);
    creating = false;
    await Promise.all(creators);
    const seconds = (Date.now() - started) / 1000;

    const durations = runs.map((r) => r.ms).sort((a, b) => a - b);
    t.diagnostic(
      `${tally.created + tally.refused.length} pods created through the apiserver in ${seconds.toFixed(0)} s: ` +
        `${tally.refused.length} refused, ${tally.unmutated} admitted unmutated, ` +
        `${tally.retried ?? 0} retried when the apiserver's storage was busy; ${runs.length + 1} runs ` +
        `(median ${durations[Math.floor(durations.length / 2)]} ms each; lifetimes ${3 * step} s serving, ${9 * step} s CA)`,
    );
    for (const event of events) t.diagnostic(`${event.at.toFixed(1)} s: ${event.what}`);
    // Why pods were refused, by reason: an unknown CA means a step came too early; an expired
    // certificate that the runs came too far apart for the lifetimes (each run must come well
    // within the renewal window: a third of the serving lifetime).
    const reasons = new Map<string, number>();
    for (const message of tally.refused) {
      const reason = /x509: [^:]+/.exec(message)?.[0] ?? message.slice(0, 120);
      reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
    }
    for (const [reason, count] of reasons) t.diagnostic(`refused ${count}: ${reason}`);
    const window = 3 * step * 0.34;
    const slowest = durations.at(-1) ?? 0;

    const index = (pattern: RegExp) => events.findIndex((e) => pattern.test(e.what));
    const renewed = index(/faas-admission-tls: serving certificate issued .*% of its life is left/);
    const joined = index(/CA rotation started/);
    const switched = index(/the new CA .* signs from now on/);
    const left = index(LEFT);
    assert.ok(renewed >= 0 && renewed < joined, 'the serving certificate was renewed before the CA rotation');
    assert.ok(
      joined < switched && switched < left,
      'the CA joined the bundles, then signed, then the old one left',
    );
    assert.match(
      events[switched + 1]?.what ?? '',
      /updated Secret rotation\/faas-admission-tls: serving certificate issued .*not signed by the active CA/,
    );
    assert.deepEqual(
      tally.refused.slice(0, 5),
      [],
      `${tally.refused.length} pods refused; the slowest run took ${(slowest / 1000).toFixed(1)} s` +
        (slowest / 1000 + 1 > window
          ? `, more than the ${window.toFixed(1)} s renewal window: the machine is too loaded for these lifetimes`
          : ''),
    );
    assert.equal(tally.unmutated, 0, 'pods admitted without the label');
    assert.ok(tally.created > 100, `only ${tally.created} pods created`);

    // After the rotation every caBundle holds only the new CA, which signed what is served
    // (as the run that removed the old one left them: with runs slow enough, the 90 s CA is due
    // again a few runs later).
    assert.ok(afterRotation, 'the old CA never left');
    const caPem = decode(afterRotation.ca, 'tls.crt');
    assert.equal(afterRotation.ca.data['previous.crt'], undefined);
    for (const configuration of afterRotation.configurations)
      for (const serials of bundleSerials(configuration))
        assert.deepEqual(serials, [new X509Certificate(caPem).serialNumber], configuration.kind);
    assert.match(server.stdout() + server.stderr(), /certificate reloaded/);
  });

  it("with no RBAC permission, says which and changes nothing; the Component's RBAC is enough", async () => {
    await createServiceAccount(api, 'nobody');
    const nobody = await kubeconfigFor(cp, api, 'nobody', dir);
    const denied = await upkeep(nobody, BASE);
    assert.equal(denied.code, 1);
    assert.match(
      denied.stderr,
      /get Secret faas-admission\/faas-admission-ca: 403 .*: this identity has no permission \(RBAC\) for it; grant the Role and ClusterRole of deploy\/cert-upkeep/,
    );

    // An identity that may read but not write: a run that has to write makes no write at all.
    await createServiceAccount(api, 'reader');
    const reader = await kubeconfigFor(cp, api, 'reader', dir);
    await api.create('/apis/rbac.authorization.k8s.io/v1/clusterroles', 'reader', {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: 'upkeep-reader' },
      rules: [
        { apiGroups: [''], resources: ['secrets'], verbs: ['get'] },
        { apiGroups: ['admissionregistration.k8s.io'], resources: ['*'], verbs: ['get'] },
      ],
    });
    await api.create('/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', 'reader', {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: 'upkeep-reader' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'upkeep-reader' },
      subjects: [{ kind: 'ServiceAccount', name: 'reader', namespace: NAMESPACE }],
    });
    const caBefore = (await api.get(secretPath(NAMESPACE, 'faas-admission-ca'), 'ca')) as Json;
    // A serving certificate due for renewal: renewed below 99.999% of its life left, which its
    // 5 minutes of backdating already are; the CA (5 years) is not due yet.
    const short = ['--renew-fraction', '0.99999'];
    let readOnly: ScriptRun | undefined;
    for (let i = 0; i < 50; i++) {
      readOnly = await upkeep(reader, [...BASE, ...short]);
      if (/no permission \(RBAC\)/.test(readOnly.stderr)) break;
      await sleep(200); // RBAC reaches the authorizer's cache a moment after it is stored
    }
    assert.equal(readOnly?.code, 1);
    assert.match(
      readOnly?.stderr ?? '',
      /no permission \(RBAC\) to update Secret faas-admission\/faas-admission-tls: nothing changed/,
    );
    const caAfter = (await api.get(secretPath(NAMESPACE, 'faas-admission-ca'), 'ca')) as Json;
    assert.equal((caAfter.metadata as Json).resourceVersion, (caBefore.metadata as Json).resourceVersion);

    // The Component's own objects, as shipped: its ServiceAccount with its Role and ClusterRole.
    const shipped = parseAllDocuments(
      readFileSync(join(projectRoot, 'deploy', 'cert-upkeep', 'cert-upkeep.yaml'), 'utf8'),
    ).map((d) => d.toJS() as Json);
    const paths: Record<string, string> = {
      ServiceAccount: `/api/v1/namespaces/${NAMESPACE}/serviceaccounts`,
      Role: `/apis/rbac.authorization.k8s.io/v1/namespaces/${NAMESPACE}/roles`,
      RoleBinding: `/apis/rbac.authorization.k8s.io/v1/namespaces/${NAMESPACE}/rolebindings`,
      ClusterRole: '/apis/rbac.authorization.k8s.io/v1/clusterroles',
      ClusterRoleBinding: '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings',
    };
    for (const object of shipped) {
      if (object.kind === 'CronJob') {
        // 1.20 serves batch/v1 Jobs, not yet batch/v1 CronJobs: its Job is checked by a dry run.
        const job = {
          apiVersion: 'batch/v1',
          kind: 'Job',
          metadata: { name: 'cert-upkeep-check' },
          spec: object.spec.jobTemplate.spec,
        };
        await api.create(`/apis/batch/v1/namespaces/${NAMESPACE}/jobs?dryRun=All`, "the CronJob's Job", job);
        continue;
      }
      const path = paths[object.kind];
      assert.ok(path, `no path for ${object.kind}`);
      await api.create(path, object.kind, object);
    }
    const own = await kubeconfigFor(cp, api, 'faas-admission-cert-upkeep', dir);
    let renewed: ScriptRun | undefined;
    for (let i = 0; i < 50; i++) {
      renewed = await upkeep(own, [...BASE, ...short]);
      if (renewed.code === 0) break;
      await sleep(200);
    }
    assert.equal(renewed?.code, 0, renewed?.stderr);
    assert.match(
      renewed?.stdout ?? '',
      /updated Secret faas-admission\/faas-admission-tls: serving certificate issued/,
    );
  });
});
