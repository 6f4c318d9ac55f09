// The HTTP contract shared by every runtime (faas-js-runtime, OpenFaaS, standalone HTTPS):
// a body in, a status and a JSON body out. Envelope errors are 4xx with a message; anything
// that reached a mutation is answered inside an AdmissionReview.
import { type LoadedChain, reviewChain } from './chain.ts';
import { HttpError } from './errors.ts';
import type { RequestInfo } from './request-info.ts';
import type { AdmissionReviewReply } from './response.ts';
import { parseAdmissionReview } from './review.ts';
import { type LoadedMutation, review } from './runner.ts';

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
 * or of a chain of functions. `info` carries what the transport knows about the request (the
 * apiserver's timeout) for telemetry; it never changes the answer.
 */
export function handleReview(
  target: LoadedMutation | LoadedChain,
  body: unknown,
  _info: RequestInfo = {},
): HttpAnswer {
  try {
    const parsed = parseAdmissionReview(typeof body === 'string' ? parseJsonBody(body) : body);
    return { status: 200, body: 'steps' in target ? reviewChain(target, parsed) : review(target, parsed) };
  } catch (error) {
    if (error instanceof HttpError) return errorAnswer(error.status, error.message);
    throw error;
  }
}
