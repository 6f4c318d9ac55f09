// The label-stamping configuration format, parsed once at start.
//
//   STAMP_LABELS="team.example.com/owner=platform, example.com/created-by={user}"
//
// Entries are `key=value`, separated by commas or new lines (so a mounted file can hold one
// per line; `#` starts a comment). A value may hold placeholders filled from the request:
// {namespace} {user} {operation} {kind} {resource}; the filled value is turned into a valid
// label value (other characters become '-', at most 63 characters).
import { labelKeyProblem, labelValueProblem } from '../../shared/k8s/names.ts';

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
  const entries = text
    .split(/[,\n]/)
    .map((line) => line.replace(/#.*/, '').trim())
    .filter(Boolean);
  for (const entry of entries) {
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
