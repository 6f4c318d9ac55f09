// config-volume: mounts one configured volume (a ConfigMap, say) into every container of the
// pods that carry a configured label, and stamps labels on them. With its defaults it is the
// classic "hello" admission webhook: pods labelled hello=true get the ConfigMap
// hello-configmap at /etc/config and the label hello-added=OK.
import type { V1Container, V1Pod, V1Volume } from '@kubernetes/client-node';
import * as z from 'zod';
import { conflict } from '../../shared/denial.ts';
import { describeIssues } from '../../shared/field-path.ts';
import { parseLabelRules, stampLabels } from '../../shared/k8s/label-rules.ts';
import { labelKeyProblem, labelValueProblem } from '../../shared/k8s/names.ts';
import { noSpecDenial } from '../../shared/k8s/pod.ts';
import { readSetting } from '../../shared/k8s/settings.ts';
import { describeDifference } from '../../shared/k8s/subset.ts';
import { volumeSchema } from '../../shared/k8s/volumes.ts';
import { defineMutation, type LabelSelector } from '../../shared/mutation.ts';

const config = z
  .object({
    podSelector: z
      .string()
      .default('hello=true')
      .describe('the label that selects pods: key=value, or key alone (the label exists)'),
    configVolume: z
      .string()
      .default('{"name":"hello-volume","configMap":{"name":"hello-configmap"}}')
      .describe('the volume to add, as a JSON core/v1 Volume'),
    mountPath: z
      .string()
      .default('/etc/config')
      .refine((p) => p.startsWith('/'), { message: 'must be an absolute path (start with "/")' })
      .describe('where the volume is mounted in each container'),
    mountReadOnly: z.stringbool().default(true).describe('false: mount the volume writable'),
    mountInitContainers: z.stringbool().default(false).describe('true: mount it into init containers too'),
    stampLabels: z
      .string()
      .default('hello-added=OK')
      .describe(
        'labels to stamp on the selected pods: key=value entries separated by commas (as label-stamping)',
      ),
    overwriteLabels: z
      .stringbool()
      .default(false)
      .describe('true: replace a label the pod already has with another value'),
  })
  .transform((c, ctx) => {
    const problem = (path: string, message: string) => {
      ctx.addIssue({ code: 'custom', path: [path], message });
      return z.NEVER;
    };
    const eq = c.podSelector.indexOf('=');
    const key = eq < 0 ? c.podSelector.trim() : c.podSelector.slice(0, eq).trim();
    const value = eq < 0 ? undefined : c.podSelector.slice(eq + 1).trim();
    const keyProblem = labelKeyProblem(key);
    if (keyProblem) return problem('podSelector', `label key "${key}": ${keyProblem}`);
    const valueProblem = value === undefined ? undefined : labelValueProblem(value);
    if (valueProblem) return problem('podSelector', `label value "${value}" ${valueProblem}`);

    let json: unknown;
    try {
      json = JSON.parse(c.configVolume);
    } catch (error) {
      return problem('configVolume', `not valid JSON: ${(error as Error).message}`);
    }
    const volume = volumeSchema.safeParse(json);
    if (!volume.success) return problem('configVolume', describeIssues(volume.error.issues));

    const rules = readSetting(ctx, 'stampLabels', () => parseLabelRules(c.stampLabels, false), z.NEVER);
    const selector: LabelSelector =
      value === undefined
        ? { matchExpressions: [{ key, operator: 'Exists' }] }
        : { matchLabels: { [key]: value } };
    return { ...c, selector, label: { key, value }, volume: volume.data as V1Volume, rules };
  });

export default defineMutation({
  name: 'config-volume',
  description: 'Mounts a configured volume into every container of labelled pods and stamps labels on them',
  summary: {
    reads: 'its configuration',
    writes: 'a fixed volume in every container of labelled pods, plus a label',
  },
  appliesTo: { resources: ['pods'], operations: ['CREATE'] },
  config,
  webhook: ({ selector }: z.output<typeof config>) => ({
    failurePolicy: 'Fail',
    failurePolicyReason:
      'a pod labelled for the configuration would start without it; the objectSelector sends only labelled pods, so an unreachable webhook blocks no other pod',
    matches: [{ name: 'labelled', objectSelector: selector }],
  }),

  mutate(pod: V1Pod, { config, request, warn }) {
    const { key, value } = config.label;
    const present = pod.metadata?.labels?.[key];
    if (present === undefined || (value !== undefined && present !== value)) return pod;
    if (!pod.spec) return noSpecDenial();
    const spec = pod.spec;
    const volume = config.volume;

    const existing = spec.volumes?.find((v) => v.name === volume.name);
    const difference = existing && describeDifference(volume, existing, 'configuration');
    if (difference) {
      return conflict(`the pod already has a different volume named "${volume.name}" (${difference})`, {
        label: 'CONFIG_VOLUME',
      });
    }
    if (!existing) {
      spec.volumes ??= [];
      spec.volumes.push(structuredClone(volume));
    }

    const targets: [string, V1Container[]][] = [['containers', spec.containers]];
    if (config.mountInitContainers) targets.push(['initContainers', spec.initContainers ?? []]);
    for (const [list, containers] of targets) {
      for (const [i, container] of containers.entries()) {
        const atPath = container.volumeMounts?.find((m) => m.mountPath === config.mountPath);
        if (atPath?.name === volume.name) continue;
        if (atPath) {
          const taken = `spec.${list}[${i}] ("${container.name}") already mounts volume "${atPath.name}"`;
          return conflict(`${taken} at ${config.mountPath}`, { label: 'MOUNT_PATH' });
        }
        container.volumeMounts ??= [];
        container.volumeMounts.push({
          name: volume.name,
          mountPath: config.mountPath,
          ...(config.mountReadOnly ? { readOnly: true } : {}),
        });
      }
    }

    stampLabels(pod, config.rules, request, {
      overwrite: config.overwriteLabels,
      warn,
      source: 'config-volume',
    });
    return pod;
  },
});
