// faas-admission test: the samples' own test files pass (their patches applied by
// admission-check), and a wrong expectation of each kind fails with a message that says why.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { projectRoot, sharedDir } from './support/apiserver.ts';
import { temporaryDirectory } from './support/runtimes.ts';

function cli(args: string[]) {
  const result = spawnSync(process.execPath, [join(projectRoot, 'bin', 'faas-admission.js'), ...args], {
    cwd: projectRoot,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', SHARED_DIR: sharedDir },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('faas-admission test', () => {
  it("passes the samples' test files, every patch applied by admission-check", () => {
    const { code, stdout, stderr } = cli(['test', 'samples/tests']);
    assert.equal(code, 0, stdout + stderr);
    const lines = stdout.trim().split('\n');
    const summary = lines.at(-1) ?? '';
    assert.match(
      summary,
      /^(\d+) cases in 4 files: \1 passed, 0 failed \(patches applied by admission-check\)$/,
    );
    assert.ok(Number(summary.split(' ')[0]) >= 15);
    assert.equal(lines.filter((l) => l.startsWith('ok ')).length, Number(summary.split(' ')[0]));
  });

  it('fails each wrong expectation with what differs, exit 1, and writes JUnit', () => {
    const { dir } = temporaryDirectory('faas-admission-test-files-');
    const file = join(dir, 'wrong.test.yaml');
    const sample = (name: string) => join(projectRoot, 'samples', name);
    writeFileSync(
      file,
      `function: volume-extension
cases:
  - name: wrong verdict
    input: ${sample('knative-pod-bad-volumes.json')}
    expect: { allowed: true }
  - name: wrong message
    input: ${sample('knative-pod-bad-volumes.json')}
    expect: { message: 'no such text', messageMatches: '^nope$', code: 409 }
  - name: wrong object
    input: ${sample('knative-pod-volumes.json')}
    expect: { object: { spec: { nodeSelector: { disktype: ssd } } } }
  - name: wrong patch and warnings
    input: ${sample('knative-pod-volumes.json')}
    expect: { patch: [], warnings: ['something'] }
  - name: unknown function
    function: no-such-function
    input: ${sample('plain-pod.json')}
    expect: { allowed: true }
  - name: the right answer
    input: ${sample('plain-pod.json')}
    expect: { allowed: true, patch: [] }
`,
    );
    const junit = join(dir, 'junit.xml');
    const { code, stdout } = cli(['test', file, '--junit', junit]);
    assert.equal(code, 1, stdout);
    assert.match(
      stdout,
      /FAIL .*wrong verdict.*\n\s+expected allowed, got denied \(400\): annotation knative.netease.dev\/volumes/,
    );
    assert.match(
      stdout,
      /wrong message.*\n\s+expected code 409, got 400\n\s+message does not contain "no such text".*\n\s+message does not match \/\^nope\$\//,
    );
    assert.match(
      stdout,
      /wrong object.*\n\s+patched object at spec.nodeSelector: expected \{"disktype":"ssd"\}, got nothing/,
    );
    assert.match(
      stdout,
      /wrong patch and warnings.*\n\s+patch differs: \[\{"op":"add".*\n\s+warnings \[\], expected \["something"\]/,
    );
    assert.match(
      stdout,
      /unknown function.*\n\s+cases\[4\] "unknown function": unknown function "no-such-function"/,
    );
    assert.match(stdout, /ok {3}.*the right answer/);
    assert.match(stdout, /6 cases in 1 files: 1 passed, 5 failed/);
    const xml = readFileSync(junit, 'utf8');
    assert.match(xml, /<testsuites name="faas-admission" tests="6" failures="5">/);
    assert.equal(xml.match(/<failure /g)?.length, 5);
  });

  it('a malformed test file is exit 2 naming the field', () => {
    const { dir } = temporaryDirectory('faas-admission-test-files-');
    const file = join(dir, 'bad.test.yaml');
    writeFileSync(file, 'cases:\n  - name: x\n    input: a.json\n    expect: { allowed: "yes" }\n');
    const { code, stderr } = cli(['test', file]);
    assert.equal(code, 2);
    assert.match(stderr, /^test: .*bad\.test\.yaml: cases\[0\]\.expect\.allowed: /);
  });
});
