// What OpenFaaS builds and deploys, checked without a Docker engine: the Dockerfile's shape,
// the compiled image contents started as its CMD starts them, and stack.yml field by field
// (faas-cli ignores keys it does not know, so a typo would pass silently).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, symlinkSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { functions } from '../functions/index.ts';
import { openFaasSettings } from '../runtimes/openfaas.ts';
import { chainSettings } from '../runtimes/routes.ts';
import { bundle } from '../scripts/bundle.ts';
import { describeConfig, describeEnvConfig } from '../shared/config.ts';
import { apiserverVerdict, projectRoot } from './support/apiserver.ts';
import { type Json, sharedFixture } from './support/reviews.ts';
import { call, postReview, type RunningEntry, startEntry, temporaryDirectory } from './support/runtimes.ts';

interface Instruction {
  keyword: string;
  args: string;
}

/** The Dockerfile's instructions, stage by stage (comments dropped, continuations joined). */
function dockerfileStages(text: string): Instruction[][] {
  const stages: Instruction[][] = [];
  const logical = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  for (const line of logical) {
    const [keyword = '', ...rest] = line.split(/\s+/);
    const instruction = { keyword: keyword.toUpperCase(), args: rest.join(' ') };
    if (instruction.keyword === 'FROM') stages.push([]);
    stages.at(-1)?.push(instruction);
  }
  return stages;
}

const dockerfile = readFileSync(join(projectRoot, 'Dockerfile'), 'utf8');
const stages = dockerfileStages(dockerfile);
const final = stages.at(-1) ?? [];
const cmd: string[] = JSON.parse(final.find((i) => i.keyword === 'CMD')?.args ?? '[]');

describe('Dockerfile', () => {
  it('builds in stages from node:24-slim', () => {
    assert.ok(stages.length >= 2, 'a multi-stage build');
    for (const stage of stages) assert.match(stage[0]?.args ?? '', /^node:24-slim( AS \S+)?$/);
  });

  it('compiles with the locked dependencies, and ships production dependencies only', () => {
    const runs = (stage: Instruction[]) => stage.filter((i) => i.keyword === 'RUN').map((i) => i.args);
    const stageNamed = (name: string) => stages.find((s) => s[0]?.args.endsWith(` AS ${name}`)) ?? [];
    const copiesFrom = final.filter((i) => i.keyword === 'COPY' && i.args.startsWith('--from='));
    const modules = copiesFrom.find((i) => / \.\/node_modules$/.test(i.args));
    const dist = copiesFrom.find((i) => / \.\/dist$/.test(i.args));
    assert.ok(modules && dist, 'the final stage copies node_modules and dist from the others');
    const modulesStage = stageNamed(/--from=(\S+)/.exec(modules.args)?.[1] ?? '');
    const distStage = stageNamed(/--from=(\S+)/.exec(dist.args)?.[1] ?? '');
    assert.ok(
      runs(modulesStage).some((r) => /^npm ci .*--omit=dev/.test(r)),
      'node_modules: npm ci --omit=dev',
    );
    assert.ok(
      runs(distStage).some((r) => /^npm ci\b/.test(r)),
      'the build stage installs with npm ci',
    );
    assert.ok(runs(distStage).includes('npm run build'));
    const installs = runs(final).filter((r) => /\b(npm|npx|yarn|pnpm|apt-get|apt|dpkg|curl|wget)\b/.test(r));
    assert.deepEqual(installs, [], 'nothing is installed in the final stage');
  });

  it('copies sources that exist and that .dockerignore lets through', () => {
    const ignored = readFileSync(join(projectRoot, '.dockerignore'), 'utf8')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line && !line.startsWith('#'));
    for (const stage of stages) {
      for (const copy of stage.filter((i) => i.keyword === 'COPY' && !i.args.startsWith('--from='))) {
        for (const source of copy.args.split(/\s+/).slice(0, -1)) {
          assert.ok(existsSync(join(projectRoot, source)), `COPY ${source}: not in the project`);
          assert.ok(!ignored.includes(source), `COPY ${source}: excluded by .dockerignore`);
        }
      }
    }
  });

  it('runs as a non-root user given by number, serves 8080, and leaves probing to OpenFaaS', () => {
    const user = final.filter((i) => i.keyword === 'USER').at(-1)?.args ?? 'root';
    assert.match(user, /^[1-9]\d*(:[1-9]\d*)?$/, `USER ${user}`);
    assert.ok(final.some((i) => i.keyword === 'EXPOSE' && i.args === '8080'));
    assert.ok(!stages.flat().some((i) => i.keyword === 'HEALTHCHECK'));
    assert.equal(cmd[0], 'node');
  });

  it("ships Node's compile cache, made as the CMD runs: by its user, with its V8 flags", () => {
    const env = final
      .filter((i) => i.keyword === 'ENV')
      .map((i) => i.args)
      .join(' ');
    const directory = /\bNODE_COMPILE_CACHE=(\S+)/.exec(env)?.[1];
    assert.ok(directory, `no NODE_COMPILE_CACHE in ENV ${env}`);
    const users = final.map((i, at) => ({ ...i, at })).filter((i) => i.keyword === 'USER');
    const fill = final.findIndex(
      (i) => i.keyword === 'RUN' && /dist\/server\/compile-cache\.mjs$/.test(i.args),
    );
    assert.ok(fill >= 0, 'no RUN of dist/server/compile-cache.mjs');
    // Node keys the cache by user id and V8 flags: made otherwise, a start never finds it.
    assert.equal(users.filter((u) => u.at < fill).at(-1)?.args, users.at(-1)?.args, 'made by the CMD user');
    assert.deepEqual(final[fill]?.args.split(/\s+/), [...cmd.slice(0, -1), 'dist/server/compile-cache.mjs']);
  });
});

describe('the image contents, built as the Dockerfile builds them', () => {
  // /app as in the image: package.json, node_modules, and dist/ compiled by `npm run build`.
  const app = temporaryDirectory('image');
  let server: RunningEntry;

  before(async () => {
    copyFileSync(join(projectRoot, 'package.json'), join(app.dir, 'package.json'));
    symlinkSync(join(projectRoot, 'node_modules'), join(app.dir, 'node_modules'));
    // The build's own configuration; types are checked by `npm run typecheck` already.
    const tsc = join(projectRoot, 'node_modules', 'typescript', 'bin', 'tsc');
    const build = ['-p', 'tsconfig.build.json', '--outDir', join(app.dir, 'dist'), '--noCheck'];
    await promisify(execFile)(process.execPath, [tsc, ...build], { cwd: projectRoot });
    // The rest of `npm run build`: the servers' bundle, which the CMD runs.
    await bundle(join(app.dir, 'dist', 'server'));
  });
  after(async () => {
    await server?.stop();
    app.remove();
  });

  it('has the CMD entry file, which loads production dependencies only', () => {
    const entry = cmd.at(-1) ?? '';
    assert.ok(existsSync(join(app.dir, entry)), `${entry} is not in dist`);
    const manifest = JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8'));
    const production = new Set(Object.keys(manifest.dependencies ?? {}));
    const used = packagesImported(join(app.dir, entry));
    // The bundle holds its dependencies but faas-js-runtime, which it loads from node_modules.
    assert.ok(used.has('faas-js-runtime'), `the import walk found ${[...used].join(', ') || 'nothing'}`);
    for (const name of used)
      assert.ok(production.has(name), `${name} is imported but not a production dependency`);
  });

  it('starts as the CMD starts it, answers GET /_/health and a review', async () => {
    const [, ...args] = cmd;
    server = await startEntry(
      resolve(app.dir, args.at(-1) ?? ''),
      { NODE_ENV: 'production', FUNCTION: 'node-selector', PORT: '0', HOST: '127.0.0.1' },
      /serving node-selector on (http:\/\/\S+)/,
      'stderr',
      args.slice(0, -1),
    );
    assert.equal((await call(`${server.url}/_/health`)).status, 200);
    const review = sharedFixture('knative-pod-netease-annotations.v1.json');
    const reply = await postReview(server.url, review);
    assert.equal(reply.status, 200, reply.text);
    const verdict = await apiserverVerdict(review, reply.json);
    assert.ok(verdict.accepted && verdict.allowed, JSON.stringify(verdict));
    assert.deepEqual((verdict.object as Json).spec.nodeSelector, {
      disktype: 'ssd',
      'kubernetes.io/arch': 'amd64',
    });
  });

  it('starts with every chunk it loads found in the compile cache the build step made', async () => {
    const [, ...args] = cmd;
    const cache = join(app.dir, 'compile-cache');
    const flags = args.slice(0, -1);
    await promisify(execFile)(
      process.execPath,
      [...flags, join(app.dir, 'dist', 'server', 'compile-cache.mjs')],
      {
        env: { PATH: process.env.PATH ?? '', NODE_COMPILE_CACHE: cache },
      },
    );
    const started = await startEntry(
      resolve(app.dir, args.at(-1) ?? ''),
      {
        NODE_ENV: 'production',
        FUNCTION: 'volume-extension',
        PORT: '0',
        HOST: '127.0.0.1',
        NODE_COMPILE_CACHE: cache,
        NODE_DEBUG_NATIVE: 'COMPILE_CACHE',
      },
      /serving volume-extension on (http:\/\/\S+)/,
      'stderr',
      flags,
    );
    try {
      assert.equal(
        (await postReview(started.url, sharedFixture('knative-pod-netease-annotations.v1.json'))).status,
        200,
      );
      const chunks = [...started.stderr().matchAll(/V8 code cache for ESM \S+\/chunks\/(\S+) was (\w+)/g)];
      assert.ok(
        chunks.length >= 10,
        `${chunks.length} chunks in the cache's log:\n${started.stderr().slice(0, 2000)}`,
      );
      const missed = chunks.filter(([, , outcome]) => outcome !== 'accepted').map(([, name]) => name);
      assert.deepEqual(missed, [], 'chunks compiled at the start');
    } finally {
      await started.stop();
    }
  });
});

/** Bare package names reachable through the static and dynamic imports and requires of `entry` (minified or not). */
function packagesImported(entry: string): Set<string> {
  const packages = new Set<string>();
  const seen = new Set<string>();
  const builtins = new Set(builtinModules);
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    const specifiers = [
      ...text.matchAll(/(?:^|[;\n]|\*\/)\s*(?:import|export)\b[^;]*?\bfrom\s*['"]([^'"]+)['"]/g),
      ...text.matchAll(/(?:^|[;\n])\s*import\s*['"]([^'"]+)['"]/g),
      ...text.matchAll(/\b(?:import|require)\(\s*['"]([^'"]+)['"]\s*\)/g),
    ];
    for (const [, specifier = ''] of specifiers) {
      if (specifier.startsWith('.')) visit(resolve(dirname(file), specifier));
      else if (!specifier.startsWith('node:') && !builtins.has(specifier)) {
        const parts = specifier.split('/');
        packages.add(specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] as string));
      }
    }
  };
  visit(entry);
  return packages;
}

describe('stack.yml', () => {
  const text = readFileSync(join(projectRoot, 'stack.yml'), 'utf8');
  const stack: Json = parse(text);
  // The keys faas-cli reads (openfaas/faas-cli stack/schema.go); any other is silently ignored.
  const known = {
    top: ['version', 'provider', 'functions', 'configuration'],
    provider: ['name', 'gateway', 'network'],
    function: [
      ...['lang', 'handler', 'image', 'fprocess', 'environment', 'environment_file', 'secrets', 'skip_build'],
      ...['constraints', 'labels', 'annotations', 'limits', 'requests', 'readonly_root_filesystem'],
      ...['build_options', 'build_args', 'namespace', 'registry_auth'],
    ],
    resources: ['cpu', 'memory'],
  };
  const assertKnown = (object: object, keys: string[], where: string) => {
    for (const key of Object.keys(object))
      assert.ok(keys.includes(key), `${where}: faas-cli does not read "${key}"`);
  };

  it('is version 1.0 for the openfaas provider', () => {
    assert.match(text, /^version: 1\.0$/m);
    assertKnown(stack, known.top, 'top level');
    assert.equal(stack.provider.name, 'openfaas');
    assertKnown(stack.provider, known.provider, 'provider');
    assert.doesNotThrow(() => new URL(stack.provider.gateway));
  });

  it('declares exactly the functions of the registry, each built from the Dockerfile', () => {
    assert.deepEqual(Object.keys(stack.functions).sort(), [...functions.keys()].sort());
    for (const [name, fn] of Object.entries<Json>(stack.functions)) {
      assertKnown(fn, known.function, name);
      assert.equal(fn.lang, 'dockerfile', name);
      assert.ok(
        existsSync(join(projectRoot, fn.handler, 'Dockerfile')),
        `${name}: no Dockerfile in ${fn.handler}`,
      );
      // faas-cli substitutes ${VAR:-default}; the defaults must make a valid image reference.
      const image = String(fn.image).replace(/\$\{[A-Z_]+:-([^}]*)\}/g, '$1');
      assert.match(
        image,
        /^[a-z0-9]+([._-][a-z0-9]+)*(\.[a-z0-9-]+)*(:\d+)?(\/[a-z0-9]+([._-][a-z0-9]+)*)+:[\w][\w.-]{0,127}$/,
        image,
      );
      for (const group of ['limits', 'requests'])
        if (fn[group]) assertKnown(fn[group], known.resources, `${name}.${group}`);
    }
  });

  it('sets FUNCTION to each function, and only variables that function reads', () => {
    const server = [...describeEnvConfig(openFaasSettings), ...describeEnvConfig(chainSettings)].map(
      (v) => v.variable,
    );
    for (const [name, fn] of Object.entries<Json>(stack.functions)) {
      assert.equal(fn.environment.FUNCTION, name);
      const mutation = functions.get(name);
      assert.ok(mutation);
      const reads = new Set([...server, ...describeConfig(mutation).map((v) => v.variable)]);
      for (const variable of Object.keys(fn.environment)) {
        assert.ok(reads.has(variable), `${name}: ${variable} is not read by ${name} or the server`);
        assert.equal(typeof fn.environment[variable], 'string', `${name}: ${variable} must be a string`);
      }
    }
  });

  it('keeps one instance warm and points OpenFaaS at the health path the runtime serves', () => {
    for (const [name, fn] of Object.entries<Json>(stack.functions)) {
      assert.equal(fn.labels['com.openfaas.scale.min'], '1', name);
      assert.equal(fn.annotations['com.openfaas.health.http.path'], '/_/health', name);
      for (const value of [...Object.values(fn.labels), ...Object.values(fn.annotations)]) {
        assert.equal(typeof value, 'string', `${name}: label and annotation values are strings`);
      }
    }
  });
});
