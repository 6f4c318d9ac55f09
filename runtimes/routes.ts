// What a server answers, by path: every function with its configuration loaded once at start,
// and the configured chain. Bad configuration raises a ConfigError before anything listens; a
// function that needs configuration and was given none is left out (and said so), so that
// serving everything locally needs no setup for the functions one is not trying.
import * as z from 'zod';
import { functions } from '../functions/index.ts';
import { describeConfig, loadConfig, readEnvConfig } from '../shared/config.ts';
import { ConfigError } from '../shared/errors.ts';
import { chainHandler, functionHandler, type LoadedMutation, type ReviewHandler } from '../shared/handler.ts';
import { dns1123LabelProblem } from '../shared/k8s/names.ts';
import { loadMode } from '../shared/mode.ts';

export const chainSettings = z.object({
  chain: z
    .string()
    .optional()
    .describe(
      'functions answered together in one call, in order, comma-separated (e.g. volume-extension,node-selector)',
    ),
  chainName: z.string().default('chain').describe('the path the chain is served under'),
});

export interface Routes {
  /** Path name to what answers there. */
  routes: Map<string, ReviewHandler>;
  /** Functions left out: they need configuration and none of their variables is set. */
  unconfigured: { name: string; reason: string }[];
}

/**
 * Every function by name, plus the chain when CHAIN is set; with `only`, just that function
 * or chain (and only its configuration is read, so another function's settings cannot stop it).
 */
export function loadRoutes(env: NodeJS.ProcessEnv = process.env, only?: string): Routes {
  const settings = readEnvConfig('chain: invalid configuration', chainSettings, env);
  const chainNames = settings.chain?.trim()
    ? settings.chain.split(',').map((name) => name.trim())
    : undefined;
  const available = [...functions.keys(), ...(chainNames ? [settings.chainName] : [])];
  if (only !== undefined && !available.includes(only)) {
    throw new ConfigError(`FUNCTION: no function named "${only}" (functions: ${available.join(', ')})`);
  }
  const wanted = (name: string) =>
    only === undefined || only === name || (only === settings.chainName && chainNames?.includes(name));
  const loaded = new Map<string, LoadedMutation>();
  const unconfigured: Routes['unconfigured'] = [];
  for (const [name, mutation] of functions) {
    if (!wanted(name)) continue;
    try {
      loaded.set(name, { mutation, config: loadConfig(mutation, env), mode: loadMode(mutation, env) });
    } catch (error) {
      const chosen = only !== undefined || chainNames?.includes(name);
      const configured = describeConfig(mutation).some(({ variable }) => env[variable] !== undefined);
      if (chosen || configured || !(error instanceof ConfigError)) throw error;
      unconfigured.push({ name, reason: error.message });
    }
  }
  const routes = new Map<string, ReviewHandler>();
  if (only === undefined || only !== settings.chainName) {
    for (const [name, target] of loaded) routes.set(name, functionHandler(target));
  }
  if (chainNames && (only === undefined || only === settings.chainName)) {
    routes.set(settings.chainName, loadChain(settings.chainName, chainNames, loaded));
  }
  return { routes, unconfigured };
}

function loadChain(
  name: string,
  names: readonly string[],
  loaded: ReadonlyMap<string, LoadedMutation>,
): ReviewHandler {
  const fail = (message: string): never => {
    throw new ConfigError(`chain: invalid configuration: ${message}`);
  };
  const nameProblem = dns1123LabelProblem(name);
  if (nameProblem) fail(`CHAIN_NAME: "${name}" ${nameProblem}`);
  if (functions.has(name)) fail(`CHAIN_NAME: "${name}" is already a function's name`);
  const steps = names.map((stepName, index) => {
    const step = loaded.get(stepName);
    if (!step) {
      fail(
        `CHAIN: item ${index}: no function named "${stepName}" (functions: ${[...functions.keys()].join(', ')})`,
      );
    }
    if (names.indexOf(stepName) !== index)
      fail(`CHAIN: item ${index}: "${stepName}" is already in the chain`);
    return step as LoadedMutation;
  });
  return chainHandler(name, steps);
}
