// An open-loop load generator for the load and fault suite: reviews go out on a fixed schedule
// (so a slow server cannot slow the arrivals down and hide its own latency), over HTTPS to a
// real server, and every answer is compared with the answer the function gives in-process.
import { Agent, request as httpsRequest } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { isDeepStrictEqual } from 'node:util';

export interface LoadRequest {
  /** `/volume-extension` */
  readonly path: string;
  readonly body: string;
  /** The reply the function gives in-process: every answer must equal it. */
  readonly expected: unknown;
}

export interface LoadOptions {
  readonly url: string;
  /** The only CA trusted. */
  readonly ca: string;
  readonly servername?: string;
  /** Reviews per second. */
  readonly rate: number;
  readonly seconds: number;
  /** Sent round-robin. */
  readonly requests: readonly LoadRequest[];
  /** `keep-alive`: a pool of reused connections, as the apiserver keeps them; `new`: one each. */
  readonly connections: 'keep-alive' | 'new';
  /** Called at the start of each second (0, 1, ...): where a fault is injected. */
  readonly everySecond?: (second: number) => void;
}

/**
 * What became of one review. `refused`: the connection was never accepted (refused, or cut
 * before TLS was set up), so the server never had the review. `failed`: accepted and then not
 * answered, or answered with an error. `wrong`: answered 200 with another reply than expected.
 */
export type Kind = 'ok' | 'wrong' | 'refused' | 'failed';

export interface Outcome {
  readonly kind: Kind;
  /** Seconds since the start, by schedule. */
  readonly second: number;
  /** From the scheduled send to the end of the answer. */
  readonly latencyMs: number;
  /** Serial number of the certificate the server presented. */
  readonly serial?: string;
  readonly detail?: string;
}

export interface LoadReport {
  readonly sent: number;
  readonly counts: Record<Kind, number>;
  readonly latencyMs: { p50: number; p90: number; p99: number; max: number };
  readonly outcomes: readonly Outcome[];
  /** The first problems, for the assertion message. */
  readonly problems: readonly string[];
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

export async function runLoad(options: LoadOptions): Promise<LoadReport> {
  const agent =
    options.connections === 'keep-alive'
      ? new Agent({ ca: options.ca, keepAlive: true, maxSockets: 64 })
      : undefined;
  const outcomes: Outcome[] = [];
  const pending: Promise<void>[] = [];
  const start = performance.now();
  const total = Math.round(options.rate * options.seconds);
  let sent = 0;
  let announced = -1;

  await new Promise<void>((done) => {
    const tick = () => {
      const elapsed = (performance.now() - start) / 1000;
      const second = Math.floor(elapsed);
      while (announced < second && announced + 1 < options.seconds) {
        announced++;
        options.everySecond?.(announced);
      }
      const due = Math.min(total, Math.floor(elapsed * options.rate));
      for (; sent < due; sent++) {
        const scheduled = start + (sent / options.rate) * 1000;
        const item = options.requests[sent % options.requests.length] as LoadRequest;
        pending.push(send(options, agent, item, scheduled, start).then((o) => void outcomes.push(o)));
      }
      if (sent >= total) done();
      else setTimeout(tick, 5);
    };
    tick();
  });
  await Promise.all(pending);
  agent?.destroy();

  const latencies = outcomes
    .filter((o) => o.kind === 'ok')
    .map((o) => o.latencyMs)
    .sort((a, b) => a - b);
  const counts: Record<Kind, number> = { ok: 0, wrong: 0, refused: 0, failed: 0 };
  for (const o of outcomes) counts[o.kind]++;
  return {
    sent,
    counts,
    latencyMs: {
      p50: percentile(latencies, 50),
      p90: percentile(latencies, 90),
      p99: percentile(latencies, 99),
      max: latencies.at(-1) ?? 0,
    },
    outcomes,
    problems: outcomes
      .filter((o) => o.kind === 'failed' || o.kind === 'wrong')
      .slice(0, 10)
      .map((o) => `${o.kind} at ${o.second}s: ${o.detail}`),
  };
}

function send(
  options: LoadOptions,
  agent: Agent | undefined,
  item: LoadRequest,
  scheduled: number,
  start: number,
): Promise<Outcome> {
  const second = Math.floor((scheduled - start) / 1000);
  const url = new URL(`${item.path}?timeout=10s`, options.url);
  return new Promise((resolve) => {
    let connected = false;
    let serial: string | undefined;
    const finish = (kind: Kind, detail?: string) =>
      resolve({
        kind,
        second,
        latencyMs: performance.now() - scheduled,
        ...(serial ? { serial } : {}),
        ...(detail ? { detail } : {}),
      });
    const request = httpsRequest(
      url,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(item.body) },
        ...(agent ? { agent } : { agent: false, ca: options.ca }),
        ...(options.servername ? { servername: options.servername } : {}),
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', (error) => finish('failed', `answer cut: ${error.message}`));
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          if (response.statusCode !== 200)
            return finish('failed', `${response.statusCode} ${text.slice(0, 200)}`);
          let reply: unknown;
          try {
            reply = JSON.parse(text);
          } catch {
            return finish('wrong', `not JSON: ${text.slice(0, 200)}`);
          }
          if (!isDeepStrictEqual(reply, item.expected))
            return finish('wrong', `${item.path}: ${text.slice(0, 200)}`);
          finish('ok');
        });
      },
    );
    request.on('socket', (socket) => {
      const tls = socket as TLSSocket;
      const secured = () => {
        connected = true;
        serial = tls.getPeerCertificate()?.serialNumber;
      };
      // A reused keep-alive connection is set up already.
      if (tls.encrypted && !tls.connecting && tls.authorized) secured();
      else tls.once('secureConnect', secured);
    });
    request.on('error', (error: NodeJS.ErrnoException) => {
      // Never accepted (refused, or cut before TLS was up): the server never had this review.
      if (!connected) finish('refused', error.code ?? error.message);
      else finish('failed', `${error.code ?? ''} ${error.message}`);
    });
    request.end(item.body);
  });
}
