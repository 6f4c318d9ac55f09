// The defaults kube-apiserver writes into a pod before the mutating webhooks see it: the
// registry's SetDefaults (those the functions compare against, and the ones a reader of the
// review expects), the ServiceAccount plugin's token volume, DefaultTolerationSeconds.
// Only fields still unset are filled; what the manifest says is kept.
type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const list = (value: unknown): Json[] => (Array.isArray(value) ? value.filter(isObject) : []);

function setDefault(target: Json, key: string, value: unknown): void {
  if (target[key] === undefined) target[key] = value;
}

export const TOKEN_MOUNT_PATH = '/var/run/secrets/kubernetes.io/serviceaccount';

/** The projected token volume of Kubernetes 1.21+ (BoundServiceAccountTokenVolume). */
export function tokenVolume(name: string): Json {
  return {
    name,
    projected: {
      sources: [
        { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
        { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
        {
          downwardAPI: {
            items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }],
          },
        },
      ],
      defaultMode: 420,
    },
  };
}

function imagePullPolicy(image: unknown): string {
  if (typeof image !== 'string') return 'IfNotPresent';
  if (image.includes('@')) return 'IfNotPresent';
  const lastPart = image.slice(image.lastIndexOf('/') + 1);
  const tag = lastPart.includes(':') ? lastPart.slice(lastPart.indexOf(':') + 1) : '';
  return tag === '' || tag === 'latest' ? 'Always' : 'IfNotPresent';
}

function defaultProbe(probe: unknown): void {
  if (!isObject(probe)) return;
  setDefault(probe, 'timeoutSeconds', 1);
  setDefault(probe, 'periodSeconds', 10);
  setDefault(probe, 'successThreshold', 1);
  setDefault(probe, 'failureThreshold', 3);
  if (isObject(probe.httpGet)) {
    setDefault(probe.httpGet, 'path', '/');
    setDefault(probe.httpGet, 'scheme', 'HTTP');
  }
}

function defaultContainer(container: Json): void {
  for (const port of list(container.ports)) setDefault(port, 'protocol', 'TCP');
  for (const env of list(container.env)) {
    const from = env.valueFrom;
    if (isObject(from) && isObject(from.fieldRef)) setDefault(from.fieldRef, 'apiVersion', 'v1');
  }
  setDefault(container, 'resources', {});
  for (const key of ['livenessProbe', 'readinessProbe', 'startupProbe']) defaultProbe(container[key]);
  const lifecycle = container.lifecycle;
  if (isObject(lifecycle))
    for (const hook of [lifecycle.preStop, lifecycle.postStart])
      if (isObject(hook) && isObject(hook.httpGet)) setDefault(hook.httpGet, 'scheme', 'HTTP');
  setDefault(container, 'terminationMessagePath', '/dev/termination-log');
  setDefault(container, 'terminationMessagePolicy', 'File');
  setDefault(container, 'imagePullPolicy', imagePullPolicy(container.image));
}

function defaultVolume(volume: Json): void {
  if (isObject(volume.hostPath)) setDefault(volume.hostPath, 'type', '');
  for (const key of ['secret', 'configMap', 'projected', 'downwardAPI'])
    if (isObject(volume[key])) setDefault(volume[key], 'defaultMode', 420);
  for (const item of isObject(volume.downwardAPI) ? list(volume.downwardAPI.items) : [])
    if (isObject(item.fieldRef)) setDefault(item.fieldRef, 'apiVersion', 'v1');
}

/** The pod spec defaults of the registry (pkg/apis/core/v1/defaults.go), in place. */
export function defaultPodSpec(spec: Json): void {
  for (const container of [...list(spec.initContainers), ...list(spec.containers)])
    defaultContainer(container);
  for (const volume of list(spec.volumes)) defaultVolume(volume);
  setDefault(spec, 'restartPolicy', 'Always');
  setDefault(spec, 'terminationGracePeriodSeconds', 30);
  setDefault(spec, 'dnsPolicy', 'ClusterFirst');
  setDefault(spec, 'securityContext', {});
  setDefault(spec, 'schedulerName', 'default-scheduler');
}

/**
 * What admission adds to a pod before the webhooks: the service account (and its token
 * volume, mounted in every container unless automountServiceAccountToken is false), the
 * default tolerations, the priority, enableServiceLinks. `tokenName` is the volume's name
 * (`kube-api-access-<5 random>` on a real cluster).
 */
export function admitPod(pod: Json, tokenName: string): void {
  if (!isObject(pod.spec)) pod.spec = {};
  const spec = pod.spec as Json;
  defaultPodSpec(spec);
  setDefault(spec, 'serviceAccountName', 'default');
  setDefault(spec, 'serviceAccount', spec.serviceAccountName);
  setDefault(spec, 'enableServiceLinks', true);
  setDefault(spec, 'priority', 0);
  setDefault(spec, 'preemptionPolicy', 'PreemptLowerPriority');
  if (spec.automountServiceAccountToken !== false) {
    const volumes = list(spec.volumes);
    const mounted = (c: Json) => list(c.volumeMounts).some((m) => m.mountPath === TOKEN_MOUNT_PATH);
    const containers = [...list(spec.initContainers), ...list(spec.containers)];
    if (!containers.every(mounted)) {
      spec.volumes = [...volumes, tokenVolume(tokenName)];
      for (const container of containers)
        if (!mounted(container))
          container.volumeMounts = [
            ...list(container.volumeMounts),
            { name: tokenName, readOnly: true, mountPath: TOKEN_MOUNT_PATH },
          ];
    }
  }
  const tolerations = list(spec.tolerations);
  for (const key of ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable'])
    if (!tolerations.some((t) => t.key === key && (t.effect === 'NoExecute' || t.effect === undefined)))
      tolerations.push({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 });
  spec.tolerations = tolerations;
}
