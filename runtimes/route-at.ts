// A path's route, apart from runtimes/routes.ts: the server of one function finds its route
// here without loading every function's code.
/**
 * What answers at `path`: `/<name>`, or `/<name>/<entry>` for one registration entry of a
 * function that has several (the entry reaches the function through RequestInfo.path).
 */
export function routeAt<T>(routes: ReadonlyMap<string, T>, path: string): T | undefined {
  const [name = '', entry, ...rest] = path.slice(1).split('/');
  if (rest.length > 0 || entry === '') return undefined;
  return routes.get(name);
}
