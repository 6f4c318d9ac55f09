// The local CLI, run as a user runs it: a child process with the project's Node.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { apiserverVerdict, projectRoot } from './support/apiserver.ts';
import { answer, sample } from './support/reviews.ts';

function invoke(args: string[], options: { input?: string; env?: Record<string, string> } = {}) {
  const result = spawnSync(
    process.execPath,
    [join(projectRoot, 'bin', 'faas-admission.js'), 'invoke', ...args],
    {
      cwd: projectRoot,
      input: options.input,
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1', ...options.env },
    },
  );
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const samplePath = (name: string) => join(projectRoot, 'samples', name);

describe('npm run invoke', () => {
  it('prints exactly the AdmissionReview the function answers, accepted by the apiserver', async () => {
    const { code, stdout, stderr } = invoke(['volume-extension', samplePath('knative-pod-volumes.json')]);
    assert.equal(code, 0, stderr);
    const reply = JSON.parse(stdout);
    assert.deepEqual(reply, answer('volume-extension', sample('knative-pod-volumes.json')));
    const verdict = await apiserverVerdict(sample('knative-pod-volumes.json'), reply);
    assert.equal(verdict.accepted && verdict.allowed, true);
  });

  it('reads stdin with -, and takes configuration from the environment', () => {
    const input = readFileSync(samplePath('deployment.json'), 'utf8');
    const { code, stdout } = invoke(['label-stamping', '-'], {
      input,
      env: { STAMP_LABELS: 'example.com/team=shop' },
    });
    assert.equal(code, 0);
    const patch = JSON.parse(Buffer.from(JSON.parse(stdout).response.patch, 'base64').toString());
    assert.deepEqual(patch, [{ op: 'add', path: '/metadata/labels/example.com~1team', value: 'shop' }]);
  });

  it('exits 0 on a denial, and --explain says why', () => {
    const raw = invoke(['volume-extension', samplePath('knative-pod-bad-volumes.json')]);
    assert.equal(raw.code, 0);
    assert.equal(JSON.parse(raw.stdout).response.allowed, false);
    const explained = invoke(['volume-extension', samplePath('knative-pod-bad-volumes.json'), '--explain']);
    assert.equal(explained.code, 0);
    assert.match(explained.stdout, /^volume-extension: DENIED \(400 BadRequest\)/);
    assert.match(explained.stdout, /item 0: hostPath\.path: must be an absolute path/);
  });

  it('--explain shows the decoded patch and a diff of the object', () => {
    const { code, stdout } = invoke([
      'volume-extension',
      samplePath('knative-pod-volumes.json'),
      '--explain',
    ]);
    assert.equal(code, 0);
    assert.match(stdout, /ALLOWED with 4 patch operation\(s\)/);
    assert.match(
      stdout,
      /add \/spec\/volumes\/1 \{"name":"app-config","configMap":\{"name":"hello-config"\}\}/,
    );
    assert.match(stdout, /^\+\s+"mountPath": "\/etc\/hello",$/m);
  });

  const failures: {
    name: string;
    args: string[];
    input?: string;
    env?: Record<string, string>;
    message: RegExp;
  }[] = [
    { name: 'no arguments', args: [], message: /usage: faas-admission invoke/ },
    {
      name: 'an unknown function',
      args: ['nope', samplePath('plain-pod.json')],
      message: /unknown function "nope" \(functions: volume-extension/,
    },
    { name: 'a missing file', args: ['node-selector', '/nonexistent.json'], message: /ENOENT/ },
    {
      name: 'input that is not JSON',
      args: ['node-selector', '-'],
      input: 'hello',
      message: /stdin: expected an object \(a Kubernetes object or an AdmissionReview\)/,
    },
    {
      name: 'not an AdmissionReview',
      args: ['node-selector', '-'],
      input: '{"kind":"Pod"}',
      message: /stdin: apiVersion is missing/,
    },
    { name: 'an unknown option', args: ['--bogus'], message: /Unknown option '--bogus'/ },
    {
      name: 'bad configuration',
      args: ['label-stamping', samplePath('plain-pod.json')],
      env: { STAMP_LABELS: 'x' },
      message: /STAMP_LABELS: entry "x": expected key=value/,
    },
  ];
  for (const c of failures) {
    it(`exits 2 with a clear message for ${c.name}`, () => {
      const { code, stdout, stderr } = invoke(c.args, { input: c.input, env: c.env });
      assert.equal(code, 2);
      assert.equal(stdout, '');
      assert.match(stderr, c.message);
    });
  }
});
