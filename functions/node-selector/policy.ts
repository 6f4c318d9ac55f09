// Which nodeSelector keys node-selector may write, per namespace: a policy file read once at
// start (NODE_SELECTOR_POLICY_FILE, JSON or YAML), in the shape of the volume policy. A key the
// rule does not allow is refused: a tenant must not pin pods to a named node
// (kubernetes.io/hostname) or claim labels only admins may set (node-restriction.kubernetes.io/,
// node-role.kubernetes.io/).
//
//   default:                          # namespaces no rule below names
//     keys: [kubernetes.io/arch, ...] # exact keys (default: the well-known scheduling labels)
//     prefixes: [example.com/]        # any key starting with one (default: <ANNOTATION_PREFIX>/)
//     unprefixed: true                # keys without a prefix, such as disktype (default true)
//   rules:                            # first rule naming the namespace wins
//     - namespaces: [team-*]
//       keys: [kubernetes.io/arch]
//       prefixes: [pool.example.com/]
import * as z from 'zod';
import { fieldsObject } from '../../shared/k8s/known-fields.ts';
import { labelKeyProblem } from '../../shared/k8s/names.ts';
import { firstRuleFor, namespacePattern, refineFirstRuleWins } from '../../shared/k8s/namespace-rules.ts';
import { loadPolicyFile, policyFrom } from '../../shared/k8s/policy-file.ts';

/** The node labels users schedule by, set by the kubelet or the cloud provider. */
export const WELL_KNOWN_KEYS = [
  'kubernetes.io/arch',
  'kubernetes.io/os',
  'topology.kubernetes.io/zone',
  'topology.kubernetes.io/region',
  'node.kubernetes.io/instance-type',
] as const;

/**
 * Keys that select particular nodes or that only admins may set: a prefix must never cover
 * them. A rule may still name one in `keys`, deliberately.
 */
export const RESTRICTED = [
  { key: 'kubernetes.io/hostname', why: 'names a single node' },
  { prefix: 'node-restriction.kubernetes.io/', why: 'is reserved for labels only admins may set' },
  { prefix: 'node-role.kubernetes.io/', why: 'marks control-plane and infrastructure nodes' },
] as const;

/** Why a key is restricted, or undefined. */
export function restrictedReason(key: string): string | undefined {
  for (const entry of RESTRICTED) {
    if ('key' in entry ? key === entry.key : key.startsWith(entry.prefix)) return entry.why;
  }
  return undefined;
}

/** A prefix that covers a restricted key or prefix: what it would let through. */
function prefixCoversRestricted(prefix: string): string | undefined {
  for (const entry of RESTRICTED) {
    const covered = 'key' in entry ? entry.key : entry.prefix;
    if (covered.startsWith(prefix) || ('prefix' in entry && prefix.startsWith(entry.prefix))) return covered;
  }
  return undefined;
}

const keySchema = z.string().superRefine((key, ctx) => {
  const problem = labelKeyProblem(key);
  if (problem) ctx.addIssue({ code: 'custom', message: `"${key}": ${problem}` });
});

const prefixSchema = z
  .string()
  .min(1, 'must not be empty (use unprefixed for keys without a prefix)')
  .superRefine((prefix, ctx) => {
    // A prefix is the start of a key: a valid key must be able to follow it.
    if (labelKeyProblem(`${prefix}x`)) {
      ctx.addIssue({ code: 'custom', message: `"${prefix}" is not the start of a label key (example.com/)` });
      return;
    }
    const covered = prefixCoversRestricted(prefix);
    if (covered) {
      ctx.addIssue({
        code: 'custom',
        message: `"${prefix}" covers "${covered}", which ${restrictedReason(covered)}: name such keys one by one in keys`,
      });
    }
  });

const ruleShape = {
  keys: z.array(keySchema).optional(),
  prefixes: z.array(prefixSchema).optional(),
  unprefixed: z.boolean().optional(),
};

export const nodeSelectorPolicySchema = fieldsObject(
  {
    default: fieldsObject(ruleShape, 'a node-selector policy rule').default({}),
    rules: z
      .array(
        fieldsObject(
          { namespaces: z.array(namespacePattern).min(1), ...ruleShape },
          'a node-selector policy rule',
        ),
      )
      .default([]),
  },
  'the node-selector policy',
).superRefine(refineFirstRuleWins);

type RuleInput = z.output<typeof nodeSelectorPolicySchema>['default'];

/** One rule, with omitted fields filled from the defaults. */
export interface KeyRule {
  readonly keys: ReadonlySet<string>;
  readonly prefixes: readonly string[];
  readonly unprefixed: boolean;
  /** How a denial names it: `default rule`, `rule rules[0] (namespace "team-*")`. */
  readonly name: string;
}

export interface NodeSelectorPolicy {
  readonly default: KeyRule;
  readonly rules: readonly (KeyRule & { readonly namespaces: readonly string[] })[];
}

/** The platform's own keys by default: those under the annotation prefix. */
function completeRule(rule: RuleInput, annotationPrefix: string, name: string): KeyRule {
  return {
    keys: new Set(rule.keys ?? WELL_KNOWN_KEYS),
    prefixes: rule.prefixes ?? [`${annotationPrefix}/`],
    unprefixed: rule.unprefixed ?? true,
    name,
  };
}

/** The policy in force without a file. */
export function defaultNodeSelectorPolicy(annotationPrefix: string): NodeSelectorPolicy {
  return { default: completeRule({}, annotationPrefix, 'default rule'), rules: [] };
}

/** Checks a parsed policy; throws an Error naming the field and the problem. */
export function nodeSelectorPolicyFrom(value: unknown, annotationPrefix: string): NodeSelectorPolicy {
  const policy = policyFrom(nodeSelectorPolicySchema, value);
  return {
    default: completeRule(policy.default, annotationPrefix, 'default rule'),
    rules: policy.rules.map((rule, i) => ({
      ...completeRule(rule, annotationPrefix, `rule rules[${i}]`),
      namespaces: rule.namespaces,
    })),
  };
}

/** Reads and checks a policy file; throws an Error naming the file, the field and the problem. */
export function loadNodeSelectorPolicy(file: string, annotationPrefix: string): NodeSelectorPolicy {
  return loadPolicyFile(file, (value) => nodeSelectorPolicyFrom(value, annotationPrefix));
}

export function keyRuleFor(policy: NodeSelectorPolicy, namespace: string | undefined): KeyRule {
  const named = firstRuleFor(policy.rules, namespace);
  if (named) return { ...named.rule, name: `${named.rule.name} (namespace "${named.pattern}")` };
  return policy.default;
}

/** Why `rule` does not allow `key` in a nodeSelector, or undefined when it does. */
export function keyProblem(rule: KeyRule, key: string): string | undefined {
  if (rule.keys.has(key)) return undefined;
  const restricted = restrictedReason(key);
  if (!restricted) {
    if (!key.includes('/') && rule.unprefixed) return undefined;
    if (rule.prefixes.some((prefix) => key.startsWith(prefix))) return undefined;
  }
  return `not allowed by the node-selector policy's ${rule.name}${restricted ? ` (it ${restricted})` : ''}`;
}

/** What `rule` allows, for the end of a refusal. */
export function describeAllowed(rule: KeyRule): string {
  const allowed = [
    rule.keys.size > 0 && `keys ${[...rule.keys].join(', ')}`,
    rule.prefixes.length > 0 && `keys under ${rule.prefixes.join(', ')}`,
    rule.unprefixed && 'keys without a prefix',
  ].filter(Boolean);
  return `the ${rule.name} allows ${allowed.join('; ') || 'no key'}`;
}
