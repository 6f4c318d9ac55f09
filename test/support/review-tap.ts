// A pass-through HTTPS endpoint between the apiserver and a function that keeps a copy of every
// AdmissionReview and its reply, byte for byte as they crossed: the end-to-end suite judges the
// same replies with admission-check and compares with what the apiserver stored. Path, query
// (`?timeout=`), content type and status pass unchanged; the serving certificate is the
// function's own, so the webhooks' caBundle is the same with or without the tap.
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { Agent, createServer, request, type Server } from 'node:https';

export interface TappedReview {
  /** When the review arrived (performance.now(), comparable across taps of one process). */
  readonly at: number;
  /** Path and query as the apiserver sent them: `/volume-extension?timeout=5s`. */
  readonly path: string;
  readonly status: number;
  readonly review: Record<string, unknown>;
  readonly reply: Record<string, unknown> | undefined;
}

export interface ReviewTap {
  /** https://127.0.0.1:PORT: the base URL to register instead of the function's. */
  readonly url: string;
  readonly reviews: TappedReview[];
  stop(): Promise<void>;
}

export interface TapOptions {
  /** The function's base URL (its path is kept from the request). */
  readonly target: string;
  /** CA the function's certificate is signed by (PEM). */
  readonly targetCa: string;
  /** Certificate and key the tap serves: the function's own files. */
  readonly certFile: string;
  readonly keyFile: string;
}

/** What serves a function over TLS: its URL, the CA its certificate is signed by, its files. */
export interface ServedOverTls {
  url: string;
  caPem: string;
  certFile: string;
  keyFile: string;
}

/** A tap in front of `served`, serving its certificate. */
export function tapInFront(served: ServedOverTls): Promise<ReviewTap> {
  return startReviewTap({
    target: served.url,
    targetCa: served.caPem,
    certFile: served.certFile,
    keyFile: served.keyFile,
  });
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function parsed(body: Buffer): Record<string, unknown> | undefined {
  try {
    return JSON.parse(body.toString('utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

export async function startReviewTap(options: TapOptions): Promise<ReviewTap> {
  const target = new URL(options.target);
  const agent = new Agent({ keepAlive: true, ca: options.targetCa, maxSockets: 64 });
  const reviews: TappedReview[] = [];
  const server: Server = createServer(
    { cert: readFileSync(options.certFile), key: readFileSync(options.keyFile) },
    async (req, res) => {
      const at = performance.now();
      const body = await readAll(req);
      const forwarded = request(
        {
          agent,
          host: target.hostname,
          port: target.port,
          servername: target.hostname === '127.0.0.1' ? undefined : target.hostname,
          method: req.method,
          path: `${target.pathname.replace(/\/$/, '')}${req.url ?? '/'}`,
          headers: { ...req.headers, host: target.host },
        },
        async (upstream) => {
          const answer = await readAll(upstream);
          const review = parsed(body);
          if (review)
            reviews.push({
              at,
              path: req.url ?? '',
              status: upstream.statusCode ?? 0,
              review,
              reply: parsed(answer),
            });
          res.writeHead(upstream.statusCode ?? 502, {
            'content-type': upstream.headers['content-type'] ?? 'application/json',
          });
          res.end(answer);
        },
      );
      // The function is down: the apiserver sees a dropped connection, as it would without the tap.
      forwarded.on('error', () => res.destroy());
      forwarded.end(body);
    },
  );
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('tap: no port');
  return {
    url: `https://127.0.0.1:${address.port}`,
    reviews,
    async stop() {
      server.closeAllConnections();
      server.close();
      agent.destroy();
    },
  };
}
