// What the serving layer says to requests that are not a review it can answer: each a JSON
// {code, message} with the right status, and the server keeps serving after every one.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect } from 'node:tls';
import { apiserverVerdict } from './support/apiserver.ts';
import { annotated, edited, type Json, sharedFixture } from './support/reviews.ts';
import {
  call,
  postReview,
  type Reply,
  type RunningEntry,
  STANDALONE,
  STANDALONE_URL,
  startEntry,
  temporaryDirectory,
} from './support/runtimes.ts';

const MiB = 1024 * 1024;
const LIMIT = 8 * MiB;
const pod = sharedFixture('knative-pod-netease-annotations.v1.json');

describe('serving limits', () => {
  const certs = temporaryDirectory('limits');
  let server: RunningEntry;
  let ca: string;
  const post = (path: string, body: string | Buffer, headers: Record<string, string | number> = {}) =>
    call(`${server.url}${path}`, {
      method: 'POST',
      body,
      headers: { 'Content-Type': 'application/json', ...headers },
      ca,
    });
  const assertError = (reply: Reply, status: number, message: RegExp) => {
    assert.equal(reply.status, status, reply.text);
    assert.match(String(reply.headers['content-type']), /^application\/json/);
    assert.equal(reply.json.code, status);
    assert.match(reply.json.message, message);
  };
  const assertStillServing = async () => {
    const reply = await postReview(`${server.url}/volume-extension`, pod, ca);
    assert.equal(reply.status, 200, reply.text);
    assert.equal(reply.json.response.uid, pod.request.uid);
  };

  before(async () => {
    server = await startEntry(STANDALONE, { PORT: '0', DEV_CERTS_DIR: certs.dir }, STANDALONE_URL, 'stdout');
    ca = readFileSync(join(certs.dir, 'ca.crt'), 'utf8');
  });
  after(async () => {
    await server?.stop();
    certs.remove();
  });

  it('404 for an unknown path, listing the functions', async () => {
    const reply = await post('/volume-extensions', JSON.stringify(pod));
    assertError(
      reply,
      404,
      /no function at \/volume-extensions: POST .* \/volume-extension, \/node-selector, \/label-stamping/,
    );
    await assertStillServing();
  });

  it('405 for a method a path does not answer, with Allow', async () => {
    const get = await call(`${server.url}/node-selector`, { ca });
    assertError(get, 405, /\/node-selector answers POST with an AdmissionReview, not GET/);
    assert.equal(get.headers.allow, 'POST');
    const postHealth = await post('/healthz', '{}');
    assertError(postHealth, 405, /answers GET/);
    assert.equal(postHealth.headers.allow, 'GET, HEAD');
  });

  it('415 unless the body is declared as JSON in UTF-8', async () => {
    const body = JSON.stringify(pod);
    const cases: [Record<string, string>, RegExp][] = [
      [{ 'Content-Type': '' }, /^no Content-Type: expected application\/json/],
      [
        { 'Content-Type': 'application/x-www-form-urlencoded' },
        /^Content-Type application\/x-www-form-urlencoded: expected application\/json/,
      ],
      [{ 'Content-Type': 'text/plain' }, /^Content-Type text\/plain: expected application\/json/],
      [
        { 'Content-Type': 'application/json; charset=iso-8859-1' },
        /JSON must be UTF-8, not charset iso-8859-1/,
      ],
    ];
    for (const [headers, message] of cases)
      assertError(await post('/node-selector', body, headers), 415, message);
    const utf8 = await post('/node-selector', body, { 'Content-Type': 'Application/JSON; charset=UTF-8' });
    assert.equal(utf8.status, 200, utf8.text);
  });

  it('400 for a body that is not JSON, or not an AdmissionReview, naming the field', async () => {
    assertError(await post('/label-stamping', ''), 400, /empty body/);
    assertError(await post('/label-stamping', '{"apiVersion":'), 400, /body is not valid JSON/);
    const noUid = edited(pod, (_object, request) => {
      delete request.uid;
    });
    assertError(
      await post('/label-stamping', JSON.stringify(noUid)),
      400,
      /invalid AdmissionReview: request\.uid/,
    );
    await assertStillServing();
  });

  it('answers a review just under the body limit, and the apiserver accepts the reply', async () => {
    // A pod whose annotation makes the review 256 KiB short of the limit.
    const padding = LIMIT - Buffer.byteLength(JSON.stringify(pod)) - 256 * 1024;
    const large: Json = annotated(pod, { 'example.com/padding': 'x'.repeat(padding) });
    const reply = await postReview(`${server.url}/volume-extension`, large, ca);
    assert.equal(reply.status, 200, reply.text.slice(0, 500));
    const verdict = await apiserverVerdict(large, reply.json);
    assert.equal(verdict.accepted, true, JSON.stringify(verdict).slice(0, 500));
  });

  it('413 for a body over the limit, declared by Content-Length or streamed in chunks', async () => {
    const declared = await post('/volume-extension', Buffer.alloc(LIMIT + 1, 0x20));
    assertError(declared, 413, new RegExp(`body over the limit of ${LIMIT} bytes \\(BODY_LIMIT\\)`));
    assert.equal(declared.headers.connection, 'close');
    assertError(await streamChunked(9), 413, /body over the limit/);
    await assertStillServing();
  });

  /** POSTs `mebibytes` MiB of JSON whitespace in 64 KiB chunks, without a Content-Length. */
  function streamChunked(mebibytes: number): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const request = httpsRequest(
        `${server.url}/volume-extension`,
        { method: 'POST', ca, agent: false, headers: { 'Content-Type': 'application/json' } },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            resolve({
              status: response.statusCode ?? 0,
              headers: response.headers,
              text,
              json: JSON.parse(text),
            });
          });
        },
      );
      request.on('error', reject);
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      let sent = 0;
      const pump = () => {
        while (sent < mebibytes * 16) {
          sent++;
          if (!request.write(chunk)) return void request.once('drain', pump);
        }
        request.end();
      };
      pump();
    });
  }

  it('400 in JSON for a request that is not HTTP', async () => {
    const answer = await rawExchange(server.url, ca, 'HELLO /volume-extension\r\n\r\n');
    assert.match(answer, /^HTTP\/1\.1 400 Bad Request\r\n/);
    assert.match(answer, /\{"code":400,"message":"malformed HTTP request: /);
  });
});

describe('slow clients', () => {
  const certs = temporaryDirectory('slow');
  let server: RunningEntry;
  let ca: string;

  before(async () => {
    server = await startEntry(
      STANDALONE,
      { PORT: '0', DEV_CERTS_DIR: certs.dir, HEADERS_TIMEOUT_SECONDS: '0.5', REQUEST_TIMEOUT_SECONDS: '1' },
      STANDALONE_URL,
      'stdout',
    );
    ca = readFileSync(join(certs.dir, 'ca.crt'), 'utf8');
  });
  after(async () => {
    await server?.stop();
    certs.remove();
  });

  const timedOut =
    /^HTTP\/1\.1 408 Request Timeout\r\n[\s\S]*Connection: close\r\n\r\n\{"code":408,"message":"request not received in time: headers within 0\.5s, the whole request within 1s/;

  it('cuts off a client that stops in the middle of its headers with a 408', async () => {
    const answer = await rawExchange(
      server.url,
      ca,
      'POST /volume-extension HTTP/1.1\r\nHost: localhost\r\n',
    );
    assert.match(answer, timedOut);
  });

  it('cuts off a client that stops in the middle of its body with a 408, and serves the next one', async () => {
    const head =
      'POST /volume-extension HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n';
    const answer = await rawExchange(server.url, ca, `${head}{"apiVersion":`);
    assert.match(answer, timedOut);
    const reply = await postReview(`${server.url}/node-selector`, pod, ca);
    assert.equal(reply.status, 200, reply.text);
  });
});

/** Sends `text` over TLS and reads until the server closes the connection. */
function rawExchange(url: string, ca: string, text: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port), ca, servername: 'localhost' }, () =>
      socket.write(text),
    );
    let answer = '';
    socket.setEncoding('utf8');
    socket.on('data', (data: string) => {
      answer += data;
    });
    socket.on('close', () => resolve(answer));
    socket.on('error', reject);
  });
}
