// Writes functions/<name>/func.yaml for every function in the registry, from the top-level
// func.yaml, so that each can be deployed with `func deploy --path functions/<name>`.
//
//   npm run func-yaml            write the files
//   npm run func-yaml -- --check exit 1 if one is missing or out of date (the tests run this)
//
// The top-level file owns the build, the runtime variables, scaling, resources and probes; a
// function's file keeps whatever else it holds (its own configuration variables, and what
// `func deploy` records: image, namespace), so regenerating never loses a deployment's settings.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepStrictEqual, parseArgs } from 'node:util';
import YAML from 'yaml';
import { functions } from '../functions/index.ts';

// biome-ignore lint/suspicious/noExplicitAny: func.yaml is checked against its schema in the tests
export type FuncYaml = Record<string, any>;
interface Env {
  name: string;
  value?: string;
}

const OWNED_KEYS = ['specVersion', 'runtime', 'created', 'invoke', 'build'] as const;
const OWNED_DEPLOY_KEYS = ['labels', 'options', 'healthEndpoints'] as const;

// From the sources (scripts/) or from an installed package's compiled copy (dist/scripts/).
export const projectRoot = join(
  import.meta.dirname,
  existsSync(join(import.meta.dirname, '..', 'package.json')) ? '..' : '../..',
);
export const templatePath = join(projectRoot, 'func.yaml');
export function funcYamlPath(name: string): string {
  return join(projectRoot, 'functions', name, 'func.yaml');
}

/** `name`'s func.yaml: the template's settings over `existing` (the file as it is now). */
export function renderFuncYaml(template: FuncYaml, name: string, existing: FuncYaml = {}): FuncYaml {
  const out: FuncYaml = { ...structuredClone(existing), name };
  for (const key of OWNED_KEYS) out[key] = structuredClone(template[key]);
  const owned: Env[] = (template.run?.envs ?? []).map((env: Env) =>
    env.name === 'FUNCTION' ? { name: 'FUNCTION', value: name } : { ...env },
  );
  const ownedNames = new Set(owned.map((env) => env.name));
  const kept = ((existing.run?.envs ?? []) as Env[]).filter((env) => !ownedNames.has(env.name));
  out.run = { ...out.run, envs: [...owned, ...kept] };
  out.deploy = { ...out.deploy };
  for (const key of OWNED_DEPLOY_KEYS) out.deploy[key] = structuredClone(template.deploy?.[key]);
  return ordered(out, template);
}

/** Keys in the template's order, then the rest; undefined values dropped. */
function ordered(doc: FuncYaml, template: FuncYaml): FuncYaml {
  const keys = [...new Set([...Object.keys(template), ...Object.keys(doc)])];
  const out: FuncYaml = {};
  for (const key of keys) {
    const value = doc[key];
    if (value === undefined) continue;
    const plain = value !== null && typeof value === 'object' && !Array.isArray(value);
    out[key] = plain && template[key] ? ordered(value, template[key]) : value;
  }
  return out;
}

export function readYaml(path: string): FuncYaml {
  return YAML.parse(readFileSync(path, 'utf8')) as FuncYaml;
}

const header = (name: string) =>
  `# ${name}: generated from ../../func.yaml by \`npm run func-yaml\` (edit that file, or add this\n` +
  `# function's own variables under run.envs here). Deploy: see docs/knative.md.\n`;

/** Every function's file as it should be, with whether it is so already. */
export function funcYamlStatus(): { name: string; path: string; wanted: FuncYaml; current: boolean }[] {
  const template = readYaml(templatePath);
  return [...functions.keys()].map((name) => {
    const path = funcYamlPath(name);
    const existing = existsSync(path) ? readYaml(path) : undefined;
    const wanted = renderFuncYaml(template, name, existing);
    return { name, path, wanted, current: existing !== undefined && isDeepStrictEqual(existing, wanted) };
  });
}

function main(): void {
  const { values } = parseArgs({ options: { check: { type: 'boolean' } } });
  const stale = funcYamlStatus().filter((file) => !file.current);
  if (values.check) {
    for (const file of stale) process.stderr.write(`${file.path} is out of date: run npm run func-yaml\n`);
    process.exitCode = stale.length > 0 ? 1 : 0;
    return;
  }
  for (const file of stale) {
    writeFileSync(file.path, header(file.name) + YAML.stringify(file.wanted));
    process.stdout.write(`wrote ${file.path}\n`);
  }
}

if (import.meta.main) main();
