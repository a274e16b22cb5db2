import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/diagnostics.js';
import { parseExpression, type FieldTable, type Value } from '../../src/transforms/expression.js';

const FIELDS: FieldTable = {
  a: { type: 'boolean' }, b: { type: 'boolean' }, c: { type: 'boolean' },
  label: { type: 'string' }, id: { type: 'string' }, area: { type: 'number' },
  type: { type: 'string', values: ['bbox', 'polygon'] }, 'attr.': { type: 'any' },
};

const test = (text: string, values: Record<string, Value>) =>
  parseExpression(text, FIELDS).test((field) => values[field]);

/** The message of the UsageError `text` throws. */
function failure(text: string): string {
  try {
    parseExpression(text, FIELDS);
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as Error).message;
  }
  throw new Error(`'${text}' parsed`);
}

/** The column a syntax error names, checked against the caret line under the expression. */
function column(text: string): number {
  const [first, shown, caret] = failure(text).split('\n');
  const n = Number(/ at column (\d+)(;|$)/.exec(first)?.[1]);
  expect(shown).toBe(`  ${text}`);
  expect(caret).toBe(`  ${' '.repeat(n - 1)}^`);
  return n;
}

describe('filter expressions: precedence', () => {
  it('binds and tighter than or: a or b and c is a or (b and c)', () => {
    // a=true, b=false: (a or b) and c would be false when c is false; a or (b and c) is true.
    expect(test('a or b and c', { a: true, b: false, c: false })).toBe(true);
    expect(test('(a or b) and c', { a: true, b: false, c: false })).toBe(false);
    expect(test('a || b && c', { a: true, b: false, c: false })).toBe(true);
    expect(test('b and c or a', { a: true, b: false, c: false })).toBe(true);
  });

  it('binds not tighter than and, and nests', () => {
    expect(test('not a and b', { a: false, b: true })).toBe(true);
    expect(test('not (a and b)', { a: true, b: false })).toBe(true);
    expect(test('not (a or b)', { a: true, b: false })).toBe(false);
    expect(test('!a', { a: false })).toBe(true);
    expect(test('not not a', { a: true })).toBe(true);
    expect(test('NOT a AND b', { a: false, b: true })).toBe(true);
  });
});

describe('filter expressions: comparisons', () => {
  it('compares numbers numerically and strings as strings', () => {
    expect(test('area >= 100', { area: 100 })).toBe(true);
    expect(test('area > 100', { area: 100 })).toBe(false);
    expect(test('area < 9', { area: 10 })).toBe(false);
    expect(test('area <= 1e3', { area: 1000 })).toBe(true);
    expect(test('area != 5', { area: 5.0 })).toBe(false);
    expect(test('label == car', { label: 'car' })).toBe(true);
    expect(test('label = car', { label: 'car' })).toBe(true);
    expect(test('label != car', { label: 'bus' })).toBe(true);
    expect(test('label < car', { label: 'bus' })).toBe(true); // 'bus' < 'car'
    // A string field compares as written: 0001 is not 1.
    expect(test('id == 0001', { id: '0001' })).toBe(true);
    expect(test('id == 1', { id: '0001' })).toBe(false);
  });

  it('compares attributes numerically when both sides are numbers, also a numeric string', () => {
    expect(test('attr.size > 9', { 'attr.size': '10' })).toBe(true); // as strings '10' < '9'
    expect(test('attr.size > 9', { 'attr.size': 10 })).toBe(true);
    expect(test("attr.size == '10'", { 'attr.size': 10 })).toBe(true);
    expect(test('attr.pose == left', { 'attr.pose': 'left' })).toBe(true);
    expect(test('attr.crowd == true', { 'attr.crowd': true })).toBe(true);
    expect(test('attr.crowd == 1', { 'attr.crowd': true })).toBe(true);
    expect(test('attr.crowd == false', { 'attr.crowd': true })).toBe(false);
  });

  it('makes every comparison of a missing value false, != and not in too', () => {
    expect(test('attr.x == 1', {})).toBe(false);
    expect(test('attr.x != 1', {})).toBe(false);
    expect(test('attr.x in (1, 2)', {})).toBe(false);
    expect(test('attr.x not in (1, 2)', {})).toBe(false);
    expect(test('not attr.x == 1', {})).toBe(true);
    expect(test('attr.x', {})).toBe(false);
  });

  it('tests a bare field for truth; a string is false when empty, false or 0', () => {
    expect(test('a', { a: true })).toBe(true);
    expect(test('attr.n', { 'attr.n': 0 })).toBe(false);
    expect(test('attr.n', { 'attr.n': 3 })).toBe(true);
    expect(test('attr.s', { 'attr.s': 'false' })).toBe(false);
    expect(test('attr.s', { 'attr.s': '' })).toBe(false);
    expect(test('attr.s', { 'attr.s': 'x' })).toBe(true);
  });

  it('matches in and not in lists', () => {
    expect(test('label in (car, bus)', { label: 'bus' })).toBe(true);
    expect(test('label in (car,bus)', { label: 'truck' })).toBe(false);
    expect(test('label not in (car, bus)', { label: 'truck' })).toBe(true);
    expect(test('label not in (car, bus)', { label: 'car' })).toBe(false);
    expect(test('area in (1, 2.5)', { area: 2.5 })).toBe(true);
    expect(test('label in (car)', { label: 'car' })).toBe(true);
  });

  it('reads quoted values with spaces, operators and escapes', () => {
    expect(test("label == 'big car'", { label: 'big car' })).toBe(true);
    expect(test('label == "big car"', { label: 'big car' })).toBe(true);
    expect(test("label == 'it\\'s'", { label: "it's" })).toBe(true);
    expect(test('label == "a \\"b\\" \\\\"', { label: 'a "b" \\' })).toBe(true);
    expect(test("label in ('a,b', 'c)')", { label: 'c)' })).toBe(true);
    expect(test("label == 'and'", { label: 'and' })).toBe(true);
    expect(test('label == traffic-light', { label: 'traffic-light' })).toBe(true);
    expect(test('id == street/0001', { id: 'street/0001' })).toBe(true);
    expect(test('label==car&&area>=5', { label: 'car', area: 5 })).toBe(true);
  });

  it('lists the fields it uses and the values compared with each', () => {
    const e = parseExpression('label in (car, bus) and area >= 100 or label == van', FIELDS);
    expect(e.fields).toEqual(['label', 'area']);
    expect(e.values.get('label')).toEqual(['car', 'bus', 'van']);
  });
});

describe('filter expressions: errors', () => {
  it('points at the column of a syntax error with a caret line', () => {
    expect(failure('label in (car,bus) and area >= ')).toMatch(/^filter: expected a value after '>=' at column 32\n/);
    expect(column('label in (car,bus) and area >= ')).toBe(32);
    expect(column('label == car bus')).toBe(14);
    expect(failure('label == car bus')).toMatch(/expected 'and', 'or' or the end of the expression, got 'bus'/);
    expect(column('(label == car')).toBe(14);
    expect(failure('(label == car')).toMatch(/expected '\)' \(the '\(' opened at column 1 is not closed\) at column 14/);
    expect(column("label == 'car")).toBe(10);
    expect(failure("label == 'car")).toMatch(/unterminated string/);
    expect(column('label == car and')).toBe(17);
    expect(failure('label == car and')).toMatch(/expected a field name after 'and'/);
    expect(column('label in car')).toBe(10);
    expect(column('label in (car bus)')).toBe(15);
    expect(column('label in ()')).toBe(11);
    expect(column('a & b')).toBe(3);
    expect(column('== car')).toBe(1);
    expect(column('car == label')).toBe(1); // 'car' is no field
    expect(column('area >= big')).toBe(9);
    expect(failure('area >= big')).toMatch(/'area' is a number; 'big' is not/);
    expect(column('label == and')).toBe(10);
    expect(column('a > 1')).toBe(3);
    expect(failure('a > 1')).toMatch(/compare it with == or !=/);
    expect(column('')).toBe(1);
  });

  it('names an unknown field and lists the known ones', () => {
    const message = failure('area > 1 and lable == car');
    expect(message).toMatch(/unknown field 'lable' at column 14; the fields are a, b, c, label, id, area, type, attr\.NAME\n/);
    expect(failure('attr. == 1')).toMatch(/unknown field 'attr\.'/);
  });

  it('refuses a value outside a field\'s choices', () => {
    expect(failure('type == boxx')).toMatch(/unknown type 'boxx' at column 9; it is one of bbox, polygon\n/);
    expect(failure('type in (bbox, polgon)')).toMatch(/unknown type 'polgon'/);
  });
});
