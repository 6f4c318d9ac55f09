// Expected values are those of k8s.io/apimachinery resource.Quantity (its String() after
// ParseQuantity), so what the functions write is exactly what the apiserver stores.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  canonicalQuantity,
  compareQuantities,
  formatQuantity,
  MAX_QUANTITY_DIGITS,
  parseQuantity,
  quantityProblem,
} from '../shared/k8s/quantity.ts';

describe('quantity', () => {
  const canonical: [input: string | number, expected: string][] = [
    // What kubelets and users write.
    ['4', '4'],
    ['3500m', '3500m'],
    ['1.5', '1500m'],
    ['0.5', '500m'],
    ['1000m', '1'],
    ['16384Mi', '16Gi'],
    ['16Gi', '16Gi'],
    ['17179869184', '17179869184'],
    ['1e3', '1e3'],
    ['129e6', '129e6'],
    ['32779400Ki', '32779400Ki'],
    ['1536Mi', '1536Mi'],
    ['1.5Gi', '1536Mi'],
    ['0.5Gi', '512Mi'],
    ['1.5Ki', '1536'],
    ['1024', '1024'],
    ['1000', '1k'],
    ['1000k', '1M'],
    ['1000M', '1G'],
    ['100M', '100M'],
    ['1024Mi', '1Gi'],
    ['1024Ki', '1Mi'],
    ['1023Ki', '1023Ki'],
    ['1025', '1025'],
    ['2000', '2k'],
    // Zero in every form is "0".
    ['0', '0'],
    ['0m', '0'],
    ['0Mi', '0'],
    ['0e3', '0'],
    // Decimal exponents keep their form.
    ['1E6', '1e6'],
    ['1.2e3', '1200'],
    ['1.3E+6', '1300e3'],
    ['0.5e-2', '5e-3'],
    ['100e-3', '100e-3'],
    ['12e-1', '1200e-3'],
    // Fractions and odd spellings.
    ['.001', '1m'],
    ['1.', '1'],
    ['1.G', '1G'],
    ['007', '7'],
    ['+5', '5'],
    ['-9.01', '-9010m'],
    ['100.035k', '100035'],
    ['10.035M', '10035k'],
    ['7.123456M', '7123456'],
    ['1.01E', '1010P'],
    ['12E', '12E'],
    // Sub-nano precision rounds up (away from zero).
    ['3.001n', '4n'],
    ['0.9n', '1n'],
    ['-0.1n', '-1n'],
    ['0.00000012345', '124n'],
    ['.001Ki', '1024m'],
    ['.000000000001Ki', '2n'],
    ['0.1m', '100u'],
    // Binary SI is capped at 2^63-1, as Go caps it.
    ['9Ei', '9223372036854775807'],
    // JSON numbers, as YAML `cpu: 1` arrives.
    [1, '1'],
    [0.25, '250m'],
    [2048, '2048'],
  ];
  for (const [input, expected] of canonical) {
    it(`${JSON.stringify(input)} -> ${expected}`, () => {
      assert.equal(canonicalQuantity(input), expected);
      // The canonical form reads back as the same value in the same form.
      assert.equal(canonicalQuantity(expected), expected);
      assert.equal(compareQuantities(parseQuantity(expected), parseQuantity(input)), 0);
    });
  }

  it('keeps the form a quantity was written in', () => {
    assert.equal(parseQuantity('16Gi').format, 'BinarySI');
    assert.equal(parseQuantity('16G').format, 'DecimalSI');
    assert.equal(parseQuantity('16').format, 'DecimalSI');
    assert.equal(parseQuantity('16e9').format, 'DecimalExponent');
    assert.equal(parseQuantity('1E').format, 'DecimalSI');
    assert.equal(parseQuantity('1E3').format, 'DecimalExponent');
  });

  it('holds exact values in nano-units', () => {
    assert.equal(parseQuantity('3500m').nanos, 3_500_000_000n);
    assert.equal(parseQuantity('1Ki').nanos, 1024n * 1_000_000_000n);
    assert.equal(parseQuantity('5n').nanos, 5n);
    assert.equal(parseQuantity('8E').nanos, 8n * 10n ** 27n);
  });

  it('formats values past the largest suffix as Go does', () => {
    assert.equal(formatQuantity({ nanos: 10n ** 30n, format: 'DecimalSI' }), '1e21');
    assert.equal(formatQuantity({ nanos: 5n * 10n ** 30n, format: 'DecimalSI' }), '5e21');
    assert.equal(
      formatQuantity({ nanos: 2n ** 70n * 10n ** 9n, format: 'BinarySI' }),
      '1180591620717411303424',
    );
    assert.equal(formatQuantity({ nanos: 10n ** 79n, format: 'BinarySI' }), '10e69');
    assert.equal(formatQuantity({ nanos: 10n ** 9n * 1024n ** 6n, format: 'BinarySI' }), '1Ei');
  });

  it('compares by value whatever the form', () => {
    assert.equal(compareQuantities(parseQuantity('1Gi'), parseQuantity('1073741824')), 0);
    assert.equal(compareQuantities(parseQuantity('1G'), parseQuantity('1Gi')), -1);
    assert.equal(compareQuantities(parseQuantity('100m'), parseQuantity('50m')), 1);
    assert.equal(compareQuantities(parseQuantity('10000T'), parseQuantity('100Gi')), 1);
  });

  const invalid = [
    '',
    '.',
    '-',
    'G',
    'aoeu',
    '1.1.M',
    '1+1.0M',
    '0.1mi',
    '0.1am',
    '.5i',
    '1i',
    '1ki',
    '1KI',
    '1Gb',
    '-3.01i',
    '-3.01e-',
    '1e',
    'e3',
    ' 1',
    '1 ',
    '1 Gi',
    '1e1001',
  ];
  for (const input of invalid) {
    it(`rejects ${JSON.stringify(input)}`, () => {
      assert.throws(() => parseQuantity(input), /quantity|exponent/);
      assert.match(quantityProblem(input) ?? '', new RegExp(`"${input.replace(/[.+]/g, '\\$&')}"`));
    });
  }
  it('rejects numbers that are not finite', () => {
    assert.throws(() => parseQuantity(Number.NaN), /not a quantity/);
  });
});

describe('quantity limits', () => {
  it(`refuses more than ${MAX_QUANTITY_DIGITS} digits, saying how many, without repeating the text`, () => {
    for (const text of [
      '1'.repeat(MAX_QUANTITY_DIGITS + 1),
      `1${'0'.repeat(100_000)}`,
      `0.${'1'.repeat(60)}Mi`,
    ]) {
      const problem = quantityProblem(text) ?? '';
      assert.match(problem, new RegExp(`a quantity has at most ${MAX_QUANTITY_DIGITS}`));
      assert.ok(problem.length < 200, problem);
    }
    assert.equal(quantityProblem('9'.repeat(MAX_QUANTITY_DIGITS)), undefined);
  });

  it('parses and formats the largest quantities the limits allow, in time linear in their digits', () => {
    // Each is the worst case of a step: most digits, most trailing zeros, the largest exponent.
    const worst = [
      '9'.repeat(MAX_QUANTITY_DIGITS),
      `1${'0'.repeat(MAX_QUANTITY_DIGITS - 1)}e1000`,
      `1${'0'.repeat(MAX_QUANTITY_DIGITS - 1)}e-1000`,
      `-0.${'0'.repeat(MAX_QUANTITY_DIGITS - 2)}1`,
      `${'9'.repeat(MAX_QUANTITY_DIGITS)}Ei`,
    ];
    const started = performance.now();
    for (let i = 0; i < 100; i++) for (const text of worst) canonicalQuantity(text);
    // 500 of the worst quantities take well under a millisecond each; the quadratic formatter
    // took seconds for one quantity of 100,000 digits. The bound is wide on purpose.
    assert.ok(performance.now() - started < 2000, `${performance.now() - started} ms`);
  });

  it('formats values with many trailing zeros as the apiserver does', () => {
    assert.equal(canonicalQuantity(`1${'0'.repeat(50)}`), `100${'e48'}`);
    assert.equal(canonicalQuantity('1e1000'), '10e999');
    assert.equal(canonicalQuantity(`5${'0'.repeat(20)}m`), '500P');
  });
});
