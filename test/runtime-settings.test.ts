// The small parsers behind the servers' settings.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseByteSize } from '../runtimes/settings.ts';

describe('BODY_LIMIT sizes', () => {
  it('reads bytes and binary units', () => {
    const cases: [string, number | undefined][] = [
      ['3145728', 3 * 1024 * 1024],
      ['8Mi', 8 * 1024 * 1024],
      ['8MiB', 8 * 1024 * 1024],
      ['512Ki', 512 * 1024],
      ['1Gi', 1024 ** 3],
      [' 64Ki ', 64 * 1024],
      ['8M', undefined],
      ['8 Mi', undefined],
      ['-1', undefined],
      ['1.5Mi', undefined],
      ['', undefined],
    ];
    for (const [text, bytes] of cases) assert.equal(parseByteSize(text), bytes, JSON.stringify(text));
  });
});
