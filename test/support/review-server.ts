// A plain node:http server that answers reviews for every function through handleReview,
// with telemetry started as a runtime entry point starts it: the process the telemetry tests
// scrape and trace. Prints one JSON line on stdout: {"url": ..., "metricsUrl": ...}.
//
//   node test/support/review-server.ts        POST <url>/<function>?timeout=10s
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { functions } from '../../functions/index.ts';
import { shutdownTelemetry, startTelemetry } from '../../runtimes/telemetry.ts';
import { loadConfig } from '../../shared/config.ts';
import { errorAnswer, handleReview } from '../../shared/handle.ts';
import { requestInfoOf } from '../../shared/request-info.ts';
import type { LoadedMutation } from '../../shared/runner.ts';

const telemetry = await startTelemetry({ serviceName: process.env.SERVICE_NAME ?? 'faas-admission' });
const loaded = new Map<string, LoadedMutation>(
  [...functions].map(([name, mutation]) => [name, { mutation, config: loadConfig(mutation) }]),
);

const server = createServer((request, response) => {
  const receivedAt = performance.now();
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    const fn = loaded.get(request.url?.split('?')[0]?.slice(1) ?? '');
    const answer = fn
      ? handleReview(fn, Buffer.concat(chunks).toString('utf8'), requestInfoOf(request, receivedAt))
      : errorAnswer(404, 'no such function');
    response
      .writeHead(answer.status, { 'content-type': 'application/json' })
      .end(JSON.stringify(answer.body));
  });
});

server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(
    `${JSON.stringify({ url: `http://127.0.0.1:${port}`, metricsUrl: telemetry.metricsUrl })}\n`,
  );
});

process.once('SIGTERM', () => {
  server.close(async () => {
    await shutdownTelemetry();
    process.exit(0);
  });
  server.closeIdleConnections();
});
