// The PodMonitor component for Prometheus Operator users: off by default (not in `kubectl
// apply -k deploy/`), valid against the operator's CRD when an overlay turns it on, and aimed
// at the function pods' metrics port and not at nginx.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { after, describe, it } from 'node:test';
import { parse, parseAllDocuments } from 'yaml';
import { projectRoot } from './support/apiserver.ts';
import { manifestProblems } from './support/k8s-schemas.ts';
import type { Json } from './support/reviews.ts';
import { temporaryDirectory } from './support/runtimes.ts';

const deployDir = join(projectRoot, 'deploy');
const componentDir = join(deployDir, 'components', 'pod-monitor');
const documents = (text: string): Json[] => parseAllDocuments(text).map((d) => d.toJS() as Json);
const hasKubectl = spawnSync('kubectl', ['version', '--client'], { stdio: 'ignore' }).status === 0;

describe('deploy/components/pod-monitor', () => {
  const podMonitor = parse(readFileSync(join(componentDir, 'pod-monitor.yaml'), 'utf8')) as Json;
  const knative = documents(readFileSync(join(deployDir, 'functions.yaml'), 'utf8'));
  const nginx = documents(readFileSync(join(deployDir, 'tls-proxy.yaml'), 'utf8')).find(
    (o) => o.kind === 'Deployment',
  ) as Json;

  it('is a kustomize Component with the PodMonitor, valid against the Prometheus Operator CRD', () => {
    const component = parse(readFileSync(join(componentDir, 'kustomization.yaml'), 'utf8'));
    assert.equal(component.kind, 'Component');
    assert.deepEqual(component.resources, ['pod-monitor.yaml']);
    assert.deepEqual(manifestProblems(podMonitor), []);
    // The schema check can fail: a misspelt field is refused.
    const misspelt = structuredClone(podMonitor);
    misspelt.spec.podMetricsEndpoints[0].ports = 'user-port';
    assert.ok(manifestProblems(misspelt).some((p) => /ports/.test(p)));
  });

  it('selects every function pod and no nginx pod, and scrapes the port the functions serve metrics on', () => {
    const { matchLabels, matchExpressions } = podMonitor.spec.selector;
    const selects = (labels: Record<string, string>) =>
      Object.entries(matchLabels as Record<string, string>).every(([k, v]) => labels[k] === v) &&
      (matchExpressions as Json[]).every((e) => e.operator === 'Exists' && e.key in labels);
    const services = knative.filter((o) => o.kind === 'Service' && o.apiVersion === 'serving.knative.dev/v1');
    assert.ok(services.length >= 3);
    for (const service of services) {
      // Knative adds serving.knative.dev/service (and /revision, /configuration) to revision pods.
      const podLabels = {
        ...service.spec.template.metadata.labels,
        'serving.knative.dev/service': service.metadata.name,
      };
      assert.ok(selects(podLabels), `${service.metadata.name}'s pods are not selected`);
      const port = service.spec.template.metadata.annotations['prometheus.io/port'];
      const [endpoint] = podMonitor.spec.podMetricsEndpoints;
      assert.equal(endpoint.relabelings[0].replacement, `$1:${port}`);
      assert.equal(endpoint.path, service.spec.template.metadata.annotations['prometheus.io/path']);
    }
    assert.ok(!selects(nginx.spec.template.metadata.labels), 'nginx pods are selected');
    assert.deepEqual(podMonitor.spec.namespaceSelector.matchNames, [services[0]?.metadata.namespace]);
  });

  it('is off by default, and on in an overlay that lists the component', {
    skip: !hasKubectl && 'no kubectl',
  }, () => {
    const plain = documents(execFileSync('kubectl', ['kustomize', deployDir], { encoding: 'utf8' }));
    assert.ok(!plain.some((o) => o.kind === 'PodMonitor'), 'deploy/ alone has no PodMonitor');
    const overlay = temporaryDirectory('pod-monitor');
    after(overlay.remove);
    const dir = join(overlay.dir, 'overlay');
    mkdirSync(dir);
    // kustomize takes relative paths only: from the overlay to the checkout.
    writeFileSync(
      join(dir, 'kustomization.yaml'),
      [
        'apiVersion: kustomize.config.k8s.io/v1beta1',
        'kind: Kustomization',
        'resources:',
        `  - ${relative(dir, deployDir)}`,
        'components:',
        `  - ${relative(dir, componentDir)}`,
        '',
      ].join('\n'),
    );
    const built = documents(
      execFileSync('kubectl', ['kustomize', '--load-restrictor=LoadRestrictionsNone', dir], {
        encoding: 'utf8',
      }),
    );
    const monitors = built.filter((o) => o.kind === 'PodMonitor');
    assert.equal(monitors.length, 1);
    assert.deepEqual(manifestProblems(monitors[0]), []);
  });
});
