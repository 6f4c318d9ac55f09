// Serves the function named by FUNCTION under faas-js-runtime, in this process: the same
// library, server, routes and variables as its CLI (`faas-js-runtime runtimes/knative.ts`),
// with defaults fit for a webhook (8 MiB bodies, Knative's PORT), the bounds every runtime
// keeps (timeouts, bytes of bodies in flight: runtimes/intake.ts), the same health paths as
// every runtime, and a bad configuration reported as one line instead of a stack trace.
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { InvokerOptions } from 'faas-js-runtime';
import { installFastifyAdditions, instancesWithAdditions } from './faas-fastify.ts';
import { faasOptions } from './faas-options.ts';
import { guardIntake } from './intake.ts';
import * as knative from './knative.ts';
import { clientErrorListener, timeoutOptions } from './lifecycle.ts';
import { PROBE_PATHS } from './probes.ts';

export async function startKnative(env: NodeJS.ProcessEnv = process.env): Promise<Server> {
  const options = faasOptions(env);
  const { intake } = options;
  const limits = { ...intake, bodyLimit: options.bodyLimit };
  installFastifyAdditions({
    options: {
      onProtoPoisoning: 'ignore',
      onConstructorPoisoning: 'ignore',
      // fastify then sets none of the server's timeouts itself: these are the project's.
      serverFactory: (handler: RequestListener) =>
        createServer(timeoutOptions(intake), guardIntake(handler, limits)),
      keepAliveTimeout: intake.keepAliveTimeoutSeconds * 1000,
      clientErrorHandler: clientErrorListener(intake),
    },
    configure(instance) {
      // faas-js-runtime serves /health/readiness and /health/liveness; the others answer as they do.
      for (const [path, check] of Object.entries(PROBE_PATHS)) {
        if (path.startsWith('/health/')) continue;
        instance.get(path, async (request, reply) => {
          const probe = check === 'ready' ? knative.readiness : knative.liveness;
          const answer = await (probe as (request: unknown, reply: unknown) => Promise<string>)(
            request,
            reply,
          );
          return reply.header('content-type', 'text/plain; charset=utf-8').send(answer);
        });
      }
    },
  });
  const { default: faas } = await import('faas-js-runtime');
  // The port goes as a string, the way the CLI passes FUNC_PORT (the runtime turns a numeric 0
  // into 8080); the declared options type lacks bodyLimit, which the runtime reads all the same.
  const runtimeOptions = {
    port: String(options.port),
    logLevel: options.logLevel,
    bodyLimit: options.bodyLimit,
    includeRaw: false,
  } as unknown as InvokerOptions;
  const before = instancesWithAdditions();
  const server = await faas.start(knative, runtimeOptions);
  if (instancesWithAdditions() === before) {
    server.close();
    throw new Error('faas-js-runtime made its server without the project’s fastify options');
  }
  const { port } = server.address() as AddressInfo;
  const name = knative.servedFunction()?.name;
  const limit = (options.bodyLimit / 1024 / 1024).toFixed(1);
  process.stdout.write(`${name}: faas-js-runtime listening on port ${port} (body limit ${limit} MiB)\n`);
  return server;
}
