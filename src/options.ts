import type { OptionSpec, Options } from './plugin.js';
import { UsageError } from './diagnostics.js';

/**
 * Parses a plugin's own arguments (what the user wrote after `--`) against the options it declares:
 * `--save-media`, `--no-save-media`, `--task segment`, `--task=segment`.
 */
export function parsePluginOptions(args: readonly string[], specs: readonly OptionSpec[] = [], owner: string): Options {
  const options: Options = {};
  const known = new Map(specs.map((s) => [s.name, s]));
  const help = () => specs.length
    ? `options of ${owner}: ${specs.map((s) => `--${s.name}${s.type === 'boolean' ? '' : ` <${s.choices?.join('|') ?? s.type}>`}`).join(', ')}`
    : `${owner} takes no options`;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const match = /^--(no-)?([a-z0-9][a-z0-9-_]*)(?:=(.*))?$/i.exec(arg);
    if (!match) throw new UsageError(`unexpected argument '${arg}' for ${owner}; ${help()}`);
    const [, negated, name, inline] = match;
    const spec = known.get(name);
    if (!spec) throw new UsageError(`unknown option '--${name}' for ${owner}; ${help()}`);
    if (spec.type === 'boolean') {
      if (inline !== undefined && !/^(true|false|1|0)$/.test(inline)) throw new UsageError(`option '--${name}' is a flag; got '${inline}'`);
      options[name] = negated ? false : inline === undefined ? true : inline === 'true' || inline === '1';
      continue;
    }
    if (negated) throw new UsageError(`option '--${name}' takes a value and cannot be negated`);
    const raw = inline ?? args[++i];
    if (raw === undefined) throw new UsageError(`option '--${name}' of ${owner} needs a value`);
    if (spec.choices && !spec.choices.includes(raw)) {
      throw new UsageError(`option '--${name}' of ${owner} must be one of ${spec.choices.join(', ')}; got '${raw}'`);
    }
    if (spec.type === 'number') {
      const value = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(value)) throw new UsageError(`option '--${name}' of ${owner} needs a number; got '${raw}'`);
      options[name] = value;
    } else {
      options[name] = raw;
    }
  }
  return options;
}
