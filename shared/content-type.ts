// kube-apiserver always sends `Content-Type: application/json`. Anything else is refused with
// a 415 that says what to send, before the body is read as a review: a form-encoded body
// (what `curl -d` sends by default) would otherwise surface as a baffling envelope error.
import { HttpError } from './errors.ts';

/** Raises a 415 unless `header` is `application/json` (parameters such as charset allowed). */
export function requireJsonContentType(header: string | undefined): void {
  const mediaType = header?.split(';')[0]?.trim().toLowerCase();
  if (mediaType === 'application/json') return;
  const got = mediaType ? `Content-Type ${mediaType}` : 'no Content-Type';
  throw new HttpError(
    415,
    `${got}: expected application/json (with curl: -H 'Content-Type: application/json' --data-binary @review.json)`,
  );
}
