// The apiserver's judgement of a reply, from ../shared/tools/admission-check: it checks the
// envelope as kube-apiserver does and applies the patch with the apiserver's own JSON-patch
// library. Each call starts one admission-check process in -jsonl mode and judges its batch:
// judge many replies in one apiserverVerdicts() call rather than one call each.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const projectRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** ../shared beside the repository (the checkout's parent), or SHARED_DIR. */
export const sharedDir = process.env.SHARED_DIR ?? join(projectRoot, '..', 'shared');

export type Verdict =
  | { accepted: true; allowed: true; object: Record<string, unknown> }
  | { accepted: true; allowed: false; message: string }
  | { accepted: false; error: string };

let binary: string | undefined;
function admissionCheckBinary(): string {
  if (!binary) {
    const build = join(sharedDir, 'tools', 'admission-check', 'build.sh');
    if (!existsSync(build)) throw new Error(`admission-check not found at ${build} (set SHARED_DIR)`);
    binary = execFileSync('bash', [build], { encoding: 'utf8' }).trim();
  }
  return binary;
}

export interface Judgement {
  request: unknown;
  reply: unknown;
  validating?: boolean;
}

/**
 * Judges many replies in one admission-check process. Its -jsonl mode buffers its output
 * until stdin closes, so each call is one batch: all pairs in, all verdicts out, in order.
 */
export function apiserverVerdicts(judgements: readonly Judgement[]): Promise<Verdict[]> {
  const child = spawn(admissionCheckBinary(), ['-jsonl'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const verdicts: Verdict[] = [];
  createInterface({ input: child.stdout }).on('line', (line) => verdicts.push(JSON.parse(line) as Verdict));
  const done = new Promise<Verdict[]>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0 && verdicts.length === judgements.length) resolve(verdicts);
      else
        reject(
          new Error(`admission-check exited ${code} after ${verdicts.length}/${judgements.length} verdicts`),
        );
    });
  });
  for (const { request, reply, validating = false } of judgements) {
    child.stdin.write(`${JSON.stringify({ request, response: reply, validating })}\n`);
  }
  child.stdin.end();
  return done;
}

/** Judges `reply` to `request` as kube-apiserver would (a mutating webhook unless `validating`). */
export async function apiserverVerdict(
  request: unknown,
  reply: unknown,
  validating = false,
): Promise<Verdict> {
  const [verdict] = await apiserverVerdicts([{ request, reply, validating }]);
  if (!verdict) throw new Error('admission-check gave no verdict');
  return verdict;
}
