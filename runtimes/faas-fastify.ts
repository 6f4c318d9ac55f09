// faas-js-runtime 4 builds its fastify server itself and passes on only the logger and the body
// limit (index.js initializeServer), so what a webhook needs from fastify is added here, by
// wrapping the fastify factory it requires:
//
// - fastify's JSON parser refuses any body holding a `__proto__` or `constructor` key with
//   400 (secure-json-parse); a ConfigMap or a CRD may hold one, and every valid review must
//   reach the function. JSON.parse keeps such keys as plain own properties, which is safe:
//   nothing here assigns through them.
// - the server: Node's timeouts for headers and the whole request (fastify turns the request
//   timeout off), the intake bounds (runtimes/intake.ts), and JSON {code, message} answers to
//   broken requests, as on every other runtime.
// - extra routes (OpenFaaS's health path, so that one image answers every probe).
//
// The wrapper must be in place before faas-js-runtime is loaded (it keeps the factory it
// required), so faas-js-runtime is imported only after installFastifyAdditions().
import { createRequire } from 'node:module';

// The least of fastify's instance used here; its own types are not a dependency of the project.
export interface FastifyInstance {
  get(path: string, handler: (request: unknown, reply: FastifyReply) => unknown): unknown;
}
export interface FastifyReply {
  code(status: number): FastifyReply;
  header(name: string, value: string): FastifyReply;
  send(body: unknown): FastifyReply;
}

export interface FastifyAdditions {
  /** Options merged over faas-js-runtime's own. */
  options: Record<string, unknown>;
  /** Called on the new instance, before faas-js-runtime registers its routes. */
  configure(instance: FastifyInstance): void;
}

type FastifyFactory = ((options?: Record<string, unknown>) => FastifyInstance) & Record<string, unknown>;

const runtimeRequire = createRequire(createRequire(import.meta.url).resolve('faas-js-runtime'));
const fastifyPath = runtimeRequire.resolve('fastify');
let additions: FastifyAdditions | undefined;
let built = 0;

/** Makes every fastify instance faas-js-runtime creates from now on take `next`. */
export function installFastifyAdditions(next: FastifyAdditions): void {
  additions = next;
  const original = runtimeRequire('fastify') as FastifyFactory;
  const cached = runtimeRequire.cache[fastifyPath];
  if (!cached) throw new Error(`fastify (${fastifyPath}) is not in the module cache`);
  if ((cached.exports as { withAdditions?: true }).withAdditions) return;
  const factory = (options: Record<string, unknown> = {}) => {
    const instance = original({ ...options, ...additions?.options });
    additions?.configure(instance);
    built++;
    return instance;
  };
  // fastify's own properties (fastify.fastify, fastify.default, errorCodes) stay reachable.
  cached.exports = Object.assign(factory, original, { withAdditions: true as const });
}

/** How many fastify instances were made with the additions (0 after a start means they were bypassed). */
export function instancesWithAdditions(): number {
  return built;
}
