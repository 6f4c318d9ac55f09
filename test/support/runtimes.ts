// Running the real entry points as child processes (as `npm run serve` or the OpenFaaS image
// runs them), and calling them over HTTP(S) with nothing trusted but what a test hands in.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import {
  type ClientRequest,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
} from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PeerCertificate, TLSSocket } from 'node:tls';
import { projectRoot } from './apiserver.ts';
import { TEST_METRICS_ENV } from './process.ts';

export interface RunningEntry {
  child: ChildProcess;
  /** The URL the entry said it listens on. */
  url: string;
  stdout(): string;
  stderr(): string;
  /** Resolves when `pattern` shows up in the output (already there counts), or rejects after `timeoutMs`. */
  waitFor(pattern: RegExp, stream?: 'stdout' | 'stderr', timeoutMs?: number): Promise<RegExpMatchArray>;
  /** The exit code, once the process has ended. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM, then the exit. */
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Starts `node [nodeArgs] <entry>` in the project root with only PATH, the test metrics address
 * and `env` set, and waits for the line announcing its URL (matched by `urlPattern`'s first group on `stream`).
 */
export async function startEntry(
  entry: string,
  env: Record<string, string>,
  urlPattern: RegExp,
  stream: 'stdout' | 'stderr',
  nodeArgs: string[] = [],
): Promise<RunningEntry> {
  const child = spawn(process.execPath, [...nodeArgs, entry], {
    cwd: projectRoot,
    env: { PATH: process.env.PATH ?? '', ...TEST_METRICS_ENV, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = { stdout: '', stderr: '' };
  const waiters: (() => void)[] = [];
  for (const name of ['stdout', 'stderr'] as const) {
    child[name]?.setEncoding('utf8').on('data', (text: string) => {
      output[name] += text;
      for (const wake of waiters.splice(0)) wake();
    });
  }
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => {
      resolve({ code, signal });
      for (const wake of waiters.splice(0)) wake();
    }),
  );
  let ended = false;
  void exited.then(() => {
    ended = true;
  });

  const waitFor = (pattern: RegExp, on: 'stdout' | 'stderr' = 'stderr', timeoutMs = 15_000) =>
    new Promise<RegExpMatchArray>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${entry}: no ${pattern} on ${on} within ${timeoutMs} ms:\n${output[on]}`)),
        timeoutMs,
      );
      const look = () => {
        const match = output[on].match(pattern);
        if (match) {
          clearTimeout(timer);
          resolve(match);
        } else if (ended) {
          clearTimeout(timer);
          reject(new Error(`${entry} exited before ${pattern}:\n${output.stdout}\n${output.stderr}`));
        } else waiters.push(look);
      };
      look();
    });

  // A start that never reports its URL must not outlive the test: an unstopped child keeps the
  // runner's event loop (and the suite) waiting forever.
  const url = (
    await waitFor(urlPattern, stream).catch((error: unknown) => {
      if (!ended) child.kill('SIGKILL');
      throw error;
    })
  )[1] as string;
  return {
    child,
    url,
    stdout: () => output.stdout,
    stderr: () => output.stderr,
    waitFor,
    exited,
    stop: async () => {
      if (!ended) child.kill('SIGTERM');
      return exited;
    },
  };
}

/** Runs an entry to its end (a CLI, or a start that fails): exit code and output. */
export async function runEntry(entry: string, env: Record<string, string>, args: string[] = []) {
  const child = spawn(process.execPath, [entry, ...args], {
    cwd: projectRoot,
    env: { PATH: process.env.PATH ?? '', ...TEST_METRICS_ENV, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => {
    stdout += text;
  });
  child.stderr.setEncoding('utf8').on('data', (text: string) => {
    stderr += text;
  });
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr };
}

export const STANDALONE = 'runtimes/standalone.ts';
export const OPENFAAS = 'runtimes/openfaas.ts';
/** The standalone server's announcement: `... on https://127.0.0.1:PORT`. */
export const STANDALONE_URL = /serving over HTTPS \(TLS 1\.2\+\) on (https:\/\/\S+)/;
export const OPENFAAS_URL = /openfaas: serving .* on (http:\/\/\S+)/;

/** A fresh directory, removed by the returned function. */
export function temporaryDirectory(prefix: string): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), `faas-admission-${prefix}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  // biome-ignore lint/suspicious/noExplicitAny: replies in tests are inspected freely
  json: any;
  /** The server's certificate (HTTPS only). */
  certificate?: PeerCertificate;
}

export interface CallOptions {
  method?: string;
  body?: string | Buffer;
  headers?: Record<string, string | number>;
  /** The only CA trusted (HTTPS); without it, the system's trust store. */
  ca?: string;
  /** TLS server name to send and check, when not the URL's host. */
  servername?: string;
}

/** One request on a new connection (so each HTTPS call makes its own handshake). */
export function call(url: string, options: CallOptions = {}): Promise<Reply> {
  const target = new URL(url);
  const secure = target.protocol === 'https:';
  const send = secure ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const request = send(
      target,
      {
        method: options.method ?? 'GET',
        headers: options.headers ?? {},
        agent: false,
        ...(secure && options.ca !== undefined ? { ca: options.ca } : {}),
        ...(secure && options.servername !== undefined ? { servername: options.servername } : {}),
      },
      (response) => {
        const certificate = secure ? (response.socket as TLSSocket).getPeerCertificate() : undefined;
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', reject);
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            text,
            json,
            ...(certificate ? { certificate } : {}),
          });
        });
      },
    );
    request.on('error', reject);
    request.end(options.body);
  });
}

/** POSTs a review as the apiserver does (JSON, `?timeout=10s`). */
export function postReview(url: string, review: unknown, ca?: string): Promise<Reply> {
  return call(`${url}?timeout=10s`, {
    method: 'POST',
    body: JSON.stringify(review),
    headers: { 'Content-Type': 'application/json' },
    ...(ca === undefined ? {} : { ca }),
  });
}

export interface HalfSentAnswer {
  status: number;
  connection: string | undefined;
  json: unknown;
}

/**
 * Starts a review that the server has provably received (its headers were answered with
 * 100 Continue) and of which only half the body is sent; `finish` sends the rest.
 */
export function halfSent(
  url: string,
  body: string,
  ca: string | undefined,
): Promise<{ finish(): Promise<HalfSentAnswer> }> {
  const target = new URL(`${url}?timeout=10s`);
  const bytes = Buffer.from(body);
  return new Promise((resolve, reject) => {
    const options = {
      method: 'POST',
      agent: false as const,
      headers: { 'Content-Type': 'application/json', 'Content-Length': bytes.length, Expect: '100-continue' },
      ...(ca ? { ca } : {}),
    };
    let answered: (response: IncomingMessage) => void = () => {};
    const response = new Promise<IncomingMessage>((resolveResponse) => {
      answered = resolveResponse;
    });
    const request: ClientRequest = (target.protocol === 'https:' ? httpsRequest : httpRequest)(
      target,
      options,
      (incoming) => answered(incoming),
    );
    request.on('error', reject);
    request.on('continue', () => {
      request.write(bytes.subarray(0, bytes.length / 2));
      resolve({
        finish: async () => {
          request.end(bytes.subarray(bytes.length / 2));
          const incoming = await response;
          const chunks: Buffer[] = [];
          for await (const chunk of incoming) chunks.push(chunk as Buffer);
          return {
            status: incoming.statusCode ?? 0,
            connection: incoming.headers.connection,
            json: JSON.parse(Buffer.concat(chunks).toString('utf8')),
          };
        },
      });
    });
  });
}
