// What `check` reads from a live cluster with the user's kubeconfig: webhook configurations,
// the request's namespace, a stored object, a function's Knative Service environment.
import {
  AdmissionregistrationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  KubernetesObjectApi,
} from '@kubernetes/client-node';
import type { KubernetesObject } from '../../shared/review.ts';
import { CliError } from '../errors.ts';
import type { Webhook } from './matching.ts';

export interface WebhookConfiguration {
  readonly kind: 'MutatingWebhookConfiguration' | 'ValidatingWebhookConfiguration';
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly webhooks: readonly Webhook[];
}

/** Plain JSON of what the client library returns (its class instances hold Dates). */
const plain = <T>(value: unknown): T => JSON.parse(JSON.stringify(value)) as T;

function status(error: unknown): number | undefined {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'number' ? code : undefined;
}

export class Cluster {
  readonly config: KubeConfig;
  constructor(kubeconfig?: string, context?: string) {
    this.config = new KubeConfig();
    try {
      if (kubeconfig) this.config.loadFromFile(kubeconfig);
      else this.config.loadFromDefault();
      if (context) this.config.setCurrentContext(context);
    } catch (error) {
      throw new CliError(`kubeconfig: ${(error as Error).message}`);
    }
    if (!this.config.getCurrentCluster())
      throw new CliError('kubeconfig: no current cluster (set KUBECONFIG or --kubeconfig)');
  }

  get server(): string {
    return this.config.getCurrentCluster()?.server ?? '';
  }

  private async call<T>(what: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      const code = status(error);
      throw new CliError(`${what}: ${code ? `HTTP ${code}` : (error as Error).message} (${this.server})`);
    }
  }

  async webhookConfigurations(): Promise<WebhookConfiguration[]> {
    const api = this.config.makeApiClient(AdmissionregistrationV1Api);
    const [mutating, validating] = await Promise.all([
      this.call('listing MutatingWebhookConfigurations', () => api.listMutatingWebhookConfiguration()),
      this.call('listing ValidatingWebhookConfigurations', () => api.listValidatingWebhookConfiguration()),
    ]);
    const of = (
      kind: WebhookConfiguration['kind'],
      items: { metadata?: { name?: string; labels?: Record<string, string> }; webhooks?: unknown[] }[],
    ) =>
      items.map((c) => ({
        kind,
        name: c.metadata?.name ?? '',
        labels: c.metadata?.labels ?? {},
        webhooks: plain<Webhook[]>(c.webhooks ?? []),
      }));
    return [
      ...of('MutatingWebhookConfiguration', mutating.items),
      ...of('ValidatingWebhookConfiguration', validating.items),
    ];
  }

  async namespaceLabels(name: string): Promise<Record<string, string>> {
    const api = this.config.makeApiClient(CoreV1Api);
    try {
      const namespace = await api.readNamespace({ name });
      return namespace.metadata?.labels ?? {};
    } catch (error) {
      if (status(error) === 404) throw new CliError(`namespace ${name} does not exist`);
      throw new CliError(`reading namespace ${name}: ${(error as Error).message}`);
    }
  }

  async storedObject(
    apiVersion: string,
    kind: string,
    name: string,
    namespace: string | undefined,
  ): Promise<KubernetesObject> {
    const api = KubernetesObjectApi.makeApiClient(this.config);
    try {
      const object = await api.read({
        apiVersion,
        kind,
        metadata: { name, ...(namespace && { namespace }) },
      });
      return plain<KubernetesObject>({ ...object, apiVersion, kind });
    } catch (error) {
      if (status(error) === 404)
        throw new CliError(`${kind} ${namespace ? `${namespace}/` : ''}${name} does not exist`);
      throw new CliError(`reading ${kind} ${name}: ${(error as Error).message}`);
    }
  }

  /** The env of a function's Knative Service (plain values only), or undefined without one. */
  async knativeEnv(namespace: string, name: string): Promise<Record<string, string> | undefined> {
    const api = this.config.makeApiClient(CustomObjectsApi);
    let service: {
      spec?: { template?: { spec?: { containers?: { env?: { name: string; value?: string }[] }[] } } };
    };
    try {
      service = await api.getNamespacedCustomObject({
        group: 'serving.knative.dev',
        version: 'v1',
        namespace,
        plural: 'services',
        name,
      });
    } catch {
      return undefined;
    }
    const env = service.spec?.template?.spec?.containers?.[0]?.env ?? [];
    return Object.fromEntries(
      env.filter((e) => e.value !== undefined).map((e) => [e.name, e.value as string]),
    );
  }
}
