import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { routeAt } from '../runtimes/route-at.ts';
import { requireJsonContentType } from '../shared/content-type.ts';
import { HttpError } from '../shared/errors.ts';
import { parseApiserverTimeout, webhookEntry } from '../shared/request-info.ts';

describe('parseApiserverTimeout', () => {
  const durations: [string, number][] = [
    ['10s', 10_000],
    ['30s', 30_000],
    ['1m0s', 60_000],
    ['1m30s', 90_000],
    ['1.5s', 1500],
    ['500ms', 500],
    ['2h', 7_200_000],
    ['250us', 0.25],
    ['.5s', 500],
  ];
  for (const [text, ms] of durations) {
    it(`reads ${text} as ${ms} ms`, () => assert.equal(parseApiserverTimeout(text), ms));
  }

  for (const value of [undefined, '', '10', 's', '10 s', '-1s', '10sx', 'ten', '1d', ['1s', '2s'], 10]) {
    it(`ignores ${JSON.stringify(value)}`, () => assert.equal(parseApiserverTimeout(value), undefined));
  }
});

describe('requireJsonContentType', () => {
  for (const header of [
    'application/json',
    'application/json; charset=utf-8',
    'Application/JSON',
    'application/json;charset="UTF-8"',
  ]) {
    it(`accepts ${header}`, () => assert.doesNotThrow(() => requireJsonContentType(header)));
  }

  const refused: [string | undefined, RegExp][] = [
    [undefined, /^no Content-Type: expected application\/json/],
    ['application/x-www-form-urlencoded', /^Content-Type application\/x-www-form-urlencoded: expected/],
    ['text/plain; charset=utf-8', /^Content-Type text\/plain: expected application\/json/],
    ['application/jsonp', /^Content-Type application\/jsonp: /],
    ['application/json; charset=iso-8859-1', /: JSON must be UTF-8, not charset iso-8859-1$/],
  ];
  for (const [header, message] of refused) {
    it(`refuses ${header ?? 'a missing header'} with 415`, () => {
      assert.throws(
        () => requireJsonContentType(header),
        (error) => error instanceof HttpError && error.status === 415 && message.test(error.message),
      );
    });
  }
});

describe('webhookEntry and routeAt: the registration entry from the path', () => {
  it('reads /<function>/<entry>, and nothing else', () => {
    assert.equal(webhookEntry('/sidecar-injection/namespace', 'sidecar-injection'), 'namespace');
    for (const path of [
      '/sidecar-injection',
      '/sidecar-injection/',
      '/sidecar-injection/a/b',
      '/sidecar-injection/Bad',
      '/other/namespace',
      '/namespace',
      undefined,
    ]) {
      assert.equal(webhookEntry(path, 'sidecar-injection'), undefined, String(path));
    }
  });

  it('routes /<function> and /<function>/<entry> to the function, deeper paths nowhere', () => {
    const target = { name: 'x', steps: [] };
    const routes = new Map([['sidecar-injection', target]]);
    assert.equal(routeAt(routes, '/sidecar-injection'), target);
    assert.equal(routeAt(routes, '/sidecar-injection/namespace'), target);
    assert.equal(routeAt(routes, '/sidecar-injection/a/b'), undefined);
    assert.equal(routeAt(routes, '/sidecar-injection/'), undefined);
    assert.equal(routeAt(routes, '/other'), undefined);
  });
});
