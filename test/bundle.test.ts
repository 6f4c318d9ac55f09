// The bundle deployed instances run (dist/server/, scripts/bundle.ts): it loads only the
// function it serves, imports no built-in module as an ES module, and its telemetry still
// exports: spans and metrics reach a real OTLP/HTTP receiver from the image's command (Node's
// HTTP server) and from npm start under faas-js-runtime, and Prometheus scrapes it.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { functions } from '../functions/index.ts';
import { functionLoaders } from '../functions/registry.ts';
import { bundle } from '../scripts/bundle.ts';
import { ATTR } from '../shared/telemetry/observe.ts';
import { projectRoot } from './support/apiserver.ts';
import { imageNodeFlags } from './support/image-command.ts';
import { SPAN_KIND_SERVER, startOtlpReceiver } from './support/otlp-receiver.ts';
import { startServer } from './support/process.ts';
import { sample } from './support/reviews.ts';

const server = join(projectRoot, 'dist', 'server');
const review = JSON.stringify(sample('knative-pod-volumes.json'));

describe('the function registry', () => {
  it('files each function under its own name', async () => {
    for (const [name, load] of functionLoaders) assert.equal((await load()).name, name);
  });

  it('is what functions/index.ts loads, in its order', async () => {
    assert.deepEqual([...functions.keys()], [...functionLoaders.keys()]);
    for (const [name, load] of functionLoaders) assert.equal(await load(), functions.get(name), name);
  });
});

describe('the bundle in dist/server/', () => {
  before(async () => {
    await bundle();
  });

  it('requires built-in modules: an ES import of node:http would load Node’s fetch at every start', () => {
    const files = readdirSync(server, { recursive: true, encoding: 'utf8' }).filter((f) =>
      f.endsWith('.mjs'),
    );
    assert.ok(files.length > 10, files.join(', '));
    for (const file of files) {
      const text = readFileSync(join(server, file), 'utf8');
      // Static imports only: a dynamic import() of a built-in stays one, run when needed.
      const staticImports = text.match(
        /(?:^|[;\n])import\s*[^(;]*?from\s*"(?:node:)?(?:http|https|net|tls)"/g,
      );
      assert.equal(staticImports, null, `${file}: ${staticImports?.join(' ')}`);
    }
  });

  it('keeps each function in its own chunk, loaded when FUNCTION names it', () => {
    const entry = readFileSync(join(server, 'image.mjs'), 'utf8');
    const chunks = readdirSync(join(server, 'chunks'));
    // A distinctive string of one function's code, found in exactly one chunk, not the entry.
    const marker = 'Merges the node selector written in a pod annotation into spec.nodeSelector';
    const holding = chunks.filter((c) => readFileSync(join(server, 'chunks', c), 'utf8').includes(marker));
    assert.equal(holding.length, 1, holding.join(', '));
    assert.ok(!entry.includes(marker));
  });

  it('serves one function without loading the others’ code', async () => {
    // Every file the process loads, written down by a module hook loaded before the entry.
    const dir = mkdtempSync(join(tmpdir(), 'bundle-loads-'));
    const list = join(dir, 'loaded.txt');
    const hook = join(dir, 'hook.mjs');
    writeFileSync(
      hook,
      `import { registerHooks } from 'node:module';
import { appendFileSync } from 'node:fs';
registerHooks({ load(url, context, next) { appendFileSync(${JSON.stringify(list)}, url + '\\n'); return next(url, context); } });
`,
    );
    const running = await startServer(
      process.execPath,
      ['--import', hook, join(server, 'image.mjs')],
      { FUNCTION: 'volume-extension', HOST: '127.0.0.1', PORT: '0' },
      /volume-extension: listening on port (\d+)/,
    );
    await running.stop();
    const loaded = readFileSync(list, 'utf8')
      .split('\n')
      .filter((url) => url.startsWith('file:'));
    rmSync(dir, { recursive: true, force: true });
    const marker = 'Merges the node selector written in a pod annotation into spec.nodeSelector';
    assert.ok(loaded.length > 5, loaded.join('\n'));
    assert.deepEqual(
      loaded.filter((url) => readFileSync(fileURLToPath(url), 'utf8').includes(marker)),
      [],
    );
  });

  for (const [runtime, entry, env, listening] of [
    ['the image’s command', 'image.mjs', {}, /volume-extension: listening on port (\d+)/],
    [
      'npm start under faas-js-runtime',
      'main.mjs',
      { FUNCTION_SERVER: 'faas-js-runtime', FUNC_PORT: '0' },
      /volume-extension: faas-js-runtime listening on port (\d+)/,
    ],
  ] as const) {
    describe(`${runtime}: telemetry`, () => {
      let receiver: Awaited<ReturnType<typeof startOtlpReceiver>>;
      let running: Awaited<ReturnType<typeof startServer>>;
      before(async () => {
        receiver = await startOtlpReceiver();
        running = await startServer(
          process.execPath,
          [...imageNodeFlags(), join(server, entry)],
          {
            FUNCTION: 'volume-extension',
            HOST: '127.0.0.1',
            PORT: '0',
            ...env,
            OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
            OTEL_BSP_SCHEDULE_DELAY: '50',
            OTEL_METRIC_EXPORT_INTERVAL: '200',
          },
          listening,
        );
      });
      after(async () => {
        await running?.stop();
        await receiver?.close();
      });

      it('exports the span of a review over OTLP, continuing the traceparent', async () => {
        const traceId = randomBytes(16).toString('hex');
        const parent = randomBytes(8).toString('hex');
        const reply = await fetch(`http://127.0.0.1:${running.port}/?timeout=5s`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', traceparent: `00-${traceId}-${parent}-01` },
          body: review,
        });
        assert.equal(reply.status, 200);
        const spans = await receiver.waitFor((s) => s.some((span) => span.traceId === traceId));
        const span = spans.find((s) => s.traceId === traceId);
        assert.equal(span?.parentSpanId, parent);
        assert.equal(span?.kind, SPAN_KIND_SERVER);
        assert.equal(span?.name, 'admission volume-extension');
        assert.equal(span?.resource['service.name'], 'volume-extension');
        assert.equal(span?.attributes[ATTR.outcome], 'patched');
      });

      it('exports the metrics over OTLP and serves them to Prometheus', async () => {
        const deadline = Date.now() + 10_000;
        while (!receiver.metricExports.some((e) => e.body.includes('admission.review.duration'))) {
          assert.ok(Date.now() < deadline, 'no OTLP metric export with admission.review.duration');
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        const url = /"metrics_url":"([^"]+)"/.exec(running.output())?.[1];
        assert.ok(url, running.output());
        const scraped = await (await fetch(url)).text();
        assert.match(scraped, /admission_reviews_total\{[^}]*function="volume-extension"/);
      });
    });
  }
});
