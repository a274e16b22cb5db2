import type { Diagnostic, Reporter } from './diagnostics.js';

/**
 * Linear-time reading of line-based text files (YOLO label files and image lists, name lists):
 * one pass with `indexOf`, no regex split over the whole file, no per-line copies of the rest.
 * A 50 MB file is read in about the time it takes to allocate its lines.
 */

/** Calls `fn` for every line (`\n` or `\r\n` ends a line; a leading BOM is dropped), with its 1-based number. */
export function forEachLine(text: string, fn: (line: string, lineNo: number) => void): void {
  const n = text.length;
  let start = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  for (let lineNo = 1; start <= n; lineNo++) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = n;
    const stop = end > start && text.charCodeAt(end - 1) === 13 ? end - 1 : end;
    // A file ending with a newline has no empty last line.
    if (!(end === n && stop === start && start > 0)) fn(text.slice(start, stop), lineNo);
    start = end + 1;
  }
}

const isSpace = (c: number) => c === 32 || (c >= 9 && c <= 13);

/** The whitespace-separated fields of a line (`line.trim().split(/\s+/)` for ASCII whitespace, without a regex). */
export function splitFields(line: string): string[] {
  const out: string[] = [];
  const n = line.length;
  let i = 0;
  while (i < n) {
    while (i < n && isSpace(line.charCodeAt(i))) i++;
    if (i >= n) break;
    const start = i;
    while (i < n && !isSpace(line.charCodeAt(i))) i++;
    out.push(line.slice(start, i));
  }
  return out;
}

const POWERS = Array.from({ length: 16 }, (_, i) => 10 ** i);

/**
 * `Number(token)`, with a fast path for plain decimals (`-0.123456`, at most 15 digits): the digits
 * as an integer divided by a power of ten is exact to the last bit, since both are exact doubles and
 * IEEE division rounds correctly. Anything else (exponents, `0x10`, `NaN`, '') goes to `Number`.
 */
export function toNumber(token: string): number {
  const n = token.length;
  let i = token.charCodeAt(0) === 45 ? 1 : 0;
  let mantissa = 0;
  let digits = 0;
  let decimals = -1;
  for (; i < n; i++) {
    const c = token.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      mantissa = mantissa * 10 + (c - 48);
      digits++;
      if (decimals >= 0) decimals++;
    } else if (c === 46 && decimals < 0) {
      decimals = 0;
    } else {
      return Number(token);
    }
  }
  if (digits === 0 || digits > 15) return Number(token);
  const value = decimals > 0 ? mantissa / POWERS[decimals] : mantissa;
  return token.charCodeAt(0) === 45 ? -value : value;
}

/** Per file, this many warnings about single lines are reported; the rest are counted in one summary warning. */
export const LINE_WARNINGS_PER_FILE = 50;

/**
 * Warnings about the lines of one file, at most LINE_WARNINGS_PER_FILE of them: a 50 MB file of bad
 * lines must not produce millions of messages. `done()` reports how many were left out.
 */
export function lineWarner(reporter: Reporter, file: string, item?: string) {
  let count = 0;
  return {
    warn(d: Omit<Diagnostic, 'severity' | 'file'>): void {
      if (++count <= LINE_WARNINGS_PER_FILE) reporter.warn({ file, ...(item === undefined ? {} : { item }), ...d });
    },
    done(): void {
      if (count > LINE_WARNINGS_PER_FILE) {
        reporter.warn({ code: 'more-bad-lines', file, ...(item === undefined ? {} : { item }), message: `${count - LINE_WARNINGS_PER_FILE} more lines of this file were warned about (not listed; the first ${LINE_WARNINGS_PER_FILE} are)` });
      }
    },
  };
}

/** A line for a message: long lines are cut (a 50 MB line must not end up in a warning). */
export function excerpt(line: string, max = 80): string {
  const text = line.trim();
  return text.length > max ? `${text.slice(0, max)}...` : text;
}

/** Every line of `text` (as `forEachLine` sees them). */
export function readLines(text: string): string[] {
  const lines: string[] = [];
  forEachLine(text, (line) => { lines.push(line); });
  return lines;
}

/** How many fields `splitFields` would return, without making them. */
export function fieldCount(line: string): number {
  let count = 0;
  let inField = false;
  for (let i = 0; i < line.length; i++) {
    const space = isSpace(line.charCodeAt(i));
    if (!space && !inField) count++;
    inField = !space;
  }
  return count;
}

/** `3 boxes`, `1 box`: a count with its noun, singular for exactly one (`plural` when adding 's' is wrong). */
export function plural(n: number, word: string, pluralWord = `${word}s`): string {
  return `${n} ${n === 1 ? word : pluralWord}`;
}

/**
 * Rows of cells as aligned lines, two spaces between columns: numbers right-aligned, the columns in
 * `left` (default: the first, the names) left-aligned; no trailing spaces.
 */
export function alignTable(rows: readonly (readonly string[])[], left: readonly number[] = [0]): string[] {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => r.map((cell, c) => (left.includes(c) ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ').trimEnd());
}
