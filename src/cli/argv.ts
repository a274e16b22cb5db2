import { UsageError } from '../diagnostics.js';

/**
 * Datumaro taught users to type `-if cvat`; commander only knows one-letter short flags, so `-if` is
 * rewritten to `--input-format` before commander sees it. Everything after the first `--` belongs to
 * the format plugin (`-- --save-media`) and is split off here.
 */
export function splitArgv(argv: readonly string[]): { args: string[]; pluginArgs: string[] } {
  const dashDash = argv.indexOf('--');
  const own = dashDash < 0 ? [...argv] : argv.slice(0, dashDash);
  const pluginArgs = dashDash < 0 ? [] : argv.slice(dashDash + 1);
  const args = own.map((arg) => {
    if (arg === '-if') return '--input-format';
    if (arg.startsWith('-if=')) return `--input-format=${arg.slice(4)}`;
    return arg;
  });
  return { args, pluginArgs };
}

/** commander's accumulator for an option that may be given several times (`-t a -t b`). */
export const repeatable = (value: string, all: string[]): string[] => [...all, value];

/**
 * A whole-number flag's value: `fallback` when it is absent, else the number, checked against
 * [min, max]; a UsageError naming the command (`owner`), the flag and what was typed otherwise.
 */
export function integerFlag<F extends number | undefined>(owner: string, flag: string, text: string | undefined, fallback: F, min = -Infinity, max = Infinity): number | F {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!text.trim() || !Number.isSafeInteger(n)) throw new UsageError(`${owner}: ${flag} must be an integer; got '${text}'`);
  if (n < min || n > max) {
    const range = max < Infinity ? `from ${min} to ${max}` : min === 1 ? 'a positive integer' : `at least ${min}`;
    throw new UsageError(`${owner}: ${flag} must be ${range}; got '${text}'`);
  }
  return n;
}
