// func.yaml (Knative Functions) at the top and one per function, checked against the func
// CLI's own JSON schema (draft-04) and against the registry they are generated from.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import ajvDraft04 from 'ajv-draft-04';
import ajvFormats from 'ajv-formats';
import { functions } from '../functions/index.ts';
import { BODY_LIMIT } from '../runtimes/faas-options.ts';
import {
  type FuncYaml,
  funcYamlPath,
  funcYamlStatus,
  readYaml,
  renderFuncYaml,
  templatePath,
} from '../scripts/func-yaml.ts';
import { projectRoot, sharedDir } from './support/apiserver.ts';

// CommonJS packages: the default import is module.exports, which carries the class as .default.
const ajv = new ajvDraft04.default({ allErrors: true });
ajvFormats.default(ajv);
const validate = ajv.compile(
  JSON.parse(readFileSync(join(sharedDir, 'schemas', 'func_yaml-schema.json'), 'utf8')),
);

function schemaErrors(doc: FuncYaml): string {
  return validate(doc) ? '' : ajv.errorsText(validate.errors, { separator: '\n' });
}

const envs = (doc: FuncYaml) =>
  Object.fromEntries(doc.run.envs.map((env: { name: string; value: string }) => [env.name, env.value]));

const functionDirs = readdirSync(join(projectRoot, 'functions'), { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name);

describe('func.yaml', () => {
  const top = readYaml(templatePath);

  it('is valid against the func CLI schema, here and for every function', () => {
    assert.equal(schemaErrors(top), '', 'func.yaml');
    for (const name of functions.keys()) {
      assert.equal(schemaErrors(readYaml(funcYamlPath(name))), '', `functions/${name}/func.yaml`);
    }
  });

  it('is refused by the schema when wrong, so the check above can fail', () => {
    assert.match(schemaErrors({ ...top, deploy: { options: { scale: { min: -1 } } } }), /min must be >= 0/);
    assert.match(schemaErrors({ ...top, created: 'today' }), /date-time/);
    assert.match(schemaErrors({ ...top, build: { ...top.build, builder: 'docker' } }), /allowed values/);
  });

  it('builds TypeScript with buildpacks and runs it the way npm start does', () => {
    assert.equal(top.specVersion, '0.36.0');
    assert.equal(top.runtime, 'typescript');
    assert.equal(top.build.builder, 'pack');
    const buildEnvs = Object.fromEntries(
      top.build.buildEnvs.map((env: { name: string; value: string }) => [env.name, env.value]),
    );
    assert.equal(buildEnvs.BP_NODE_RUN_SCRIPTS, 'build');
    assert.match(buildEnvs.BP_NODE_VERSION, /^24\./);
    const pkg = JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8'));
    assert.ok(pkg.scripts.build, 'BP_NODE_RUN_SCRIPTS=build needs a build script');
  });

  it('keeps one warm instance, bounds memory and raises the body limit', () => {
    assert.equal(
      top.deploy.options.scale.min,
      1,
      'scale from one: no cold start inside the apiserver timeout',
    );
    assert.ok(top.deploy.options.resources.requests.memory);
    assert.ok(top.deploy.options.resources.limits.memory);
    assert.equal(Number(envs(top).FUNC_BODY_LIMIT), BODY_LIMIT);
    assert.deepEqual(top.deploy.labels, [
      { key: 'networking.knative.dev/visibility', value: 'cluster-local' },
    ]);
  });

  it('names a registered function, and each function has its own generated func.yaml', () => {
    assert.equal(envs(top).FUNCTION, top.name);
    assert.ok(functions.has(top.name));
    for (const file of funcYamlStatus()) {
      assert.ok(file.current, `${file.path} is missing or out of date: run npm run func-yaml`);
      const doc = readYaml(file.path);
      assert.equal(doc.name, file.name);
      assert.equal(envs(doc).FUNCTION, file.name);
    }
    assert.deepEqual(functionDirs.sort(), [...functions.keys()].sort(), 'one directory per function');
  });
});

describe('renderFuncYaml', () => {
  const template = readYaml(templatePath);

  it('takes the build, runtime variables, scaling and probes from the template', () => {
    const stale = structuredClone(renderFuncYaml(template, 'node-selector'));
    stale.deploy.options.scale.min = 0;
    stale.run.envs = [{ name: 'FUNCTION', value: 'volume-extension' }];
    const doc = renderFuncYaml(template, 'node-selector', stale);
    assert.equal(doc.deploy.options.scale.min, 1);
    assert.deepEqual(envs(doc), { ...envs(template), FUNCTION: 'node-selector' });
  });

  it("keeps the function's own variables and what func deploy recorded", () => {
    const deployed: FuncYaml = {
      ...renderFuncYaml(template, 'label-stamping'),
      namespace: 'webhooks',
      deploy: {
        ...template.deploy,
        namespace: 'webhooks',
        image: 'registry.example.com/faas-admission@sha256:0123',
      },
    };
    deployed.run.envs.push({ name: 'STAMP_LABELS', value: 'team.example.com/owner=platform' });
    const doc = renderFuncYaml(template, 'label-stamping', deployed);
    assert.deepEqual(doc, deployed);
    assert.equal(schemaErrors(doc), '');
  });
});
