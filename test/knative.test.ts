// Every function under the real faas-js-runtime CLI, started as Knative Functions starts it
// (`faas-js-runtime <file>` with the variables of the function's func.yaml), answering the
// shared fixtures and a 3 MiB review; every reply judged as kube-apiserver judges it.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readYaml } from '../scripts/func-yaml.ts';
import { apiserverVerdicts, type Judgement, projectRoot, type Verdict } from './support/apiserver.ts';
import { largeReview, MiB } from './support/large-review.ts';
import { type Running, runToExit, startServer } from './support/process.ts';
import { type Json, sharedFixture } from './support/reviews.ts';

const CLI = join(projectRoot, 'node_modules', '.bin', 'faas-js-runtime');
const ENTRY = 'runtimes/knative.ts';
const LISTENING = /Server listening at http:\/\/\S+:(\d+)/;

const fixtures = [
  'knative-pod-netease-annotations.v1.json',
  'knative-pod-netease-annotations.v1beta1.json',
  'knative-pod-netease-annotations.dryrun.v1.json',
  'plain-pod-no-labels.v1.json',
].map((name) => ({ name, review: sharedFixture(name) }));
const big = largeReview(sharedFixture('knative-pod-netease-annotations.v1.json'), 3 * MiB);

/** The variables the function's func.yaml sets, as `func deploy` would set them. */
function deployedEnv(name: string): Record<string, string> {
  const doc = readYaml(join(projectRoot, 'functions', name, 'func.yaml'));
  return Object.fromEntries(
    doc.run.envs.map((env: { name: string; value: string }) => [env.name, env.value]),
  );
}

async function post(server: Running, body: string, contentType = 'application/json', query = '') {
  const response = await fetch(`http://127.0.0.1:${server.port}/${query}`, {
    method: 'POST',
    headers: { 'content-type': contentType },
    body,
  });
  const json: Json = await response.json();
  return { status: response.status, type: response.headers.get('content-type'), body: json };
}

/**
 * Announces a body of `length` bytes and reads the answer without sending the body: the runtime
 * refuses by Content-Length before reading, and closes the connection, which would race a
 * client still writing megabytes.
 */
function announceBody(port: number, length: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    let text = '';
    socket.setEncoding('utf8').on('data', (chunk: string) => {
      text += chunk;
    });
    socket.on('error', reject);
    socket.on('close', () => {
      const [head = '', body = ''] = text.split('\r\n\r\n');
      resolve({ status: Number(head.split(' ')[1]), body });
    });
    socket.write(
      `POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\nConnection: close\r\n\r\n`,
    );
  });
}

const userContainer = (pod: Json) => pod.spec.containers.find((c: Json) => c.name === 'user-container');

const cases: { name: string; env?: Record<string, string>; expect: (pod: Json, fixture: string) => void }[] =
  [
    {
      name: 'volume-extension',
      // The fixtures inject hostPath /usr/local/nagent4docker, which the sample policy allows.
      env: { VOLUME_POLICY_FILE: join(projectRoot, 'test', 'support', 'policies', 'untyped-hostpath.yaml') },
      expect: (pod, fixture) => {
        const names = pod.spec.volumes.map((v: Json) => v.name);
        if (fixture.startsWith('plain-pod')) return assert.deepEqual(names, ['kube-api-access-7x2kq']);
        assert.deepEqual(names, ['kube-api-access-7x2kq', 'script-vol']);
        assert.equal(userContainer(pod).volumeMounts.at(-1).mountPath, '/usr/local/nagent');
      },
    },
    {
      name: 'node-selector',
      expect: (pod, fixture) => {
        if (fixture.startsWith('plain-pod')) return assert.equal(pod.spec.nodeSelector, undefined);
        assert.deepEqual(pod.spec.nodeSelector, { disktype: 'ssd', 'kubernetes.io/arch': 'amd64' });
      },
    },
    {
      name: 'label-stamping',
      env: { STAMP_LABELS: 'team.example.com/owner=platform, example.com/operation={operation}' },
      expect: (pod) => {
        assert.equal(pod.metadata.labels['team.example.com/owner'], 'platform');
        assert.equal(pod.metadata.labels['example.com/operation'], 'CREATE');
      },
    },
  ];

function assertAllowed(verdict: Verdict | undefined, what: string): Json {
  assert.ok(verdict?.accepted, `${what}: the apiserver refuses the reply: ${JSON.stringify(verdict)}`);
  assert.ok(verdict.allowed, `${what}: denied: ${JSON.stringify(verdict)}`);
  return verdict.object;
}

for (const { name, env, expect } of cases) {
  describe(`${name} under faas-js-runtime`, () => {
    let server: Running;
    before(async () => {
      server = await startServer(
        CLI,
        [ENTRY],
        {
          ...deployedEnv(name),
          ...env,
          FUNC_PORT: '0',
          FUNC_LOG_LEVEL: 'info',
        },
        LISTENING,
      );
    });
    after(() => server?.stop());

    it('answers every fixture and a 3 MiB review, as the apiserver accepts', async () => {
      const judgements: Judgement[] = [];
      for (const { review } of fixtures) {
        const reply = await post(server, JSON.stringify(review), 'application/json', '?timeout=10s');
        assert.equal(reply.status, 200, JSON.stringify(reply.body));
        assert.match(reply.type ?? '', /^application\/json/);
        judgements.push({ request: review, reply: reply.body });
      }
      const text = JSON.stringify(big);
      assert.ok(text.length > 3 * MiB);
      const reply = await post(server, text, 'application/json', '?timeout=5s');
      assert.equal(reply.status, 200, JSON.stringify(reply.body));
      judgements.push({ request: big, reply: reply.body });

      const verdicts = await apiserverVerdicts(judgements);
      fixtures.forEach(({ name: fixture }, i) => {
        expect(assertAllowed(verdicts[i], fixture), fixture);
      });
      const pod = assertAllowed(verdicts.at(-1), '3 MiB review');
      expect(pod, 'large');
      assert.equal(userContainer(pod).env.length, userContainer(big.request.object).env.length);
    });

    it('refuses what is not an AdmissionReview with a 4xx JSON message, and keeps serving', async () => {
      const bad = await post(server, '{"apiVersion": "admission.k8s.io/v1",');
      assert.equal(bad.status, 400);
      assert.match(bad.body.message, /JSON/);

      const envelope = structuredClone(fixtures[0]?.review);
      delete envelope.request.uid;
      const invalid = await post(server, JSON.stringify(envelope));
      assert.equal(invalid.status, 400);
      assert.match(invalid.body.message, /^invalid AdmissionReview: request\.uid: /);

      const form = await post(
        server,
        JSON.stringify(fixtures[0]?.review),
        'application/x-www-form-urlencoded',
      );
      assert.equal(form.status, 415);
      assert.match(form.body.message, /expected application\/json/);

      const get = await fetch(`http://127.0.0.1:${server.port}/`);
      assert.equal(get.status, 405);
      assert.match(((await get.json()) as { message: string }).message, /POST an AdmissionReview/);

      const odd = await post(
        server,
        JSON.stringify(fixtures[0]?.review),
        'application/json',
        '?timeout=soon',
      );
      assert.equal(odd.status, 200, 'a timeout that is not a duration is ignored, never fatal');
      await server.waitForOutput(/ignoring query parameter timeout=\\"soon\\"/);

      const again = await post(server, JSON.stringify(fixtures[0]?.review));
      assert.equal(again.status, 200);
      assert.equal(again.body.response.uid, fixtures[0]?.review.request.uid);
    });

    it('answers the health endpoints its func.yaml declares', async () => {
      const { deploy } = readYaml(join(projectRoot, 'functions', name, 'func.yaml'));
      for (const path of [deploy.healthEndpoints.readiness, deploy.healthEndpoints.liveness]) {
        const response = await fetch(`http://127.0.0.1:${server.port}${path}`);
        assert.equal(response.status, 200, path);
      }
    });
  });
}

describe('faas-js-runtime body limit', () => {
  it('refuses a body over FUNC_BODY_LIMIT with 413 and a message, and keeps serving', async () => {
    const server = await startServer(
      CLI,
      [ENTRY],
      {
        ...deployedEnv('node-selector'),
        FUNC_PORT: '0',
        FUNC_LOG_LEVEL: 'info',
      },
      LISTENING,
    );
    try {
      const limit = Number(deployedEnv('node-selector').FUNC_BODY_LIMIT);
      const tooLarge = await announceBody(server.port, limit + 1);
      assert.equal(tooLarge.status, 413);
      assert.match(JSON.parse(tooLarge.body).message, /too large/i);
      const next = await post(server, JSON.stringify(fixtures[0]?.review));
      assert.equal(next.status, 200);
    } finally {
      await server.stop();
    }
  });
});

describe('faas-js-runtime start-up', () => {
  it('stops with the variable named when the configuration is bad', async () => {
    const { code, output } = await runToExit(CLI, [ENTRY], {
      FUNCTION: 'node-selector',
      NODE_SELECTOR_OVERRIDE: 'maybe',
      FUNC_PORT: '0',
    });
    assert.notEqual(code, 0);
    assert.match(output, /ConfigError: node-selector: invalid configuration: NODE_SELECTOR_OVERRIDE: /);
  });

  it('stops when FUNCTION names no function', async () => {
    const { code, output } = await runToExit(CLI, [ENTRY], { FUNCTION: 'volume-extensions', FUNC_PORT: '0' });
    assert.notEqual(code, 0);
    assert.match(output, /FUNCTION: unknown function "volume-extensions" \(functions: volume-extension, /);
  });
});
