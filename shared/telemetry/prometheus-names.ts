// Prometheus names for our scrape endpoint, the same as the OTLP-to-Prometheus translation gives
// (OpenTelemetry's Prometheus compatibility specification, as prometheus/otlptranslator and the
// Collector implement it): the unit appended as a word unless the name has it already
// (s -> seconds), `_ratio` for gauges of unit 1. The exporter itself replaces dots with
// underscores and appends `_total` to counters, but writes no unit: left to it,
// admission.review.duration would be admission_review_duration on a scrape and
// admission_review_duration_seconds through a Collector, and a dashboard could not serve both.

const UNIT_WORDS: Readonly<Record<string, string>> = {
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
  '%': 'percent',
};

/** The instrument name with the words the translation adds, still dotted (the exporter escapes it). */
export function withUnitSuffix(name: string, unit: string, gauge: boolean): string {
  const tokens = name.split(/[^A-Za-z0-9:]+/).filter(Boolean);
  const main = unit.split('/')[0]?.trim() ?? '';
  const word = main && !/[{}]/.test(main) ? (UNIT_WORDS[main] ?? '') : '';
  let suffixed = name;
  if (word && !tokens.includes(word)) suffixed = `${suffixed}.${word}`;
  if (unit === '1' && gauge && tokens.at(-1) !== 'ratio') suffixed = `${suffixed}.ratio`;
  return suffixed;
}
