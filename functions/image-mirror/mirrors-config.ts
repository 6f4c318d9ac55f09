// The image-mirror configuration format, parsed once at start.
//
//   IMAGE_MIRRORS="docker.io=mirror.example.com/dockerhub, quay.io=mirror.example.com/quay"
//
// Entries are `<registry>=<mirror>`, separated by commas or new lines (`#` starts a comment).
// <registry> is a registry host (`docker.io` also covers `index.docker.io` and the implicit
// `nginx`, `user/app` forms); <mirror> is a host, optionally with a port and a path prefix,
// that serves the same repositories under that prefix: docker.io/library/nginx:1.25 becomes
// mirror.example.com/dockerhub/library/nginx:1.25.
import { configEntries } from '../../shared/config.ts';
import {
  normalizeRegistry,
  registryHostProblem,
  repositoryPathProblem,
} from '../../shared/k8s/image-reference.ts';

/** Registry (normalised host) -> mirror prefix (`host[:port][/path]`). */
export type Mirrors = ReadonlyMap<string, string>;

/** Parses the entries of `text`; throws an Error whose message names the entry and problem. */
export function parseMirrors(text: string): Mirrors {
  const mirrors = new Map<string, string>();
  for (const entry of configEntries(text)) {
    const eq = entry.indexOf('=');
    if (eq < 0) throw new Error(`entry "${entry}": expected <registry>=<mirror>`);
    const source = entry.slice(0, eq).trim();
    const mirror = entry
      .slice(eq + 1)
      .trim()
      .replace(/\/+$/, '');
    const sourceProblem = registryHostProblem(source);
    if (sourceProblem) throw new Error(`entry "${entry}": registry "${source}" ${sourceProblem}`);
    const problem = mirrorProblem(mirror);
    if (problem) throw new Error(`entry "${entry}": mirror "${mirror}" ${problem}`);
    const registry = normalizeRegistry(source);
    if (mirrors.has(registry)) throw new Error(`entry "${entry}": registry "${registry}" is given twice`);
    mirrors.set(registry, mirror);
  }
  // A mirror that is itself mirrored would be rewritten again on the next run.
  for (const [registry, mirror] of mirrors) {
    const host = normalizeRegistry(mirror.split('/')[0] ?? '');
    if (mirrors.has(host)) {
      throw new Error(
        `entry "${registry}=${mirror}": the mirror's host "${host}" is itself mirrored; images would be rewritten twice`,
      );
    }
  }
  return mirrors;
}

function mirrorProblem(mirror: string): string | undefined {
  const [host = '', ...path] = mirror.split('/');
  // The host must read as a host, or the rewritten image would be taken for a Docker Hub one.
  if (!/[.:]/.test(host) && host !== 'localhost') {
    return 'must start with a registry host containing "." or ":" (or localhost), such as mirror.example.com/dockerhub';
  }
  const hostProblem = registryHostProblem(host);
  if (hostProblem) return `host ${hostProblem}`;
  return path.length > 0 ? repositoryPathProblem(path.join('/')) : undefined;
}
