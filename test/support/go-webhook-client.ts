// The Go webhook client (go-webhook-client/main.go): Go's own TLS and X.509 verification, the
// stack kube-apiserver calls webhooks with. Built once with Debian's Go (as admission-check is).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const source = join(dirname(fileURLToPath(import.meta.url)), 'go-webhook-client', 'main.go');

export function goWebhookClient(): string {
  const binary = join(process.env.TMPDIR ?? tmpdir(), 'faas-admission-go-webhook-client');
  if (existsSync(binary) && statSync(binary).mtimeMs >= statSync(source).mtimeMs) return binary;
  const work = mkdtempSync(join(tmpdir(), 'go-webhook-client-'));
  try {
    execFileSync('go', ['build', '-o', binary, source], {
      env: { ...process.env, GO111MODULE: 'off', GOPATH: work, GOCACHE: join(work, 'cache') },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return binary;
}
