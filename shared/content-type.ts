// kube-apiserver always sends `Content-Type: application/json`. Anything else is refused with
// a 415 that says what to send, before the body is read as a review: a form-encoded body
// (what `curl -d` sends by default) would otherwise surface as a baffling envelope error.
import { HttpError } from './errors.ts';

/** Raises a 415 unless `header` is `application/json`, in UTF-8 if it names a charset (RFC 8259). */
export function requireJsonContentType(header: string | undefined): void {
  const mediaType = header?.split(';')[0]?.trim().toLowerCase();
  if (mediaType === 'application/json') {
    const charset = /;\s*charset\s*=\s*"?([^";\s]*)/i.exec(header ?? '')?.[1]?.toLowerCase();
    if (charset === undefined || charset === 'utf-8' || charset === 'utf8') return;
    throw new HttpError(415, `Content-Type ${header}: JSON must be UTF-8, not charset ${charset}`);
  }
  const got = mediaType ? `Content-Type ${mediaType}` : 'no Content-Type';
  throw new HttpError(
    415,
    `${got}: expected application/json (with curl: -H 'Content-Type: application/json' --data-binary @review.json)`,
  );
}
