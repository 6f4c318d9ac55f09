// Starts the OpenTelemetry SDK for a runtime entry point. Library code (shared/, functions/)
// only uses @opentelemetry/api, so importing it never starts anything; an entry point calls
//
//   await startTelemetry({ serviceName });   // before serving
//   await shutdownTelemetry();               // on SIGTERM, after the last answer
//
// Configured by the standard OTEL_* variables (docs/observability.md):
// - metrics: a Prometheus endpoint (OTEL_EXPORTER_PROMETHEUS_HOST/PORT, default
//   0.0.0.0:9464/metrics), and OTLP when OTEL_METRICS_EXPORTER says so or an OTLP endpoint is set;
// - traces: OTLP (OTEL_EXPORTER_OTLP_PROTOCOL, default http/protobuf) when OTEL_TRACES_EXPORTER
//   or an OTLP endpoint is set, otherwise none;
// - OTEL_SDK_DISABLED=true: nothing at all.
// Exports run in the background (batching, bounded queue, short timeouts): a collector that is
// down or slow costs dropped telemetry, never a slower or failed admission. The SDK is imported
// only when enabled: loading it is most of what telemetry adds to a function's start.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type DiagLogger, DiagLogLevel, diag, metrics, propagation } from '@opentelemetry/api';
import type { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import type { Resource } from '@opentelemetry/resources';
import type { IMetricReader, ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { ConfigError } from '../shared/errors.ts';
import { observeHttpServers } from '../shared/telemetry/http-server.ts';
import { METER_NAME, METRIC } from '../shared/telemetry/instruments.ts';
import { createLogger, type Logger, log, useLogger } from '../shared/telemetry/log.ts';
import { withUnitSuffix } from '../shared/telemetry/prometheus-names.ts';
import { loadTelemetrySettings, useTelemetrySettings } from '../shared/telemetry/settings.ts';

export interface TelemetryOptions {
  /** `service.name` unless OTEL_SERVICE_NAME says otherwise: the function's name. */
  readonly serviceName?: string;
}

export interface Telemetry {
  /** Where Prometheus scrapes (`http://0.0.0.0:9464/metrics`); undefined when not served. */
  readonly metricsUrl: string | undefined;
  /** Whether spans are exported (OTEL_TRACES_EXPORTER or an OTLP endpoint is set). */
  readonly tracing: boolean;
  shutdown(): Promise<void>;
}

// Defaults applied when unset, so that a dead or stalled collector holds little and briefly.
// The batch span processor already drops spans past OTEL_BSP_MAX_QUEUE_SIZE (2048).
const EXPORT_DEFAULTS = {
  OTEL_EXPORTER_OTLP_TIMEOUT: '5000',
  OTEL_BSP_EXPORT_TIMEOUT: '5000',
  OTEL_METRIC_EXPORT_TIMEOUT: '5000',
} as const;

const DEFAULT_SERVICE_NAME = 'faas-admission';
// On SIGTERM a live collector takes milliseconds to accept the last batch; a dead one would
// hold the exit for the whole export timeout with its retries.
const SHUTDOWN_LIMIT_MS = 2000;

let running: Promise<Telemetry> | undefined;

/**
 * Starts telemetry once per process (later calls return the same instance). Throws a
 * ConfigError for a bad WEBHOOK_TIMEOUT_SECONDS, BUDGET_WARN_FRACTION, LOG_LEVEL or
 * OTEL_EXPORTER_PROMETHEUS_PORT, so the function stops at start with the variable named.
 */
export function startTelemetry(options: TelemetryOptions = {}): Promise<Telemetry> {
  running ??= start(options).catch((error: unknown) => {
    running = undefined;
    throw error;
  });
  return running;
}

/** Flushes what is pending (at most a few seconds) and stops the exporters. */
export async function shutdownTelemetry(): Promise<void> {
  const telemetry = running;
  running = undefined;
  if (telemetry) await (await telemetry).shutdown();
}

async function start({ serviceName = DEFAULT_SERVICE_NAME }: TelemetryOptions) {
  // The SDK reads process.env itself; defaults are written there for it to find.
  const env = process.env;
  const settings = loadTelemetrySettings(env);
  useTelemetrySettings(settings);
  const logger = createLogger({ level: settings.logLevel });
  useLogger(logger);

  if (flag(env.OTEL_SDK_DISABLED)) {
    logger.info({ service: serviceName }, 'telemetry disabled (OTEL_SDK_DISABLED)');
    return { metricsUrl: undefined, tracing: false, shutdown: async () => {} } satisfies Telemetry;
  }
  for (const [name, value] of Object.entries(EXPORT_DEFAULTS)) env[name] = set(env[name]) ?? value;

  const tracesExporter = set(env.OTEL_TRACES_EXPORTER);
  const tracing = tracesExporter ? tracesExporter !== 'none' : otlpEndpointSet(env, 'TRACES');
  const exporters = metricExporters(env);
  const address = exporters.has('prometheus') ? metricsAddress(env) : undefined;
  const { readers, prometheus } = await metricReaders(exporters, env);
  const resource = await resourceFor(serviceName);
  // The full SDK when it has more to set up than metrics; metrics alone start in a fraction of
  // the time and memory (sdk-node loads every exporter it can configure, gRPC included).
  const sdk =
    tracing || set(env.OTEL_PROPAGATORS) !== undefined
      ? await startNodeSdk(resource, readers, tracing)
      : await startMetricsOnly(resource, readers);
  // After the SDK's constructor, which installs a console logger when OTEL_LOG_LEVEL is set.
  diag.setLogger(diagLogger(logger), {
    logLevel: diagLevel(env.OTEL_LOG_LEVEL),
    suppressOverrideMessage: true,
  });

  const server = prometheus && address ? await serveMetrics(prometheus, address, logger) : undefined;
  const metricsUrl = server ? metricsUrlOf(server) : undefined;
  const stopHttpMetrics =
    readers.length > 0 ? observeHttpServers((observed) => observed === server) : () => {};
  logger.info(
    { service: serviceName, metrics_url: metricsUrl, tracing, metric_exporters: readers.length },
    'telemetry started',
  );
  return {
    metricsUrl,
    tracing,
    async shutdown() {
      stopHttpMetrics();
      server?.close();
      server?.closeAllConnections();
      await withinLimit(sdk.shutdown(), SHUTDOWN_LIMIT_MS).catch((error: unknown) => {
        logger.warn({ err: error }, 'telemetry shutdown failed');
      });
    },
  } satisfies Telemetry;
}

interface StartedSdk {
  shutdown(): Promise<void>;
}

/** sdk-node, which reads OTEL_TRACES_EXPORTER, OTEL_EXPORTER_OTLP_*, OTEL_BSP_*, OTEL_PROPAGATORS. */
async function startNodeSdk(resource: Resource, readers: IMetricReader[], tracing: boolean) {
  const { NodeSDK } = await import('@opentelemetry/sdk-node');
  const sdk = new NodeSDK({
    resource,
    autoDetectResources: false,
    // Undefined: the SDK builds them from the environment.
    spanProcessors: tracing ? undefined : [],
    metricReaders: readers,
    // Logs are JSON lines on stderr (shared/telemetry/log.ts), not OTLP log records.
    logRecordProcessors: [],
  });
  sdk.start();
  return sdk satisfies StartedSdk;
}

/**
 * What sdk-node registers when no span is exported: a MeterProvider with the readers, and its
 * default propagators (W3C trace context and baggage), so that a log line still carries the
 * caller's trace id. No TracerProvider: spans stay non-recording, as under sdk-node without
 * span processors.
 */
async function startMetricsOnly(resource: Resource, readers: IMetricReader[]): Promise<StartedSdk> {
  const [{ MeterProvider }, { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator }] =
    await Promise.all([import('@opentelemetry/sdk-metrics'), import('@opentelemetry/core')]);
  const provider = readers.length > 0 ? new MeterProvider({ resource, readers }) : undefined;
  if (provider) metrics.setGlobalMeterProvider(provider);
  propagation.setGlobalPropagator(
    new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }),
  );
  return {
    async shutdown() {
      await provider?.shutdown();
      propagation.disable();
      metrics.disable();
    },
  };
}

/**
 * The SDK's default resource detection, settled before anything is exported (the Prometheus
 * exporter reads the resource on every scrape). The function's name is the lowest-priority
 * `service.name`: OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES override it.
 */
async function resourceFor(serviceName: string): Promise<Resource> {
  const resources = await import('@opentelemetry/resources');
  const detected = resources.detectResources({
    detectors: [
      resources.serviceInstanceIdDetector,
      resources.processDetector,
      resources.hostDetector,
      resources.osDetector,
      resources.envDetector,
    ],
  });
  await detected.waitForAsyncAttributes?.();
  return resources
    .defaultResource()
    .merge(resources.resourceFromAttributes({ 'service.name': serviceName }))
    .merge(detected);
}

type MetricExporter = 'prometheus' | 'otlp';

/** OTEL_METRICS_EXPORTER (default: prometheus, plus otlp when an OTLP endpoint is set). */
function metricExporters(env: NodeJS.ProcessEnv): Set<MetricExporter> {
  const configured = set(env.OTEL_METRICS_EXPORTER)
    ?.split(',')
    .map((name) => name.trim());
  const names = configured ?? ['prometheus', ...(otlpEndpointSet(env, 'METRICS') ? ['otlp'] : [])];
  if (names.includes('none')) return new Set();
  for (const name of names) {
    if (name !== 'prometheus' && name !== 'otlp') {
      throw new ConfigError(
        `OTEL_METRICS_EXPORTER: unsupported exporter "${name}" (use prometheus, otlp or none)`,
      );
    }
  }
  return new Set(names as MetricExporter[]);
}

async function metricReaders(
  exporters: Set<MetricExporter>,
  env: NodeJS.ProcessEnv,
): Promise<{ readers: IMetricReader[]; prometheus?: PrometheusExporter }> {
  const readers: IMetricReader[] = [];
  let prometheus: PrometheusExporter | undefined;
  if (exporters.has('prometheus')) {
    const { PrometheusExporter } = await import('@opentelemetry/exporter-prometheus');
    // Served by our own server (serveMetrics): it can bind port 0 and report the address.
    prometheus = new PrometheusExporter({ preventServerStart: true });
    readers.push(prometheus);
  }
  if (exporters.has('otlp')) {
    const protocol = set(env.OTEL_EXPORTER_OTLP_METRICS_PROTOCOL) ?? set(env.OTEL_EXPORTER_OTLP_PROTOCOL);
    if (protocol && protocol !== 'http/protobuf') {
      log().warn(`OTLP metrics are exported with http/protobuf only; ignoring protocol "${protocol}"`);
    }
    const interval = milliseconds(env, 'OTEL_METRIC_EXPORT_INTERVAL') ?? 60_000;
    const timeout = Math.min(milliseconds(env, 'OTEL_METRIC_EXPORT_TIMEOUT') ?? 5000, interval);
    const [{ OTLPMetricExporter }, { PeriodicExportingMetricReader }] = await Promise.all([
      import('@opentelemetry/exporter-metrics-otlp-proto'),
      import('@opentelemetry/sdk-metrics'),
    ]);
    readers.push(
      new PeriodicExportingMetricReader({
        exporter: new OTLPMetricExporter(),
        exportIntervalMillis: interval,
        exportTimeoutMillis: timeout,
      }),
    );
  }
  return { readers, prometheus };
}

interface MetricsAddress {
  host: string;
  port: number;
}

/** OTEL_EXPORTER_PROMETHEUS_HOST and _PORT: 0.0.0.0:9464 unless set (port 0: any free port). */
function metricsAddress(env: NodeJS.ProcessEnv): MetricsAddress {
  const host = set(env.OTEL_EXPORTER_PROMETHEUS_HOST) ?? '0.0.0.0';
  const portText = set(env.OTEL_EXPORTER_PROMETHEUS_PORT) ?? '9464';
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535) {
    throw new ConfigError(`OTEL_EXPORTER_PROMETHEUS_PORT: "${portText}" is not a port number (0-65535)`);
  }
  return { host, port };
}

/** The Prometheus scrape endpoint. A port in use is logged, not fatal: reviews come first. */
async function serveMetrics(
  exporter: PrometheusExporter,
  { host, port }: MetricsAddress,
  logger: Logger,
): Promise<Server | undefined> {
  const { PrometheusSerializer } = await import('@opentelemetry/exporter-prometheus');
  const serializer = new PrometheusSerializer();
  const server = createServer((request, response) => {
    const path = request.url?.split('?')[0];
    if (path === '/metrics' && (request.method === 'GET' || request.method === 'HEAD')) {
      exporter.collect().then(
        ({ resourceMetrics, errors }) => {
          if (errors.length > 0) logger.error({ errors: errors.map(String) }, 'metrics collection errors');
          response
            .writeHead(200, { 'content-type': 'text/plain; version=0.0.4' })
            .end(serializer.serialize(withPrometheusUnits(resourceMetrics)));
        },
        (error: unknown) => {
          logger.error({ err: error }, 'metrics collection failed');
          response.writeHead(500, { 'content-type': 'text/plain' }).end('metrics collection failed\n');
        },
      );
    } else {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found: metrics are at /metrics\n');
    }
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host, port }, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    logger.error({ err: error, host, port }, 'metrics endpoint not served');
    return undefined;
  }
  server.on('error', (error) => logger.error({ err: error }, 'metrics endpoint error'));
  // The webhook's own server keeps the process alive; this one must not.
  server.unref();
  return server;
}

/** Each metric under the name the OTLP-to-Prometheus translation gives it (prometheus-names.ts). */
function withPrometheusUnits(resourceMetrics: ResourceMetrics): ResourceMetrics {
  return {
    ...resourceMetrics,
    scopeMetrics: resourceMetrics.scopeMetrics.map((scope) => ({
      ...scope,
      metrics: scope.metrics.map((metric) => {
        const { name, unit } = metric.descriptor;
        const gauge = metric.dataPointType === GAUGE_POINTS;
        return { ...metric, descriptor: { ...metric.descriptor, name: withUnitSuffix(name, unit, gauge) } };
      }),
    })),
  } as ResourceMetrics;
}

// DataPointType.GAUGE of @opentelemetry/sdk-metrics, which is only loaded when metrics are on.
const GAUGE_POINTS = 2;

/**
 * The serving certificate's remaining validity, as a gauge read at each collection (negative
 * once expired). `certificate` returns the PEM being served, which changes on a reload; a later
 * call replaces the source (one gauge per meter provider).
 */
export async function observeServingCertificate(certificate: () => string): Promise<void> {
  const { certificateFacts } = await import('./tls/inspect.ts');
  servingCertificate = certificate;
  const provider = metrics.getMeterProvider();
  if (certificateGaugeProvider === provider) return;
  certificateGaugeProvider = provider;
  let parsed: { pem: string; validTo: number } | undefined;
  provider
    .getMeter(METER_NAME)
    .createObservableGauge(METRIC.certificateRemaining, {
      description: 'Seconds until the serving certificate expires (negative once it has)',
      unit: 's',
    })
    .addCallback((result) => {
      const pem = servingCertificate?.();
      if (pem === undefined) return;
      if (parsed?.pem !== pem) parsed = { pem, validTo: certificateFacts(pem).validTo.getTime() };
      result.observe((parsed.validTo - Date.now()) / 1000);
    });
}

let servingCertificate: (() => string) | undefined;
let certificateGaugeProvider: unknown;

function metricsUrlOf(server: Server): string {
  const { address, port } = server.address() as AddressInfo;
  return `http://${address.includes(':') ? `[${address}]` : address}:${port}/metrics`;
}

function otlpEndpointSet(env: NodeJS.ProcessEnv, signal: 'TRACES' | 'METRICS'): boolean {
  return (
    set(env.OTEL_EXPORTER_OTLP_ENDPOINT) !== undefined ||
    set(env[`OTEL_EXPORTER_OTLP_${signal}_ENDPOINT`]) !== undefined
  );
}

function set(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

function flag(value: string | undefined): boolean {
  return set(value)?.toLowerCase() === 'true';
}

function milliseconds(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const text = set(env[name]);
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) {
    throw new ConfigError(`${name}: "${text}" is not a positive number of milliseconds`);
  }
  return value;
}

function diagLevel(value: string | undefined): DiagLogLevel {
  const name = set(value)?.toUpperCase() as keyof typeof DiagLogLevel | undefined;
  return name !== undefined && name in DiagLogLevel ? DiagLogLevel[name] : DiagLogLevel.WARN;
}

/** The SDK's own diagnostics (failed exports and the like), as JSON lines like the rest. */
function diagLogger(logger: Logger): DiagLogger {
  const sdkLogger = logger.child({ component: 'opentelemetry' });
  const at =
    (level: 'error' | 'warn' | 'info' | 'debug' | 'trace') =>
    (message: string, ...args: unknown[]) => {
      const reported = serializedError(message);
      const error = args.find((arg): arg is Error => arg instanceof Error);
      const details = args.filter((arg) => arg !== error).map((arg) => String(arg));
      sdkLogger[level](
        { err: error ?? reported, details: details.length > 0 ? details : undefined },
        reported ? reported.message : message,
      );
    };
  return { error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug'), verbose: at('trace') };
}

/** Errors from exports reach diag as JSON text ({"message": ..., "code": ...}): read them back. */
function serializedError(message: string): { message: string; code?: string } | undefined {
  if (!message.startsWith('{')) return undefined;
  try {
    const { message: text, code } = JSON.parse(message) as { message?: unknown; code?: unknown };
    if (typeof text !== 'string') return undefined;
    return typeof code === 'string' ? { message: text, code } : { message: text };
  } catch {
    return undefined;
  }
}

function withinLimit<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
    timer.unref();
  });
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
}
