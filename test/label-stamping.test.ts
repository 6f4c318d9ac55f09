import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { functionNamed } from '../functions/index.ts';
import { loadConfig } from '../shared/config.ts';
import { ConfigError } from '../shared/errors.ts';
import { toLabelValue } from '../shared/k8s/names.ts';
import { PROTOTYPE_KEYS, presetProvenanceValue, requestUser } from './fuzz/arbitraries.ts';
import { apiserverVerdicts } from './support/apiserver.ts';
import { functionKit } from './support/function-kit.ts';
import { answer, edited, type Json, sample, sharedFixture } from './support/reviews.ts';

const plainPod = sharedFixture('plain-pod-no-labels.v1.json');
const knativePod = sharedFixture('knative-pod-netease-annotations.v1.json');
const deployment = sample('deployment.json');
const stamping = (env: Record<string, string> = {}) => functionKit('label-stamping', env);

describe('label-stamping', () => {
  it('creates metadata.labels on an object that has none', async () => {
    const env = { STAMP_LABELS: 'example.com/team=platform' };
    await stamping(env).expectPatched(plainPod, (object, { patch }) => {
      assert.deepEqual(object.metadata.labels, { 'example.com/team': 'platform' });
      assert.deepEqual(patch, [
        { op: 'add', path: '/metadata/labels', value: { 'example.com/team': 'platform' } },
      ]);
    });
  });

  it('adds to existing labels on any kind, filling values from the request', async () => {
    const env = {
      STAMP_LABELS: 'example.com/created-by={user}, example.com/ns={namespace}\nexample.com/kind={kind}',
    };
    await stamping(env).expectPatched(deployment, (object, { patch }) => {
      assert.deepEqual(object.metadata.labels, {
        app: 'web',
        'example.com/created-by': 'alice-example.com',
        'example.com/ns': 'shop',
        'example.com/kind': 'Deployment',
      });
      assert.ok(patch.every((op) => op.op === 'add' && op.path.startsWith('/metadata/labels/example.com~1')));
    });
  });

  it('sanitises request values into label values', async () => {
    const kit = stamping({ STAMP_LABELS: 'example.com/by={user}' });
    await kit.expectPatched(knativePod, (object) => {
      assert.equal(
        object.metadata.labels['example.com/by'],
        'system-serviceaccount-kube-system-replicaset-controller',
      );
    });
    const long = edited(plainPod, (_o, request) => {
      request.userInfo.username = `:${'x'.repeat(80)}@`;
    });
    await kit.expectPatched(long, (object) => {
      assert.equal(object.metadata.labels['example.com/by'], 'x'.repeat(62));
    });
  });

  it('keeps an existing label with another value (with a warning) unless OVERWRITE_LABELS=true', async () => {
    const env = { STAMP_LABELS: 'app=stamped' };
    const warnings = await stamping(env).expectUnchanged(deployment);
    assert.match(warnings[0] ?? '', /label "app" kept as "web" \(configured "stamped"/);
    await stamping({ ...env, OVERWRITE_LABELS: 'true' }).expectPatched(deployment, (_object, { patch }) => {
      assert.deepEqual(patch, [{ op: 'replace', path: '/metadata/labels/app', value: 'stamped' }]);
    });
  });

  it('replaces a pre-set value of a label filled from the request, whatever OVERWRITE_LABELS says', async () => {
    const env = { STAMP_LABELS: 'example.com/created-by={user},example.com/ns={namespace},app=stamped' };
    const forged = edited(deployment, (object) => {
      object.metadata.labels['example.com/created-by'] = 'admin';
      object.metadata.labels['example.com/ns'] = 'kube-system';
    });
    for (const overwrite of ['false', 'true']) {
      await stamping({ ...env, OVERWRITE_LABELS: overwrite }).expectPatched(
        forged,
        (object, { warnings }) => {
          assert.equal(object.metadata.labels['example.com/created-by'], 'alice-example.com');
          assert.equal(object.metadata.labels['example.com/ns'], 'shop');
          // A static label keeps today's behaviour: kept unless OVERWRITE_LABELS=true.
          assert.equal(object.metadata.labels.app, overwrite === 'true' ? 'stamped' : 'web');
          assert.ok(
            warnings.includes(
              'label-stamping: label "example.com/created-by" set to "alice-example.com" from the request ({user}), replacing "admin"',
            ),
            JSON.stringify(warnings),
          );
        },
      );
    }
  });

  it('stamps keys named like built-in object properties like any other key', async () => {
    for (const key of PROTOTYPE_KEYS) {
      const env = { STAMP_LABELS: `${key}=stamped` };
      await stamping(env).expectPatched(deployment, (object, { warnings }) => {
        assert.equal(object.metadata.labels[key], 'stamped', key);
        assert.deepEqual(warnings, [], key);
      });
    }
  });

  it("property: a label filled from the request always holds the request's value", async () => {
    const seed = Number(process.env.PROPERTY_SEED ?? Math.floor(Math.random() * 1_000_000));
    const env = { STAMP_LABELS: 'example.com/created-by={user}', OVERWRITE_LABELS: 'false' };
    const samples = fc.sample(
      fc.record({
        preset: fc.option(presetProvenanceValue),
        user: requestUser,
        operation: fc.constantFrom('CREATE', 'UPDATE'),
      }),
      { numRuns: 200, seed },
    );
    const reviews: Json[] = samples.map(({ preset, user, operation }) =>
      edited(deployment, (object, request) => {
        request.userInfo.username = user;
        request.operation = operation;
        if (operation === 'UPDATE') request.oldObject = structuredClone(object);
        if (preset !== null) object.metadata.labels['example.com/created-by'] = preset;
      }),
    );
    const replies = reviews.map((r) => answer('label-stamping', r, env));
    const verdicts = await apiserverVerdicts(reviews.map((request, i) => ({ request, reply: replies[i] })));
    for (const [i, { user }] of samples.entries()) {
      const verdict = verdicts[i];
      const where = `seed ${seed}, sample ${i}: ${JSON.stringify(samples[i])}`;
      assert.ok(verdict?.accepted && verdict.allowed, `${where}: ${JSON.stringify(verdict)}`);
      const labels = (verdict.object as Json).metadata.labels;
      assert.equal(labels['example.com/created-by'], toLabelValue(user), where);
      assert.equal(labels.app, 'web', where);
    }
  });

  it('reads more entries from STAMP_LABELS_FILE', async (t) => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'labels-'));
    t.after(async () => (await import('node:fs')).rmSync(dir, { recursive: true }));
    const file = join(dir, 'labels');
    writeFileSync(file, '# stamped on everything\nexample.com/cost-center=cc-42\n');
    await stamping({ STAMP_LABELS: 'a=b', STAMP_LABELS_FILE: file }).expectPatched(plainPod, (object) => {
      assert.deepEqual(object.metadata.labels, { a: 'b', 'example.com/cost-center': 'cc-42' });
    });
  });

  const badConfig: { env: Record<string, string>; message: RegExp }[] = [
    { env: { STAMP_LABELS: 'novalue' }, message: /STAMP_LABELS: entry "novalue": expected key=value/ },
    {
      env: { STAMP_LABELS: 'Bad Key=x' },
      message: /STAMP_LABELS: entry "Bad Key=x": key name part must consist/,
    },
    {
      env: { STAMP_LABELS: 'k=bad value' },
      message: /STAMP_LABELS: entry "k=bad value": value must be empty or/,
    },
    { env: { STAMP_LABELS: 'k={nope}' }, message: /unknown placeholder \{nope\}/ },
    { env: { STAMP_LABELS: 'k=a,k=b' }, message: /key "k" is given twice/ },
    {
      env: { STAMP_LABELS: 'kubernetes.io/x=y' },
      message: /reserved prefix "kubernetes.io" \(ALLOW_RESERVED_PREFIXES=true/,
    },
    { env: { STAMP_LABELS: 'node.k8s.io/x=y' }, message: /reserved prefix "node.k8s.io"/ },
    { env: { OVERWRITE_LABELS: 'perhaps' }, message: /OVERWRITE_LABELS: / },
    { env: { STAMP_LABELS_FILE: '/nonexistent/labels' }, message: /STAMP_LABELS_FILE: ENOENT/ },
  ];
  for (const c of badConfig) {
    it(`refuses to start with ${JSON.stringify(c.env)}`, () => {
      assert.throws(
        () => loadConfig(functionNamed('label-stamping'), c.env),
        (error: unknown) => error instanceof ConfigError && c.message.test(error.message),
      );
    });
  }

  it('allows reserved prefixes when configured', () => {
    const config = loadConfig(functionNamed('label-stamping'), {
      STAMP_LABELS: 'kubernetes.io/x=y',
      ALLOW_RESERVED_PREFIXES: 'true',
    }) as { rules: unknown[] };
    assert.equal(config.rules.length, 1);
  });

  it('stamps nothing when nothing is configured', async () => {
    await stamping().expectUnchanged(deployment);
  });
});
