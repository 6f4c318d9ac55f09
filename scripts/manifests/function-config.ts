// What each function is deployed with: its func.yaml (the function's own file when there is
// one, so variables a team added there are kept; otherwise rendered from the top-level one),
// and the webhook settings its configuration gives.
import { existsSync } from 'node:fs';
import * as z from 'zod';
import { envName, loadConfig } from '../../shared/config.ts';
import { ConfigError } from '../../shared/errors.ts';
import { loadMode } from '../../shared/mode.ts';
import { type AnyMutation, type WebhookSettings, webhookSettings } from '../../shared/mutation.ts';
import { type FuncYaml, funcYamlPath, readYaml, renderFuncYaml, templatePath } from '../func-yaml.ts';

export function deployedFuncYaml(name: string): FuncYaml {
  const path = funcYamlPath(name);
  return renderFuncYaml(readYaml(templatePath), name, existsSync(path) ? readYaml(path) : undefined);
}

/** The variables func.yaml sets, as the function's container gets them. */
export function funcEnv(name: string, fn: FuncYaml): { name: string; value: string }[] {
  return ((fn.run?.envs ?? []) as { name: string; value?: string }[]).map((env) => {
    if (env.value === undefined || env.value.includes('{{'))
      throw new Error(
        `${name}: func.yaml run.envs ${env.name}: only plain values can be written to a Service`,
      );
    return { name: env.name, value: env.value };
  });
}

/**
 * The function's webhook settings under its deployed variables. Files it reads from volumes
 * mounted in its pod (func.yaml run.volumes, e.g. a template ConfigMap) are not here: the
 * settings then come from the variables alone, before the step that reads those files.
 */
export function deployedWebhook(mutation: AnyMutation, fn: FuncYaml): WebhookSettings {
  const env = Object.fromEntries(funcEnv(mutation.name, fn).map((e) => [e.name, e.value]));
  const settings = enforcedWebhook(mutation, fn, env);
  if (loadMode(mutation, env) !== 'monitor') return settings;
  return {
    ...settings,
    failurePolicy: 'Ignore',
    failurePolicyReason: 'MODE=monitor: the function only warns, so a call that fails must refuse nothing',
  };
}

function enforcedWebhook(mutation: AnyMutation, fn: FuncYaml, env: Record<string, string>): WebhookSettings {
  if (typeof mutation.webhook !== 'function') return mutation.webhook;
  try {
    return webhookSettings(mutation, loadConfig(mutation, env));
  } catch (error) {
    if (!(error instanceof ConfigError) || (fn.run?.volumes ?? []).length === 0) throw error;
    let schema: z.ZodType = mutation.config;
    while (schema instanceof z.ZodPipe) schema = schema.in as z.ZodType;
    if (!(schema instanceof z.ZodObject)) throw error;
    const input = Object.fromEntries(
      Object.keys(schema.shape).flatMap((key) => {
        const value = env[envName(key)];
        return value === undefined ? [] : [[key, value]];
      }),
    );
    const variables = schema.safeParse(input);
    if (!variables.success) throw error;
    return webhookSettings(mutation, variables.data);
  }
}
