// `npm start`. With FUNCTION set, serves that one function under faas-js-runtime on FUNC_PORT
// (or PORT, default 8080), as a Knative Functions build runs it. Without FUNCTION, serves every
// function on one HTTPS port (runtimes/standalone.ts), for local use.
//
// Both branches are imported on demand: faas-js-runtime takes over SIGINT and SIGTERM as soon as
// it is loaded, which the standalone server must not inherit.
import { enableCompileCache } from 'node:module';
import { ConfigError } from '../shared/errors.ts';

// The code of every module, TypeScript already stripped, is cached on disk (the OS temp dir, or
// NODE_COMPILE_CACHE) for the next start: a restart skips most of the TypeScript transform and
// compilation, about half the start time. (Only NODE_COMPILE_CACHE in the environment covers
// this file too, which keeps the TypeScript transformer out of memory: 10 MB less.) A cache
// that cannot be written is skipped silently.
enableCompileCache();

async function main(): Promise<void> {
  if (process.env.FUNCTION) {
    const { startKnative } = await import('./knative-server.ts');
    await startKnative();
  } else {
    const { startStandalone } = await import('./standalone.ts');
    await startStandalone();
  }
}

try {
  await main();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`faas-admission: ${error.message}\n`);
  process.exit(1);
}
