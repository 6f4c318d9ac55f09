// What a runtime knows about a request beyond its body. A plain object, so that every runtime
// (faas-js-runtime, OpenFaaS, standalone HTTPS) can fill it and telemetry can read it. Every
// field is optional: a caller without HTTP (the CLI, tests) passes nothing and gets defaults.
export type HeaderValues = Readonly<Record<string, string | readonly string[] | undefined>>;

export interface RequestInfo {
  /** How long the apiserver waits for the answer, in milliseconds (from `?timeout=10s`). */
  readonly timeoutMs?: number;
  /** Request headers, lower-case names: `traceparent`/`tracestate` continue the caller's trace. */
  readonly headers?: HeaderValues;
  /** `performance.now()` when the request arrived; default: when serveReview was called. */
  readonly receivedAt?: number;
  /** Bytes of the request body, when the transport knows them (default: `content-length`). */
  readonly bodySize?: number;
  /**
   * The path the caller posted to (`/sidecar-injection/namespace`): a webhook entry's own
   * `clientConfig` path. Behind the TLS proxy, where faas-js-runtime serves only `/`, nginx
   * passes it in the X-Webhook-Path header.
   */
  readonly path?: string;
}

/** The header the TLS proxy passes the webhook's path in (faas-js-runtime serves only `/`). */
export const WEBHOOK_PATH_HEADER = 'x-webhook-path';

const ENTRY = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/**
 * The registration entry a review was sent on, from a path `/<function>/<entry>` (see
 * webhookPath in scripts/manifests/settings.ts); undefined for `/<function>`, `/` or anything else.
 */
export function webhookEntry(path: string | undefined, functionName: string): string | undefined {
  const prefix = `/${functionName}/`;
  if (!path?.startsWith(prefix)) return undefined;
  const entry = path.slice(prefix.length);
  return ENTRY.test(entry) ? entry : undefined;
}

const MS_PER_UNIT: Record<string, number> = {
  h: 3_600_000,
  m: 60_000,
  s: 1000,
  ms: 1,
  us: 1e-3,
  µs: 1e-3,
  ns: 1e-6,
};

// One `<number><unit>` step of a Go duration; `ms` is tried before `m`, `s`.
const DURATION_PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|h|m|s)/y;

/**
 * Reads the `timeout` query parameter kube-apiserver appends to a webhook's URL. It is a Go
 * duration, in practice whole seconds (`10s`, rounded up from the time left), in general
 * `1m30s`, `1.5s`, `500ms`. Undefined when absent or not a duration: the parameter only
 * informs, so a strange one must never cost an admission.
 */
export function parseApiserverTimeout(value: unknown): number | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  let total = 0;
  DURATION_PART.lastIndex = 0;
  while (DURATION_PART.lastIndex < value.length) {
    const match = DURATION_PART.exec(value);
    if (!match) return undefined;
    total += Number(match[1]) * (MS_PER_UNIT[match[2] as string] as number);
  }
  return total;
}

/** The body size a transport reported, or its `content-length` header. */
export function bodySizeOf(info: RequestInfo): number | undefined {
  if (info.bodySize !== undefined) return info.bodySize;
  const header = info.headers?.['content-length'];
  if (header === undefined) return undefined;
  const value = Number(typeof header === 'string' ? header : header[0]);
  return Number.isInteger(value) && value >= 0 ? value : undefined;
}
