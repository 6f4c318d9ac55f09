// The HTTP contract shared by every runtime (faas-js-runtime, OpenFaaS, standalone HTTPS):
// a body in, a status and a JSON body out. Envelope errors are 4xx with a message; anything
// that reached a mutation is answered inside an AdmissionReview.
import { answerChain, type LoadedChain, reviewChain } from './chain.ts';
import { HttpError } from './errors.ts';
import type { RequestInfo } from './request-info.ts';
import type { AdmissionReviewReply } from './response.ts';
import { type AdmissionReview, parseAdmissionReview } from './review.ts';
import { answerReview, type LoadedMutation, review } from './runner.ts';
import { observeRejected } from './telemetry/observe.ts';

export interface ErrorBody {
  code: number;
  message: string;
}

export interface HttpAnswer {
  status: number;
  body: AdmissionReviewReply | ErrorBody;
}

export function errorAnswer(status: number, message: string): HttpAnswer {
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

/**
 * Answers a body already parsed as JSON (or raw text) with the AdmissionReview of a function,
 * or of a chain of functions. `info` carries what the transport knows of the request (see
 * RequestInfo): the apiserver's timeout and the trace headers, for telemetry; it never
 * changes the answer. Without it the review is still observed, with defaults.
 */
export function handleReview(
  target: LoadedMutation | LoadedChain,
  body: unknown,
  info: RequestInfo = {},
): HttpAnswer {
  // The clock starts before parsing: the apiserver's timeout covers it too.
  const received: RequestInfo = {
    ...info,
    receivedAt: info.receivedAt ?? performance.now(),
    bodySize: info.bodySize ?? (typeof body === 'string' ? Buffer.byteLength(body) : undefined),
  };
  const chain = 'steps' in target ? target : undefined;
  let reviewed: AdmissionReview;
  try {
    reviewed = parseAdmissionReview(typeof body === 'string' ? parseJsonBody(body) : body);
  } catch (error) {
    if (!(error instanceof HttpError)) throw error;
    const name = chain ? chain.name : (target as LoadedMutation).mutation.name;
    observeRejected(name, received, error.status, error.message);
    return errorAnswer(error.status, error.message);
  }
  const reply = chain
    ? reviewChain(chain, reviewed, received)
    : review(target as LoadedMutation, reviewed, received);
  return { status: 200, body: reply };
}

/**
 * The reply `target` would give to `body`, without counting, tracing or logging it: for
 * previews (the standalone server looking for a sample to suggest), never for requests.
 * Raises an HttpError for a body that is not an AdmissionReview.
 */
export function previewReview(target: LoadedMutation | LoadedChain, body: unknown): AdmissionReviewReply {
  const reviewed = parseAdmissionReview(typeof body === 'string' ? parseJsonBody(body) : body);
  return ('steps' in target ? answerChain(target, reviewed) : answerReview(target, reviewed)).reply;
}
