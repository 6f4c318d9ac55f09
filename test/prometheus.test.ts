// A real Prometheus scrapes running functions (under faas-js-runtime, telemetry started by the
// entry point) after a known number of reviews; PromQL through its HTTP API returns the counts and a
// histogram_quantile. The dashboard's queries run against the same data.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { apiserverVerdicts, projectRoot } from './support/apiserver.ts';
import { postReview, type RunningFunction, type Sent, startFunction } from './support/function-process.ts';
import { type Prometheus, startPrometheus } from './support/prometheus.ts';
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

const VOLUMES = 12;
const BAD_VOLUMES = 5;
const SLOW = 3; // ?timeout=1ns: each answer uses far more than half of its budget
const MALFORMED = 2;
const NODE_SELECTOR = 4;
const TOTAL = VOLUMES + BAD_VOLUMES + SLOW + MALFORMED + NODE_SELECTOR;

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
    prometheus = await startPrometheus(targets);
  });

  after(async () => {
    await prometheus?.stop();
    await Promise.all(functions.map((f) => f.stop()));
  });

  it('counts every review, by function and outcome', async () => {
    await prometheus.waitFor('sum(admission_reviews_total)', (s) => s[0]?.value === TOTAL);
    const byOutcome = await prometheus.query(
      'sum by (admission_function, admission_outcome) (admission_reviews_total)',
    );
    const counts = Object.fromEntries(
      byOutcome.map((s) => [`${s.metric.admission_function} ${s.metric.admission_outcome}`, s.value]),
    );
    assert.deepEqual(counts, expected);
    const [durations] = await prometheus.query('sum(admission_review_duration_count)');
    assert.equal(durations?.value, TOTAL);
    const jobs = await prometheus.query('count by (instance) (admission_reviews_total)');
    assert.equal(jobs.length, 2, 'both functions scraped');
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
    const metricsUrl = functions[0]?.metricsUrl;
    assert.ok(metricsUrl);
    const exposition = await (await fetch(metricsUrl)).text();
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
