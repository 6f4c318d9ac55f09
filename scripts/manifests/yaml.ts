// Kubernetes objects written as YAML documents, with the comments that say why a value is
// what it is (beside it or above it).
import { Document, isMap, isScalar, type Node } from 'yaml';

export type Path = readonly (string | number)[];

export interface Comment {
  readonly path: Path;
  /** Lines above the key (each starting with a space, as after `#`). */
  readonly before?: string;
  /** A comment on the same line, after the value. */
  readonly beside?: string;
}

export interface Manifest {
  readonly object: Record<string, unknown>;
  readonly comments?: readonly Comment[];
}

function annotate(doc: Document, { path, before, beside }: Comment): void {
  const value = doc.getIn(path, true) as Node | undefined;
  if (!value) throw new Error(`no value at ${path.join('.')} to comment on`);
  if (beside !== undefined) value.comment = beside;
  if (before === undefined) return;
  const last = path.at(-1);
  const parent = doc.getIn(path.slice(0, -1), true);
  if (typeof last === 'string' && isMap(parent)) {
    const pair = parent.items.find((item) => isScalar(item.key) && item.key.value === last);
    if (pair && isScalar(pair.key)) pair.key.commentBefore = before;
  } else {
    value.commentBefore = before;
  }
}

/** One YAML stream: the header comment, then each object as a document. */
export function renderYaml(header: string, manifests: readonly Manifest[]): string {
  const documents = manifests.map(({ object, comments = [] }, i) => {
    const doc = new Document(object, { aliasDuplicateObjects: false });
    if (i === 0) doc.commentBefore = header;
    for (const comment of comments) annotate(doc, comment);
    return doc.toString({ lineWidth: 0 });
  });
  return documents.join('---\n');
}
