// The ways a hostile tenant tried around the volume policy, one test per class: each failed
// before its fix (a writable mount of a read-only hostPath, an unchecked socket, a node-reaching
// volume type by default, a value the apiserver refuses after the function admitted it,
// an annotation silently ignored, a denial of a megabyte).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { duplicateKeyProblem } from '../shared/k8s/annotations.ts';
import { denialMessage, MAX_DENIAL_LENGTH } from '../shared/response.ts';
import { projectRoot } from './support/apiserver.ts';
import { annotated, edited, type Json, judged, sharedFixture } from './support/reviews.ts';

const knativePod = sharedFixture('knative-pod-netease-annotations.v1.json');
const VOLUMES = 'knative.netease.dev/volumes';
const MOUNTS = 'knative.netease.dev/volumeMounts';
const nagent = { VOLUME_POLICY_FILE: join(projectRoot, 'samples', 'policies', 'nagent.yaml') };
const scriptVolume = {
  name: 'script-vol',
  hostPath: { path: '/usr/local/nagent4docker', type: 'Directory' },
};

/** The fixture pod in `namespace` with these annotations (undefined: removed). */
function podIn(namespace: string, annotations: Record<string, string | undefined>): Json {
  return edited(annotated(knativePod, annotations), (pod, request) => {
    request.namespace = namespace;
    pod.metadata.namespace = namespace;
  });
}

/** `kubectl debug` on a running pod that has the injected volume: pods/ephemeralcontainers UPDATE. */
function debugReview(namespace: string, mount: Json): Json {
  const running = edited(podIn(namespace, {}), (pod) => {
    pod.metadata.name = 'hello-00001-deployment-abc';
    pod.spec.volumes.push(structuredClone(scriptVolume));
    pod.spec.containers[0].volumeMounts.push({
      name: 'script-vol',
      mountPath: '/usr/local/nagent',
      readOnly: true,
    });
  });
  return edited(running, (pod, request) => {
    request.operation = 'UPDATE';
    request.subResource = 'ephemeralcontainers';
    request.requestSubResource = 'ephemeralcontainers';
    request.oldObject = structuredClone(pod);
    pod.spec.ephemeralContainers = [
      {
        name: 'debugger',
        image: 'busybox:1.36',
        targetContainerName: 'user-container',
        volumeMounts: [mount],
      },
    ];
  });
}

describe('the volume policy holds for every container kind and every way in', () => {
  it('refuses an ephemeral container (kubectl debug) mounting a read-only hostPath writable', async () => {
    const writable = await judged(
      'volume-extension',
      debugReview('team-a', { name: 'script-vol', mountPath: '/host' }),
      nagent,
    );
    assert.equal(
      writable.denial,
      'denied the request: spec.ephemeralContainers[0] ("debugger").volumeMounts[0] (volume "script-vol"): readOnly: hostPath "/usr/local/nagent4docker" (volume "script-vol") must be mounted read-only under "/usr/local/nagent4docker" by the volume policy\'s default rule (set "readOnly": true)',
    );
    const readOnly = await judged(
      'volume-extension',
      debugReview('team-a', { name: 'script-vol', mountPath: '/host', readOnly: true }),
      nagent,
    );
    assert.equal(readOnly.denial, undefined, readOnly.denial);
    assert.deepEqual(readOnly.patch, []);
    // Where the rule allows writing, a debug container may write too.
    const demo = await judged(
      'volume-extension',
      debugReview('nfaas-demo', { name: 'script-vol', mountPath: '/host' }),
      nagent,
    );
    assert.equal(demo.denial, undefined, demo.denial);
  });

  it('refuses an ephemeral container mounting a hostPath the policy does not allow at all', async () => {
    const reviewed = edited(debugReview('team-a', { name: 'docker', mountPath: '/sock' }), (pod, request) => {
      const docker = { name: 'docker', hostPath: { path: '/var/run/docker.sock', type: 'Socket' } };
      pod.spec.volumes.push(docker);
      request.oldObject.spec.volumes.push(docker);
    });
    const result = await judged('volume-extension', reviewed, nagent);
    assert.match(
      result.denial ?? '(allowed)',
      /spec\.ephemeralContainers\[0\] \("debugger"\)\.volumeMounts\[0\] \(volume "docker"\): name: volume "docker" is hostPath "\/var\/run\/docker\.sock", which the volume policy's default rule does not allow/,
    );
  });

  it('leaves mounts the pod already had alone on UPDATE (a pod admitted under an older policy)', async () => {
    const reviewed = edited(
      debugReview('team-a', { name: 'script-vol', mountPath: '/host' }),
      (pod, request) => {
        request.oldObject.spec.ephemeralContainers = structuredClone(pod.spec.ephemeralContainers);
      },
    );
    const result = await judged('volume-extension', reviewed, nagent);
    assert.equal(result.denial, undefined, result.denial);
  });

  it('refuses the pre-1.22 EphemeralContainers object when a new ephemeral container mounts a volume', async () => {
    const reviewed = edited(
      debugReview('team-a', { name: 'script-vol', mountPath: '/host' }),
      (_pod, request) => {
        request.kind = { group: '', version: 'v1', kind: 'EphemeralContainers' };
        request.object = {
          kind: 'EphemeralContainers',
          apiVersion: 'v1',
          metadata: request.object.metadata,
          ephemeralContainers: request.object.spec.ephemeralContainers,
        };
        request.oldObject = { ...request.object, ephemeralContainers: [] };
      },
    );
    const result = await judged('volume-extension', reviewed, nagent);
    assert.match(
      result.denial ?? '(allowed)',
      /ephemeralContainers\[0\]\.volumeMounts: an EphemeralContainers object/,
    );
  });

  it('refuses removing the selector label from a pod with hostPath volumes (it would hide kubectl debug)', async () => {
    const reviewed = edited(
      debugReview('team-a', { name: 'script-vol', mountPath: '/host' }),
      (pod, request) => {
        request.subResource = undefined;
        request.requestSubResource = undefined;
        pod.spec.ephemeralContainers = undefined;
        delete pod.metadata.labels['serving.knative.dev/service'];
      },
    );
    const result = await judged('volume-extension', reviewed, nagent);
    assert.match(
      result.denial ?? '(allowed)',
      /metadata\.labels: "serving\.knative\.dev\/service" may not be removed from a pod with hostPath volumes/,
    );
  });

  const ownMount = (list: 'containers' | 'initContainers', readOnly: boolean) =>
    edited(
      podIn('team-a', {
        [VOLUMES]: JSON.stringify([scriptVolume]),
        [MOUNTS]: JSON.stringify([{ name: 'script-vol', mountPath: '/usr/local/nagent', readOnly: true }]),
      }),
      (pod) => {
        const mount = { name: 'script-vol', mountPath: '/host', ...(readOnly && { readOnly }) };
        if (list === 'containers') pod.spec.containers[1].volumeMounts = [mount];
        else pod.spec.initContainers = [{ name: 'setup', image: 'busybox:1.36', volumeMounts: [mount] }];
      },
    );

  it("refuses the pod's own containers and init containers mounting the injected volume writable", async () => {
    const sidecar = await judged('volume-extension', ownMount('containers', false), nagent);
    assert.equal(
      sidecar.denial,
      'denied the request: annotation knative.netease.dev/volumes: item 0 (volume "script-vol"): spec.containers[1] ("queue-proxy").volumeMounts[0] (volume "script-vol"): readOnly: hostPath "/usr/local/nagent4docker" (volume "script-vol") must be mounted read-only under "/usr/local/nagent4docker" by the volume policy\'s default rule (set "readOnly": true)',
    );
    const init = await judged('volume-extension', ownMount('initContainers', false), nagent);
    assert.match(
      init.denial ?? '(allowed)',
      /spec\.initContainers\[0\] \("setup"\)\.volumeMounts\[0\] \(volume "script-vol"\): readOnly: /,
    );
    const readOnly = await judged('volume-extension', ownMount('initContainers', true), nagent);
    assert.equal(readOnly.denial, undefined, readOnly.denial);
  });

  it("holds the pod's own hostPath mounts to the policy when there are no annotations too", async () => {
    const reviewed = edited(podIn('team-a', { [VOLUMES]: undefined, [MOUNTS]: undefined }), (pod) => {
      pod.spec.volumes.push({ name: 'root', hostPath: { path: '/', type: 'Directory' } });
      pod.spec.containers[0].volumeMounts.push({ name: 'root', mountPath: '/host' });
    });
    const result = await judged('volume-extension', reviewed, nagent);
    assert.match(
      result.denial ?? '(allowed)',
      /^denied the request: spec\.containers\[0\] \("user-container"\)\.volumeMounts\[1\] \(volume "root"\): name: volume "root" is hostPath "\/"/,
    );
  });
});

describe('a hostPath path with ".." (found by the fuzz class mount-sites)', () => {
  it("refuses the pod's own volume whose path climbs back under the prefix, mounted by its own container", async () => {
    // Textually /usr/local/nagent4docker, but on the node `link/..` follows the link first.
    const reviewed = edited(podIn('team-a', { [VOLUMES]: undefined, [MOUNTS]: undefined }), (pod) => {
      pod.spec.volumes.push({
        name: 'host',
        hostPath: { path: '/usr/local/nagent4docker/link/..', type: 'Directory' },
      });
      pod.spec.containers[0].volumeMounts.push({ name: 'host', mountPath: '/host', readOnly: true });
    });
    const result = await judged('volume-extension', reviewed, nagent);
    assert.equal(
      result.denial,
      'denied the request: spec.containers[0] ("user-container").volumeMounts[1] (volume "host"): name: volume "host" is hostPath "/usr/local/nagent4docker/link/..", which the volume policy\'s default rule does not allow (a path with a ".." segment is never allowed)',
    );
  });
});

describe('hostPath.type "" (unset: the kubelet checks nothing)', () => {
  it('is refused under the sample policy, with the reason, while "Directory" is admitted', async () => {
    const untyped = await judged(
      'volume-extension',
      podIn('team-a', {
        [VOLUMES]: JSON.stringify([
          { name: 'agent', hostPath: { path: '/usr/local/nagent4docker/agent.sock' } },
        ]),
        [MOUNTS]: undefined,
      }),
      nagent,
    );
    assert.equal(
      untyped.denial,
      'denied the request: annotation knative.netease.dev/volumes: item 0 (volume "agent"): hostPath.type: "" is not allowed under "/usr/local/nagent4docker" by the volume policy\'s default rule (allowed: "Directory"): the type is unset, for which the kubelet checks nothing, so a socket or device would do; write the type, such as "Directory"',
    );
    const typed = await judged(
      'volume-extension',
      podIn('team-a', { [VOLUMES]: JSON.stringify([scriptVolume]), [MOUNTS]: undefined }),
      nagent,
    );
    assert.equal(typed.denial, undefined, typed.denial);
  });

  it('is not among the types a hostPath prefix allows by default', async () => {
    const { DEFAULT_HOST_PATH_TYPES } = await import('../shared/k8s/volume-policy.ts');
    assert.ok(!DEFAULT_HOST_PATH_TYPES.includes(''));
  });
});

describe('default volume types: Pod Security restricted, inline csi by named driver', () => {
  const volumeCase = (volume: Json) =>
    podIn('team-a', { [VOLUMES]: JSON.stringify([volume]), [MOUNTS]: undefined });
  const nodeReaching: Json[] = [
    { name: 'n', nfs: { server: 'nfs.example.com', path: '/export' } },
    { name: 'i', iscsi: { targetPortal: '10.0.0.1:3260', iqn: 'iqn.2001-04.com.example:storage', lun: 0 } },
    { name: 'f', flexVolume: { driver: 'example/lvm' } },
    { name: 'r', rbd: { monitors: ['10.0.0.1:6789'], image: 'foo' } },
    { name: 'g', gitRepo: { repository: 'https://example.com/r.git' } },
  ];
  for (const volume of nodeReaching) {
    const type = Object.keys(volume).find((k) => k !== 'name');
    it(`refuses ${type} without a policy file`, async () => {
      const result = await judged('volume-extension', volumeCase(volume));
      assert.match(
        result.denial ?? '(allowed)',
        new RegExp(
          `${type}: volume type "${type}" is not allowed by the volume policy's default rule \\(allowed: configMap, csi, downwardAPI, emptyDir, ephemeral, persistentVolumeClaim, projected, secret\\)`,
        ),
      );
    });
  }

  it('refuses an inline csi volume of a driver no rule names, admits one a rule names', async () => {
    const csi = { name: 'c', csi: { driver: 'secrets-store.csi.k8s.io', readOnly: true } };
    const refused = await judged('volume-extension', volumeCase(csi));
    assert.match(
      refused.denial ?? '(allowed)',
      /item 0 \(volume "c"\): csi\.driver: inline CSI driver "secrets-store\.csi\.k8s\.io" is not allowed by the volume policy's default rule \(it names no driver under csiDrivers\)/,
    );
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const file = join(mkdtempSync(join(tmpdir(), 'csi-policy-')), 'policy.yaml');
    writeFileSync(file, 'default:\n  csiDrivers: [secrets-store.csi.k8s.io]\n');
    const admitted = await judged('volume-extension', volumeCase(csi), { VOLUME_POLICY_FILE: file });
    assert.equal(admitted.denial, undefined, admitted.denial);
  });
});

describe('values the apiserver would refuse are refused by the function, naming the annotation', () => {
  const cases: { name: string; volumes?: Json[]; mounts?: Json[]; message: RegExp }[] = [
    {
      name: 'Bidirectional propagation in an unprivileged container',
      volumes: [{ name: 'cache', emptyDir: {} }],
      mounts: [{ name: 'cache', mountPath: '/cache', mountPropagation: 'Bidirectional' }],
      message:
        /volumeMounts: item 0 \(volume "cache"\): mountPropagation: "Bidirectional" is only allowed in a privileged container, and container "user-container" is not/,
    },
    {
      name: 'subPathExpr climbing out of the volume',
      volumes: [{ name: 'cache', emptyDir: {} }],
      mounts: [{ name: 'cache', mountPath: '/cache', subPathExpr: '$(POD)/../..' }],
      message: /volumeMounts: item 0: subPathExpr: must not contain "\.\."/,
    },
    {
      name: 'an absolute subPathExpr',
      volumes: [{ name: 'cache', emptyDir: {} }],
      mounts: [{ name: 'cache', mountPath: '/cache', subPathExpr: '/etc' }],
      message: /volumeMounts: item 0: subPathExpr: must be a relative path/,
    },
    {
      name: 'items[].path escaping with ..',
      volumes: [{ name: 'cfg', configMap: { name: 'app', items: [{ key: 'a', path: '../../etc/passwd' }] } }],
      message: /volumes: item 0: configMap\.items\[0\]\.path: must not contain "\.\."/,
    },
    {
      name: "items[].path starting with .. (the kubelet's own ..data)",
      volumes: [{ name: 's', secret: { secretName: 'app', items: [{ key: 'a', path: '..data' }] } }],
      message: /volumes: item 0: secret\.items\[0\]\.path: must not start with "\.\."/,
    },
    {
      name: 'a malformed sizeLimit',
      volumes: [{ name: 'cache', emptyDir: { sizeLimit: '1.5.5Gi' } }],
      message: /volumes: item 0: emptyDir\.sizeLimit: must be a quantity such as "1Gi"/,
    },
    {
      name: 'a negative sizeLimit',
      volumes: [{ name: 'cache', emptyDir: { sizeLimit: '-1Gi' } }],
      message: /volumes: item 0: emptyDir\.sizeLimit: must not be negative/,
    },
    {
      name: 'a service account token shorter than 10 minutes',
      volumes: [
        {
          name: 'p',
          projected: { sources: [{ serviceAccountToken: { path: 't', expirationSeconds: 60 } }] },
        },
      ],
      message:
        /volumes: item 0: projected\.sources\[0\]\.serviceAccountToken\.expirationSeconds: may not be less than 600/,
    },
    {
      name: 'a projection source with two kinds',
      volumes: [{ name: 'p', projected: { sources: [{ secret: { name: 'a' }, configMap: { name: 'b' } }] } }],
      message: /volumes: item 0: projected\.sources\[0\]: must have exactly one of/,
    },
    {
      name: 'two projected sources writing one path',
      volumes: [
        {
          name: 'p',
          projected: {
            sources: [
              { secret: { name: 'a', items: [{ key: 'k', path: 'x' }] } },
              { configMap: { name: 'b', items: [{ key: 'k', path: 'x' }] } },
            ],
          },
        },
      ],
      message: /volumes: item 0: projected\.sources: path "x" is written by more than one source/,
    },
    {
      name: 'a downwardAPI file with neither fieldRef nor resourceFieldRef',
      volumes: [{ name: 'd', downwardAPI: { items: [{ path: 'labels' }] } }],
      message:
        /volumes: item 0: downwardAPI\.items\[0\]: must have exactly one of fieldRef and resourceFieldRef/,
    },
    {
      name: 'a CSI driver name that is no name',
      volumes: [{ name: 'c', csi: { driver: 'Not A Driver!' } }],
      message: /volumes: item 0: csi\.driver: must be a CSI driver name/,
    },
    {
      name: 'recursiveReadOnly on a writable mount',
      volumes: [{ name: 'cache', emptyDir: {} }],
      mounts: [{ name: 'cache', mountPath: '/cache', recursiveReadOnly: 'Enabled' }],
      message: /volumeMounts: item 0: recursiveReadOnly: may only be set when "readOnly" is true/,
    },
  ];
  for (const c of cases) {
    it(`refuses ${c.name}`, async () => {
      const reviewed = podIn('team-a', {
        [VOLUMES]: c.volumes && JSON.stringify(c.volumes),
        [MOUNTS]: c.mounts && JSON.stringify(c.mounts),
      });
      const result = await judged('volume-extension', reviewed, nagent);
      assert.match(result.denial ?? '(allowed)', c.message);
    });
  }

  it('admits Bidirectional propagation in a privileged user container', async () => {
    const reviewed = edited(
      podIn('team-a', {
        [VOLUMES]: JSON.stringify([{ name: 'cache', emptyDir: {} }]),
        [MOUNTS]: JSON.stringify([{ name: 'cache', mountPath: '/cache', mountPropagation: 'Bidirectional' }]),
      }),
      (pod) => {
        pod.spec.containers[0].securityContext = { privileged: true };
      },
    );
    const result = await judged('volume-extension', reviewed, nagent);
    assert.equal(result.denial, undefined, result.denial);
  });
});

describe('nothing silently ignored', () => {
  it('warns about a misspelt annotation under the prefix (volume-extension and node-selector)', async () => {
    const reviewed = podIn('team-a', {
      [VOLUMES]: undefined,
      [MOUNTS]: undefined,
      'knative.netease.dev/volumemounts': '[]',
      'knative.netease.dev/nodeSelector': undefined,
      'knative.netease.dev/nodeselector': '{"disktype":"ssd"}',
    });
    const expected = [
      'annotation knative.netease.dev/volumemounts: no function reads this key under knative.netease.dev/ (did you mean knative.netease.dev/volumeMounts?)',
      'annotation knative.netease.dev/nodeselector: no function reads this key under knative.netease.dev/ (did you mean knative.netease.dev/nodeSelector?)',
    ];
    for (const name of ['volume-extension', 'node-selector']) {
      const result = await judged(name, reviewed, nagent);
      assert.equal(result.denial, undefined, result.denial);
      assert.deepEqual(result.reply.response.warnings, expected, name);
    }
  });

  it('knows every key the functions read, and no keys of Object.prototype', async () => {
    const { unknownPrefixAnnotations } = await import('../shared/k8s/annotations.ts');
    const keys = [
      'volumes',
      'volumeMounts',
      'nodeSelector',
      'inject',
      'injected',
      'oversale',
      'constructor',
      'toString',
    ];
    const pod = { metadata: { annotations: Object.fromEntries(keys.map((k) => [`p.dev/${k}`, 'x'])) } };
    assert.deepEqual(unknownPrefixAnnotations(pod, 'p.dev'), ['p.dev/constructor', 'p.dev/toString']);
  });

  it('refuses a key written twice in annotation JSON, naming the key and where it is', async () => {
    const text = '[{"name":"script-vol","hostPath":{"path":"/usr/local/nagent4docker","type":"Directory"}}]';
    const mounts = '[{"name":"script-vol","mountPath":"/usr/local/nagent","readOnly":true,"readOnly":false}]';
    const result = await judged(
      'volume-extension',
      podIn('team-a', { [VOLUMES]: text, [MOUNTS]: mounts }),
      nagent,
    );
    assert.equal(
      result.denial,
      'denied the request: annotation knative.netease.dev/volumeMounts: item 0: key "readOnly" is written twice (JSON would keep only the last one): write it once',
    );
    const selector = await judged(
      'node-selector',
      podIn('team-a', { 'knative.netease.dev/nodeSelector': '{"disktype":"ssd","disk\\u0074ype":"hdd"}' }),
    );
    assert.match(selector.denial ?? '(allowed)', /nodeSelector: key "disktype" is written twice/);
  });

  it('finds duplicate keys in one linear pass, deep or wide', () => {
    assert.equal(
      duplicateKeyProblem('{"a":{"b":[1,{"c":1,"d":"}\\"","c":2}]}}'),
      'a.b[1]: key "c" is written twice (JSON would keep only the last one): write it once',
    );
    assert.equal(duplicateKeyProblem('[{"a":1},{"a":1}]'), undefined);
    assert.equal(duplicateKeyProblem('{"a":"a","b":{"a":1}}'), undefined);
    const wide = `{${Array.from({ length: 200_000 }, (_, i) => `"k${i}":${i}`).join(',')},"k0":1}`;
    assert.match(duplicateKeyProblem(wide) ?? '', /key "k0" is written twice/);
    const deep = `${'['.repeat(100_000)}{"x":1,"x":2}${']'.repeat(100_000)}`;
    assert.match(duplicateKeyProblem(deep) ?? '', /key "x" is written twice/);
  });

  it('caps a denial of thousands of problems at a readable length, saying how many more there were', async () => {
    const broken = Array.from({ length: 3_000 }, (_, i) => ({ name: `Bad_${i}`, emptyDir: {} }));
    const text = JSON.stringify(broken);
    assert.ok(text.length > 80_000);
    const result = await judged(
      'volume-extension',
      podIn('team-a', { [VOLUMES]: text, [MOUNTS]: undefined }),
      nagent,
    );
    const message = result.reply.response.status?.message ?? '';
    assert.ok(message.length <= MAX_DENIAL_LENGTH, `${message.length} characters`);
    assert.match(
      message,
      /^annotation knative\.netease\.dev\/volumes: item 0: name: "Bad_0" must be a lowercase RFC 1123 label/,
    );
    const more = /; … and (\d+) more problems$/.exec(message);
    assert.ok(more, message.slice(-200));
    const shown = message.split('; item ').length;
    assert.equal(shown + Number(more[1]), 3_000);
  });

  it('cuts a single problem longer than the cap, and keeps short messages whole', () => {
    assert.equal(denialMessage(['a', 'b']), 'a; b');
    const long = denialMessage(['x'.repeat(10_000), 'second']);
    assert.ok(long.length <= MAX_DENIAL_LENGTH);
    assert.match(long, /… \(\d+ more characters\); … and 1 more problem$/);
  });

  it('knative-service-validation refuses an unknown key under the prefix in the template', async () => {
    const { sample } = await import('./support/reviews.ts');
    const service = edited(sample('knative-service/create-good.v1.json'), (object) => {
      object.spec.template.metadata.annotations['knative.netease.dev/volumemounts'] = '[]';
    });
    const result = await judged('knative-service-validation', service, nagent);
    assert.equal(
      result.denial,
      'denied the request: revision template (spec.template): annotation knative.netease.dev/volumemounts: no function reads this key under knative.netease.dev/ (did you mean knative.netease.dev/volumeMounts?)',
    );
  });

  it('knative-service-validation refuses at apply time what the apiserver would refuse in every pod', async () => {
    const { sample } = await import('./support/reviews.ts');
    const service = edited(sample('knative-service/create-good.v1.json'), (object) => {
      const notes = object.spec.template.metadata.annotations;
      notes[VOLUMES] = JSON.stringify([{ name: 'cache', emptyDir: { sizeLimit: 'lots' } }]);
      notes[MOUNTS] = JSON.stringify([{ name: 'cache', mountPath: '/c', mountPropagation: 'Bidirectional' }]);
    });
    const result = await judged('knative-service-validation', service, nagent);
    assert.match(result.denial ?? '(allowed)', /volumes: item 0: emptyDir\.sizeLimit: must be a quantity/);
  });
});
