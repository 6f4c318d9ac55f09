// The faas-admission command as a user installs it: `npm pack` of the project (as prepack
// builds it, from a scratch copy of the tracked files), the tarball installed into a scratch
// folder with production dependencies only, and its commands run from there. A clone runs the
// TypeScript sources; the package carries dist/ only, so a file the command needs and the
// build leaves out (the manifests generator under scripts/) fails here and nowhere else.
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { apiserverVerdict, projectRoot } from './support/apiserver.ts';
import { temporaryDirectory } from './support/runtimes.ts';

const run = promisify(execFile);
// The machine's npm (as ./dev runs it), on this Node.
const npm = 'npm';
// npm and the installed command run on this Node, whatever is first on PATH.
const env = { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}` };

describe('the packed faas-admission command, installed into a scratch folder', () => {
  const scratch = temporaryDirectory('packed');
  const source = join(scratch.dir, 'source');
  const app = join(scratch.dir, 'app');
  const bin = join(app, 'node_modules', '.bin', 'faas-admission');
  const installed = join(app, 'node_modules', 'faas-admission');
  const faas = (args: string[]) =>
    run(bin, args, { cwd: app, env, maxBuffer: 16 * 1024 * 1024 }).then(
      ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
      (error: { code?: number; stdout?: string; stderr?: string }) => ({
        code: error.code ?? -1,
        stdout: error.stdout ?? '',
        stderr: error.stderr ?? '',
      }),
    );

  before(async () => {
    // The tracked files only, as a fresh clone has them (no dist/ left over from a build here).
    const files = execFileSync('git', ['ls-files'], { cwd: projectRoot, encoding: 'utf8' }).split('\n');
    for (const file of files.filter(Boolean)) {
      const from = join(projectRoot, file);
      // The development Node and dependencies (links in a worktree) are not the package's.
      if (!existsSync(from) || file === '.node' || file === 'node_modules') continue;
      mkdirSync(dirname(join(source, file)), { recursive: true });
      if (lstatSync(from).isSymbolicLink()) symlinkSync(readlinkSync(from), join(source, file));
      else copyFileSync(from, join(source, file));
    }
    symlinkSync(join(projectRoot, 'node_modules'), join(source, 'node_modules'));
    // What prepack runs (npm run build), without the type check `npm run typecheck` already does.
    const tsc = join(projectRoot, 'node_modules', 'typescript', 'bin', 'tsc');
    await run(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--noCheck'], { cwd: source });
    const { stdout } = await run(
      npm,
      ['pack', '--ignore-scripts', '--json', '--pack-destination', scratch.dir],
      {
        cwd: source,
        env,
      },
    );
    const [{ filename }] = JSON.parse(stdout) as [{ filename: string }];
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), '{"name":"scratch","private":true}\n');
    await run(
      npm,
      ['install', '--omit=dev', '--prefer-offline', '--no-audit', '--no-fund', join(scratch.dir, filename)],
      { cwd: app, env },
    );
  });
  after(() => scratch.remove());

  it('installs the command with production dependencies only, no TypeScript sources', () => {
    assert.ok(existsSync(bin), 'node_modules/.bin/faas-admission');
    assert.ok(!existsSync(join(app, 'node_modules', 'typescript')), 'typescript is a dev dependency');
    assert.ok(!existsSync(join(installed, 'cli', 'main.ts')), 'the package runs dist/, not the sources');
    assert.ok(
      existsSync(join(installed, 'dist', 'scripts', 'manifests.js')),
      'the manifests generator is built',
    );
  });

  it('answers --help and --version', async () => {
    const help = await faas(['--help']);
    assert.equal(help.code, 0, help.stderr);
    for (const command of ['invoke', 'test', 'check', 'cert', 'cert-upkeep', 'manifests']) {
      assert.match(help.stdout, new RegExp(`^  ${command} `, 'm'));
    }
    const version = await faas(['--version']);
    const manifest = JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8'));
    assert.equal(version.stdout.trim(), manifest.version);
  });

  it('invoke answers a sample review with the reply the apiserver accepts', async () => {
    const file = join(installed, 'samples', 'knative-pod-volumes.json');
    const { code, stdout, stderr } = await faas(['invoke', 'volume-extension', file]);
    assert.equal(code, 0, stderr);
    const reply = JSON.parse(stdout);
    assert.equal(reply.response.allowed, true);
    const verdict = await apiserverVerdict(JSON.parse(readFileSync(file, 'utf8')), reply);
    assert.ok(verdict.accepted && verdict.allowed, JSON.stringify(verdict));
    const explained = await faas(['invoke', 'volume-extension', file, '--explain']);
    assert.match(explained.stdout, /^volume-extension: ALLOWED with 4 patch operation\(s\)/);
  });

  it('manifests writes the deploy files, equal to the committed deploy/', async () => {
    const out = join(scratch.dir, 'deploy');
    const { code, stderr } = await faas(['manifests', '--out', out]);
    assert.equal(code, 0, stderr);
    const written = readdirSync(out, { recursive: true }).map(String).sort();
    assert.ok(written.includes('kustomization.yaml'), written.join(' '));
    for (const file of written.filter((f) => f.endsWith('.yaml'))) {
      assert.equal(
        readFileSync(join(out, file), 'utf8'),
        readFileSync(join(projectRoot, 'deploy', file), 'utf8'),
        `deploy/${file}`,
      );
    }
  });

  it('test runs the shipped sample test files', async () => {
    const { code, stdout, stderr } = await faas(['test', join(installed, 'samples', 'tests')]);
    assert.equal(code, 0, `${stdout}\n${stderr}`);
    assert.match(stdout, /\d+ cases in \d+ files: \d+ passed, 0 failed/);
  });
});
