// The load and fault suite (`npm run load`): the standalone HTTPS server, a real process, under
// a sustained rate of reviews for every function, and the faults a webhook meets in a cluster
// while it serves: SIGTERM, certificates replaced, the OTLP collector gone. Every answer must be
// the function's own, and the figures are printed for the record.
//
//   LOAD_RATE (reviews/s, default 200)   LOAD_SECONDS (sustained phase, default 60)
import assert from 'node:assert/strict';
import { mkdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { before, describe, it, type TestContext } from 'node:test';
import {
  type CertificatePem,
  certificateFacts,
  issueCa,
  issueServingCertificate,
  serviceHosts,
} from '../../runtimes/tls/certificates.ts';
import { type HalfSentAnswer, halfSent, temporaryDirectory } from '../support/runtimes.ts';
import { type LoadReport, type LoadRequest, runLoad } from './generator.ts';
import { liveHeapMiB, loadRequests, median, residentMiB, startServer } from './support.ts';

const RATE = Number(process.env.LOAD_RATE ?? 200);
const SECONDS = Number(process.env.LOAD_SECONDS ?? 60);

let requests: LoadRequest[];
before(async () => {
  requests = await loadRequests();
});

function record(t: TestContext, name: string, report: LoadReport, extra = ''): void {
  const { counts, latencyMs: l } = report;
  t.diagnostic(
    `${name}: ${report.sent} sent, ${counts.ok} ok, ${counts.refused} refused, ${counts.failed} failed, ${counts.wrong} wrong; ` +
      `latency p50 ${l.p50.toFixed(1)} ms, p90 ${l.p90.toFixed(1)} ms, p99 ${l.p99.toFixed(1)} ms, max ${l.max.toFixed(1)} ms${extra}`,
  );
}

describe('sustained load', () => {
  it(`${RATE} reviews/s for ${SECONDS} s over kept-alive HTTPS: every answer right, memory flat`, async (t) => {
    const certs = temporaryDirectory('load-certs');
    const server = await startServer(certs.dir, {}, true);
    try {
      const pid = server.entry.child.pid as number;
      const base = {
        url: server.url,
        ca: server.ca,
        rate: RATE,
        requests,
        connections: 'keep-alive' as const,
      };
      // Warm-up (JIT, heap sizing, connection pool), not measured.
      const warm = await runLoad({ ...base, seconds: 5 });
      assert.deepEqual(warm.problems, []);

      const heapBefore = await liveHeapMiB(server.entry);
      const rss: number[] = [];
      const report = await runLoad({
        ...base,
        seconds: SECONDS,
        everySecond: () => void rss.push(residentMiB(pid) ?? Number.NaN),
      });
      rss.push(residentMiB(pid) ?? Number.NaN);
      const heapAfter = await liveHeapMiB(server.entry);
      const first = median(rss.slice(0, 10));
      const last = median(rss.slice(-10));
      record(
        t,
        'sustained',
        report,
        `; live heap after a full GC ${heapBefore.toFixed(1)} MiB before, ${heapAfter.toFixed(1)} MiB after; server RSS median first 10 s ${first.toFixed(1)} MiB, last 10 s ${last.toFixed(1)} MiB (every 10 s: ${rss
          .filter((_, i) => i % 10 === 0)
          .map((m) => m.toFixed(0))
          .join(' ')})`,
      );
      assert.deepEqual(report.problems, []);
      assert.equal(report.counts.ok, report.sent, JSON.stringify(report.counts));
      assert.equal(report.sent, RATE * SECONDS);
      // Flat: what the server keeps after a full collection. 12,000 reviews leaving 300 bytes
      // each behind would add 3.4 MiB. The resident size follows the collector's sawtooth (tens
      // of MiB up, then down), so it is only bounded loosely, as a check on what is not heap.
      assert.ok(heapAfter - heapBefore <= 2, `live heap grew from ${heapBefore} to ${heapAfter} MiB`);
      assert.ok(
        last - first <= Math.max(48, first * 0.3),
        `resident memory grew from ${first} to ${last} MiB`,
      );
      assert.equal((await server.entry.stop()).code, 0);
    } finally {
      await server.entry.stop();
      certs.remove();
    }
  });
});

describe('faults under load', () => {
  it('SIGTERM: every review already received is answered, new connections are refused, exit 0', async (t) => {
    const certs = temporaryDirectory('sigterm-certs');
    const server = await startServer(certs.dir);
    try {
      const signalAt = 3;
      // Reviews the server has provably received (100 Continue) when the signal lands, one per
      // function, their bodies finished after it.
      let shutdown: Promise<{ answers: HalfSentAnswer[]; signalled: number }> | undefined;
      const inFlight = async () => {
        const pending = await Promise.all(
          requests.map((r) => halfSent(`${server.url}${r.path}`, r.body, server.ca)),
        );
        server.entry.child.kill('SIGTERM');
        const signalled = performance.now();
        return { answers: await Promise.all(pending.map((p) => p.finish())), signalled };
      };
      // Meanwhile a connection per review: each is either accepted (and must be answered) or refused.
      const report = await runLoad({
        url: server.url,
        ca: server.ca,
        rate: RATE / 2,
        seconds: 6,
        requests,
        connections: 'new',
        everySecond: (second) => {
          if (second === signalAt) shutdown = inFlight();
        },
      });
      const { answers } = await (shutdown as NonNullable<typeof shutdown>);
      const { code, signal } = await server.entry.exited;
      const afterSignal = report.outcomes.filter((o) => o.second >= signalAt);
      const answeredAfter = afterSignal.filter((o) => o.kind === 'ok').length;
      record(
        t,
        'SIGTERM',
        report,
        `; received before the signal and answered after it: ${answers.length}; from the signal on ${answeredAfter} answered, ${afterSignal.length - answeredAfter} refused; exit ${code}`,
      );
      answers.forEach((answer, i) => {
        assert.equal(answer.status, 200);
        assert.equal(answer.connection, 'close');
        assert.deepEqual(answer.json, requests[i]?.expected);
      });
      assert.deepEqual(report.problems, []);
      assert.equal(report.counts.failed + report.counts.wrong, 0);
      assert.ok(report.outcomes.filter((o) => o.second < signalAt).every((o) => o.kind === 'ok'));
      assert.ok(report.counts.refused > 0, 'the server stopped accepting');
      assert.deepEqual({ code, signal }, { code: 0, signal: null });
    } finally {
      await server.entry.stop();
      certs.remove();
    }
  });

  it('certificate files replaced: no review fails, the new certificate is served', async (t) => {
    const volume = temporaryDirectory('rotation');
    try {
      const ca = await issueCa({ commonName: 'load test CA', days: 30 });
      const hosts = serviceHosts('faas-admission', 'webhooks');
      // The kubelet's Secret volume: files are symlinks through `..data`, swapped atomically.
      let generation = 0;
      const project = (pair: CertificatePem) => {
        generation++;
        const data = join(volume.dir, `..generation-${generation}`);
        mkdirSync(data);
        writeFileSync(join(data, 'tls.crt'), pair.certificate);
        writeFileSync(join(data, 'tls.key'), pair.privateKey);
        symlinkSync(`..generation-${generation}`, join(volume.dir, '..data_tmp'));
        renameSync(join(volume.dir, '..data_tmp'), join(volume.dir, '..data'));
      };
      const first = await issueServingCertificate({ ca, hosts, days: 30 });
      const second = await issueServingCertificate({ ca, hosts, days: 30 });
      project(first);
      for (const name of ['tls.crt', 'tls.key']) symlinkSync(join('..data', name), join(volume.dir, name));

      const server = await startServer(volume.dir, {
        TLS_CERT_FILE: join(volume.dir, 'tls.crt'),
        TLS_KEY_FILE: join(volume.dir, 'tls.key'),
      });
      try {
        const rotateAt = 3;
        const seconds = 8;
        const report = await runLoad({
          url: server.url,
          ca: ca.certificate,
          servername: 'faas-admission.webhooks.svc',
          rate: RATE / 2,
          seconds,
          requests,
          connections: 'new',
          everySecond: (s) => {
            if (s !== rotateAt) return;
            project(second);
            rmSync(join(volume.dir, '..generation-1'), { recursive: true });
          },
        });
        const oldSerial = certificateFacts(first.certificate).serialNumber;
        const newSerial = certificateFacts(second.certificate).serialNumber;
        const during = report.outcomes.filter((o) => o.second >= rotateAt && o.second <= rotateAt + 1).length;
        record(
          t,
          'certificate rotation',
          report,
          `; ${during} reviews in the second of the swap and the next`,
        );
        assert.deepEqual(report.problems, []);
        assert.equal(report.counts.ok, report.sent, JSON.stringify(report.counts));
        const serials = (from: number, to: number) =>
          new Set(report.outcomes.filter((o) => o.second >= from && o.second < to).map((o) => o.serial));
        assert.deepEqual(serials(0, rotateAt), new Set([oldSerial]));
        assert.deepEqual(
          serials(seconds - 1, seconds),
          new Set([newSerial]),
          'the new certificate is served',
        );
        await server.entry.waitFor(new RegExp(`certificate reloaded: serial ${newSerial}`));
      } finally {
        await server.entry.stop();
      }
    } finally {
      volume.remove();
    }
  });

  it('OTLP collector unreachable or stalled: no review fails or slows down', async (t) => {
    const seconds = 10;
    const run = async (name: string, env: Record<string, string>) => {
      const certs = temporaryDirectory('otlp-certs');
      const server = await startServer(certs.dir, env);
      try {
        const report = await runLoad({
          url: server.url,
          ca: server.ca,
          rate: RATE,
          seconds,
          requests,
          connections: 'keep-alive',
        });
        record(t, name, report);
        assert.deepEqual(report.problems, [], name);
        assert.equal(report.counts.ok, report.sent, `${name}: ${JSON.stringify(report.counts)}`);
        return { report, output: () => server.entry.stdout() + server.entry.stderr() };
      } finally {
        await server.entry.stop();
        certs.remove();
      }
    };
    // Export often (every 200 ms for spans, 500 ms for metrics), so a blocking exporter could not hide.
    const eager = { OTEL_BSP_SCHEDULE_DELAY: '200', OTEL_METRIC_EXPORT_INTERVAL: '500' };

    const baseline = await run('no collector configured', {});
    const deadPort = await closedPort();
    const dead = await run('collector address refusing', {
      ...eager,
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${deadPort}`,
    });
    const held: ServerResponse[] = [];
    const stalledCollector = createServer((_request, response) => void held.push(response));
    await new Promise<void>((resolve) => stalledCollector.listen(0, '127.0.0.1', resolve));
    let stalled: Awaited<ReturnType<typeof run>>;
    try {
      stalled = await run('collector accepting, never answering', {
        ...eager,
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${(stalledCollector.address() as AddressInfo).port}`,
      });
    } finally {
      await closeServer(stalledCollector);
    }
    assert.ok(held.length > 0, 'the exporter reached the stalled collector');
    assert.match(dead.output(), /ECONNREFUSED/, 'the exporter tried the refusing address');
    // Not slowed: a review waiting on an export would wait out the exporter's 10 s timeout, and
    // most reviews would be late. The bounds leave room for a busy shared machine's hiccups.
    const p90 = baseline.report.latencyMs.p90;
    for (const { report } of [dead, stalled]) {
      assert.ok(report.latencyMs.p90 <= 2 * p90 + 20, `p90 ${report.latencyMs.p90} ms against ${p90} ms`);
      assert.ok(report.latencyMs.max < 5_000, `slowest review ${report.latencyMs.max} ms`);
    }
  });
});

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await closeServer(server);
  return port;
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
