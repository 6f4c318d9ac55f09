// Whether kube-apiserver would call a webhook for a request, and if not, why: rules,
// namespaceSelector against the namespace's labels, objectSelector against the object's
// (new or old), then matchConditions as CEL (1.28+). The order is the apiserver's
// (admission/plugin/webhook/generic/webhook.go ShouldCallHook).
import { evaluate } from '@marcbachmann/cel-js';
import type { AdmissionRequest } from '../../shared/review.ts';

export interface LabelSelector {
  readonly matchLabels?: Readonly<Record<string, string>> | null;
  readonly matchExpressions?:
    | readonly {
        readonly key: string;
        readonly operator: string;
        readonly values?: readonly string[] | null;
      }[]
    | null;
}

export interface Rule {
  readonly apiGroups?: readonly string[] | null;
  readonly apiVersions?: readonly string[] | null;
  readonly resources?: readonly string[] | null;
  readonly operations?: readonly string[] | null;
  readonly scope?: string | null;
}

/** The parts of admissionregistration/v1 MutatingWebhook and ValidatingWebhook that decide a call. */
export interface Webhook {
  readonly name: string;
  readonly rules?: readonly Rule[] | null;
  readonly namespaceSelector?: LabelSelector | null;
  readonly objectSelector?: LabelSelector | null;
  readonly matchConditions?: readonly { readonly name: string; readonly expression: string }[] | null;
  readonly failurePolicy?: string | null;
  readonly timeoutSeconds?: number | null;
  readonly reinvocationPolicy?: string | null;
  readonly clientConfig?: {
    readonly url?: string | null;
    readonly service?: {
      readonly namespace?: string;
      readonly name?: string;
      readonly path?: string | null;
    } | null;
  } | null;
}

export interface Decision {
  readonly called: boolean;
  /** Why not (or, when called, a note such as a match condition that failed to evaluate). */
  readonly reason?: string;
}

type Labels = Readonly<Record<string, string>> | null | undefined;

export function describeSelector(selector: LabelSelector): string {
  const parts = [
    ...Object.entries(selector.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`),
    ...(selector.matchExpressions ?? []).map((e) =>
      e.operator === 'Exists'
        ? e.key
        : e.operator === 'DoesNotExist'
          ? `!${e.key}`
          : `${e.key} ${e.operator.toLowerCase()} (${(e.values ?? []).join(',')})`,
    ),
  ];
  return parts.join(', ') || '(everything)';
}

/** The first requirement of a metav1.LabelSelector `labels` fails, or undefined when it matches. */
export function selectorMismatch(
  selector: LabelSelector | null | undefined,
  labels: Labels,
): string | undefined {
  if (!selector) return undefined;
  const has = (key: string) => labels != null && Object.hasOwn(labels, key);
  for (const [key, value] of Object.entries(selector.matchLabels ?? {}))
    if (labels?.[key] !== value)
      return `${key}=${value} (${has(key) ? `it is "${labels?.[key]}"` : 'no such label'})`;
  for (const { key, operator, values } of selector.matchExpressions ?? []) {
    const value = labels?.[key];
    const list = values ?? [];
    const holds =
      operator === 'Exists'
        ? has(key)
        : operator === 'DoesNotExist'
          ? !has(key)
          : operator === 'In'
            ? value !== undefined && list.includes(value)
            : operator === 'NotIn'
              ? value === undefined || !list.includes(value)
              : false;
    if (!holds) {
      const now = has(key) ? `it is "${value}"` : 'no such label';
      return `${describeSelector({ matchExpressions: [{ key, operator, values: list }] })} (${now})`;
    }
  }
  return undefined;
}

const matches = (patterns: readonly string[] | null | undefined, value: string) =>
  (patterns ?? []).some((p) => p === '*' || p === value);

/** Whether one rule names the request (RuleWithOperations: operations, group, version, resource, scope). */
function ruleMismatch(rule: Rule, request: AdmissionRequest, namespaced: boolean): string | undefined {
  if (!matches(rule.operations, request.operation))
    return `operation ${request.operation} not in [${(rule.operations ?? []).join(', ')}]`;
  const { group, version, resource } = request.resource;
  if (!matches(rule.apiGroups, group))
    return `group "${group}" not in [${(rule.apiGroups ?? []).map((g) => `"${g}"`).join(', ')}]`;
  if (!matches(rule.apiVersions, version))
    return `version ${version} not in [${(rule.apiVersions ?? []).join(', ')}]`;
  const sub = request.subResource ?? '';
  const full = sub ? `${resource}/${sub}` : resource;
  const resourceHit = (rule.resources ?? []).some((r) => {
    if (r === '*/*') return true;
    if (r === '*') return sub === '';
    const [res, subPattern] = r.split('/');
    if (subPattern === undefined) return sub === '' && res === resource;
    return (res === '*' || res === resource) && (subPattern === '*' || subPattern === sub);
  });
  if (!resourceHit) return `resource ${full} not in [${(rule.resources ?? []).join(', ')}]`;
  const scope = rule.scope ?? '*';
  if (scope === 'Cluster' && namespaced) return 'scope Cluster, the object is namespaced';
  if (scope === 'Namespaced' && !namespaced) return 'scope Namespaced, the object is cluster-scoped';
  return undefined;
}

export interface MatchInput {
  readonly request: AdmissionRequest;
  /** Labels of the request's namespace; null for a cluster-scoped object. */
  readonly namespaceLabels: Labels;
}

/**
 * The webhook's own namespace, where a webhook usually skips itself: its clientConfig.service,
 * or for a webhook reached by URL the namespace its name gives (`<function>.<service>.<namespace>.svc`,
 * as deploy/ and `npm run manifests -- --endpoint` name them).
 */
export function ownNamespace(webhook: Webhook): string | undefined {
  const service = webhook.clientConfig?.service?.namespace;
  if (service) return service;
  return /^[^.]+\.[^.]+\.([a-z0-9]([-a-z0-9]*[a-z0-9])?)\.svc$/.exec(webhook.name)?.[1];
}

export function decide(webhook: Webhook, { request, namespaceLabels }: MatchInput): Decision {
  const namespaced = Boolean(request.namespace);
  const mismatches = (webhook.rules ?? []).map((rule) => ruleMismatch(rule, request, namespaced));
  if (!mismatches.some((m) => m === undefined))
    return { called: false, reason: `rules: ${mismatches.join('; ') || 'no rules'}` };
  // A Namespace is matched by its own labels; other cluster-scoped objects skip namespaceSelector.
  const isNamespace = request.resource.group === '' && request.resource.resource === 'namespaces';
  const nsLabels = isNamespace ? (request.object ?? request.oldObject)?.metadata?.labels : namespaceLabels;
  if (namespaced || isNamespace) {
    const miss = selectorMismatch(webhook.namespaceSelector, nsLabels);
    if (miss) {
      const own =
        ownNamespace(webhook) === request.namespace
          ? ` (${request.namespace} is the webhook's own namespace)`
          : '';
      return {
        called: false,
        reason: `namespaceSelector: namespace ${request.namespace ?? request.name} lacks ${miss}${own}`,
      };
    }
  }
  // objectSelector: the new object's labels or the old object's, either is enough.
  if (webhook.objectSelector) {
    const onNew = selectorMismatch(webhook.objectSelector, request.object?.metadata?.labels);
    const onOld = request.oldObject
      ? selectorMismatch(webhook.objectSelector, request.oldObject.metadata?.labels)
      : onNew;
    if (onNew && onOld) return { called: false, reason: `objectSelector: the object lacks ${onNew}` };
  }
  for (const condition of webhook.matchConditions ?? []) {
    let value: unknown;
    try {
      value = evaluate(condition.expression, {
        object: request.object ?? null,
        oldObject: request.oldObject ?? null,
        request,
      });
    } catch (error) {
      // An error is the failurePolicy's: Fail rejects the request, Ignore skips the webhook.
      // The library's message goes on with a picture of the expression: its first line says it.
      const first = (error as Error).message.split('\n')[0];
      const message = `matchConditions ${condition.name}: error: ${first}`;
      if ((webhook.failurePolicy ?? 'Fail') === 'Fail')
        return { called: true, reason: `${message} (failurePolicy Fail: the request is rejected)` };
      return { called: false, reason: `${message} (failurePolicy Ignore: skipped)` };
    }
    if (value !== true)
      return {
        called: false,
        reason: `matchConditions ${condition.name}: ${condition.expression} is ${String(value)}`,
      };
  }
  return { called: true };
}
