// The resource the apiserver names in request.resource for an object's apiVersion and kind:
// a table of the common kinds (a discovery call would be needed for the others: --resource).
export interface KindInfo {
  readonly resource: string;
  readonly namespaced: boolean;
}

const KINDS: Record<string, Record<string, KindInfo>> = {
  '': {
    Pod: { resource: 'pods', namespaced: true },
    Service: { resource: 'services', namespaced: true },
    ConfigMap: { resource: 'configmaps', namespaced: true },
    Secret: { resource: 'secrets', namespaced: true },
    ServiceAccount: { resource: 'serviceaccounts', namespaced: true },
    PersistentVolumeClaim: { resource: 'persistentvolumeclaims', namespaced: true },
    PersistentVolume: { resource: 'persistentvolumes', namespaced: false },
    Namespace: { resource: 'namespaces', namespaced: false },
    Node: { resource: 'nodes', namespaced: false },
    Endpoints: { resource: 'endpoints', namespaced: true },
    Event: { resource: 'events', namespaced: true },
    LimitRange: { resource: 'limitranges', namespaced: true },
    ResourceQuota: { resource: 'resourcequotas', namespaced: true },
    ReplicationController: { resource: 'replicationcontrollers', namespaced: true },
    PodTemplate: { resource: 'podtemplates', namespaced: true },
  },
  apps: {
    Deployment: { resource: 'deployments', namespaced: true },
    ReplicaSet: { resource: 'replicasets', namespaced: true },
    StatefulSet: { resource: 'statefulsets', namespaced: true },
    DaemonSet: { resource: 'daemonsets', namespaced: true },
    ControllerRevision: { resource: 'controllerrevisions', namespaced: true },
  },
  batch: {
    Job: { resource: 'jobs', namespaced: true },
    CronJob: { resource: 'cronjobs', namespaced: true },
  },
  'networking.k8s.io': {
    Ingress: { resource: 'ingresses', namespaced: true },
    NetworkPolicy: { resource: 'networkpolicies', namespaced: true },
    IngressClass: { resource: 'ingressclasses', namespaced: false },
  },
  'rbac.authorization.k8s.io': {
    Role: { resource: 'roles', namespaced: true },
    RoleBinding: { resource: 'rolebindings', namespaced: true },
    ClusterRole: { resource: 'clusterroles', namespaced: false },
    ClusterRoleBinding: { resource: 'clusterrolebindings', namespaced: false },
  },
  policy: { PodDisruptionBudget: { resource: 'poddisruptionbudgets', namespaced: true } },
  autoscaling: { HorizontalPodAutoscaler: { resource: 'horizontalpodautoscalers', namespaced: true } },
  'coordination.k8s.io': { Lease: { resource: 'leases', namespaced: true } },
  'storage.k8s.io': { StorageClass: { resource: 'storageclasses', namespaced: false } },
  'apiextensions.k8s.io': {
    CustomResourceDefinition: { resource: 'customresourcedefinitions', namespaced: false },
  },
  'admissionregistration.k8s.io': {
    MutatingWebhookConfiguration: { resource: 'mutatingwebhookconfigurations', namespaced: false },
    ValidatingWebhookConfiguration: { resource: 'validatingwebhookconfigurations', namespaced: false },
  },
  'serving.knative.dev': {
    Service: { resource: 'services', namespaced: true },
    Configuration: { resource: 'configurations', namespaced: true },
    Revision: { resource: 'revisions', namespaced: true },
    Route: { resource: 'routes', namespaced: true },
  },
};

export interface GroupVersion {
  readonly group: string;
  readonly version: string;
}

/** `apps/v1` -> {apps, v1}; `v1` -> {"", v1}. */
export function splitApiVersion(apiVersion: string): GroupVersion {
  const slash = apiVersion.indexOf('/');
  if (slash < 0) return { group: '', version: apiVersion };
  return { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

export function kindInfo(group: string, kind: string): KindInfo | undefined {
  return KINDS[group]?.[kind];
}

/** The kind a resource names, for `kind/name` arguments (`pods`, `pod`, `deploy/x` not included). */
export function kindOfResource(resource: string): { group: string; kind: string } | undefined {
  const lower = resource.toLowerCase();
  for (const [group, kinds] of Object.entries(KINDS)) {
    for (const [kind, info] of Object.entries(kinds)) {
      if (info.resource === lower || kind.toLowerCase() === lower || `${info.resource}.${group}` === lower)
        return { group, kind };
    }
  }
  return undefined;
}

export function knownKinds(): string[] {
  return Object.entries(KINDS).flatMap(([group, kinds]) =>
    Object.keys(kinds).map((kind) => (group ? `${kind}.${group}` : kind)),
  );
}
