// A problem with what the user asked for (a flag, a file, a name): the command prints the
// message and exits with `exitCode`, without a stack trace.
export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 2) {
    super(message);
    this.exitCode = exitCode;
  }
}

/** Throws a CliError (exit 2): for use in expressions. */
export function fail(message: string): never {
  throw new CliError(message);
}

/** Runs a subcommand's main as its own script (`node cli/invoke.ts ...`), as the dispatcher does. */
export async function runAsScript(name: string, main: (argv: string[]) => Promise<number>): Promise<void> {
  try {
    process.exitCode = await main(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof CliError)) throw error;
    process.stderr.write(`${name}: ${error.message}\n`);
    process.exitCode = error.exitCode;
  }
}
