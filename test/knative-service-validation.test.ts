import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Ajv } from 'ajv';
import { parse as parseYaml } from 'yaml';
import { apiserverVerdict, projectRoot, sharedDir } from './support/apiserver.ts';
import { functionKit } from './support/function-kit.ts';
import { answer, edited, type Json, judged, sample, sharedFixture } from './support/reviews.ts';

const NAME = 'knative-service-validation';
const env = { VOLUME_POLICY_FILE: join(projectRoot, 'samples', 'policies', 'nagent.yaml') };
const good = sample('knative-service/create-good.v1.json');
const outsidePolicy = sample('knative-service/create-hostpath-outside-policy.v1.json');
const broken = sample('knative-service/create-broken-annotations.v1.json');
const conflict = sample('knative-service/update-nodeselector-conflict.v1.json');
const templateAnnotations = (reviewed: Json) => reviewed.request.object.spec.template.metadata.annotations;

describe('knative-service-validation', () => {
  const kit = functionKit(NAME, env);

  it('the sample Services are valid serving.knative.dev/v1 Services (the Knative CRD schema)', () => {
    const crd = parseYaml(readFileSync(join(sharedDir, 'schemas', 'knative-service-crd.yaml'), 'utf8'));
    const schema = crd.spec.versions.find((v: Json) => v.name === 'v1').schema.openAPIV3Schema;
    const validate = new Ajv({ strict: false }).compile(schema);
    for (const reviewed of [good, outsidePolicy, broken, conflict]) {
      for (const object of [reviewed.request.object, reviewed.request.oldObject].filter(Boolean)) {
        assert.ok(validate(object), JSON.stringify(validate.errors));
      }
    }
  });

  it('admits a Service whose template annotations pass, without a patch', async () => {
    const result = await judged(NAME, good, env);
    assert.equal(result.denial, undefined, result.denial);
    assert.equal(result.reply.response.patch, undefined);
    assert.deepEqual(result.object, good.request.object);
  });

  it('refuses a hostPath outside the policy with the message the pod webhook would give', async () => {
    const result = await judged(NAME, outsidePolicy, env);
    const podMessage =
      'annotation knative.netease.dev/volumes: item 0 (volume "script-vol"): hostPath.path: "/etc" is not under a hostPath prefix the volume policy\'s rule rules[0] (namespace "nfaas-demo") allows (allowed: /usr/local/nagent4docker)';
    assert.equal(result.denial, `denied the request: revision template (spec.template): ${podMessage}`);
    assert.equal(result.reply.response.status?.code, 403);
    // The pod this template makes is refused by volume-extension with the same words.
    const podReview = edited(sharedFixture('knative-pod-netease-annotations.v1.json'), (pod) => {
      pod.metadata.annotations = templateAnnotations(outsidePolicy);
    });
    const atPodTime = await judged('volume-extension', podReview, env);
    assert.equal(atPodTime.denial, `denied the request: ${podMessage}`);
  });

  it('names every broken annotation at once', async () => {
    await kit.expectDenied(
      broken,
      '',
      /^denied the request: revision template \(spec\.template\): annotation knative\.netease\.dev\/volumeMounts: not valid JSON: .*; annotation knative\.netease\.dev\/nodeSelector: disktype: must be a string/,
      { code: 400 },
    );
  });

  it('refuses an update whose nodeSelector annotation fights the template, unless NODE_SELECTOR_OVERRIDE', async () => {
    await kit.expectDenied(
      conflict,
      '',
      /annotation knative\.netease\.dev\/nodeSelector: key "disktype": the pod's nodeSelector already sets it to "ssd", the annotation asks for "hdd"/,
    );
    const overriding = functionKit(NAME, { ...env, NODE_SELECTOR_OVERRIDE: 'true' });
    assert.deepEqual(await overriding.expectUnchanged(conflict), [
      'node-selector: nodeSelector "disktype" changed from "ssd" to "hdd" by knative.netease.dev/nodeSelector',
    ]);
  });

  it('checks the template with the namespace rule of the Service', async () => {
    const elsewhere = edited(good, (service, request) => {
      request.namespace = 'team-a';
      service.metadata.namespace = 'team-a';
    });
    await kit.expectDenied(
      elsewhere,
      '',
      /volumeMounts: item 0 \(volume "script-vol"\): readOnly: .* by the volume policy's default rule/,
    );
  });

  it('lets through updates that leave the template alone, even if it breaks a newer policy', async () => {
    const relabelled = edited(outsidePolicy, (service, request) => {
      request.operation = 'UPDATE';
      request.oldObject = structuredClone(service);
      service.metadata.labels = { team: 'a' };
    });
    await kit.expectUnchanged(relabelled);
    const templateChanged = edited(relabelled, (service) => {
      service.spec.template.spec.containers[0].env.push({ name: 'X', value: '1' });
    });
    await kit.expectDenied(templateChanged, '', /hostPath\.path: "\/etc"/);
  });

  it('lets a Service being deleted through', async () => {
    const deleting = edited(outsidePolicy, (service) => {
      service.metadata.deletionTimestamp = '2024-05-14T10:00:00Z';
    });
    await kit.expectUnchanged(deleting);
  });

  it('warns about annotations written on the Service instead of its template', async () => {
    const misplaced = edited(good, (service) => {
      service.metadata.annotations['knative.netease.dev/volumes'] = '[]';
    });
    assert.deepEqual(await kit.expectUnchanged(misplaced), [
      'annotation knative.netease.dev/volumes is on the Service itself, where nothing reads it: put it in spec.template.metadata.annotations',
    ]);
  });

  it('leaves core v1 Services alone', async () => {
    const core = edited(outsidePolicy, (_service, request) => {
      request.kind = { group: '', version: 'v1', kind: 'Service' };
      request.resource = { group: '', version: 'v1', resource: 'services' };
    });
    const reply = answer(NAME, core, env);
    assert.deepEqual(reply.response, { uid: core.request.uid, allowed: true });
    assert.equal((await apiserverVerdict(core, reply, true)).accepted, true);
  });
});
