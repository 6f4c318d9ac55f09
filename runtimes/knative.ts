// The function module faas-js-runtime loads, as a Knative Functions build runs it:
//
//   FUNCTION=node-selector faas-js-runtime runtimes/knative.ts     (or `npm start`)
//
// faas-js-runtime calls init() once before it listens, then handle() for every request to `/`
// (JSON bodies arrive parsed), serves readiness() and liveness() on /health/*, and calls
// shutdown() on SIGTERM.
import { performance } from 'node:perf_hooks';
import type { Context, HealthCheck, IncomingBody, StructuredReturn } from 'faas-js-runtime';
import { HttpError } from '../shared/errors.ts';
import { type FunctionHandler, functionHandler } from '../shared/handler.ts';
import { type HttpAnswer, messageAnswer } from '../shared/http-answer.ts';
import { WEBHOOK_PATH_HEADER } from '../shared/request-info.ts';
import { answerReviewRequest, internalErrorAnswer } from './review-request.ts';
import { selectedFunction } from './selected-function.ts';
import { shutdownTelemetry, startTelemetry } from './telemetry.ts';

let served: FunctionHandler | undefined;

/** Picks the function, reads its configuration and starts telemetry, once; a ConfigError stops the start. */
export async function init(): Promise<void> {
  const selected = await selectedFunction();
  await startTelemetry({ serviceName: selected.mutation.name });
  served = functionHandler(selected);
}

/** Flushes telemetry before faas-js-runtime exits on SIGTERM. */
export async function shutdown(): Promise<void> {
  await shutdownTelemetry();
}

/** The function being served (after init). */
export function servedFunction(): FunctionHandler | undefined {
  return served;
}

export async function handle(context: Context, body?: IncomingBody): Promise<StructuredReturn> {
  const answer = await answerRequest(context, body);
  if (answer.status >= 400 && 'message' in answer.body) {
    const log = answer.status >= 500 ? context.log.error : context.log.warn;
    log.call(context.log, `${context.method} refused with ${answer.status}: ${answer.body.message}`);
  }
  return {
    statusCode: answer.status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...answer.headers },
    body: answer.body,
  };
}

async function answerRequest(
  context: Context,
  body: IncomingBody | undefined,
): Promise<HttpAnswer & { headers?: Record<string, string> }> {
  if (!served) return messageAnswer(503, 'the function is not initialised yet');
  const { headers } = context;
  // faas-js-runtime serves only `/`: the webhook's own path comes from the TLS proxy.
  const path = headers[WEBHOOK_PATH_HEADER];
  try {
    const answer = await answerReviewRequest(
      served,
      {
        method: context.method,
        headers,
        path: typeof path === 'string' ? path : undefined,
        timeout: context.query?.timeout,
        receivedAt: performance.now(),
        // The body arrives parsed, so a string here was a JSON string literal, not raw text.
        readBody: async () => {
          if (typeof body !== 'string') return body;
          throw new HttpError(400, 'invalid AdmissionReview: expected an object, received a string');
        },
      },
      (timeout) =>
        context.log.warn(
          `ignoring query parameter timeout=${JSON.stringify(timeout)}: not a duration like 10s`,
        ),
    );
    return answer ?? internalErrorAnswer(new Error('the request body could not be read'));
  } catch (error) {
    return internalErrorAnswer(error);
  }
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
