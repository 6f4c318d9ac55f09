// Settings of the HTTP(S) servers, read once at start from the environment (variables in
// CONSTANT_CASE, as for the functions' own configuration). A bad value stops the server at
// start with a message naming the variable.
import { z } from 'zod';
import { parseDuration } from '../shared/request-info.ts';

const MiB = 1024 * 1024;
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

/** A duration in Go's notation (`10s`, `1m`, `500ms`) or seconds, as milliseconds. */
const duration = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((text, ctx) => {
      const seconds = parseDuration(text);
      if (seconds === undefined || seconds <= 0) {
        ctx.addIssue({ code: 'custom', message: `"${text}" is not a duration (write 10s, 1m or 500ms)` });
        return z.NEVER;
      }
      return Math.round(seconds * 1000);
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

/** The settings every server reads; each runtime adds its own and chooses the defaults. */
export function serverSettingsShape(defaults: { host: string; port: number }) {
  return {
    host: z.string().min(1).default(defaults.host).describe('address to listen on'),
    port: port(defaults.port).describe('port to listen on (0: any free port)'),
    bodyLimit: byteSize('3Mi').describe(
      'largest request body accepted (larger: 413); an UPDATE review carries the object twice',
    ),
    headersTimeout: duration('10s').describe('time a client has to send the request headers (then 408)'),
    requestTimeout: duration('30s').describe(
      'time a client has to send the whole request, body included (then 408); the apiserver waits 30s at most',
    ),
    // Longer than the 90 s Go's HTTP client keeps an idle connection: the apiserver reuses
    // its connections, and a server that closes one first can race a request on it, which
    // the apiserver cannot retry (a POST) and answers with the failurePolicy.
    keepAliveTimeout: duration('95s').describe('how long an idle keep-alive connection stays open'),
    shutdownTimeout: duration('25s').describe(
      'on SIGTERM, how long requests already received may take to finish before connections are cut',
    ),
  };
}

export interface ServerSettings {
  host: string;
  port: number;
  bodyLimit: number;
  headersTimeout: number;
  requestTimeout: number;
  keepAliveTimeout: number;
  shutdownTimeout: number;
}
