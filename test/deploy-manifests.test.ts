// deploy/ is generated from the functions registry (one source of truth), every object in it
// (and in what `kubectl apply -k deploy/` builds) validates against the upstream schemas, and
// the objects agree with each other: names, ports, certificates, timeouts, limits.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { isDeepStrictEqual } from 'node:util';
import { parseAllDocuments } from 'yaml';
import * as z from 'zod';
import { functions } from '../functions/index.ts';
import { faasOptions } from '../runtimes/faas-options.ts';
import { deployedFuncYaml, deployedWebhook } from '../scripts/manifests/function-config.ts';
import { deployFiles } from '../scripts/manifests/render.ts';
import { defaultSettings, MAX_REVIEW_BYTES, WEBHOOK_TIMEOUT_SECONDS } from '../scripts/manifests/settings.ts';
import { type AnyMutation, defineMutation } from '../shared/mutation.ts';
import { projectRoot } from './support/apiserver.ts';
import { knownKinds, manifestProblems } from './support/k8s-schemas.ts';
import type { Json } from './support/reviews.ts';
import { makeTestCertificates } from './support/test-certs.ts';

const deployDir = join(projectRoot, 'deploy');
const registry = [...functions.values()];

function documents(text: string): Json[] {
  return parseAllDocuments(text).map((doc) => {
    if (doc.errors.length > 0) throw new Error(doc.errors.map((e) => e.message).join('; '));
    return doc.toJS();
  });
}

/**
 * Every object of the manifest files in `files` (name -> text) that `kubectl apply -k deploy/`
 * applies: the top folder's (the cert-upkeep Component in its own folder is checked apart).
 */
function objectsOf(files: Map<string, string>): Json[] {
  return [...files]
    .filter(([name]) => name.endsWith('.yaml') && name !== 'kustomization.yaml' && !name.includes('/'))
    .flatMap(([, text]) => documents(text));
}

/** The files below `dir`, by path relative to it. */
function filesIn(dir: string): Map<string, string> {
  return new Map(
    readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => {
        const path = join(entry.parentPath, entry.name);
        return [relative(dir, path), readFileSync(path, 'utf8')];
      }),
  );
}

function committedFiles(): Map<string, string> {
  return filesIn(deployDir);
}

const find = (objects: Json[], kind: string, name?: string): Json => {
  const found = objects.find((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  assert.ok(found, `no ${kind} ${name ?? ''}`);
  return found;
};

function assertValid(objects: Json[]): void {
  for (const object of objects) {
    assert.deepEqual(manifestProblems(object), [], `${object.kind} ${object.metadata?.name}`);
  }
}

const probe = defineMutation({
  name: 'annotation-probe',
  description: 'a function that exists only in this test',
  appliesTo: { resources: ['deployments', 'statefulsets/scale'], operations: ['CREATE', 'UPDATE'] },
  config: z.object({ probeLevel: z.string().default('1').describe('how hard to probe') }),
  webhook: { failurePolicy: 'Ignore', failurePolicyReason: 'only a probe' },
  onError: 'allow',
  mutate: (object: unknown) => object,
}) as AnyMutation;

describe('deploy/', () => {
  it('is exactly what `npm run manifests` generates from the functions registry', () => {
    const generated = deployFiles(registry, defaultSettings);
    const committed = committedFiles();
    assert.deepEqual([...committed.keys()].sort(), [...generated.keys()].sort(), 'files in deploy/');
    for (const [name, text] of generated) {
      assert.equal(
        committed.get(name),
        text,
        `deploy/${name} is stale: run \`npm run manifests\` and commit it`,
      );
    }
  });

  it('holds only kinds with an upstream schema, each object valid against it', () => {
    const objects = objectsOf(committedFiles());
    assert.deepEqual(
      [...new Set(objects.map((o) => `${o.apiVersion}/${o.kind}`))].filter((k) => !knownKinds.includes(k)),
      [],
    );
    assertValid(objects);
  });

  it('lists every manifest in kustomization.yaml', () => {
    const [kustomization] = documents(readFileSync(join(deployDir, 'kustomization.yaml'), 'utf8'));
    const manifests = readdirSync(deployDir).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
    assert.deepEqual([...kustomization.resources].sort(), manifests.sort());
    const generatorFiles = kustomization.configMapGenerator.flatMap((g: Json) => g.files);
    assert.deepEqual(generatorFiles, ['nginx.conf', 'tls-reload.sh']);
  });

  it('builds with kustomize (kubectl apply -k) into valid objects, the nginx ConfigMap wired in', (t) => {
    if (spawnSync('kubectl', ['version', '--client'], { stdio: 'ignore' }).status !== 0) {
      t.skip('kubectl is not installed');
      return;
    }
    const built = documents(execFileSync('kubectl', ['kustomize', deployDir], { encoding: 'utf8' }));
    assertValid(built);
    const configMap = find(built, 'ConfigMap');
    assert.equal(configMap.data['nginx.conf'], readFileSync(join(deployDir, 'nginx.conf'), 'utf8'));
    const deployment = find(built, 'Deployment');
    const volume = deployment.spec.template.spec.volumes.find((v: Json) => v.configMap);
    assert.equal(
      volume.configMap.name,
      configMap.metadata.name,
      'the Deployment mounts the hashed ConfigMap',
    );
    const images = built
      .filter((o) => o.apiVersion === 'serving.knative.dev/v1')
      .map((o) => o.spec.template.spec.containers[0].image);
    assert.deepEqual(images, Array(registry.length).fill(defaultSettings.image));
  });

  it('fails validation for an unknown field or an unknown kind', () => {
    const objects = objectsOf(committedFiles());
    for (const object of objects) {
      const broken = structuredClone(object);
      if (broken.kind.endsWith('WebhookConfiguration')) broken.webhooks[0].timeoutSecond = 5;
      else if (broken.apiVersion === 'serving.knative.dev/v1')
        broken.spec.template.spec.containers[0].envs = [];
      else if (broken.kind === 'Namespace') broken.metadata.label = {};
      else broken.spec.unknownField = true;
      assert.notDeepEqual(manifestProblems(broken), [], `${object.kind} ${object.metadata.name}`);
    }
    assert.throws(
      () =>
        manifestProblems({ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'x' } }),
      /no schema for policy\/v1\/PodDisruptionBudget/,
    );
  });
});

describe('webhooks from function metadata', () => {
  const files = committedFiles();
  const objects = objectsOf(files);
  const configuration = find(objects, 'MutatingWebhookConfiguration');
  const validatingConfiguration = find(objects, 'ValidatingWebhookConfiguration');
  const configurationOf = (mutation: AnyMutation) =>
    mutation.kind === 'validating' ? validatingConfiguration : configuration;

  // Each function's settings under the variables its func.yaml gives it; validating functions
  // are written after the mutating ones, in their own configuration.
  const registrations = registry
    .map((mutation) => ({
      mutation,
      webhook: deployedWebhook(mutation, deployedFuncYaml(mutation.name)),
    }))
    .sort((a, b) => Number(a.mutation.kind === 'validating') - Number(b.mutation.kind === 'validating'));

  it('has one webhook per function (one per match) with its path, rules, selectors and failurePolicy', () => {
    for (const config of [configuration, validatingConfiguration]) {
      const expected = registrations
        .filter((r) => configurationOf(r.mutation) === config)
        .reduce((n, r) => n + (r.webhook.matches?.length || 1), 0);
      assert.equal(config.webhooks.length, expected, config.kind);
    }
    for (const { mutation, webhook: settings } of registrations) {
      const entries = configurationOf(mutation).webhooks.filter(
        (w: Json) =>
          w.clientConfig.service.path === `/${mutation.name}` ||
          w.clientConfig.service.path.startsWith(`/${mutation.name}/`),
      );
      assert.equal(entries.length, settings.matches?.length || 1, mutation.name);
      for (const [i, webhook] of entries.entries()) {
        const match = settings.matches?.[i];
        // One path per entry when there are several: the function learns which entry sent a review.
        const path = match ? `/${mutation.name}/${match.name}` : `/${mutation.name}`;
        assert.equal(webhook.clientConfig.service.path, path);
        assert.equal(webhook.clientConfig.service.port, 443);
        assert.equal(webhook.failurePolicy, settings.failurePolicy);
        assert.deepEqual(webhook.rules[0].operations, mutation.appliesTo.operations);
        const everything = mutation.appliesTo.resources.includes('*');
        assert.deepEqual(webhook.rules[0].resources, everything ? ['*'] : mutation.appliesTo.resources);
        if (everything) assert.deepEqual(webhook.rules[0].apiGroups, ['*']);
        if (mutation.appliesTo.groups)
          assert.deepEqual(webhook.rules[0].apiGroups, mutation.appliesTo.groups);
        const exists = settings.objectLabelExists;
        if (exists)
          assert.deepEqual(webhook.objectSelector.matchExpressions[0], { key: exists, operator: 'Exists' });
        for (const [key, value] of Object.entries(match?.objectSelector?.matchLabels ?? {}))
          assert.equal(webhook.objectSelector.matchLabels[key], value);
        for (const [key, value] of Object.entries(match?.namespaceSelector?.matchLabels ?? {}))
          assert.equal(webhook.namespaceSelector.matchLabels[key], value);
        for (const expression of match?.namespaceSelector?.matchExpressions ?? [])
          assert.ok(
            webhook.namespaceSelector.matchExpressions.some((e: Json) => isDeepStrictEqual(e, expression)),
          );
        if (!exists && !match?.objectSelector) assert.equal(webhook.objectSelector, undefined);
        assert.deepEqual(webhook.matchConditions, match?.matchConditions);
        assert.equal(webhook.sideEffects, 'None');
        assert.equal(webhook.reinvocationPolicy, mutation.kind === 'validating' ? undefined : 'IfNeeded');
        assert.deepEqual(webhook.admissionReviewVersions, ['v1', 'v1beta1']);
        assert.equal(webhook.timeoutSeconds, WEBHOOK_TIMEOUT_SECONDS);
      }
    }
  });

  it('writes each failurePolicy reason beside it', () => {
    const lines = files.get('webhooks.yaml')?.split('\n') ?? [];
    const policyLines = lines.filter((l) => l.trim().startsWith('failurePolicy:'));
    assert.deepEqual(
      policyLines.map((l) => l.trim()),
      registrations.flatMap(({ webhook }) =>
        Array(webhook.matches?.length || 1).fill(
          `failurePolicy: ${webhook.failurePolicy} # ${webhook.failurePolicyReason}`,
        ),
      ),
    );
  });

  it("never calls a function for objects of its own namespace or the control plane's", () => {
    for (const webhook of [...configuration.webhooks, ...validatingConfiguration.webhooks]) {
      const [expression] = webhook.namespaceSelector.matchExpressions;
      assert.equal(expression.key, 'kubernetes.io/metadata.name');
      assert.equal(expression.operator, 'NotIn');
      assert.ok(expression.values.includes(webhook.clientConfig.service.namespace));
      assert.ok(expression.values.includes('kube-system'));
    }
  });

  it('reaches a TLS Service whose certificate, CA injection and pods fit together', () => {
    const { namespace, name } = configuration.webhooks[0].clientConfig.service;
    const service = find(objects, 'Service', name);
    assert.equal(service.metadata.namespace, namespace);
    assert.deepEqual(service.spec.ports, [
      { name: 'https', port: 443, targetPort: 'https', protocol: 'TCP' },
    ]);
    const [certNamespace, certName] =
      configuration.metadata.annotations['cert-manager.io/inject-ca-from'].split('/');
    const certificate = find(objects, 'Certificate', certName);
    assert.equal(certificate.metadata.namespace, certNamespace);
    assert.ok(
      certificate.spec.dnsNames.includes(`${name}.${namespace}.svc`),
      'the name the apiserver verifies',
    );
    const issuer = find(objects, 'Issuer', certificate.spec.issuerRef.name);
    const ca = objects.find((o) => o.kind === 'Certificate' && o.spec.isCA);
    assert.equal(
      issuer.spec.ca.secretName,
      ca?.spec.secretName,
      'the serving certificate is signed by the CA',
    );
    const deployment = find(objects, 'Deployment', name);
    const pod = deployment.spec.template.spec;
    for (const [key, value] of Object.entries(service.spec.selector)) {
      assert.equal(
        deployment.spec.template.metadata.labels[key],
        value,
        `the Service selects the nginx pods (${key})`,
      );
    }
    assert.equal(pod.containers[0].ports[0].name, 'https');
    assert.equal(pod.volumes.find((v: Json) => v.secret).secret.secretName, certificate.spec.secretName);
    assert.equal(deployment.spec.replicas, 2);
    assert.equal(pod.containers[0].securityContext.readOnlyRootFilesystem, true);
    assert.equal(pod.securityContext.runAsNonRoot, true);
  });

  it('keeps every function warm, cluster-local, probed, and able to take what nginx lets through', () => {
    const nginxConf = files.get('nginx.conf') ?? '';
    const nginxBodyLimit = Number(/client_max_body_size (\d+)m;/.exec(nginxConf)?.[1]) * 1024 * 1024;
    assert.equal(nginxBodyLimit, MAX_REVIEW_BYTES);
    assert.ok(nginxBodyLimit >= 3 * 1024 * 1024);
    const readTimeout = Number(/proxy_read_timeout (\d+)s;/.exec(nginxConf)?.[1]);
    const connectTimeout = Number(/proxy_connect_timeout (\d+)s;/.exec(nginxConf)?.[1]);
    assert.ok(readTimeout + connectTimeout < WEBHOOK_TIMEOUT_SECONDS, 'nginx gives up before the apiserver');
    for (const mutation of registry) {
      const ksvc = find(
        objects.filter((o) => o.apiVersion === 'serving.knative.dev/v1'),
        'Service',
        mutation.name,
      );
      assert.equal(ksvc.metadata.labels['networking.knative.dev/visibility'], 'cluster-local');
      assert.equal(ksvc.spec.template.metadata.annotations['autoscaling.knative.dev/min-scale'], '1');
      const [container] = ksvc.spec.template.spec.containers;
      // The same service `func deploy` makes from the function's func.yaml.
      const fn = deployedFuncYaml(mutation.name);
      assert.deepEqual(container.env, fn.run.envs);
      assert.deepEqual(container.resources, fn.deploy.options.resources);
      assert.equal(
        ksvc.spec.template.metadata.annotations['autoscaling.knative.dev/min-scale'],
        String(fn.deploy.options.scale.min),
      );
      const env = Object.fromEntries(container.env.map((e: Json) => [e.name, e.value]));
      assert.equal(env.FUNCTION, mutation.name);
      // The budget telemetry measures against when a request carries no ?timeout=.
      assert.equal(env.WEBHOOK_TIMEOUT_SECONDS, String(WEBHOOK_TIMEOUT_SECONDS));
      assert.equal(ksvc.spec.template.metadata.annotations['prometheus.io/port'], '9464');
      const bodyLimit = faasOptions(env).bodyLimit; // as the runtime reads its environment
      assert.ok(
        bodyLimit >= nginxBodyLimit,
        `${mutation.name} accepts ${bodyLimit} bytes, nginx passes ${nginxBodyLimit}`,
      );
      // Knative lets in as many reviews as the process holds bodies of the largest size.
      const { intake } = faasOptions(env);
      assert.equal(ksvc.spec.template.spec.containerConcurrency * bodyLimit, intake.inFlightBodyLimit);
      assert.equal(container.readinessProbe.httpGet.path, '/health/readiness');
      assert.equal(container.livenessProbe.httpGet.path, '/health/liveness');
      assert.ok(container.resources.requests.memory && container.resources.limits.memory);
      assert.ok(
        nginxConf.includes(`location ~ ^/${mutation.name}(/[a-z0-9][-a-z0-9]*)?$ {`),
        `nginx route for ${mutation.name}`,
      );
      assert.ok(
        nginxConf.includes(
          `proxy_set_header Host ${mutation.name}.${defaultSettings.namespace}.svc.cluster.local;`,
        ),
      );
    }
  });

  it('gives a function added to the registry its Knative service, nginx route and webhook', () => {
    const files = deployFiles([...registry, probe], defaultSettings);
    const objects = objectsOf(files);
    assertValid(objects);
    const ksvc = objects.find(
      (o) => o.apiVersion === 'serving.knative.dev/v1' && o.metadata.name === probe.name,
    );
    assert.ok(ksvc, 'Knative Service');
    assert.match(files.get('functions.yaml') ?? '', /PROBE_LEVEL: how hard to probe/);
    assert.match(
      files.get('nginx.conf') ?? '',
      /location ~ \^\/annotation-probe\(\/\[a-z0-9\]\[-a-z0-9\]\*\)\?\$ \{/,
    );
    const webhook = find(objects, 'MutatingWebhookConfiguration').webhooks.at(-1);
    assert.equal(webhook.clientConfig.service.path, '/annotation-probe');
    assert.deepEqual(webhook.rules, [
      {
        apiGroups: ['*'],
        apiVersions: ['*'],
        resources: ['deployments', 'statefulsets/scale'],
        operations: ['CREATE', 'UPDATE'],
        scope: '*',
      },
    ]);
    assert.equal(webhook.objectSelector, undefined);
    assert.match(files.get('webhooks.yaml') ?? '', /failurePolicy: Ignore # only a probe/);
  });
});

describe('npm run manifests', () => {
  const cli = (...args: string[]) =>
    spawnSync(process.execPath, [join(projectRoot, 'scripts', 'manifests.ts'), ...args], {
      cwd: projectRoot,
      encoding: 'utf8',
    });

  it('--check passes on the committed deploy/', () => {
    const result = cli('--check');
    assert.equal(result.status, 0, result.stderr);
  });

  it('writes a consistent, valid deployment for another namespace and image', () => {
    const out = mkdtempSync(join(tmpdir(), 'faas-admission-deploy-'));
    try {
      const image = `registry.internal/faas-admission@sha256:${'a'.repeat(64)}`;
      const result = cli('--out', out, '--namespace', 'webhooks', '--image', image);
      assert.equal(result.status, 0, result.stderr);
      const files = filesIn(out);
      const objects = objectsOf(files);
      assertValid(objects);
      for (const object of objects.filter(
        (o) => !o.kind.endsWith('WebhookConfiguration') && o.kind !== 'Namespace',
      ))
        assert.equal(object.metadata.namespace, 'webhooks', `${object.kind} ${object.metadata.name}`);
      const configuration = find(objects, 'MutatingWebhookConfiguration');
      assert.equal(
        configuration.metadata.annotations['cert-manager.io/inject-ca-from'],
        'webhooks/faas-admission-tls',
      );
      assert.ok(
        configuration.webhooks.every(
          (w: Json) => w.namespaceSelector.matchExpressions[0].values[0] === 'webhooks',
        ),
      );
      assert.match(
        files.get('nginx.conf') ?? '',
        /proxy_set_header Host volume-extension\.webhooks\.svc\.cluster\.local;/,
      );
      assert.match(
        files.get('functions.yaml') ?? '',
        /image: registry\.internal\/faas-admission@sha256:a{64}\n/,
      );
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('--ca-bundle writes a deployment without cert-manager, the CA in every webhook', () => {
    const out = mkdtempSync(join(tmpdir(), 'faas-admission-deploy-'));
    try {
      const { caPem } = makeTestCertificates(out, ['faas-admission-tls.faas-admission.svc']);
      const bundle = Buffer.from(caPem).toString('base64');
      writeFileSync(join(out, 'ca-bundle.b64'), `${bundle}\n`);
      const result = cli('--out', join(out, 'deploy'), '--ca-bundle', join(out, 'ca-bundle.b64'));
      assert.equal(result.status, 0, result.stderr);
      const files = filesIn(join(out, 'deploy'));
      const objects = objectsOf(files);
      assertValid(objects);
      assert.deepEqual(
        objects.filter((o) => o.apiVersion.startsWith('cert-manager.io/')),
        [],
      );
      const configuration = find(objects, 'MutatingWebhookConfiguration');
      assert.equal(configuration.metadata.annotations, undefined);
      assert.ok(configuration.webhooks.every((w: Json) => w.clientConfig.caBundle === bundle));
      assert.ok(!files.get('kustomization.yaml')?.includes('certificates.yaml'));

      const notCa = cli('--check', '--ca-bundle', join(out, 'tls.crt'));
      assert.equal(notCa.status, 2);
      assert.match(notCa.stderr, /--ca-bundle: .*tls\.crt is not a base64-encoded PEM certificate/);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('refuses a bad namespace, naming the option', () => {
    const result = cli('--check', '--namespace', 'Not_A_Namespace');
    assert.equal(result.status, 2);
    assert.match(result.stderr, /--namespace "Not_A_Namespace" is not a namespace name/);
  });
});

describe('deploy/cert-upkeep (the Component for clusters without cert-manager)', () => {
  const files = committedFiles();
  const upkeep = documents(files.get('cert-upkeep/cert-upkeep.yaml') ?? '');

  it('is off by default: deploy/ does not list it', () => {
    const [kustomization] = documents(files.get('kustomization.yaml') ?? '');
    assert.equal(kustomization.components, undefined);
    assert.ok(!kustomization.resources.some((r: string) => r.includes('cert-upkeep')));
    const [component] = documents(files.get('cert-upkeep/kustomization.yaml') ?? '');
    assert.equal(component.kind, 'Component');
    assert.deepEqual(component.resources, ['cert-upkeep.yaml']);
  });

  it('runs the command on the project image, as non-root on a read-only filesystem, its pod valid', () => {
    const cronJob = find(upkeep, 'CronJob');
    assert.equal(cronJob.apiVersion, 'batch/v1');
    assert.equal(cronJob.spec.concurrencyPolicy, 'Forbid');
    const pod = cronJob.spec.jobTemplate.spec.template;
    const [container] = pod.spec.containers;
    assert.equal(container.image, defaultSettings.image);
    // The Dockerfile compiles cli/ to dist/cli/.
    assert.deepEqual(container.command, ['node', 'dist/cli/cert-upkeep.js']);
    assert.deepEqual(container.args, [
      '--namespace',
      'faas-admission',
      '--service',
      'faas-admission-tls',
      '--secret',
      'faas-admission-tls',
      '--ca-secret',
      'faas-admission-ca',
      '--mutating',
      'faas-admission',
      '--validating',
      'faas-admission',
    ]);
    assert.equal(container.securityContext.readOnlyRootFilesystem, true);
    assert.equal(pod.spec.securityContext.runAsNonRoot, true);
    assert.equal(pod.spec.serviceAccountName, find(upkeep, 'ServiceAccount').metadata.name);
    // No CronJob schema in ../shared/schemas: its pod is checked as a Pod (test/cert-upkeep.test.ts
    // creates the RBAC objects and the Job on the real apiserver).
    assertValid([
      { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'cert-upkeep', ...pod.metadata }, spec: pod.spec },
    ]);
  });

  it('grants only get/update of its two Secrets (create for the first run) and get/patch of its configurations', () => {
    const role = find(upkeep, 'Role');
    assert.deepEqual(role.rules, [
      {
        apiGroups: [''],
        resources: ['secrets'],
        resourceNames: ['faas-admission-ca', 'faas-admission-tls'],
        verbs: ['get', 'update'],
      },
      { apiGroups: [''], resources: ['secrets'], verbs: ['create'] },
    ]);
    const clusterRole = find(upkeep, 'ClusterRole');
    assert.deepEqual(clusterRole.rules, [
      {
        apiGroups: ['admissionregistration.k8s.io'],
        resources: ['mutatingwebhookconfigurations', 'validatingwebhookconfigurations'],
        resourceNames: ['faas-admission'],
        verbs: ['get', 'patch'],
      },
    ]);
    for (const kind of ['RoleBinding', 'ClusterRoleBinding']) {
      const binding = find(upkeep, kind);
      assert.deepEqual(binding.subjects, [
        { kind: 'ServiceAccount', name: 'faas-admission-cert-upkeep', namespace: 'faas-admission' },
      ]);
    }
  });

  it('builds with kustomize in an overlay: cert-manager out, the CronJob in, the rest valid', (t) => {
    if (spawnSync('kubectl', ['version', '--client'], { stdio: 'ignore' }).status !== 0) {
      t.skip('kubectl is not installed');
      return;
    }
    const overlay = mkdtempSync(join(projectRoot, '.overlay-'));
    try {
      writeFileSync(
        join(overlay, 'kustomization.yaml'),
        `resources: [${relative(overlay, deployDir)}]\ncomponents: [${relative(overlay, join(deployDir, 'cert-upkeep'))}]\n`,
      );
      const built = documents(execFileSync('kubectl', ['kustomize', overlay], { encoding: 'utf8' }));
      assert.deepEqual(
        built.filter((o) => o.apiVersion.startsWith('cert-manager.io/')),
        [],
      );
      for (const kind of ['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration'])
        assert.equal(find(built, kind).metadata.annotations, undefined, kind);
      find(built, 'CronJob');
      assertValid(built.filter((o) => knownKinds.includes(`${o.apiVersion}/${o.kind}`)));
      const plain = documents(execFileSync('kubectl', ['kustomize', deployDir], { encoding: 'utf8' }));
      assert.ok(!plain.some((o) => o.kind === 'CronJob'), 'deploy/ alone has no CronJob');
    } finally {
      rmSync(overlay, { recursive: true, force: true });
    }
  });
});
