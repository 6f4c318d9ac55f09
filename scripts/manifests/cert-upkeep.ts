// deploy/cert-upkeep/: a kustomize Component for clusters without cert-manager. A CronJob on
// the project's image runs `cert-upkeep` (cli/cert-upkeep.ts), which keeps the CA Secret, the
// serving Secret and the webhooks' caBundle; its RBAC is the least that needs. The Component
// also takes cert-manager's objects and its cainjector annotation out of the deployment.
// Off by default: an overlay lists it under `components:` (docs/certificates.md).
import { CA_NAME, type DeploySettings, labels, PROJECT, SELF_SIGNED_ISSUER, TLS_PROXY } from './settings.ts';
import type { Manifest } from './yaml.ts';

export const CERT_UPKEEP = 'faas-admission-cert-upkeep';
export const CERT_UPKEEP_DIR = 'cert-upkeep';
/** Hourly: a run that has nothing to do reads four objects and exits. */
export const CERT_UPKEEP_SCHEDULE = '7 * * * *';
/** Where the image (the Dockerfile's) has the compiled command. */
const COMMAND = ['node', 'dist/cli/cert-upkeep.js'];

export interface CertUpkeepOptions {
  /** Whether the deployment has a ValidatingWebhookConfiguration to keep as well. */
  validating: boolean;
}

function serviceAccount(settings: DeploySettings): Manifest {
  return {
    object: {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: CERT_UPKEEP, namespace: settings.namespace, labels: labels('cert-upkeep') },
    },
  };
}

function role(settings: DeploySettings): Manifest {
  return {
    object: {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: CERT_UPKEEP, namespace: settings.namespace, labels: labels('cert-upkeep') },
      rules: [
        {
          apiGroups: [''],
          resources: ['secrets'],
          resourceNames: [CA_NAME, TLS_PROXY],
          verbs: ['get', 'update'],
        },
        { apiGroups: [''], resources: ['secrets'], verbs: ['create'] },
      ],
    },
    comments: [
      {
        path: ['rules', 1],
        before:
          ' The first run creates both Secrets. Kubernetes cannot narrow `create` to names (the\n' +
          ' object does not exist when it is authorized): it reads and changes no other Secret.',
      },
    ],
  };
}

function roleBinding(settings: DeploySettings): Manifest {
  return {
    object: {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: CERT_UPKEEP, namespace: settings.namespace, labels: labels('cert-upkeep') },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: CERT_UPKEEP },
      subjects: [{ kind: 'ServiceAccount', name: CERT_UPKEEP, namespace: settings.namespace }],
    },
  };
}

function clusterRole(options: CertUpkeepOptions): Manifest {
  const resources = [
    'mutatingwebhookconfigurations',
    ...(options.validating ? ['validatingwebhookconfigurations'] : []),
  ];
  return {
    object: {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: CERT_UPKEEP, labels: labels('cert-upkeep') },
      rules: [
        {
          apiGroups: ['admissionregistration.k8s.io'],
          resources,
          resourceNames: [PROJECT],
          verbs: ['get', 'patch'],
        },
      ],
    },
    comments: [
      {
        path: ['rules', 0],
        before: " Only the project's own configurations; the command patches nothing but their caBundle.",
      },
    ],
  };
}

function clusterRoleBinding(settings: DeploySettings): Manifest {
  return {
    object: {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: CERT_UPKEEP, labels: labels('cert-upkeep') },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: CERT_UPKEEP },
      subjects: [{ kind: 'ServiceAccount', name: CERT_UPKEEP, namespace: settings.namespace }],
    },
  };
}

/** The command's arguments: every name spelled out, so the CronJob reads as what it keeps. */
export function certUpkeepArgs(settings: DeploySettings, options: CertUpkeepOptions): string[] {
  return [
    '--namespace',
    settings.namespace,
    '--service',
    TLS_PROXY,
    '--secret',
    TLS_PROXY,
    '--ca-secret',
    CA_NAME,
    '--mutating',
    PROJECT,
    ...(options.validating ? ['--validating', PROJECT] : []),
  ];
}

function cronJob(settings: DeploySettings, options: CertUpkeepOptions): Manifest {
  return {
    object: {
      apiVersion: 'batch/v1',
      kind: 'CronJob',
      metadata: { name: CERT_UPKEEP, namespace: settings.namespace, labels: labels('cert-upkeep') },
      spec: {
        schedule: CERT_UPKEEP_SCHEDULE,
        concurrencyPolicy: 'Forbid',
        startingDeadlineSeconds: 3600,
        successfulJobsHistoryLimit: 3,
        failedJobsHistoryLimit: 3,
        jobTemplate: {
          spec: {
            backoffLimit: 2,
            activeDeadlineSeconds: 600,
            template: {
              metadata: { labels: labels('cert-upkeep') },
              spec: {
                serviceAccountName: CERT_UPKEEP,
                restartPolicy: 'Never',
                securityContext: {
                  runAsNonRoot: true,
                  runAsUser: 1000,
                  runAsGroup: 1000,
                  seccompProfile: { type: 'RuntimeDefault' },
                },
                containers: [
                  {
                    name: 'cert-upkeep',
                    image: settings.image,
                    command: COMMAND,
                    args: certUpkeepArgs(settings, options),
                    resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { memory: '256Mi' } },
                    securityContext: {
                      allowPrivilegeEscalation: false,
                      readOnlyRootFilesystem: true,
                      capabilities: { drop: ['ALL'] },
                    },
                  },
                ],
              },
            },
          },
        },
      },
    },
    comments: [
      {
        path: ['spec', 'schedule'],
        beside:
          ' hourly: renewals are due weeks ahead, a CA rotation takes three runs; kubectl create job --from=cronjob/faas-admission-cert-upkeep runs it now',
      },
      { path: ['spec', 'concurrencyPolicy'], beside: ' two runs at once would race on the same Secrets' },
    ],
  };
}

export function certUpkeepManifests(settings: DeploySettings, options: CertUpkeepOptions): Manifest[] {
  return [
    serviceAccount(settings),
    role(settings),
    roleBinding(settings),
    clusterRole(options),
    clusterRoleBinding(settings),
    cronJob(settings, options),
  ];
}

/** The Component: the CronJob and its RBAC in, cert-manager out. */
export function certUpkeepComponent(settings: DeploySettings, options: CertUpkeepOptions): Manifest {
  const remove = (kind: string, name: string) => ({
    patch: [
      '$patch: delete',
      'apiVersion: cert-manager.io/v1',
      `kind: ${kind}`,
      'metadata:',
      `  name: ${name}`,
      `  namespace: ${settings.namespace}`,
    ].join('\n'),
  });
  const noInjection = (kind: string) => ({
    target: { group: 'admissionregistration.k8s.io', version: 'v1', kind, name: PROJECT },
    patch: '- op: remove\n  path: /metadata/annotations/cert-manager.io~1inject-ca-from',
  });
  return {
    object: {
      apiVersion: 'kustomize.config.k8s.io/v1alpha1',
      kind: 'Component',
      resources: ['cert-upkeep.yaml'],
      patches: [
        remove('Certificate', TLS_PROXY),
        remove('Issuer', CA_NAME),
        remove('Certificate', CA_NAME),
        remove('Issuer', SELF_SIGNED_ISSUER),
        noInjection('MutatingWebhookConfiguration'),
        ...(options.validating ? [noInjection('ValidatingWebhookConfiguration')] : []),
      ],
    },
    comments: [
      {
        path: ['patches'],
        before:
          " No cert-manager: its Issuers and Certificates go, and so does cainjector's annotation;\n" +
          ' the CronJob writes the Secrets and the caBundles instead.',
      },
    ],
  };
}
