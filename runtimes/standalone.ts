// Standalone HTTPS: every function (and the configured chain) on one port, as the apiserver
// would call them, with a development certificate made on first run, or the certificate
// files given in TLS_CERT_FILE / TLS_KEY_FILE (a mounted Kubernetes Secret), reloaded when
// they change.
//
//   npm run serve                      https://127.0.0.1:8443/<function>
//   HOST=0.0.0.0 PORT=9443 npm run serve
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { isIP } from 'node:net';
import { join, relative, resolve } from 'node:path';
import * as z from 'zod';
import { readEnvConfig } from '../shared/config.ts';
import { ConfigError } from '../shared/errors.ts';
import type { ReviewHandler } from '../shared/handler.ts';
import { previewReply } from '../shared/handler.ts';
import { reviewOf } from '../shared/http-answer.ts';
import { guardIntake } from './intake.ts';
import { answerBrokenRequests, listen, shutDown, stopOnSignals, timeoutOptions } from './lifecycle.ts';
import { type ServerLog, stderrLog } from './log.ts';
import { PROBE_PATHS } from './probes.ts';
import { loadRoutes } from './routes.ts';
import { createAdmissionHandler } from './server.ts';
import { serverSettingsShape } from './settings.ts';
import { observeServingCertificate, shutdownTelemetry, startTelemetry } from './telemetry.ts';
import { TLS_OPTIONS } from './tls/options.ts';
import { describePair, readServingPair, reloadOnChange } from './tls/reload.ts';

export const standaloneSettings = z
  .object({
    ...serverSettingsShape({ host: '127.0.0.1', port: 8443 }),
    tlsCertFile: z
      .string()
      .min(1)
      .optional()
      .describe('serving certificate (PEM); default: a development certificate'),
    tlsKeyFile: z.string().min(1).optional().describe('its private key (PEM)'),
    devCertsDir: z
      .string()
      .min(1)
      .default('.dev-certs')
      .describe('where the development CA and certificate live'),
  })
  .superRefine((settings, ctx) => {
    if ((settings.tlsCertFile === undefined) !== (settings.tlsKeyFile === undefined)) {
      const missing = settings.tlsCertFile === undefined ? 'tlsCertFile' : 'tlsKeyFile';
      ctx.addIssue({
        code: 'custom',
        path: [missing],
        message: 'set TLS_CERT_FILE and TLS_KEY_FILE together',
      });
    }
  });

export interface StandaloneOptions {
  /** Where settings and the functions' configuration are read (default: process.env). */
  env?: NodeJS.ProcessEnv;
  log?: ServerLog;
  /** Print the endpoints, certificate and a curl command on stdout (default true). */
  announce?: boolean;
  /** Stop gracefully and exit 0 on SIGTERM / SIGINT (default true). */
  handleSignals?: boolean;
}

export interface StandaloneServer {
  /** https://host:port, the functions are below it. */
  url: string;
  server: Server;
  routes: ReadonlyMap<string, ReviewHandler>;
  /** Functions not served for want of configuration, with what is missing. */
  unconfigured: { name: string; reason: string }[];
  certFile: string;
  keyFile: string;
  /** The development CA to trust, when the certificate is the development one. */
  caFile?: string;
  /** What was made at this start ("CA", "serving certificate"). */
  issued: string[];
  /** Stops accepting, finishes the requests already received, closes. */
  stop(): Promise<void>;
}

/** Starts the server; a ConfigError means bad settings, with the variable named. */
export async function startStandalone(options: StandaloneOptions = {}): Promise<StandaloneServer> {
  const env = options.env ?? process.env;
  const log = options.log ?? stderrLog;
  const settings = readEnvConfig('standalone server: invalid configuration', standaloneSettings, env);
  const { routes, unconfigured } = loadRoutes(env);
  await startTelemetry();

  const given = settings.tlsCertFile !== undefined && settings.tlsKeyFile !== undefined;
  const files = given
    ? {
        certFile: resolve(settings.tlsCertFile as string),
        keyFile: resolve(settings.tlsKeyFile as string),
        issued: [],
      }
    : await devCertificates(settings.devCertsDir, settings.host);
  let pair: ReturnType<typeof readServingPair>;
  try {
    pair = readServingPair(files);
  } catch (error) {
    throw new ConfigError(`standalone server: ${(error as Error).message}`);
  }

  const handler = createAdmissionHandler({
    routes,
    health: { '/healthz': 'live', '/readyz': 'ready', ...PROBE_PATHS },
    bodyLimit: settings.bodyLimit,
    log,
  });
  const server = createServer(
    { ...timeoutOptions(settings), ...TLS_OPTIONS, cert: pair.certificate, key: pair.privateKey },
    guardIntake(handler, settings),
  );
  answerBrokenRequests(server, settings);
  const address = await listen(server, settings.host, settings.port);
  const reloader = reloadOnChange(server, files, pair, TLS_OPTIONS, log);
  log.info(`serving certificate: ${describePair(pair)}`);
  await observeServingCertificate(() => reloader.current().certificate);

  const running: StandaloneServer = {
    url: `https://${urlHost(settings.host)}:${address.port}`,
    server,
    routes,
    unconfigured,
    certFile: files.certFile,
    keyFile: files.keyFile,
    ...('caFile' in files ? { caFile: files.caFile } : {}),
    issued: files.issued,
    stop: async () => {
      reloader.close();
      await shutDown(server, handler, settings.shutdownTimeoutSeconds, log);
      await shutdownTelemetry();
    },
  };
  if (options.announce ?? true) process.stdout.write(describeStandalone(running));
  if (options.handleSignals ?? true) stopOnSignals(running.stop, log);
  return running;
}

/**
 * The development certificate, covering the loopback names and HOST when it names one host.
 * Imported only here: making certificates loads @peculiar/x509, which given files do not need.
 */
async function devCertificates(dir: string, host: string) {
  const { ensureDevCertificates, LOCAL_HOSTS } = await import('./tls/dev-certs.ts');
  const hosts = isWildcard(host) || LOCAL_HOSTS.includes(host) ? LOCAL_HOSTS : [...LOCAL_HOSTS, host];
  return ensureDevCertificates(resolve(dir), hosts);
}

function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::';
}

function urlHost(host: string): string {
  if (isWildcard(host)) return 'localhost';
  return isIP(host) === 6 ? `[${host}]` : host;
}

/** What a person reads at start: where each function is, the certificate, a command to try. */
export function describeStandalone(running: StandaloneServer): string {
  const shown = (path: string) => {
    const relativePath = relative(process.cwd(), path);
    return relativePath.startsWith('..') ? path : relativePath;
  };
  const lines = [`faas-admission: serving over HTTPS (TLS 1.2+) on ${running.url}`];
  for (const [name, target] of running.routes) {
    const { functions } = target;
    const chained = functions.length !== 1 || functions[0] !== name;
    const steps = chained ? `   (one call: ${functions.join(' -> ')})` : '';
    lines.push(`  POST ${running.url}/${name}${steps}`);
  }
  lines.push(`  GET  ${running.url}/healthz  ${running.url}/readyz`);
  for (const { reason } of running.unconfigured) lines.push(`not served, needs configuration: ${reason}`);
  const made = running.issued.length > 0 ? ` (made now: ${running.issued.join(', ')})` : '';
  lines.push(`certificate: ${shown(running.certFile)}, key ${shown(running.keyFile)}${made}`);
  if (running.caFile) lines.push(`development CA (trust it in clients): ${shown(running.caFile)}`);
  const first = running.routes.keys().next().value ?? '<function>';
  const ca = running.caFile ? shown(running.caFile) : '<your CA file>';
  const sample = findSample(running.routes.get(first));
  lines.push(
    'try:',
    `  curl --cacert ${ca} -H 'Content-Type: application/json' --data-binary @${sample} ${running.url}/${first}`,
  );
  return `${lines.join('\n')}\n`;
}

/**
 * A review to try with `target`: the first of the project's samples that it answers with a
 * patch, else the shared fixture beside the checkout.
 */
function findSample(target: ReviewHandler | undefined): string {
  const samples = 'samples';
  if (target && existsSync(samples)) {
    const files = readdirSync(samples, { recursive: true, encoding: 'utf8' })
      .filter((name) => name.endsWith('.json'))
      .sort()
      .map((name) => join(samples, name));
    const patched = files.find((file) => {
      try {
        // A preview: trying samples is not serving reviews, so it is not counted or logged.
        return previewReply(target, reviewOf(readFileSync(file, 'utf8'))).response.patch !== undefined;
      } catch {
        return false;
      }
    });
    if (patched) return patched;
  }
  const fixture = join('..', 'shared', 'fixtures', 'knative-pod-netease-annotations.v1.json');
  return existsSync(fixture) ? fixture : '<AdmissionReview.json>';
}

async function main(): Promise<void> {
  try {
    await startStandalone();
  } catch (error) {
    stderrLog.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  }
}

if (import.meta.main) await main();
