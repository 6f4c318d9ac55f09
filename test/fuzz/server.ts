// The HTTP leg of the fuzz run: the real standalone HTTPS server (runtimes/standalone.ts), one
// per environment, started in this process on loopback ports, and a keep-alive client that
// trusts its development CA and posts bodies as the apiserver does.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type StandaloneServer, startStandalone } from '../../runtimes/standalone.ts';
import type { HttpAnswer } from '../../shared/http-answer.ts';

interface Served {
  name: string;
  /** Which environment's server answers. */
  variant: number;
}

export interface FuzzServers {
  send(target: Served, body: string): Promise<HttpAnswer>;
  /** Stops the servers; returns the errors they logged (a handler that threw, a late answer). */
  close(): Promise<string[]>;
}

// A review that is not answered in this time is a hang, not a slow answer.
const ANSWER_WITHIN_MS = 10_000;

export async function startFuzzServers(
  environments: readonly Record<string, string>[],
): Promise<FuzzServers> {
  const certs = mkdtempSync(join(tmpdir(), 'faas-admission-fuzz-certs-'));
  const errors: string[] = [];
  const log = { info: () => {}, error: (message: string) => void errors.push(message) };
  const servers: StandaloneServer[] = [];
  try {
    for (const env of environments) {
      servers.push(
        await startStandalone({
          env: { ...env, HOST: '127.0.0.1', PORT: '0', DEV_CERTS_DIR: certs },
          log,
          announce: false,
          handleSignals: false,
        }),
      );
    }
  } catch (error) {
    await Promise.all(servers.map((s) => s.stop()));
    rmSync(certs, { recursive: true, force: true });
    throw error;
  }
  const ca = readFileSync(servers[0]?.caFile ?? '');
  const agent = new Agent({ ca, keepAlive: true, maxSockets: 32 });

  return {
    send(target, body) {
      const server = servers[target.variant] as StandaloneServer;
      const url = new URL(`/${target.name}?timeout=10s`, server.url);
      return new Promise((resolve, reject) => {
        const call = request(
          url,
          {
            method: 'POST',
            agent,
            headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
            timeout: ANSWER_WITHIN_MS,
          },
          (response) => {
            const chunks: Buffer[] = [];
            response.on('data', (chunk: Buffer) => chunks.push(chunk));
            response.on('end', () => {
              const type = response.headers['content-type'];
              if (!type?.startsWith('application/json')) return reject(new Error(`content-type ${type}`));
              try {
                const text = Buffer.concat(chunks).toString('utf8');
                resolve({ status: response.statusCode ?? 0, body: JSON.parse(text) });
              } catch (error) {
                reject(error);
              }
            });
          },
        );
        call.on('timeout', () => call.destroy(new Error(`no answer within ${ANSWER_WITHIN_MS} ms`)));
        call.on('error', reject);
        call.end(body);
      });
    },
    async close() {
      agent.destroy();
      await Promise.all(servers.map((s) => s.stop()));
      rmSync(certs, { recursive: true, force: true });
      return errors;
    },
  };
}
