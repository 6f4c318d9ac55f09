// A PodMonitor for the Prometheus Operator, which ignores the prometheus.io/* annotations the
// Knative Services carry: a kustomize component, off by default, that a user turns on with
//
//   components: [../deploy/components/pod-monitor]     (in an overlay's kustomization.yaml)
//
// Knative lets the user container declare one port (8080, named user-port); the metrics
// endpoint on 9464 is not declared, so the target is the pod's user-port, re-addressed to 9464
// (the operator's portNumber only selects declared ports).
import { METRICS_PORT } from './knative.ts';
import { type DeploySettings, labels, PROJECT } from './settings.ts';
import type { Manifest } from './yaml.ts';

export const POD_MONITOR_DIR = 'components/pod-monitor';

export function podMonitor(settings: DeploySettings): Manifest {
  return {
    object: {
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'PodMonitor',
      metadata: { name: PROJECT, namespace: settings.namespace, labels: labels('metrics') },
      spec: {
        namespaceSelector: { matchNames: [settings.namespace] },
        selector: {
          matchLabels: { 'app.kubernetes.io/name': PROJECT },
          matchExpressions: [{ key: 'serving.knative.dev/service', operator: 'Exists' }],
        },
        podTargetLabels: ['serving.knative.dev/service', 'serving.knative.dev/revision'],
        podMetricsEndpoints: [
          {
            port: 'user-port',
            path: '/metrics',
            interval: '30s',
            relabelings: [
              {
                sourceLabels: ['__meta_kubernetes_pod_ip'],
                regex: '(.+)',
                targetLabel: '__address__',
                replacement: `$1:${METRICS_PORT}`,
                action: 'replace',
              },
            ],
          },
        ],
      },
    },
    comments: [
      {
        path: ['spec', 'podMetricsEndpoints', 0, 'relabelings'],
        before: ` The admission metrics are on ${METRICS_PORT}, which Knative does not let the pod declare.`,
      },
    ],
  };
}

export function podMonitorComponent(): Manifest {
  return {
    object: {
      apiVersion: 'kustomize.config.k8s.io/v1alpha1',
      kind: 'Component',
      resources: ['pod-monitor.yaml'],
    },
  };
}
