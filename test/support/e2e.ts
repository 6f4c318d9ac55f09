// What every end-to-end file needs: the real control plane, the functions run as users run
// them (the standalone HTTPS server with its development CA, `npm start` without FUNCTION; a
// function under faas-js-runtime, `FUNCTION=x npm start`, behind nginx with the shipped
// nginx.conf), the webhook configurations from the project's own generator (`--endpoint`,
// `--kubernetes-version 1.20`), and a client for the apiserver.
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  AppsV1Api,
  CoreV1Api,
  KubeConfig,
  type KubernetesObject,
  KubernetesObjectApi,
} from '@kubernetes/client-node';
import { functions } from '../../functions/index.ts';
import { renderNginxConf } from '../../scripts/manifests/nginx-conf.ts';
import { deployedNginxOptions, webhookConfigurations } from '../../scripts/manifests/render.ts';
import { type DeploySettings, defaultSettings } from '../../scripts/manifests/settings.ts';
import { excludedNamespaces } from '../../scripts/manifests/webhooks.ts';
import { loadConfig } from '../../shared/config.ts';
import { type AnyMutation, webhookSettings } from '../../shared/mutation.ts';
import { projectRoot } from './apiserver.ts';
import { type ControlPlane, type ControlPlaneOptions, startControlPlane } from './control-plane.ts';
import { type RunningNginx, startNginx } from './nginx.ts';
import { type Running, startServer } from './process.ts';
import { type ReviewTap, type ServedOverTls, type TappedReview, tapInFront } from './review-tap.ts';
import { makeTestCertificates } from './test-certs.ts';

/** The cluster the suite talks to: Kubernetes 1.20.2. */
export const KUBERNETES_VERSION = { major: 1, minor: 20 } as const;

export type Env = Record<string, string>;
// biome-ignore lint/suspicious/noExplicitAny: objects read from the apiserver, of any shape
export type Json = Record<string, any>;

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Json;
}

export interface Cluster {
  readonly plane: ControlPlane;
  readonly core: CoreV1Api;
  readonly apps: AppsV1Api;
  readonly objects: KubernetesObjectApi;
  /** A request as the admin (or as the identity of `kubeconfigPath`), JSON in and out, headers kept. */
  raw(method: string, path: string, body?: unknown, options?: RawOptions): Promise<RawResponse>;
  stop(): void;
}

export interface RawOptions {
  readonly kubeconfigPath?: string;
  /** A bearer token to act as instead (a ServiceAccount's). */
  readonly token?: string;
  readonly contentType?: string;
}

const started = new Set<ControlPlane>();
// An interrupted run (Ctrl-C, the runner's SIGTERM) stops its control planes too; a normal
// exit is covered by control-plane.ts.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    for (const plane of started) plane.stop();
    process.exit(130);
  });
}

export async function startCluster(options: ControlPlaneOptions = {}): Promise<Cluster> {
  const plane = await startControlPlane(options);
  started.add(plane);
  const configs = new Map<string, KubeConfig>([[plane.kubeconfigPath, plane.kubeConfig]]);
  const configFor = (path: string): KubeConfig => {
    let config = configs.get(path);
    if (!config) {
      config = new KubeConfig();
      config.loadFromFile(path);
      configs.set(path, config);
    }
    return config;
  };
  const raw = async (method: string, path: string, body?: unknown, o: RawOptions = {}) => {
    const config = configFor(o.kubeconfigPath ?? plane.kubeconfigPath);
    const url = new URL(path, plane.server);
    const requestOptions: Json = {
      method,
      host: url.hostname,
      port: url.port,
      path: `${url.pathname}${url.search}`,
      headers: {
        accept: 'application/json',
        ...(body !== undefined && { 'content-type': o.contentType ?? 'application/json' }),
      },
    };
    await config.applyToHTTPSOptions(requestOptions);
    if (o.token) requestOptions.headers.Authorization = `Bearer ${o.token}`;
    return new Promise<RawResponse>((resolve, reject) => {
      const req = request(requestOptions, async (res) => {
        let text = '';
        for await (const chunk of res) text += chunk;
        let json: Json;
        try {
          json = JSON.parse(text);
        } catch {
          json = { text };
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: json });
      });
      req.on('error', reject);
      req.end(body === undefined ? undefined : JSON.stringify(body));
    });
  };
  return {
    plane,
    core: plane.kubeConfig.makeApiClient(CoreV1Api),
    apps: plane.kubeConfig.makeApiClient(AppsV1Api),
    objects: KubernetesObjectApi.makeApiClient(plane.kubeConfig),
    raw,
    stop: () => {
      started.delete(plane);
      plane.stop();
    },
  };
}

/**
 * A namespace labelled with its own name under `kubernetes.io/metadata.name`, as 1.21+ does by
 * itself (1.20 does not), so the webhooks' namespaceSelector works as it does on current clusters.
 */
export async function createNamespace(
  cluster: Cluster,
  name: string,
  labels: Record<string, string> = {},
): Promise<void> {
  await cluster.core.createNamespace({
    body: { metadata: { name, labels: { 'kubernetes.io/metadata.name': name, ...labels } } },
  });
  // 1.20's ServiceAccount admission refuses pods until the token controller made the token Secret.
  await eventually(
    `ServiceAccount default of ${name} with its token`,
    () => cluster.raw('GET', `/api/v1/namespaces/${name}/serviceaccounts/default`),
    (r) => r.status === 200 && (r.body.secrets?.length ?? 0) > 0,
  );
}

/** Labels the namespaces that exist from the start (default, kube-system, ...) as 1.21+ would. */
export async function labelExistingNamespaces(cluster: Cluster): Promise<void> {
  const list = await cluster.raw('GET', '/api/v1/namespaces');
  for (const item of list.body.items as Json[]) {
    const name = item.metadata.name as string;
    await cluster.raw(
      'PATCH',
      `/api/v1/namespaces/${name}`,
      { metadata: { labels: { 'kubernetes.io/metadata.name': name } } },
      { contentType: 'application/merge-patch+json' },
    );
  }
}

/** The webhooks' own namespace (never sent to them), labelled as 1.21+ does. */
export async function createWebhookNamespace(cluster: Cluster): Promise<string> {
  const [own] = excludedNamespaces(defaultSettings);
  if (!own) throw new Error('no webhook namespace');
  await createNamespace(cluster, own);
  return own;
}

// --- the functions ---

export interface StandaloneFunctions {
  /** https://127.0.0.1:PORT: every function below it at /<function>. */
  readonly url: string;
  readonly caPem: string;
  readonly certFile: string;
  readonly keyFile: string;
  readonly metricsUrl: string | undefined;
  readonly process: Running;
  stop(): Promise<void>;
}

function metricsUrlIn(output: string): string | undefined {
  for (const line of output.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const entry = JSON.parse(line);
      if (entry.msg === 'telemetry started') return entry.metrics_url;
    } catch {
      // not a log line
    }
  }
  return undefined;
}

async function waitForMetricsUrl(server: Running): Promise<string | undefined> {
  for (let i = 0; i < 100; i++) {
    const url = metricsUrlIn(server.output());
    if (url) return url;
    await sleep(50);
  }
  return undefined;
}

/** `npm start` without FUNCTION (what `./dev start` runs): every function over HTTPS, development CA. */
export async function startStandaloneFunctions(dir: string, env: Env): Promise<StandaloneFunctions> {
  const devCerts = join(dir, 'dev-certs');
  mkdirSync(devCerts, { recursive: true });
  const server = await startServer(
    process.execPath,
    [join(projectRoot, 'runtimes', 'start.ts')],
    { HOST: '127.0.0.1', PORT: '0', DEV_CERTS_DIR: devCerts, LOG_LEVEL: 'info', ...env },
    /serving over HTTPS \(TLS 1\.2\+\) on https:\/\/127\.0\.0\.1:(\d+)/,
    60_000,
  );
  return {
    url: `https://127.0.0.1:${server.port}`,
    caPem: readFileSync(join(devCerts, 'ca.crt'), 'utf8'),
    certFile: join(devCerts, 'tls.crt'),
    keyFile: join(devCerts, 'tls.key'),
    metricsUrl: await waitForMetricsUrl(server),
    process: server,
    stop: () => server.stop(),
  };
}

export interface FrontedFunction {
  /** https://127.0.0.1:PORT (nginx): the function at /<name>, as through the TLS Service. */
  readonly url: string;
  readonly caPem: string;
  /** nginx's serving certificate and key (a tap in front of nginx serves the same). */
  readonly certFile: string;
  readonly keyFile: string;
  readonly function: Running;
  readonly metricsUrl: string | undefined;
  readonly nginx: RunningNginx;
  stop(): Promise<void>;
}

/**
 * One function as its Knative pod runs it (`FUNCTION=name npm start`: faas-js-runtime) behind
 * Debian's nginx running the shipped nginx.conf, only its addresses and file paths substituted.
 * nginx gets a folder of its own in the temporary folder, removed by stop(): run as root, it
 * drops to nobody, who cannot enter the suite's 0700 folder.
 */
export async function startFunctionBehindNginx(name: string, env: Env): Promise<FrontedFunction> {
  const fn = await startServer(
    process.execPath,
    [join(projectRoot, 'runtimes', 'start.ts')],
    { FUNCTION: name, FUNC_PORT: '0', LOG_LEVEL: 'info', ...env },
    /faas-js-runtime listening on port (\d+)/,
    60_000,
  );
  const dir = mkdtempSync(join(tmpdir(), 'faas-admission-e2e-nginx-'));
  try {
    const certs = makeTestCertificates(dir, ['localhost', '127.0.0.1'], 'nginx');
    const options = deployedNginxOptions([...functions.values()], defaultSettings);
    const nginx = await startNginx(dir, (listen, runDir) =>
      renderNginxConf({
        ...options,
        listen: [listen],
        certificate: certs.certificateFile,
        certificateKey: certs.keyFile,
        runDir,
        resolver: '127.0.0.1',
        accessLog: join(runDir, 'access.log'),
        routes: options.routes
          .filter((r) => r.name === name)
          .map((r) => ({ ...r, upstream: `127.0.0.1:${fn.port}` })),
      }),
    );
    return {
      url: `https://127.0.0.1:${nginx.port}`,
      caPem: certs.caPem,
      certFile: certs.certificateFile,
      keyFile: certs.keyFile,
      function: fn,
      metricsUrl: await waitForMetricsUrl(fn),
      nginx,
      async stop() {
        await nginx.stop();
        await fn.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    // The function started: a failed nginx must not leave it running (the test file would never exit).
    await fn.stop();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

// --- registration ---

export interface Registration {
  /** The functions to register (both configurations, mutating and validating, as they split). */
  readonly functions: readonly string[];
  /** Each function's configuration, as its process gets it: the selectors follow from it. */
  readonly envOf: (name: string) => Env;
  /** Base URL for every function, and overrides per function. */
  readonly endpoint: string;
  readonly endpointByFunction?: Readonly<Record<string, string>>;
  /** PEM CAs the endpoints' certificates are signed by. */
  readonly caPems: readonly string[];
  /** Edits the generated objects before they are applied (e.g. v1beta1 only). */
  readonly edit?: (configuration: Json) => void;
}

/** The webhook configurations `npm run manifests -- --endpoint ... --kubernetes-version 1.20` writes. */
export function generatedWebhooks(registration: Registration): Json[] {
  const settings: DeploySettings = {
    ...defaultSettings,
    // The development CA's PEM has no final newline: joined as is, the second block would start
    // on the first one's END line and Go's PEM reader would drop the first.
    caBundle: Buffer.from(registration.caPems.map((pem) => `${pem.trimEnd()}\n`).join('')).toString('base64'),
    endpoint: registration.endpoint,
    ...(registration.endpointByFunction && { endpointByFunction: registration.endpointByFunction }),
    kubernetesVersion: KUBERNETES_VERSION,
  };
  const mutations = registration.functions.map((name) => {
    const mutation = functions.get(name);
    if (!mutation) throw new Error(`no function ${name}`);
    return mutation;
  });
  const webhookOf = (mutation: AnyMutation) =>
    webhookSettings(mutation, loadConfig(mutation, registration.envOf(mutation.name)));
  return webhookConfigurations(mutations, settings, webhookOf)
    .map((manifest) => structuredClone(manifest.object) as Json)
    .filter((object) => (object.webhooks as Json[]).length > 0);
}

/** Applies the generated configurations, replacing earlier ones; waits until the apiserver uses them. */
export async function registerWebhooks(cluster: Cluster, registration: Registration): Promise<Json[]> {
  const objects = generatedWebhooks(registration);
  for (const object of objects) {
    registration.edit?.(object);
    const kind = object.kind === 'MutatingWebhookConfiguration' ? 'mutating' : 'validating';
    const path = `/apis/admissionregistration.k8s.io/v1/${kind}webhookconfigurations`;
    await cluster.raw('DELETE', `${path}/${object.metadata.name}`);
    const created = await cluster.raw('POST', path, object);
    if (created.status !== 201)
      throw new Error(`${object.kind}: ${created.status} ${JSON.stringify(created.body)}`);
  }
  // The apiserver picks up webhook configurations from its informer: give it a moment.
  await sleep(1500);
  return objects;
}

export async function unregisterWebhooks(cluster: Cluster): Promise<void> {
  for (const kind of ['mutating', 'validating']) {
    await cluster.raw(
      'DELETE',
      `/apis/admissionregistration.k8s.io/v1/${kind}webhookconfigurations/${defaultSettings.namespace}`,
    );
  }
  await sleep(1500);
}

// --- reading what the apiserver did ---

/** Polls `read` until `done` holds for its result, or throws with the last value after `ms`. */
export async function eventually<T>(
  what: string,
  read: () => Promise<T>,
  done: (value: T) => boolean,
  ms = 60_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  let value = await read();
  while (!done(value)) {
    if (Date.now() > deadline)
      throw new Error(`${what}: not reached within ${ms} ms; last: ${JSON.stringify(value)?.slice(0, 2000)}`);
    await sleep(250);
    value = await read();
  }
  return value;
}

export async function podsOf(cluster: Cluster, namespace: string, selector?: string): Promise<Json[]> {
  const query = selector ? `?labelSelector=${encodeURIComponent(selector)}` : '';
  const list = await cluster.raw('GET', `/api/v1/namespaces/${namespace}/pods${query}`);
  return list.body.items as Json[];
}

/** The one pod matching `selector` (a Deployment's, once the ReplicaSet controller created it). */
export async function onlyPodOf(cluster: Cluster, namespace: string, selector: string): Promise<Json> {
  const [pod] = await eventually(
    `pod of ${namespace} (${selector})`,
    () => podsOf(cluster, namespace, selector),
    (pods) => pods.length === 1,
  );
  return pod as Json;
}

export async function eventsOf(cluster: Cluster, namespace: string, kind: string): Promise<Json[]> {
  const list = await cluster.raw('GET', `/api/v1/namespaces/${namespace}/events`);
  return (list.body.items as Json[]).filter((e) => e.involvedObject?.kind === kind);
}

/** A Deployment of `replicas` pods from `template`, created with the client as a user would. */
export async function createDeployment(
  cluster: Cluster,
  namespace: string,
  name: string,
  template: Json,
  replicas = 1,
): Promise<void> {
  await cluster.apps.createNamespacedDeployment({
    namespace,
    body: {
      metadata: { name },
      spec: {
        replicas,
        selector: { matchLabels: template.metadata.labels },
        template,
      },
    },
  });
}

/** The samples of a Prometheus text exposition whose name and labels match. */
export async function metricSum(
  url: string,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const text = await (await fetch(url)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const ok = Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`));
    if (ok) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

export function errorMessage(response: RawResponse): string {
  return String(response.body.message ?? JSON.stringify(response.body));
}

export type { KubernetesObject };

// --- one suite's start and end ---

export interface SuiteOptions {
  /** The suite's temporary folder (its function configuration is written there); removed by stop(). */
  readonly dir: string;
  /** Kubelet identities of the control plane. */
  readonly nodes?: readonly string[];
  /** Environment of the standalone server, which serves every function. */
  readonly env: Env;
  /** One function under faas-js-runtime behind nginx, with its own environment. */
  readonly fronted?: { readonly name: string; readonly env: Env };
  /** A review tap in front of each: the replies are kept for the stand-in check. */
  readonly tap?: boolean;
}

export interface Suite {
  readonly cluster: Cluster;
  readonly standalone: StandaloneFunctions;
  readonly fronted: FrontedFunction | undefined;
  readonly taps: { readonly standalone?: ReviewTap; readonly fronted?: ReviewTap };
  /** What to register: the tap in front of the standalone server, or the server itself. */
  readonly endpoint: string;
  /** The same for the fronted function (nginx's address, or its tap's). */
  readonly frontedEndpoint: string | undefined;
  /** The CAs of both endpoints. */
  readonly caPems: string[];
  /** Every review the taps kept, in arrival order. */
  reviews(): TappedReview[];
  stop(): Promise<void>;
}

type Stoppable = { stop(): unknown } | undefined;

async function stopAll(parts: readonly Stoppable[]): Promise<void> {
  await Promise.allSettled(parts.map(async (part) => part?.stop()));
}

/**
 * The control plane, the functions and their taps, started side by side; the namespaces that
 * exist labelled as 1.21+ does and the webhooks' own namespace created. When any part fails to
 * start the others are stopped: a process left running would keep the test file from exiting.
 */
export async function startSuite(options: SuiteOptions): Promise<Suite> {
  const started: Stoppable[] = [];
  const track = <T extends Stoppable>(part: T): T => {
    started.push(part);
    return part;
  };
  try {
    const [cluster, standalone, fronted] = await settledAll([
      startCluster(options.nodes ? { nodes: options.nodes } : {}).then(track),
      startStandaloneFunctions(join(options.dir, 'standalone'), options.env).then(track),
      options.fronted
        ? startFunctionBehindNginx(options.fronted.name, options.fronted.env).then(track)
        : Promise.resolve(undefined),
    ]);
    const tapOf = (served: ServedOverTls) => tapInFront(served).then(track);
    const taps = {
      ...(options.tap && { standalone: await tapOf(standalone) }),
      ...(options.tap && fronted && { fronted: await tapOf(fronted) }),
    };
    await labelExistingNamespaces(cluster);
    await createWebhookNamespace(cluster);
    return {
      cluster,
      standalone,
      fronted,
      taps,
      endpoint: taps.standalone?.url ?? standalone.url,
      frontedEndpoint: taps.fronted?.url ?? fronted?.url,
      caPems: [standalone.caPem, ...(fronted ? [fronted.caPem] : [])],
      reviews: () =>
        [...(taps.standalone?.reviews ?? []), ...(taps.fronted?.reviews ?? [])].sort((a, b) => a.at - b.at),
      async stop() {
        // Taps first (they hold connections to the functions), the control plane last.
        await stopAll([taps.standalone, taps.fronted]);
        await stopAll([standalone, fronted]);
        cluster.stop();
        rmSync(options.dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await stopAll(started.reverse());
    rmSync(options.dir, { recursive: true, force: true });
    throw error;
  }
}

/** Promise.all that waits for every promise to settle before it rejects (so all started parts are tracked). */
async function settledAll<T extends readonly unknown[]>(
  promises: { [K in keyof T]: Promise<T[K]> },
): Promise<T> {
  const results = await Promise.allSettled(promises);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<unknown>).value) as unknown as T;
}
