// Validates Kubernetes objects against the upstream schemas in ../shared/schemas, as strictly
// as `kubectl apply` (strict field validation) would: an unknown field is an error, and so is
// a kind with no schema here, so nothing ships unvalidated.
import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import ajvFormats from 'ajv-formats';
import { parse } from 'yaml';
import { labelKeyProblem, labelValueProblem } from '../../shared/k8s/names.ts';
import { projectRoot, sharedDir } from './apiserver.ts';

type Schema = Record<string, unknown>;

const schemasDir = join(sharedDir, 'schemas');

/** Built-in kinds, from the standalone-strict JSON schemas (additionalProperties: false). */
const KUBERNETES_SCHEMAS: Record<string, string> = {
  'v1/ConfigMap': 'configmap-v1.json',
  'v1/Secret': 'secret-v1.json',
  'v1/Service': 'service-v1.json',
  'v1/Pod': 'pod-v1.json',
  'apps/v1/Deployment': 'deployment-apps-v1.json',
  'admissionregistration.k8s.io/v1/MutatingWebhookConfiguration':
    'mutatingwebhookconfiguration-admissionregistration-v1.json',
  'admissionregistration.k8s.io/v1/ValidatingWebhookConfiguration':
    'validatingwebhookconfiguration-admissionregistration-v1.json',
};

/** Custom resources, from their CRDs' openAPIV3Schema. */
const CRD_SCHEMAS: Record<string, string> = {
  'serving.knative.dev/v1/Service': 'knative-service-crd.yaml',
  'cert-manager.io/v1/Certificate': 'cert-manager.io_certificates.yaml',
  'cert-manager.io/v1/Issuer': 'cert-manager.io_issuers.yaml',
  'cert-manager.io/v1/ClusterIssuer': 'cert-manager.io_clusterissuers.yaml',
  // Not in ../shared/schemas: prometheus-operator's CRD, copied into test/data (its README says from where).
  'monitoring.coreos.com/v1/PodMonitor': join(
    projectRoot,
    'test',
    'data',
    'monitoring.coreos.com_podmonitors.yaml',
  ),
};

// strictTypes off: the CRDs put `pattern` beside `anyOf: [integer, string]` (quantities), which is
// valid OpenAPI; unknown keywords and formats stay errors.
const ajv = new Ajv({ strict: true, strictTypes: false, allErrors: true, allowUnionTypes: true });
ajvFormats.default(ajv); // a CommonJS module: its plugin is the default export's `default`
// OpenAPI formats the Kubernetes schemas use beyond JSON Schema's.
ajv.addFormat('int32', {
  type: 'number',
  validate: (n: number) => Number.isInteger(n) && Math.abs(n) < 2 ** 31,
});
ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isSafeInteger(n) });
ajv.addFormat('byte', /^[A-Za-z0-9+/]*={0,2}$/);
// Kubernetes extensions: annotations for ajv (x-kubernetes-preserve-unknown-fields is applied below).
ajv.addVocabulary([
  'x-kubernetes-embedded-resource',
  'x-kubernetes-group-version-kind',
  'x-kubernetes-int-or-string',
  'x-kubernetes-list-map-keys',
  'x-kubernetes-list-type',
  'x-kubernetes-map-type',
  'x-kubernetes-patch-merge-key',
  'x-kubernetes-patch-strategy',
  'x-kubernetes-preserve-unknown-fields',
  'x-kubernetes-unions',
  'x-kubernetes-validations',
]);

function readJson(file: string): Schema {
  const schema = JSON.parse(readFileSync(join(schemasDir, 'kubernetes', file), 'utf8')) as Schema;
  delete schema.$schema; // "http://json-schema.org/schema#": not a meta-schema ajv knows; Draft 7 reads them
  return schema;
}

/** ObjectMeta as the built-in schemas describe it (strict). */
function objectMeta(): Schema {
  const configMap = readJson('configmap-v1.json') as { properties: { metadata: Schema } };
  return configMap.properties.metadata;
}

/**
 * A CRD's structural schema, made strict the way the apiserver's strict field validation is:
 * objects with declared properties take no others unless they preserve unknown fields.
 */
function strictStructural(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(strictStructural);
  if (node === null || typeof node !== 'object') return node;
  const schema: Schema = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === 'properties') {
      schema[key] = Object.fromEntries(
        Object.entries(value as Schema).map(([name, child]) => [name, strictStructural(child)]),
      );
    } else if (['items', 'additionalProperties', 'not', 'anyOf', 'allOf', 'oneOf'].includes(key)) {
      schema[key] = strictStructural(value);
    } else {
      schema[key] = value;
    }
  }
  const open = schema['x-kubernetes-preserve-unknown-fields'] === true;
  if (schema.properties && schema.additionalProperties === undefined && !open) {
    schema.additionalProperties = false;
  }
  return schema;
}

function crdSchema(file: string, apiVersion: string, kind: string): Schema {
  const crd = parse(readFileSync(isAbsolute(file) ? file : join(schemasDir, file), 'utf8')) as {
    spec: { names: { kind: string }; versions: { name: string; schema: { openAPIV3Schema: Schema } }[] };
  };
  const version = apiVersion.split('/')[1];
  const served = crd.spec.versions.find((v) => v.name === version);
  if (crd.spec.names.kind !== kind || !served)
    throw new Error(`${file} does not define ${apiVersion} ${kind}`);
  const schema = strictStructural(served.schema.openAPIV3Schema) as Schema & { properties: Schema };
  schema.properties = {
    ...schema.properties,
    apiVersion: { type: 'string', const: apiVersion },
    kind: { type: 'string', const: kind },
    metadata: objectMeta(), // a CRD leaves metadata to the apiserver, which checks it as ObjectMeta
  };
  schema.required = ['apiVersion', 'kind', 'metadata'];
  return schema;
}

/** shared/schemas has no Namespace schema: its only fields are ObjectMeta and spec.finalizers. */
function namespaceSchema(): Schema {
  return {
    type: 'object',
    required: ['apiVersion', 'kind', 'metadata'],
    additionalProperties: false,
    properties: {
      apiVersion: { const: 'v1' },
      kind: { const: 'Namespace' },
      metadata: objectMeta(),
      spec: {
        type: 'object',
        additionalProperties: false,
        properties: { finalizers: { type: 'array', items: { type: 'string' } } },
      },
    },
  };
}

const validators = new Map<string, ValidateFunction>();

/** The kinds this module can validate, as `apiVersion/Kind`. */
export const knownKinds = ['v1/Namespace', ...Object.keys(KUBERNETES_SCHEMAS), ...Object.keys(CRD_SCHEMAS)];

function validatorFor(apiVersion: string, kind: string): ValidateFunction {
  const key = `${apiVersion}/${kind}`;
  const known = validators.get(key);
  if (known) return known;
  const file = KUBERNETES_SCHEMAS[key];
  const crd = CRD_SCHEMAS[key];
  let schema: Schema;
  if (key === 'v1/Namespace') schema = namespaceSchema();
  else if (file) schema = readJson(file);
  else if (crd) schema = crdSchema(crd, apiVersion, kind);
  else throw new Error(`no schema for ${key} (schemas: ${knownKinds.join(', ')})`);
  const validate = ajv.compile(schema);
  validators.set(key, validate);
  return validate;
}

/** What the apiserver checks beyond the schema that a manifest can get wrong: names and labels. */
function metadataProblems(
  metadata: { name?: unknown; labels?: Record<string, unknown> } | undefined,
): string[] {
  const problems: string[] = [];
  const name = metadata?.name;
  if (typeof name !== 'string' || !/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(name))
    problems.push(`/metadata/name "${String(name)}" is not a DNS subdomain name`);
  for (const [key, value] of Object.entries(metadata?.labels ?? {})) {
    const problem = labelKeyProblem(key) ?? labelValueProblem(String(value));
    if (problem) problems.push(`/metadata/labels "${key}": ${problem}`);
  }
  return problems;
}

/**
 * The problems of one object, each as `path: message`; empty when valid. Throws for a kind
 * with no schema.
 */
export function manifestProblems(object: unknown): string[] {
  const { apiVersion, kind, metadata } = (object ?? {}) as {
    apiVersion?: unknown;
    kind?: unknown;
    metadata?: { name?: unknown; labels?: Record<string, unknown> };
  };
  if (typeof apiVersion !== 'string' || typeof kind !== 'string')
    throw new Error('not a Kubernetes object: apiVersion and kind must be strings');
  const validate = validatorFor(apiVersion, kind);
  const problems = validate(object)
    ? []
    : (validate.errors ?? []).map((e) => `${e.instancePath || '/'}: ${e.message}${paramsOf(e.params)}`);
  return [...problems, ...metadataProblems(metadata)];
}

function paramsOf(params: Record<string, unknown>): string {
  if ('additionalProperty' in params) return ` ("${String(params.additionalProperty)}")`;
  if ('allowedValues' in params) return ` (${JSON.stringify(params.allowedValues)})`;
  return '';
}
