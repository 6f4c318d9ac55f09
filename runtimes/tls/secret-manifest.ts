// The Kubernetes Secret that carries the serving certificate to the webhook's pods (mounted
// and read through TLS_CERT_FILE / TLS_KEY_FILE, or by nginx), in the layout cert-manager
// writes too: type kubernetes.io/tls with tls.crt, tls.key and ca.crt.
import type { CertificatePem } from './certificates.ts';

export interface TlsSecretRequest {
  name: string;
  namespace: string;
  ca: string;
  serving: CertificatePem;
}

const base64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

export function tlsSecret({ name, namespace, ca, serving }: TlsSecretRequest) {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name,
      namespace,
      labels: { 'app.kubernetes.io/name': 'faas-admission', 'app.kubernetes.io/component': 'webhook-tls' },
    },
    type: 'kubernetes.io/tls',
    data: {
      'tls.crt': base64(serving.certificate),
      'tls.key': base64(serving.privateKey),
      'ca.crt': base64(ca),
    },
  };
}

/** The `caBundle` of a webhook's clientConfig: the CA's PEM, base64-encoded. */
export function caBundle(caPem: string): string {
  return base64(caPem);
}
