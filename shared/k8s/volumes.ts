// zod schemas for core/v1 Volume and VolumeMount as written in annotations. Strict where it
// matters: an unknown or misspelt field is an error, never silently dropped, and what passes
// is copied into the pod exactly as written.
import { z } from 'zod';
import { dns1123LabelProblem } from './names.ts';

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
const keyToPath = z.strictObject({
  key: z.string().min(1),
  path: z.string().min(1),
  mode: fileMode.optional(),
});
const quantity = z.union(
  [z.string().regex(/^[0-9.]+([eE][-+]?[0-9]+|[KMGTPE]i?|[munkMGTPE])?$/), z.number()],
  {
    message: 'must be a quantity such as "1Gi" or "500M"',
  },
);

// The sources people inject most, checked field by field; the others must at least be objects
// (the apiserver validates them fully once the pod is admitted).
const checkedSources: Partial<Record<VolumeSource, z.ZodType>> = {
  hostPath: z.strictObject({
    path: absolutePath.refine((p) => !hasBackstep(p), { message: 'must not contain ".."' }),
    type: z.enum(HOST_PATH_TYPES).optional(),
  }),
  emptyDir: z.strictObject({ medium: z.enum(['', 'Memory']).optional(), sizeLimit: quantity.optional() }),
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
      ctx.addIssue({ code: 'custom', path: [key], message: 'is not a field of a core/v1 Volume' });
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
    subPathExpr: z.string().optional(),
    mountPropagation: z.enum(['None', 'HostToContainer', 'Bidirectional']).optional(),
    recursiveReadOnly: z.enum(['Disabled', 'IfPossible', 'Enabled']).optional(),
  })
  .refine((m) => m.subPath === undefined || m.subPathExpr === undefined, {
    message: 'subPath and subPathExpr are mutually exclusive',
  });

export type AnnotatedVolume = z.output<typeof volumeSchema>;
export type AnnotatedVolumeMount = z.output<typeof volumeMountSchema>;
