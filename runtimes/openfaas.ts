// OpenFaaS: plain HTTP on 8080 in the function's container (the gateway, or a TLS-terminating
// proxy in front, speaks to it), `GET /_/health` for OpenFaaS's probes and Knative's
// /health/readiness and /health/liveness too: deploy/functions.yaml runs this same image
// under Knative. FUNCTION picks the function served at `/` (one image, every function); unset, every function is served by
// path as in the standalone server. The body limit is the same 8 MiB as in every runtime (the
// stock OpenFaaS node templates stop at 100 kB, too small for large pods).
import type { Server } from 'node:http';
import * as z from 'zod';
import { readEnvConfig } from '../shared/config.ts';
import { ConfigError } from '../shared/errors.ts';
import type { ReviewHandler } from '../shared/handler.ts';
import { serveHttp } from './http-server.ts';
import { stopOnSignals } from './lifecycle.ts';
import { type ServerLog, stderrLog } from './log.ts';
import { PROBE_PATHS } from './probes.ts';
import { loadRoutes } from './routes.ts';
import { serverSettingsShape } from './settings.ts';
import { startTelemetry } from './telemetry.ts';

export const openFaasSettings = z.object({
  ...serverSettingsShape({ host: '0.0.0.0', port: 8080 }),
  function: z
    .string()
    .min(1)
    .optional()
    .describe('the function (or chain) this instance serves at /; unset: all of them, by path'),
});

export interface OpenFaasOptions {
  env?: NodeJS.ProcessEnv;
  log?: ServerLog;
  /** Stop gracefully and exit 0 on SIGTERM / SIGINT (default true). */
  handleSignals?: boolean;
}

export interface OpenFaasServer {
  url: string;
  server: Server;
  routes: ReadonlyMap<string, ReviewHandler>;
  stop(): Promise<void>;
}

export async function startOpenFaas(options: OpenFaasOptions = {}): Promise<OpenFaasServer> {
  const env = options.env ?? process.env;
  const log = options.log ?? stderrLog;
  const settings = readEnvConfig('openfaas: invalid configuration', openFaasSettings, env);
  const { routes, unconfigured } = loadRoutes(env, settings.function);
  const root = settings.function === undefined ? undefined : routes.get(settings.function);
  if (settings.function !== undefined && !root) {
    throw new ConfigError(
      `openfaas: invalid configuration: FUNCTION: no function named "${settings.function}"`,
    );
  }
  await startTelemetry({ serviceName: settings.function ?? 'faas-admission' });
  const served = await serveHttp({ routes, ...(root ? { root } : {}), settings, log });
  const running: OpenFaasServer = { url: served.url, server: served.server, routes, stop: served.stop };
  for (const { reason } of unconfigured) log.info(`not served, needs configuration: ${reason}`);
  log.info(
    `openfaas: serving ${[...routes.keys()].join(', ')} on ${running.url} (GET ${Object.keys(PROBE_PATHS).join(', ')})`,
  );
  if (options.handleSignals ?? true) stopOnSignals(running.stop, log);
  return running;
}

async function main(): Promise<void> {
  try {
    await startOpenFaas();
  } catch (error) {
    stderrLog.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  }
}

if (import.meta.main) await main();
