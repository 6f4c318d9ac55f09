// sidecar-injection: adds the containers, init containers and volumes of a template to pods.
// Which pods: those annotated `<prefix>/inject: "true"`, and those of namespaces labelled
// `<prefix>/inject=enabled`, never pods annotated "false" nor pods of its own namespace. The
// registration narrows what is sent (a namespaceSelector entry, a CEL match condition), but
// an apiserver that drops matchConditions (before 1.28) or a hand-edited registration sends
// more, so the function checks the opt-in itself: the annotation, and for the namespace label
// (which a review does not carry) the entry that called, from the path `/<function>/<entry>`.
// What the pod already has counts as the template's only when it is equal to it (give or take
// the apiserver's defaults), never because of what the pod says (the status annotation).
import type { V1Container, V1Pod, V1Volume } from '@kubernetes/client-node';
import * as z from 'zod';
import { conflict, invalid } from '../../shared/denial.ts';
import type { PathPart } from '../../shared/field-path.ts';
import { annotation } from '../../shared/k8s/annotations.ts';
import { labelKeyProblem } from '../../shared/k8s/names.ts';
import { noSpecDenial } from '../../shared/k8s/pod.ts';
import { annotationPrefixSetting, readSetting } from '../../shared/k8s/settings.ts';
import { defineMutation } from '../../shared/mutation.ts';
import { log } from '../../shared/telemetry/log.ts';
import { containerDefaults, itemDifference, volumeDefaults, withoutTokenMount } from './defaults.ts';
import { loadSidecarTemplate, type TemplateList } from './template.ts';

const config = z
  .object({
    sidecarTemplateFile: z
      .string({
        message: 'must name the template file (YAML or JSON with containers, initContainers, volumes)',
      })
      .min(1, 'must name the template file')
      .describe('the template: a mounted YAML or JSON file with containers, initContainers and volumes'),
    annotationPrefix: annotationPrefixSetting(
      'prefix of the <prefix>/inject annotation and namespace label and the <prefix>/injected status',
    ).refine((prefix) => !labelKeyProblem(`${prefix}/inject`), {
      message: 'must be a DNS subdomain such as example.com',
    }),
    webhookNamespace: z
      .string()
      .min(1)
      .default('faas-admission')
      .describe('the namespace the webhook runs in: its pods never get the sidecar'),
  })
  .transform((c, ctx) => ({
    ...c,
    template: readSetting(
      ctx,
      'sidecarTemplateFile',
      () => loadSidecarTemplate(c.sidecarTemplateFile),
      z.NEVER,
    ),
  }));

type Config = z.output<typeof config>;

/** What a denial calls a template item: `sidecar template containers[0] "log-shipper"`. */
/** Where an item of the template is: `sidecar template containers[0] "proxy"`. */
const item = (list: string, i: number, name: string): PathPart[] => [
  { label: `sidecar template ${list}[${i}] "${name}"` },
];

/** The registration entries: pods of opted-in namespaces, and pods that opt in themselves. */
export const NAMESPACE_ENTRY = 'namespace';
export const POD_ENTRY = 'pod';

export default defineMutation({
  name: 'sidecar-injection',
  description: 'Adds the containers, init containers and volumes of a template to the pods that opt in',
  summary: {
    reads: 'a template file; opt-in by namespace label or pod annotation',
    writes: 'containers, init containers, volumes',
  },
  appliesTo: { resources: ['pods'], operations: ['CREATE'] },
  config,
  webhook: ({ annotationPrefix, webhookNamespace }: Config) => {
    const key = `${annotationPrefix}/inject`;
    const notOwnNamespace = {
      key: 'kubernetes.io/metadata.name',
      operator: 'NotIn',
      values: [webhookNamespace],
    } as const;
    const annotated = (value: string) =>
      `has(object.metadata.annotations) && '${key}' in object.metadata.annotations && object.metadata.annotations['${key}'] == '${value}'`;
    return {
      failurePolicy: 'Fail',
      failurePolicyReason:
        'a pod that asked for the sidecar must not start without it; the selectors send only those pods, so an unreachable webhook blocks no other pod',
      matches: [
        {
          name: NAMESPACE_ENTRY,
          namespaceSelector: { matchLabels: { [key]: 'enabled' }, matchExpressions: [notOwnNamespace] },
          matchConditions: [{ name: 'not-opted-out', expression: `!(${annotated('false')})` }],
        },
        {
          name: POD_ENTRY,
          namespaceSelector: {
            matchExpressions: [{ key, operator: 'NotIn', values: ['enabled'] }, notOwnNamespace],
          },
          matchConditions: [{ name: 'opted-in', expression: annotated('true') }],
        },
      ],
    };
  },

  mutate(pod: V1Pod, { config, request, webhookEntry }) {
    if (request.namespace === config.webhookNamespace) return pod;
    const optKey = `${config.annotationPrefix}/inject`;
    const choice = annotation(pod, optKey);
    if (choice === 'false') return pod;
    if (choice !== undefined && choice !== 'true') {
      return invalid(`must be "true" or "false", not "${choice}"`).viaAnnotation(optKey);
    }
    // Opted in by its own annotation, or sent on the entry of opted-in namespaces.
    if (choice !== 'true' && webhookEntry !== NAMESPACE_ENTRY) {
      log().info(
        {
          function: 'sidecar-injection',
          uid: request.uid,
          namespace: request.namespace,
          webhook_entry: webhookEntry ?? null,
        },
        `pod not opted in (no ${optKey}: "true", and sent on ${webhookEntry ? `entry "${webhookEntry}"` : 'no entry'}, not "${NAMESPACE_ENTRY}"): admitted unchanged`,
      );
      return pod;
    }
    const statusKey = `${config.annotationPrefix}/injected`;
    const { template } = config;
    if (!pod.spec) return noSpecDenial();
    const spec = pod.spec;

    const volumes = (): V1Volume[] => spec.volumes ?? [];
    for (const [i, volume] of template.volumes.entries()) {
      const present = volumes().find((v) => v.name === volume.name);
      if (!present) {
        spec.volumes ??= [];
        spec.volumes.push(structuredClone(volume) as V1Volume);
      } else {
        const difference = itemDifference(volume, present, volumeDefaults);
        if (difference) {
          return conflict(
            `the pod already has a different volume named "${volume.name}" (${difference})`,
            ...item('volumes', i, volume.name),
          );
        }
      }
    }

    const containers = (list: TemplateList): V1Container[] =>
      (list === 'containers' ? spec.containers : spec.initContainers) ?? [];
    for (const list of ['initContainers', 'containers'] as const) {
      const other = list === 'containers' ? 'initContainers' : 'containers';
      for (const [i, container] of template[list].entries()) {
        const where = item(list, i, container.name);
        if (containers(other).some((c) => c.name === container.name)) {
          return conflict(`the pod already has a container named "${container.name}" in ${other}`, ...where);
        }
        const present = containers(list).find((c) => c.name === container.name);
        const difference =
          present &&
          itemDifference(container, withoutTokenMount(container, present, volumes()), containerDefaults);
        if (difference) {
          return conflict(
            `the pod already has a container named "${container.name}" with a different definition (${difference})`,
            ...where,
          );
        }
        for (const [j, mount] of (container.volumeMounts ?? []).entries()) {
          if (!volumes().some((v) => v.name === mount.name)) {
            return invalid(`no volume named "${mount.name}" in the template or the pod`, ...where, {
              label: `volumeMounts[${j}]`,
            });
          }
        }
        if (present) continue;
        const copy = structuredClone(container) as V1Container;
        if (list === 'initContainers') spec.initContainers ??= [];
        containers(list).push(copy);
      }
    }

    // What was injected, for people: written from what was verified, never read back.
    pod.metadata ??= {};
    pod.metadata.annotations ??= {};
    if (annotation(pod, statusKey) !== template.status) pod.metadata.annotations[statusKey] = template.status;
    return pod;
  },
});
