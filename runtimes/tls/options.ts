// TLS settings of the standalone server: TLS 1.2 and 1.3 only, forward-secret AEAD ciphers
// (the "intermediate" profile: what Go's TLS stack, and so kube-apiserver, negotiates).
import type { SecureContextOptions } from 'node:tls';

/**
 * Mozilla's "intermediate" TLS 1.2 suites without DHE (no dhparam is shipped); the nginx proxy
 * in front of a function offers the same (scripts/manifests/nginx-conf.ts).
 */
export const TLS12_CIPHERS = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
];

const TLS13_CIPHERS = ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256'];

export const TLS_OPTIONS: SecureContextOptions = {
  minVersion: 'TLSv1.2',
  ciphers: [...TLS13_CIPHERS, ...TLS12_CIPHERS].join(':'),
  honorCipherOrder: true,
};
