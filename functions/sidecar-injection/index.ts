// sidecar-injection: adds the containers, init containers and volumes of a template to pods.
// Which pods is decided where Kubernetes can decide it: the webhook entries select pods in
// namespaces labelled `<prefix>/inject=enabled`, and elsewhere pods annotated
// `<prefix>/inject: "true"` (a CEL match condition). The function injects into every pod it
// is sent, except pods annotated "false" and pods of its own namespace.
import type { V1Container, V1Pod, V1Volume } from '@kubernetes/client-node';
import { z } from 'zod';
import { annotation } from '../../shared/k8s/annotations.ts';
import { labelKeyProblem } from '../../shared/k8s/names.ts';
import { describeDifference } from '../../shared/k8s/subset.ts';
import { defineMutation, deny } from '../../shared/mutation.ts';
import { injectedHash, loadSidecarTemplate, type SidecarTemplate, type TemplateList } from './template.ts';

const config = z
  .object({
    sidecarTemplateFile: z
      .string({
        message: 'must name the template file (YAML or JSON with containers, initContainers, volumes)',
      })
      .min(1, 'must name the template file')
      .describe('the template: a mounted YAML or JSON file with containers, initContainers and volumes'),
    annotationPrefix: z
      .string()
      .min(1)
      .default('knative.netease.dev')
      .refine((prefix) => !labelKeyProblem(`${prefix}/inject`), {
        message: 'must be a DNS subdomain such as example.com',
      })
      .describe(
        'prefix of the <prefix>/inject annotation and namespace label and the <prefix>/injected status',
      ),
    webhookNamespace: z
      .string()
      .min(1)
      .default('faas-admission')
      .describe('the namespace the webhook runs in: its pods never get the sidecar'),
  })
  .transform((c, ctx) => {
    let template: SidecarTemplate | undefined;
    try {
      template = loadSidecarTemplate(c.sidecarTemplateFile);
    } catch (error) {
      ctx.addIssue({ code: 'custom', path: ['sidecarTemplateFile'], message: (error as Error).message });
      return z.NEVER;
    }
    return { ...c, template };
  });

type Config = z.output<typeof config>;

/** What a denial calls a template item: `sidecar template containers[0] "log-shipper"`. */
const item = (list: string, i: number, name: string) => `sidecar template ${list}[${i}] "${name}"`;

export default defineMutation({
  name: 'sidecar-injection',
  description: 'Adds the containers, init containers and volumes of a template to the pods that opt in',
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
          name: 'namespace',
          namespaceSelector: { matchLabels: { [key]: 'enabled' }, matchExpressions: [notOwnNamespace] },
          matchConditions: [{ name: 'not-opted-out', expression: `!(${annotated('false')})` }],
        },
        {
          name: 'pod',
          namespaceSelector: {
            matchExpressions: [{ key, operator: 'NotIn', values: ['enabled'] }, notOwnNamespace],
          },
          matchConditions: [{ name: 'opted-in', expression: annotated('true') }],
        },
      ],
    };
  },
  onError: 'deny',

  mutate(pod: V1Pod, { config, request }) {
    if (request.namespace === config.webhookNamespace) return pod;
    const optKey = `${config.annotationPrefix}/inject`;
    const choice = annotation(pod, optKey);
    if (choice === 'false') return pod;
    if (choice !== undefined && choice !== 'true') {
      return deny(`annotation ${optKey}: must be "true" or "false", not "${choice}"`, 400);
    }
    const statusKey = `${config.annotationPrefix}/injected`;
    const { template } = config;
    if (injectedHash(annotation(pod, statusKey)) === template.hash) return pod;
    if (!pod.spec) return deny('the pod has no spec', 400);
    const spec = pod.spec;

    const volumes = (): V1Volume[] => spec.volumes ?? [];
    for (const [i, volume] of template.volumes.entries()) {
      const present = volumes().find((v) => v.name === volume.name);
      if (!present) {
        spec.volumes ??= [];
        spec.volumes.push(structuredClone(volume) as V1Volume);
      } else {
        const difference = describeDifference(volume, present, 'template');
        if (difference) {
          return deny(
            `${item('volumes', i, volume.name)}: the pod already has a different volume named "${volume.name}" (${difference})`,
            409,
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
          return deny(`${where}: the pod already has a container named "${container.name}" in ${other}`, 409);
        }
        const present = containers(list).find((c) => c.name === container.name);
        const difference = present && describeDifference(container, present, 'template');
        if (difference) {
          return deny(
            `${where}: the pod already has a container named "${container.name}" with a different definition (${difference})`,
            409,
          );
        }
        for (const [j, mount] of (container.volumeMounts ?? []).entries()) {
          if (!volumes().some((v) => v.name === mount.name)) {
            return deny(
              `${where}: volumeMounts[${j}]: no volume named "${mount.name}" in the template or the pod`,
              400,
            );
          }
        }
        if (present) continue;
        const copy = structuredClone(container) as V1Container;
        if (list === 'initContainers') spec.initContainers ??= [];
        containers(list).push(copy);
      }
    }

    pod.metadata ??= {};
    pod.metadata.annotations ??= {};
    pod.metadata.annotations[statusKey] = template.status;
    return pod;
  },
});
