#!/usr/bin/env node
// The `faas-admission` command. Plain JavaScript that every Node parses, so an older Node is
// told which Node is needed instead of failing on a `.ts` extension or a newer API.
const NEEDED = 24;
const major = Number(process.versions.node.split('.')[0]);
if (!(major >= NEEDED)) {
  process.stderr.write(
    `faas-admission needs Node ${NEEDED} or later; this is Node ${process.versions.node} (${process.execPath}).\n` +
      'Install Node 24 LTS (https://nodejs.org), or in a clone of the project run it with the\n' +
      "project's own Node: ./dev exec -- faas-admission --help\n",
  );
  process.exit(1);
}
// A clone runs the TypeScript sources (Node strips the types); an installed package carries
// the compiled JavaScript under dist/ (Node does not strip types under node_modules/).
const { existsSync } = await import('node:fs');
const source = new URL('../cli/main.ts', import.meta.url);
const entry = existsSync(source) ? source : new URL('../dist/cli/main.js', import.meta.url);
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2));
