// The upkeep's decisions (runtimes/tls/upkeep-plan.ts) run after run, on stored state kept in
// memory and changed exactly as the planned writes say, with a clock the test moves: when each
// step of a rotation happens, in which order the writes go, and that a finished state plans
// nothing. test/cert-upkeep.test.ts runs the same against the real apiserver.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  bundleCertificates,
  type ConfigurationRef,
  encodeBundle,
  plan,
  type State,
  type StoredConfiguration,
  type UpkeepPolicy,
  UpkeepRefusal,
  type Write,
} from '../runtimes/tls/upkeep-plan.ts';

const S = 1000;
const REF: ConfigurationRef = { kind: 'MutatingWebhookConfiguration', name: 'faas-admission' };
const policy: UpkeepPolicy = {
  service: 'faas-admission-tls',
  namespace: 'faas-admission',
  caSecret: 'faas-admission-ca',
  servingSecret: 'faas-admission-tls',
  extraHosts: [],
  caLifetimeMs: 300 * S,
  servingLifetimeMs: 60 * S,
  renewFraction: 1 / 3,
  settleMs: 10 * S,
  configurations: [REF],
};

function configuration(): StoredConfiguration {
  return {
    ref: REF,
    resourceVersion: '1',
    labels: { 'app.kubernetes.io/name': 'faas-admission' },
    annotations: {},
    webhooks: [
      { name: 'a.faas-admission-tls.faas-admission.svc' },
      { name: 'b.faas-admission-tls.faas-admission.svc' },
    ],
  };
}

/** Applies the writes as the apiserver would store them. */
function apply(state: State, writes: Write[]): State {
  let version = 100;
  const next: State = { ...state, configurations: new Map(state.configurations) };
  for (const write of writes) {
    version++;
    if (write.kind === 'secret') {
      const stored = { ...write.secret, resourceVersion: String(version) };
      if (write.name === policy.caSecret) next.caSecret = stored;
      else next.servingSecret = stored;
    } else {
      const stored = next.configurations.get(write.ref) as StoredConfiguration;
      const webhooks = stored.webhooks.map((w) => ({ ...w }));
      for (const op of write.operations as { op: string; path: string; value: string }[]) {
        const match = /^\/webhooks\/(\d+)\/clientConfig\/caBundle$/.exec(op.path);
        if (match && op.op !== 'test')
          (webhooks[Number(match[1])] as { caBundle?: string }).caBundle = op.value;
      }
      next.configurations.set(write.ref, { ...stored, webhooks, resourceVersion: String(version) });
    }
  }
  return next;
}

const serials = (state: State) =>
  (state.configurations.get(REF) as StoredConfiguration).webhooks.map((w) =>
    (bundleCertificates(w.caBundle) as string[]).map((p) => new X509Certificate(p).serialNumber),
  );
const serial = (pem: string | undefined) => new X509Certificate(pem as string).serialNumber;

describe('upkeep plan', () => {
  it('creates both Secrets, then the caBundles; plans nothing on a second run', async () => {
    const empty: State = { configurations: new Map([[REF, configuration()]]) };
    const t0 = Date.now();
    const first = await plan(policy, empty, t0);
    assert.deepEqual(
      first.writes.map((w) =>
        w.kind === 'secret' ? `${w.create ? 'create' : 'update'} ${w.name}` : 'bundle',
      ),
      ['create faas-admission-ca', 'create faas-admission-tls', 'bundle'],
    );
    const state = apply(empty, first.writes);
    const ca = state.caSecret?.data['tls.crt'];
    assert.deepEqual(serials(state), [[serial(ca)], [serial(ca)]]);
    assert.equal(state.servingSecret?.type, 'kubernetes.io/tls');
    const second = await plan(policy, state, t0 + S);
    assert.deepEqual(second.writes, []);
    assert.deepEqual(second.problems, []);
  });

  it('renews the serving certificate below a third of its life, then rotates the CA over three runs', async () => {
    const t0 = Date.now();
    let state: State = { configurations: new Map([[REF, configuration()]]) };
    const log: string[] = [];
    let caAtStart = '';
    for (let t = 0; t <= 260; t += 5) {
      const planned = await plan(policy, state, t0 + t * S);
      assert.deepEqual(planned.problems, [], `at ${t} s`);
      for (const w of planned.writes) log.push(`${t} ${w.kind === 'secret' ? w.name : 'bundle'}: ${w.why}`);
      state = apply(state, planned.writes);
      if (t === 0) caAtStart = state.caSecret?.data['tls.crt'] as string;
    }
    const at = (pattern: RegExp) => {
      const line = log.find((l) => pattern.test(l));
      assert.ok(line, `${pattern} in\n${log.join('\n')}`);
      return Number(line.split(' ')[0]);
    };
    // 60 s (+6 s backdated) serving lifetime: renewed once less than 22 s are left.
    const renewal = at(/faas-admission-tls: serving certificate issued .*% of its life is left/);
    assert.ok(renewal >= 40 && renewal <= 45, `renewed at ${renewal} s`);
    // 300 s (+30 s) CA lifetime: rotation starts once less than 110 s are left.
    const started = at(/CA rotation started/);
    assert.ok(started >= 190 && started <= 195, `rotation at ${started} s`);
    const switched = at(/signs from now on/);
    assert.ok(switched - started >= 10, 'the new CA signs only after settle');
    const left = at(/leaves the caBundles/);
    assert.ok(left - switched >= 10, 'the old CA leaves only after settle');
    // The bundle held both CAs from the start of the rotation until the old one left.
    const ca = state.caSecret?.data['tls.crt'] as string;
    assert.notEqual(serial(ca), serial(caAtStart));
    assert.deepEqual(serials(state), [[serial(ca)], [serial(ca)]]);
    assert.equal(state.caSecret?.data['previous.crt'], undefined);
    const servingCert = new X509Certificate(state.servingSecret?.data['tls.crt'] as string);
    assert.ok(servingCert.verify(new X509Certificate(ca).publicKey));
  });

  it('orders writes so an interrupted run leaves no unknown CA: Secret first when a CA joins, bundles first when it leaves', async () => {
    const t0 = Date.now();
    let state: State = { configurations: new Map([[REF, configuration()]]) };
    state = apply(state, (await plan(policy, state, t0)).writes);
    const joining = await plan(policy, state, t0 + 200 * S);
    assert.equal(joining.writes[0]?.kind, 'secret');
    assert.equal(joining.writes.at(-1)?.kind, 'caBundle');
    state = apply(state, joining.writes);
    assert.deepEqual(serials(state)[0]?.length, 2);
    state = apply(state, (await plan(policy, state, t0 + 215 * S)).writes);
    const leaving = await plan(policy, state, t0 + 230 * S);
    assert.equal(leaving.writes[0]?.kind, 'caBundle');
    assert.equal(leaving.writes.at(-1)?.kind, 'secret');
  });

  it('refuses a key that is not the certificate’s, and leaves a foreign caBundle alone', async () => {
    const t0 = Date.now();
    let state: State = { configurations: new Map([[REF, configuration()]]) };
    state = apply(state, (await plan(policy, state, t0)).writes);
    const ca = state.caSecret as NonNullable<State['caSecret']>;
    const serving = state.servingSecret as NonNullable<State['servingSecret']>;
    const mismatched: State = {
      ...state,
      servingSecret: { ...serving, data: { ...serving.data, 'tls.key': ca.data['tls.key'] as string } },
    };
    await assert.rejects(plan(policy, mismatched, t0), (error: Error) => {
      assert.ok(error instanceof UpkeepRefusal);
      assert.match(error.message, /the key does not belong to the certificate; nothing changed/);
      return true;
    });
    const stored = state.configurations.get(REF) as StoredConfiguration;
    const other = (
      await plan({ ...policy, namespace: 'elsewhere' }, { configurations: new Map() }, t0)
    ).writes.find((w) => w.kind === 'secret' && w.name === policy.caSecret);
    const foreignCa = (other as Extract<Write, { kind: 'secret' }>).secret.data['tls.crt'] as string;
    const foreign = new Map([
      [
        REF,
        {
          ...stored,
          webhooks: [stored.webhooks[0], { ...stored.webhooks[1], caBundle: encodeBundle([foreignCa]) }],
        },
      ],
    ]) as State['configurations'];
    const planned = await plan(policy, { ...state, configurations: foreign }, t0 + 200 * S);
    assert.match(planned.problems.join('\n'), /holds a CA the upkeep did not make .*left alone/);
    assert.ok(planned.writes.every((w) => w.kind !== 'caBundle'));
  });
});
