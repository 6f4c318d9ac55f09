// The TLS-terminating Service the apiserver calls: nginx (non-root, read-only root filesystem)
// with the certificate cert-manager issues, forwarding each path to its Knative service.
import {
  type DeploySettings,
  HTTPS_PORT,
  labels,
  NGINX_CONFIG_MAP,
  NGINX_IMAGE,
  NGINX_PORT,
  TLS_PROXY,
} from './settings.ts';
import type { Manifest } from './yaml.ts';

/** Where the pod mounts what the configuration refers to. */
export const NGINX_PATHS = {
  config: '/etc/nginx/faas-admission',
  tls: '/etc/nginx/tls',
  run: '/tmp',
} as const;

/** The container's entry (in the nginx ConfigMap): nginx, reloaded when the certificate changes. */
export const TLS_RELOAD_SCRIPT = 'tls-reload.sh';

const selector = {
  'app.kubernetes.io/name': labels('tls-proxy')['app.kubernetes.io/name'],
  'app.kubernetes.io/component': 'tls-proxy',
};

export function tlsProxyDeployment(settings: DeploySettings): Manifest {
  const probe = { httpGet: { path: '/healthz', port: 'https', scheme: 'HTTPS' }, periodSeconds: 5 };
  const object = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: TLS_PROXY, namespace: settings.namespace, labels: labels('tls-proxy') },
    spec: {
      replicas: 2,
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      selector: { matchLabels: selector },
      template: {
        metadata: { labels: labels('tls-proxy') },
        spec: {
          automountServiceAccountToken: false,
          securityContext: {
            runAsNonRoot: true,
            runAsUser: 101,
            runAsGroup: 101,
            seccompProfile: { type: 'RuntimeDefault' },
          },
          affinity: {
            podAntiAffinity: {
              preferredDuringSchedulingIgnoredDuringExecution: [
                {
                  weight: 100,
                  podAffinityTerm: {
                    topologyKey: 'kubernetes.io/hostname',
                    labelSelector: { matchLabels: selector },
                  },
                },
              ],
            },
          },
          containers: [
            {
              name: 'nginx',
              image: NGINX_IMAGE,
              command: [
                'sh',
                `${NGINX_PATHS.config}/${TLS_RELOAD_SCRIPT}`,
                '-c',
                `${NGINX_PATHS.config}/nginx.conf`,
                '-e',
                'stderr',
              ],
              ports: [{ name: 'https', containerPort: NGINX_PORT, protocol: 'TCP' }],
              readinessProbe: probe,
              livenessProbe: { ...probe, periodSeconds: 10, failureThreshold: 3 },
              lifecycle: { preStop: { exec: { command: ['sleep', '5'] } } },
              resources: {
                requests: { cpu: '50m', memory: '32Mi' },
                limits: { memory: '256Mi' },
              },
              securityContext: {
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                capabilities: { drop: ['ALL'] },
              },
              volumeMounts: [
                { name: 'config', mountPath: NGINX_PATHS.config, readOnly: true },
                { name: 'tls', mountPath: NGINX_PATHS.tls, readOnly: true },
                { name: 'run', mountPath: NGINX_PATHS.run },
              ],
            },
          ],
          volumes: [
            { name: 'config', configMap: { name: NGINX_CONFIG_MAP } },
            { name: 'tls', secret: { secretName: TLS_PROXY } },
            { name: 'run', emptyDir: { medium: 'Memory', sizeLimit: '64Mi' } },
          ],
        },
      },
    },
  };
  return {
    object,
    comments: [
      {
        path: ['spec', 'strategy'],
        before:
          ' Both replicas stay up during a rollout: a Fail webhook with no endpoint blocks pod creation.',
      },
      {
        path: ['spec', 'template', 'spec', 'containers', 0, 'command'],
        before: ' nginx, with a watcher that reloads it when the mounted certificate changes.',
      },
      {
        path: ['spec', 'template', 'spec', 'containers', 0, 'lifecycle'],
        before: ' Keep serving while the endpoint is removed, so no in-flight review is cut.',
      },
      {
        path: ['spec', 'template', 'spec', 'volumes', 1],
        before:
          ' Mounted as a directory (no subPath), so a renewed certificate appears in place (about a\n' +
          ' minute after the Secret changes); tls-reload.sh then reloads nginx.',
      },
    ],
  };
}

export function tlsProxyService(settings: DeploySettings): Manifest {
  return {
    object: {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: TLS_PROXY, namespace: settings.namespace, labels: labels('tls-proxy') },
      spec: {
        selector,
        ports: [{ name: 'https', port: HTTPS_PORT, targetPort: 'https', protocol: 'TCP' }],
      },
    },
  };
}
