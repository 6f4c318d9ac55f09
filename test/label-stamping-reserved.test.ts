import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import labelStamping from '../functions/label-stamping/index.ts';
import { loadConfig } from '../shared/config.ts';
import { ConfigError } from '../shared/errors.ts';
import { judged, sharedFixture } from './support/reviews.ts';

const plainPod = sharedFixture('plain-pod-no-labels.v1.json');
const RESERVED = ['kubernetes.io/owner', 'node.kubernetes.io/pool', 'k8s.io/team', 'sub.k8s.io/x'];

describe('label-stamping: reserved prefixes', () => {
  for (const key of RESERVED) {
    it(`refuses "${key}" at start unless ALLOW_RESERVED_PREFIXES=true`, () => {
      assert.throws(
        () => loadConfig(labelStamping, { STAMP_LABELS: `${key}=a` }),
        (error: Error) =>
          error instanceof ConfigError &&
          error.message.includes(`STAMP_LABELS: entry "${key}=a": key uses the reserved prefix`) &&
          error.message.includes('ALLOW_RESERVED_PREFIXES=true permits it'),
      );
    });
  }

  it('refuses them in STAMP_LABELS_FILE too', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'labels-')), 'labels');
    writeFileSync(file, '# stamped on everything\nteam.example.com/owner=platform\nk8s.io/owner=platform\n');
    assert.throws(
      () => loadConfig(labelStamping, { STAMP_LABELS_FILE: file }),
      /STAMP_LABELS_FILE: entry "k8s\.io\/owner=platform": key uses the reserved prefix "k8s\.io"/,
    );
  });

  it('takes look-alikes that are not reserved', () => {
    const config = loadConfig(labelStamping, {
      STAMP_LABELS: 'notkubernetes.io/a=1, kubernetes.io.example.com/b=2, k8s.example.com/c=3',
    });
    assert.deepEqual(
      config.rules.map((r) => r.key),
      ['notkubernetes.io/a', 'kubernetes.io.example.com/b', 'k8s.example.com/c'],
    );
  });

  it('stamps reserved keys when ALLOW_RESERVED_PREFIXES=true', async () => {
    const result = await judged('label-stamping', plainPod, {
      STAMP_LABELS: RESERVED.map((key) => `${key}=a`).join(','),
      ALLOW_RESERVED_PREFIXES: 'true',
    });
    for (const key of RESERVED) assert.equal(result.object.metadata.labels[key], 'a');
  });
});
