// Renders an answer for a person: the verdict, the warnings, the decoded patch, and a diff
// of the object before and after the patch.
import { styleText } from 'node:util';
import { createTwoFilesPatch } from 'diff';
import jsonPatch from 'fast-json-patch';
import { type AdmissionReviewReply, decodePatch } from '../shared/response.ts';
import type { AdmissionReview } from '../shared/review.ts';

type Style = Parameters<typeof styleText>[0];

export function explain(functionName: string, request: AdmissionReview, reply: AdmissionReviewReply): string {
  const color = (style: Style, text: string) => styleText(style, text, { stream: process.stdout });
  const { response } = reply;
  const lines: string[] = [];
  const patch = decodePatch(response);
  if (response.allowed) {
    const what = patch.length === 0 ? 'unchanged' : `with ${patch.length} patch operation(s)`;
    lines.push(`${functionName}: ${color('green', 'ALLOWED')} ${what}`);
  } else {
    const status = response.status;
    lines.push(`${functionName}: ${color('red', 'DENIED')} (${status?.code ?? '?'} ${status?.reason ?? ''})`);
    lines.push(`  ${status?.message ?? '(no message)'}`);
  }
  for (const warning of response.warnings ?? []) lines.push(`${color('yellow', 'warning:')} ${warning}`);
  if (patch.length > 0) {
    lines.push('', color('bold', 'patch:'));
    for (const op of patch) {
      const value = 'value' in op ? ` ${JSON.stringify(op.value)}` : '';
      lines.push(`  ${op.op} ${op.path}${value}`);
    }
    const before = request.request.object ?? {};
    const after = jsonPatch.applyPatch(jsonPatch.deepClone(before), patch, false, false).newDocument;
    lines.push('', color('bold', 'object (before -> after):'));
    const text = createTwoFilesPatch(
      'request.object',
      'patched',
      `${JSON.stringify(before, null, 2)}\n`,
      `${JSON.stringify(after, null, 2)}\n`,
      undefined,
      undefined,
      { context: 3 },
    );
    for (const line of text.split('\n').slice(1)) {
      if (line.startsWith('+')) lines.push(color('green', line));
      else if (line.startsWith('-')) lines.push(color('red', line));
      else if (line.startsWith('@@')) lines.push(color('cyan', line));
      else if (line) lines.push(line);
    }
  }
  return `${lines.join('\n')}\n`;
}
