// A real Prometheus scrapes a running function (telemetry started as a runtime starts it)
// after a known number of reviews; PromQL through its HTTP API returns the counts and a
// histogram_quantile. The dashboard's queries run against the same data.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { apiserverVerdicts, projectRoot } from './support/apiserver.ts';
import { type Prometheus, startPrometheus } from './support/prometheus.ts';
import {
  postReview,
  type ReviewServer,
  type Sent,
  startReviewServer,
} from './support/review-server-process.ts';
import { type Json, sample } from './support/reviews.ts';

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
function asGrafanaSends(expr: string): string {
  return expr
    .replaceAll('$__rate_interval', '1m')
    .replaceAll('$__range', '5m')
    .replaceAll('$job', '.*')
    .replaceAll('$function', '.*')
    .replaceAll('$warn_fraction', '0.5');
}

const PATCHED = 12;
const DENIED = 5;
const SLOW = 3; // ?timeout=1ns: each answer uses far more than half of its budget
const MALFORMED = 2;
const NODE_SELECTOR = 4;
const TOTAL = PATCHED + DENIED + SLOW + MALFORMED + NODE_SELECTOR;

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
      (latency.targets as Json[]).some((t) => /^max\(admission_budget\{/.test(t.expr)),
      'a budget line',
    );
    const exprs = dashboardQueries().map((q) => q.expr);
    assert.ok(exprs.some((e) => /by \(admission_outcome\) \(rate\(admission_reviews_total/.test(e)));
    assert.ok(exprs.some((e) => /admission_outcome=~"denied\|error"/.test(e)));
    assert.ok(exprs.some((e) => /admission_budget_fraction_bucket/.test(e)));
    assert.ok(exprs.some((e) => /admission_budget_warnings_total/.test(e)));
  });
});

describe('Prometheus scraping a running function', () => {
  let server: ReviewServer;
  let prometheus: Prometheus;

  before(async () => {
    server = await startReviewServer({ OTEL_TRACES_EXPORTER: 'none' });
    const volumes = sample('knative-pod-volumes.json');
    const badVolumes = sample('knative-pod-bad-volumes.json');
    const nodeSelector = sample('knative-pod-node-selector.json');
    const judged: { request: Json; sent: Sent }[] = [];
    const send = async (fn: string, request: Json, timeout: string, times: number) => {
      for (let i = 0; i < times; i++)
        judged.push({ request, sent: await postReview(server, fn, request, { timeout }) });
    };
    // The slow ones first: the budget gauge keeps the latest budget, 10 s.
    await send('volume-extension', volumes, '1ns', SLOW);
    await send('volume-extension', volumes, '10s', PATCHED);
    await send('volume-extension', badVolumes, '10s', DENIED);
    await send('node-selector', nodeSelector, '5s', NODE_SELECTOR);
    for (let i = 0; i < MALFORMED; i++) {
      assert.equal((await postReview(server, 'volume-extension', '{"kind": "AdmissionReview"}')).status, 400);
    }
    assert.ok(judged.every(({ sent }) => sent.status === 200));
    const verdicts = await apiserverVerdicts(
      judged.map(({ request, sent }) => ({ request, reply: sent.body })),
    );
    assert.ok(verdicts.every((v) => v.accepted));

    assert.ok(server.metricsUrl, 'the function serves no metrics');
    prometheus = await startPrometheus([new URL(server.metricsUrl).host]);
  });

  after(async () => {
    await prometheus?.stop();
    assert.equal(await server?.stop(), 0);
  });

  it('counts every review, by function and outcome', async () => {
    await prometheus.waitFor('sum(admission_reviews_total)', (s) => s[0]?.value === TOTAL);
    const byOutcome = await prometheus.query(
      'sum by (admission_function, admission_outcome) (admission_reviews_total)',
    );
    const counts = Object.fromEntries(
      byOutcome.map((s) => [`${s.metric.admission_function} ${s.metric.admission_outcome}`, s.value]),
    );
    assert.deepEqual(counts, {
      'volume-extension patched': PATCHED + SLOW,
      'volume-extension denied': DENIED,
      'volume-extension error': MALFORMED,
      'node-selector patched': NODE_SELECTOR,
    });
    const [durations] = await prometheus.query('sum(admission_review_duration_count)');
    assert.equal(durations?.value, TOTAL);
  });

  it('answers histogram_quantile over the duration buckets', async () => {
    const quantile = async (q: number) => {
      const [result] = await prometheus.query(
        `histogram_quantile(${q}, sum by (le) (admission_review_duration_bucket{admission_function="volume-extension"}))`,
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
    const [warnings] = await prometheus.query('sum(admission_budget_warnings_total)');
    assert.equal(warnings?.value, SLOW);
    const budgets = await prometheus.query('admission_budget');
    assert.deepEqual(Object.fromEntries(budgets.map((s) => [s.metric.admission_function, s.value])), {
      'volume-extension': 10,
      'node-selector': 5,
    });
    const [overBudget] = await prometheus.query(
      'sum(admission_budget_fraction_count) - sum(admission_budget_fraction_bucket{le="1"})',
    );
    assert.equal(overBudget?.value, SLOW);
  });

  it("runs every dashboard query against the function's data", async () => {
    // rate() needs two samples in its window.
    await prometheus.waitFor(
      'min(count_over_time(admission_reviews_total[1m]))',
      (s) => (s[0]?.value ?? 0) >= 2,
    );
    for (const { panel, expr } of dashboardQueries()) {
      const samples = await prometheus.query(asGrafanaSends(expr));
      assert.ok(samples.length > 0, `"${panel}": ${expr} returns no series`);
    }
  });

  it('uses in the dashboard only metric names the exporter emits', async () => {
    assert.ok(server.metricsUrl);
    const exposition = await (await fetch(server.metricsUrl)).text();
    const emitted = new Set(
      exposition
        .split('\n')
        .filter((line) => line && !line.startsWith('#'))
        .map((line) => line.split(/[{ ]/)[0]),
    );
    const variables = (dashboard.templating.list as Json[]).map((v) => String(v.definition ?? ''));
    const used = new Set(
      [...dashboardQueries().map((q) => q.expr), ...variables].flatMap(
        (text) => text.match(/\badmission_\w+/g) ?? [],
      ),
    );
    assert.ok(used.size >= 5, `dashboard uses ${[...used]}`);
    for (const name of used) {
      // Label names (admission_function) are not metric names.
      if (/^admission_(function|operation|outcome)$/.test(name)) continue;
      assert.ok(emitted.has(name), `the dashboard uses ${name}, not in /metrics: ${[...emitted].join(', ')}`);
    }
  });
});
