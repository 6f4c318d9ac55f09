// The request handler behind the standalone HTTPS server and the OpenFaaS function: POST
// /<function> answers that function's AdmissionReview; every other request gets a JSON
// {code, message} that says what was wrong, and the process goes on serving.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { requireJsonContentType } from '../shared/content-type.ts';
import { HttpError } from '../shared/errors.ts';
import { errorAnswer, handleReview } from '../shared/handle.ts';
import { parseApiserverTimeout, type RequestInfo } from '../shared/request-info.ts';
import type { Logger } from './log.ts';
import { type ReviewTarget, routeAt } from './routes.ts';

/** `live`: the process answers. `ready`: it takes new reviews (fails while shutting down). */
export type HealthCheck = 'live' | 'ready';

export interface AdmissionHandlerOptions {
  /** Path name (without the leading /) to what answers there. */
  readonly routes: ReadonlyMap<string, ReviewTarget>;
  /** What answers at `/` (OpenFaaS calls a function at its root). */
  readonly root?: ReviewTarget;
  /** Health paths and what they check. */
  readonly health: Readonly<Record<string, HealthCheck>>;
  /** Largest body accepted, in bytes. */
  readonly bodyLimit: number;
  readonly log: Logger;
}

export interface AdmissionHandler {
  (request: IncomingMessage, response: ServerResponse): void;
  /** Shutting down: readiness fails, and each answer closes its connection. */
  drain(): void;
}

export function createAdmissionHandler(options: AdmissionHandlerOptions): AdmissionHandler {
  const { routes, root, health, bodyLimit, log } = options;
  const listed = [...routes.keys()].map((name) => `/${name}`).join(', ');
  let draining = false;

  async function respond(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const started = performance.now();
    if (draining) response.setHeader('Connection', 'close');
    const { path, query } = splitUrl(request.url ?? '/');

    const check = health[path];
    if (check) {
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        return send(response, 405, { code: 405, message: `${path} answers GET` }, { Allow: 'GET, HEAD' });
      }
      const ready = check === 'live' || !draining;
      return send(response, ready ? 200 : 503, {
        code: ready ? 200 : 503,
        message: ready ? 'ok' : 'shutting down',
      });
    }

    const target = path === '/' ? root : routeAt(routes, path);
    if (!target) {
      const message = `no function at ${path}: POST an AdmissionReview to one of ${listed}`;
      return send(response, 404, { code: 404, message });
    }
    if (request.method !== 'POST') {
      const message = `${path} answers POST with an AdmissionReview, not ${request.method}`;
      return send(response, 405, { code: 405, message }, { Allow: 'POST' });
    }

    let text: string;
    try {
      requireJsonContentType(request.headers['content-type']);
      text = await readBody(request, bodyLimit);
    } catch (error) {
      if (!(error instanceof HttpError)) return; // the client went away: nobody to answer
      // After a body over the limit, the connection is not reused (one may still be arriving).
      const body = { code: error.status, message: error.message };
      return send(response, error.status, body, error.status === 413 ? { Connection: 'close' } : {});
    }

    // Telemetry measures from `started` against the timeout, and logs an answer too late to count.
    const timeoutMs = parseApiserverTimeout(query.get('timeout') ?? undefined);
    const info: RequestInfo = { timeoutMs, headers: request.headers, receivedAt: started, path };
    const answer = handleReview(target, text, info);
    send(response, answer.status, answer.body);
  }

  const handler = (request: IncomingMessage, response: ServerResponse) => {
    respond(request, response).catch((error: unknown) => {
      // A bug, not bad input: say so, keep serving.
      const detail = error instanceof Error ? error.message : String(error);
      log.error(`${request.method} ${splitUrl(request.url ?? '/').path}: ${detail}`);
      if (!response.headersSent) send(response, 500, errorAnswer(500, `internal error: ${detail}`).body);
      else response.destroy();
    });
  };
  return Object.assign(handler, {
    drain: () => {
      draining = true;
    },
  });
}

function splitUrl(url: string): { path: string; query: URLSearchParams } {
  const mark = url.indexOf('?');
  let path = mark < 0 ? url : url.slice(0, mark);
  if (path.length > 1 && path.endsWith('/')) path = path.slice(0, -1);
  return { path, query: new URLSearchParams(mark < 0 ? '' : url.slice(mark + 1)) };
}

/**
 * Reads the body as UTF-8 text, refusing (413) more than `limit` bytes. A body over the limit
 * is still read, and dropped, up to twice the limit before the 413 goes out: a client that is
 * still sending when the server closes gets a reset instead of the answer. Past twice the
 * limit the 413 goes out at once and the connection is cut.
 */
function readBody(request: IncomingMessage, limit: number): Promise<string> {
  const tooLarge = () => new HttpError(413, `body over the limit of ${limit} bytes (BODY_LIMIT)`);
  const declared = Number(request.headers['content-length']);
  if (declared > 2 * limit) return Promise.reject(tooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
      else if (size > 2 * limit) reject(tooLarge());
    });
    request.on('end', () => {
      if (size <= limit) resolve(Buffer.concat(chunks, size).toString('utf8'));
      else reject(tooLarge());
    });
    request.on('error', reject);
  });
}

function send(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (response.headersSent || response.destroyed) return;
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
    ...headers,
  });
  response.end(text);
}
