// Kubernetes resource quantities (k8s.io/apimachinery resource.Quantity): `4`, `3500m`,
// `16Gi`, `17179869184`, `129e6`. Values are exact (BigInt counts of nano-units, never
// floats), and formatting is the apiserver's canonical form, so what this module writes is
// what the apiserver stores and later sends back.
//
// Grammar: [+-] digits [. digits] [suffix], suffix one of
//   binary SI   Ki Mi Gi Ti Pi Ei             (powers of 1024)
//   decimal SI  n u m "" k M G T P E          (powers of 1000)
//   exponent    e<int> / E<int>               (powers of 10)
// A quantity remembers which of the three forms it was written in and is formatted in the
// same form. Precision finer than 1n is rounded up (away from zero), as Kubernetes does.
// Binary SI values are capped at 2^63-1, as Go caps them. Three deliberate differences from
// Go's parser: at least one digit is required (Go reads "." or "-" as 0), exponents beyond
// ±1000 are an error (Go accepts up to ±2^31 and then works with huge decimals), and so are
// more than MAX_QUANTITY_DIGITS digits. Go's ParseQuantity bounds no digit count (past 18
// digits it falls back to inf.Dec); only the apiserver's 3 MiB request bounds it. But every
// consumer of a quantity (scheduler, kubelet, quota) reads it as an int64 of units or
// milli-units, 19 digits at most, so no quantity with more digits than an int64 of nano-units
// and its fraction means anything; refusing them keeps every operation here small.
//
// Every step is linear in the text (bounded by the limits above): digits are counted and
// stripped on strings, never by repeated BigInt division, which is quadratic in the digits.

export type QuantityFormat = 'DecimalSI' | 'BinarySI' | 'DecimalExponent';

export interface Quantity {
  /** The value in nano-units (1 = 1n; 1 cpu = 1_000_000_000n). */
  readonly nanos: bigint;
  readonly format: QuantityFormat;
}

export class QuantityError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'QuantityError';
  }
}

const NANOS_PER_UNIT = 1_000_000_000n;
const MAX_BINARY_NANOS = (2n ** 63n - 1n) * NANOS_PER_UNIT;

/** The most digits (whole and fraction together) a quantity may have: twice an int64 of nano-units. */
export const MAX_QUANTITY_DIGITS = 56;
/** Sign, digits, point and the longest suffix (`e-1000`). */
const MAX_QUANTITY_LENGTH = MAX_QUANTITY_DIGITS + 8;

const QUANTITY = /^([+-]?)(?:(\d+)(?:\.(\d*))?|\.(\d+))(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?\d+)?$/;

const BINARY_SUFFIXES = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'] as const;
const DECIMAL_SUFFIXES: Readonly<Record<string, number>> = {
  n: -9,
  u: -6,
  m: -3,
  '': 0,
  k: 3,
  M: 6,
  G: 9,
  T: 12,
  P: 15,
  E: 18,
};
const DECIMAL_SUFFIX_FOR = new Map(Object.entries(DECIMAL_SUFFIXES).map(([suffix, exp]) => [exp, suffix]));

const pow10 = (n: number) => 10n ** BigInt(n);
const abs = (n: bigint) => (n < 0n ? -n : n);

/** Parses a quantity as the apiserver does; throws QuantityError naming the problem. */
export function parseQuantity(input: string | number): Quantity {
  const text = typeof input === 'number' ? numberText(input) : input;
  // Checked before the pattern runs: nothing below then sees more than a few dozen characters.
  if (text.length > MAX_QUANTITY_LENGTH) {
    throw new QuantityError(
      `${shown(text)} is ${text.length} characters long: a quantity has at most ${MAX_QUANTITY_DIGITS} digits`,
    );
  }
  const match = QUANTITY.exec(text);
  if (!match) {
    throw new QuantityError(
      `${shown(text)} is not a quantity (expected a number with an optional suffix such as 500m, 2, 1.5Gi, 16384Mi or 129e6)`,
    );
  }
  const [, sign = '', whole = '', fraction = '', onlyFraction, suffix = ''] = match;
  const digits = onlyFraction ?? fraction;
  if (whole.length + digits.length > MAX_QUANTITY_DIGITS) {
    throw new QuantityError(
      `${shown(text)} has ${whole.length + digits.length} digits: a quantity has at most ${MAX_QUANTITY_DIGITS}`,
    );
  }
  const mantissa = BigInt(`${whole}${digits}` || '0');

  let format: QuantityFormat;
  let numerator = mantissa * NANOS_PER_UNIT; // value * 1e9 * 10^digits.length
  let decimalExponent = -digits.length;
  if (suffix.endsWith('i')) {
    format = 'BinarySI';
    numerator *= 1024n ** BigInt(BINARY_SUFFIXES.indexOf(suffix as (typeof BINARY_SUFFIXES)[number]));
  } else if (suffix.length > 1) {
    format = 'DecimalExponent';
    const exponent = Number(suffix.slice(1));
    if (!Number.isSafeInteger(exponent) || Math.abs(exponent) > 1000) {
      throw new QuantityError(`${shown(text)}: exponent ${suffix.slice(1)} is out of range (±1000 at most)`);
    }
    decimalExponent += exponent;
  } else {
    format = 'DecimalSI';
    decimalExponent += DECIMAL_SUFFIXES[suffix] ?? 0;
  }

  let nanos: bigint;
  if (decimalExponent >= 0) {
    nanos = numerator * pow10(decimalExponent);
  } else {
    // Round up to a whole nano-unit: "if you want some resources, you should get some".
    const divisor = pow10(-decimalExponent);
    nanos = numerator / divisor + (numerator % divisor === 0n ? 0n : 1n);
  }
  if (format === 'BinarySI' && nanos > MAX_BINARY_NANOS) nanos = MAX_BINARY_NANOS;
  return { nanos: sign === '-' ? -nanos : nanos, format };
}

/** The problem with `input` as a quantity, or undefined. */
export function quantityProblem(input: string | number): string | undefined {
  try {
    parseQuantity(input);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

/** The canonical text of a quantity, exactly as the apiserver serializes it. */
export function formatQuantity({ nanos, format }: Quantity): string {
  if (nanos === 0n) return '0';
  const sign = nanos < 0n ? '-' : '';
  const magnitude = abs(nanos);
  // Binary form only for whole numbers of at least 1Ki; others are shown in decimal SI.
  const binary =
    format === 'BinarySI' && magnitude >= 1024n * NANOS_PER_UNIT && magnitude % NANOS_PER_UNIT === 0n;
  if (binary) {
    let value = magnitude / NANOS_PER_UNIT;
    let exponent = 0;
    // Bounded: one step past Ei is enough to know there is no binary suffix.
    while (exponent < BINARY_SUFFIXES.length && value % 1024n === 0n) {
      value /= 1024n;
      exponent++;
    }
    // Past Ei there is no binary suffix: Go falls back to the decimal form.
    const suffix = BINARY_SUFFIXES[exponent];
    if (suffix !== undefined) return `${sign}${value}${suffix}`;
  }
  // Largest exponent that is a multiple of 3 and keeps the mantissa whole: the trailing zeros
  // of the digits, counted on the text (one pass) rather than by dividing by 10 once per zero.
  const digits = magnitude.toString();
  let end = digits.length;
  while (end > 1 && digits.charCodeAt(end - 1) === 48) end--;
  let exponent = -9 + (digits.length - end);
  const excess = ((exponent % 3) + 3) % 3;
  const mantissa = digits.slice(0, end) + '0'.repeat(excess);
  exponent -= excess;
  // Decimal SI has no suffix past E (10^18): Go writes those in exponent form.
  const suffix = format === 'DecimalExponent' ? undefined : DECIMAL_SUFFIX_FOR.get(exponent);
  if (suffix !== undefined) return `${sign}${mantissa}${suffix}`;
  return `${sign}${mantissa}${exponent === 0 ? '' : `e${exponent}`}`;
}

/** `input` in canonical form: `1.5` -> `1500m`, `16384Mi` -> `16Gi`, `1000` -> `1k`. */
export function canonicalQuantity(input: string | number): string {
  return formatQuantity(parseQuantity(input));
}

/** -1, 0 or 1 as `a` is less than, equal to or greater than `b` (by value, whatever the form). */
export function compareQuantities(a: Quantity, b: Quantity): -1 | 0 | 1 {
  return a.nanos < b.nanos ? -1 : a.nanos > b.nanos ? 1 : 0;
}

/** The start of a text for a message: a quantity of 100,000 digits is not repeated whole. */
function shown(text: string): string {
  return text.length <= 40 ? `"${text}"` : `"${text.slice(0, 32)}…"`;
}

/** JSON numbers are accepted where quantities are (YAML `cpu: 1`); write them as the text JS would. */
function numberText(value: number): string {
  if (!Number.isFinite(value)) throw new QuantityError(`${value} is not a quantity`);
  return String(value);
}
