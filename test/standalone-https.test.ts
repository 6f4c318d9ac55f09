// The standalone HTTPS server as `npm run serve` runs it, called as the apiserver would call
// it: over TLS, trusting only the CA it made, every reply judged by admission-check.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type ConnectionOptions, connect } from 'node:tls';
import { promisify } from 'node:util';
import { functions } from '../functions/index.ts';
import { loadRoutes } from '../runtimes/routes.ts';
import { answerBody } from '../shared/http-answer.ts';
import { apiserverVerdicts, projectRoot, sharedDir } from './support/apiserver.ts';
import type { Json } from './support/reviews.ts';
import {
  call,
  postReview,
  type RunningEntry,
  STANDALONE,
  STANDALONE_URL,
  startEntry,
  temporaryDirectory,
} from './support/runtimes.ts';

const env = {
  PORT: '0',
  CHAIN: 'volume-extension,node-selector,label-stamping',
  STAMP_LABELS: 'team.example.com/owner=platform, example.com/operation={operation}',
  SIDECAR_TEMPLATE_FILE: join(projectRoot, 'samples', 'sidecar-injection', 'template.yaml'),
};

/** Every AdmissionReview the project and ../shared have, by file. */
function reviews(): Map<string, Json> {
  const found = new Map<string, Json>();
  const fixtures = join(sharedDir, 'fixtures');
  for (const name of readdirSync(fixtures)
    .filter((n) => n.endsWith('.json'))
    .sort()) {
    found.set(`fixtures/${name}`, JSON.parse(readFileSync(join(fixtures, name), 'utf8')));
  }
  const samples = join(projectRoot, 'samples');
  if (existsSync(samples)) {
    for (const name of readdirSync(samples, { recursive: true, encoding: 'utf8' }).sort()) {
      if (!name.endsWith('.json')) continue;
      const parsed = JSON.parse(readFileSync(join(samples, name), 'utf8'));
      if (parsed?.kind === 'AdmissionReview') found.set(`samples/${name}`, parsed);
    }
  }
  return found;
}

describe('standalone HTTPS server', () => {
  const certs = temporaryDirectory('standalone');
  let server: RunningEntry;
  let ca: string;

  before(async () => {
    server = await startEntry(STANDALONE, { ...env, DEV_CERTS_DIR: certs.dir }, STANDALONE_URL, 'stdout');
    ca = readFileSync(join(certs.dir, 'ca.crt'), 'utf8');
  });
  after(async () => {
    await server?.stop();
    certs.remove();
  });

  it('announces every function, the certificate and a curl command that works as printed', async () => {
    const out = server.stdout();
    for (const name of [...functions.keys(), 'chain']) {
      assert.match(out, new RegExp(`POST ${server.url}/${name}\\b`));
    }
    assert.match(out, /made now: CA, serving certificate/);
    assert.ok(out.includes(join(certs.dir, 'ca.crt')), out);
    const command = out.match(/^ {2}(curl .*)$/m)?.[1];
    assert.ok(command, `no curl command in:\n${out}`);
    assert.match(
      command,
      /--cacert \S+ca\.crt -H 'Content-Type: application\/json' --data-binary @\S+ https:\/\//,
    );
    // Outside a checkout with samples or ../shared, the placeholder stands for the fixture.
    const sample = join(sharedDir, 'fixtures', 'knative-pod-netease-annotations.v1.json');
    const runnable = command.replace('@<AdmissionReview.json>', `@${sample}`);
    const { stdout } = await promisify(execFile)('bash', ['-c', `${runnable} --silent --show-error`], {
      cwd: projectRoot,
    });
    const reply = JSON.parse(stdout);
    const sent = JSON.parse(
      readFileSync(resolve(projectRoot, /@(\S+)/.exec(runnable)?.[1] as string), 'utf8'),
    );
    const [verdict] = await apiserverVerdicts([{ request: sent, reply }]);
    assert.equal(verdict?.accepted, true, JSON.stringify(verdict));
  });

  it('answers every fixture and sample on every path exactly as the function does, and the apiserver accepts each reply', async () => {
    const { routes, unconfigured } = loadRoutes(env);
    assert.deepEqual([...routes.keys()], [...functions.keys(), 'chain']);
    assert.deepEqual(unconfigured, []);
    const sent = reviews();
    assert.ok(sent.size >= 4, 'the shared fixtures are missing');
    const judgements: { request: Json; reply: Json }[] = [];
    let patched = 0;
    for (const [file, review] of sent) {
      for (const [name, target] of routes) {
        const reply = await postReview(`${server.url}/${name}`, review, ca);
        assert.equal(reply.status, 200, `${name} ${file}: ${reply.text}`);
        assert.match(String(reply.headers['content-type']), /^application\/json/);
        if (reply.json.response.patch) patched++;
        judgements.push({ request: review, reply: reply.json });
        assert.deepEqual(reply.json, answerBody(target, review).body, `${name} ${file}`);
      }
    }
    assert.ok(patched >= sent.size, 'too few replies carry a patch to show anything');
    const verdicts = await apiserverVerdicts(judgements);
    verdicts.forEach((verdict, index) => {
      assert.equal(verdict.accepted, true, `reply ${index}: ${JSON.stringify(verdict)}`);
    });
  });

  it('presents a certificate only its CA vouches for, for the loopback names', async () => {
    const port = new URL(server.url).port;
    for (const host of ['localhost', '127.0.0.1']) {
      const reply = await call(`https://${host}:${port}/healthz`, { ca });
      assert.equal(reply.status, 200);
      assert.deepEqual(reply.json, { code: 200, message: 'ok' });
    }
    assert.equal((await call(`https://127.0.0.1:${port}/readyz`, { ca })).status, 200);
    // Another name on the same address: the hostname check refuses it.
    await assert.rejects(
      call(`https://127.0.0.1:${port}/healthz`, { ca, servername: 'webhook.example.com' }),
      {
        code: 'ERR_TLS_CERT_ALTNAME_INVALID',
      },
    );
    // The system's trust store does not know the development CA.
    await assert.rejects(call(`https://127.0.0.1:${port}/healthz`), (error: NodeJS.ErrnoException) =>
      /SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER/.test(error.code ?? ''),
    );
  });

  it('speaks TLS 1.2 and 1.3 only', async () => {
    const port = Number(new URL(server.url).port);
    const handshake = (options: ConnectionOptions) =>
      new Promise<string>((resolve, reject) => {
        const socket = connect({ host: '127.0.0.1', port, ca, servername: 'localhost', ...options }, () => {
          resolve(String(socket.getProtocol()));
          socket.end();
        });
        socket.on('error', reject);
      });
    assert.equal(await handshake({}), 'TLSv1.3');
    assert.equal(await handshake({ maxVersion: 'TLSv1.2' }), 'TLSv1.2');
    // A client willing to speak TLS 1.1 (security level 0 lets OpenSSL offer it) is refused
    // by the server's alert, not by its own configuration.
    await assert.rejects(
      handshake({ minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' }),
      { code: 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION' },
    );
  });
});

describe('npm start without FUNCTION', () => {
  const certs = temporaryDirectory('start');
  after(() => certs.remove());

  it('starts the standalone server, leaving out what needs configuration, and stops on SIGTERM', async () => {
    const server = await startEntry(
      'runtimes/start.ts',
      { PORT: '0', DEV_CERTS_DIR: certs.dir },
      STANDALONE_URL,
      'stdout',
    );
    try {
      assert.match(
        server.stdout(),
        /not served, needs configuration: sidecar-injection: invalid configuration: SIDECAR_TEMPLATE_FILE: /,
      );
      assert.doesNotMatch(server.stdout(), /POST \S+\/sidecar-injection/);
      const ca = readFileSync(join(certs.dir, 'ca.crt'), 'utf8');
      const review = JSON.parse(
        readFileSync(join(sharedDir, 'fixtures', 'knative-pod-netease-annotations.v1.json'), 'utf8'),
      );
      assert.equal((await postReview(`${server.url}/node-selector`, review, ca)).status, 200);
    } finally {
      assert.deepEqual(await server.stop(), { code: 0, signal: null });
    }
  });
});
