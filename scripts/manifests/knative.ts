// One Knative Service per function, all from the same image (FUNCTION chooses the function).
// Scaling, resources, probes, labels and variables come from the function's func.yaml as
// `npm run func-yaml` renders it, so `kubectl apply -k deploy/` and `func deploy` deploy the same
// service.
import { BODY_LIMIT, IN_FLIGHT_BODY_LIMIT } from '../../runtimes/settings.ts';
import { describeConfig } from '../../shared/config.ts';
import type { AnyMutation } from '../../shared/mutation.ts';
import type { FuncYaml } from '../func-yaml.ts';
import { deployedFuncYaml, funcEnv } from './function-config.ts';
import { type DeploySettings, labels } from './settings.ts';
import type { Manifest } from './yaml.ts';

// func.yaml's deploy.options.scale, as `func deploy` writes it into the revision template.
const SCALE_ANNOTATIONS: Record<string, string> = {
  min: 'autoscaling.knative.dev/min-scale',
  max: 'autoscaling.knative.dev/max-scale',
  metric: 'autoscaling.knative.dev/metric',
  target: 'autoscaling.knative.dev/target',
  utilization: 'autoscaling.knative.dev/target-utilization-percentage',
};

/** func.yaml run.volumes as Knative takes them (ConfigMaps and Secrets), named as `func deploy` names them. */
function volumesOf(name: string, fn: FuncYaml) {
  const volumes: Record<string, unknown>[] = [];
  const volumeMounts: Record<string, unknown>[] = [];
  for (const volume of (fn.run?.volumes ?? []) as { configMap?: string; secret?: string; path: string }[]) {
    if (volume.configMap) {
      volumes.push({ name: `config-map-${volume.configMap}`, configMap: { name: volume.configMap } });
      volumeMounts.push({ name: `config-map-${volume.configMap}`, mountPath: volume.path, readOnly: true });
    } else if (volume.secret) {
      volumes.push({ name: `secret-${volume.secret}`, secret: { secretName: volume.secret } });
      volumeMounts.push({ name: `secret-${volume.secret}`, mountPath: volume.path, readOnly: true });
    } else {
      throw new Error(
        `${name}: func.yaml run.volumes ${volume.path}: only configMap and secret volumes are written`,
      );
    }
  }
  return { volumes, volumeMounts };
}

function scaleAnnotations(fn: FuncYaml): Record<string, string> {
  const scale: Record<string, unknown> = fn.deploy?.options?.scale ?? {};
  return Object.fromEntries(
    Object.entries(scale).map(([key, value]) => {
      const annotation = SCALE_ANNOTATIONS[key];
      if (!annotation) throw new Error(`func.yaml deploy.options.scale.${key} is not known`);
      return [annotation, String(value)];
    }),
  );
}

export const METRICS_PORT = 9464;

/**
 * Reviews one instance takes at once: as many bodies of the largest size as the process holds
 * in flight (IN_FLIGHT_BODY_LIMIT / FUNC_BODY_LIMIT), so that the queue-proxy queues what
 * would otherwise be refused with 503, and the memory limit covers the worst that gets in.
 */
export const CONTAINER_CONCURRENCY = IN_FLIGHT_BODY_LIMIT / BODY_LIMIT;

export function knativeService(mutation: AnyMutation, settings: DeploySettings): Manifest {
  const fn = deployedFuncYaml(mutation.name);
  const { volumes, volumeMounts } = volumesOf(mutation.name, fn);
  const funcLabels = Object.fromEntries(
    ((fn.deploy?.labels ?? []) as { key: string; value: string }[]).map((l) => [l.key, l.value]),
  );
  const health = fn.deploy?.healthEndpoints ?? {};
  const object = {
    apiVersion: 'serving.knative.dev/v1',
    kind: 'Service',
    metadata: {
      name: mutation.name,
      namespace: settings.namespace,
      labels: { ...funcLabels, ...labels(mutation.name) },
    },
    spec: {
      template: {
        metadata: {
          labels: labels(mutation.name),
          annotations: {
            ...scaleAnnotations(fn),
            'autoscaling.knative.dev/target-burst-capacity': '0',
            // The OpenTelemetry Prometheus endpoint: scraped on the pod's own address, since
            // Knative routes only the serving port through queue-proxy.
            'prometheus.io/scrape': 'true',
            'prometheus.io/port': String(METRICS_PORT),
            'prometheus.io/path': '/metrics',
          },
        },
        spec: {
          containerConcurrency: CONTAINER_CONCURRENCY,
          automountServiceAccountToken: false,
          containers: [
            {
              image: settings.image,
              ports: [{ name: 'http1', containerPort: 8080 }],
              env: funcEnv(mutation.name, fn),
              ...(volumeMounts.length > 0 && { volumeMounts }),
              readinessProbe: { httpGet: { path: health.readiness }, periodSeconds: 5 },
              livenessProbe: { httpGet: { path: health.liveness }, periodSeconds: 10, failureThreshold: 3 },
              resources: fn.deploy?.options?.resources,
              securityContext: {
                runAsNonRoot: true,
                runAsUser: 1000,
                allowPrivilegeEscalation: false,
                capabilities: { drop: ['ALL'] },
                seccompProfile: { type: 'RuntimeDefault' },
              },
            },
          ],
          ...(volumes.length > 0 && { volumes }),
        },
      },
    },
  };
  const variables = describeConfig(mutation);
  const configuration =
    variables.length === 0
      ? ' This function reads no configuration of its own.'
      : [
          ' Configuration this function reads (add to env):',
          ...variables.map((v) => `   ${v.variable}: ${v.description}`),
        ].join('\n');
  const container = ['spec', 'template', 'spec', 'containers', 0];
  return {
    object,
    comments: [
      {
        path: ['metadata', 'labels'],
        before:
          ' From func.yaml (scaling, resources, probes, variables too): the same service `func deploy` makes.',
      },
      {
        path: ['spec', 'template', 'metadata', 'annotations'],
        before:
          ' Never scale to zero: the apiserver would wait on a cold start inside timeoutSeconds.\n' +
          ' target-burst-capacity 0 keeps the activator out of the path while a pod is up.',
      },
      {
        path: ['spec', 'template', 'spec', 'containerConcurrency'],
        beside: ` ${CONTAINER_CONCURRENCY} bodies of ${BODY_LIMIT / 1024 / 1024} MiB = IN_FLIGHT_BODY_LIMIT: the queue-proxy holds the rest`,
      },
      { path: [...container, 'env'], before: configuration },
      {
        path: [...container, 'securityContext', 'runAsUser'],
        beside: ' the node user of the Node base image, numeric so the kubelet can check runAsNonRoot',
      },
      {
        path: [...container, 'resources'],
        before:
          ' No CPU limit: throttling would add latency to every admission. The memory limit covers\n' +
          ` the process (about 125 MiB) and ${CONTAINER_CONCURRENCY} reviews of ${BODY_LIMIT / 1024 / 1024} MiB in flight (IN_FLIGHT_BODY_LIMIT, a few times\n` +
          ' their size while parsed): past that the runtime answers 503, it never grows further.',
      },
    ],
  };
}
