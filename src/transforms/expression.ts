import { UsageError } from '../diagnostics.js';

/**
 * Filter expressions: a tokenizer and a recursive-descent parser (no eval), compiled into a predicate.
 *
 *   expr    := and (('or' | '||') and)*
 *   and     := unary (('and' | '&&') unary)*
 *   unary   := ('not' | '!') unary | primary
 *   primary := '(' expr ')' | FIELD [op VALUE | ['not'] 'in' '(' VALUE (',' VALUE)* ')']
 *   op      := '==' | '=' | '!=' | '<' | '<=' | '>' | '>='
 *   VALUE   := bare word (car, 12.5, img/0001) | 'quoted' | "quoted" (backslash escapes)
 *
 * A field alone is a truth test. A missing value (an attribute the object lacks) makes every
 * comparison false, `!=` and `not in` included; `not (...)` around it is true.
 */

export type Value = string | number | boolean;
/** `any`: attributes, compared as numbers when both sides are numeric, else as strings. */
export type FieldType = 'string' | 'number' | 'boolean' | 'any';
export interface FieldSpec { type: FieldType; values?: readonly string[] }
/** The fields an expression may use; a name ending in '.' is a prefix (`attr.` covers `attr.NAME`). */
export type FieldTable = Record<string, FieldSpec>;

export interface Expression {
  test(get: (field: string) => Value | undefined): boolean;
  /** The field names used, each once. */
  fields: string[];
  /** The literals each field is compared with (`label` -> ['car', 'bus']). */
  values: Map<string, string[]>;
}

type Op = '==' | '!=' | '<' | '<=' | '>' | '>=';
interface Literal { text: string; num?: number }
type Node =
  | { kind: 'and' | 'or'; left: Node; right: Node }
  | { kind: 'not'; operand: Node }
  | { kind: 'truthy'; field: string }
  | { kind: 'compare'; field: string; op: Op; value: Literal }
  | { kind: 'in'; field: string; values: Literal[]; negated: boolean };
interface Token { kind: 'word' | 'string' | 'punct' | 'end'; text: string; column: number }

const OPS = ['==', '=', '!=', '<', '<=', '>', '>='];
const KEYWORDS = ['and', 'or', 'not', 'in'];
const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)(e[+-]?\d+)?$/i;
const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r' };

/** Parses `text` against `fields`; a UsageError, prefixed `where:`, points at the column of a mistake. */
export function parseExpression(text: string, fields: FieldTable, where = 'filter'): Expression {
  const fail = (message: string, column: number, more = ''): never => {
    throw new UsageError(`${where}: ${message} at column ${column}${more}\n  ${text.replace(/\s/g, ' ')}\n  ${' '.repeat(column - 1)}^`);
  };
  const tokens = tokenize(text, fail);
  let pos = 0;
  const peek = () => tokens[pos];
  const next = () => tokens[pos++];
  const isWord = (t: Token, word: string) => t.kind === 'word' && t.text.toLowerCase() === word;
  const isPunct = (t: Token, ...texts: string[]) => t.kind === 'punct' && texts.includes(t.text);
  const used = new Set<string>();
  const values = new Map<string, string[]>();

  const specOf = (name: string): FieldSpec | undefined =>
    Object.entries(fields).find(([k]) => (k.endsWith('.') ? name.startsWith(k) && name.length > k.length : name === k))?.[1];
  const known = () => Object.keys(fields).map((k) => (k.endsWith('.') ? `${k}NAME` : k)).join(', ');

  const parseBinary = (kind: 'and' | 'or', operand: () => Node): Node => {
    let left = operand();
    while (isWord(peek(), kind) || isPunct(peek(), kind === 'and' ? '&&' : '||')) {
      next();
      left = { kind, left, right: operand() };
    }
    return left;
  };
  const parseOr = (): Node => parseBinary('or', () => parseBinary('and', parseUnary));
  const parseUnary = (): Node => {
    if (isWord(peek(), 'not') || isPunct(peek(), '!')) {
      next();
      return { kind: 'not', operand: parseUnary() };
    }
    return parsePrimary();
  };
  const parsePrimary = (): Node => {
    const token = next();
    if (isPunct(token, '(')) {
      const inner = parseOr();
      if (!isPunct(peek(), ')')) fail(`expected ')' (the '(' opened at column ${token.column} is not closed)`, peek().column);
      next();
      return inner;
    }
    if (token.kind !== 'word' || KEYWORDS.includes(token.text.toLowerCase()) || NUMBER.test(token.text)) {
      const previous = tokens[pos - 2];
      if (token.kind === 'end') fail(`expected a field name${previous ? ` after '${previous.text}'` : ''}`, token.column);
      if (token.kind === 'punct') fail(`expected a field name, got '${token.text}'`, token.column);
      fail(`expected a field name, got '${token.text}' (the field comes first: label == car)`, token.column);
    }
    const field = token.text;
    const spec = specOf(field);
    if (!spec) fail(`unknown field '${field}'`, token.column, `; the fields are ${known()}`);
    used.add(field);
    const op = peek();
    if (isPunct(op, ...OPS)) {
      next();
      if (spec!.type === 'boolean' && !['==', '=', '!='].includes(op.text)) fail(`'${field}' is true or false: compare it with == or !=`, op.column);
      const value = parseValue(field, spec!, op.text);
      return { kind: 'compare', field, op: (op.text === '=' ? '==' : op.text) as Op, value };
    }
    const negated = isWord(op, 'not') && isWord(tokens[pos + 1], 'in');
    if (negated || isWord(op, 'in')) {
      pos += negated ? 2 : 1;
      const open = next();
      if (!isPunct(open, '(')) fail(`expected '(' after 'in'`, open.column);
      const list = [parseValue(field, spec!, '(')];
      while (isPunct(peek(), ',')) list.push(parseValue(field, spec!, next().text));
      if (!isPunct(peek(), ')')) fail(`expected ',' or ')' in the list after 'in'`, peek().column);
      next();
      return { kind: 'in', field, values: list, negated };
    }
    return { kind: 'truthy', field };
  };
  const parseValue = (field: string, spec: FieldSpec, after: string): Literal => {
    const token = next();
    const bare = token.kind === 'word' && !KEYWORDS.includes(token.text.toLowerCase());
    if (!bare && token.kind !== 'string') fail(`expected a value after '${after}'${token.kind === 'word' ? ` ('${token.text}' is a keyword: quote it)` : ''}`, token.column);
    const text = token.text;
    const isNumber = bare && NUMBER.test(text);
    if (spec.type === 'number' && !isNumber) fail(`'${field}' is a number; '${text}' is not`, token.column);
    if (spec.type === 'boolean' && !['true', 'false', '1', '0'].includes(text.toLowerCase())) fail(`'${field}' is true or false; got '${text}'`, token.column);
    if (spec.values && !spec.values.includes(text)) fail(`unknown ${field} '${text}'`, token.column, `; it is one of ${spec.values.join(', ')}`);
    values.set(field, [...(values.get(field) ?? []), text]);
    // Strings such as ids compare as written (`id == 0001`); only numbers and attributes compare numerically.
    return isNumber && spec.type !== 'string' ? { text, num: Number(text) } : { text };
  };

  if (peek().kind === 'end') fail('the expression is empty', 1);
  const root = parseOr();
  if (peek().kind !== 'end') fail(`expected 'and', 'or' or the end of the expression, got '${peek().text}'`, peek().column);
  return { test: (get) => evaluate(root, get), fields: [...used], values };
}

function tokenize(text: string, fail: (message: string, column: number) => never): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    const column = i + 1;
    if (/\s/.test(c)) { i++; continue; }
    const two = text.slice(i, i + 2);
    if (['==', '!=', '<=', '>=', '&&', '||'].includes(two)) { tokens.push({ kind: 'punct', text: two, column }); i += 2; continue; }
    if ('()<>=!,'.includes(c)) { tokens.push({ kind: 'punct', text: c, column }); i++; continue; }
    if (c === '&' || c === '|') fail(`'${c}' must be doubled: '${c}${c}'`, column);
    if (c === '"' || c === "'") {
      let value = '';
      let j = i + 1;
      for (; text[j] !== c; j++) {
        if (j >= text.length) fail(`unterminated string: no closing ${c}`, column);
        if (text[j] === '\\' && j + 1 < text.length) { j++; value += ESCAPES[text[j]] ?? text[j]; } else value += text[j];
      }
      tokens.push({ kind: 'string', text: value, column });
      i = j + 1;
      continue;
    }
    let j = i;
    while (j < text.length && !/[\s()<>=!,'"&|]/.test(text[j])) j++;
    tokens.push({ kind: 'word', text: text.slice(i, j), column });
    i = j;
  }
  tokens.push({ kind: 'end', text: '', column: text.length + 1 });
  return tokens;
}

function evaluate(node: Node, get: (field: string) => Value | undefined): boolean {
  switch (node.kind) {
    case 'and': return evaluate(node.left, get) && evaluate(node.right, get);
    case 'or': return evaluate(node.left, get) || evaluate(node.right, get);
    case 'not': return !evaluate(node.operand, get);
    case 'truthy': return truthy(get(node.field));
    case 'compare': {
      const value = get(node.field);
      return value !== undefined && compare(value, node.op, node.value);
    }
    case 'in': {
      const value = get(node.field);
      if (value === undefined) return false;
      return node.values.some((v) => compare(value, '==', v)) !== node.negated;
    }
  }
}

/** A string is true unless empty, 'false' or '0' (attribute values written as text). */
function truthy(value: Value | undefined): boolean {
  if (typeof value === 'string') return value !== '' && value.toLowerCase() !== 'false' && value !== '0';
  return Boolean(value);
}

function compare(value: Value, op: Op, literal: Literal): boolean {
  let a: number | string = String(value);
  let b: number | string = literal.text;
  const lower = literal.text.toLowerCase();
  if (typeof value === 'boolean' && (lower === 'true' || lower === 'false')) {
    a = Number(value); b = Number(lower === 'true');
  } else if (literal.num !== undefined) {
    const n = toNumber(value);
    if (n !== undefined) { a = n; b = literal.num; }
  }
  switch (op) {
    case '==': return a === b;
    case '!=': return a !== b;
    case '<': return a < b;
    case '<=': return a <= b;
    case '>': return a > b;
    case '>=': return a >= b;
  }
}

function toNumber(value: Value): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'boolean') return Number(value);
  return value.trim() !== '' && Number.isFinite(Number(value)) ? Number(value) : undefined;
}
