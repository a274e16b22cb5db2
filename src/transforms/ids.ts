import type { Context } from '../plugin.js';

/**
 * Keeps renamed item ids unique within their subset: a second `a` becomes `a_2`, a third `a_3`
 * (exporters name files by id, so two equal ids would overwrite each other). Warns per renamed item.
 */
export function uniqueIds(transform: string, ctx: Context): { unique: (subset: string, id: string, was: string) => string; renamed: () => number } {
  const seen = new Map<string, Set<string>>();
  let renamed = 0;
  const unique = (subset: string, id: string, was: string) => {
    let ids = seen.get(subset);
    if (!ids) seen.set(subset, (ids = new Set()));
    let candidate = id;
    for (let n = 2; ids.has(candidate); n++) candidate = `${id}_${n}`;
    ids.add(candidate);
    if (candidate !== id) {
      renamed++;
      ctx.reporter.warn({ code: 'duplicate-id', item: was, message: `${transform}: id '${id}' is taken in subset '${subset}'; the item is named '${candidate}'` });
    }
    return candidate;
  };
  return { unique, renamed: () => renamed };
}
