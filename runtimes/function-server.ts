// One function on Node's own HTTP server: what a deployed instance runs (the image's command
// and `npm start` with FUNCTION set, runtimes/main.ts). It keeps faas-js-runtime's contract, so
// func.yaml and the Knative Services run it unchanged: the port from FUNC_PORT or Knative's PORT
// (default 8080), the body limit from FUNC_BODY_LIMIT (default 8 MiB), /health/readiness and
// /health/liveness, and a graceful stop on SIGTERM; OpenFaaS's /_/health too. Reviews are
// answered at `/` and at `/<function>` by the request handler of every runtime
// (runtimes/server.ts), within the intake bounds (runtimes/intake.ts). Only the function named by
// FUNCTION is loaded. Why this and not faas-js-runtime by default: docs/deploy.md.
import type { Server } from 'node:http';
import * as z from 'zod';
import { readEnvConfig } from '../shared/config.ts';
import { ConfigError } from '../shared/errors.ts';
import { functionHandler } from '../shared/handler.ts';
import { serveHttp } from './http-server.ts';
import { stopOnSignals } from './lifecycle.ts';
import { type ServerLog, stderrLog } from './log.ts';
import { PROBE_PATHS } from './probes.ts';
import { selectedFunction } from './selected-function.ts';
import { serverSettingsShape } from './settings.ts';
import { startTelemetry } from './telemetry.ts';

const settingsSchema = z.object(serverSettingsShape({ host: '0.0.0.0', port: 8080 }));

export interface FunctionServerOptions {
  env?: NodeJS.ProcessEnv;
  log?: ServerLog;
  /** Stop gracefully and exit 0 on SIGTERM / SIGINT (default true). */
  handleSignals?: boolean;
}

export interface FunctionServer {
  url: string;
  server: Server;
  stop(): Promise<void>;
}

/** faas-js-runtime's names first (FUNC_PORT, FUNC_BODY_LIMIT in bytes), then the servers' own. */
function withFaasNames(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const named = { ...env };
  for (const [faas, own] of [
    ['FUNC_PORT', 'PORT'],
    ['FUNC_BODY_LIMIT', 'BODY_LIMIT'],
  ] as const) {
    const value = env[faas];
    if (value === undefined || value === '') continue;
    if (!/^\d+$/.test(value)) throw new ConfigError(`${faas}: "${value}" is not a whole number`);
    named[own] = value;
  }
  return named;
}

export async function startFunctionServer(options: FunctionServerOptions = {}): Promise<FunctionServer> {
  const env = options.env ?? process.env;
  const log = options.log ?? stderrLog;
  const settings = readEnvConfig('server: invalid configuration', settingsSchema, withFaasNames(env));
  const served = functionHandler(await selectedFunction(env));
  const name = served.name;
  await startTelemetry({ serviceName: name });
  const running = await serveHttp({ routes: new Map([[name, served]]), root: served, settings, log });
  const limit = (settings.bodyLimit / 1024 / 1024).toFixed(1);
  process.stdout.write(`${name}: listening on port ${running.port} (body limit ${limit} MiB)\n`);
  log.info(`serving ${name} on ${running.url} (GET ${Object.keys(PROBE_PATHS).join(', ')})`);
  if (options.handleSignals ?? true) stopOnSignals(running.stop, log);
  return running;
}
