// Upstream Kubernetes JSON schemas from ../shared/schemas (strict: unknown fields are
// errors), to check that what a function writes is a well-formed object of its kind.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { sharedDir } from './apiserver.ts';

const ajv = new Ajv({ strict: false, validateSchema: false, allErrors: true });
const validators = new Map<string, ValidateFunction>();

function validator(file: string): ValidateFunction {
  let validate = validators.get(file);
  if (!validate) {
    const schema = JSON.parse(readFileSync(join(sharedDir, 'schemas', 'kubernetes', file), 'utf8'));
    delete schema.$schema;
    validate = ajv.compile(schema);
    validators.set(file, validate);
  }
  return validate;
}

/** Asserts `object` is valid against the upstream schema in `file` (e.g. pod-v1.json). */
export function assertSchemaValid(file: string, object: unknown, what = file): void {
  const validate = validator(file);
  if (validate(object)) return;
  const problems = (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`).slice(0, 5);
  assert.fail(`${what} does not match ${file}: ${problems.join('; ')}`);
}
