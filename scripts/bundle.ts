// `npm run build` (after tsc): what deployed instances run, bundled with esbuild into
// dist/server/ — main.mjs (`npm start`), image.mjs (the Dockerfile's CMD) and compile-cache.mjs
// (the Dockerfile's step that compiles the chunks into Node's compile cache). One file per entry
// and a chunk per function and per rarely needed part (the OpenTelemetry SDK and exporters,
// faas-js-runtime's glue, the standalone server, certificate tooling), each loaded on first use:
// a start reads a few files instead of hundreds of modules through Node's loader.
//
// - Node's built-in modules are required, not imported: an ES import of node:http builds its
//   module namespace, which loads Node's bundled fetch (undici) for its lazy exports: tens of
//   milliseconds of every start for nothing.
// - faas-js-runtime stays in node_modules: its fastify is swapped through require's cache
//   (runtimes/faas-fastify.ts), and it cannot run as an ES module.
// - Files are written only when their content changes, each by rename, so a process starting
//   while another build runs never reads half a file.
//
//   node scripts/bundle.ts [outdir]      (default dist/server)
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { build, type Plugin } from 'esbuild';

const root = resolve(import.meta.dirname, '..');
export const ENTRIES = {
  main: 'runtimes/main.ts',
  image: 'runtimes/image.ts',
  'compile-cache': 'runtimes/compile-cache.ts',
} as const;

const builtins = new Set(builtinModules.filter((name) => !name.startsWith('_')));
const isBuiltin = (path: string) => path.startsWith('node:') || builtins.has(path.split('/')[0] ?? '');

/** Every static import of a built-in module becomes require('node:…'), read lazily through esbuild's ESM interop. */
const requireBuiltins: Plugin = {
  name: 'require-builtins',
  setup(build) {
    build.onResolve({ filter: /^[a-z_:/]+$/ }, (args) => {
      if (!isBuiltin(args.path)) return undefined;
      const path = args.path.startsWith('node:') ? args.path : `node:${args.path}`;
      // A dynamic import() stays one (it runs when needed, and wants the named exports); a
      // CommonJS wrapper chunk would offer only `default`, and exporters read `{ Agent }` from it.
      if (args.namespace === 'builtin' || args.kind === 'dynamic-import') return { path, external: true };
      return { path, namespace: 'builtin' };
    });
    build.onLoad({ filter: /.*/, namespace: 'builtin' }, (args) => ({
      contents: `module.exports = require(${JSON.stringify(args.path)});`,
      loader: 'js',
    }));
  },
};

// CommonJS packages inside ES chunks still call require() and read __dirname.
const BANNER = [
  "import { createRequire as __bundleRequire } from 'node:module';",
  "import { fileURLToPath as __bundlePath } from 'node:url';",
  'const require = __bundleRequire(import.meta.url);',
  'const __filename = __bundlePath(import.meta.url);',
  "const __dirname = __filename.slice(0, __filename.lastIndexOf('/'));",
].join('\n');

function writeIfChanged(path: string, contents: Uint8Array): boolean {
  try {
    if (Buffer.compare(readFileSync(path), contents) === 0) return false;
  } catch {
    // not there yet
  }
  mkdirSync(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, contents);
  renameSync(temporary, path);
  return true;
}

/** Bundles `entries` (output name to source) into `outdir`; the bench bundles its floor server with it too. */
export async function bundle(
  outdir = join(root, 'dist', 'server'),
  entries: Readonly<Record<string, string>> = ENTRIES,
): Promise<string[]> {
  const result = await build({
    absWorkingDir: root,
    entryPoints: Object.entries(entries).map(([out, input]) => ({ in: input, out })),
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node24',
    outExtension: { '.js': '.mjs' },
    chunkNames: 'chunks/[name]-[hash]',
    external: ['faas-js-runtime'],
    plugins: [requireBuiltins],
    banner: { js: BANNER },
    // No keepNames: its helper defines `name` on every function as it is created, closures on the
    // hot path included (immer's proxies, each request's handlers): 11% of the CPU per review and
    // 6 MB of the peak under load (docs/bench.md). Classes keep their names by inference
    // (`HttpError = class extends Error`), and the project's errors set `name` themselves.
    minifyWhitespace: true,
    minifySyntax: true,
    legalComments: 'none',
    logLevel: 'warning',
    metafile: true,
    write: false,
  });
  const written = new Set<string>();
  for (const file of result.outputFiles) {
    writeIfChanged(file.path, file.contents);
    written.add(file.path);
  }
  // Chunks of an earlier build that this one no longer has.
  const chunks = join(outdir, 'chunks');
  for (const name of readdirSync(chunks)) {
    const path = join(chunks, name);
    if (!written.has(path) && !name.endsWith('.tmp')) rmSync(path, { force: true });
  }
  return [...written].map((path) => relative(root, path));
}

if (import.meta.main) {
  const outdir = resolve(process.argv[2] ?? join(root, 'dist', 'server'));
  const files = await bundle(outdir);
  process.stdout.write(`bundle: ${files.length} files in ${relative(root, outdir) || '.'}\n`);
}
