// The few Kubernetes API calls the certificate upkeep makes, as plain REST over the
// credentials @kubernetes/client-node loads (a kubeconfig, or the pod's ServiceAccount): each
// answer keeps its HTTP status, so a refusal (403), a lost race (409) or a missing object
// (404) becomes a message that says what to do, and a JSON patch carries its own tests.
import { type RequestOptions, request } from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';

export class KubeError extends Error {
  readonly status: number;
  readonly verb: string;
  readonly what: string;
  /** The Status object's machine-readable reason (Conflict, ServerTimeout, ...), when it gave one. */
  readonly reason: string | undefined;
  constructor(status: number, verb: string, what: string, message: string, reason?: string) {
    super(`${verb} ${what}: ${status} ${message}`);
    this.status = status;
    this.verb = verb;
    this.what = what;
    this.reason = reason;
  }
}

function statusReason(json: Record<string, unknown>): string | undefined {
  return typeof json.reason === 'string' && json.reason !== '' ? json.reason : undefined;
}

export interface KubeApi {
  get(path: string, what: string): Promise<Record<string, unknown> | undefined>;
  create(path: string, what: string, body: unknown): Promise<Record<string, unknown>>;
  update(path: string, what: string, body: unknown): Promise<Record<string, unknown>>;
  jsonPatch(path: string, what: string, operations: unknown[]): Promise<Record<string, unknown>>;
  /** Whether the identity may do `verb` on the object (a SelfSubjectAccessReview). */
  allowed(attributes: ResourceAttributes): Promise<boolean>;
}

export interface ResourceAttributes {
  verb: string;
  group: string;
  resource: string;
  name?: string;
  namespace?: string;
}

/** Bounds every call: the upkeep runs unattended, and a hung apiserver must not hang it. */
const TIMEOUT_MS = 30_000;
/** Largest answer read: a Secret or a webhook configuration is far smaller. */
const MAX_ANSWER_BYTES = 4 * 1024 * 1024;

export function kubeApi(config: KubeConfig): KubeApi {
  const cluster = config.getCurrentCluster();
  if (!cluster) throw new Error('the kubeconfig has no current cluster');
  const base = new URL(cluster.server);

  const call = async (
    method: string,
    path: string,
    what: string,
    verb: string,
    body?: unknown,
    contentType = 'application/json',
  ): Promise<{ status: number; json: Record<string, unknown> }> => {
    const options: RequestOptions & { headers: Record<string, string> } = {
      method,
      protocol: base.protocol,
      hostname: base.hostname.replace(/^\[|\]$/g, ''),
      port: base.port || '443',
      path: `${base.pathname.replace(/\/$/, '')}${path}`,
      headers: { Accept: 'application/json' },
      timeout: TIMEOUT_MS,
    };
    await config.applyToHTTPSOptions(options);
    const payload = body === undefined ? undefined : JSON.stringify(body);
    if (payload !== undefined) options.headers['Content-Type'] = contentType;
    return new Promise((resolve, reject) => {
      const req = request(options, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_ANSWER_BYTES) {
            req.destroy(new Error(`${verb} ${what}: answer larger than ${MAX_ANSWER_BYTES} bytes`));
            return;
          }
          chunks.push(chunk);
        });
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: Record<string, unknown> = {};
          try {
            json = text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
          } catch {
            json = { message: text.slice(0, 200) };
          }
          resolve({ status: res.statusCode ?? 0, json });
        });
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`${verb} ${what}: no answer within ${TIMEOUT_MS} ms`)));
      req.on('error', (error) => reject(new Error(`${verb} ${what}: ${error.message}`)));
      req.end(payload);
    });
  };

  const expect = async (
    method: string,
    path: string,
    what: string,
    verb: string,
    body?: unknown,
    contentType?: string,
  ) => {
    const { status, json } = await call(method, path, what, verb, body, contentType);
    if (status >= 200 && status < 300) return json;
    throw new KubeError(
      status,
      verb,
      what,
      String(json.message ?? json.reason ?? 'error'),
      statusReason(json),
    );
  };

  return {
    async get(path, what) {
      const { status, json } = await call('GET', path, what, 'get');
      if (status === 404) return undefined;
      if (status >= 200 && status < 300) return json;
      throw new KubeError(status, 'get', what, String(json.message ?? 'error'), statusReason(json));
    },
    create: (path, what, body) => expect('POST', path, what, 'create', body),
    update: (path, what, body) => expect('PUT', path, what, 'update', body),
    jsonPatch: (path, what, operations) =>
      expect('PATCH', path, what, 'patch', operations, 'application/json-patch+json'),
    async allowed(attributes) {
      const review = await expect(
        'POST',
        '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
        'a SelfSubjectAccessReview',
        'create',
        {
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SelfSubjectAccessReview',
          spec: { resourceAttributes: attributes },
        },
      );
      return (review.status as { allowed?: boolean } | undefined)?.allowed === true;
    },
  };
}
