// The HTTP contract shared by every runtime (faas-js-runtime, OpenFaaS, standalone HTTPS):
// a body in, a status and a JSON body out. Envelope errors are 4xx with a {code, message}
// body; anything that reached a function is answered inside an AdmissionReview.
import { HttpError } from './errors.ts';
import { type ReviewHandler, serveReview } from './handler.ts';
import type { RequestInfo } from './request-info.ts';
import type { AdmissionReviewReply } from './response.ts';
import { type AdmissionReview, parseAdmissionReview } from './review.ts';
import { observeRejected } from './telemetry/observe.ts';

/** The body of every answer that is not an AdmissionReview. */
export interface ErrorBody {
  code: number;
  message: string;
}

export interface HttpAnswer {
  status: number;
  body: AdmissionReviewReply | ErrorBody;
}

/** A status with a JSON {code, message} body: every answer that is not an AdmissionReview. */
export function messageAnswer(status: number, message: string): HttpAnswer {
  return { status, body: { code: status, message } };
}

/** Parses a raw body as JSON, or raises a 400 that says where it broke. */
export function parseJsonBody(text: string): unknown {
  if (text.trim() === '') throw new HttpError(400, 'empty body: expected an AdmissionReview as JSON');
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new HttpError(400, `body is not valid JSON: ${(error as Error).message}`);
  }
}

/** The review in a body (raw text, or already parsed as JSON); an HttpError (400) says what is wrong. */
export function reviewOf(body: unknown): AdmissionReview {
  return parseAdmissionReview(typeof body === 'string' ? parseJsonBody(body) : body);
}

/**
 * Answers a body (raw text, or already parsed as JSON) with `handler`'s AdmissionReview, or a
 * 4xx naming what is wrong with the envelope. `info` carries what the transport knows of the
 * request (see RequestInfo): the apiserver's timeout and the trace headers, for telemetry; it
 * never changes the answer. Without it the review is still observed, with defaults.
 */
export function answerBody(handler: ReviewHandler, body: unknown, info: RequestInfo = {}): HttpAnswer {
  // The clock starts before parsing: the apiserver's timeout covers it too.
  const received: RequestInfo = {
    ...info,
    receivedAt: info.receivedAt ?? performance.now(),
    bodySize: info.bodySize ?? (typeof body === 'string' ? Buffer.byteLength(body) : undefined),
  };
  let review: AdmissionReview;
  try {
    review = reviewOf(body);
  } catch (error) {
    if (!(error instanceof HttpError)) throw error;
    observeRejected(handler.name, received, error.status, error.message);
    return messageAnswer(error.status, error.message);
  }
  return { status: 200, body: serveReview(handler, review, received) };
}
