// Serves the function named by FUNCTION under faas-js-runtime, in this process: the same
// library, server, routes and variables as its CLI (`faas-js-runtime runtimes/knative.ts`),
// with defaults fit for a webhook (8 MiB bodies, Knative's PORT) and a bad configuration
// reported as one line instead of a stack trace.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import faas, { type InvokerOptions } from 'faas-js-runtime';
import { faasOptions } from './faas-options.ts';
import * as knative from './knative.ts';

export async function startKnative(env: NodeJS.ProcessEnv = process.env): Promise<Server> {
  const options = faasOptions(env);
  // The port goes as a string, the way the CLI passes FUNC_PORT (the runtime turns a numeric 0
  // into 8080); the declared options type lacks bodyLimit, which the runtime reads all the same.
  const runtimeOptions = { ...options, port: String(options.port) } as unknown as InvokerOptions;
  const server = await faas.start(knative, runtimeOptions);
  const { port } = server.address() as AddressInfo;
  const name = knative.servedFunction()?.mutation.name;
  const limit = (options.bodyLimit / 1024 / 1024).toFixed(1);
  process.stdout.write(`${name}: faas-js-runtime listening on port ${port} (body limit ${limit} MiB)\n`);
  return server;
}
