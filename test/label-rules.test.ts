import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { labelValueFor, parseLabelRules, stampLabels } from '../shared/k8s/label-rules.ts';
import type { AdmissionRequest } from '../shared/review.ts';
import { type Json, sharedFixture } from './support/reviews.ts';

const request = sharedFixture('knative-pod-netease-annotations.v1.json').request as AdmissionRequest;

describe('label rules', () => {
  it('parses entries and fills placeholders from the request', () => {
    const rules = parseLabelRules('team=platform\n# comment\nby={user}, ns={namespace}-{kind}', false);
    assert.deepEqual(
      rules.map((rule) => `${rule.key}=${labelValueFor(rule, request)}`),
      ['team=platform', 'by=system-serviceaccount-kube-system-replicaset-controller', 'ns=nfaas-demo-Pod'],
    );
  });

  it('refuses reserved prefixes, unknown placeholders and bad values', () => {
    assert.throws(() => parseLabelRules('kubernetes.io/x=y', false), /reserved prefix "kubernetes\.io"/);
    assert.doesNotThrow(() => parseLabelRules('kubernetes.io/x=y', true));
    assert.throws(() => parseLabelRules('a={nope}', false), /unknown placeholder \{nope\}/);
    assert.throws(() => parseLabelRules('a=b c', false), /entry "a=b c": value must be empty or consist/);
    assert.throws(() => parseLabelRules('a=1,a=2', false), /key "a" is given twice/);
  });

  it('stamps, keeps a different value with a warning, or overwrites it', () => {
    const rules = parseLabelRules('a=1,b=2', false);
    const warnings: string[] = [];
    const object: Json = { metadata: { labels: { b: 'other' } } };
    stampLabels(object, rules, request, { overwrite: false, warn: (w) => warnings.push(w), source: 'test' });
    assert.deepEqual(object.metadata.labels, { a: '1', b: 'other' });
    assert.match(warnings[0] ?? '', /^test: label "b" kept as "other" \(configured "2"/);
    stampLabels(object, rules, request, { overwrite: true, warn: (w) => warnings.push(w), source: 'test' });
    assert.deepEqual(object.metadata.labels, { a: '1', b: '2' });
    const bare: Json = {};
    stampLabels(bare, [], request, { overwrite: false, warn: () => {}, source: 'test' });
    assert.deepEqual(bare, {}, 'no rules: the object is not touched');
  });
});
