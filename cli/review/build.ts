// The AdmissionReview the apiserver would send for an object: request.kind and resource from
// its apiVersion and kind, the operation and its options, namespace, user, dryRun, a new uid.
import { randomUUID } from 'node:crypto';
import type { AdmissionReview, KubernetesObject, Operation } from '../../shared/review.ts';
import { fail } from '../errors.ts';
import { kindInfo, knownKinds, splitApiVersion } from './kinds.ts';

export interface ReviewOptions {
  readonly operation?: Operation;
  /** The object before an UPDATE (required for UPDATE), or the one deleted. */
  readonly oldObject?: KubernetesObject;
  /** Overrides metadata.namespace (the namespace of the request's URL). */
  readonly namespace?: string;
  /** `resource`, `group/version/resource` or `resource/subresource` for kinds not in the table. */
  readonly resource?: string;
  readonly subResource?: string;
  readonly user?: string;
  readonly groups?: readonly string[];
  readonly dryRun?: boolean;
  readonly apiVersion?: AdmissionReview['apiVersion'];
}

/** Who creates objects by default: kubectl with an admin's client certificate. */
export const DEFAULT_USER = 'kubernetes-admin';
export const DEFAULT_GROUPS = ['system:masters', 'system:authenticated'];

const OPTIONS_KIND: Record<Operation, string | undefined> = {
  CREATE: 'CreateOptions',
  UPDATE: 'UpdateOptions',
  DELETE: 'DeleteOptions',
  CONNECT: undefined,
};

export function isAdmissionReview(value: unknown): value is AdmissionReview {
  return (
    typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'AdmissionReview'
  );
}

function objectType(object: KubernetesObject, label: string): { apiVersion: string; kind: string } {
  const { apiVersion, kind } = object;
  if (typeof apiVersion !== 'string' || apiVersion === '') fail(`${label}: apiVersion is missing`);
  if (typeof kind !== 'string' || kind === '') fail(`${label}: kind is missing`);
  return { apiVersion, kind };
}

function resourceOf(
  group: string,
  version: string,
  kind: string,
  options: ReviewOptions,
): { group: string; version: string; resource: string; subResource: string; namespaced: boolean } {
  if (options.resource) {
    const parts = options.resource.split('/');
    const [resource, sub] =
      parts.length === 3
        ? [parts[2], '']
        : parts.length <= 2
          ? [parts[0], parts[1] ?? '']
          : fail(
              `--resource "${options.resource}": expected RESOURCE, RESOURCE/SUBRESOURCE or GROUP/VERSION/RESOURCE`,
            );
    const g = parts.length === 3 ? (parts[0] ?? '') : group;
    const v = parts.length === 3 ? (parts[1] ?? '') : version;
    if (!resource || !/^[a-z0-9][a-z0-9.-]*$/.test(resource))
      fail(`--resource "${options.resource}": "${resource}" is not a plural resource name (lowercase)`);
    return {
      group: g,
      version: v,
      resource,
      subResource: options.subResource ?? sub ?? '',
      namespaced: kindInfo(group, kind)?.namespaced ?? true,
    };
  }
  const info = kindInfo(group, kind);
  if (!info)
    fail(
      `kind ${kind} of ${group || 'the core group'} is not in the built-in table: give its plural with --resource (known: ${knownKinds().join(', ')})`,
    );
  return {
    group,
    version,
    resource: info.resource,
    subResource: options.subResource ?? '',
    namespaced: info.namespaced,
  };
}

/** The review for `object` (the new object; for DELETE the deleted one). */
export function reviewFor(
  object: KubernetesObject,
  options: ReviewOptions = {},
  label = 'object',
): AdmissionReview {
  const operation = options.operation ?? 'CREATE';
  if (operation === 'UPDATE' && !options.oldObject)
    fail('--operation UPDATE needs the object before the change: --old <file>');
  const { apiVersion, kind } = objectType(object, label);
  const { group, version } = splitApiVersion(apiVersion);
  const target = resourceOf(group, version, kind, options);
  if (options.oldObject) {
    const old = objectType(options.oldObject, '--old');
    if (old.apiVersion !== apiVersion || old.kind !== kind)
      fail(`--old is a ${old.kind} (${old.apiVersion}), the object a ${kind} (${apiVersion})`);
  }
  const metadata = { ...(object.metadata ?? {}) } as Record<string, unknown>;
  const namespace = target.namespaced
    ? (options.namespace ?? (typeof metadata.namespace === 'string' && metadata.namespace) ?? 'default') ||
      'default'
    : '';
  // The apiserver fills metadata.namespace from the URL before admission.
  if (target.namespaced) metadata.namespace = namespace;
  const sent = { ...object, metadata };
  const name = typeof metadata.name === 'string' ? metadata.name : '';
  if (!name && !metadata.generateName && operation === 'CREATE')
    fail(`${label}: metadata.name or metadata.generateName is required`);
  const optionsKind = OPTIONS_KIND[operation];
  const oldObject = operation === 'DELETE' ? sent : (options.oldObject ?? null);
  return {
    apiVersion: options.apiVersion ?? 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: randomUUID(),
      kind: { group, version, kind },
      resource: { group: target.group, version: target.version, resource: target.resource },
      ...(target.subResource && { subResource: target.subResource }),
      requestKind: { group, version, kind },
      requestResource: { group: target.group, version: target.version, resource: target.resource },
      ...(target.subResource && { requestSubResource: target.subResource }),
      // Omitted for a generateName create, as the apiserver does (the name is made after admission).
      ...(name && { name }),
      ...(namespace && { namespace }),
      operation,
      userInfo: {
        username: options.user ?? DEFAULT_USER,
        groups: [...(options.groups ?? (options.user ? userGroups(options.user) : DEFAULT_GROUPS))],
      },
      object: operation === 'DELETE' ? null : sent,
      oldObject:
        oldObject && operation !== 'CREATE' ? withNamespace(oldObject, namespace, target.namespaced) : null,
      dryRun: options.dryRun ?? false,
      ...(optionsKind && { options: { kind: optionsKind, apiVersion: 'meta.k8s.io/v1' } }),
    },
  };
}

function withNamespace(object: KubernetesObject, namespace: string, namespaced: boolean): KubernetesObject {
  if (!namespaced) return object;
  return { ...object, metadata: { ...(object.metadata ?? {}), namespace } };
}

/** The groups the apiserver gives a user when none are named: service accounts get theirs. */
export function userGroups(user: string): string[] {
  const sa = /^system:serviceaccount:([^:]+):[^:]+$/.exec(user);
  if (sa) return ['system:serviceaccounts', `system:serviceaccounts:${sa[1]}`, 'system:authenticated'];
  const node = /^system:node:/.test(user);
  if (node) return ['system:nodes', 'system:authenticated'];
  return ['system:authenticated'];
}
