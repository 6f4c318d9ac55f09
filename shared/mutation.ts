// The one shape every function has. A mutation is pure and synchronous: it changes the
// object it is handed (a private copy) and returns it, or returns a denial. The runner
// (runner.ts) does everything else: matching, copying, diffing, answering.
import type * as z from 'zod';
import type { Denial } from './denial.ts';
import type { AdmissionRequest, Operation } from './review.ts';

export interface AppliesTo {
  /**
   * Plural resource names as the apiserver sends them (`pods`), `resource/subresource`
   * for a subresource (`nodes/status`), or `*` for every resource without a subresource.
   */
  readonly resources: readonly string[];
  readonly operations: readonly Operation[];
  /** API groups (`''` is the core group); omitted: any group. */
  readonly groups?: readonly string[];
  /** API versions the object is sent in (the apiserver converts to one of them); omitted: any. */
  readonly versions?: readonly string[];
}

/** A Kubernetes label selector (metav1.LabelSelector), as written in a webhook configuration. */
export interface LabelSelector {
  readonly matchLabels?: Readonly<Record<string, string>>;
  readonly matchExpressions?: readonly {
    readonly key: string;
    readonly operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
    readonly values?: readonly string[];
  }[];
}

/** A CEL condition the apiserver evaluates before calling (admissionregistration/v1 MatchCondition). */
export interface MatchCondition {
  readonly name: string;
  readonly expression: string;
}

/**
 * One way of selecting what the apiserver sends, beyond `rules` (from `appliesTo`). Each
 * becomes one webhook entry of the configuration, all calling the same function; a request
 * matched by any entry is sent.
 */
export interface WebhookMatch {
  /** Distinguishes the entry within the function (the entry is named after function and match). */
  readonly name: string;
  readonly namespaceSelector?: LabelSelector;
  readonly objectSelector?: LabelSelector;
  readonly matchConditions?: readonly MatchCondition[];
}

/** How the function is registered with the apiserver (deploy manifests are generated from this). */
export interface WebhookSettings {
  /** What the apiserver does when the function cannot be reached in time. */
  readonly failurePolicy: 'Fail' | 'Ignore';
  /** Why that policy: written beside it in the generated configuration. */
  readonly failurePolicyReason: string;
  /** Only objects carrying this label key are sent (for Knative pods: serving.knative.dev/service). */
  readonly objectLabelExists?: string;
  /**
   * Selectors beyond objectLabelExists, one webhook entry each. Absent: one entry that selects
   * by `rules` (and objectLabelExists) alone. Kubernetes cannot select on annotations nor show
   * namespace labels to a webhook, so "namespace labelled X, or pod annotated Y" is two entries.
   */
  readonly matches?: readonly WebhookMatch[];
}

export interface MutationContext<Config> {
  /** The review's request, for namespace, user, operation, dryRun. Do not change it. */
  readonly request: AdmissionRequest;
  readonly config: Config;
  /**
   * The registration entry (a `matches` name) the review was sent on, read from the path the
   * apiserver posted to (`/<function>/<entry>`); undefined when the path names none (a single
   * entry, the CLI, a chain).
   */
  readonly webhookEntry?: string | undefined;
  /** Adds a warning to the answer (kubectl prints it). */
  warn(message: string): void;
}

/** A z.object of the variables read, optionally followed by a transform. */
export type ConfigSchema = z.ZodType<unknown, Record<string, string | undefined>>;

export interface Mutation<Schema extends ConfigSchema = ConfigSchema, Target = unknown> {
  readonly name: string;
  /**
   * `validating`: registered in a ValidatingWebhookConfiguration; `mutate` works on a
   * throwaway copy and only its denial counts, the reply never carries a patch.
   * Omitted: mutating.
   */
  readonly kind?: 'mutating' | 'validating';
  readonly description: string;
  /**
   * What it reads and what it writes, a line each of Markdown for the README's table of
   * functions (scripts/readme-tables.ts); a registered function must have it.
   */
  readonly summary?: { readonly reads: string; readonly writes: string };
  readonly appliesTo: AppliesTo;
  /**
   * Configuration, read once at start from the environment: each key is read from the
   * variable of the same name in CONSTANT_CASE (`annotationPrefix` from ANNOTATION_PREFIX).
   */
  readonly config: Schema;
  /**
   * Registration settings; a function of the loaded configuration when selectors depend on it
   * (an annotation prefix, a configured label). Read them with `webhookSettings()`.
   */
  readonly webhook: WebhookSettings | ((config: z.output<Schema>) => WebhookSettings);
  /**
   * When `mutate` throws (a bug, not bad input): `deny` refuses the object, `allow` admits it
   * unchanged with a warning. Omitted: as the apiserver would when the function cannot be
   * reached, from failurePolicy (`Fail`: deny, `Ignore`: allow). See onErrorOf().
   */
  readonly onError?: 'deny' | 'allow';
  /** Pure, synchronous and idempotent: a second run on its own output changes nothing. */
  mutate(object: Target, context: MutationContext<z.output<Schema>>): Target | Denial;
}

/** Identity helper that gives a mutation's `mutate` its config and target types. */
export function defineMutation<Schema extends ConfigSchema, Target>(
  mutation: Mutation<Schema, Target>,
): Mutation<Schema, Target> {
  return mutation;
}

// biome-ignore lint/suspicious/noExplicitAny: registries hold mutations of every config and target
export type AnyMutation = Mutation<ConfigSchema, any>;

/** A mutation's registration settings for its loaded configuration. */
export function webhookSettings(mutation: AnyMutation, config: unknown): WebhookSettings {
  return typeof mutation.webhook === 'function' ? mutation.webhook(config) : mutation.webhook;
}

/** What a failing `mutate` leads to: its own onError, or what its failurePolicy implies. */
export function onErrorOf(mutation: AnyMutation, config: unknown): 'deny' | 'allow' {
  if (mutation.onError) return mutation.onError;
  return webhookSettings(mutation, config).failurePolicy === 'Ignore' ? 'allow' : 'deny';
}
