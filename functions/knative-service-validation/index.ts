// knative-service-validation: runs the checks of volume-extension and node-selector on a
// Knative Service's revision template, so `kn service create` / `kubectl apply` says what is
// wrong, instead of a revision whose pods the ReplicaSet can never create. The pods are
// still checked when they are created; this only brings the error forward.
import { isDeepStrictEqual } from 'node:util';
import * as z from 'zod';
import { Denial, denyAll } from '../../shared/denial.ts';
import {
  annotation,
  describeUnknownAnnotations,
  unknownAnnotationsDenial,
  unknownPrefixAnnotations,
} from '../../shared/k8s/annotations.ts';
import type { PodShaped } from '../../shared/k8s/pod.ts';
import { annotationPrefixSetting } from '../../shared/k8s/settings.ts';
import { defineMutation } from '../../shared/mutation.ts';
import { nodeSelectorVariables, selectNodes, withNodeSelectorPolicy } from '../node-selector/select.ts';
import { extendVolumes, volumeVariables, withVolumePolicy } from '../volume-extension/extend.ts';

interface KnativeService {
  metadata?: { annotations?: Record<string, string> | null; deletionTimestamp?: string | null } | null;
  spec?: { template?: PodShaped | null } | null;
}

const TEMPLATE_ANNOTATIONS = ['volumes', 'volumeMounts', 'nodeSelector'];

export default defineMutation({
  name: 'knative-service-validation',
  kind: 'validating',
  description:
    'Checks the volume and nodeSelector annotations of a Knative Service revision template against the same schemas and volume policy the pod webhooks use',
  summary: {
    reads: "a Knative Service's revision-template annotations",
    writes:
      'nothing: refuses at `kubectl apply` / `kn service create` what volume-extension and node-selector would refuse in the pods',
  },
  appliesTo: {
    resources: ['services'],
    groups: ['serving.knative.dev'],
    versions: ['v1'],
    operations: ['CREATE', 'UPDATE'],
  },
  config: z
    .object({
      ...volumeVariables,
      ...nodeSelectorVariables,
      annotationPrefix: annotationPrefixSetting(
        'prefix of the volumes, volumeMounts and nodeSelector annotations (as the pod webhooks)',
      ),
    })
    .transform(withVolumePolicy)
    .transform(withNodeSelectorPolicy),
  webhook: {
    failurePolicy: 'Ignore',
    failurePolicyReason:
      'the pods are checked again by volume-extension and node-selector; this check only reports the problem earlier, so it must not block Services when unreachable',
  },

  mutate(service: KnativeService, { config, request, warn }) {
    for (const line of describeUnknownAnnotations(
      unknownPrefixAnnotations(service, config.annotationPrefix),
      config.annotationPrefix,
    )) {
      warn(`on the Service itself: ${line}`);
    }
    for (const name of TEMPLATE_ANNOTATIONS) {
      const key = `${config.annotationPrefix}/${name}`;
      if (annotation(service, key) !== undefined) {
        warn(
          `annotation ${key} is on the Service itself, where nothing reads it: put it in spec.template.metadata.annotations`,
        );
      }
    }
    // A Service being deleted (finalizers removed) must not be held up by its annotations.
    if (service.metadata?.deletionTimestamp) return service;
    const template = service.spec?.template;
    if (!template || typeof template !== 'object') return service;
    // No new revision without a changed template: nothing to tell (and controllers updating
    // metadata of a Service written under an older policy are not blocked).
    const old = request.oldObject as KnativeService | null | undefined;
    const current = request.object as KnativeService;
    if (request.operation === 'UPDATE' && isDeepStrictEqual(old?.spec?.template, current.spec?.template)) {
      return service;
    }
    // A misspelt annotation in the template is refused, not left unread.
    const unknown = unknownPrefixAnnotations(template, config.annotationPrefix);
    const problems = [
      unknownAnnotationsDenial(unknown, config.annotationPrefix),
      extendVolumes(template, config, request.namespace),
      selectNodes(template, config, request.namespace, warn),
    ].filter((result) => result instanceof Denial);
    return denyAll(problems)?.within('revision template (spec.template)') ?? service;
  },
});
