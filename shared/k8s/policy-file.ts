// Reading a policy file (the volume policy, the node-selector policy): a mounted ConfigMap in
// YAML or JSON, read once at start. Every problem is an Error naming the file, and for what is
// in it the field (their schemas refuse unknown fields with known-fields.ts), so that loadConfig
// can add the variable in front: VOLUME_POLICY_FILE: /etc/policy.yaml: rules[0].namespaces: …
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type * as z from 'zod';
import { describeIssues } from '../field-path.ts';

/** `value` checked by `schema`, an empty file (null) being the default policy; throws naming the field. */
export function policyFrom<Schema extends z.ZodType>(schema: Schema, value: unknown): z.output<Schema> {
  const result = schema.safeParse(value ?? {});
  if (!result.success) throw new Error(describeIssues(result.error.issues));
  return result.data;
}

/** Reads `file`, parses it as YAML (JSON included) and hands it to `check`; a problem names the file. */
export function loadPolicyFile<T>(file: string, check: (value: unknown) => T): T {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new Error(`${file}: cannot read: ${(error as Error).message}`);
  }
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (error) {
    throw new Error(`${file}: not valid YAML or JSON: ${(error as Error).message}`);
  }
  try {
    return check(value);
  } catch (error) {
    throw new Error(`${file}: ${(error as Error).message}`);
  }
}
