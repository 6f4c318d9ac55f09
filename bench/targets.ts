// What the benchmark runs: each target is one entry here, a way to start a server that
// answers reviews. Functions are benchmarked with the configuration below, chosen so that
// the Knative review is mutated, not skipped or denied.
import { join } from 'node:path';
import { projectRoot } from '../test/support/apiserver.ts';
import type { ServerCommand } from './server-process.ts';
import type { BenchTls } from './tls.ts';

export interface BenchFunction {
  readonly name: string;
  /** Configuration (environment variables) the function is benchmarked with. */
  readonly env: Readonly<Record<string, string>>;
}

export const benchFunctions: readonly BenchFunction[] = [
  { name: 'volume-extension', env: {} },
  { name: 'node-selector', env: {} },
  {
    name: 'label-stamping',
    env: { STAMP_LABELS: 'platform.example.com/team=platform,platform.example.com/admitted-by={user}' },
  },
];

export interface TargetContext {
  readonly port: number;
  readonly tls: BenchTls;
  /** Undefined for the floor, which runs no function. */
  readonly fn?: BenchFunction;
}

export interface Target {
  readonly name: string;
  readonly description: string;
  /** False for the floor: one server, no function. */
  readonly perFunction: boolean;
  /** The environment that turns tracing on and off; absent where tracing cannot be switched. */
  readonly tracing?: { readonly on: Record<string, string>; readonly off: Record<string, string> };
  command(context: TargetContext): ServerCommand;
}

const node = process.execPath;
const bareServer = join(projectRoot, 'bench', 'bare-server.ts');

function tlsEnv({ tls }: TargetContext): Record<string, string> {
  return { TLS_CERT_FILE: tls.certFile, TLS_KEY_FILE: tls.keyFile };
}

export const targets: readonly Target[] = [
  {
    name: 'floor',
    description: 'bare Node HTTPS server: parses the review, answers allowed: true, no patch',
    perFunction: false,
    command: (context) => ({
      argv: [node, bareServer],
      env: { ...tlsEnv(context), PORT: String(context.port) },
      url: `https://127.0.0.1:${context.port}/`,
    }),
  },
  {
    name: 'core',
    description: 'the same bare HTTPS server answering with handleReview: the core without a runtime',
    perFunction: true,
    command: (context) => ({
      argv: [node, bareServer],
      env: {
        ...context.fn?.env,
        ...tlsEnv(context),
        PORT: String(context.port),
        FUNCTION: context.fn?.name ?? '',
      },
      url: `https://127.0.0.1:${context.port}/`,
    }),
  },
];
