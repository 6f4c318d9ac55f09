// The stand-in checked against the real apiserver: the replies the apiserver received (kept by
// the review tap) are judged again by ../shared/tools/admission-check, and what it predicts is
// compared with what the apiserver passed on to the next webhook and finally stored.
import { apiserverVerdicts } from './apiserver.ts';
import type { Json } from './e2e.ts';
import type { TappedReview } from './review-tap.ts';

/** Set by the apiserver after admission (or by the registry), never by a webhook's patch. */
const SET_AFTER_ADMISSION = [
  'metadata.uid',
  'metadata.resourceVersion',
  'metadata.creationTimestamp',
  'metadata.managedFields',
  'metadata.generation',
  'metadata.selfLink',
  'status',
];

function drop(object: Json, path: string): void {
  const keys = path.split('.');
  let at: Json | undefined = object;
  for (const key of keys.slice(0, -1)) at = at?.[key];
  if (at) delete at[keys.at(-1) as string];
}

/**
 * The object without what the apiserver sets after admission; `name` too when it was generated.
 * `status` is kept for a status update (there it is what the webhook changes).
 */
export function comparable(object: Json, generatedName: boolean, keepStatus = false): Json {
  const copy = structuredClone(object);
  for (const path of SET_AFTER_ADMISSION) if (!(keepStatus && path === 'status')) drop(copy, path);
  if (generatedName) drop(copy, 'metadata.name');
  return copy;
}

/** Every path where `a` and `b` differ, as `path: a-value | b-value`. */
export function differences(a: unknown, b: unknown, path = ''): string[] {
  if (JSON.stringify(a) === JSON.stringify(b)) return [];
  const bothObjects =
    a !== null &&
    b !== null &&
    typeof a === 'object' &&
    typeof b === 'object' &&
    Array.isArray(a) === Array.isArray(b);
  if (!bothObjects) return [`${path || '/'}: ${String(JSON.stringify(a))} | ${String(JSON.stringify(b))}`];
  if (Array.isArray(a) && Array.isArray(b) && a.length !== b.length)
    return [`${path}: ${JSON.stringify(a)} | ${JSON.stringify(b)}`];
  const keys = new Set([...Object.keys(a as object), ...Object.keys(b as object)]);
  return [...keys]
    .sort()
    .flatMap((key) =>
      differences(
        (a as Json)[key],
        (b as Json)[key],
        `${path}/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`,
      ),
    );
}

/**
 * A field the apiserver's defaulting filled in after the patch (absent from the prediction, set
 * in what the apiserver passed on or stored): admission-check applies the patch only, it does not
 * default. Every other difference means the two disagree about the reply.
 */
export function isDefaulted(difference: string): boolean {
  return /: undefined \| /.test(difference);
}

const TOKEN_MOUNT_PATH = '/var/run/secrets/kubernetes.io/serviceaccount';
const MOUNTS_DIFFER = /\/volumeMounts: (\[.*\]) \| (\[.*\])$/;

/**
 * The API token mount the ServiceAccount admission plugin appended to a container's mounts:
 * on a reinvocation the apiserver runs its in-tree plugins again, so a container a webhook
 * added gets the mount too, between two webhook calls. admission-check runs no plugins.
 */
export function isTokenMountAdded(difference: string): boolean {
  const match = MOUNTS_DIFFER.exec(difference);
  if (!match) return false;
  const predicted = JSON.parse(match[1] as string) as Json[];
  const passed = JSON.parse(match[2] as string) as Json[];
  const added = passed.at(-1);
  return (
    passed.length === predicted.length + 1 &&
    added?.mountPath === TOKEN_MOUNT_PATH &&
    added?.readOnly === true &&
    differences(predicted, passed.slice(0, -1)).length === 0
  );
}

/** A difference the apiserver's own work explains: a default, or the ServiceAccount plugin's mount. */
export function explainedByApiserver(difference: string): boolean {
  return isDefaulted(difference) || isTokenMountAdded(difference);
}

export interface StandInReport {
  /** Calls judged (replies admission-check applied). */
  readonly calls: number;
  /** Replies admission-check refused although the apiserver took them, or the other way. */
  readonly verdictDifferences: string[];
  /** Between webhooks: what admission-check predicted after call k vs what call k+1 was sent. */
  readonly chainDifferences: string[];
  /** The last prediction vs the stored object. */
  readonly storedDifferences: string[];
}

const requestOf = (call: TappedReview) => call.review.request as Json;

/**
 * Judges the calls that admitted one object (in the order the apiserver made them) and compares
 * the predictions with the calls that followed and with `stored`.
 */
export async function checkStandIn(
  calls: readonly TappedReview[],
  stored: Json,
  label: string,
): Promise<StandInReport> {
  const verdicts = await apiserverVerdicts(calls.map((c) => ({ request: c.review, reply: c.reply })));
  const verdictDifferences: string[] = [];
  const chainDifferences: string[] = [];
  const first = requestOf(calls[0] as TappedReview);
  const generatedName = !first.name;
  const keepStatus = first.subResource === 'status';
  const comparable_ = (object: Json) => comparable(object, generatedName, keepStatus);
  let predicted: Json | undefined;
  verdicts.forEach((verdict, i) => {
    const call = calls[i] as TappedReview;
    const sent = requestOf(call).object as Json;
    if (predicted)
      for (const d of differences(comparable_(predicted), comparable_(sent)))
        chainDifferences.push(`${label}: before ${call.path.split('?')[0]}: ${d}`);
    if (!verdict.accepted)
      verdictDifferences.push(`${label}: ${call.path}: admission-check refused: ${verdict.error}`);
    else if (!verdict.allowed)
      verdictDifferences.push(`${label}: ${call.path}: denied, yet stored: ${verdict.message}`);
    else predicted = verdict.object as Json;
  });
  const storedDifferences = predicted
    ? differences(comparable_(predicted), comparable_(stored)).map((d) => `${label}: stored: ${d}`)
    : [`${label}: no prediction`];
  return { calls: calls.length, verdictDifferences, chainDifferences, storedDifferences };
}
