// One hop for many: a chain answers as the apiserver calling each function in turn would
// leave the object, with one patch, and the apiserver accepts every reply.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import * as z from 'zod';
import { functionNamed, functions } from '../functions/index.ts';
import { loadRoutes } from '../runtimes/routes.ts';
import { loadConfig } from '../shared/config.ts';
import { ConfigError } from '../shared/errors.ts';
import { type ChainHandler, chainHandler, type LoadedMutation, serveReview } from '../shared/handler.ts';
import { defineMutation } from '../shared/mutation.ts';
import { decodePatch } from '../shared/response.ts';
import { parseAdmissionReview } from '../shared/review.ts';
import { apiserverVerdict, projectRoot } from './support/apiserver.ts';
import { edited, type Json, judged, sharedFixture } from './support/reviews.ts';

const pod = sharedFixture('knative-pod-netease-annotations.v1.json');
// The fixture injects hostPath /usr/local/nagent4docker, which the sample policy allows.
const env = {
  STAMP_LABELS: 'team.example.com/owner=platform, app=stamped',
  VOLUME_POLICY_FILE: join(projectRoot, 'test', 'support', 'policies', 'untyped-hostpath.yaml'),
};

function loaded(name: string, environment: Record<string, string> = env): LoadedMutation {
  const mutation = functionNamed(name);
  return { mutation, config: loadConfig(mutation, environment) };
}

function chainOf(...steps: (string | LoadedMutation)[]): ChainHandler {
  return chainHandler(
    'chain',
    steps.map((step) => (typeof step === 'string' ? loaded(step) : step)),
  );
}

/** The chain's reply, judged by the apiserver: the object after the patch, or the denial. */
async function judgedChain(chain: ChainHandler, review: Json) {
  const reply = serveReview(chain, parseAdmissionReview(review));
  const verdict = await apiserverVerdict(review, reply);
  if (!verdict.accepted) assert.fail(`the apiserver refuses the chain's reply: ${verdict.error}`);
  return { reply, patch: decodePatch(reply.response), verdict };
}

/** What the apiserver makes of calling each function as its own webhook, one after another. */
async function oneAfterAnother(names: string[], review: Json) {
  let current = review;
  const warnings: string[] = [];
  for (const name of names) {
    const result = await judged(name, current, env);
    assert.ok(result.object, `${name} denied: ${result.denial}`);
    warnings.push(...(result.reply.response.warnings ?? []));
    current = edited(current, (_object, request) => {
      request.object = result.object;
    });
  }
  return { object: current.request.object, warnings };
}

describe('chain', () => {
  const all = ['volume-extension', 'node-selector', 'label-stamping'];

  it('leaves the object as the functions called one after another would, with one patch', async () => {
    const { verdict, patch, reply } = await judgedChain(chainOf(...all), pod);
    assert.equal(verdict.accepted && verdict.allowed, true);
    const expected = await oneAfterAnother(all, pod);
    assert.deepEqual(verdict.accepted && verdict.allowed ? verdict.object : undefined, expected.object);
    assert.deepEqual(reply.response.warnings ?? [], expected.warnings);
    // Only what the functions change: volumes, the mount, the selector, one new label; the
    // existing `app` label is kept (OVERWRITE_LABELS is off) with a warning.
    assert.deepEqual(
      patch.map((op) => `${op.op} ${op.path}`).sort(),
      [
        'add /metadata/labels/team.example.com~1owner',
        'add /spec/containers/0/volumeMounts/1',
        'add /spec/nodeSelector',
        'add /spec/volumes/1',
      ].sort(),
    );
    assert.match(reply.response.warnings?.[0] ?? '', /label-stamping: label "app" kept/);
  });

  it('is idempotent: run again on its own output, it changes nothing', async () => {
    const first = await judgedChain(chainOf(...all), pod);
    const again = edited(pod, (_object, request) => {
      request.object = first.verdict.accepted && first.verdict.allowed ? first.verdict.object : undefined;
    });
    const second = await judgedChain(chainOf(...all), again);
    assert.deepEqual(second.patch, []);
  });

  it('answers in the version asked (v1beta1)', async () => {
    const { reply, verdict } = await judgedChain(
      chainOf(...all),
      sharedFixture('knative-pod-netease-annotations.v1beta1.json'),
    );
    assert.equal(reply.apiVersion, 'admission.k8s.io/v1beta1');
    assert.equal(verdict.accepted && verdict.allowed, true);
  });

  it('is denied by the first function that denies, named in the message, keeping earlier warnings', async () => {
    const conflicting = edited(pod, (object) => {
      object.spec.nodeSelector = { disktype: 'hdd' };
      object.metadata.annotations['knative.netease.dev/volumes'] = '[{"name":';
    });
    // label-stamping warns, volume-extension denies first, node-selector would deny too.
    const { reply, verdict } = await judgedChain(
      chainOf('label-stamping', 'volume-extension', 'node-selector'),
      conflicting,
    );
    assert.equal(verdict.accepted && !verdict.allowed, true);
    assert.match(
      reply.response.status?.message ?? '',
      /^volume-extension: annotation knative\.netease\.dev\/volumes: not valid JSON/,
    );
    assert.match(reply.response.warnings?.[0] ?? '', /label-stamping: label "app" kept/);
    const second = await judgedChain(chainOf('node-selector', 'volume-extension'), conflicting);
    assert.match(second.reply.response.status?.message ?? '', /^node-selector: annotation .*nodeSelector/);
    assert.equal(second.reply.response.status?.code, 409);
  });

  it('skips the functions that do not apply to the request', async () => {
    const update = edited(pod, (_object, request) => {
      request.operation = 'UPDATE';
      request.oldObject = structuredClone(request.object);
    });
    // node-selector and volume-extension apply to CREATE of pods only: just the label.
    const { patch } = await judgedChain(chainOf(...all), update);
    assert.deepEqual(
      patch.map((op) => op.path),
      ['/metadata/labels/team.example.com~1owner'],
    );
  });

  it("a function that throws follows its onError: 'allow' leaves its changes out, 'deny' refuses", async () => {
    const broken = (onError: 'allow' | 'deny'): LoadedMutation => ({
      mutation: defineMutation({
        name: 'broken',
        description: 'throws after changing the object',
        appliesTo: { resources: ['pods'], operations: ['CREATE'] },
        config: z.object({}),
        webhook: { failurePolicy: 'Ignore', failurePolicyReason: 'test' },
        onError,
        mutate(object: Json) {
          object.metadata.labels.broken = 'half-done';
          throw new Error('bug');
        },
      }),
      config: {},
    });
    const allowed = await judgedChain(chainOf('volume-extension', broken('allow'), 'node-selector'), pod);
    const object = allowed.verdict.accepted && allowed.verdict.allowed ? allowed.verdict.object : undefined;
    assert.ok(object, 'denied');
    assert.equal((object as Json).metadata.labels.broken, undefined);
    assert.equal((object as Json).spec.nodeSelector.disktype, 'ssd');
    assert.equal((object as Json).spec.volumes.length, 2);
    assert.match(
      allowed.reply.response.warnings?.join('\n') ?? '',
      /broken: internal error: bug \(its changes are left out/,
    );

    const denied = await judgedChain(chainOf('volume-extension', broken('deny'), 'node-selector'), pod);
    assert.equal(denied.verdict.accepted && !denied.verdict.allowed, true);
    assert.deepEqual(denied.reply.response.status, {
      code: 500,
      reason: 'InternalError',
      message: 'broken: internal error: bug',
    });
  });
});

describe('chain configuration (CHAIN, CHAIN_NAME)', () => {
  it('serves the chain under its name beside the functions', () => {
    const { routes } = loadRoutes({ CHAIN: ' volume-extension , node-selector', CHAIN_NAME: 'pods' });
    assert.deepEqual([...routes.keys()].slice(0, 3), ['volume-extension', 'node-selector', 'label-stamping']);
    assert.equal([...routes.keys()].at(-1), 'pods');
    const chain = routes.get('pods') as ChainHandler;
    assert.deepEqual(
      chain.steps.map((step) => step.mutation.name),
      ['volume-extension', 'node-selector'],
    );
  });

  it('serves only the chosen function or chain, reading only its configuration', () => {
    // label-stamping's configuration is broken, but it is not served.
    const broken = { STAMP_LABELS: 'not a label', CHAIN: 'volume-extension,node-selector' };
    assert.deepEqual([...loadRoutes(broken, 'chain').routes.keys()], ['chain']);
    assert.deepEqual([...loadRoutes(broken, 'node-selector').routes.keys()], ['node-selector']);
    assert.throws(() => loadRoutes(broken), ConfigError);
    assert.throws(() => loadRoutes(broken, 'nope'), {
      message: `FUNCTION: no function named "nope" (functions: ${[...functions.keys()].join(', ')}, chain)`,
    });
  });

  it('leaves out a function that needs configuration and has none, but not one configured wrong', () => {
    // sidecar-injection cannot run without SIDECAR_TEMPLATE_FILE.
    const { routes, unconfigured } = loadRoutes({});
    assert.equal(routes.has('sidecar-injection'), false);
    assert.deepEqual(
      unconfigured.map(({ name }) => name),
      ['sidecar-injection'],
    );
    assert.match(
      unconfigured[0]?.reason ?? '',
      /^sidecar-injection: invalid configuration: SIDECAR_TEMPLATE_FILE: /,
    );
    assert.throws(() => loadRoutes({ SIDECAR_TEMPLATE_FILE: '/nonexistent.yaml' }), /SIDECAR_TEMPLATE_FILE/);
    assert.throws(() => loadRoutes({}, 'sidecar-injection'), /SIDECAR_TEMPLATE_FILE/);
    assert.throws(() => loadRoutes({ CHAIN: 'sidecar-injection' }), /SIDECAR_TEMPLATE_FILE/);
  });

  const refused: [Record<string, string>, RegExp][] = [
    [{ CHAIN: 'volume-extension,nodeselector' }, /CHAIN: item 1: no function named "nodeselector"/],
    [{ CHAIN: 'node-selector,node-selector' }, /CHAIN: item 1: "node-selector" is already in the chain/],
    [
      { CHAIN: 'node-selector', CHAIN_NAME: 'label-stamping' },
      /CHAIN_NAME: "label-stamping" is already a function's name/,
    ],
    [
      { CHAIN: 'node-selector', CHAIN_NAME: 'Pods/all' },
      /CHAIN_NAME: "Pods\/all" must be a lowercase RFC 1123 label/,
    ],
  ];
  for (const [environment, message] of refused) {
    it(`refuses ${JSON.stringify(environment)} at start`, () => {
      assert.throws(
        () => loadRoutes(environment),
        (error: Error) => {
          assert.ok(error instanceof ConfigError);
          assert.match(error.message, /^chain: invalid configuration: /);
          assert.match(error.message, message);
          return true;
        },
      );
    });
  }
});
