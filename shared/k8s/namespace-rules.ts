// What the per-namespace policy files (volume policy, node-selector policy) share: rules that
// name namespaces exactly or by a prefix ending in "*", the first rule naming a namespace wins.
import * as z from 'zod';

const NAMESPACE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const NAMESPACE_PREFIX = /^[a-z0-9-]*\*$/;

export const namespacePattern = z.string().refine((n) => NAMESPACE.test(n) || NAMESPACE_PREFIX.test(n), {
  message: 'must be a namespace name or a name prefix ending in "*" (team-*)',
});

/** Refuses a pattern named by two rules: the later one could never apply to it. */
export function refineFirstRuleWins(
  policy: { readonly rules: readonly { readonly namespaces: readonly string[] }[] },
  ctx: z.RefinementCtx,
): void {
  const seen = new Map<string, number>();
  for (const [i, rule] of policy.rules.entries()) {
    for (const [j, pattern] of rule.namespaces.entries()) {
      const first = seen.get(pattern);
      if (first !== undefined && first !== i) {
        ctx.addIssue({
          code: 'custom',
          path: ['rules', i, 'namespaces', j],
          message: `"${pattern}" is already named by rules[${first}] (the first rule naming a namespace wins)`,
        });
      }
      seen.set(pattern, first ?? i);
    }
  }
}

function matches(pattern: string, namespace: string): boolean {
  return pattern.endsWith('*') ? namespace.startsWith(pattern.slice(0, -1)) : pattern === namespace;
}

/** The first rule naming `namespace`, its index and the pattern that named it. */
export function firstRuleFor<Rule extends { readonly namespaces: readonly string[] }>(
  rules: readonly Rule[],
  namespace: string | undefined,
): { rule: Rule; index: number; pattern: string } | undefined {
  if (!namespace) return undefined;
  for (const [index, rule] of rules.entries()) {
    const pattern = rule.namespaces.find((p) => matches(p, namespace));
    if (pattern !== undefined) return { rule, index, pattern };
  }
  return undefined;
}
