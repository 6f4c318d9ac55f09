// What a client can make a process hold before a function sees its request, on every runtime
// (faas-js-runtime, OpenFaaS, standalone HTTPS): the bytes of all request bodies in flight are
// bounded per process, and a body that stops arriving is answered and closed. Without this,
// 64 connections that each declare 8 MiB and stall hold half a gigabyte until they give up.
//
// It wraps the server's request listener, so the runtime behind it (faas-js-runtime's fastify
// or the project's own handler) never starts reading a body the process has no room for.
import { type IncomingMessage, type RequestListener, type ServerResponse, STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';

export interface IntakeLimits {
  /** Largest single body, in bytes (a larger one is the runtime's to refuse with 413). */
  readonly bodyLimit: number;
  /** Bytes of request bodies held at once by the process. */
  readonly inFlightBodyLimit: number;
  /** Longest wait for the next byte of a body. */
  readonly bodyIdleTimeoutSeconds: number;
}

/** A body this small (an ordinary pod review is a few kB) may use the reserve for small bodies. */
export const SMALL_BODY = 256 * 1024;

export type Reservation = { bytes: number; pool: 'shared' | 'small' };

/**
 * Bytes reserved by requests whose answer has not gone out yet: up to `limit` for any body, and
 * an eighth more kept for small bodies, so that connections holding large bodies (stalled, or
 * many large reviews at once) still leave room for the ordinary reviews of every other user.
 */
export class BodyBudget {
  #shared = 0;
  #small = 0;
  readonly limit: number;
  readonly #smallLimit: number;
  constructor(limit: number) {
    this.limit = limit;
    this.#smallLimit = Math.floor(limit / 8);
  }

  get used(): number {
    return this.#shared + this.#small;
  }

  /** Reserves `bytes` if they fit; undefined (nothing reserved) if they do not. */
  tryReserve(bytes: number): Reservation | undefined {
    if (this.#shared + bytes <= this.limit) {
      this.#shared += bytes;
      return { bytes, pool: 'shared' };
    }
    if (bytes <= SMALL_BODY && this.#small + bytes <= this.#smallLimit) {
      this.#small += bytes;
      return { bytes, pool: 'small' };
    }
    return undefined;
  }

  release({ bytes, pool }: Reservation): void {
    if (pool === 'shared') this.#shared -= bytes;
    else this.#small -= bytes;
  }
}

/** The bytes a request's body may come to: its Content-Length, or the body limit when it has none. */
export function bodyReservation(request: IncomingMessage, bodyLimit: number): number {
  const length = request.headers['content-length'];
  if (length !== undefined) {
    const declared = /^\d+$/.test(length) ? Number(length) : Number.NaN;
    // Over the limit (or malformed), the runtime refuses it without keeping any of it.
    return declared <= bodyLimit ? declared : 0;
  }
  return request.headers['transfer-encoding'] === undefined ? 0 : bodyLimit;
}

/**
 * `listener` behind the intake bounds: a request whose body does not fit in what is left of the
 * budget is answered 503 with Retry-After, its bytes dropped as they come; one whose body goes
 * quiet for the idle timeout is answered 408 and its connection closed. The reservation is
 * held until the answer has gone out (the parsed review lives that long too).
 */
export function guardIntake(
  listener: RequestListener,
  limits: IntakeLimits,
  budget = new BodyBudget(limits.inFlightBodyLimit),
): RequestListener & { budget: BodyBudget } {
  const idleMs = limits.bodyIdleTimeoutSeconds * 1000;
  const guarded = (request: IncomingMessage, response: ServerResponse) => {
    const bytes = bodyReservation(request, limits.bodyLimit);
    if (bytes === 0) return listener(request, response);
    watchIdleBody(request, response, idleMs, limits.bodyIdleTimeoutSeconds);
    const reservation = budget.tryReserve(bytes);
    if (!reservation) return refuseBusy(request, response, budget, bytes);
    response.once('close', () => budget.release(reservation));
    listener(request, response);
  };
  return Object.assign(guarded, { budget });
}

function refuseBusy(request: IncomingMessage, response: ServerResponse, budget: BodyBudget, bytes: number) {
  const message =
    `busy: ${budget.used} bytes of request bodies already in flight, this one declares ${bytes}, ` +
    `the process holds ${budget.limit} at most (IN_FLIGHT_BODY_LIMIT); retry shortly`;
  // Read and drop the body first (nothing of it is kept), then answer: a client still sending
  // when the answer goes out and the connection closes would get a reset, not the answer. The
  // idle and request timeouts still hold a client that stalls.
  request.resume();
  request.once('end', () => sendJson(response, 503, message, { 'Retry-After': '1' }));
}

/**
 * The socket's inactivity timer, armed while the body arrives and put back once it is whole
 * (Node then runs its keep-alive timer on the same socket). On plain HTTP the parser reads the
 * socket natively, and still refreshes this timer on every chunk.
 */
function watchIdleBody(request: IncomingMessage, response: ServerResponse, idleMs: number, seconds: number) {
  const socket = request.socket as Socket;
  const restore = () =>
    socket.setTimeout((socket as Socket & { server?: { timeout?: number } }).server?.timeout ?? 0);
  socket.setTimeout(idleMs);
  // Node emits 'timeout' on a request still arriving when its socket times out; a listener
  // here keeps Node from destroying the socket before the client is told why. The answer goes
  // on the socket itself, as for requests too broken to reach a handler: the runtime behind
  // (fastify's hooks, its metrics) then sees a client gone away, not a reply it never made.
  const onTimeout = () => {
    // A loop busy with another review reads nothing for a while, though bytes wait in the
    // kernel: timers run before I/O in each turn of the loop, so look again after the I/O.
    const read = socket.bytesRead;
    setImmediate(() => {
      if (socket.bytesRead !== read || request.complete || socket.destroyed) return;
      if (!response.headersSent && socket.writable) {
        socket.end(
          rawJsonAnswer(408, `request body stalled: no byte for ${seconds}s (BODY_IDLE_TIMEOUT_SECONDS)`),
        );
      }
      socket.destroySoon();
    });
  };
  request.once('timeout', onTimeout);
  request.once('end', () => {
    request.off('timeout', onTimeout);
    restore();
  });
  response.once('close', () => request.off('timeout', onTimeout));
}

/** A whole HTTP/1.1 answer with a JSON {code, message} body, closing the connection. */
export function rawJsonAnswer(status: number, message: string): string {
  const body = JSON.stringify({ code: status, message });
  return (
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`
  );
}

function sendJson(
  response: ServerResponse,
  status: number,
  message: string,
  headers: Record<string, string>,
) {
  if (response.headersSent || response.destroyed) return;
  const text = JSON.stringify({ code: status, message });
  response.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
    ...headers,
  });
  response.end(text);
}
