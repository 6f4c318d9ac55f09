// The request handler behind the standalone HTTPS server and the OpenFaaS function: POST
// /<function> answers that function's AdmissionReview; every other request gets a JSON
// {code, message} that says what was wrong, and the process goes on serving.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { HttpError } from '../shared/errors.ts';
import type { ReviewHandler } from '../shared/handler.ts';
import { type HttpAnswer, messageAnswer } from '../shared/http-answer.ts';
import type { ServerLog } from './log.ts';
import { answerReviewRequest, internalErrorAnswer } from './review-request.ts';
import { routeAt } from './route-at.ts';

/** `live`: the process answers. `ready`: it takes new reviews (fails while shutting down). */
export type HealthCheck = 'live' | 'ready';

export interface AdmissionHandlerOptions {
  /** Path name (without the leading /) to what answers there. */
  readonly routes: ReadonlyMap<string, ReviewHandler>;
  /** What answers at `/` (OpenFaaS calls a function at its root). */
  readonly root?: ReviewHandler;
  /** Health paths and what they check. */
  readonly health: Readonly<Record<string, HealthCheck>>;
  /** Largest body accepted, in bytes. */
  readonly bodyLimit: number;
  readonly log: ServerLog;
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
        return send(response, messageAnswer(405, `${path} answers GET`), { Allow: 'GET, HEAD' });
      }
      const ready = check === 'live' || !draining;
      return send(response, ready ? messageAnswer(200, 'ok') : messageAnswer(503, 'shutting down'));
    }

    const target = path === '/' ? root : routeAt(routes, path);
    if (!target) {
      const message = `no function at ${path}: POST an AdmissionReview to one of ${listed}`;
      return send(response, messageAnswer(404, message));
    }
    // Telemetry measures from `started` against the timeout, and logs an answer too late to count.
    const answer = await answerReviewRequest(target, {
      method: request.method,
      headers: request.headers,
      path,
      timeout: query.get('timeout') ?? undefined,
      receivedAt: started,
      readBody: () => readBody(request, bodyLimit),
    });
    if (answer) send(response, answer, answer.headers);
  }

  const handler = (request: IncomingMessage, response: ServerResponse) => {
    respond(request, response).catch((error: unknown) => {
      // A bug, not bad input: say so, keep serving.
      const detail = error instanceof Error ? error.message : String(error);
      log.error(`${request.method} ${splitUrl(request.url ?? '/').path}: ${detail}`);
      if (!response.headersSent) send(response, internalErrorAnswer(error));
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
  { status, body }: HttpAnswer,
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
