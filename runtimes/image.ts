// The image's command (Dockerfile CMD), compiled into dist/server/image.mjs by `npm run build`:
// FUNCTION picks the function, served on PORT (8080) by Node's HTTP server (or by
// faas-js-runtime, FUNCTION_SERVER=faas-js-runtime); without FUNCTION, or naming a chain, the
// OpenFaaS server (runtimes/openfaas.ts) serves them by path (runtimes/launch.ts).
//
// Node's compile cache is on before anything else is loaded: NODE_COMPILE_CACHE (the image
// ships one made at build time), else the OS temp dir.
import { enableCompileCache } from 'node:module';

enableCompileCache();
const { launch } = await import('./launch.ts');
await launch('openfaas');
