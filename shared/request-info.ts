// What a transport knows about an HTTP request besides its body. Every field is optional:
// a caller without HTTP (the CLI, tests) passes nothing and gets the configured defaults.
import type { IncomingHttpHeaders } from 'node:http';

export type HeaderValues = Readonly<Record<string, string | readonly string[] | undefined>>;

export interface RequestInfo {
  /** Request headers with lower-case names: `traceparent`/`tracestate` continue the caller's trace. */
  readonly headers?: HeaderValues;
  /** The `timeout` query parameter kube-apiserver appends (`10s`): the review's time budget. */
  readonly timeout?: string | readonly string[] | undefined;
  /** `performance.now()` when the request arrived; default: when the review started. */
  readonly receivedAt?: number;
  /** Bytes of the request body, when the transport knows them (default: `content-length`). */
  readonly bodySize?: number;
}

/** The RequestInfo of a node:http request (its `?timeout=` and headers). */
export function requestInfoOf(
  request: { readonly url?: string | undefined; readonly headers: IncomingHttpHeaders },
  receivedAt?: number,
): RequestInfo {
  const query = request.url?.indexOf('?') ?? -1;
  const timeout =
    query < 0 ? undefined : (new URLSearchParams(request.url?.slice(query + 1)).get('timeout') ?? undefined);
  return { headers: request.headers, timeout, ...(receivedAt === undefined ? {} : { receivedAt }) };
}

/** The body size a transport reported, or its `content-length` header. */
export function bodySizeOf(info: RequestInfo): number | undefined {
  if (info.bodySize !== undefined) return info.bodySize;
  const header = info.headers?.['content-length'];
  const value = Number(typeof header === 'string' ? header : header?.[0]);
  return Number.isInteger(value) && value >= 0 && header !== undefined ? value : undefined;
}
