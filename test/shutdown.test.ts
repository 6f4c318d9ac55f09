// SIGTERM under load, as Kubernetes and Knative send it before a pod goes: the server stops
// accepting, answers every review it has already received, and exits 0.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { apiserverVerdicts } from './support/apiserver.ts';
import { sharedFixture } from './support/reviews.ts';
import {
  call,
  halfSent,
  OPENFAAS,
  OPENFAAS_URL,
  postReview,
  type RunningEntry,
  STANDALONE,
  STANDALONE_URL,
  startEntry,
  temporaryDirectory,
} from './support/runtimes.ts';

const review = sharedFixture('knative-pod-netease-annotations.v1.json');
const body = JSON.stringify(review);
const IN_FLIGHT = 12;

/** Reviews sent back to back, 3 at a time, until stopped: the load the SIGTERM lands in. */
function load(url: string, ca: string | undefined) {
  let running = true;
  const tally = { answered: 0, errors: [] as string[], refused: 0 };
  const worker = async () => {
    while (running) {
      try {
        const reply = await postReview(`${url}/volume-extension`, review, ca);
        if (reply.status === 200) tally.answered++;
        else tally.errors.push(`${reply.status} ${reply.text}`);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        // A connection refused or closed before its request was read: nothing was received.
        if (code === 'ECONNREFUSED' || code === 'ECONNRESET') tally.refused++;
        else tally.errors.push(String(error));
        if (code === 'ECONNREFUSED') return;
      }
    }
  };
  const workers = Promise.all([worker(), worker(), worker()]);
  return {
    tally,
    stop: async () => {
      running = false;
      await workers;
      return tally;
    },
  };
}

async function sigtermUnderLoad(server: RunningEntry, ca?: string) {
  const traffic = load(server.url, ca);
  while (traffic.tally.answered < 100 && traffic.tally.errors.length === 0) await sleep(20);
  const pending = await Promise.all(
    Array.from({ length: IN_FLIGHT }, () => halfSent(`${server.url}/volume-extension`, body, ca)),
  );
  server.child.kill('SIGTERM');
  await server.waitFor(/SIGTERM: no new connections/);
  await assert.rejects(call(`${server.url}/healthz`, ca ? { ca } : {}), { code: 'ECONNREFUSED' });

  const answers = await Promise.all(pending.map((request) => request.finish()));
  const tally = await traffic.stop();
  const { code, signal } = await server.exited;
  assert.deepEqual({ code, signal }, { code: 0, signal: null }, server.stderr());

  for (const answer of answers) {
    assert.equal(answer.status, 200);
    assert.equal(answer.connection, 'close');
  }
  const verdicts = await apiserverVerdicts(
    answers.map((answer) => ({ request: review, reply: answer.json })),
  );
  for (const verdict of verdicts) assert.equal(verdict.accepted, true, JSON.stringify(verdict));
  assert.deepEqual(tally.errors, []);
  assert.ok(tally.answered > 0, 'the load never got going');
  return tally;
}

describe('SIGTERM under load', () => {
  const certs = temporaryDirectory('shutdown');
  after(() => certs.remove());

  it('standalone HTTPS: answers every review already received, refuses new connections, exits 0', async (t) => {
    const server = await startEntry(
      STANDALONE,
      { PORT: '0', DEV_CERTS_DIR: certs.dir },
      STANDALONE_URL,
      'stdout',
    );
    const ca = readFileSync(join(certs.dir, 'ca.crt'), 'utf8');
    const tally = await sigtermUnderLoad(server, ca);
    t.diagnostic(
      `in flight at SIGTERM: ${IN_FLIGHT} answered; load: ${tally.answered} answered, ${tally.refused} refused`,
    );
    assert.match(server.stderr(), /stopped/);
  });

  it('OpenFaaS: the same', async (t) => {
    const server = await startEntry(OPENFAAS, { PORT: '0', HOST: '127.0.0.1' }, OPENFAAS_URL, 'stderr');
    const tally = await sigtermUnderLoad(server);
    t.diagnostic(
      `in flight at SIGTERM: ${IN_FLIGHT} answered; load: ${tally.answered} answered, ${tally.refused} refused`,
    );
  });
});
