// cert-manager issues the serving certificate: a self-signed Issuer makes a CA, the CA Issuer
// signs the certificate for the TLS-terminating Service, and cainjector copies the CA into
// the webhooks' caBundle (cert-manager.io/inject-ca-from on the MutatingWebhookConfiguration).
import {
  CA_NAME,
  type DeploySettings,
  labels,
  SELF_SIGNED_ISSUER,
  TLS_PROXY,
  tlsProxyDnsNames,
} from './settings.ts';
import type { Manifest } from './yaml.ts';

const privateKey = { algorithm: 'ECDSA', size: 256, rotationPolicy: 'Always' };

export function certificates(settings: DeploySettings): Manifest[] {
  const metadata = (name: string) => ({
    name,
    namespace: settings.namespace,
    labels: labels('certificates'),
  });
  return [
    {
      object: {
        apiVersion: 'cert-manager.io/v1',
        kind: 'Issuer',
        metadata: metadata(SELF_SIGNED_ISSUER),
        spec: { selfSigned: {} },
      },
    },
    {
      object: {
        apiVersion: 'cert-manager.io/v1',
        kind: 'Certificate',
        metadata: metadata(CA_NAME),
        spec: {
          isCA: true,
          commonName: CA_NAME,
          secretName: CA_NAME,
          duration: '43800h',
          renewBefore: '8760h',
          privateKey,
          issuerRef: { group: 'cert-manager.io', kind: 'Issuer', name: SELF_SIGNED_ISSUER },
        },
      },
      comments: [
        {
          path: ['spec', 'duration'],
          beside: ' 5 years, renewed a year ahead: the caBundle follows the serving certificate',
        },
      ],
    },
    {
      object: {
        apiVersion: 'cert-manager.io/v1',
        kind: 'Issuer',
        metadata: metadata(CA_NAME),
        spec: { ca: { secretName: CA_NAME } },
      },
    },
    {
      object: {
        apiVersion: 'cert-manager.io/v1',
        kind: 'Certificate',
        metadata: metadata(TLS_PROXY),
        spec: {
          secretName: TLS_PROXY,
          dnsNames: tlsProxyDnsNames(settings),
          duration: '2160h',
          renewBefore: '720h',
          usages: ['digital signature', 'server auth'],
          privateKey,
          issuerRef: { group: 'cert-manager.io', kind: 'Issuer', name: CA_NAME },
        },
      },
      comments: [
        {
          path: ['spec', 'dnsNames'],
          before: ' The apiserver connects to <service>.<namespace>.svc and checks this name.',
        },
        {
          path: ['spec', 'duration'],
          beside: ' 90 days, renewed 30 days ahead; tls-reload.sh reloads nginx when the Secret changes',
        },
      ],
    },
  ];
}
