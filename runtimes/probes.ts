// The health paths every runtime answers, so that one image passes whichever probes it is
// deployed with: Knative's (faas-js-runtime's /health/readiness and /health/liveness, what
// func.yaml and deploy/functions.yaml name) and OpenFaaS's /_/health (stack.yml).
import type { HealthCheck } from './server.ts';

export const PROBE_PATHS: Readonly<Record<string, HealthCheck>> = {
  '/health/readiness': 'ready',
  '/health/liveness': 'live',
  '/_/health': 'ready',
};
