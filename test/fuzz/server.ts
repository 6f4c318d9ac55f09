// The HTTP leg of the fuzz run: a loopback server answering with handleReview, the contract
// every runtime serves, and a client that posts bodies to it as the apiserver does.
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type HttpAnswer, handleReview } from '../../shared/handle.ts';
import type { LoadedMutation } from '../../shared/runner.ts';

interface Served {
  name: string;
  variant: number;
  loaded: LoadedMutation;
}

export interface FuzzServer {
  send(target: Served, body: string): Promise<HttpAnswer>;
  close(): Promise<void>;
}

// A review that is not answered in this time is a hang, not a slow answer.
const ANSWER_WITHIN_MS = 10_000;

export async function startFuzzServer(served: readonly Served[]): Promise<FuzzServer> {
  const routes = new Map(served.map((s) => [`/${s.name}/${s.variant}`, s.loaded]));
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const loaded = routes.get(req.url?.split('?')[0] ?? '');
    let answer: HttpAnswer;
    try {
      answer = loaded
        ? handleReview(loaded, Buffer.concat(chunks).toString('utf8'))
        : { status: 404, body: { code: 404, message: `no function at ${req.url}` } };
    } catch (error) {
      answer = { status: 500, body: { code: 500, message: String((error as Error).stack ?? error) } };
    }
    res.writeHead(answer.status, { 'content-type': 'application/json' }).end(JSON.stringify(answer.body));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    async send(target, body) {
      const response = await fetch(`http://127.0.0.1:${port}/${target.name}/${target.variant}?timeout=10s`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        signal: AbortSignal.timeout(ANSWER_WITHIN_MS),
      });
      const type = response.headers.get('content-type');
      if (type !== 'application/json') throw new Error(`content-type ${type}`);
      return { status: response.status, body: (await response.json()) as HttpAnswer['body'] };
    },
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}
