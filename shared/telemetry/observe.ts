// Observes every review in one place: one SERVER span (continuing the caller's traceparent),
// the admission metrics, and one log line, all measured against the review's time budget.
import {
  type Attributes,
  isSpanContextValid,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import { bodySizeOf, type RequestInfo } from '../request-info.ts';
import { type Outcome, outcomeOf, type Response, statusOf } from '../response.ts';
import type { AdmissionRequest } from '../review.ts';
import { type Budget, budgetOf } from './budget.ts';
import { instruments, METER_NAME } from './instruments.ts';
import { log } from './log.ts';
import { telemetrySettings } from './settings.ts';

export type { Outcome };

/** What telemetry records of a response: its outcome, status and failure, derived from it alone. */
interface ReviewResult {
  readonly outcome: Outcome;
  readonly allowed: boolean;
  readonly patchOperations: number;
  readonly status?: { readonly code: number; readonly message: string } | undefined;
  readonly error?: unknown;
  readonly monitored?: Outcome | undefined;
}

function resultOf(response: Response): ReviewResult {
  return {
    outcome: outcomeOf(response),
    allowed: response.allowed,
    patchOperations: response.patch.length,
    status: statusOf(response),
    error: response.failure?.error,
    monitored: response.monitored,
  };
}

/** Span attribute names (the same `admission.*` names as the metric labels). */
export const ATTR = {
  function: 'admission.function',
  operation: 'admission.operation',
  outcome: 'admission.outcome',
  uid: 'admission.uid',
  kind: 'admission.kind',
  group: 'admission.group',
  resource: 'admission.resource',
  subResource: 'admission.subresource',
  name: 'admission.name',
  // The admitted object's namespace. Not k8s.namespace.name: that names the namespace the
  // process runs in, and the Collector's k8sattributes processor overwrites it.
  namespace: 'admission.namespace',
  dryRun: 'admission.dry_run',
  allowed: 'admission.allowed',
  statusCode: 'admission.status.code',
  patchOperations: 'admission.patch.operations',
  objectSize: 'admission.object.size',
  objectSizeEstimated: 'admission.object.size.estimated',
  budget: 'admission.budget.seconds',
  budgetSource: 'admission.budget.source',
  budgetUsed: 'admission.budget.used_seconds',
  budgetFraction: 'admission.budget.fraction',
  monitored: 'admission.monitored_outcome',
  httpStatus: 'http.response.status_code',
} as const;

const tracer = trace.getTracer(METER_NAME);

/** A review under way: `end` records it once the answer is ready. */
export interface ReviewObservation {
  end(response: Response): void;
}

export function observeReview(
  functionName: string,
  request: AdmissionRequest,
  info: RequestInfo = {},
): ReviewObservation {
  const start = info.receivedAt ?? performance.now();
  const span = startSpan(functionName, info, start);
  return {
    end(response) {
      const end = performance.now();
      const result = resultOf(response);
      const { budget, used, fraction, slow } = account(functionName, request.operation, result.outcome, {
        info,
        start,
        end,
        monitored: result.monitored,
      });
      if (span.isRecording()) {
        span.setAttributes(requestAttributes(functionName, request, info));
        span.setAttributes(resultAttributes(result, budget, used, fraction));
        if (result.outcome === 'error') {
          if (result.error !== undefined) span.recordException(errorOf(result.error));
          span.setStatus({
            code: SpanStatusCode.ERROR,
            message: result.status?.message ?? 'mutation failed',
          });
        }
      }
      const ids = traceIds(span);
      span.end(end);
      logReview(ids, functionName, request, result, used, budget, fraction);
      if (slow) logSlow(ids, functionName, request.uid, used, budget, fraction);
    },
  };
}

/** A request refused before it became a review (a malformed envelope, answered 4xx). */
export function observeRejected(
  functionName: string,
  info: RequestInfo,
  status: number,
  message: string,
): void {
  const start = info.receivedAt ?? performance.now();
  const span = startSpan(functionName, info, start);
  const end = performance.now();
  const { budget, used, fraction } = account(functionName, undefined, 'error', { info, start, end });
  if (span.isRecording()) {
    span.setAttributes({
      [ATTR.function]: functionName,
      [ATTR.outcome]: 'error',
      [ATTR.httpStatus]: status,
      [ATTR.budget]: budget.seconds,
      [ATTR.budgetSource]: budget.source,
      [ATTR.budgetUsed]: used,
      [ATTR.budgetFraction]: fraction,
    });
    span.setStatus({ code: SpanStatusCode.ERROR, message });
  }
  const ids = traceIds(span);
  span.end(end);
  log().warn(
    { function: functionName, status, outcome: 'error', duration_ms: ms(used), ...ids },
    `request rejected: ${message}`,
  );
}

function startSpan(functionName: string, info: RequestInfo, start: number): Span {
  const parent = info.headers ? propagation.extract(ROOT_CONTEXT, info.headers) : ROOT_CONTEXT;
  return tracer.startSpan(`admission ${functionName}`, { kind: SpanKind.SERVER, startTime: start }, parent);
}

/** Records the metrics of one answer; says whether it used more than the warned-of fraction. */
function account(
  functionName: string,
  operation: string | undefined,
  outcome: Outcome,
  { info, start, end, monitored }: { info: RequestInfo; start: number; end: number; monitored?: Outcome },
): { budget: Budget; used: number; fraction: number; slow: boolean } {
  const settings = telemetrySettings();
  const budget = budgetOf(info.timeoutMs, settings.defaultBudgetSeconds);
  const used = (end - start) / 1000;
  const fraction = used / budget.seconds;
  const labels: Attributes = { [ATTR.function]: functionName, [ATTR.outcome]: outcome };
  if (operation !== undefined) labels[ATTR.operation] = operation;
  // Monitor mode: counted by what it would have answered, beside the admission it gave.
  if (monitored !== undefined) labels[ATTR.monitored] = monitored;
  const metrics = instruments();
  metrics.duration.record(used, labels);
  metrics.reviews.add(1, labels);
  metrics.budgetFraction.record(fraction, labels);
  if (metrics.budgetRecorded.get(functionName) !== budget.seconds) {
    metrics.budgetRecorded.set(functionName, budget.seconds);
    metrics.budget.record(budget.seconds, { [ATTR.function]: functionName });
  }
  const slow = fraction > settings.warnFraction;
  if (slow) metrics.budgetWarnings.add(1, labels);
  return { budget, used, fraction, slow };
}

function requestAttributes(functionName: string, request: AdmissionRequest, info: RequestInfo): Attributes {
  const attributes: Attributes = {
    [ATTR.function]: functionName,
    [ATTR.uid]: request.uid,
    [ATTR.operation]: request.operation,
    [ATTR.kind]: request.kind.kind,
    [ATTR.resource]: request.resource.resource,
    [ATTR.dryRun]: request.dryRun === true,
  };
  if (request.kind.group) attributes[ATTR.group] = request.kind.group;
  if (request.subResource) attributes[ATTR.subResource] = request.subResource;
  if (request.namespace) attributes[ATTR.namespace] = request.namespace;
  if (request.name) attributes[ATTR.name] = request.name;
  const size = bodySizeOf(info);
  if (size !== undefined) {
    attributes[ATTR.objectSize] = size;
  } else if (request.object != null) {
    // No transport told us the body's size (the CLI, a direct call): estimate it from the
    // object re-serialized. Only paid when the span is recorded.
    attributes[ATTR.objectSize] = JSON.stringify(request.object).length;
    attributes[ATTR.objectSizeEstimated] = true;
  }
  return attributes;
}

function resultAttributes(result: ReviewResult, budget: Budget, used: number, fraction: number): Attributes {
  const attributes: Attributes = {
    [ATTR.outcome]: result.outcome,
    [ATTR.allowed]: result.allowed,
    [ATTR.patchOperations]: result.patchOperations,
    [ATTR.budget]: budget.seconds,
    [ATTR.budgetSource]: budget.source,
    [ATTR.budgetUsed]: used,
    [ATTR.budgetFraction]: fraction,
  };
  if (result.status) attributes[ATTR.statusCode] = result.status.code;
  return attributes;
}

type TraceIds = { trace_id?: string; span_id?: string };

/**
 * The ids that lead from a log line to its span, read before the span ends (an ended span no
 * longer counts as recording). With tracing off the span is not recorded: the caller's trace
 * id (from traceparent) is still worth logging, its span id is not ours.
 */
function traceIds(span: Span): TraceIds {
  const context = span.spanContext();
  if (!isSpanContextValid(context)) return {};
  return span.isRecording()
    ? { trace_id: context.traceId, span_id: context.spanId }
    : { trace_id: context.traceId };
}

/** Milliseconds to the microsecond, and fractions to three significant digits: enough to read. */
const ms = (seconds: number) => Math.round(seconds * 1e6) / 1e3;
const fractionOf = (fraction: number) => Number(fraction.toPrecision(3));

/** One line per review: debug when it went through, warn for a denial, error for a failure. */
function logReview(
  ids: TraceIds,
  functionName: string,
  request: AdmissionRequest,
  result: ReviewResult,
  used: number,
  budget: Budget,
  fraction: number,
): void {
  const level = result.outcome === 'error' ? 'error' : result.outcome === 'denied' ? 'warn' : 'debug';
  const logger = log();
  if (!logger.isLevelEnabled(level)) return;
  // Identifying fields only: never the object, which may hold anything a user wrote.
  const fields = {
    function: functionName,
    uid: request.uid,
    operation: request.operation,
    kind: request.kind.kind,
    namespace: request.namespace,
    name: request.name || undefined,
    dry_run: request.dryRun === true,
    outcome: result.outcome,
    allowed: result.allowed,
    patch_operations: result.patchOperations,
    status_code: result.status?.code,
    duration_ms: ms(used),
    budget_s: budget.seconds,
    budget_fraction: fractionOf(fraction),
    ...ids,
  };
  if (level === 'error') {
    const err = result.error === undefined ? undefined : errorOf(result.error);
    logger.error({ ...fields, err }, `review failed: ${result.status?.message ?? ''}`);
  } else if (level === 'warn') {
    logger.warn(fields, `review denied: ${result.status?.message ?? ''}`);
  } else {
    logger.debug(fields, 'review answered');
  }
}

function logSlow(
  ids: TraceIds,
  functionName: string,
  uid: string,
  used: number,
  budget: Budget,
  fraction: number,
): void {
  const { warnFraction } = telemetrySettings();
  const fields = {
    function: functionName,
    uid,
    duration_ms: ms(used),
    budget_s: budget.seconds,
    budget_fraction: fractionOf(fraction),
    budget_warn_fraction: warnFraction,
    ...ids,
  };
  if (fraction > 1) {
    // The apiserver stopped waiting: the answer is lost and failurePolicy decided instead.
    log().error(
      fields,
      `review answered after ${used.toFixed(1)}s, later than the apiserver's timeout of ${budget.seconds}s: the answer is lost and failurePolicy applies`,
    );
    return;
  }
  log().warn(
    fields,
    `review used ${(fraction * 100).toFixed(0)}% of its ${budget.seconds}s budget (warning above ${warnFraction * 100}%)`,
  );
}

function errorOf(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
