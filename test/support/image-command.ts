// The image's command as the Dockerfile writes it: its CMD, and the Node flags of that CMD that
// every start of the bundle shares (npm start, the compile-cache step, the tests and the bench
// that start the bundle), read from here so that a change to the Dockerfile moves them all.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from './apiserver.ts';

export function dockerfileLines(): string[] {
  return readFileSync(join(projectRoot, 'Dockerfile'), 'utf8').split('\n');
}

/** The final CMD, `["node", ...flags, entry]`. */
export function imageCommand(): string[] {
  const cmd = dockerfileLines().findLast((line) => line.startsWith('CMD '));
  if (!cmd) throw new Error('Dockerfile: no CMD');
  return JSON.parse(cmd.slice(4)) as string[];
}

/** The CMD's Node flags: what lies between `node` and the entry file. */
export function imageNodeFlags(): string[] {
  return imageCommand().slice(1, -1);
}
