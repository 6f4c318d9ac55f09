// zod schemas for core/v1 Volume and VolumeMount as written in annotations. Strict where it
// matters: an unknown or misspelt field is an error, never silently dropped, and what passes
// is copied into the pod exactly as written.
import * as z from 'zod';
import { unknownFieldMessage } from './known-fields.ts';
import { dns1123LabelProblem } from './names.ts';
import { parseQuantity } from './quantity.ts';

/** Every volume source core/v1 knows; a volume must have exactly one. */
export const VOLUME_SOURCES = [
  'awsElasticBlockStore',
  'azureDisk',
  'azureFile',
  'cephfs',
  'cinder',
  'configMap',
  'csi',
  'downwardAPI',
  'emptyDir',
  'ephemeral',
  'fc',
  'flexVolume',
  'flocker',
  'gcePersistentDisk',
  'gitRepo',
  'glusterfs',
  'hostPath',
  'image',
  'iscsi',
  'nfs',
  'persistentVolumeClaim',
  'photonPersistentDisk',
  'portworxVolume',
  'projected',
  'quobyte',
  'rbd',
  'scaleIO',
  'secret',
  'storageos',
  'vsphereVolume',
] as const;
export type VolumeSource = (typeof VOLUME_SOURCES)[number];
const VOLUME_FIELDS: readonly string[] = ['name', ...VOLUME_SOURCES];

/** hostPath.type values core/v1 knows ('' = no check, the default). */
export const HOST_PATH_TYPES = [
  '',
  'DirectoryOrCreate',
  'Directory',
  'FileOrCreate',
  'File',
  'Socket',
  'CharDevice',
  'BlockDevice',
] as const;
export type HostPathType = (typeof HOST_PATH_TYPES)[number];

const absolutePath = z
  .string()
  .refine((p) => p.startsWith('/'), { message: 'must be an absolute path (start with "/")' });

/** True when `path` has a `..` segment (the apiserver refuses such hostPath paths). */
export function hasBackstep(path: string): boolean {
  return path.split('/').includes('..');
}

const fileMode = z.number().int().min(0).max(0o777, { message: 'must be a file mode from 0 to 0777 (511)' });

/** What the apiserver requires of a path inside a volume: relative, no `..` element. */
const descendingPath = z
  .string()
  .refine((p) => !p.startsWith('/'), { message: 'must be a relative path (not start with "/")' })
  .refine((p) => !hasBackstep(p), { message: 'must not contain ".."' });
/** A file's path inside a volume (items[].path): also not starting with `..` (`..data` is the kubelet's). */
const filePath = z
  .string()
  .min(1, 'must not be empty')
  .pipe(descendingPath)
  // Like the apiserver, said only when the `..` element check has not said it already.
  .refine((p) => hasBackstep(p) || !p.startsWith('..'), { message: 'must not start with ".."' });

const keyToPath = z.strictObject({
  key: z.string().min(1),
  path: filePath,
  mode: fileMode.optional(),
});

/** A quantity the apiserver can decode (its own grammar and limits), not negative. */
const quantity = z.union([z.string(), z.number()]).superRefine((value, ctx) => {
  try {
    if (parseQuantity(value).nanos < 0n) ctx.addIssue({ code: 'custom', message: 'must not be negative' });
  } catch (error) {
    ctx.addIssue({
      code: 'custom',
      message: `must be a quantity such as "1Gi" or "500M": ${(error as Error).message}`,
    });
  }
});

const objectReference = z.strictObject({ name: z.string().min(1, 'must name a Secret') });
const downwardAPIFile = z
  .strictObject({
    path: filePath,
    fieldRef: z.strictObject({ apiVersion: z.string().optional(), fieldPath: z.string().min(1) }).optional(),
    resourceFieldRef: z
      .strictObject({
        containerName: z.string().optional(),
        resource: z.string().min(1),
        divisor: quantity.optional(),
      })
      .optional(),
    mode: fileMode.optional(),
  })
  .refine((f) => (f.fieldRef === undefined) !== (f.resourceFieldRef === undefined), {
    message: 'must have exactly one of fieldRef and resourceFieldRef',
  });
const projectedItems = z.array(keyToPath).optional();
const projectionSource = z
  .strictObject({
    secret: z
      .strictObject({
        name: z.string().min(1, 'must name a Secret'),
        items: projectedItems,
        optional: z.boolean().optional(),
      })
      .optional(),
    configMap: z
      .strictObject({
        name: z.string().min(1, 'must name a ConfigMap'),
        items: projectedItems,
        optional: z.boolean().optional(),
      })
      .optional(),
    downwardAPI: z.strictObject({ items: z.array(downwardAPIFile).optional() }).optional(),
    serviceAccountToken: z
      .strictObject({
        audience: z.string().optional(),
        expirationSeconds: z
          .number()
          .int()
          .min(600, 'may not be less than 600 (10 minutes)')
          .max(2 ** 32, 'may not be more than 2^32 seconds')
          .optional(),
        path: filePath,
      })
      .optional(),
    clusterTrustBundle: z.record(z.string(), z.unknown()).optional(),
  })
  .refine((source) => Object.keys(source).length === 1, {
    message:
      'must have exactly one of secret, configMap, downwardAPI, serviceAccountToken, clusterTrustBundle',
  });

/** The paths a projected volume's sources write; the apiserver refuses the same path twice. */
function projectedPathProblem(sources: readonly z.output<typeof projectionSource>[]): string | undefined {
  const seen = new Set<string>();
  for (const source of sources) {
    const paths = [
      ...(source.secret?.items ?? []).map((i) => i.path),
      ...(source.configMap?.items ?? []).map((i) => i.path),
      ...(source.downwardAPI?.items ?? []).map((i) => i.path),
    ];
    for (const path of paths) {
      if (seen.has(path)) return `path "${path}" is written by more than one source`;
      seen.add(path);
    }
  }
  return undefined;
}

// The sources people inject, and every one of Pod Security's `restricted` list, checked field by
// field as the apiserver will check them; the others must at least be objects (the apiserver
// validates them fully once the pod is admitted, and only a policy rule naming them lets them in).
const checkedSources: Partial<Record<VolumeSource, z.ZodType>> = {
  hostPath: z.strictObject({
    path: absolutePath.refine((p) => !hasBackstep(p), { message: 'must not contain ".."' }),
    type: z.enum(HOST_PATH_TYPES).optional(),
  }),
  emptyDir: z.strictObject({
    medium: z
      .string()
      .regex(/^(|Memory|HugePages(-.+)?)$/, { message: 'must be "", "Memory" or "HugePages[-<size>]"' })
      .optional(),
    sizeLimit: quantity.optional(),
  }),
  configMap: z.strictObject({
    name: z.string().min(1, 'must name a ConfigMap'),
    items: z.array(keyToPath).optional(),
    defaultMode: fileMode.optional(),
    optional: z.boolean().optional(),
  }),
  secret: z.strictObject({
    secretName: z.string().min(1, 'must name a Secret'),
    items: z.array(keyToPath).optional(),
    defaultMode: fileMode.optional(),
    optional: z.boolean().optional(),
  }),
  persistentVolumeClaim: z.strictObject({
    claimName: z.string().min(1, 'must name a PersistentVolumeClaim'),
    readOnly: z.boolean().optional(),
  }),
  nfs: z.strictObject({ server: z.string().min(1), path: absolutePath, readOnly: z.boolean().optional() }),
  downwardAPI: z.strictObject({
    items: z.array(downwardAPIFile).optional(),
    defaultMode: fileMode.optional(),
  }),
  projected: z
    .strictObject({ sources: z.array(projectionSource).nullish(), defaultMode: fileMode.optional() })
    .superRefine((projected, ctx) => {
      const problem = projectedPathProblem(projected.sources ?? []);
      if (problem) ctx.addIssue({ code: 'custom', path: ['sources'], message: problem });
    }),
  csi: z.strictObject({
    driver: z
      .string()
      .max(63, 'must be no more than 63 characters')
      .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/i, {
        message: 'must be a CSI driver name (a DNS-1123 subdomain, such as "csi.example.com")',
      }),
    readOnly: z.boolean().optional(),
    fsType: z.string().optional(),
    volumeAttributes: z.record(z.string(), z.string(), { message: 'must map names to strings' }).optional(),
    nodePublishSecretRef: objectReference.optional(),
  }),
  ephemeral: z.strictObject({
    volumeClaimTemplate: z.strictObject({
      metadata: z.record(z.string(), z.unknown()).optional(),
      spec: z.record(z.string(), z.unknown(), { message: 'must be a PersistentVolumeClaim spec' }),
    }),
  }),
};
const anySource = z.record(z.string(), z.unknown(), { message: 'must be an object' });

export const volumeSchema = z.looseObject({ name: z.string() }).superRefine((volume, ctx) => {
  const nameProblem = dns1123LabelProblem(volume.name);
  if (nameProblem)
    ctx.addIssue({ code: 'custom', path: ['name'], message: `"${volume.name}" ${nameProblem}` });
  const sources: string[] = [];
  for (const key of Object.keys(volume)) {
    if (key === 'name') continue;
    if (!(VOLUME_SOURCES as readonly string[]).includes(key)) {
      ctx.addIssue({
        code: 'custom',
        path: [key],
        message: unknownFieldMessage(key, VOLUME_FIELDS, 'a core/v1 Volume'),
      });
      continue;
    }
    sources.push(key);
    const schema = checkedSources[key as VolumeSource] ?? anySource;
    const result = schema.safeParse(volume[key]);
    for (const issue of result.success ? [] : result.error.issues) {
      ctx.addIssue({ code: 'custom', path: [key, ...issue.path], message: issue.message });
    }
  }
  if (sources.length !== 1) {
    const found = sources.length === 0 ? 'none' : sources.join(', ');
    ctx.addIssue({
      code: 'custom',
      path: [],
      message: `volume "${volume.name}" must have exactly one source (such as hostPath, configMap, emptyDir); found ${found}`,
    });
  }
});

export const volumeMountSchema = z
  .strictObject({
    name: z.string().min(1, 'must name a volume'),
    mountPath: absolutePath,
    readOnly: z.boolean().optional(),
    subPath: z
      .string()
      .refine((p) => !p.startsWith('/') && !hasBackstep(p), {
        message: 'must be a relative path without ".."',
      })
      .optional(),
    subPathExpr: descendingPath.optional(),
    mountPropagation: z.enum(['None', 'HostToContainer', 'Bidirectional']).optional(),
    recursiveReadOnly: z.enum(['Disabled', 'IfPossible', 'Enabled']).optional(),
  })
  .superRefine((m, ctx) => {
    if (m.subPath !== undefined && m.subPathExpr !== undefined) {
      ctx.addIssue({ code: 'custom', path: [], message: 'subPath and subPathExpr are mutually exclusive' });
    }
    // The apiserver's rules for recursiveReadOnly (Kubernetes 1.30 and later).
    if (m.recursiveReadOnly !== undefined && m.readOnly !== true) {
      ctx.addIssue({
        code: 'custom',
        path: ['recursiveReadOnly'],
        message: 'may only be set when "readOnly" is true',
      });
    }
    const recursive = m.recursiveReadOnly === 'IfPossible' || m.recursiveReadOnly === 'Enabled';
    if (recursive && m.mountPropagation !== undefined && m.mountPropagation !== 'None') {
      ctx.addIssue({
        code: 'custom',
        path: ['mountPropagation'],
        message: `must be "None" (or unset) when recursiveReadOnly is "${m.recursiveReadOnly}"`,
      });
    }
  });

export type AnnotatedVolume = z.output<typeof volumeSchema>;
export type AnnotatedVolumeMount = z.output<typeof volumeMountSchema>;

interface MountingContainer {
  readonly name: string;
  readonly securityContext?: { readonly privileged?: boolean | null } | null;
  readonly volumeDevices?: readonly { readonly name: string; readonly devicePath: string }[] | null;
}

/**
 * What the apiserver refuses about `mount` in `container`, beyond the mount alone: Bidirectional
 * propagation outside a privileged container, and a volume or path the container already uses
 * as a raw block device. Checked before the mount is written, so the refusal names the
 * annotation instead of coming from the apiserver after the patch.
 */
export function mountInContainerProblem(
  mount: AnnotatedVolumeMount,
  container: MountingContainer | undefined,
): string | undefined {
  if (!container) return undefined;
  if (mount.mountPropagation === 'Bidirectional' && container.securityContext?.privileged !== true) {
    return `mountPropagation: "Bidirectional" is only allowed in a privileged container, and container "${container.name}" is not`;
  }
  for (const device of container.volumeDevices ?? []) {
    if (device.name === mount.name) {
      return `name: volume "${mount.name}" is already a raw block device (volumeDevices) of container "${container.name}"`;
    }
    if (device.devicePath === mount.mountPath) {
      return `mountPath: "${mount.mountPath}" is already a device path (volumeDevices) of container "${container.name}"`;
    }
  }
  return undefined;
}
