// A function's refusal, structured like knative's apis.FieldError: each problem has a kind, a
// path (built outwards with viaField / viaIndex / viaKey / viaItem / viaAnnotation) and a
// message; several are joined with `also`. The kind gives the answer's code and reason, from
// one table; formatting (shared/field-path.ts) gives the sentence the user reads.
import { type Named, type PathPart, placed } from './field-path.ts';

/** What is wrong, as the apiserver's status reasons say it. */
export type DenialKind = 'invalid' | 'forbidden' | 'not-found' | 'conflict' | 'unprocessable';

/** Each kind's HTTP code and Kubernetes status reason (metav1.StatusReason). */
export const DENIAL_KINDS: Readonly<Record<DenialKind, { code: number; reason: string }>> = {
  invalid: { code: 400, reason: 'BadRequest' },
  forbidden: { code: 403, reason: 'Forbidden' },
  'not-found': { code: 404, reason: 'NotFound' },
  conflict: { code: 409, reason: 'Conflict' },
  unprocessable: { code: 422, reason: 'Invalid' },
};

/** The reason for a status code: the table's, InternalError from 500, Forbidden otherwise. */
export function reasonFor(code: number): string {
  if (code >= 500) return 'InternalError';
  return Object.values(DENIAL_KINDS).find((kind) => kind.code === code)?.reason ?? 'Forbidden';
}

export interface FieldProblem {
  readonly kind: DenialKind;
  readonly path: readonly PathPart[];
  readonly message: string;
  /** What the refusal it leads is about, said before it (`revision template (spec.template)`). */
  readonly lead?: readonly string[];
}

/** A problem as the user reads it: what it leads, where, what. */
function problemText({ lead, path, message }: FieldProblem): string {
  const text = placed(path, message);
  return lead && lead.length > 0 ? `${lead.join(': ')}: ${text}` : text;
}

/**
 * A refusal: what the user sees names the annotation, item, field and problem. A denial may
 * list several problems (each a complete sentence of its own); the reply joins them with "; "
 * and caps what it says at a readable length, telling how many more there were (response.ts).
 * Its code is its first problem's kind's (or the one it was given).
 */
export class Denial {
  readonly fieldProblems: readonly FieldProblem[];
  readonly code: number;
  constructor(problems: readonly FieldProblem[], code?: number) {
    this.fieldProblems = problems;
    this.code = code ?? DENIAL_KINDS[problems[0]?.kind ?? 'forbidden'].code;
  }
  /** Each problem as the user reads it. */
  get problems(): readonly string[] {
    return this.fieldProblems.map(problemText);
  }
  /** Every problem, joined: for logs and tests; replies cap it (response.ts). */
  get message(): string {
    return this.problems.join('; ');
  }
  /** The same refusal, said to be about `label` (a chain's function, `revision template (spec.template)`). */
  within(label: string): Denial {
    const [first, ...rest] = this.fieldProblems;
    if (!first) return this;
    return new Denial([{ ...first, lead: [label, ...(first.lead ?? [])] }, ...rest], this.code);
  }
  /** Every problem one level down: `part` goes before each path. */
  via(part: PathPart): Denial {
    const moved = this.fieldProblems.map((problem) => ({ ...problem, path: [part, ...problem.path] }));
    return new Denial(moved, this.code);
  }
  viaField(field: string): Denial {
    return this.via({ field });
  }
  /** Index `index` of a list field, optionally with the element's name (`[0] ("setup")`). */
  viaIndex(index: number, named?: Named): Denial {
    return this.via(named ? { index, named } : { index });
  }
  viaKey(key: string): Denial {
    return this.via({ key });
  }
  /** Item `item` of a list the user wrote, optionally named (`item 0 (volume "data")`). */
  viaItem(item: number, named?: Named): Denial {
    return this.via(named ? { item, named } : { item });
  }
  viaAnnotation(key: string): Denial {
    return this.via({ label: `annotation ${key}` });
  }
  /** This refusal's problems, then the others' (its code stays). */
  also(...others: readonly (Denial | undefined)[]): Denial {
    const more = others.flatMap((other) => other?.fieldProblems ?? []);
    return new Denial([...this.fieldProblems, ...more], this.code);
  }
}

function problem(kind: DenialKind, message: string, path: readonly PathPart[]): Denial {
  return new Denial([{ kind, path, message }]);
}

/** Malformed input (400 BadRequest): an annotation that does not parse, a field of the wrong type. */
export const invalid = (message: string, ...path: PathPart[]) => problem('invalid', message, path);
/** Well-formed, but not allowed (403 Forbidden): a policy says no. */
export const forbidden = (message: string, ...path: PathPart[]) => problem('forbidden', message, path);
/** Something named that is not there (404 NotFound). */
export const notFound = (message: string, ...path: PathPart[]) => problem('not-found', message, path);
/** At odds with what the object already has (409 Conflict). */
export const conflict = (message: string, ...path: PathPart[]) => problem('conflict', message, path);

/** A denial with a code of its own (its reason from the table); functions say the kind instead. */
export function deny(message: string, code = 403): Denial {
  return new Denial([{ kind: 'forbidden', path: [], message }], code);
}

/** One denial listing every problem of `denials`, with the code of the first; undefined for none. */
export function denyAll(denials: readonly (Denial | undefined)[]): Denial | undefined {
  const [first, ...rest] = denials.filter((denial) => denial !== undefined);
  return first?.also(...rest);
}
