// What a deployed instance starts (runtimes/main.ts for `npm start`, runtimes/image.ts for the
// image), each server's code loaded only when chosen:
// - FUNCTION names a function: that function on Node's own HTTP server (function-server.ts),
//   or under faas-js-runtime with FUNCTION_SERVER=faas-js-runtime (knative-server.ts);
// - otherwise `fallback`: every function over HTTPS (standalone.ts, `npm start` for local use)
//   or over HTTP by path, a chain, or FUNCTION's error (openfaas.ts, the image).
// A ConfigError ends the process with status 1 and its one line.
import { ConfigError } from '../shared/errors.ts';

export const FUNCTION_SERVERS = ['node', 'faas-js-runtime'] as const;

export type Fallback = 'standalone' | 'openfaas';

function functionServer(env: NodeJS.ProcessEnv): (typeof FUNCTION_SERVERS)[number] {
  const chosen = env.FUNCTION_SERVER || 'node';
  if (!(FUNCTION_SERVERS as readonly string[]).includes(chosen)) {
    throw new ConfigError(`FUNCTION_SERVER: "${chosen}" is not one of ${FUNCTION_SERVERS.join(', ')}`);
  }
  return chosen as (typeof FUNCTION_SERVERS)[number];
}

async function start(fallback: Fallback, env: NodeJS.ProcessEnv): Promise<void> {
  const server = functionServer(env);
  if (env.FUNCTION && server === 'faas-js-runtime') {
    const { startKnative } = await import('./knative-server.ts');
    await startKnative(env);
    return;
  }
  if (env.FUNCTION) {
    const { namesOneFunction } = await import('./selected-function.ts');
    // A chain's name, or a name the image's server explains (it lists chains too).
    if (fallback === 'standalone' || namesOneFunction(env)) {
      const { startFunctionServer } = await import('./function-server.ts');
      await startFunctionServer({ env });
      return;
    }
  }
  if (fallback === 'openfaas') {
    const { startOpenFaas } = await import('./openfaas.ts');
    await startOpenFaas({ env });
  } else {
    const { startStandalone } = await import('./standalone.ts');
    await startStandalone({ env });
  }
}

export async function launch(fallback: Fallback, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  try {
    await start(fallback, env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`faas-admission: ${error.message}\n`);
    process.exit(1);
  }
}
