// The README's test command on a fresh machine: `./dev test` installs the Debian packages of
// .ci/apt-packages itself (npm's pretest, scripts/apt-packages.sh), and .ci/run runs exactly it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { projectRoot } from './support/apiserver.ts';
import { temporaryDirectory } from './support/runtimes.ts';

const packageJson = JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8'));

/** A copy of the install script beside a package list of our own. */
function checkoutWith(packages: string[]): string {
  const { dir, remove } = temporaryDirectory('apt-packages');
  after(remove);
  mkdirSync(join(dir, 'scripts'));
  mkdirSync(join(dir, '.ci'));
  copyFileSync(join(projectRoot, 'scripts', 'apt-packages.sh'), join(dir, 'scripts', 'apt-packages.sh'));
  chmodSync(join(dir, 'scripts', 'apt-packages.sh'), 0o755);
  writeFileSync(join(dir, '.ci', 'apt-packages'), ['# a comment', ...packages, ''].join('\n'));
  chmodSync(dir, 0o755);
  return dir;
}

const hasDpkg = spawnSync('dpkg-query', ['--version']).status === 0;

describe('the test command on a fresh machine', () => {
  it('installs the Debian packages before the tests (npm pretest), and CI runs exactly that', () => {
    assert.equal(packageJson.scripts.pretest, 'scripts/apt-packages.sh');
    const ci = readFileSync(join(projectRoot, '.ci', 'run'), 'utf8');
    const commands = ci.split('\n').filter((line) => line.trim() && !line.trim().startsWith('#'));
    assert.ok(
      commands.some((line) => /^\.\/dev test(\s|$)/.test(line)),
      '.ci/run runs ./dev test',
    );
    assert.ok(!/apt-get|dpkg/.test(ci), '.ci/run installs nothing the test command does not');
    const readme = readFileSync(join(projectRoot, 'README.md'), 'utf8');
    assert.match(readme, /^\.\/dev test\b/m);
  });

  it('does nothing when every package is installed', { skip: !hasDpkg && 'no dpkg' }, () => {
    const dir = checkoutWith(['coreutils', 'bash']);
    const run = spawnSync(join(dir, 'scripts', 'apt-packages.sh'), { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stderr, '');
  });

  it('names the missing packages and the command to run when it is not root', {
    skip: !hasDpkg && 'no dpkg',
  }, () => {
    const dir = checkoutWith(['coreutils', 'faas-admission-no-such-package']);
    const asNobody =
      process.getuid?.() === 0 ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'] : [];
    const [command = '', ...args] = [...asNobody, join(dir, 'scripts', 'apt-packages.sh')];
    const run = spawnSync(command, args, { encoding: 'utf8' });
    assert.equal(run.status, 1, run.stderr);
    assert.match(run.stderr, /not installed: faas-admission-no-such-package\n/);
    assert.match(
      run.stderr,
      /run as root: {2}apt-get update && apt-get install -y --no-install-recommends faas-admission-no-such-package/,
    );
  });

  it('lists every package the test support names', () => {
    const listed = readFileSync(join(projectRoot, '.ci', 'apt-packages'), 'utf8');
    for (const name of ['prometheus', 'nginx-light', 'openssl', 'golang-go']) {
      assert.match(listed, new RegExp(`^${name}$`, 'm'));
    }
  });
});
