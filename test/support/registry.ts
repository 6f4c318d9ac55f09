// What the generic suites need to run every registered function: a configuration it starts
// with, the path the apiserver calls it on, and a review it acts on. A new function adds its
// sample here once (and its variables, if it needs configuration); every generic suite (left
// alone, versions, dry run, idempotence, an untouched request) then covers it.
import { join } from 'node:path';
import { functions } from '../../functions/index.ts';
import type { RequestInfo } from '../../shared/request-info.ts';
import { projectRoot } from './apiserver.ts';
import { type Json, sample, sharedFixture } from './reviews.ts';

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
  // {user}: a label from the requester, which a dry run must stamp as the real request does.
  'label-stamping': { STAMP_LABELS: 'a=b,example.com/by={user}' },
};

/** How the apiserver calls each: sidecar-injection on its opted-in namespaces' entry. */
export const FUNCTION_INFO: Readonly<Record<string, RequestInfo>> = {
  'sidecar-injection': { path: '/sidecar-injection/namespace' },
};

const knativePod = sharedFixture('knative-pod-netease-annotations.v1.json');

/**
 * A review each function acts on, under FUNCTION_ENV: a mutating function patches it, a
 * validating one refuses it. The generic suites (test/every-function.test.ts) fail for a
 * registered function with none.
 */
export const FUNCTION_SAMPLE: Readonly<Record<string, Json>> = {
  'volume-extension': knativePod,
  'node-selector': knativePod,
  'label-stamping': knativePod,
  'sidecar-injection': knativePod,
  'image-mirror': knativePod,
  'config-volume': knativePod,
  'node-oversale': sample('node-oversale/first-heartbeat.json'),
  'knative-service-validation': sample('knative-service/create-broken-annotations.v1.json'),
};

/** Every registered function's name. */
export const registeredNames = (): string[] => [...functions.keys()];
