// The review and server logs: one JSON object per line, in the shape log stores read (pino's).
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { describe, it } from 'node:test';
import { createLogger, type LogLevel } from '../shared/telemetry/log.ts';
import type { Json } from './support/reviews.ts';

function capture(level: LogLevel) {
  const written: string[] = [];
  const logger = createLogger({ level, destination: { write: (line) => void written.push(line) } });
  const lines = () => written.map((line) => JSON.parse(line) as Json);
  return { logger, written, lines };
}

describe('JSON log lines', () => {
  it('writes level name, ISO time, pid, hostname, the fields and msg last, one line each', () => {
    const { logger, written, lines } = capture('info');
    logger.info({ function: 'volume-extension', uid: 'u-1', skipped: undefined }, 'review answered');
    logger.warn('no fields');
    assert.ok(written.every((line) => line.endsWith('}\n') && line.indexOf('\n') === line.length - 1));
    const [first, second] = lines();
    assert.deepEqual(Object.keys(first ?? {}), [
      'level',
      'time',
      'pid',
      'hostname',
      'function',
      'uid',
      'msg',
    ]);
    assert.equal(first?.level, 'info');
    assert.equal(new Date(first?.time as string).toISOString(), first?.time);
    assert.equal(first?.pid, process.pid);
    assert.equal(first?.hostname, hostname());
    assert.deepEqual(second, { ...second, level: 'warn', msg: 'no fields' });
  });

  it('writes the levels at and above its own, and says which it writes', () => {
    const { logger, lines } = capture('warn');
    for (const level of ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const) logger[level](level);
    assert.deepEqual(
      lines().map((l) => l.msg),
      ['warn', 'error', 'fatal'],
    );
    assert.equal(logger.isLevelEnabled('info'), false);
    assert.equal(logger.isLevelEnabled('error'), true);
    const silent = capture('silent');
    silent.logger.fatal('never');
    assert.equal(silent.written.length, 0);
    assert.equal(silent.logger.isLevelEnabled('silent'), false);
  });

  it("writes an error's type, message, stack and own properties, its cause too", () => {
    const { logger, lines } = capture('info');
    const cause = new RangeError('too far');
    const error = Object.assign(new TypeError('boom', { cause }), { code: 'E_BOOM' });
    logger.error({ err: error, nested: { inner: new Error('inner') } }, 'failed');
    const [written] = lines() as [Json];
    const err = written.err;
    assert.equal(err.type, 'TypeError');
    assert.equal(err.message, 'boom');
    assert.match(err.stack as string, /^TypeError: boom\n {4}at /);
    assert.equal(err.code, 'E_BOOM');
    assert.equal(err.cause.message, 'too far');
    assert.equal(written.nested.inner.message, 'inner');
  });

  it('never throws on what JSON cannot hold: a cycle, a BigInt', () => {
    const { logger, lines } = capture('info');
    const cyclic: Record<string, unknown> = { name: 'a' };
    cyclic.self = cyclic;
    logger.info({ cyclic, big: 10n ** 30n }, 'odd fields');
    const [written] = lines() as [Json];
    assert.deepEqual(written?.cyclic, { name: 'a', self: '[Circular]' });
    assert.equal(written?.big, '1000000000000000000000000000000');
    assert.equal(written?.msg, 'odd fields');
  });

  it('a child adds its bindings to every line', () => {
    const { logger, lines } = capture('debug');
    logger.child({ component: 'opentelemetry' }).debug({ detail: 1 }, 'from the SDK');
    assert.deepEqual(
      [lines()[0]?.component, lines()[0]?.detail, lines()[0]?.msg],
      ['opentelemetry', 1, 'from the SDK'],
    );
  });
});
