// Plain HTTP serving of reviews, shared by the deployed function server and the OpenFaaS server:
// the request handler of every runtime within the intake bounds, the timeouts against slow
// clients, JSON answers for broken requests, and a graceful stop that flushes telemetry.
import { createServer, type Server } from 'node:http';
import type { ReviewHandler } from '../shared/handler.ts';
import { guardIntake } from './intake.ts';
import { answerBrokenRequests, listen, shutDown, timeoutOptions } from './lifecycle.ts';
import type { ServerLog } from './log.ts';
import { PROBE_PATHS } from './probes.ts';
import { createAdmissionHandler } from './server.ts';
import type { ServerSettings } from './settings.ts';
import { shutdownTelemetry } from './telemetry.ts';

export interface HttpServing {
  routes: ReadonlyMap<string, ReviewHandler>;
  /** What answers at `/`. */
  root?: ReviewHandler;
  settings: ServerSettings;
  log: ServerLog;
}

export interface ServedHttp {
  /** http://host:port, with 0.0.0.0 shown as 127.0.0.1. */
  url: string;
  port: number;
  server: Server;
  stop(): Promise<void>;
}

export async function serveHttp({ routes, root, settings, log }: HttpServing): Promise<ServedHttp> {
  const handler = createAdmissionHandler({
    routes,
    ...(root ? { root } : {}),
    health: PROBE_PATHS,
    bodyLimit: settings.bodyLimit,
    log,
  });
  const server = createServer(timeoutOptions(settings), guardIntake(handler, settings));
  answerBrokenRequests(server, settings);
  const address = await listen(server, settings.host, settings.port);
  const host = settings.host === '0.0.0.0' ? '127.0.0.1' : settings.host;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`,
    port: address.port,
    server,
    stop: async () => {
      await shutDown(server, handler, settings.shutdownTimeoutSeconds, log);
      await shutdownTelemetry();
    },
  };
}
