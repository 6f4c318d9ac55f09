// Starting and stopping a server: timeouts against slow clients, JSON answers for requests
// too broken to reach the handler, and a graceful stop on SIGTERM (Kubernetes and Knative
// send it before a pod goes away).
import { once } from 'node:events';
import type { Server, ServerOptions } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { rawJsonAnswer } from './intake.ts';
import type { ServerLog } from './log.ts';
import type { AdmissionHandler } from './server.ts';
import type { IntakeSettings } from './settings.ts';

/** The http.createServer / https.createServer options that hold slow clients to the timeouts. */
export function timeoutOptions(settings: IntakeSettings): ServerOptions {
  const requestTimeout = settings.requestTimeoutSeconds * 1000;
  const headersTimeout = Math.min(settings.headersTimeoutSeconds * 1000, requestTimeout);
  return {
    headersTimeout,
    requestTimeout,
    keepAliveTimeout: settings.keepAliveTimeoutSeconds * 1000,
    // Node enforces the two timeouts on this tick (30 s by default, longer than either).
    connectionsCheckingInterval: Math.max(50, Math.min(1000, headersTimeout / 4)),
  };
}

/**
 * Answers requests that never reached the handler (slow clients cut off by the timeouts,
 * unparsable HTTP) with the same JSON {code, message} as every other error.
 */
export function answerBrokenRequests(server: Server, settings: IntakeSettings): void {
  server.on('clientError', clientErrorListener(settings));
}

/** The 'clientError' listener of answerBrokenRequests, for a server made by someone else (fastify). */
export function clientErrorListener(settings: IntakeSettings) {
  return (error: NodeJS.ErrnoException, socket: Duplex) => {
    if (error.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    let status = 400;
    let message = `malformed HTTP request: ${error.message}`;
    if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
      status = 408;
      message = `request not received in time: headers within ${settings.headersTimeoutSeconds}s, the whole request within ${settings.requestTimeoutSeconds}s (HEADERS_TIMEOUT_SECONDS, REQUEST_TIMEOUT_SECONDS)`;
    } else if (error.code === 'HPE_HEADER_OVERFLOW') {
      status = 431;
      message = 'request headers too large';
    }
    socket.end(rawJsonAnswer(status, message));
  };
}

export async function listen(server: Server, host: string, port: number): Promise<AddressInfo> {
  server.listen(port, host);
  await once(server, 'listening');
  return server.address() as AddressInfo;
}

/**
 * Stops accepting connections, lets every request already received finish (idle keep-alive
 * connections are closed at once, busy ones after their answer), and after `timeoutSeconds`
 * cuts whatever is left.
 */
export async function shutDown(
  server: Server,
  handler: AdmissionHandler,
  timeoutSeconds: number,
  log: ServerLog,
) {
  handler.drain();
  const closed = once(server, 'close');
  server.close();
  server.closeIdleConnections();
  const deadline = setTimeout(() => {
    log.error(`requests still running after ${timeoutSeconds}s (SHUTDOWN_TIMEOUT_SECONDS): closing them`);
    server.closeAllConnections();
  }, timeoutSeconds * 1000);
  try {
    await closed;
  } finally {
    clearTimeout(deadline);
  }
}

/** Runs `stop` once on SIGTERM or SIGINT, then exits 0 (1 if stopping failed). */
export function stopOnSignals(stop: () => Promise<void>, log: ServerLog): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    // stop() closes the listener before it first waits: logged after, the line is true.
    const stopped = stop();
    log.info(`${signal}: no new connections; finishing the requests already received`);
    stopped.then(
      () => {
        log.info('stopped');
        process.exit(0);
      },
      (error: unknown) => {
        log.error(`stopping: ${error instanceof Error ? error.message : String(error)}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}
