// The AdmissionReview protocol as the real apiserver (1.20.2) speaks it — server-side dry run,
// a webhook registered for v1beta1 only, warnings in the response's Warning headers — and
// what it does when a function is down or stalls: the generated failurePolicy, for each function.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { functions } from '../../functions/index.ts';
import { loadConfig } from '../../shared/config.ts';
import { webhookSettings } from '../../shared/mutation.ts';
import {
  type Cluster,
  createNamespace,
  type Env,
  type Json,
  type RawResponse,
  registerWebhooks,
  type Suite,
  startFunctionBehindNginx,
  startStandaloneFunctions,
  startSuite,
  unregisterWebhooks,
} from '../support/e2e.ts';
import {
  AGENT_DIR,
  agentVolumes,
  functionEnv,
  knativeTemplate,
  LABEL_STAMPING_ENV,
  PREFIX,
} from './objects.ts';

const TIMEOUT_SECONDS = 5;

describe('protocol and faults through the real apiserver', () => {
  const dir = mkdtempSync(join(tmpdir(), 'faas-admission-e2e-protocol-'));
  let suite: Suite;
  let cluster: Cluster;
  const env = functionEnv(dir);
  const envOf = (name: string): Env => (name === 'label-stamping' ? LABEL_STAMPING_ENV : env);

  before(async () => {
    suite = await startSuite({
      dir,
      nodes: ['node-a'],
      env: { ...env, ...LABEL_STAMPING_ENV, STAMP_LABELS: LABEL_STAMPING_ENV.STAMP_LABELS as string },
      tap: true,
    });
    cluster = suite.cluster;
    await createNamespace(cluster, 'proto');
    await createNamespace(cluster, 'faults', { [`${PREFIX}/inject`]: 'enabled' });
  });

  after(() => suite?.stop());

  const knativePod = (name: string): Json => {
    const template = knativeTemplate(name, agentVolumes());
    return { metadata: { name, ...template.metadata }, spec: template.spec };
  };
  const hasAgentVolume = (pod: Json) =>
    (pod.spec.volumes ?? []).some((v: Json) => v.hostPath?.path === AGENT_DIR);
  const sent = (namespace: string) =>
    suite.reviews().filter((c) => (c.review.request as Json).namespace === namespace);

  describe('protocol', () => {
    before(async () => {
      await registerWebhooks(cluster, {
        functions: ['volume-extension', 'label-stamping'],
        envOf,
        endpoint: suite.endpoint,
        caPems: suite.caPems,
        edit: (configuration) => {
          // volume-extension speaks v1beta1 only; label-stamping stays on [v1, v1beta1] (v1 chosen).
          for (const webhook of configuration.webhooks as Json[])
            if (webhook.name.startsWith('volume-extension.')) webhook.admissionReviewVersions = ['v1beta1'];
        },
      });
    });

    it('dryRun=All: the same answer, nothing stored, the review says dryRun', async () => {
      const dry = await cluster.raw('POST', '/api/v1/namespaces/proto/pods?dryRun=All', knativePod('dry'));
      assert.equal(dry.status, 201, JSON.stringify(dry.body));
      assert.ok(hasAgentVolume(dry.body));
      assert.equal(
        (await cluster.raw('GET', '/api/v1/namespaces/proto/pods/dry')).status,
        404,
        'nothing stored',
      );
      const calls = sent('proto').filter((c) => (c.review.request as Json).name === 'dry');
      assert.ok(calls.length >= 2);
      assert.ok(calls.every((c) => (c.review.request as Json).dryRun === true));
      const real = await cluster.raw('POST', '/api/v1/namespaces/proto/pods', knativePod('dry'));
      assert.equal(real.status, 201, JSON.stringify(real.body));
      assert.deepEqual(real.body.spec, dry.body.spec);
      assert.deepEqual(real.body.metadata.labels, dry.body.metadata.labels);
    });

    it('a webhook registered with admissionReviewVersions [v1beta1] gets v1beta1 and its v1beta1 answer is applied', async () => {
      const calls = sent('proto').filter((c) => c.path.startsWith('/volume-extension'));
      assert.ok(calls.length > 0);
      for (const call of calls) {
        assert.equal(call.review.apiVersion, 'admission.k8s.io/v1beta1');
        assert.equal((call.reply as Json).apiVersion, 'admission.k8s.io/v1beta1');
      }
      const labelCalls = sent('proto').filter((c) => c.path.startsWith('/label-stamping'));
      assert.ok(labelCalls.every((c) => c.review.apiVersion === 'admission.k8s.io/v1'));
      const stored = await cluster.raw('GET', '/api/v1/namespaces/proto/pods/dry');
      assert.ok(hasAgentVolume(stored.body), 'the v1beta1 patch was applied');
    });

    it('warnings reach the client in Warning headers', async () => {
      const response: RawResponse = await cluster.raw('POST', '/api/v1/namespaces/proto/configmaps', {
        metadata: { name: 'own-team', labels: { 'e2e.example.com/team': 'other' } },
      });
      assert.equal(response.status, 201, JSON.stringify(response.body));
      assert.equal(
        response.body.metadata.labels['e2e.example.com/team'],
        'other',
        'kept (OVERWRITE_LABELS=false)',
      );
      const header = response.headers.warning;
      const warnings = (Array.isArray(header) ? header : [header ?? '']).join('\n');
      assert.match(warnings, /^299 - ".*e2e\.example\.com\/team.*"/m, `Warning: ${warnings}`);
    });

    it('the webhooks’ own namespace, kube-system and kube-node-lease are never sent', async () => {
      for (const namespace of ['faas-admission', 'kube-system', 'kube-node-lease', 'proto']) {
        const created = await cluster.raw('POST', `/api/v1/namespaces/${namespace}/configmaps`, {
          metadata: { name: 'never-sent-probe' },
        });
        assert.equal(created.status, 201, JSON.stringify(created.body));
      }
      const pod = await cluster.raw('POST', '/api/v1/namespaces/faas-admission/pods', knativePod('own'));
      assert.equal(pod.status, 201, JSON.stringify(pod.body));
      assert.ok(!hasAgentVolume(pod.body));
      for (const namespace of ['faas-admission', 'kube-system', 'kube-node-lease'])
        assert.deepEqual(sent(namespace), [], namespace);
      // The same object elsewhere is sent: the selector, not a broken tap, kept them out.
      assert.ok(sent('proto').some((c) => (c.review.request as Json).name === 'never-sent-probe'));
    });
  });

  describe('faults: what the generated failurePolicy makes the apiserver do', () => {
    /** One object per function that only that function's webhook is sent, and whether it was mutated. */
    const probes: Record<
      string,
      { create: (name: string) => Promise<RawResponse>; mutated: (r: RawResponse) => boolean }
    > = {
      'volume-extension': {
        create: (name) => cluster.raw('POST', '/api/v1/namespaces/faults/pods', knativePod(name)),
        mutated: (r) => hasAgentVolume(r.body),
      },
      'node-selector': {
        create: (name) => {
          const pod = knativePod(name);
          pod.metadata.annotations = { [`${PREFIX}/nodeSelector`]: JSON.stringify({ disktype: 'ssd' }) };
          return cluster.raw('POST', '/api/v1/namespaces/faults/pods', pod);
        },
        mutated: (r) => r.body.spec?.nodeSelector?.disktype === 'ssd',
      },
      'label-stamping': {
        create: (name) => cluster.raw('POST', '/api/v1/namespaces/faults/configmaps', { metadata: { name } }),
        mutated: (r) => r.body.metadata?.labels?.['e2e.example.com/team'] === 'shop',
      },
      'image-mirror': {
        create: (name) =>
          cluster.raw('POST', '/api/v1/namespaces/faults/pods', {
            metadata: { name },
            spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] },
          }),
        mutated: (r) => String(r.body.spec?.containers?.[0]?.image).startsWith('mirror.example.com/'),
      },
      'config-volume': {
        create: (name) =>
          cluster.raw('POST', '/api/v1/namespaces/faults/pods', {
            metadata: { name, labels: { hello: 'true' } },
            spec: { containers: [{ name: 'hello', image: 'registry.example.com/busybox:1.36' }] },
          }),
        mutated: (r) => r.body.metadata?.labels?.['hello-added'] === 'OK',
      },
      'node-oversale': {
        create: async () => {
          const node = {
            metadata: { name: 'node-a', labels: { 'node-role.example.com/oversale': 'true' } },
            status: { capacity: { cpu: '8', memory: '32Gi' }, allocatable: { cpu: '7800m', memory: '31Gi' } },
          };
          await cluster.raw('POST', '/api/v1/nodes', node);
          // The kubelet's heartbeat, as the kubelet (system:node:node-a).
          return cluster.raw(
            'PATCH',
            '/api/v1/nodes/node-a/status',
            { status: { allocatable: { cpu: '7800m', memory: '31Gi' } } },
            {
              kubeconfigPath: cluster.plane.nodeKubeconfigPath('node-a'),
              contentType: 'application/strategic-merge-patch+json',
            },
          );
        },
        mutated: (r) => r.body.status?.allocatable?.cpu !== '7800m',
      },
      'sidecar-injection': {
        create: (name) =>
          cluster.raw('POST', '/api/v1/namespaces/faults/pods', {
            metadata: { name },
            spec: { containers: [{ name: 'app', image: 'registry.example.com/app:1' }] },
          }),
        mutated: (r) => (r.body.spec?.containers ?? []).some((c: Json) => c.name === 'log-shipper'),
      },
    };

    const failurePolicy = (name: string) => {
      const mutation = functions.get(name);
      assert.ok(mutation);
      return webhookSettings(mutation, loadConfig(mutation, envOf(name))).failurePolicy;
    };

    const outcomes: string[] = [];
    after(() => {
      for (const line of outcomes) console.log(`fault: ${line}`);
    });

    async function expectPolicy(name: string, fault: string, endpoint: string, caPem: string) {
      await unregisterWebhooks(cluster);
      await registerWebhooks(cluster, { functions: [name], envOf, endpoint, caPems: [caPem] });
      const probe = probes[name];
      assert.ok(probe);
      const started = Date.now();
      const response = await probe.create(`${name}-${fault}`);
      const seconds = (Date.now() - started) / 1000;
      const policy = failurePolicy(name);
      outcomes.push(
        `${name} ${fault} (failurePolicy ${policy}): HTTP ${response.status} after ${seconds.toFixed(1)} s: ${
          response.status < 300 ? `admitted, mutated: ${probe.mutated(response)}` : response.body.message
        }`,
      );
      if (policy === 'Fail') {
        assert.equal(response.status, 500, `${name}: ${JSON.stringify(response.body)}`);
        assert.match(
          String(response.body.message),
          new RegExp(`failed calling webhook "${name}[.-][^"]*faas-admission-tls\\.faas-admission\\.svc"`),
        );
      } else {
        assert.ok([200, 201].includes(response.status), `${name}: ${JSON.stringify(response.body)}`);
        assert.equal(probe.mutated(response), false, `${name}: admitted unchanged`);
      }
      return { response, seconds };
    }

    it('a function that is down: Fail functions refuse with the apiserver’s error, Ignore functions admit unchanged', async () => {
      const victim = await startStandaloneFunctions(join(dir, 'victim'), env);
      await victim.stop();
      for (const name of Object.keys(probes)) {
        if (name === 'label-stamping') continue;
        await expectPolicy(name, 'down', victim.url, victim.caPem);
      }
    });

    it('label-stamping under faas-js-runtime stopped behind nginx: nginx answers, the apiserver applies Ignore', async () => {
      const fronted = await startFunctionBehindNginx('label-stamping', LABEL_STAMPING_ENV);
      try {
        await fronted.function.stop();
        await expectPolicy('label-stamping', 'down-behind-nginx', fronted.url, fronted.caPem);
      } finally {
        await fronted.stop();
      }
    });

    it(`a function stalled past timeoutSeconds (${TIMEOUT_SECONDS} s): the same policies, after the timeout`, async () => {
      const victim = await startStandaloneFunctions(join(dir, 'stalled'), { ...env, ...LABEL_STAMPING_ENV });
      const pid = victim.process.child.pid;
      assert.ok(pid);
      process.kill(pid, 'SIGSTOP');
      try {
        for (const name of Object.keys(probes)) {
          const { seconds } = await expectPolicy(name, 'stalled', victim.url, victim.caPem);
          assert.ok(
            seconds >= TIMEOUT_SECONDS - 0.5,
            `${name}: answered after ${seconds} s, before the timeout`,
          );
        }
      } finally {
        process.kill(pid, 'SIGCONT');
        await victim.stop();
      }
    });
  });
});
