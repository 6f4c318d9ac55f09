import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import volumeExtension from '../functions/volume-extension/index.ts';
import { loadConfig } from '../shared/config.ts';
import { ConfigError } from '../shared/errors.ts';
import {
  defaultVolumePolicy,
  hostPathRuleFor,
  isUnder,
  loadVolumePolicy,
  normalisePath,
  ruleFor,
} from '../shared/k8s/volume-policy.ts';
import { projectRoot } from './support/apiserver.ts';
import { annotated, assertIdempotent, edited, type Json, judged, sharedFixture } from './support/reviews.ts';

const knativePod = sharedFixture('knative-pod-netease-annotations.v1.json');
const VOLUMES = 'knative.netease.dev/volumes';
const MOUNTS = 'knative.netease.dev/volumeMounts';
const policyFile = (name: string) => join(projectRoot, 'samples', 'policies', name);
const nagent = { VOLUME_POLICY_FILE: policyFile('nagent.yaml') };

/** The fixture pod in `namespace`, carrying these volume and mount annotations. */
function podWith(namespace: string, volumes: unknown, mounts?: unknown): Json {
  const reviewed = annotated(knativePod, {
    [VOLUMES]: JSON.stringify(volumes),
    [MOUNTS]: mounts === undefined ? undefined : JSON.stringify(mounts),
  });
  reviewed.request.namespace = namespace;
  reviewed.request.object.metadata.namespace = namespace;
  return reviewed;
}

const hostPathVolume = (path: string, type?: string) => ({
  name: 'host',
  hostPath: type === undefined ? { path } : { path, type },
});

function writePolicy(text: string, name = 'policy.yaml'): string {
  const file = join(mkdtempSync(join(tmpdir(), 'volume-policy-')), name);
  writeFileSync(file, text);
  return file;
}

describe('volume policy: paths', () => {
  it('matches prefixes segment by segment on the normalised path', () => {
    assert.equal(isUnder('/usr/local/nagent', '/usr/local/nagent'), true);
    assert.equal(isUnder('/usr/local/nagent/bin', '/usr/local/nagent'), true);
    assert.equal(isUnder('/usr/local/nagent-evil', '/usr/local/nagent'), false);
    assert.equal(isUnder('/usr/local/nagentx/y', '/usr/local/nagent'), false);
    assert.equal(isUnder('/usr/local', '/usr/local/nagent'), false);
    assert.equal(isUnder('/etc', '/'), true);
    assert.equal(normalisePath('//usr//local/./nagent/'), '/usr/local/nagent');
    assert.equal(normalisePath('/usr/local/nagent/../../etc'), '/usr/etc');
    assert.equal(normalisePath('/'), '/');
  });

  it('picks the longest prefix that contains the path', () => {
    const policy = loadVolumePolicy(
      writePolicy(`default:
  hostPath:
    - { pathPrefix: /var/lib, readOnly: true }
    - { pathPrefix: /var/lib/agent/, readOnly: false }
`),
    );
    const rule = ruleFor(policy, 'any');
    assert.equal(hostPathRuleFor(rule, '/var/lib/agent/x')?.readOnly, false);
    assert.equal(hostPathRuleFor(rule, '/var/lib/agent-x')?.readOnly, true);
    assert.equal(hostPathRuleFor(rule, '/var/log'), undefined);
  });
});

describe('volume policy: volume-extension', () => {
  it('without a policy file, allows the restricted types but inline csi, and no hostPath nor gitRepo', async () => {
    const allowed = await judged(
      'volume-extension',
      podWith('team-a', [
        { name: 'c', ephemeral: { volumeClaimTemplate: { spec: { accessModes: ['ReadWriteOnce'] } } } },
      ]),
    );
    assert.equal(allowed.denial, undefined, allowed.denial);
    // Inline csi needs its driver named by a rule (csiDrivers); the default names none.
    const csi = await judged('volume-extension', podWith('team-a', [{ name: 'c', csi: { driver: 'x' } }]));
    assert.match(csi.denial ?? '(allowed)', /csi\.driver: inline CSI driver "x" is not allowed/);
    const host = await judged(
      'volume-extension',
      podWith('team-a', [hostPathVolume('/usr/local/nagent4docker')]),
    );
    assert.equal(
      host.denial,
      'denied the request: annotation knative.netease.dev/volumes: item 0 (volume "host"): hostPath.path: "/usr/local/nagent4docker" is not under a hostPath prefix the volume policy\'s default rule allows (it allows no hostPath)',
    );
    assert.equal(host.reply.response.status?.code, 403);
    const git = await judged(
      'volume-extension',
      podWith('team-a', [{ name: 'repo', gitRepo: { repository: 'https://example.com/r.git' } }]),
    );
    assert.match(
      git.denial ?? '',
      /item 0 \(volume "repo"\): gitRepo: volume type "gitRepo" is not allowed by the volume policy's default rule/,
    );
  });

  const cases: {
    name: string;
    namespace: string;
    volumes: unknown[];
    mounts?: unknown[];
    denial?: RegExp;
  }[] = [
    {
      name: 'a path below an allowed prefix, read-only',
      namespace: 'team-a',
      volumes: [hostPathVolume('/usr/local/nagent4docker/scripts', 'Directory')],
      mounts: [{ name: 'host', mountPath: '/scripts', readOnly: true }],
    },
    {
      name: 'an allowed prefix written with extra slashes',
      namespace: 'team-a',
      volumes: [hostPathVolume('//usr/local//nagent4docker/', 'Directory')],
    },
    {
      name: 'a sibling that only shares the prefix text',
      namespace: 'team-a',
      volumes: [hostPathVolume('/usr/local/nagent4docker-evil')],
      denial:
        /item 0 \(volume "host"\): hostPath\.path: "\/usr\/local\/nagent4docker-evil" is not under a hostPath prefix the volume policy's default rule allows \(allowed: \/usr\/local\/nagent4docker\)/,
    },
    {
      name: 'a path climbing out of the prefix',
      namespace: 'team-a',
      volumes: [hostPathVolume('/usr/local/nagent4docker/../../../etc')],
      denial: /item 0: hostPath\.path: must not contain "\.\."/,
    },
    {
      name: 'a hostPath type the rule does not list',
      namespace: 'team-a',
      volumes: [hostPathVolume('/usr/local/nagent4docker/agent.sock', 'Socket')],
      denial:
        /hostPath\.type: "Socket" is not allowed under "\/usr\/local\/nagent4docker" by the volume policy's default rule \(allowed: "Directory"\)/,
    },
    {
      name: 'a writable mount where the rule wants read-only',
      namespace: 'team-a',
      volumes: [hostPathVolume('/usr/local/nagent4docker', 'Directory')],
      mounts: [{ name: 'host', mountPath: '/usr/local/nagent' }],
      denial:
        /annotation knative\.netease\.dev\/volumeMounts: item 0 \(volume "host"\): readOnly: hostPath "\/usr\/local\/nagent4docker" \(volume "host"\) must be mounted read-only under "\/usr\/local\/nagent4docker" by the volume policy's default rule \(set "readOnly": true\)/,
    },
    {
      name: 'a writable mount in the namespace whose rule allows it',
      namespace: 'nfaas-demo',
      volumes: [hostPathVolume('/usr/local/nagent4docker', 'Directory')],
      mounts: [{ name: 'host', mountPath: '/usr/local/nagent' }],
    },
    {
      name: 'a type the sandbox rule does not list',
      namespace: 'sandbox-42',
      volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'data' } }],
      denial:
        /item 0 \(volume "data"\): persistentVolumeClaim: volume type "persistentVolumeClaim" is not allowed by the volume policy's rule rules\[1\] \(namespace "sandbox-\*"\) \(allowed: configMap, secret, projected, emptyDir\)/,
    },
    {
      name: 'hostPath in the sandbox, which allows none',
      namespace: 'sandbox-42',
      volumes: [hostPathVolume('/usr/local/nagent4docker')],
      denial: /rules\[1\] \(namespace "sandbox-\*"\) allows \(it allows no hostPath\)/,
    },
    {
      name: 'a type the sandbox rule lists',
      namespace: 'sandbox-42',
      volumes: [{ name: 'cfg', configMap: { name: 'app' } }],
      mounts: [{ name: 'cfg', mountPath: '/etc/app' }],
    },
  ];
  for (const c of cases) {
    it(`${c.denial ? 'denies' : 'allows'}: ${c.name}`, async () => {
      const reviewed = podWith(c.namespace, c.volumes, c.mounts);
      const result = await judged('volume-extension', reviewed, nagent);
      if (c.denial) {
        assert.match(result.denial ?? '(allowed)', c.denial);
      } else {
        assert.equal(result.denial, undefined, result.denial);
        await assertIdempotent('volume-extension', result, reviewed, nagent);
      }
    });
  }

  it('holds a mount of a hostPath volume the pod already has to the same rule', async () => {
    const reviewed = edited(podWith('team-a', []), (pod) => {
      pod.spec.volumes.push({ name: 'docker', hostPath: { path: '/var/run/docker.sock' } });
      pod.metadata.annotations[MOUNTS] = JSON.stringify([
        { name: 'docker', mountPath: '/var/run/docker.sock' },
      ]);
    });
    const result = await judged('volume-extension', reviewed, nagent);
    assert.match(
      result.denial ?? '(allowed)',
      /volumeMounts: item 0 \(volume "docker"\): name: volume "docker" is hostPath "\/var\/run\/docker\.sock", which the volume policy's default rule does not allow/,
    );
  });

  it('reads a JSON policy too (the restricted Pod Security volume types)', async () => {
    const env = { VOLUME_POLICY_FILE: policyFile('restricted.json') };
    const nfs = await judged(
      'volume-extension',
      podWith('x', [{ name: 'n', nfs: { server: 'nfs', path: '/x' } }]),
      env,
    );
    assert.match(
      nfs.denial ?? '(allowed)',
      /volume type "nfs" is not allowed by the volume policy's default rule/,
    );
    const pvc = await judged(
      'volume-extension',
      podWith('x', [{ name: 'p', persistentVolumeClaim: { claimName: 'p' } }]),
      env,
    );
    assert.equal(pvc.denial, undefined, pvc.denial);
  });
});

describe('volume policy: the file', () => {
  it('an empty file is the default policy', () => {
    assert.deepEqual(loadVolumePolicy(writePolicy('')), defaultVolumePolicy);
  });

  const bad: { name: string; text: string; problem: RegExp }[] = [
    {
      name: 'a misspelt field',
      text: 'default:\n  hostPath:\n    - pathPrefix: /x\n      readonly: true\n',
      problem:
        /default\.hostPath\[0\]\.readonly: is not a field of a hostPath rule \(did you mean readOnly\?\)/,
    },
    {
      name: 'a relative prefix',
      text: 'default:\n  hostPath: [{ pathPrefix: usr/local }]\n',
      problem: /default\.hostPath\[0\]\.pathPrefix: must be an absolute path/,
    },
    {
      name: 'a prefix with ..',
      text: 'default:\n  hostPath: [{ pathPrefix: /usr/../etc }]\n',
      problem: /default\.hostPath\[0\]\.pathPrefix: must not contain "\.\."/,
    },
    {
      name: 'hostPath among the volume types',
      text: 'rules:\n  - namespaces: [a]\n    volumeTypes: [configMap, hostPath]\n',
      problem: /rules\[0\]\.volumeTypes\[1\]: hostPath is allowed by path: list its prefixes under hostPath/,
    },
    {
      name: 'an unknown volume type',
      text: 'default: { volumeTypes: [configmap] }\n',
      problem: /default\.volumeTypes\[0\]: Invalid option/,
    },
    {
      name: 'an unknown hostPath type',
      text: 'default:\n  hostPath: [{ pathPrefix: /x, types: [Dir] }]\n',
      problem: /default\.hostPath\[0\]\.types\[0\]: Invalid option/,
    },
    {
      name: 'a namespace named by two rules',
      text: 'rules:\n  - namespaces: [a, b]\n  - namespaces: [b]\n',
      problem: /rules\[1\]\.namespaces\[0\]: "b" is already named by rules\[0\]/,
    },
    {
      name: 'a namespace that is no name',
      text: 'rules:\n  - namespaces: [Team_A]\n',
      problem: /rules\[0\]\.namespaces\[0\]: must be a namespace name or a name prefix ending in "\*"/,
    },
    {
      name: 'a rule without namespaces',
      text: 'rules:\n  - volumeTypes: [secret]\n',
      problem: /rules\[0\]\.namespaces: /,
    },
    {
      name: 'a list where an object belongs',
      text: '- default\n',
      problem: /expected object, received array/,
    },
    { name: 'broken YAML', text: 'default: [\n', problem: /not valid YAML or JSON: / },
  ];
  for (const c of bad) {
    it(`stops start-up naming the file, field and problem: ${c.name}`, () => {
      const file = writePolicy(c.text);
      assert.throws(
        () => loadConfig(volumeExtension, { VOLUME_POLICY_FILE: file }),
        (error: Error) => {
          assert.ok(error instanceof ConfigError);
          assert.ok(
            error.message.startsWith(
              `volume-extension: invalid configuration: VOLUME_POLICY_FILE: ${file}: `,
            ),
            error.message,
          );
          assert.match(error.message, c.problem);
          return true;
        },
      );
    });
  }

  it('stops start-up when the file cannot be read', () => {
    assert.throws(
      () => loadConfig(volumeExtension, { VOLUME_POLICY_FILE: '/nonexistent/policy.yaml' }),
      /VOLUME_POLICY_FILE: \/nonexistent\/policy\.yaml: cannot read: ENOENT/,
    );
  });

  it('the samples are valid policies', () => {
    for (const name of ['nagent.yaml', 'restricted.json']) loadVolumePolicy(policyFile(name));
    // No sample lists the unset type "": it lets sockets and devices under the prefix in.
    for (const rule of [defaultVolumePolicy.default, ...loadVolumePolicy(policyFile('nagent.yaml')).rules]) {
      for (const entry of rule.hostPath) assert.ok(!entry.types.includes(''), entry.pathPrefix);
    }
  });
});
