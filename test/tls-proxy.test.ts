// The TLS-terminating Service for real: Debian's nginx runs the shipped nginx.conf (rendered
// from the same options as deploy/nginx.conf, with only addresses and paths substituted) in
// front of the functions running under faas-js-runtime as in their Knative pods (`npm start`
// with FUNCTION), and a client that trusts only the test CA, checking the name the apiserver
// checks, sends the shared fixtures through it.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect, type PeerCertificate } from 'node:tls';
import { functions } from '../functions/index.ts';
import { renderNginxConf } from '../scripts/manifests/nginx-conf.ts';
import { deployedNginxOptions } from '../scripts/manifests/render.ts';
import {
  defaultSettings,
  knativeHost,
  MAX_REVIEW_BYTES,
  TLS_PROXY,
  tlsProxyDnsNames,
  WEBHOOK_TIMEOUT_SECONDS,
} from '../scripts/manifests/settings.ts';
import { renderTlsReload } from '../scripts/manifests/tls-reload.ts';
import { apiserverVerdicts, type Judgement, projectRoot } from './support/apiserver.ts';
import { type RunningNginx, startNginx } from './support/nginx.ts';
import { type Running, startServer } from './support/process.ts';
import { answer, edited, type Json, sample, sharedFixture } from './support/reviews.ts';
import { type SecretVolume, secretVolume } from './support/secret-volume.ts';
import { makeTestCertificates, type TestCertificates } from './support/test-certs.ts';

const FIXTURES = [
  'knative-pod-netease-annotations.v1.json',
  'knative-pod-netease-annotations.v1beta1.json',
  'knative-pod-netease-annotations.dryrun.v1.json',
  'plain-pod-no-labels.v1.json',
];
/** Configuration as a platform team would set it on the Knative services, so the functions have work. */
const ENV: Record<string, Record<string, string>> = {
  'label-stamping': { STAMP_LABELS: 'team=platform' },
  // The fixtures inject hostPath /usr/local/nagent4docker, which the sample policy allows.
  'volume-extension': {
    VOLUME_POLICY_FILE: join(projectRoot, 'test', 'support', 'policies', 'untyped-hostpath.yaml'),
  },
  'sidecar-injection': {
    SIDECAR_TEMPLATE_FILE: join(projectRoot, 'samples', 'sidecar-injection', 'template.yaml'),
  },
};
/** The name the apiserver connects to and verifies: <service>.<namespace>.svc. */
const SERVICE_NAME = `${TLS_PROXY}.${defaultSettings.namespace}.svc`;
const QUERY = `?timeout=${WEBHOOK_TIMEOUT_SECONDS}s`;

const LISTENING = /faas-js-runtime listening on port (\d+)/;

/** One function as its Knative pod runs it: `npm start`'s entry with FUNCTION, on a free port. */
function startFunction(name: string): Promise<Running> {
  const env = { FUNCTION: name, FUNC_PORT: '0', FUNC_LOG_LEVEL: 'info', ...ENV[name] };
  return startServer(process.execPath, [join(projectRoot, 'runtimes', 'start.ts')], env, LISTENING);
}

/** The requests a function logged (faas-js-runtime logs each at level info): Host and URL. */
function requestsSeen(server: Running): { hostname: string; url: string }[] {
  return server
    .output()
    .split('\n')
    .filter((line) => line.includes('"incoming request"'))
    .map((line) => JSON.parse(line).req);
}

interface Reply {
  status: number;
  contentType: string | undefined;
  text: string;
  json: () => Json;
}

/** A certificate pair as the keys of a kubernetes.io/tls Secret. */
function pairFiles(certs: TestCertificates): Record<string, string> {
  return {
    'tls.crt': readFileSync(certs.certificateFile, 'utf8'),
    'tls.key': readFileSync(certs.keyFile, 'utf8'),
  };
}

describe('TLS-terminating nginx in front of the functions', () => {
  const dir = mkdtempSync(join(tmpdir(), 'faas-admission-nginx-'));
  const upstreams = new Map<string, Running>();
  let certs: TestCertificates;
  let nginx: RunningNginx;
  let agent: Agent;
  let shipped: string;
  let tested: string;
  /** The Secret volume nginx reads its certificate from, as the kubelet keeps it. */
  let volume: SecretVolume;

  function post(path: string, body: string | Buffer, ca = certs.caPem): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: nginx.port,
          servername: SERVICE_NAME,
          ca,
          agent: ca === certs.caPem ? agent : false,
          method: 'POST',
          path,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        },
        async (res) => {
          let text = '';
          for await (const chunk of res) text += chunk;
          const status = res.statusCode ?? 0;
          resolve({ status, contentType: res.headers['content-type'], text, json: () => JSON.parse(text) });
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  /** The certificate nginx presents on a new connection to a client trusting `ca`. */
  function presented(ca: string): Promise<PeerCertificate> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port: nginx.port, servername: SERVICE_NAME, ca }, () => {
        resolve(socket.getPeerCertificate());
        socket.end();
      });
      socket.on('error', reject);
    });
  }

  before(async () => {
    const started = await Promise.all([...functions.keys()].map(startFunction));
    for (const [i, name] of [...functions.keys()].entries()) upstreams.set(name, started[i] as Running);
    certs = makeTestCertificates(dir, tlsProxyDnsNames(defaultSettings));
    volume = secretVolume(join(dir, 'tls'));
    volume.project(pairFiles(certs));
    const certificate = join(volume.dir, 'tls.crt');
    const certificateKey = join(volume.dir, 'tls.key');
    const options = deployedNginxOptions([...functions.values()], defaultSettings);
    shipped = renderNginxConf(options);
    // nginx runs through the shipped entry script, as in the pod.
    const script = join(dir, 'tls-reload.sh');
    writeFileSync(script, readFileSync(join(projectRoot, 'deploy', 'tls-reload.sh'), 'utf8'));
    const via = {
      script,
      env: { CERT_FILE: certificate, KEY_FILE: certificateKey, RELOAD_INTERVAL: '1' },
    };
    nginx = await startNginx(
      dir,
      (listen, runDir) => {
        tested = renderNginxConf({
          ...options,
          listen: [listen],
          certificate,
          certificateKey,
          runDir,
          // Never asked: the upstreams below are IP addresses. Kept so the files line up.
          resolver: '127.0.0.1',
          accessLog: join(runDir, 'access.log'),
          routes: options.routes.map((r) => ({ ...r, upstream: `127.0.0.1:${upstreams.get(r.name)?.port}` })),
        });
        return tested;
      },
      via,
    );
    agent = new Agent({ keepAlive: true, maxSockets: 4 });
  });

  after(async () => {
    agent?.destroy();
    await nginx?.stop();
    await Promise.all([...upstreams.values()].map((server) => server.stop()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs the shipped configuration: only addresses and file paths differ', () => {
    const a = shipped.split('\n');
    const b = tested.split('\n');
    assert.equal(a.length, b.length);
    const substituted =
      /^\s*(listen|pid|resolver|access_log|default|ssl_certificate(_key)?|set \$upstream|(client_body|proxy|fastcgi|uwsgi|scgi)_temp_path)\s/;
    const differing = a.flatMap((line, i) => (line === b[i] ? [] : [`${line}  ->  ${b[i]}`]));
    assert.ok(differing.length > 0);
    assert.deepEqual(
      differing.filter((d) => !substituted.test(d)),
      [],
      'the tested nginx.conf differs from the shipped one beyond addresses and paths',
    );
  });

  it('answers every shared fixture for every function exactly as the function does, accepted by the apiserver', async () => {
    const judgements: Judgement[] = [];
    for (const name of functions.keys()) {
      for (const fixture of FIXTURES) {
        const reviewed = sharedFixture(fixture);
        const reply = await post(`/${name}${QUERY}`, JSON.stringify(reviewed));
        assert.equal(reply.status, 200, `${name} ${fixture}: ${reply.text}`);
        assert.match(reply.contentType ?? '', /^application\/json/);
        assert.deepEqual(reply.json(), answer(name, reviewed, ENV[name]), `${name} ${fixture}`);
        judgements.push({ request: reviewed, reply: reply.json() });
      }
    }
    const verdicts = await apiserverVerdicts(judgements);
    verdicts.forEach((verdict, i) => {
      assert.ok(
        verdict.accepted,
        `reply ${i} refused by the apiserver: ${!verdict.accepted && verdict.error}`,
      );
    });
    // The Knative pod gets its volume, its node selector and its label: every function patched.
    const [volumes, nodeSelector, labels] = [0, FIXTURES.length, 2 * FIXTURES.length].map((i) => verdicts[i]);
    assert.ok(volumes?.accepted && volumes.allowed);
    assert.ok(volumes.object.spec && JSON.stringify(volumes.object).includes('/usr/local/nagent4docker'));
    assert.ok(nodeSelector?.accepted && nodeSelector.allowed);
    assert.ok((nodeSelector.object as Json).spec.nodeSelector);
    assert.ok(labels?.accepted && labels.allowed);
    assert.equal((labels.object as Json).metadata.labels.team, 'platform');
  });

  it("forwards to '/' with Knative's Host header and the apiserver's ?timeout= query", async () => {
    for (const [name, server] of upstreams) {
      // A function's log lines reach this process a moment after its answer: wait for them.
      for (let i = 0; i < 100 && requestsSeen(server).length < FIXTURES.length; i++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const seen = requestsSeen(server);
      assert.ok(seen.length >= FIXTURES.length, `${name} logged ${seen.length} requests`);
      for (const request of seen) {
        assert.equal(request.hostname, knativeHost(name, defaultSettings));
        assert.equal(request.url, `/${QUERY}`);
      }
    }
  });

  it("passes the webhook entry's path to the function: sidecar-injection injects on its namespace entry only", async () => {
    const pod = sample('sidecar-injection/pod.json');
    const env = ENV['sidecar-injection'];
    const onNamespace = await post(`/sidecar-injection/namespace${QUERY}`, JSON.stringify(pod));
    assert.equal(onNamespace.status, 200, onNamespace.text);
    const expected = answer('sidecar-injection', pod, env, { path: '/sidecar-injection/namespace' });
    assert.ok(expected.response.patch, 'injected on the namespace entry');
    assert.deepEqual(onNamespace.json(), expected);
    // The pod entry sends only pods annotated "true": this one did not opt in.
    const onPod = await post(`/sidecar-injection/pod${QUERY}`, JSON.stringify(pod));
    assert.equal(onPod.status, 200, onPod.text);
    assert.equal(onPod.json().response.allowed, true);
    assert.equal(onPod.json().response.patch, undefined);
    const [verdict] = await apiserverVerdicts([{ request: pod, reply: onNamespace.json() }]);
    assert.ok(verdict?.accepted && verdict.allowed);
    // Nothing deeper than one entry is a route.
    assert.equal((await post(`/sidecar-injection/namespace/x${QUERY}`, JSON.stringify(pod))).status, 404);
  });

  it('passes a 3 MiB review and refuses one over the limit with 413', async () => {
    const big = edited(sharedFixture('knative-pod-netease-annotations.v1.json'), (pod) => {
      pod.metadata.annotations['example.com/padding'] = 'x'.repeat(3 * 1024 * 1024);
    });
    const body = JSON.stringify(big);
    assert.ok(body.length >= 3 * 1024 * 1024);
    const reply = await post(`/volume-extension${QUERY}`, body);
    assert.equal(reply.status, 200, reply.text);
    assert.deepEqual(reply.json(), answer('volume-extension', big, ENV['volume-extension']));
    const [verdict] = await apiserverVerdicts([{ request: big, reply: reply.json() }]);
    assert.ok(verdict?.accepted && verdict.allowed, JSON.stringify(verdict).slice(0, 300));

    const tooBig = await post(`/volume-extension${QUERY}`, Buffer.alloc(MAX_REVIEW_BYTES + 1, 'x'));
    assert.equal(tooBig.status, 413);
  });

  it('speaks TLS 1.2 and 1.3 and refuses TLS 1.1 with a protocol alert', async () => {
    const handshake = (version: 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3') =>
      new Promise<string>((resolve, reject) => {
        const socket = connect(
          {
            host: '127.0.0.1',
            port: nginx.port,
            servername: SERVICE_NAME,
            ca: certs.caPem,
            minVersion: version,
            maxVersion: version,
            // OpenSSL 3 will not offer TLS 1.1 at its default security level: the refusal must be nginx's.
            ciphers: 'DEFAULT:@SECLEVEL=0',
          },
          () => {
            resolve(String(socket.getProtocol()));
            socket.end();
          },
        );
        socket.on('error', reject);
      });
    assert.equal(await handshake('TLSv1.2'), 'TLSv1.2');
    assert.equal(await handshake('TLSv1.3'), 'TLSv1.3');
    await assert.rejects(handshake('TLSv1.1'), { code: 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION' });
  });

  it('is trusted only through the CA, and only under the Service names', async () => {
    await assert.rejects(
      post(`/volume-extension${QUERY}`, '{}', readFileSync(certs.certificateFile, 'utf8')),
      {
        code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
      },
    );
    const wrongName = new Promise((resolve, reject) => {
      const socket = connect({
        host: '127.0.0.1',
        port: nginx.port,
        servername: 'other.example',
        ca: certs.caPem,
      });
      socket.on('secureConnect', () => resolve(socket.end()));
      socket.on('error', reject);
    });
    await assert.rejects(wrongName, { code: 'ERR_TLS_CERT_ALTNAME_INVALID' });
  });

  it('ships the entry script it runs', () => {
    assert.equal(
      readFileSync(join(projectRoot, 'deploy', 'tls-reload.sh'), 'utf8'),
      renderTlsReload('/etc/nginx/tls/tls.crt', '/etc/nginx/tls/tls.key'),
    );
  });

  it('reloads a renewed Secret under traffic, no request failed; a pair that does not load is not served', async () => {
    const before = await presented(certs.caPem);
    const renewed = makeTestCertificates(dir, tlsProxyDnsNames(defaultSettings), 'renewed');
    // The apiserver trusts both CAs while the certificate changes (the caBundle holds both).
    const bothCas = `${certs.caPem}${renewed.caPem}`;
    const body = JSON.stringify(sharedFixture('plain-pod-no-labels.v1.json'));
    const failures: string[] = [];
    let sent = 0;
    let stop = false;
    const serials = new Set<string>();
    // Each request on a new connection, so each handshake sees the certificate of that moment.
    const worker = async () => {
      while (!stop) {
        sent++;
        try {
          const reply = await post(`/node-selector${QUERY}`, body, bothCas);
          if (reply.status !== 200) failures.push(`${reply.status} ${reply.text.slice(0, 200)}`);
        } catch (error) {
          failures.push((error as Error).message);
        }
      }
    };
    const workers = Array.from({ length: 4 }, worker);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    volume.project(pairFiles(renewed));
    let served = before;
    for (let i = 0; i < 300 && served.serialNumber === before.serialNumber; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      served = await presented(bothCas);
      serials.add(served.serialNumber);
    }
    // Keep the traffic up while the old workers finish.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    stop = true;
    await Promise.all(workers);
    assert.deepEqual(failures, [], `${failures.length} of ${sent} requests failed`);
    assert.ok(sent > 20, `only ${sent} requests sent`);
    assert.equal(
      served.fingerprint256,
      new X509Certificate(readFileSync(renewed.certificateFile)).fingerprint256,
    );
    assert.match(nginx.stderr(), /tls-reload: certificate changed: nginx reloaded/);

    // The key of another certificate: nginx -t refuses it, the renewed pair keeps serving.
    const other = makeTestCertificates(dir, tlsProxyDnsNames(defaultSettings), 'other');
    volume.project({
      'tls.crt': readFileSync(other.certificateFile, 'utf8'),
      'tls.key': readFileSync(renewed.keyFile, 'utf8'),
    });
    for (let i = 0; i < 100 && !/do not load/.test(nginx.stderr()); i++)
      await new Promise((resolve) => setTimeout(resolve, 50));
    assert.match(nginx.stderr(), /tls-reload: .*tls\.crt and .*tls\.key changed but do not load/);
    assert.equal((await presented(renewed.caPem)).serialNumber, served.serialNumber);
    volume.project(pairFiles(renewed));

    certs = renewed;
    agent.destroy();
    agent = new Agent({ keepAlive: true, maxSockets: 4 });
    const reply = await post(`/node-selector${QUERY}`, body);
    assert.equal(reply.status, 200);
    assert.doesNotMatch(nginx.stderr(), /\[(crit|alert)\]/);
  });

  it('answers health checks, and wrong methods and paths with a Status', async () => {
    const health = await new Promise<number>((resolve, reject) => {
      request(
        { host: '127.0.0.1', port: nginx.port, servername: SERVICE_NAME, ca: certs.caPem, path: '/healthz' },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      )
        .on('error', reject)
        .end();
    });
    assert.equal(health, 200);
    const missing = await post('/no-such-function', '{}');
    assert.equal(missing.status, 404);
    assert.equal(missing.json().kind, 'Status');
    assert.match(missing.json().message, /\/volume-extension, \/node-selector, \/label-stamping/);
  });

  it('answers 504 naming the function when it does not answer in time', async () => {
    const stuck = upstreams.get('node-selector')?.child.pid;
    assert.ok(stuck);
    process.kill(stuck, 'SIGSTOP'); // a hung function: the connection is accepted, nothing answers
    try {
      const reply = await post(`/node-selector${QUERY}`, '{}');
      assert.equal(reply.status, 504);
      assert.deepEqual(reply.json(), {
        kind: 'Status',
        apiVersion: 'v1',
        status: 'Failure',
        reason: 'Timeout',
        code: 504,
        message: 'faas-admission: function node-selector did not answer within 3s',
      });
    } finally {
      process.kill(stuck, 'SIGCONT');
    }
  });

  it('answers 502 naming the function when it cannot be reached', async () => {
    await upstreams.get('label-stamping')?.stop();
    const reply = await post(`/label-stamping${QUERY}`, '{}');
    assert.equal(reply.status, 502);
    assert.equal(reply.json().message, 'faas-admission: function label-stamping could not be reached');
  });
});
