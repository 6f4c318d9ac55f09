// JUnit XML of test-file results, one testsuite per file, for CI systems.
import type { CaseResult } from './run.ts';

// biome-ignore lint/suspicious/noControlCharactersInRegex: these are the characters to remove
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g;

const xmlText = (text: string) =>
  text
    .replace(
      /[<>&"']/g,
      (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c] ?? c,
    )
    // XML 1.0 has no place for most control characters.
    .replace(CONTROL, '');

export function junitXml(results: readonly CaseResult[]): string {
  const files = [...new Set(results.map((r) => r.file))];
  const suites = files.map((file) => {
    const cases = results.filter((r) => r.file === file);
    const failures = cases.filter((r) => r.problems.length > 0).length;
    const time = cases.reduce((sum, r) => sum + r.seconds, 0);
    const body = cases.map((r) => {
      const open = `    <testcase classname="${xmlText(file)}" name="${xmlText(`${r.function}: ${r.name}`)}" time="${r.seconds.toFixed(3)}"`;
      if (r.problems.length === 0) return `${open}/>`;
      const text = xmlText(r.problems.join('\n'));
      return `${open}>\n      <failure message="${xmlText(r.problems[0] ?? '')}">${text}</failure>\n    </testcase>`;
    });
    return `  <testsuite name="${xmlText(file)}" tests="${cases.length}" failures="${failures}" time="${time.toFixed(3)}">\n${body.join('\n')}\n  </testsuite>`;
  });
  const failures = results.filter((r) => r.problems.length > 0).length;
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="faas-admission" tests="${results.length}" failures="${failures}">\n${suites.join('\n')}\n</testsuites>\n`;
}
