// The function module faas-js-runtime loads, as a Knative Functions build runs it:
//
//   FUNCTION=node-selector faas-js-runtime runtimes/knative.ts     (or `npm start`)
//
// faas-js-runtime calls init() once before it listens, then handle() for every request to `/`
// (JSON bodies arrive parsed), serves readiness() and liveness() on /health/*, and calls
// shutdown() on SIGTERM.
import type { Context, HealthCheck, IncomingBody, StructuredReturn } from 'faas-js-runtime';
import { requireJsonContentType } from '../shared/content-type.ts';
import { HttpError } from '../shared/errors.ts';
import { errorAnswer, type HttpAnswer, handleReview } from '../shared/handle.ts';
import { parseApiserverTimeout, type RequestInfo, WEBHOOK_PATH_HEADER } from '../shared/request-info.ts';
import type { LoadedMutation } from '../shared/runner.ts';
import { selectedFunction } from './selected-function.ts';
import { shutdownTelemetry, startTelemetry } from './telemetry.ts';

let served: LoadedMutation | undefined;

/** Picks the function, reads its configuration and starts telemetry, once; a ConfigError stops the start. */
export async function init(): Promise<void> {
  const selected = await selectedFunction();
  await startTelemetry({ serviceName: selected.mutation.name });
  served = selected;
}

/** Flushes telemetry before faas-js-runtime exits on SIGTERM. */
export async function shutdown(): Promise<void> {
  await shutdownTelemetry();
}

/** The function being served (after init). */
export function servedFunction(): LoadedMutation | undefined {
  return served;
}

export function handle(context: Context, body?: IncomingBody): StructuredReturn {
  const answer = answerRequest(context, body);
  if (answer.status >= 400 && 'message' in answer.body) {
    const log = answer.status >= 500 ? context.log.error : context.log.warn;
    log.call(context.log, `${context.method} refused with ${answer.status}: ${answer.body.message}`);
  }
  return {
    statusCode: answer.status,
    headers: { 'content-type': 'application/json; charset=utf-8' },
    body: answer.body,
  };
}

function answerRequest(context: Context, body: IncomingBody | undefined): HttpAnswer {
  if (!served) return errorAnswer(503, 'the function is not initialised yet');
  if (context.method !== 'POST') {
    return errorAnswer(405, `${context.method} is not served: POST an AdmissionReview as JSON`);
  }
  try {
    requireJsonContentType(context.headers['content-type']);
    // The body arrives parsed, so a string here was a JSON string literal, not raw text.
    if (typeof body === 'string')
      throw new HttpError(400, 'invalid AdmissionReview: expected an object, received a string');
    return handleReview(served, body, requestInfo(context));
  } catch (error) {
    if (error instanceof HttpError) return errorAnswer(error.status, error.message);
    return errorAnswer(500, `internal error: ${(error as Error).message}`);
  }
}

function requestInfo(context: Context): RequestInfo {
  const headers = context.headers;
  // faas-js-runtime serves only `/`: the webhook's own path comes from the TLS proxy.
  const path = headers[WEBHOOK_PATH_HEADER];
  const known = typeof path === 'string' ? { headers, path } : { headers };
  const timeout = context.query?.timeout;
  if (timeout === undefined) return known;
  const timeoutMs = parseApiserverTimeout(timeout);
  if (timeoutMs === undefined) {
    context.log.warn(`ignoring query parameter timeout=${JSON.stringify(timeout)}: not a duration like 10s`);
    return known;
  }
  return { ...known, timeoutMs };
}

/** Ready once the function and its configuration are loaded. */
export const readiness: HealthCheck = async (_request, reply) => {
  if (served) return 'OK';
  reply.statusCode = 503;
  return 'not initialised';
};

/**
 * Alive while the process answers. faas-js-runtime's default check answers 503 whenever the
 * event loop lags over 42 ms, which one large review can cause: a probe must not take a
 * working instance out of service, or restart it, for that.
 */
export async function liveness(): Promise<string> {
  return 'OK';
}
