// The OpenFaaS entry as the image runs it: plain HTTP, GET /_/health, FUNCTION picks the
// function served at `/`, bodies far above the stock 100 kB templates' limit.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { apiserverVerdicts, projectRoot } from './support/apiserver.ts';
import { annotated, answer, sharedFixture } from './support/reviews.ts';
import {
  call,
  OPENFAAS,
  OPENFAAS_URL,
  postReview,
  type RunningEntry,
  runEntry,
  startEntry,
} from './support/runtimes.ts';

const pod = sharedFixture('knative-pod-netease-annotations.v1.json');
const loopback = { PORT: '0', HOST: '127.0.0.1' };
// The fixture injects hostPath /usr/local/nagent4docker, which the sample policy allows.
const policy = {
  VOLUME_POLICY_FILE: join(projectRoot, 'test', 'support', 'policies', 'untyped-hostpath.yaml'),
};

describe('OpenFaaS function (FUNCTION=volume-extension)', () => {
  let server: RunningEntry;
  before(async () => {
    server = await startEntry(
      OPENFAAS,
      { ...loopback, FUNCTION: 'volume-extension', ...policy },
      OPENFAAS_URL,
      'stderr',
    );
  });
  after(() => server?.stop());

  it('answers GET /_/health', async () => {
    const health = await call(`${server.url}/_/health`);
    assert.equal(health.status, 200);
    assert.deepEqual(health.json, { code: 200, message: 'ok' });
    assert.equal((await call(`${server.url}/_/health`, { method: 'HEAD' })).status, 200);
  });

  it('answers the function at / and at its own path; the apiserver accepts the replies', async () => {
    const large = annotated(pod, { 'example.com/padding': 'x'.repeat(1024 * 1024) });
    const replies = await Promise.all([
      postReview(server.url, pod),
      postReview(`${server.url}/volume-extension`, pod),
      postReview(`${server.url}/`, large),
    ]);
    for (const reply of replies) assert.equal(reply.status, 200, reply.text.slice(0, 300));
    assert.deepEqual(replies[0]?.json, answer('volume-extension', pod, policy));
    const verdicts = await apiserverVerdicts([
      { request: pod, reply: replies[0]?.json },
      { request: pod, reply: replies[1]?.json },
      { request: large, reply: replies[2]?.json },
    ]);
    for (const verdict of verdicts)
      assert.equal(verdict.accepted && verdict.allowed, true, JSON.stringify(verdict));
  });

  it('serves only that function', async () => {
    const other = await postReview(`${server.url}/node-selector`, pod);
    assert.equal(other.status, 404);
    assert.match(
      other.json.message,
      /no function at \/node-selector: POST an AdmissionReview to one of \/volume-extension$/,
    );
  });
});

describe('OpenFaaS entry without FUNCTION', () => {
  let server: RunningEntry;
  before(async () => {
    server = await startEntry(OPENFAAS, loopback, OPENFAAS_URL, 'stderr');
  });
  after(() => server?.stop());

  it('serves every function by path, and nothing at /', async () => {
    for (const name of ['volume-extension', 'node-selector', 'label-stamping']) {
      const reply = await postReview(`${server.url}/${name}`, pod);
      assert.equal(reply.status, 200, `${name}: ${reply.text}`);
      assert.deepEqual(reply.json, answer(name, pod));
    }
    assert.equal((await postReview(server.url, pod)).status, 404);
  });
});

describe('OpenFaaS entry refuses bad configuration at start', () => {
  const cases: [Record<string, string>, RegExp][] = [
    [
      { FUNCTION: 'volume_extension' },
      /FUNCTION: no function named "volume_extension" \(functions: volume-extension, node-selector, label-stamping, /,
    ],
    [
      { BODY_LIMIT: '3 megabytes' },
      /openfaas: invalid configuration: BODY_LIMIT: "3 megabytes" is not a size/,
    ],
    [{ PORT: '80800' }, /PORT: "80800" is not a port number/],
    [{ REQUEST_TIMEOUT_SECONDS: '0' }, /REQUEST_TIMEOUT_SECONDS: "0" is not a number of seconds/],
    [
      { FUNCTION: 'node-selector', NODE_SELECTOR_OVERRIDE: 'maybe' },
      /node-selector: invalid configuration: NODE_SELECTOR_OVERRIDE/,
    ],
  ];
  it('with exit 1 and a message naming the variable', async () => {
    const runs = await Promise.all(cases.map(([env]) => runEntry(OPENFAAS, { ...loopback, ...env })));
    runs.forEach((run, index) => {
      const [env, message] = cases[index] as [Record<string, string>, RegExp];
      assert.equal(run.code, 1, JSON.stringify(env));
      assert.match(run.stderr, message);
    });
  });
});
