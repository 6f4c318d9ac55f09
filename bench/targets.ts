// What the benchmark runs: each target is one entry here, a way to start a server that
// answers reviews. Functions are benchmarked with the configuration below, chosen so that
// the Knative review is mutated, not skipped or denied.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from '../test/support/apiserver.ts';
import {
  dockerfileLines,
  imageCommand as imageCommandWords,
  imageNodeFlags,
} from '../test/support/image-command.ts';
import type { ServerCommand } from './server-process.ts';
import type { BenchTls } from './tls.ts';

export interface BenchFunction {
  readonly name: string;
  /** Configuration (environment variables) the function is benchmarked with. */
  readonly env: Readonly<Record<string, string>>;
  /** Left out unless named in BENCH_FUNCTIONS (functions none of the cases is for). */
  readonly onRequest?: boolean;
}

// The sample volume policy admits the fixture's hostPath volume (without a policy file,
// volume-extension refuses every hostPath): the bench measures the mutation, not a denial.
const volumePolicy = join(projectRoot, 'test', 'support', 'policies', 'untyped-hostpath.yaml');

export const benchFunctions: readonly BenchFunction[] = [
  { name: 'volume-extension', env: existsSync(volumePolicy) ? { VOLUME_POLICY_FILE: volumePolicy } : {} },
  { name: 'node-selector', env: {} },
  {
    name: 'label-stamping',
    env: { STAMP_LABELS: 'platform.example.com/team=platform,platform.example.com/admitted-by={user}' },
  },
  {
    name: 'sidecar-injection',
    env: { SIDECAR_TEMPLATE_FILE: join(projectRoot, 'samples', 'sidecar-injection', 'template.yaml') },
  },
  {
    name: 'image-mirror',
    env: { IMAGE_MIRRORS: 'docker.io=mirror.example.com/hub,gcr.io=mirror.example.com/gcr' },
  },
  { name: 'config-volume', env: { POD_SELECTOR: 'serving.knative.dev/service' } },
  // nodes/status only: on the pod cases it would only measure its skip.
  {
    name: 'node-oversale',
    env: { OVERSALE_RULES: 'node-role.example.com/oversale=true:cpu=2,memory=1.5' },
    onRequest: true,
  },
  // Knative Services only, like node-oversale: here for the topology's one process per function.
  { name: 'knative-service-validation', env: {}, onRequest: true },
];

export type Scheme = 'https' | 'http';

/** Tracing on or off in a runtime that starts OpenTelemetry; n/a where nothing is traced. */
export type Tracing = 'on' | 'off' | 'n/a';

export interface TargetContext {
  readonly tls: BenchTls;
  readonly tracing: Tracing;
  /** Where spans go when tracing is on (the bench's stand-in collector). */
  readonly otlpEndpoint: string;
  /** The functions the process serves: none for the floors, one, or every benchmarked one. */
  readonly functions: readonly BenchFunction[];
}

export interface Target {
  readonly name: string;
  readonly description: string;
  /** Ratios are taken against the floor that speaks the same scheme. */
  readonly scheme: Scheme;
  /** A floor serves nothing; a runtime serves one function per process, or every function in one. */
  readonly serves: 'nothing' | 'one-function' | 'every-function';
  /** Starts OpenTelemetry (runtimes/telemetry.ts): measured with tracing off and on. */
  readonly traced: boolean;
  /** Left out unless named in BENCH_TARGETS. */
  readonly onRequest?: boolean;
  /** Only these functions (a baseline written for just them); omitted: every function. */
  readonly functions?: readonly string[];
  /** Run once before the target's first process (a build). */
  prepare?(log: (line: string) => void): void | Promise<void>;
  command(context: TargetContext): ServerCommand;
}

const node = process.execPath;
const goWebhookSource = join(projectRoot, 'bench', 'go-webhook');
const goWebhookBinary = join(tmpdir(), 'faas-admission-bench-go-webhook');

/** Targets that stand in for something else (the core alone, a Go webhook): compared with, never judged. */
export const BASELINE_TARGETS: readonly string[] = ['core', 'go-webhook'];

/**
 * Builds bench/go-webhook with Debian's Go and Debian's client_golang, in GOPATH mode (the Go
 * module proxy is not among this project's registries).
 */
function buildGoWebhook(log: (line: string) => void): void {
  const gopath = mkdtempSync(join(tmpdir(), 'faas-admission-gopath-'));
  const dir = join(gopath, 'src', 'go-webhook');
  mkdirSync(dir, { recursive: true });
  copyFileSync(join(goWebhookSource, 'main.go'), join(dir, 'main.go'));
  log('go-webhook: go build (Debian golang-go, golang-github-prometheus-client-golang-dev)');
  try {
    execFileSync('go', ['build', '-o', goWebhookBinary, '.'], {
      cwd: dir,
      env: {
        ...process.env,
        GO111MODULE: 'off',
        GOPATH: `${gopath}:/usr/share/gocode`,
        GOCACHE: join(tmpdir(), 'faas-admission-bench-gocache'),
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
  } catch (error) {
    const detail = (error as { stderr?: Buffer }).stderr?.toString().trim() || (error as Error).message;
    throw new Error(
      `go-webhook: the build failed (it needs the Debian packages golang-go and golang-github-prometheus-client-golang-dev, listed in .ci/apt-packages; BENCH_TARGETS can leave it out): ${detail}`,
    );
  } finally {
    rmSync(gopath, { recursive: true, force: true });
  }
}

/** A deployed `node ...` command run here: this Node, paths under the checkout. */
function nodeCommand(words: readonly string[], where: string): string[] {
  const [program, ...args] = words;
  if (program !== 'node') throw new Error(`${where}: expected a node command, got ${words.join(' ')}`);
  return [node, ...args.map((arg) => (arg.startsWith('-') ? arg : join(projectRoot, arg)))];
}

/** `npm start`'s command (package.json), without npm, whose process would stand in for the server's. */
function npmStart(): string[] {
  const pkg = JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8'));
  return nodeCommand(String(pkg.scripts.start).split(/\s+/), 'package.json scripts.start');
}

/** The image's command (the Dockerfile's CMD). */
function imageCommand(): string[] {
  return nodeCommand(imageCommandWords(), 'Dockerfile CMD');
}

/** The image's build step that fills Node's compile cache, so that its "cold" start is a new container's. */
function imageCompileCacheStep(): string[] {
  const run = dockerfileLines().find((line) => /^RUN node .*compile-cache\.mjs$/.test(line));
  if (!run) throw new Error('Dockerfile: no RUN of dist/server/compile-cache.mjs');
  return nodeCommand(run.slice(4).split(/\s+/), 'Dockerfile RUN');
}

function tlsEnv({ tls }: TargetContext): Record<string, string> {
  return { TLS_CERT_FILE: tls.certFile, TLS_KEY_FILE: tls.keyFile };
}

/**
 * Telemetry as deployed: metrics on (on a loopback port of the process's own), spans exported
 * over OTLP when tracing is on, to a collector that answers at once.
 */
function telemetryEnv({ tracing, otlpEndpoint }: TargetContext): Record<string, string> {
  return {
    OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1',
    OTEL_EXPORTER_PROMETHEUS_PORT: '0',
    ...(tracing === 'on'
      ? { OTEL_EXPORTER_OTLP_ENDPOINT: otlpEndpoint, OTEL_METRICS_EXPORTER: 'prometheus' }
      : {}),
  };
}

/** Every function's configuration in one environment, for a process that serves them all. */
function functionsEnv({ functions }: TargetContext): Record<string, string> {
  return Object.assign({}, ...functions.map((fn) => fn.env));
}

/**
 * The floor runs as JavaScript, as a webhook a team deploys would: bench/bare-server.ts bundled
 * once per bench (scripts/bundle.ts) to dist/bench/, so that its start is not Node stripping
 * TypeScript types (about 100 ms of a bare server's start).
 */
let bareServerScript: string | undefined;
async function bundleFloor(log: (line: string) => void): Promise<void> {
  if (bareServerScript) return;
  const outdir = join(projectRoot, 'dist', 'bench');
  log('floor: node scripts/bundle.ts of bench/bare-server.ts to dist/bench/');
  const { bundle } = await import('../scripts/bundle.ts');
  await bundle(outdir, { 'bare-server': 'bench/bare-server.ts' });
  bareServerScript = join(outdir, 'bare-server.mjs');
}

function floorScript(): string {
  if (!bareServerScript) throw new Error('the floor is run before its prepare step bundled it');
  return bareServerScript;
}

/** With the image's Node flags: the least a server holds and spends as the image runs Node. */
function bare(context: TargetContext, scheme: Scheme): ServerCommand {
  const [fn] = context.functions;
  return {
    argv: [node, ...imageNodeFlags(), floorScript()],
    env: {
      ...(scheme === 'https' ? tlsEnv(context) : {}),
      ...(fn ? { ...fn.env, FUNCTION: fn.name } : {}),
      PORT: '0',
    },
    listening: /bare server listening on port (\d+)/,
    url: (port) => `${scheme}://127.0.0.1:${port}/`,
  };
}

export const floors: Record<Scheme, Target> = {
  https: {
    name: 'floor',
    description:
      "bare Node HTTPS server with the image's Node flags: parses the review, answers allowed: true, no patch",
    scheme: 'https',
    serves: 'nothing',
    traced: false,
    prepare: bundleFloor,
    command: (context) => bare(context, 'https'),
  },
  http: {
    name: 'floor-http',
    description: 'the floor over plain HTTP, for runtimes that leave TLS to a proxy in front',
    scheme: 'http',
    serves: 'nothing',
    traced: false,
    prepare: bundleFloor,
    command: (context) => bare(context, 'http'),
  },
};

/** `npm run build`'s bundle (dist/server/), which npm start and the image run: made once per bench. */
let bundled = false;
async function bundleOnce(log: (line: string) => void): Promise<void> {
  if (bundled) return;
  log('dist/server: node scripts/bundle.ts (what npm run build makes for npm start and the image)');
  const { bundle } = await import('../scripts/bundle.ts');
  await bundle();
  bundled = true;
}

/** One function as deployed: FUNCTION, its configuration, telemetry as deployed, plain HTTP. */
function deployedFunctionEnv(context: TargetContext): Record<string, string> {
  return {
    ...functionsEnv(context),
    ...telemetryEnv(context),
    FUNCTION: context.functions[0]?.name ?? '',
    HOST: '127.0.0.1',
    PORT: '0',
  };
}

const FUNCTION_LISTENING = /: listening on port (\d+) \(body limit/;

/**
 * One function as deployed, over plain HTTP at `/` (TLS ends at the proxy in front): the image's
 * command, npm start, faas-js-runtime and the commands before the bundle differ only in argv,
 * what they print when listening and a few variables.
 */
function deployedTarget(spec: {
  name: string;
  description: string;
  argv: () => string[];
  /** Run before each start, untimed (the image's build step). */
  setup?: () => string[];
  env?: Record<string, string>;
  listening: RegExp;
  prepare?: Target['prepare'];
  onRequest?: boolean;
}): Target {
  return {
    name: spec.name,
    description: spec.description,
    scheme: 'http',
    serves: 'one-function',
    traced: true,
    ...(spec.onRequest ? { onRequest: true } : {}),
    ...(spec.prepare ? { prepare: spec.prepare } : {}),
    command: (context) => ({
      argv: spec.argv(),
      ...(spec.setup ? { setup: spec.setup() } : {}),
      env: { ...deployedFunctionEnv(context), ...spec.env },
      listening: spec.listening,
      url: (port) => `http://127.0.0.1:${port}/`,
    }),
  };
}

export const targets: readonly Target[] = [
  {
    name: 'standalone',
    description: 'npm start without FUNCTION: every function on one HTTPS port, at /<function>',
    scheme: 'https',
    serves: 'every-function',
    traced: true,
    prepare: bundleOnce,
    command: (context) => ({
      argv: npmStart(),
      env: {
        ...functionsEnv(context),
        ...telemetryEnv(context),
        ...tlsEnv(context),
        PORT: '0',
      },
      listening: /serving over HTTPS.* on https:\/\/127\.0\.0\.1:(\d+)/,
      url: (port, fn) => `https://127.0.0.1:${port}/${fn ?? ''}`,
    }),
  },
  deployedTarget({
    name: 'image',
    description:
      "the image's command (Dockerfile CMD, what deploy/ runs under Knative and stack.yml under OpenFaaS): one function on Node's HTTP server, plain HTTP (TLS ends at the proxy in front)",
    argv: imageCommand,
    setup: imageCompileCacheStep,
    env: { NODE_ENV: 'production' },
    listening: FUNCTION_LISTENING,
    prepare: bundleOnce,
  }),
  deployedTarget({
    name: 'npm-start',
    description:
      "npm start with FUNCTION set, as the Node buildpack (func deploy) runs it: one function on Node's HTTP server, plain HTTP",
    argv: npmStart,
    listening: FUNCTION_LISTENING,
    prepare: bundleOnce,
  }),
  deployedTarget({
    name: 'faas-js-runtime',
    description:
      'npm start with FUNCTION and FUNCTION_SERVER=faas-js-runtime: one function under faas-js-runtime, plain HTTP',
    argv: npmStart,
    env: { FUNCTION_SERVER: 'faas-js-runtime', FUNC_PORT: '0' },
    listening: /faas-js-runtime listening on port (\d+)/,
    prepare: bundleOnce,
  }),
  // The deployed commands before the bundle (commit a988f58), to set before against after in
  // one run: npm start ran the TypeScript sources under faas-js-runtime, the image the tsc
  // output of the OpenFaaS server, every function loaded.
  deployedTarget({
    name: 'before-npm-start',
    description:
      'npm start before the bundle: node --max-semi-space-size=8 runtimes/start.ts (TypeScript stripped at start), FUNCTION under faas-js-runtime',
    argv: () => [node, '--max-semi-space-size=8', join(projectRoot, 'runtimes', 'start.ts')],
    env: { FUNC_PORT: '0' },
    listening: /faas-js-runtime listening on port (\d+)/,
    onRequest: true,
  }),
  deployedTarget({
    name: 'before-image',
    description:
      "the image's command before the bundle: node --enable-source-maps --max-semi-space-size=8 dist/runtimes/openfaas.js (tsc output)",
    argv: () => [
      node,
      '--enable-source-maps',
      '--max-semi-space-size=8',
      join(projectRoot, 'dist', 'runtimes', 'openfaas.js'),
    ],
    env: { NODE_ENV: 'production' },
    listening: /openfaas: serving .* on http:\/\/127\.0\.0\.1:(\d+)/,
    onRequest: true,
    prepare(log) {
      log('before-image: tsc -p tsconfig.build.json (dist/)');
      execFileSync(
        node,
        [join(projectRoot, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'],
        { cwd: projectRoot, stdio: ['ignore', 'ignore', 'inherit'] },
      );
    },
  }),
  {
    name: 'go-webhook',
    description:
      'the Go webhook a team would write instead (bench/go-webhook): volume-extension in one net/http handler, stdlib JSON, a hand-built patch, Prometheus metrics, no tracing',
    scheme: 'https',
    serves: 'one-function',
    traced: false,
    functions: ['volume-extension'],
    prepare: buildGoWebhook,
    command: (context) => ({
      argv: [goWebhookBinary],
      env: {
        ...tlsEnv(context),
        // The prefix of volume-extension's policy in the bench (test/support/policies/untyped-hostpath.yaml).
        ALLOWED_HOSTPATH_PREFIXES: '/usr/local/nagent4docker',
        PORT: '0',
      },
      listening: /go webhook listening on port (\d+)/,
      url: (port) => `https://127.0.0.1:${port}/`,
    }),
  },
  {
    name: 'core',
    description: "the floor's HTTPS server answering with handleReview: the core without a runtime",
    scheme: 'https',
    serves: 'one-function',
    traced: false,
    onRequest: true,
    prepare: bundleFloor,
    command: (context) => bare(context, 'https'),
  },
];
