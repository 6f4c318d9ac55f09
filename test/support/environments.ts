// Environments that configure every function at once (the variables do not collide), as one
// server serving them all is configured: for the fuzz and load runs.
import { join } from 'node:path';
import { projectRoot } from './apiserver.ts';

const policy = join(projectRoot, 'samples', 'policies', 'nagent.yaml');
const stamp = 'team.example.com/owner=platform,example.com/user={user},example.com/ns={namespace}';
const needed = {
  SIDECAR_TEMPLATE_FILE: join(projectRoot, 'samples', 'sidecar-injection', 'template.yaml'),
  IMAGE_MIRRORS: 'docker.io=mirror.example.com/hub,gcr.io=mirror.example.com/gcr',
  POD_SELECTOR: 'serving.knative.dev/service',
  OVERSALE_RULES: 'node-role.example.com/oversale=true:cpu=2,memory=1.5',
};

/**
 * With the sample volume policy and conflicts refused; with the default policy and the
 * override flags on.
 */
export const ENVIRONMENTS: readonly Record<string, string>[] = [
  { ...needed, VOLUME_POLICY_FILE: policy, STAMP_LABELS: stamp },
  { ...needed, STAMP_LABELS: stamp, OVERWRITE_LABELS: 'true', NODE_SELECTOR_OVERRIDE: 'true' },
];
