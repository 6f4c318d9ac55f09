// A Secret volume as the kubelet writes it (its AtomicWriter): the files live in a timestamped
// folder, `..data` links to it, each key is a link through `..data`; an update writes a new
// folder and swaps `..data` in one rename, then removes the old folder.
import { mkdirSync, readlinkSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface SecretVolume {
  readonly dir: string;
  /** Projects the Secret's data (key -> content) as the kubelet does; returns at once. */
  project(data: Record<string, string>): void;
}

export function secretVolume(dir: string): SecretVolume {
  mkdirSync(dir, { recursive: true });
  let generation = 0;
  let keys = new Set<string>();
  return {
    dir,
    project(data) {
      generation++;
      const folder = `..${new Date().toISOString().replace(/[-:.]/g, '_')}_${generation}`;
      mkdirSync(join(dir, folder));
      // The kubelet's defaultMode 0644: readable by a non-root server.
      for (const [key, content] of Object.entries(data))
        writeFileSync(join(dir, folder, key), content, { mode: 0o644 });
      let previous: string | undefined;
      try {
        previous = readlinkSync(join(dir, '..data'));
      } catch {
        previous = undefined;
      }
      symlinkSync(folder, join(dir, '..data_tmp'));
      renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
      for (const key of Object.keys(data)) {
        if (!keys.has(key)) symlinkSync(join('..data', key), join(dir, key));
      }
      keys = new Set([...keys, ...Object.keys(data)]);
      if (previous) rmSync(join(dir, previous), { recursive: true, force: true });
    },
  };
}
