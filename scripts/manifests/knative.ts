// One Knative Service per function, all from the same image: the function is chosen by
// FUNCTION, and the service stays warm and reachable only inside the cluster.
import { describeConfig } from '../../shared/config.ts';
import type { AnyMutation } from '../../shared/mutation.ts';
import { type DeploySettings, labels, MAX_REVIEW_BYTES } from './settings.ts';
import type { Manifest } from './yaml.ts';

export function knativeService(mutation: AnyMutation, settings: DeploySettings): Manifest {
  const variables = describeConfig(mutation);
  const object = {
    apiVersion: 'serving.knative.dev/v1',
    kind: 'Service',
    metadata: {
      name: mutation.name,
      namespace: settings.namespace,
      labels: {
        // Reachable at <name>.<namespace>.svc only: nothing outside the cluster calls a webhook.
        'networking.knative.dev/visibility': 'cluster-local',
        ...labels(mutation.name),
      },
    },
    spec: {
      template: {
        metadata: {
          labels: labels(mutation.name),
          annotations: {
            'autoscaling.knative.dev/min-scale': '1',
            'autoscaling.knative.dev/target-burst-capacity': '0',
          },
        },
        spec: {
          automountServiceAccountToken: false,
          containers: [
            {
              image: settings.image,
              ports: [{ name: 'http1', containerPort: 8080 }],
              env: [
                { name: 'FUNCTION', value: mutation.name },
                { name: 'FUNC_BODY_LIMIT', value: String(MAX_REVIEW_BYTES) },
              ],
              readinessProbe: { httpGet: { path: '/health/readiness' }, periodSeconds: 5 },
              livenessProbe: {
                httpGet: { path: '/health/liveness' },
                periodSeconds: 10,
                failureThreshold: 3,
              },
              resources: {
                requests: { cpu: '100m', memory: '128Mi' },
                limits: { memory: '256Mi' },
              },
              securityContext: {
                runAsNonRoot: true,
                runAsUser: 1000,
                allowPrivilegeEscalation: false,
                capabilities: { drop: ['ALL'] },
                seccompProfile: { type: 'RuntimeDefault' },
              },
            },
          ],
        },
      },
    },
  };
  const configuration =
    variables.length === 0
      ? ' This function reads no configuration.'
      : [
          ' Configuration this function reads (add to env):',
          ...variables.map((v) => `   ${v.variable}: ${v.description}`),
        ].join('\n');
  return {
    object,
    comments: [
      {
        path: ['spec', 'template', 'metadata', 'annotations', 'autoscaling.knative.dev/min-scale'],
        before:
          ' Never scale to zero: the apiserver would wait on a cold start inside timeoutSeconds.\n' +
          ' target-burst-capacity 0 keeps the activator out of the path while a pod is up.',
      },
      {
        path: ['spec', 'template', 'spec', 'containers', 0, 'env'],
        before: `${configuration}\n FUNC_BODY_LIMIT: faas-js-runtime's body limit, as large as nginx's client_max_body_size.`,
      },
      {
        path: ['spec', 'template', 'spec', 'containers', 0, 'securityContext', 'runAsUser'],
        beside: ' the node user of the Node base image, numeric so the kubelet can check runAsNonRoot',
      },
      {
        path: ['spec', 'template', 'spec', 'containers', 0, 'resources'],
        before: ' No CPU limit: throttling would add latency to every admission.',
      },
    ],
  };
}
