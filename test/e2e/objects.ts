// Objects the end-to-end cases create: pod templates shaped as Knative makes them, the suite's
// explicit configuration of every function (so no case depends on a default that may change).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Env, Json } from '../support/e2e.ts';

export const PREFIX = 'knative.netease.dev';
export const AGENT_DIR = '/usr/local/nagent4docker';

/** The volume policy the suite runs with: the agent directory, read-only, in every namespace. */
export function writeVolumePolicy(dir: string): string {
  const file = join(dir, 'volume-policy.json');
  writeFileSync(
    file,
    JSON.stringify({
      default: {
        volumeTypes: ['configMap', 'secret', 'emptyDir', 'projected'],
        hostPath: [{ pathPrefix: AGENT_DIR, types: ['', 'Directory'], readOnly: true }],
      },
    }),
  );
  return file;
}

export const SIDECAR_TEMPLATE = `containers:
  - name: log-shipper
    image: registry.example.com/platform/fluent-bit:3.1
    volumeMounts:
      - { name: app-logs, mountPath: /var/log/app, readOnly: true }
volumes:
  - name: app-logs
    emptyDir: {}
`;

export function writeSidecarTemplate(dir: string): string {
  const file = join(dir, 'sidecar-template.yaml');
  writeFileSync(file, SIDECAR_TEMPLATE);
  return file;
}

/** Every function's configuration, explicit. `STAMP_LABELS` is label-stamping's (own process). */
export function functionEnv(dir: string): Env {
  return {
    ANNOTATION_PREFIX: PREFIX,
    TARGET_CONTAINER: 'user-container',
    VOLUME_POLICY_FILE: writeVolumePolicy(dir),
    NODE_SELECTOR_OVERRIDE: 'false',
    IMAGE_MIRRORS: 'docker.io=mirror.example.com/dockerhub,quay.io=mirror.example.com/quay',
    POD_SELECTOR: 'hello=true',
    CONFIG_VOLUME: JSON.stringify({ name: 'hello-volume', configMap: { name: 'hello-configmap' } }),
    MOUNT_PATH: '/etc/config',
    MOUNT_READ_ONLY: 'true',
    MOUNT_INIT_CONTAINERS: 'false',
    // config-volume's labels; label-stamping runs in its own process with its own.
    STAMP_LABELS: 'hello-added=OK',
    OVERWRITE_LABELS: 'false',
    ALLOW_RESERVED_PREFIXES: 'false',
    SIDECAR_TEMPLATE_FILE: writeSidecarTemplate(dir),
    WEBHOOK_NAMESPACE: 'faas-admission',
    OVERSALE_RULES: 'node-role.example.com/oversale=true:cpu=2,memory=1.5',
  };
}

export const LABEL_STAMPING_ENV: Env = {
  STAMP_LABELS: 'e2e.example.com/created-by={user},e2e.example.com/team=shop',
  OVERWRITE_LABELS: 'false',
  ALLOW_RESERVED_PREFIXES: 'false',
};

/** A pod template as a Knative revision's Deployment carries it: labels, user-container, queue-proxy. */
export function knativeTemplate(service: string, annotations: Record<string, string>, spec: Json = {}): Json {
  const revision = `${service}-00001`;
  return {
    metadata: {
      labels: {
        app: revision,
        'serving.knative.dev/configuration': service,
        'serving.knative.dev/configurationGeneration': '1',
        'serving.knative.dev/revision': revision,
        'serving.knative.dev/service': service,
      },
      annotations: { 'autoscaling.knative.dev/min-scale': '1', ...annotations },
    },
    spec: {
      containers: [
        {
          name: 'user-container',
          image: 'registry.example.com/nfaas/hello:1.0',
          ports: [{ name: 'user-port', containerPort: 8080, protocol: 'TCP' }],
          env: [{ name: 'K_REVISION', value: revision }],
          terminationMessagePolicy: 'FallbackToLogsOnError',
          lifecycle: { preStop: { httpGet: { path: '/wait-for-drain', port: 8022 } } },
        },
        {
          name: 'queue-proxy',
          image: 'registry.example.com/knative/queue:1.0',
          ports: [
            { name: 'http-queueadm', containerPort: 8022 },
            { name: 'http-autometric', containerPort: 9090 },
            { name: 'http-usermetric', containerPort: 9091 },
            { name: 'queue-port', containerPort: 8012 },
            { name: 'https-port', containerPort: 8112 },
          ],
          resources: { requests: { cpu: '25m' } },
          readinessProbe: {
            httpGet: { port: 8012, httpHeaders: [{ name: 'K-Network-Probe', value: 'queue' }] },
          },
        },
      ],
      enableServiceLinks: false,
      terminationGracePeriodSeconds: 300,
      ...spec,
    },
  };
}

export const agentVolumes = (path = AGENT_DIR) => ({
  [`${PREFIX}/volumes`]: JSON.stringify([{ name: 'script-vol', hostPath: { path } }]),
  [`${PREFIX}/volumeMounts`]: JSON.stringify([
    { name: 'script-vol', mountPath: '/usr/local/nagent', readOnly: true },
  ]),
});

/** The pod with the ServiceAccount token Secret's name (random per namespace) made the same. */
export function sameToken(pod: Json): Json {
  return JSON.parse(JSON.stringify(pod).replace(/default-token-[a-z0-9]{5}/g, 'default-token-xxxxx'));
}
