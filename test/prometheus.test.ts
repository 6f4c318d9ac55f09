// A real Prometheus scrapes running functions (under faas-js-runtime, telemetry started by the
// entry point) after a known number of reviews; PromQL through its HTTP API returns the counts and a
// histogram_quantile. The same traffic goes to two standalone HTTPS servers: one scraped, one
// exporting OTLP only, whose exports are decoded and named as the OTLP-to-Prometheus translation
// names them (test/support/otlp-metrics.ts) and scraped by the same Prometheus as a job of its
// own. Every dashboard query runs on both paths; the alerting rules are loaded and made to fire.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { apiserverVerdicts, projectRoot } from './support/apiserver.ts';
import { postReview, type RunningFunction, type Sent, startFunction } from './support/function-process.ts';
import { exposition, type Series, translateMetricExport } from './support/otlp-metrics.ts';
import { startOtlpReceiver } from './support/otlp-receiver.ts';
import { type Prometheus, startPrometheus } from './support/prometheus.ts';
import { type Json, sample } from './support/reviews.ts';
import {
  call,
  type RunningEntry,
  STANDALONE,
  STANDALONE_URL,
  startEntry,
  temporaryDirectory,
} from './support/runtimes.ts';

const dashboard = JSON.parse(readFileSync(join(projectRoot, 'dashboards', 'admission-latency.json'), 'utf8'));

/** Every PromQL expression of the dashboard's panels, with the panel's title. */
function dashboardQueries(): { panel: string; expr: string }[] {
  return (dashboard.panels as Json[]).flatMap((panel) =>
    (panel.targets as Json[]).map((target) => ({
      panel: panel.title as string,
      expr: target.expr as string,
    })),
  );
}

/** What Grafana substitutes before sending a query, with "All" selected. */
function asGrafanaSends(expr: string, job = '.*'): string {
  return expr
    .replaceAll('$__rate_interval', '1m')
    .replaceAll('$__range', '5m')
    .replaceAll('$job', job)
    .replaceAll('$function', '.*')
    .replaceAll('$warn_fraction', '0.5');
}

describe('the Grafana dashboard', () => {
  it('takes its Prometheus from a datasource variable, in every panel and query', () => {
    const datasource = (dashboard.templating.list as Json[]).find((v) => v.type === 'datasource');
    assert.equal(datasource?.query, 'prometheus');
    for (const panel of dashboard.panels as Json[]) {
      assert.equal(panel.datasource?.uid, `\${${datasource.name}}`, panel.title);
      for (const target of panel.targets as Json[])
        assert.equal(target.datasource?.uid, panel.datasource.uid);
    }
    const ids = (dashboard.panels as Json[]).map((p) => p.id);
    assert.equal(new Set(ids).size, ids.length, 'panel ids are unique');
  });

  it('shows p50/p95/p99 per function against the budget, outcomes, denials and the budget fraction', () => {
    const latency = (dashboard.panels as Json[]).find((p) => p.repeat === 'function');
    assert.ok(latency, 'a latency panel repeated per function');
    const legends = (latency.targets as Json[]).map((t) => t.legendFormat);
    assert.deepEqual(legends.slice(0, 3), ['p50', 'p95', 'p99']);
    assert.ok(
      (latency.targets as Json[]).some((t) => /^max\(admission_budget_seconds\{/.test(t.expr)),
      'a budget line',
    );
    const exprs = dashboardQueries().map((q) => q.expr);
    assert.ok(exprs.some((e) => /by \(admission_outcome\) \(rate\(admission_reviews_total/.test(e)));
    assert.ok(exprs.some((e) => /admission_outcome=~"denied\|error"/.test(e)));
    assert.ok(exprs.some((e) => /admission_budget_used_ratio_bucket/.test(e)));
    assert.ok(exprs.some((e) => /admission_budget_warnings_total/.test(e)));
  });

  it('has a panel for HTTP answers by status, reviews in flight and the serving certificate', () => {
    const exprs = dashboardQueries().map((q) => q.expr);
    assert.ok(
      exprs.some((e) =>
        /by \(http_response_status_code\) \(rate\(http_server_request_duration_seconds_count/.test(e),
      ),
    );
    assert.ok(exprs.some((e) => /admission_reviews_in_flight/.test(e)));
    assert.ok(exprs.some((e) => /admission_tls_certificate_remaining_seconds/.test(e)));
  });
});

const VOLUMES = 12;
const BAD_VOLUMES = 5;
const SLOW = 3; // ?timeout=1ns: each answer uses far more than half of its budget
const MALFORMED = 2;
const NODE_SELECTOR = 4;
const TOTAL = VOLUMES + BAD_VOLUMES + SLOW + MALFORMED + NODE_SELECTOR;
/** The functions under faas-js-runtime are the scrape job `faas-admission`. */
const FN = '{job="faas-admission"}';

/** The outcome a reply stands for, as the metrics label it. */
function outcomeOf({ status, body }: Sent): string {
  if (status !== 200) return 'error';
  const response = (body as Json).response;
  if (!response.allowed) return 'denied';
  return response.patch ? 'patched' : 'allowed';
}

describe('Prometheus scraping running functions', () => {
  let functions: RunningFunction[] = [];
  let prometheus: Prometheus;
  let receiver: Awaited<ReturnType<typeof startOtlpReceiver>>;
  let scraped: RunningEntry;
  let exported: RunningEntry;
  let bridge: Server;
  const certs = temporaryDirectory('prometheus');
  const expected: Record<string, number> = {};

  before(async () => {
    // Each function in its own process under faas-js-runtime, as Knative runs them.
    functions = await Promise.all([
      startFunction('volume-extension', { OTEL_TRACES_EXPORTER: 'none' }),
      startFunction('node-selector', { OTEL_TRACES_EXPORTER: 'none' }),
    ]);
    const [volumeExtension, nodeSelector] = functions as [RunningFunction, RunningFunction];
    const judgements: { request: Json; reply: unknown }[] = [];
    const send = async (
      fn: string,
      url: string,
      request: Json | string,
      timeout: string | undefined,
      times: number,
    ) => {
      for (let i = 0; i < times; i++) {
        const sent = await postReview(url, request, timeout === undefined ? {} : { timeout });
        const key = `${fn} ${outcomeOf(sent)}`;
        expected[key] = (expected[key] ?? 0) + 1;
        if (sent.status === 200) judgements.push({ request, reply: sent.body });
      }
    };
    // The slow ones first: the budget gauge keeps the latest budget, 10 s.
    const volumes = sample('knative-pod-volumes.json');
    await send('volume-extension', volumeExtension.url, volumes, '1ns', SLOW);
    await send('volume-extension', volumeExtension.url, volumes, '10s', VOLUMES);
    await send(
      'volume-extension',
      volumeExtension.url,
      sample('knative-pod-bad-volumes.json'),
      '10s',
      BAD_VOLUMES,
    );
    await send('volume-extension', volumeExtension.url, '{"kind": "AdmissionReview"}', undefined, MALFORMED);
    await send(
      'node-selector',
      nodeSelector.url,
      sample('knative-pod-node-selector.json'),
      '5s',
      NODE_SELECTOR,
    );
    const verdicts = await apiserverVerdicts(judgements);
    assert.ok(verdicts.every((v) => v.accepted));
    assert.equal(expected['volume-extension error'], MALFORMED);
    assert.ok((expected['volume-extension denied'] ?? 0) >= BAD_VOLUMES, 'the bad volumes are denied');

    const targets = functions.map((f) => {
      assert.ok(f.metricsUrl, 'a function serves no metrics');
      return new URL(f.metricsUrl).host;
    });

    // The two paths, from standalone HTTPS servers (the one runtime with a serving certificate).
    receiver = await startOtlpReceiver();
    scraped = await startStandalone(certs.dir, {});
    exported = await startStandalone(certs.dir, {
      OTEL_METRICS_EXPORTER: 'otlp',
      OTEL_TRACES_EXPORTER: 'none',
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
      OTEL_METRIC_EXPORT_INTERVAL: '500',
      OTEL_SERVICE_NAME: OTLP_JOB,
    });
    const ca = readFileSync(join(certs.dir, 'ca.crt'), 'utf8');
    for (const server of [scraped, exported]) await sendStandaloneTraffic(server.url, ca);
    bridge = await serveTranslatedExports(() => receiver.metricExports.map((e) => e.body));

    const rules = join(certs.dir, 'admission-alerts.yaml');
    writeFileSync(rules, alertsFiringAtOnce());
    prometheus = await startPrometheus(targets, {
      ruleFiles: [rules],
      jobs: [
        { name: SCRAPE_JOB, targets: [new URL(metricsUrlOf(scraped)).host] },
        {
          name: 'otlp-bridge',
          targets: [`127.0.0.1:${(bridge.address() as AddressInfo).port}`],
          honorLabels: true,
        },
      ],
    });
  });

  after(async () => {
    await prometheus?.stop();
    await Promise.all(functions.map((f) => f.stop()));
    await Promise.all([scraped?.stop(), exported?.stop()]);
    await receiver?.close();
    bridge?.close();
    certs.remove();
  });

  it('counts every review, by function and outcome', async () => {
    await prometheus.waitFor(`sum(admission_reviews_total${FN})`, (s) => s[0]?.value === TOTAL);
    const byOutcome = await prometheus.query(
      `sum by (admission_function, admission_outcome) (admission_reviews_total${FN})`,
    );
    const counts = Object.fromEntries(
      byOutcome.map((s) => [`${s.metric.admission_function} ${s.metric.admission_outcome}`, s.value]),
    );
    assert.deepEqual(counts, expected);
    const [durations] = await prometheus.query(`sum(admission_review_duration_seconds_count${FN})`);
    assert.equal(durations?.value, TOTAL);
    const jobs = await prometheus.query(`count by (instance) (admission_reviews_total${FN})`);
    assert.equal(jobs.length, 2, 'both functions scraped');
  });

  it('answers histogram_quantile over the duration buckets', async () => {
    const quantile = async (q: number) => {
      const [result] = await prometheus.query(
        `histogram_quantile(${q}, sum by (le) (admission_review_duration_seconds_bucket{job="faas-admission", admission_function="volume-extension"}))`,
      );
      assert.ok(result, `no p${q * 100}`);
      return result.value;
    };
    const p50 = await quantile(0.5);
    const p99 = await quantile(0.99);
    assert.ok(Number.isFinite(p99) && p99 > 0 && p99 <= 30, `p99 ${p99} s`);
    assert.ok(p50 > 0 && p50 <= p99, `p50 ${p50} s, p99 ${p99} s`);
  });

  it('counts the answers over the warned fraction of their budget, and keeps the latest budget', async () => {
    const [warnings] = await prometheus.query(`sum(admission_budget_warnings_total${FN})`);
    assert.equal(warnings?.value, SLOW);
    const budgets = await prometheus.query(`admission_budget_seconds${FN}`);
    assert.deepEqual(Object.fromEntries(budgets.map((s) => [s.metric.admission_function, s.value])), {
      'volume-extension': 10,
      'node-selector': 5,
    });
    const [overBudget] = await prometheus.query(
      `sum(admission_budget_used_ratio_count${FN}) - sum(admission_budget_used_ratio_bucket{job="faas-admission", le="1"})`,
    );
    assert.equal(overBudget?.value, SLOW);
  });

  it('runs every dashboard query on both paths: scraped, and through OTLP', async () => {
    // rate() needs two samples in its window, on every job the queries run on.
    for (const job of [SCRAPE_JOB, OTLP_JOB, 'faas-admission']) {
      await prometheus.waitFor(
        `min(count_over_time(admission_reviews_total{job="${job}"}[1m]))`,
        (s) => (s[0]?.value ?? 0) >= 2,
      );
    }
    for (const job of [SCRAPE_JOB, OTLP_JOB]) {
      for (const { panel, expr } of dashboardQueries()) {
        const samples = await prometheus.query(asGrafanaSends(expr, job));
        assert.ok(samples.length > 0, `${job}: "${panel}": ${expr} returns no series`);
      }
    }
    // The functions under faas-js-runtime have no certificate of their own (nginx holds it).
    for (const { panel, expr } of dashboardQueries()) {
      if (/certificate/.test(expr)) continue;
      const samples = await prometheus.query(asGrafanaSends(expr, 'faas-admission'));
      assert.ok(samples.length > 0, `faas-admission: "${panel}": ${expr} returns no series`);
    }
  });

  it('names every series the same on both paths, with the unit and type suffixes', async () => {
    const scrapedNames = new Set(
      (await (await fetch(metricsUrlOf(scraped))).text())
        .split('\n')
        .filter((line) => line && !line.startsWith('#'))
        .map((line) => line.split(/[{ ]/)[0] as string)
        .filter((name) => name !== 'target_info'),
    );
    const translated = latestSeries(receiver.metricExports.map((e) => e.body));
    const exportedNames = new Set(translated.map((series) => series.name));
    assert.deepEqual([...scrapedNames].sort(), [...exportedNames].sort());
    for (const name of [
      'admission_review_duration_seconds_bucket',
      'admission_reviews_total',
      'admission_budget_used_ratio_bucket',
      'admission_budget_warnings_total',
      'admission_budget_seconds',
      'admission_reviews_in_flight',
      'admission_tls_certificate_remaining_seconds',
      'http_server_request_duration_seconds_bucket',
    ]) {
      assert.ok(scrapedNames.has(name), `${name} not among ${[...scrapedNames].join(', ')}`);
    }
  });

  it('counts the answers that never became a review by method and status, on both paths', async () => {
    for (const job of [SCRAPE_JOB, OTLP_JOB]) {
      const byStatus = await prometheus.waitFor(
        `sum by (http_request_method, http_response_status_code) (http_server_request_duration_seconds_count{job="${job}"})`,
        // The OTLP path's counts arrive with its next export, up to 500 ms after the traffic.
        (s) => s.length >= 4 && s.reduce((sum, { value }) => sum + value, 0) >= TOTAL_HTTP,
      );
      const counts = Object.fromEntries(
        byStatus.map((s) => [
          `${s.metric.http_request_method} ${s.metric.http_response_status_code}`,
          s.value,
        ]),
      );
      assert.equal(counts['POST 200'], STANDALONE_REVIEWS, job);
      assert.equal(counts['POST 415'], WRONG_TYPE, job);
      assert.equal(counts['POST 400'], MALFORMED, job);
      assert.equal(counts['_OTHER 405'], ODD_METHOD, job);
      const [inFlight] = await prometheus.query(`sum(admission_reviews_in_flight{job="${job}"})`);
      assert.equal(inFlight?.value, 0, `${job}: nothing left in flight`);
      const [remaining] = await prometheus.query(
        `min(admission_tls_certificate_remaining_seconds{job="${job}"})`,
      );
      const validTo = new Date(
        execFileSync('openssl', ['x509', '-noout', '-enddate', '-in', join(certs.dir, 'tls.crt')], {
          encoding: 'utf8',
        }).replace(/^notAfter=/, ''),
      ).getTime();
      const expected = (validTo - Date.now()) / 1000;
      assert.ok(
        remaining && Math.abs(remaining.value - expected) < 120,
        `${job}: ${remaining?.value} s left, expected ${expected}`,
      );
    }
  });

  it('has alerting rules promtool accepts, and that pass their own unit tests', () => {
    const check = execFileSync('promtool', ['check', 'rules', ALERTS], { encoding: 'utf8' });
    assert.match(check, /SUCCESS: 6 rules found/);
    const unitTests = execFileSync('promtool', ['test', 'rules', 'admission-alerts.test.yaml'], {
      cwd: join(projectRoot, 'dashboards'),
      encoding: 'utf8',
    });
    assert.match(unitTests, /SUCCESS/);
  });

  it('fires the error and past-timeout alerts on data made to fire them, on both paths, and not the certificate ones', async () => {
    const wanted = ['AdmissionReviewErrors', 'AdmissionAnswersAfterTimeout', 'AdmissionHTTPErrors'];
    // rate() sees nothing in counters that stood still since the first scrape: send again.
    for (const job of [SCRAPE_JOB, OTLP_JOB]) {
      await prometheus.waitFor(`count(admission_reviews_total{job="${job}"})`, (s) => s.length > 0);
    }
    const ca = readFileSync(join(certs.dir, 'ca.crt'), 'utf8');
    for (const server of [scraped, exported]) await sendStandaloneTraffic(server.url, ca);
    const key = (labels: Record<string, string>) => `${labels.alertname} ${labels.job}`;
    const deadline = Date.now() + 45_000;
    let firing = new Set<string>();
    for (;;) {
      const alerts = await prometheus.alerts();
      firing = new Set(alerts.filter((a) => a.state === 'firing').map((a) => key(a.labels)));
      assert.ok(![...firing].some((k) => k.startsWith('AdmissionCertificate')), `${[...firing]}`);
      const all = wanted.flatMap((name) => [SCRAPE_JOB, OTLP_JOB].map((job) => `${name} ${job}`));
      if (all.every((k) => firing.has(k))) break;
      assert.ok(
        Date.now() < deadline,
        `firing after 45 s: ${[...firing].join(', ')}; wanted ${all.join(', ')}`,
      );
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  });
});

const ALERTS = join(projectRoot, 'dashboards', 'admission-alerts.yaml');
const SCRAPE_JOB = 'standalone';
const OTLP_JOB = 'otlp-path';

/** The shipped rules with their `for` durations (minutes to an hour) cut to nothing, to fire within the test. */
function alertsFiringAtOnce(): string {
  const rules = readFileSync(ALERTS, 'utf8');
  const shortened = rules.replace(/^(\s+)for: \S+$/gm, '$1for: 0s');
  assert.notEqual(shortened, rules);
  return shortened;
}

function startStandalone(devCertsDir: string, env: Record<string, string>): Promise<RunningEntry> {
  return startEntry(
    STANDALONE,
    { PORT: '0', HOST: '127.0.0.1', DEV_CERTS_DIR: devCertsDir, LOG_LEVEL: 'info', ...env },
    STANDALONE_URL,
    'stdout',
  );
}

function metricsUrlOf(entry: RunningEntry): string {
  const line = entry
    .stderr()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Json)
    .find((l) => l.msg === 'telemetry started');
  assert.ok(line?.metrics_url, 'no metrics_url in "telemetry started"');
  return line.metrics_url as string;
}

const STANDALONE_REVIEWS = VOLUMES + BAD_VOLUMES + SLOW + NODE_SELECTOR;
const WRONG_TYPE = 2;
const ODD_METHOD = 1;
const TOTAL_HTTP = STANDALONE_REVIEWS + WRONG_TYPE + MALFORMED + ODD_METHOD;

/** Reviews of every outcome, and requests that never become one (415, 400, an unknown method). */
async function sendStandaloneTraffic(url: string, ca: string): Promise<void> {
  const post = async (path: string, body: string, contentType = 'application/json', method = 'POST') => {
    const reply = await call(`${url}${path}`, { method, body, headers: { 'Content-Type': contentType }, ca });
    return reply.status;
  };
  const volumes = JSON.stringify(sample('knative-pod-volumes.json'));
  const statuses: number[] = [];
  for (let i = 0; i < SLOW; i++) statuses.push(await post('/volume-extension?timeout=1ns', volumes));
  for (let i = 0; i < VOLUMES; i++) statuses.push(await post('/volume-extension?timeout=10s', volumes));
  const bad = JSON.stringify(sample('knative-pod-bad-volumes.json'));
  for (let i = 0; i < BAD_VOLUMES; i++) statuses.push(await post('/volume-extension?timeout=10s', bad));
  const selector = JSON.stringify(sample('knative-pod-node-selector.json'));
  for (let i = 0; i < NODE_SELECTOR; i++) statuses.push(await post('/node-selector?timeout=5s', selector));
  assert.deepEqual(new Set(statuses), new Set([200]));
  for (let i = 0; i < MALFORMED; i++)
    assert.equal(await post('/volume-extension', '{"kind": "AdmissionReview"}'), 400);
  for (let i = 0; i < WRONG_TYPE; i++)
    assert.equal(await post('/volume-extension', volumes, 'text/plain'), 415);
  for (let i = 0; i < ODD_METHOD; i++)
    assert.equal(await post('/volume-extension', '', 'application/json', 'PURGE'), 405);
}

/** The latest value of each series over every export (cumulative: a later export supersedes). */
function latestSeries(bodies: readonly Buffer[]): Series[] {
  const latest = new Map<string, Series>();
  for (const body of bodies) {
    for (const series of translateMetricExport(body).series) {
      latest.set(`${series.name}${JSON.stringify(Object.entries(series.labels).sort())}`, series);
    }
  }
  return [...latest.values()];
}

/** What Prometheus would hold from the OTLP exports, served for it to scrape (honor_labels). */
async function serveTranslatedExports(bodies: () => readonly Buffer[]): Promise<Server> {
  const server = createServer((_request, response) => {
    response
      .writeHead(200, { 'content-type': 'text/plain; version=0.0.4' })
      .end(exposition(latestSeries(bodies())));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}
