// The names, addresses and limits the deployment is built from, in one place so that the
// nginx configuration, the webhooks, the certificates and the Knative services agree.

import { BODY_LIMIT } from '../../runtimes/faas-options.ts';

/** What one installation may differ in (`npm run manifests -- --help`); every manifest follows from these. */
export interface DeploySettings {
  /** Namespace of the functions, the TLS-terminating Service and its certificate. */
  readonly namespace: string;
  /** The cluster's DNS domain (kubelet --cluster-domain). */
  readonly clusterDomain: string;
  /** DNS server nginx asks for the Knative hosts at request time (nginx does not read resolv.conf). */
  readonly dnsResolver: string;
  /** The image built from the project's Dockerfile, ideally by digest (`name@sha256:...`). */
  readonly image: string;
  /**
   * Without cert-manager: the webhooks' caBundle (base64 of the CA's PEM, as `npm run cert`
   * writes it); the Secret then comes from `npm run cert` too. Unset: cert-manager issues both.
   */
  readonly caBundle?: string;
  /**
   * The webhooks call this HTTPS URL (`clientConfig.url`, the function's path appended) instead
   * of the in-cluster Service: a function behind an ingress, an OpenFaaS gateway
   * (`https://gateway.example.com/function`), or a server outside the cluster. Needs `caBundle`.
   * `endpointByFunction` overrides it for single functions.
   */
  readonly endpoint?: string;
  readonly endpointByFunction?: Readonly<Record<string, string>>;
  /** The cluster's Kubernetes version: fields it predates are left out of what is written. */
  readonly kubernetesVersion?: KubernetesVersion;
}

export interface KubernetesVersion {
  readonly major: number;
  readonly minor: number;
}

/** The oldest Kubernetes the manifests can target: admissionregistration.k8s.io/v1 (1.16). */
export const OLDEST_KUBERNETES: KubernetesVersion = { major: 1, minor: 16 };
/** matchConditions in webhook entries: beta and on by default from 1.28 (GA 1.30). */
export const MATCH_CONDITIONS_SINCE: KubernetesVersion = { major: 1, minor: 28 };
/** The kubernetes.io/metadata.name label on every namespace, set by the apiserver: 1.21. */
export const NAMESPACE_NAME_LABEL_SINCE: KubernetesVersion = { major: 1, minor: 21 };

/** Whether `settings` target a cluster of at least `since` (no target version: the newest). */
export function clusterHas(settings: DeploySettings, since: KubernetesVersion): boolean {
  const v = settings.kubernetesVersion;
  if (!v) return true;
  return v.major > since.major || (v.major === since.major && v.minor >= since.minor);
}

/** "1.20" -> {major 1, minor 20}; undefined when it is not MAJOR.MINOR[.PATCH]. */
export function parseKubernetesVersion(text: string): KubernetesVersion | undefined {
  const match = /^v?(\d{1,3})\.(\d{1,3})(\.\d{1,4})?$/.exec(text);
  if (!match) return undefined;
  return { major: Number(match[1]), minor: Number(match[2]) };
}

export const defaultSettings: DeploySettings = {
  namespace: 'faas-admission',
  clusterDomain: 'cluster.local',
  dnsResolver: 'kube-dns.kube-system.svc.cluster.local',
  image: 'registry.example.com/faas-admission:0.1.0',
};

/** The project's name, used for the shared labels, the image and the webhook configuration. */
export const PROJECT = 'faas-admission';
/** Service, Deployment, Certificate and Secret of the TLS-terminating proxy. */
export const TLS_PROXY = 'faas-admission-tls';
export const NGINX_CONFIG_MAP = 'faas-admission-tls-nginx';
export const CA_NAME = 'faas-admission-ca';
export const SELF_SIGNED_ISSUER = 'faas-admission-selfsigned';
export const NGINX_IMAGE = 'nginxinc/nginx-unprivileged:1.30-alpine';

export const HTTPS_PORT = 443;
/** nginx listens here inside the pod: above 1024, so it runs without any capability. */
export const NGINX_PORT = 8443;

/**
 * How long the apiserver waits for one function. The functions are warm (min-scale 1) and
 * answer in milliseconds; this bounds a stuck call, during which the object's creation waits.
 */
export const WEBHOOK_TIMEOUT_SECONDS = 5;
/** nginx gives up before the apiserver does, so the user reads nginx's message, not a bare deadline. */
export const PROXY_CONNECT_TIMEOUT_SECONDS = 1;
export const PROXY_READ_TIMEOUT_SECONDS = 3;
/**
 * Largest AdmissionReview nginx lets through: what faas-js-runtime accepts by the project's
 * default (FUNC_BODY_LIMIT unset), so nginx never passes on a body the function would refuse.
 */
export const MAX_REVIEW_BYTES = BODY_LIMIT;

/** The host Knative routes a cluster-local service by (its ingress matches the Host header). */
export function knativeHost(functionName: string, settings: DeploySettings): string {
  return `${functionName}.${settings.namespace}.svc.${settings.clusterDomain}`;
}

/** The names the apiserver may use for the TLS-terminating Service; the certificate covers them all. */
export function tlsProxyDnsNames(settings: DeploySettings): string[] {
  const { namespace, clusterDomain } = settings;
  return [
    TLS_PROXY,
    `${TLS_PROXY}.${namespace}`,
    `${TLS_PROXY}.${namespace}.svc`,
    `${TLS_PROXY}.${namespace}.svc.${clusterDomain}`,
  ];
}

/** The base URL the apiserver reaches a function under (its path is appended), when not the Service. */
export function endpointBase(settings: DeploySettings, functionName: string): string | undefined {
  const base = settings.endpointByFunction?.[functionName] ?? settings.endpoint;
  return base?.replace(/\/+$/, '');
}

/**
 * The path the apiserver posts a function's reviews to; `/<function>/<entry>` for each entry
 * of a function registered in several ways, so the function knows which entry sent a review.
 */
export function webhookPath(functionName: string, entry?: string): string {
  return entry ? `/${functionName}/${entry}` : `/${functionName}`;
}

export function labels(component: string): Record<string, string> {
  return {
    'app.kubernetes.io/name': PROJECT,
    'app.kubernetes.io/component': component,
    'app.kubernetes.io/part-of': PROJECT,
  };
}
