import { UsageError } from '../diagnostics.js';

/**
 * The argument syntax the built-in transforms share: `name:MAIN;param=value;param=value`. MAIN is
 * the transform's own (pairs, a list, an expression); named parameters follow, each after a `;`.
 */
export interface TransformArgs {
  main: string;
  params: Map<string, string>;
}

/**
 * Splits `MAIN;a=1;b=2`, refusing parameters the transform does not know and repeated ones. A MAIN
 * that itself starts with a known parameter (`shapes_to_boxes:types=mask`) is that parameter, with
 * MAIN left empty, unless `mainIsPairs` (remap_labels' `default=background` names a label).
 */
export function parseArgs(text: string, transform: string, known: readonly string[] = [], mainIsPairs = false): TransformArgs {
  let [main, ...rest] = text.split(';');
  const leading = /^\s*([\w-]+)\s*=/.exec(main);
  if (!mainIsPairs && leading && known.includes(leading[1])) {
    rest = [main, ...rest];
    main = '';
  }
  const params = new Map<string, string>();
  for (const part of rest) {
    if (!part.trim()) continue;
    const eq = part.indexOf('=');
    const name = (eq < 0 ? part : part.slice(0, eq)).trim();
    if (!known.includes(name)) {
      throw new UsageError(`transform '${transform}': unknown parameter '${name}'${known.length ? `; it takes ${known.map((k) => `;${k}=...`).join(' ')}` : '; it takes none'}`);
    }
    if (eq < 0) throw new UsageError(`transform '${transform}': parameter '${name}' needs a value (;${name}=...)`);
    if (params.has(name)) throw new UsageError(`transform '${transform}': parameter '${name}' is given twice`);
    params.set(name, part.slice(eq + 1).trim());
  }
  return { main: main.trim(), params };
}

/** `a=b,c=d` -> [[a, b], [c, d]]; `c=` maps to ''. */
export function parsePairs(text: string, transform: string, example = 'old=new,old2=new2'): [string, string][] {
  if (!text.trim()) throw new UsageError(`transform '${transform}' needs arguments like ${example}`);
  return text.split(',').map((pair) => {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`transform '${transform}': '${pair}' is not old=new`);
    return [pair.slice(0, eq).trim(), pair.slice(eq + 1).trim()];
  });
}

/** `a,b, c` -> ['a', 'b', 'c']; empty entries are refused. */
export function parseList(text: string, transform: string, what: string): string[] {
  if (!text.trim()) throw new UsageError(`transform '${transform}' needs a list of ${what}, comma-separated`);
  return text.split(',').map((entry) => {
    const name = entry.trim();
    if (!name) throw new UsageError(`transform '${transform}': an empty entry in the list of ${what}`);
    return name;
  });
}

export function choiceParam<T extends string>(args: TransformArgs, name: string, choices: readonly T[], fallback: T, transform: string): T {
  const value = args.params.get(name);
  if (value === undefined) return fallback;
  if (!(choices as readonly string[]).includes(value)) throw new UsageError(`transform '${transform}': ${name} must be one of ${choices.join(', ')}; got '${value}'`);
  return value as T;
}

export function numberParam(args: TransformArgs, name: string, fallback: number, transform: string, integer = false): number {
  const text = args.params.get(name);
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!text || !Number.isFinite(value) || (integer && !Number.isInteger(value))) {
    throw new UsageError(`transform '${transform}': ${name} must be ${integer ? 'an integer' : 'a number'}; got '${text}'`);
  }
  return value;
}

/** A regular expression from the user, with the error said as a usage error. */
export function parseRegex(source: string, transform: string, flags = ''): RegExp {
  if (!source) throw new UsageError(`transform '${transform}': an empty regular expression`);
  try {
    return new RegExp(source, flags);
  } catch (error) {
    throw new UsageError(`transform '${transform}': '${source}' is not a valid regular expression (${(error as Error).message})`);
  }
}
