// Observability settings, read once from the environment. A bad value stops the function at
// start (runtimes call loadTelemetrySettings() before serving) with the variable named.
import * as z from 'zod';
import { ConfigError } from '../errors.ts';
import { describeIssues } from '../field-path.ts';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

const settingsSchema = z.object({
  // The budget when a request carries no usable `?timeout=`: the webhook's timeoutSeconds.
  WEBHOOK_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(30).default(10),
  // Answers that use more than this fraction of their budget are counted and logged.
  BUDGET_WARN_FRACTION: z.coerce.number().gt(0).max(1).default(0.5),
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
});

export interface TelemetrySettings {
  /** Seconds the apiserver waits when the request does not say (`timeoutSeconds`). */
  readonly defaultBudgetSeconds: number;
  /** Fraction of the budget above which an answer is counted and logged as slow. */
  readonly warnFraction: number;
  readonly logLevel: (typeof LOG_LEVELS)[number];
}

export function loadTelemetrySettings(env: NodeJS.ProcessEnv = process.env): TelemetrySettings {
  const input: Record<string, string> = {};
  for (const key of Object.keys(settingsSchema.shape)) {
    const value = env[key]?.trim();
    if (value) input[key] = value;
  }
  const result = settingsSchema.safeParse(input);
  if (!result.success) {
    throw new ConfigError(`invalid observability configuration: ${describeIssues(result.error.issues)}`);
  }
  return {
    defaultBudgetSeconds: result.data.WEBHOOK_TIMEOUT_SECONDS,
    warnFraction: result.data.BUDGET_WARN_FRACTION,
    logLevel: result.data.LOG_LEVEL,
  };
}

let current: TelemetrySettings | undefined;

/** The settings in use: loaded from the environment on first use unless set before. */
export function telemetrySettings(): TelemetrySettings {
  current ??= loadTelemetrySettings();
  return current;
}

export function useTelemetrySettings(settings: TelemetrySettings): void {
  current = settings;
}
