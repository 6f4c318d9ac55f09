// `faas-admission <command> ...`: a table of subcommands, each a module exporting
// `main(argv): Promise<number>` (the exit code), imported only when it is the one run.
import { readFileSync } from 'node:fs';
import { CliError } from './errors.ts';

type Main = (argv: string[]) => Promise<number>;

interface Command {
  readonly summary: string;
  readonly load: () => Promise<{ main: Main }>;
}

export const commands: ReadonlyMap<string, Command> = new Map<string, Command>([
  [
    'invoke',
    {
      summary: 'answer a review (or a manifest) with one function, locally',
      load: () => import('./invoke.ts'),
    },
  ],
  [
    'test',
    {
      summary: 'run YAML test files: cases with expected answers',
      load: () => import('./test-files/command.ts'),
    },
  ],
  [
    'check',
    {
      summary: 'why an object is (not) sent to each webhook of a live cluster; its admission budget',
      load: () => import('./check/command.ts'),
    },
  ],
  [
    'cert',
    {
      summary: 'make a CA and serving certificate for clusters without cert-manager',
      load: () => import('./cert.ts'),
    },
  ],
  [
    'cert-upkeep',
    { summary: 'keep the serving certificate and caBundle current', load: () => sibling('cert-upkeep') },
  ],
  [
    'manifests',
    { summary: 'write (or --check) the deploy/ manifests', load: () => import('../scripts/manifests.ts') },
  ],
]);

/** A module beside this one by name, for a command whose file may be absent from a build. */
function sibling(name: string): Promise<{ main: Main }> {
  const extension = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  return import(new URL(`./${name}${extension}`, import.meta.url).href) as Promise<{ main: Main }>;
}

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL(packageJsonPath(), import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

/** package.json from cli/main.ts in a clone, or from dist/cli/main.js in a package. */
function packageJsonPath(): string {
  return import.meta.url.includes('/dist/cli/') ? '../../package.json' : '../package.json';
}

export function usage(): string {
  const width = Math.max(...[...commands.keys()].map((name) => name.length));
  return [
    'usage: faas-admission <command> [arguments]   (faas-admission <command> --help for its own)',
    '',
    'commands:',
    ...[...commands].map(([name, { summary }]) => `  ${name.padEnd(width)}  ${summary}`),
    '',
    '  --help, -h     this text',
    '  --version, -v  the version',
    '',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    (name === undefined ? process.stderr : process.stdout).write(usage());
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-v') {
    process.stdout.write(`${version()}\n`);
    return 0;
  }
  const command = commands.get(name);
  if (!command) {
    process.stderr.write(`faas-admission: unknown command "${name}"\n${usage()}`);
    return 2;
  }
  try {
    const module = await command.load().catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ERR_MODULE_NOT_FOUND' && String(error.message).includes(name))
        throw new CliError(`the ${name} command is not part of this build`);
      throw error;
    });
    return await module.main(rest);
  } catch (error) {
    if (error instanceof CliError) {
      process.stderr.write(`${name}: ${error.message}\n`);
      return error.exitCode;
    }
    throw error;
  }
}
