// The node-oversale configuration formats, parsed once at start.
//
//   OVERSALE_RULES="node-role.example.com/oversale=true:cpu=2,memory=1.5; pool=batch:cpu=3"
//   OVERSALE_MAX="cpu=256,memory=1Ti"
//
// A rule is `<selector>:<resource>=<ratio>[,<resource>=<ratio>]`; rules are separated by ';'
// or new lines (`#` starts a comment) and the first whose selector matches the node's labels
// applies. A selector is `key=value` or `key` (the label exists). Resources are cpu and
// memory; a ratio is a decimal from 1 to 10. OVERSALE_MAX caps the scaled allocatable.
import { nearestName } from '../../shared/k8s/known-fields.ts';
import { labelKeyProblem, labelValueProblem } from '../../shared/k8s/names.ts';
import { parseQuantity, type Quantity } from '../../shared/k8s/quantity.ts';

export const RESOURCES = ['cpu', 'memory'] as const;
export type OversoldResource = (typeof RESOURCES)[number];

/** An exact decimal ratio: numerator / denominator. */
export interface Ratio {
  readonly numerator: bigint;
  readonly denominator: bigint;
}

export interface LabelMatch {
  readonly key: string;
  /** Undefined: the label only has to exist. */
  readonly value?: string;
}

export interface OversaleRule {
  readonly selector: LabelMatch;
  readonly ratios: Readonly<Partial<Record<OversoldResource, Ratio>>>;
}

const MAX_RATIO = 10n;

/** Parses OVERSALE_RULES; throws an Error whose message names the rule and problem. */
export function parseRules(text: string): OversaleRule[] {
  const rules: OversaleRule[] = [];
  for (const entry of entriesOf(text, /[;\n]/)) {
    const colon = entry.indexOf(':');
    if (colon < 0) throw new Error(`rule "${entry}": expected <label>[=<value>]:<resource>=<ratio>,...`);
    let selector: LabelMatch;
    try {
      selector = parseLabelMatch(entry.slice(0, colon).trim());
    } catch (error) {
      throw new Error(`rule "${entry}": ${(error as Error).message}`);
    }
    const ratios: Partial<Record<OversoldResource, Ratio>> = {};
    for (const part of entry.slice(colon + 1).split(',')) {
      const [name = '', value, ...extra] = part.split('=').map((s) => s.trim());
      const resource = resourceNamed(name, `rule "${entry}"`);
      if (value === undefined || extra.length > 0)
        throw new Error(`rule "${entry}": expected ${name}=<ratio>`);
      if (ratios[resource]) throw new Error(`rule "${entry}": ${resource} is given twice`);
      ratios[resource] = parseRatio(value, `rule "${entry}": ${resource}`);
    }
    rules.push({ selector, ratios });
  }
  return rules;
}

/** Parses OVERSALE_MAX: `cpu=<quantity>,memory=<quantity>`. */
export function parseCaps(text: string): Partial<Record<OversoldResource, Quantity>> {
  const caps: Partial<Record<OversoldResource, Quantity>> = {};
  for (const entry of entriesOf(text, /[,\n]/)) {
    const eq = entry.indexOf('=');
    if (eq < 0) throw new Error(`entry "${entry}": expected <resource>=<quantity>`);
    const resource = resourceNamed(entry.slice(0, eq).trim(), `entry "${entry}"`);
    if (caps[resource]) throw new Error(`entry "${entry}": ${resource} is given twice`);
    try {
      caps[resource] = parseQuantity(entry.slice(eq + 1).trim());
    } catch (error) {
      throw new Error(`entry "${entry}": ${(error as Error).message}`);
    }
  }
  return caps;
}

export function labelsMatch(match: LabelMatch, labels: Readonly<Record<string, string>> | null | undefined) {
  // Own labels only: a selector key such as `constructor` must not find Object's own property.
  const value = labels && Object.hasOwn(labels, match.key) ? labels[match.key] : undefined;
  return value !== undefined && (match.value === undefined || value === match.value);
}

function parseLabelMatch(text: string): LabelMatch {
  const eq = text.indexOf('=');
  const key = (eq < 0 ? text : text.slice(0, eq)).trim();
  const keyProblem = labelKeyProblem(key);
  if (keyProblem) throw new Error(`label key "${key}": ${keyProblem}`);
  if (eq < 0) return { key };
  const value = text.slice(eq + 1).trim();
  const valueProblem = labelValueProblem(value);
  if (valueProblem) throw new Error(`label value "${value}" ${valueProblem}`);
  return { key, value };
}

function parseRatio(text: string, where: string): Ratio {
  const match = /^(\d+)(?:\.(\d+))?$/.exec(text);
  if (!match) throw new Error(`${where}: ratio "${text}" must be a decimal number such as 1.5`);
  const [, whole = '', fraction = ''] = match;
  const ratio = { numerator: BigInt(whole + fraction), denominator: 10n ** BigInt(fraction.length) };
  if (ratio.numerator < ratio.denominator || ratio.numerator > MAX_RATIO * ratio.denominator) {
    throw new Error(`${where}: ratio ${text} must be from 1 to ${MAX_RATIO}`);
  }
  return ratio;
}

function resourceNamed(name: string, where: string): OversoldResource {
  if ((RESOURCES as readonly string[]).includes(name)) return name as OversoldResource;
  const near = nearestName(name, RESOURCES);
  throw new Error(
    `${where}: resource "${name}" is not one of ${RESOURCES.join(', ')}${near ? ` (did you mean ${near}?)` : ''}`,
  );
}

function entriesOf(text: string, separator: RegExp): string[] {
  return text
    .split(separator)
    .map((line) => line.replace(/#.*/, '').trim())
    .filter(Boolean);
}
