// What a Collector's Prometheus exporter or Prometheus's own OTLP receiver (2.47+) makes of the
// metrics the OTLP exporter sends: decodes ExportMetricsServiceRequest (http/protobuf; the
// fields of opentelemetry-proto's metrics service read here, with their field numbers) and
// names each series as the OTLP-to-Prometheus translation does (OpenTelemetry's Prometheus
// compatibility specification; prometheus/otlptranslator's normalizeName with suffixes, the
// default): name split on characters outside [A-Za-z0-9:] and joined with `_`, the unit's word
// appended unless a token already is it (s -> seconds, `{...}` units and 1 add nothing),
// `_total` for monotonic sums, `_ratio` for gauges of unit 1; attribute keys with invalid
// characters replaced by `_`; `job` from service.namespace/service.name, `instance` from
// service.instance.id. Deliberately written apart from the runtime's own naming
// (shared/telemetry/prometheus-names.ts), so that the two can disagree.
import protobuf from 'protobufjs';

const OTLP_METRICS_SCHEMA = `
syntax = "proto3";
package otlp;
message ExportMetricsServiceRequest { repeated ResourceMetrics resource_metrics = 1; }
message ResourceMetrics { Resource resource = 1; repeated ScopeMetrics scope_metrics = 2; }
message Resource { repeated KeyValue attributes = 1; }
message ScopeMetrics { InstrumentationScope scope = 1; repeated Metric metrics = 2; }
message InstrumentationScope { string name = 1; string version = 2; }
message Metric {
  string name = 1;
  string description = 2;
  string unit = 3;
  oneof data { Gauge gauge = 5; Sum sum = 7; Histogram histogram = 9; }
}
message Gauge { repeated NumberDataPoint data_points = 1; }
message Sum { repeated NumberDataPoint data_points = 1; int32 aggregation_temporality = 2; bool is_monotonic = 3; }
message Histogram { repeated HistogramDataPoint data_points = 1; int32 aggregation_temporality = 2; }
message NumberDataPoint {
  repeated KeyValue attributes = 7;
  fixed64 time_unix_nano = 3;
  oneof value { double as_double = 4; sfixed64 as_int = 6; }
}
message HistogramDataPoint {
  repeated KeyValue attributes = 9;
  fixed64 time_unix_nano = 3;
  fixed64 count = 4;
  optional double sum = 5;
  repeated fixed64 bucket_counts = 6;
  repeated double explicit_bounds = 7;
}
message KeyValue { string key = 1; AnyValue value = 2; }
message AnyValue {
  oneof value { string string_value = 1; bool bool_value = 2; int64 int_value = 3; double double_value = 4; }
}
`;

const requestType = protobuf.parse(OTLP_METRICS_SCHEMA).root.lookupType('otlp.ExportMetricsServiceRequest');

/** Aggregation temporality CUMULATIVE: what Prometheus's OTLP receiver accepts. */
export const CUMULATIVE = 2;

type Attrs = Record<string, string>;
interface KeyValue {
  key: string;
  value?: { stringValue?: string; boolValue?: boolean; intValue?: string; doubleValue?: number };
}
interface NumberPoint {
  attributes?: KeyValue[];
  asDouble?: number;
  asInt?: string;
}
interface HistogramPoint {
  attributes?: KeyValue[];
  count: string;
  sum?: number;
  bucketCounts?: string[];
  explicitBounds?: number[];
}
export interface OtlpMetric {
  name: string;
  unit?: string;
  gauge?: { dataPoints?: NumberPoint[] };
  sum?: { dataPoints?: NumberPoint[]; aggregationTemporality?: number; isMonotonic?: boolean };
  histogram?: { dataPoints?: HistogramPoint[]; aggregationTemporality?: number };
}
interface Decoded {
  resourceMetrics?: {
    resource?: { attributes?: KeyValue[] };
    scopeMetrics?: { scope?: { name?: string }; metrics?: OtlpMetric[] }[];
  }[];
}

const UNIT_WORDS: Record<string, string> = {
  d: 'days',
  h: 'hours',
  min: 'minutes',
  s: 'seconds',
  ms: 'milliseconds',
  us: 'microseconds',
  ns: 'nanoseconds',
  By: 'bytes',
  KiBy: 'kibibytes',
  MiBy: 'mebibytes',
  GiBy: 'gibibytes',
  TiBy: 'tibibytes',
  KBy: 'kilobytes',
  MBy: 'megabytes',
  GBy: 'gigabytes',
  TBy: 'terabytes',
  m: 'meters',
  V: 'volts',
  A: 'amperes',
  J: 'joules',
  W: 'watts',
  g: 'grams',
  Cel: 'celsius',
  Hz: 'hertz',
  '1': '',
  '%': 'percent',
};

export type TranslatedType = 'gauge' | 'counter' | 'histogram' | 'non-monotonic sum';

/** The Prometheus name of an OTLP metric (per units like `{r}/s` are not used here, so left out). */
export function prometheusName(name: string, unit: string, type: TranslatedType): string {
  let tokens = name.split(/[^A-Za-z0-9:]/).filter(Boolean);
  const main = (unit.split('/')[0] ?? '').trim();
  const word = main && !/[{}]/.test(main) ? (UNIT_WORDS[main] ?? main) : '';
  if (word && !tokens.includes(word)) tokens.push(word);
  if (type === 'counter') tokens = [...tokens.filter((t) => t !== 'total'), 'total'];
  if (unit === '1' && type === 'gauge') tokens = [...tokens.filter((t) => t !== 'ratio'), 'ratio'];
  const joined = tokens.join('_');
  return /^[0-9]/.test(joined) ? `_${joined}` : joined;
}

export function prometheusLabel(key: string): string {
  const label = key.replace(/[^A-Za-z0-9_]/g, '_');
  return /^[0-9]/.test(label) ? `key_${label}` : label;
}

function attrs(list: KeyValue[] = []): Attrs {
  const out: Attrs = {};
  for (const { key, value = {} } of list) {
    const v = value.stringValue ?? value.boolValue ?? value.intValue ?? value.doubleValue;
    if (v !== undefined) out[key] = String(v);
  }
  return out;
}

export interface Series {
  name: string;
  labels: Attrs;
  value: number;
}

/** The series one export stands for, as Prometheus would store them. */
export function translateMetricExport(body: Uint8Array): { series: Series[]; metrics: OtlpMetric[] } {
  const message = requestType.toObject(requestType.decode(body), {
    longs: String,
    enums: Number,
    defaults: false,
    oneofs: false,
  }) as Decoded;
  const series: Series[] = [];
  const metrics: OtlpMetric[] = [];
  for (const resourceMetrics of message.resourceMetrics ?? []) {
    const resource = attrs(resourceMetrics.resource?.attributes);
    const service = resource['service.name'] ?? 'unknown_service';
    const job = resource['service.namespace'] ? `${resource['service.namespace']}/${service}` : service;
    const base: Attrs = { job, instance: resource['service.instance.id'] ?? '' };
    for (const scopeMetrics of resourceMetrics.scopeMetrics ?? []) {
      const scope = scopeMetrics.scope?.name;
      for (const metric of scopeMetrics.metrics ?? []) {
        metrics.push(metric);
        const unit = metric.unit ?? '';
        const labelsOf = (list?: KeyValue[]): Attrs => {
          const labels: Attrs = { ...base };
          if (scope) labels.otel_scope_name = scope;
          for (const [key, value] of Object.entries(attrs(list))) labels[prometheusLabel(key)] = value;
          return labels;
        };
        const number = (p: NumberPoint) => p.asDouble ?? Number(p.asInt ?? 0);
        if (metric.gauge) {
          const name = prometheusName(metric.name, unit, 'gauge');
          for (const p of metric.gauge.dataPoints ?? [])
            series.push({ name, labels: labelsOf(p.attributes), value: number(p) });
        } else if (metric.sum) {
          const type = metric.sum.isMonotonic ? 'counter' : 'non-monotonic sum';
          const name = prometheusName(metric.name, unit, type);
          for (const p of metric.sum.dataPoints ?? [])
            series.push({ name, labels: labelsOf(p.attributes), value: number(p) });
        } else if (metric.histogram) {
          const name = prometheusName(metric.name, unit, 'histogram');
          for (const p of metric.histogram.dataPoints ?? []) {
            const labels = labelsOf(p.attributes);
            const bounds = p.explicitBounds ?? [];
            const counts = (p.bucketCounts ?? []).map(Number);
            let cumulative = 0;
            bounds.forEach((bound, i) => {
              cumulative += counts[i] ?? 0;
              series.push({
                name: `${name}_bucket`,
                labels: { ...labels, le: String(bound) },
                value: cumulative,
              });
            });
            series.push({
              name: `${name}_bucket`,
              labels: { ...labels, le: '+Inf' },
              value: Number(p.count),
            });
            series.push({ name: `${name}_count`, labels, value: Number(p.count) });
            if (p.sum !== undefined) series.push({ name: `${name}_sum`, labels, value: p.sum });
          }
        }
      }
    }
  }
  return { series, metrics };
}

/** The series in Prometheus's text format, for a Prometheus to scrape with honor_labels. */
export function exposition(series: Iterable<Series>): string {
  const escapeValue = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
  const lines: string[] = [];
  for (const { name, labels, value } of series) {
    const text = Object.entries(labels)
      .map(([k, v]) => `${k}="${escapeValue(v)}"`)
      .join(',');
    lines.push(`${name}{${text}} ${value}`);
  }
  return `${lines.join('\n')}\n`;
}
