// Fills Node's compile cache with every chunk of the bundle; compiled into
// dist/server/compile-cache.mjs. The Dockerfile runs it at build time so that a new container
// starts with its code already compiled instead of compiling it on the first start.
//
// Node keys the cache by its version, the V8 flags and the user id: the Dockerfile runs this as
// the image's user with the CMD's flags, or the cache is not found. Importing a chunk only
// defines things (no chunk starts a server when imported); the entries are not imported.
import { readdirSync } from 'node:fs';
import { enableCompileCache, flushCompileCache } from 'node:module';

const chunks = new URL('./chunks/', import.meta.url);
// Where the entries read it: NODE_COMPILE_CACHE, else the OS temp dir.
const cache = enableCompileCache();
if (!cache.directory) {
  process.stderr.write(`compile-cache: no cache written: ${cache.message ?? 'the compile cache is off'}\n`);
  process.exit(1);
}
const names = readdirSync(chunks).filter((name) => name.endsWith('.mjs'));
for (const name of names) await import(new URL(name, chunks).href);
flushCompileCache();
process.stdout.write(`compile-cache: ${names.length} chunks compiled into ${cache.directory}\n`);
// Imported chunks may hold handles (the OpenTelemetry SDK's timers): nothing is left to do.
process.exit(0);
