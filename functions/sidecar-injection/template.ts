// The sidecar template: a mounted YAML or JSON file, read and checked once at start.
//
//   containers:            # appended to spec.containers
//     - name: log-shipper
//       image: fluent/fluent-bit:3.1
//       volumeMounts: [{ name: shipper-config, mountPath: /fluent-bit/etc }]
//   initContainers: []     # appended to spec.initContainers (restartPolicy: Always = native sidecar)
//   volumes:               # appended to spec.volumes
//     - name: shipper-config
//       configMap: { name: fluent-bit-config }
//
// Its hash names what was injected, in the pod's status annotation (for people: the function
// never reads it back, since a pod can carry any annotation).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import * as z from 'zod';
import { describeIssues } from '../../shared/field-path.ts';
import { type ConfiguredContainer, containerSchema } from '../../shared/k8s/containers.ts';
import { refuseUnknownFields } from '../../shared/k8s/known-fields.ts';
import { type AnnotatedVolume, volumeSchema } from '../../shared/k8s/volumes.ts';

export type TemplateList = 'containers' | 'initContainers';

export interface SidecarTemplate {
  readonly containers: readonly ConfiguredContainer[];
  readonly initContainers: readonly ConfiguredContainer[];
  readonly volumes: readonly AnnotatedVolume[];
  /** First 12 hex digits of the SHA-256 of the checked template. */
  readonly hash: string;
  /** The status annotation's value: the hash, then the names, for people. */
  readonly status: string;
}

const TEMPLATE_FIELDS = ['containers', 'initContainers', 'volumes'];

const templateSchema = z
  .looseObject({
    containers: z.array(containerSchema).default([]),
    initContainers: z.array(containerSchema).default([]),
    volumes: z.array(volumeSchema).default([]),
  })
  .superRefine(refuseUnknownFields(TEMPLATE_FIELDS, 'the sidecar template'))
  .superRefine((template, ctx) => {
    const { containers, initContainers, volumes } = template;
    if (containers.length + initContainers.length + volumes.length === 0) {
      ctx.addIssue({
        code: 'custom',
        message: 'injects nothing: give containers, initContainers or volumes',
      });
    }
    // Container names are unique across both lists, as in a pod.
    const seen = new Set<string>();
    for (const list of ['initContainers', 'containers'] as const) {
      for (const [i, container] of template[list].entries()) {
        if (seen.has(container.name)) {
          ctx.addIssue({
            code: 'custom',
            path: [list, i, 'name'],
            message: `"${container.name}" is used twice`,
          });
        }
        seen.add(container.name);
        if (list === 'containers' && container.restartPolicy !== undefined) {
          ctx.addIssue({
            code: 'custom',
            path: [list, i, 'restartPolicy'],
            message:
              'is only for initContainers (a native sidecar is an init container with restartPolicy Always)',
          });
        }
      }
    }
    const volumeNames = new Set<string>();
    for (const [i, volume] of volumes.entries()) {
      if (volumeNames.has(volume.name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['volumes', i, 'name'],
          message: `"${volume.name}" is used twice`,
        });
      }
      volumeNames.add(volume.name);
    }
  });

/** Reads and checks the template file; throws an Error naming the file, field and problem. */
export function loadSidecarTemplate(file: string): SidecarTemplate {
  let data: unknown;
  try {
    data = parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`${file}: ${(error as Error).message.split('\n')[0]}`);
  }
  const result = templateSchema.safeParse(data ?? {});
  if (!result.success) throw new Error(`${file}: ${describeIssues(result.error.issues)}`);
  const { containers, initContainers, volumes } = result.data;
  const hash = createHash('sha256')
    .update(stableJson({ containers, initContainers, volumes }))
    .digest('hex')
    .slice(0, 12);
  const names = (label: string, items: readonly { name: string }[]) =>
    items.length > 0 ? [`${label}: ${items.map((item) => item.name).join(', ')}`] : [];
  const summary = [
    ...names('containers', containers),
    ...names('initContainers', initContainers),
    ...names('volumes', volumes),
  ].join('; ');
  return { containers, initContainers, volumes, hash, status: `${hash} (${summary})` };
}

/** JSON with object keys sorted, so the hash does not depend on the order fields were written in. */
function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
