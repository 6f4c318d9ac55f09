// The control plane's build, called from test files that run side by side: on a fresh machine
// two of them must not run the 10-20 minute build at once into one cache. A stand-in build.sh
// (SHARED_DIR and KUBE_CACHE pointed at a temp folder) logs when each run starts and ends.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { projectRoot } from './support/apiserver.ts';

const run = promisify(execFile);

describe('buildControlPlane', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kube-build-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('runs one build at a time when test files call it at once', async () => {
    const tools = join(dir, 'shared', 'tools', 'kube-apiserver');
    mkdirSync(tools, { recursive: true });
    const log = join(dir, 'build.log');
    writeFileSync(
      join(tools, 'build.sh'),
      `echo "start $$" >> ${log}; sleep 0.5; echo "end $$" >> ${log}; echo ${dir}/bin\n`,
    );
    const module = join(projectRoot, 'test', 'support', 'control-plane.ts');
    const caller = `import { buildControlPlane } from ${JSON.stringify(module)}; console.log(buildControlPlane());`;
    const env = { ...process.env, SHARED_DIR: join(dir, 'shared'), KUBE_CACHE: join(dir, 'cache') };
    const outputs = await Promise.all(
      [1, 2, 3].map(() => run(process.execPath, ['--input-type=module', '-e', caller], { env })),
    );
    for (const { stdout } of outputs) assert.equal(stdout.trim(), `${dir}/bin`);
    const events = readFileSync(log, 'utf8').trim().split('\n');
    assert.equal(events.length, 6);
    for (let i = 0; i < events.length; i += 2) {
      const [started, ended] = [events[i]?.split(' '), events[i + 1]?.split(' ')];
      assert.deepEqual(
        [started?.[0], ended?.[0], ended?.[1]],
        ['start', 'end', started?.[1]],
        events.join(', '),
      );
    }
  });
});
