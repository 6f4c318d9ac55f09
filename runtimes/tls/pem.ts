// The one shape of a certificate with its key, shared by issuing (certificates.ts) and
// inspecting (inspect.ts) without either importing the other.

/** A certificate and its private key, both PEM. */
export interface CertificatePem {
  certificate: string;
  privateKey: string;
}
