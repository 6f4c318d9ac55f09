// Container image references, read the way the container runtime reads them (the grammar of
// github.com/distribution/reference and Docker's normalisation):
//
//   [host[:port]/]path[:tag][@digest]
//
// - The first path component is a registry host when it contains '.' or ':', is
//   `localhost`, or has an upper-case letter; otherwise the image is on Docker Hub.
// - Docker Hub is `docker.io` (`index.docker.io` is the legacy name of the same), and its
//   one-component names are official images under `library/`:
//   `nginx` -> docker.io/library/nginx, `user/app` -> docker.io/user/app.
// - The tag follows the last ':' of the last path component only (`host:5000/app` has none).
// - The digest follows '@' (`@sha256:<64 hex>`).

export interface ImageReference {
  /** Registry host with optional port, lower-case; `docker.io` for Docker Hub. */
  readonly registry: string;
  /** Repository path inside the registry, `library/nginx` for official Docker Hub images. */
  readonly repository: string;
  readonly tag?: string;
  readonly digest?: string;
}

export const DOCKER_HUB = 'docker.io';
const DOCKER_HUB_ALIASES = new Set(['docker.io', 'index.docker.io']);

const HOST_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const HOST = new RegExp(`^(?:${HOST_COMPONENT}(?:\\.${HOST_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?$`);
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/;
const SHA256_DIGEST = /^sha256:[0-9a-f]{64}$/;
const MAX_NAME_LENGTH = 255;

/** The Docker Hub aliases map to `docker.io`; hosts compare case-insensitively. */
export function normalizeRegistry(host: string): string {
  const lower = host.toLowerCase();
  return DOCKER_HUB_ALIASES.has(lower) ? DOCKER_HUB : lower;
}

/** The problem with `host` as a registry host (`name[:port]`), or undefined. */
export function registryHostProblem(host: string): string | undefined {
  return HOST.test(host) ? undefined : 'must be a registry host such as registry.example.com or host:5000';
}

/** The problem with `path` as a repository path (`a/b/c`, lower-case components), or undefined. */
export function repositoryPathProblem(path: string): string | undefined {
  const bad = path.split('/').find((component) => !PATH_COMPONENT.test(component));
  if (bad === undefined) return undefined;
  return `path component "${bad}" must be lower-case letters and digits, separated by '.', '_', '__' or '-'`;
}

/** Parses an image reference; returns the problem as a string when it is not one. */
export function parseImageReference(image: string): ImageReference | string {
  if (image === '') return 'is empty';
  if (image.trim() !== image) return 'has leading or trailing spaces';

  let rest = image;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest))
      return `digest "${digest}" must be <algorithm>:<hex>, such as sha256:<64 hex digits>`;
    if (digest.startsWith('sha256:') && !SHA256_DIGEST.test(digest)) {
      return `digest "${digest}" must be sha256: and 64 lower-case hex digits`;
    }
  }

  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) return `tag "${tag}" must be up to 128 letters, digits, '_', '.' or '-'`;
  }
  if (rest.length > MAX_NAME_LENGTH) return `name must be no more than ${MAX_NAME_LENGTH} characters`;

  const slash = rest.indexOf('/');
  const first = slash >= 0 ? rest.slice(0, slash) : '';
  const hasHost =
    slash >= 0 && (/[.:]/.test(first) || first === 'localhost' || first !== first.toLowerCase());
  let registry = DOCKER_HUB;
  let repository = rest;
  if (hasHost) {
    const hostProblem = registryHostProblem(first);
    if (hostProblem) return `registry "${first}" ${hostProblem}`;
    registry = normalizeRegistry(first);
    repository = rest.slice(slash + 1);
  }
  if (repository === '') return 'has no repository name';
  const pathProblem = repositoryPathProblem(repository);
  if (pathProblem) return pathProblem;
  if (registry === DOCKER_HUB && !repository.includes('/')) repository = `library/${repository}`;

  return {
    registry,
    repository,
    ...(tag === undefined ? {} : { tag }),
    ...(digest === undefined ? {} : { digest }),
  };
}

/** Writes a reference out in full: `registry/repository[:tag][@digest]`. */
export function formatImageReference({ registry, repository, tag, digest }: ImageReference): string {
  return `${registry}/${repository}${tag === undefined ? '' : `:${tag}`}${digest === undefined ? '' : `@${digest}`}`;
}
