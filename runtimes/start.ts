// `npm start`. With FUNCTION set, serves that one function under faas-js-runtime on FUNC_PORT
// (or PORT, default 8080), as a Knative Functions build runs it. Without FUNCTION, serves every
// function on one HTTPS port (runtimes/standalone.ts), for local use.
//
// Both branches are imported on demand: faas-js-runtime takes over SIGINT and SIGTERM as soon as
// it is loaded, which the standalone server must not inherit.
import { ConfigError } from '../shared/errors.ts';

interface StandaloneModule {
  startStandalone(): Promise<unknown>;
}

async function startStandaloneServer(): Promise<void> {
  // A variable specifier: the module may be absent from a build, which is reported below.
  const specifier = './standalone.ts';
  let standalone: StandaloneModule;
  try {
    standalone = (await import(specifier)) as StandaloneModule;
  } catch (error) {
    if ((error as { code?: string }).code !== 'ERR_MODULE_NOT_FOUND') throw error;
    throw new ConfigError(
      'the standalone HTTPS server (runtimes/standalone.ts) is not in this build: set FUNCTION to serve one function under faas-js-runtime',
    );
  }
  await standalone.startStandalone();
}

async function main(): Promise<void> {
  if (process.env.FUNCTION) {
    const { startKnative } = await import('./knative-server.ts');
    await startKnative();
  } else {
    await startStandaloneServer();
  }
}

try {
  await main();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`faas-admission: ${error.message}\n`);
  process.exit(1);
}
