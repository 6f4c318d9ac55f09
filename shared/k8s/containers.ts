// zod schema for a core/v1 Container written in configuration (a sidecar template). Every
// field of the Container type is known, so a misspelt one is an error at start instead of a
// field the apiserver silently drops; the fields people get wrong most are checked in
// detail, the rest must at least have the right JSON type (the apiserver validates them
// fully when the pod is admitted). Resource quantities are written in canonical form, as
// the apiserver would store them, so an injected container compares equal to itself later.
import * as z from 'zod';
import { refuseUnknownFields } from './known-fields.ts';
import { dns1123LabelProblem } from './names.ts';
import { canonicalQuantity, quantityProblem } from './quantity.ts';
import { volumeMountSchema } from './volumes.ts';

const object = z.record(z.string(), z.unknown(), { message: 'must be an object' });
const objects = z.array(object);
const strings = z.array(z.string(), { message: 'must be an array of strings' });

const quantity = z.union([z.string(), z.number()]).transform((value, ctx) => {
  const problem = quantityProblem(value);
  if (!problem) return canonicalQuantity(value);
  ctx.addIssue({ code: 'custom', message: problem });
  return z.NEVER;
});
const resourceList = z.record(z.string(), quantity, { message: 'must map resource names to quantities' });

/** core/v1 SecurityContext: a misspelt `runAsNonRot` would leave the sidecar running as root. */
export const SECURITY_CONTEXT_FIELDS = [
  'allowPrivilegeEscalation',
  'appArmorProfile',
  'capabilities',
  'privileged',
  'procMount',
  'readOnlyRootFilesystem',
  'runAsGroup',
  'runAsNonRoot',
  'runAsUser',
  'seLinuxOptions',
  'seccompProfile',
  'windowsOptions',
] as const;
/** core/v1 Probe. */
export const PROBE_FIELDS = [
  'exec',
  'failureThreshold',
  'grpc',
  'httpGet',
  'initialDelaySeconds',
  'periodSeconds',
  'successThreshold',
  'tcpSocket',
  'terminationGracePeriodSeconds',
  'timeoutSeconds',
] as const;
/** core/v1 Lifecycle (stopSignal is newer than the schema the tests hold, and still valid). */
export const LIFECYCLE_FIELDS = ['postStart', 'preStop', 'stopSignal'] as const;

/** An object whose own keys must be fields of `what`; the values are left to the apiserver. */
const fieldsOf = (known: readonly string[], what: string) =>
  object.superRefine(refuseUnknownFields(known, what));
const probe = fieldsOf(PROBE_FIELDS, 'a core/v1 Probe');

const port = z.strictObject({
  containerPort: z.number().int().min(1).max(65535, { message: 'must be a port number from 1 to 65535' }),
  name: z.string().max(15, { message: 'must be no more than 15 characters' }).optional(),
  protocol: z.enum(['TCP', 'UDP', 'SCTP']).optional(),
  hostPort: z.number().int().min(1).max(65535).optional(),
  hostIP: z.string().optional(),
});

const envVar = z.strictObject({
  name: z.string().min(1, 'must name the variable'),
  value: z.string({ message: 'must be a string (quote numbers and booleans)' }).optional(),
  valueFrom: object.optional(),
});

const containerFields = {
  name: z.string({ message: 'must be a string' }).superRefine((name, ctx) => {
    const problem = dns1123LabelProblem(name);
    if (problem) ctx.addIssue({ code: 'custom', message: `"${name}" ${problem}` });
  }),
  image: z.string({ message: 'must name an image' }).min(1, 'must name an image'),
  command: strings.optional(),
  args: strings.optional(),
  workingDir: z.string().optional(),
  ports: z.array(port).optional(),
  envFrom: objects.optional(),
  env: z.array(envVar).optional(),
  resources: z
    .strictObject({
      limits: resourceList.optional(),
      requests: resourceList.optional(),
      claims: objects.optional(),
    })
    .optional(),
  resizePolicy: objects.optional(),
  restartPolicy: z.literal('Always', { message: 'can only be "Always" (a native sidecar)' }).optional(),
  volumeMounts: z.array(volumeMountSchema).optional(),
  volumeDevices: objects.optional(),
  livenessProbe: probe.optional(),
  readinessProbe: probe.optional(),
  startupProbe: probe.optional(),
  lifecycle: fieldsOf(LIFECYCLE_FIELDS, 'a core/v1 Lifecycle').optional(),
  terminationMessagePath: z.string().optional(),
  terminationMessagePolicy: z.enum(['File', 'FallbackToLogsOnError']).optional(),
  imagePullPolicy: z.enum(['Always', 'Never', 'IfNotPresent']).optional(),
  securityContext: fieldsOf(SECURITY_CONTEXT_FIELDS, 'a core/v1 SecurityContext')
    .superRefine((context, ctx) => {
      const capabilities = context.capabilities;
      if (capabilities && typeof capabilities === 'object' && !Array.isArray(capabilities)) {
        for (const key of Object.keys(capabilities).filter((k) => k !== 'add' && k !== 'drop')) {
          ctx.addIssue({
            code: 'custom',
            path: ['capabilities', key],
            message: 'is not a field of core/v1 Capabilities (known: add, drop)',
          });
        }
      }
    })
    .optional(),
  stdin: z.boolean().optional(),
  stdinOnce: z.boolean().optional(),
  tty: z.boolean().optional(),
};

/** The fields of a core/v1 Container (ephemeral containers add targetContainerName). */
export const CONTAINER_FIELDS: readonly string[] = Object.keys(containerFields);

export const containerSchema = z
  .looseObject(containerFields)
  .superRefine(refuseUnknownFields(CONTAINER_FIELDS, 'a core/v1 Container'));

export type ConfiguredContainer = z.output<typeof containerSchema>;
