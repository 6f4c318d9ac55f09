// What the generic suites need to run every registered function: a configuration it starts
// with, and the path the apiserver calls it on. A function that needs configuration adds its
// variables here once; every generic suite (left alone, versions, dry run) then covers it.
import { join } from 'node:path';
import { functions } from '../../functions/index.ts';
import type { RequestInfo } from '../../shared/request-info.ts';
import { projectRoot } from './apiserver.ts';

export const FUNCTION_ENV: Readonly<Record<string, Record<string, string>>> = {
  // The shared fixture injects hostPath /usr/local/nagent4docker, which this policy allows.
  'volume-extension': {
    VOLUME_POLICY_FILE: join(projectRoot, 'test', 'support', 'policies', 'untyped-hostpath.yaml'),
  },
  'sidecar-injection': {
    SIDECAR_TEMPLATE_FILE: join(projectRoot, 'samples', 'sidecar-injection', 'template.yaml'),
  },
  'image-mirror': { IMAGE_MIRRORS: 'docker.io=mirror.example.com/hub,gcr.io=mirror.example.com/gcr' },
  'config-volume': { POD_SELECTOR: 'serving.knative.dev/service' },
  'node-oversale': { OVERSALE_RULES: 'node-role.example.com/oversale=true:cpu=2,memory=1.5' },
  'label-stamping': { STAMP_LABELS: 'a=b' },
};

/** How the apiserver calls each: sidecar-injection on its opted-in namespaces' entry. */
export const FUNCTION_INFO: Readonly<Record<string, RequestInfo>> = {
  'sidecar-injection': { path: '/sidecar-injection/namespace' },
};

/** Every registered function's name. */
export const registeredNames = (): string[] => [...functions.keys()];
