// The one HTTP adapter of every runtime (standalone HTTPS, OpenFaaS, faas-js-runtime): from
// what a transport knows of a request to the answer it sends. Method, content type, body (and
// its limit), `?timeout=`, trace context and error bodies are decided here, the same everywhere.
import { requireJsonContentType } from '../shared/content-type.ts';
import { HttpError } from '../shared/errors.ts';
import type { ReviewHandler } from '../shared/handler.ts';
import { answerBody, type HttpAnswer, messageAnswer } from '../shared/http-answer.ts';
import { type HeaderValues, parseApiserverTimeout, type RequestInfo } from '../shared/request-info.ts';

/** What a transport hands over of one request to a function's path. */
export interface ReviewRequest {
  readonly method: string | undefined;
  /** Lower-case names: content-type, content-length, traceparent/tracestate. */
  readonly headers: HeaderValues;
  /** The path posted to (a webhook entry's own path names the entry); undefined when unknown. */
  readonly path: string | undefined;
  /** The `timeout` query parameter the apiserver appends (`10s`). */
  readonly timeout: unknown;
  /** `performance.now()` when the request arrived: the budget is measured from there. */
  readonly receivedAt: number;
  /**
   * The body, as raw text (an HttpError 413 past the body limit) or already parsed as JSON by
   * the transport. Any other error: the client went away, and nobody is left to answer.
   */
  readBody(): Promise<unknown>;
}

export interface ReviewRequestAnswer extends HttpAnswer {
  readonly headers?: Record<string, string>;
}

/** Called with a `?timeout=` that is not a duration: it is ignored (it only informs telemetry). */
export type IgnoredTimeout = (value: unknown) => void;

/** The answer to `request`; undefined when the client went away before its body was read. */
export async function answerReviewRequest(
  handler: ReviewHandler,
  request: ReviewRequest,
  onIgnoredTimeout?: IgnoredTimeout,
): Promise<ReviewRequestAnswer | undefined> {
  if (request.method !== 'POST') {
    const message =
      `${request.path ?? '/'} answers POST with an AdmissionReview, not ${request.method} ` +
      `(to POST an AdmissionReview as JSON: curl -H 'Content-Type: application/json' --data-binary @review.json)`;
    return { ...messageAnswer(405, message), headers: { Allow: 'POST' } };
  }
  let body: unknown;
  try {
    const contentType = request.headers['content-type'];
    requireJsonContentType(typeof contentType === 'string' ? contentType : undefined);
    body = await request.readBody();
  } catch (error) {
    if (!(error instanceof HttpError)) return undefined;
    // After a body over the limit, the connection is not reused (one may still be arriving).
    const answer = messageAnswer(error.status, error.message);
    return error.status === 413 ? { ...answer, headers: { Connection: 'close' } } : answer;
  }
  const timeoutMs = parseApiserverTimeout(request.timeout);
  if (timeoutMs === undefined && request.timeout !== undefined) onIgnoredTimeout?.(request.timeout);
  const info: RequestInfo = {
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
    headers: request.headers,
    receivedAt: request.receivedAt,
    ...(request.path === undefined ? {} : { path: request.path }),
  };
  return answerBody(handler, body, info);
}

/** The answer to a request that met a bug, not bad input: a 500 that says so. */
export function internalErrorAnswer(error: unknown): HttpAnswer {
  const detail = error instanceof Error ? error.message : String(error);
  return messageAnswer(500, `internal error: ${detail}`);
}
