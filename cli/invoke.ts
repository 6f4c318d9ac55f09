// Invokes one function on a sample AdmissionReview, locally, with the configuration the
// deployed function would read from the same environment variables.
//
//   npm run --silent invoke -- <function> <request.json | -> [--explain]
//
// Prints exactly the AdmissionReview the function answers over HTTP (exit 0, denials too),
// or with --explain a reading of it for a person. Unreadable input: exit 2.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { functionNamed, functions } from '../functions/index.ts';
import { loadConfig } from '../shared/config.ts';
import { ConfigError, HttpError } from '../shared/errors.ts';
import { parseJsonBody } from '../shared/handle.ts';
import { parseAdmissionReview } from '../shared/review.ts';
import { review } from '../shared/runner.ts';
import { createLogger, useLogger } from '../shared/telemetry/log.ts';
import { explain } from './explain.ts';

const usage = `usage: npm run --silent invoke -- <function> <request.json | -> [--explain]
functions: ${[...functions.keys()].join(', ')}`;

function fail(message: string): never {
  process.stderr.write(`invoke: ${message}\n`);
  process.exit(2);
}

function main(): void {
  // The answer is the output; review log lines (stderr) only when asked for with LOG_LEVEL.
  if (!process.env.LOG_LEVEL) useLogger(createLogger({ level: 'silent' }));
  let parsed: ReturnType<
    typeof parseArgs<{
      options: { explain: { type: 'boolean' }; help: { type: 'boolean' } };
      allowPositionals: true;
    }>
  >;
  try {
    parsed = parseArgs({
      options: { explain: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
    });
  } catch (error) {
    fail(`${(error as Error).message}\n${usage}`);
  }
  if (parsed.values.help) {
    process.stdout.write(`${usage}\n`);
    return;
  }
  const [name, file, ...extra] = parsed.positionals;
  if (!name || !file || extra.length > 0) fail(usage);

  let mutation: ReturnType<typeof functionNamed>;
  let text: string;
  try {
    mutation = functionNamed(name);
    text = readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (error) {
    fail((error as Error).message);
  }
  try {
    const request = parseAdmissionReview(parseJsonBody(text));
    const reply = review({ mutation, config: loadConfig(mutation) }, request);
    process.stdout.write(
      parsed.values.explain ? explain(name, request, reply) : `${JSON.stringify(reply)}\n`,
    );
  } catch (error) {
    if (error instanceof HttpError) fail(`${file}: ${error.message}`);
    if (error instanceof ConfigError) fail(error.message);
    throw error;
  }
}

main();
