// `npm start`, as the Node buildpack (`func deploy`) runs it, compiled into dist/server/main.mjs
// by `npm run build`: FUNCTION picks the function, served on PORT by Node's HTTP server (or by
// faas-js-runtime, FUNCTION_SERVER=faas-js-runtime); without FUNCTION every function over HTTPS
// for local use (runtimes/launch.ts).
//
// Node's compile cache (the OS temp dir, or NODE_COMPILE_CACHE) is on before anything else is
// loaded: a restart skips compiling what the last start compiled. A cache that cannot be
// written is skipped silently.
import { enableCompileCache } from 'node:module';

enableCompileCache();
const { launch } = await import('./launch.ts');
await launch('standalone');
