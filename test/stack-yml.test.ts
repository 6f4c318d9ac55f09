// stack.yml is generated from the registry (scripts/stack-yml.ts): the file in the checkout is
// what the generator writes, so a registered function is in it without anyone copying a block.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { functions } from '../functions/index.ts';
import { renderStackYml, stackYmlPath } from '../scripts/stack-yml.ts';

describe('stack.yml generation', () => {
  it('is up to date with the registry (npm run stack-yml writes it)', () => {
    assert.equal(
      readFileSync(stackYmlPath, 'utf8'),
      renderStackYml(),
      'stack.yml is out of date: run npm run stack-yml',
    );
  });

  it('has one entry per registered function, in the registry order, serving that function', () => {
    const stack = parse(renderStackYml());
    assert.deepEqual(Object.keys(stack.functions), [...functions.keys()]);
    for (const [name, entry] of Object.entries<{ environment: Record<string, string> }>(stack.functions)) {
      assert.equal(entry.environment.FUNCTION, name);
    }
  });
});
