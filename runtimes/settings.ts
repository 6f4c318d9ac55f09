// Settings of the HTTP(S) servers, read once at start from the environment (variables in
// CONSTANT_CASE, as for the functions' own configuration). A bad value stops the server at
// start with a message naming the variable.
import * as z from 'zod';

const MiB = 1024 * 1024;

/**
 * kube-apiserver accepts request bodies up to 3 MiB, and an UPDATE review carries the object
 * and the stored old object (etcd keeps at most 1.5 MiB) in one envelope: 8 MiB leaves room.
 */
export const BODY_LIMIT = 8 * MiB;
const UNITS: Record<string, number> = { '': 1, Ki: 1024, Mi: MiB, Gi: 1024 * MiB };

/** Bytes, as a plain number or with a binary unit: `3145728`, `3Mi`, `3MiB`, `512Ki`. */
export function parseByteSize(text: string): number | undefined {
  const match = /^(\d+)(?:(Ki|Mi|Gi)B?)?$/.exec(text.trim());
  if (!match) return undefined;
  return Number(match[1]) * (UNITS[match[2] ?? ''] ?? Number.NaN);
}

const byteSize = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((text, ctx) => {
      const bytes = parseByteSize(text);
      if (bytes === undefined || bytes < 1) {
        ctx.addIssue({ code: 'custom', message: `"${text}" is not a size (write 3Mi, 512Ki or bytes)` });
        return z.NEVER;
      }
      return bytes;
    });

/** Seconds, whole or fractional (`10`, `0.5`). */
const seconds = (fallback: number) =>
  z
    .string()
    .default(String(fallback))
    .transform((text, ctx) => {
      const value = /^\d+(\.\d+)?$/.test(text.trim()) ? Number(text) : Number.NaN;
      if (!(value > 0)) {
        ctx.addIssue({ code: 'custom', message: `"${text}" is not a number of seconds above 0` });
        return z.NEVER;
      }
      return value;
    });

const port = (fallback: number) =>
  z
    .string()
    .default(String(fallback))
    .transform((text, ctx) => {
      const value = /^\d+$/.test(text.trim()) ? Number(text) : Number.NaN;
      if (!(value >= 0 && value <= 65535)) {
        ctx.addIssue({
          code: 'custom',
          message: `"${text}" is not a port number (0 to 65535; 0 picks a free one)`,
        });
        return z.NEVER;
      }
      return value;
    });

/**
 * Bytes of request bodies one process holds at once, by default: four bodies of the largest
 * size, or thousands of ordinary reviews. Four 8 MiB bodies with the process's own heap and
 * the review being answered (a few times its body size while parsed and patched) stay well
 * under the 512 MiB the deploy files give an instance; Knative's containerConcurrency is set
 * to the same four (scripts/manifests/knative.ts), so its queue-proxy holds the rest.
 */
export const IN_FLIGHT_BODY_LIMIT = 4 * BODY_LIMIT;

/** What every runtime reads to bound what a client can make it hold, and for how long. */
export function intakeSettingsShape() {
  return {
    headersTimeoutSeconds: seconds(10).describe('time a client has to send the request headers (then 408)'),
    requestTimeoutSeconds: seconds(30).describe(
      'time a client has to send the whole request, body included (then 408); the apiserver waits 30 s at most',
    ),
    bodyIdleTimeoutSeconds: seconds(5).describe(
      'time a request body may go without a byte arriving (then 408); the apiserver sends its body at once',
    ),
    inFlightBodyLimit: byteSize(String(IN_FLIGHT_BODY_LIMIT)).describe(
      'bytes of request bodies the process holds at once; a request past it is answered 503 with Retry-After',
    ),
    // Longer than the 90 s Go's HTTP client keeps an idle connection: the apiserver reuses
    // its connections, and a server that closes one first can race a request on it, which
    // the apiserver cannot retry (a POST) and answers with the failurePolicy.
    keepAliveTimeoutSeconds: seconds(95).describe('how long an idle keep-alive connection stays open'),
  };
}

export interface IntakeSettings {
  headersTimeoutSeconds: number;
  requestTimeoutSeconds: number;
  bodyIdleTimeoutSeconds: number;
  inFlightBodyLimit: number;
  keepAliveTimeoutSeconds: number;
}

/** The settings every server reads; each runtime adds its own and chooses the defaults. */
export function serverSettingsShape(defaults: { host: string; port: number }) {
  return {
    host: z.string().min(1).default(defaults.host).describe('address to listen on'),
    port: port(defaults.port).describe('port to listen on (0: any free port)'),
    bodyLimit: byteSize(String(BODY_LIMIT)).describe(
      'largest request body accepted (larger: 413); default 8 MiB, as FUNC_BODY_LIMIT under faas-js-runtime',
    ),
    ...intakeSettingsShape(),
    shutdownTimeoutSeconds: seconds(25).describe(
      'on SIGTERM, how long requests already received may take to finish before connections are cut',
    ),
  };
}

export interface ServerSettings extends IntakeSettings {
  host: string;
  port: number;
  bodyLimit: number;
  shutdownTimeoutSeconds: number;
}
