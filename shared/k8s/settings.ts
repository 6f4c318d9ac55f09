// Configuration pieces several functions share, so each is written once: the annotation
// prefix setting, a Kubernetes quantity, and reading a file (or text) inside a config transform
// so that a problem names its variable.
import * as z from 'zod';
import { quantityProblem } from './quantity.ts';

/** The prefix every annotation the project reads is under, unless ANNOTATION_PREFIX says otherwise. */
export const DEFAULT_ANNOTATION_PREFIX = 'knative.netease.dev';

/** ANNOTATION_PREFIX: `description` says which of the function's annotations it prefixes. */
export function annotationPrefixSetting(description: string) {
  return z.string().min(1).default(DEFAULT_ANNOTATION_PREFIX).describe(description);
}

/** A Kubernetes quantity (`100m`, `1.5Gi`), refused with the parser's own words. */
export const quantitySchema = z.string().superRefine((text, ctx) => {
  const problem = quantityProblem(text);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

/**
 * In a config transform: what `read()` gives, or, when it throws, `fallback` and an issue on
 * `key` with the error's message (loadConfig then names the variable: VOLUME_POLICY_FILE: …).
 */
export function readSetting<T>(ctx: z.RefinementCtx, key: string, read: () => T, fallback: T): T {
  try {
    return read();
  } catch (error) {
    ctx.addIssue({ code: 'custom', path: [key], message: (error as Error).message });
    return fallback;
  }
}
