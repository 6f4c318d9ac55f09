// The admission metrics, on the OpenTelemetry API. Names follow the semantic-convention style
// (dotted, unit in `unit`). Their Prometheus names are the same on both paths, as the
// OTLP-to-Prometheus translation writes them (a Collector's prometheus exporter, Prometheus's
// OTLP receiver) and as our scrape endpoint serves them (shared/telemetry/prometheus-names.ts):
// unit suffix, `_total` for counters. admission.review.duration (s) ->
// admission_review_duration_seconds_bucket/_sum/_count. A ratio (unit 1) says `ratio` in its
// name, since the translation adds `_ratio` to gauges only.
import {
  type Counter,
  type Gauge,
  type Histogram,
  type MeterProvider,
  metrics,
  type UpDownCounter,
} from '@opentelemetry/api';

export const METER_NAME = 'faas-admission';

export const METRIC = {
  duration: 'admission.review.duration',
  reviews: 'admission.reviews',
  budgetFraction: 'admission.budget.used_ratio',
  budgetWarnings: 'admission.budget.warnings',
  budget: 'admission.budget',
  inFlight: 'admission.reviews.in_flight',
  certificateRemaining: 'admission.tls.certificate.remaining',
  httpDuration: 'http.server.request.duration',
} as const;

// 100 µs to 30 s (the apiserver's longest timeoutSeconds): a warm review takes well under a
// millisecond, a cold start or a stalled event loop takes seconds.
export const DURATION_BUCKETS = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 20, 30,
];

export const FRACTION_BUCKETS = [
  0.00001, 0.0001, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 1,
];

export interface Instruments {
  readonly duration: Histogram;
  readonly reviews: Counter;
  readonly budgetFraction: Histogram;
  readonly budgetWarnings: Counter;
  readonly budget: Gauge;
  readonly inFlight: UpDownCounter;
  /** The stable semantic-convention HTTP server metric: every answer, reviews or not. */
  readonly httpDuration: Histogram;
  /** The budget last recorded per function: the gauge keeps its value, so record changes only. */
  readonly budgetRecorded: Map<string, number>;
}

function createInstruments(provider: MeterProvider): Instruments {
  const meter = provider.getMeter(METER_NAME);
  return {
    duration: meter.createHistogram(METRIC.duration, {
      description: 'Time from a review arriving to its answer being ready',
      unit: 's',
      advice: { explicitBucketBoundaries: DURATION_BUCKETS },
    }),
    reviews: meter.createCounter(METRIC.reviews, {
      description: 'Reviews answered, by outcome (allowed, patched, denied, error)',
      unit: '{review}',
    }),
    budgetFraction: meter.createHistogram(METRIC.budgetFraction, {
      description: "Fraction of the review's time budget (the apiserver's ?timeout=) used to answer",
      unit: '1',
      advice: { explicitBucketBoundaries: FRACTION_BUCKETS },
    }),
    budgetWarnings: meter.createCounter(METRIC.budgetWarnings, {
      description: 'Reviews whose answer used more than BUDGET_WARN_FRACTION of their time budget',
      unit: '{review}',
    }),
    budget: meter.createGauge(METRIC.budget, {
      description: 'Time budget of the latest review (?timeout=, else WEBHOOK_TIMEOUT_SECONDS)',
      unit: 's',
    }),
    inFlight: meter.createUpDownCounter(METRIC.inFlight, {
      description: 'Reviews received and not yet answered',
      unit: '{review}',
    }),
    httpDuration: meter.createHistogram(METRIC.httpDuration, {
      description: 'Duration of HTTP server requests, from the request line to the last byte of the answer',
      unit: 's',
      advice: { explicitBucketBoundaries: DURATION_BUCKETS },
    }),
    budgetRecorded: new Map(),
  };
}

// The API has no proxy meter: a meter taken before the SDK starts stays a no-op. So the
// instruments are made from whichever provider is registered now, and remade if it changes.
let cached: { provider: MeterProvider; instruments: Instruments } | undefined;

export function instruments(): Instruments {
  const provider = metrics.getMeterProvider();
  if (cached?.provider !== provider) cached = { provider, instruments: createInstruments(provider) };
  return cached.instruments;
}
