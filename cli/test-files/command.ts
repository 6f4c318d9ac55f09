// faas-admission test <dir|file>...: runs YAML test files, one line per case, a summary;
// exit 1 when a case fails.
import { writeFileSync } from 'node:fs';
import { parseArgs, styleText } from 'node:util';
import { createLogger, useLogger } from '../../shared/telemetry/log.ts';
import { findJudge } from '../admission-check.ts';
import { fail } from '../errors.ts';
import { junitXml } from './junit.ts';
import { runTestFiles, testFilesIn } from './run.ts';

const usage = `usage: faas-admission test <dir|file>... [--junit FILE]
  Runs every *.test.yaml under each folder (or the files named). Each file:
    function: volume-extension          # for every case that names none
    env: { VOLUME_POLICY_FILE: policy.yaml }   # configuration as the function reads it (null unsets;
                                        # *_FILE paths are relative to the test file)
    cases:
      - name: copies the volumes
        input: pod.yaml                 # a file (relative to the test file) or an inline object:
                                        # an AdmissionReview or any Kubernetes object
        pod: true                       # also: entry, operation, old, namespace, resource,
                                        #       subResource, user, groups, dryRun (as invoke's flags)
        expect:                         # any of:
          allowed: true                 #   allowed / denied
          object: { spec: { ... } }     #   fields of the patched object (a subset)
          patch: []                     #   the exact patch ([]: none)
          message: 'hostPath'           #   substring of the denial (messageMatches: a regex; code)
          warnings: []                  #   substrings, one per warning
  Patches are applied by ../shared/tools/admission-check when found (SHARED_DIR, ADMISSION_CHECK),
  by fast-json-patch otherwise (the summary says which).
  --junit FILE   also write JUnit XML`;

export async function main(argv: string[]): Promise<number> {
  if (!process.env.LOG_LEVEL) useLogger(createLogger({ level: 'silent' }));
  let parsed: { values: { junit?: string; help?: boolean }; positionals: string[] };
  try {
    parsed = parseArgs({
      args: argv,
      options: { junit: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
    });
  } catch (error) {
    fail(`${(error as Error).message}\n${usage}`);
  }
  if (parsed.values.help) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  if (parsed.positionals.length === 0) fail(usage);
  const files = parsed.positionals.flatMap(testFilesIn);
  if (files.length === 0) fail(`no *.test.yaml files in ${parsed.positionals.join(', ')}`);
  const judge = findJudge();
  const results = await runTestFiles(files, judge);
  const out = (style: Parameters<typeof styleText>[0], text: string) =>
    styleText(style, text, { stream: process.stdout });
  for (const r of results) {
    const ok = r.problems.length === 0;
    process.stdout.write(
      `${ok ? out('green', 'ok  ') : out('red', 'FAIL')} ${r.file}: ${r.name} (${r.function})\n`,
    );
    for (const problem of r.problems) process.stdout.write(`       ${problem}\n`);
  }
  const failed = results.filter((r) => r.problems.length > 0).length;
  process.stdout.write(
    `${results.length} cases in ${files.length} files: ${results.length - failed} passed, ${failed} failed (patches applied by ${judge.name})\n`,
  );
  if (parsed.values.junit) writeFileSync(parsed.values.junit, junitXml(results));
  return failed > 0 ? 1 : 0;
}
