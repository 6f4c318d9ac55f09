// The floor: a bare Node HTTPS server that reads the body, parses the review and answers
// `allowed: true` without a patch. Nothing a webhook does can cost less on Node, so every
// target's req/s is reported as a ratio to this one, measured in the same run.
//
// With FUNCTION set it answers with that function through handleReview instead: the core
// with no runtime around it, which splits a runtime's cost from the core's. Without
// TLS_CERT_FILE and TLS_KEY_FILE it speaks plain HTTP (the floor of runtimes behind a proxy).
//
//   PORT=0 TLS_CERT_FILE=tls.crt TLS_KEY_FILE=tls.key [FUNCTION=volume-extension] node bench/bare-server.ts
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type RequestListener } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';

interface Answer {
  status: number;
  body: unknown;
}

function floorAnswer(text: string): Answer {
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

/** Imported only here, so that the floor loads nothing of the project. */
async function coreAnswer(name: string): Promise<(text: string) => Answer> {
  const [{ functionNamed }, { loadConfig }, { functionHandler }, { answerBody }] = await Promise.all([
    import('../functions/index.ts'),
    import('../shared/config.ts'),
    import('../shared/handler.ts'),
    import('../shared/http-answer.ts'),
  ]);
  const mutation = functionNamed(name);
  const fn = functionHandler({ mutation, config: loadConfig(mutation) });
  return (text) => answerBody(fn, text);
}

const answer = process.env.FUNCTION ? await coreAnswer(process.env.FUNCTION) : floorAnswer;

const listener: RequestListener = (req, res) => {
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
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
};

const { TLS_CERT_FILE: certFile, TLS_KEY_FILE: keyFile } = process.env;
const server =
  certFile && keyFile
    ? createHttpsServer({ cert: readFileSync(certFile), key: readFileSync(keyFile) }, listener)
    : createHttpServer(listener);
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  const address = server.address();
  if (typeof address === 'object' && address)
    process.stdout.write(`bare server listening on port ${address.port}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
