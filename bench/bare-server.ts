// The floor: a bare Node HTTPS server that reads the body, parses the review and answers
// `allowed: true` without a patch. Nothing a webhook does can cost less on Node, so every
// target's req/s is reported as a ratio to this one, measured in the same run.
//
// With FUNCTION set it answers with that function through handleReview instead: the core
// with no runtime around it, which splits a runtime's cost from the core's.
//
//   PORT=8443 TLS_CERT_FILE=tls.crt TLS_KEY_FILE=tls.key [FUNCTION=volume-extension] node bench/bare-server.ts
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { functionNamed } from '../functions/index.ts';
import { loadConfig } from '../shared/config.ts';
import { type HttpAnswer, handleReview } from '../shared/handle.ts';

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} must be set`);
  return value;
}

function floorAnswer(text: string): HttpAnswer {
  const review = JSON.parse(text);
  return {
    status: 200,
    body: {
      apiVersion: review.apiVersion,
      kind: 'AdmissionReview',
      response: { uid: review.request.uid, allowed: true },
    },
  };
}

function coreAnswer(name: string): (text: string) => HttpAnswer {
  const mutation = functionNamed(name);
  const fn = { mutation, config: loadConfig(mutation) };
  return (text) => handleReview(fn, text);
}

const answer = process.env.FUNCTION ? coreAnswer(process.env.FUNCTION) : floorAnswer;

const server = createServer(
  { cert: readFileSync(required('TLS_CERT_FILE')), key: readFileSync(required('TLS_KEY_FILE')) },
  (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      let status = 400;
      let body: string;
      try {
        const answered = answer(Buffer.concat(chunks).toString('utf8'));
        status = answered.status;
        body = JSON.stringify(answered.body);
      } catch (error) {
        body = JSON.stringify({ code: 400, message: (error as Error).message });
      }
      res.writeHead(status, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
      });
      res.end(body);
    });
  },
);
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
