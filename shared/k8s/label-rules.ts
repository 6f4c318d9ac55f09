// Labels to stamp on admitted objects, as configured (label-stamping, config-volume), parsed
// once at start and applied per request.
//
//   STAMP_LABELS="team.example.com/owner=platform, example.com/created-by={user}"
//
// Entries are `key=value`, separated by commas or new lines (so a mounted file can hold one
// per line; `#` starts a comment). A value may hold placeholders filled from the request:
// {namespace} {user} {operation} {kind} {resource}; the filled value is turned into a valid
// label value (other characters become '-', at most 63 characters).

import { configEntries } from '../config.ts';
import type { AdmissionRequest } from '../review.ts';
import { labelKeyProblem, labelValueProblem, toLabelValue } from './names.ts';

export const PLACEHOLDERS = ['namespace', 'user', 'operation', 'kind', 'resource'] as const;
export type Placeholder = (typeof PLACEHOLDERS)[number];

export interface LabelRule {
  readonly key: string;
  /** The value as configured; placeholders are filled per request. */
  readonly template: string;
  readonly templated: boolean;
}

const RESERVED = /(^|\.)(kubernetes\.io|k8s\.io)$/;

/** Parses the entries of `text`; throws an Error whose message names the entry and problem. */
export function parseLabelRules(text: string, allowReserved: boolean): LabelRule[] {
  const rules: LabelRule[] = [];
  for (const entry of configEntries(text)) {
    const eq = entry.indexOf('=');
    if (eq < 0) throw new Error(`entry "${entry}": expected key=value`);
    const key = entry.slice(0, eq).trim();
    const template = entry.slice(eq + 1).trim();
    const keyProblem = labelKeyProblem(key);
    if (keyProblem) throw new Error(`entry "${entry}": key ${keyProblem}`);
    const prefix = key.includes('/') ? key.slice(0, key.indexOf('/')) : '';
    if (!allowReserved && RESERVED.test(prefix)) {
      throw new Error(
        `entry "${entry}": key uses the reserved prefix "${prefix}" (ALLOW_RESERVED_PREFIXES=true permits it)`,
      );
    }
    const placeholders = [...template.matchAll(/\{([^}]*)\}/g)].map((m) => m[1] ?? '');
    const unknown = placeholders.find((p) => !(PLACEHOLDERS as readonly string[]).includes(p));
    if (unknown !== undefined) {
      throw new Error(
        `entry "${entry}": unknown placeholder {${unknown}} (known: ${PLACEHOLDERS.join(', ')})`,
      );
    }
    if (placeholders.length === 0) {
      const valueProblem = labelValueProblem(template);
      if (valueProblem) throw new Error(`entry "${entry}": value ${valueProblem}`);
    }
    if (rules.some((r) => r.key === key)) throw new Error(`entry "${entry}": key "${key}" is given twice`);
    rules.push({ key, template, templated: placeholders.length > 0 });
  }
  return rules;
}

/** The value `rule` stamps for `request`, its placeholders filled. */
export function labelValueFor(rule: LabelRule, request: AdmissionRequest): string {
  if (!rule.templated) return rule.template;
  const values: Record<Placeholder, string> = {
    namespace: request.namespace ?? '',
    user: request.userInfo?.username ?? '',
    operation: request.operation,
    kind: request.kind.kind,
    resource: request.resource.resource,
  };
  return toLabelValue(rule.template.replace(/\{([a-z]+)\}/g, (_, name: Placeholder) => values[name]));
}

interface Labelled {
  metadata?: { labels?: Record<string, string> | null } | null;
}

/**
 * Stamps the labels of `rules` on `object` (a draft, changed in place). A static label the
 * object already has with another value is kept, with a warning from `warn`, unless
 * `overwrite`. A label filled from the request ({user}, {namespace}...) records where the
 * object came from, so it always reflects this request: a value written beforehand by whoever
 * sent it is replaced, with a warning, whatever `overwrite` says.
 */
export function stampLabels(
  object: Labelled,
  rules: readonly LabelRule[],
  request: AdmissionRequest,
  { overwrite, warn, source }: { overwrite: boolean; warn: (message: string) => void; source: string },
): void {
  if (rules.length === 0) return;
  object.metadata ??= {};
  const metadata = object.metadata;
  for (const rule of rules) {
    const value = labelValueFor(rule, request);
    // Own labels only: a key such as `constructor` must not find Object's own property.
    const labels = metadata.labels;
    const present = labels && Object.hasOwn(labels, rule.key) ? labels[rule.key] : undefined;
    if (present === value) continue;
    if (present !== undefined) {
      if (rule.templated) {
        warn(
          `${source}: label "${rule.key}" set to "${value}" from the request (${rule.template}), replacing "${present}"`,
        );
      } else if (!overwrite) {
        warn(
          `${source}: label "${rule.key}" kept as "${present}" (configured "${value}"; OVERWRITE_LABELS=true replaces it)`,
        );
        continue;
      }
    }
    metadata.labels ??= {};
    metadata.labels[rule.key] = value;
  }
}
