// image-mirror: rewrites container images from public registries to configured mirrors,
// keeping repository, tag and digest exactly. Only images this request introduces are
// rewritten: all of them on CREATE, a changed image on UPDATE (`kubectl set image`), a new
// ephemeral container on the pods/ephemeralcontainers subresource (`kubectl debug`). An
// image the pod already runs is never touched, since changing it restarts the container.
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import * as z from 'zod';
import { formatImageReference, parseImageReference } from '../../shared/k8s/image-reference.ts';
import { readSetting } from '../../shared/k8s/settings.ts';
import { defineMutation } from '../../shared/mutation.ts';
import { type Mirrors, parseMirrors } from './mirrors-config.ts';

const LISTS = ['initContainers', 'containers', 'ephemeralContainers'] as const;

const config = z
  .object({
    imageMirrors: z.string().default('').meta({
      description:
        'registry=mirror entries separated by commas or new lines, e.g. docker.io=mirror.example.com/dockerhub,quay.io=mirror.example.com/quay',
      unset: 'nothing is rewritten',
    }),
  })
  .transform((c, ctx): { mirrors: Mirrors } => ({
    mirrors: readSetting(ctx, 'imageMirrors', () => parseMirrors(c.imageMirrors), z.NEVER),
  }));

export default defineMutation({
  name: 'image-mirror',
  description: 'Rewrites container images from public registries to the configured mirrors',
  summary: {
    reads: '`IMAGE_MIRRORS`',
    writes: 'images from public registries rewritten to mirrors',
  },
  appliesTo: { resources: ['pods', 'pods/ephemeralcontainers'], operations: ['CREATE', 'UPDATE'] },
  config,
  webhook: {
    failurePolicy: 'Ignore',
    failurePolicyReason:
      'a pod admitted unmirrored still pulls from the public registry wherever that is reachable; failing would stop every pod in the cluster while the webhook is down (air-gapped clusters may prefer Fail)',
  },

  mutate(pod: V1Pod, { config, request, warn }) {
    // Before Kubernetes 1.23 the subresource carried an EphemeralContainers object, not a Pod.
    if (config.mirrors.size === 0 || request.kind.kind !== 'Pod' || !pod.spec) return pod;
    const old = request.oldObject as V1Pod | null | undefined;
    for (const list of LISTS) {
      const containers: V1Container[] = pod.spec[list] ?? [];
      for (const [i, container] of containers.entries()) {
        const image = container.image;
        if (!image) continue;
        const before = old?.spec?.[list]?.find((c) => c.name === container.name)?.image;
        if (before === image) continue;
        const reference = parseImageReference(image);
        if (typeof reference === 'string') {
          warn(`image-mirror: spec.${list}[${i}].image "${image}" ${reference}; left unchanged`);
          continue;
        }
        const mirror = config.mirrors.get(reference.registry);
        if (mirror) container.image = formatImageReference({ ...reference, registry: mirror });
      }
    }
    return pod;
  },
});
