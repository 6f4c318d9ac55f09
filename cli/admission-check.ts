// How the CLI applies a reply's patch: with ../shared/tools/admission-check (the apiserver's
// own judgement and JSON-patch library) when it is there, else with fast-json-patch after the
// same envelope checks, saying so. ADMISSION_CHECK names a built binary; SHARED_DIR the
// folder holding tools/admission-check.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import jsonPatch from 'fast-json-patch';
import { type AdmissionReviewReply, decodePatch } from '../shared/response.ts';
import type { AdmissionReview } from '../shared/review.ts';

export type Verdict =
  | { accepted: true; allowed: true; object: unknown }
  | { accepted: true; allowed: false; message: string }
  | { accepted: false; error: string };

export interface Judge {
  /** `admission-check` or `fast-json-patch`: which applied the patches. */
  readonly name: string;
  judge(
    pairs: readonly { request: AdmissionReview; reply: AdmissionReviewReply; validating: boolean }[],
  ): Promise<Verdict[]>;
}

const projectRoot = fileURLToPath(
  new URL(import.meta.url.includes('/dist/cli/') ? '../../' : '../', import.meta.url),
);

function admissionCheckBinary(env: NodeJS.ProcessEnv): string | undefined {
  if (env.ADMISSION_CHECK) return env.ADMISSION_CHECK;
  const shared = env.SHARED_DIR ?? join(projectRoot, '..', 'shared');
  const build = join(shared, 'tools', 'admission-check', 'build.sh');
  if (!existsSync(build)) return undefined;
  return execFileSync('bash', [build], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
}

const admissionCheck = (binary: string): Judge => ({
  name: 'admission-check',
  judge(pairs) {
    if (pairs.length === 0) return Promise.resolve([]);
    const child = spawn(binary, ['-jsonl'], { stdio: ['pipe', 'pipe', 'inherit'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
    });
    const done = new Promise<Verdict[]>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code) => {
        const verdicts = output
          .split('\n')
          .filter(Boolean)
          .map((line) => JSON.parse(line) as Verdict);
        if (code === 0 && verdicts.length === pairs.length) resolve(verdicts);
        else
          reject(
            new Error(`admission-check exited ${code} after ${verdicts.length}/${pairs.length} verdicts`),
          );
      });
    });
    for (const { request, reply, validating } of pairs)
      child.stdin.write(`${JSON.stringify({ request, response: reply, validating })}\n`);
    child.stdin.end();
    return done;
  },
});

/** The checks admission-check makes that matter for a reply this project's runner built. */
function localVerdict(request: AdmissionReview, reply: AdmissionReviewReply, validating: boolean): Verdict {
  const { response } = reply;
  if (reply.apiVersion !== request.apiVersion)
    return { accepted: false, error: 'apiVersion differs from the request' };
  if (response.uid !== request.request.uid)
    return { accepted: false, error: 'response.uid differs from request.uid' };
  if (!response.allowed) return { accepted: true, allowed: false, message: response.status?.message ?? '' };
  const patch = decodePatch(response);
  if (validating && patch.length > 0) return { accepted: false, error: 'a validating webhook may not patch' };
  try {
    const object = jsonPatch.applyPatch(
      jsonPatch.deepClone(request.request.object ?? {}),
      patch,
      true,
      false,
    ).newDocument;
    return { accepted: true, allowed: true, object };
  } catch (error) {
    return { accepted: false, error: (error as Error).message };
  }
}

const local: Judge = {
  name: 'fast-json-patch',
  judge: (pairs) => Promise.resolve(pairs.map((p) => localVerdict(p.request, p.reply, p.validating))),
};

/** admission-check when it can be found (or built), fast-json-patch otherwise. */
export function findJudge(env: NodeJS.ProcessEnv = process.env): Judge {
  const binary = admissionCheckBinary(env);
  return binary ? admissionCheck(binary) : local;
}
