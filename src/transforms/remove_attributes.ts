import type { Attributes, Category } from '../model.js';
import type { TransformPlugin } from '../plugin.js';
import { parseArgs, parseList } from './args.js';
import { mapItems } from './items.js';

export const transform: TransformPlugin = {
  name: 'remove_attributes',
  description: 'remove the named attributes (every attribute when none is named) from items, annotations and the labels\' attribute specs',
  args: '[NAME,...]',
  example: 'remove_attributes:occluded_by,is_crowd',
  create(text) {
    const args = parseArgs(text, 'remove_attributes');
    const names = args.main ? new Set(parseList(args.main, 'remove_attributes', 'attribute names')) : undefined;
    const removes = (name: string) => !names || names.has(name);
    /** `attributes` without the removed ones (undefined when none is left); `count` gets the number removed. */
    const strip = (attributes: Attributes | undefined, count: (n: number) => void): Attributes | undefined => {
      if (!attributes) return undefined;
      const entries = Object.entries(attributes);
      const kept = entries.filter(([name]) => !removes(name));
      count(entries.length - kept.length);
      return kept.length ? Object.fromEntries(kept) : undefined;
    };
    return (dataset, ctx) => {
      const found = new Set<string>();
      let specs = 0;
      const categories = dataset.categories.map((category): Category => {
        if (!category.attributes?.some((a) => removes(a.name))) return category;
        const { attributes, ...rest } = category;
        const kept = attributes.filter((a) => !removes(a.name));
        for (const a of attributes) if (removes(a.name)) found.add(a.name);
        specs += attributes.length - kept.length;
        return kept.length ? { ...rest, attributes: kept } : rest;
      });
      let itemValues = 0, annotationValues = 0;
      const note = (attributes: Attributes | undefined) => { for (const name of Object.keys(attributes ?? {})) if (removes(name)) found.add(name); };
      const mapped = mapItems(dataset, (item) => {
        let changed = false;
        note(item.attributes);
        const attributes = strip(item.attributes, (n) => { itemValues += n; changed ||= n > 0; });
        const annotations = item.annotations.map((a) => {
          note(a.attributes);
          let removed = 0;
          const kept = strip(a.attributes, (n) => { removed = n; });
          if (!removed) return a;
          annotationValues += removed;
          changed = true;
          const { attributes: _, ...rest } = a;
          return kept ? { ...rest, attributes: kept } : rest;
        });
        if (!changed) return item;
        const { attributes: _, ...rest } = item;
        return { ...rest, ...(attributes ? { attributes } : {}), annotations };
      }, () => {
        for (const name of names ?? []) {
          if (!found.has(name)) ctx.reporter.warn({ code: 'attribute-not-found', message: `remove_attributes: no item, annotation or label has an attribute '${name}'` });
        }
        ctx.reporter.info({
          code: 'remove-attributes',
          message: `remove_attributes: removed ${itemValues} item attribute value${itemValues === 1 ? '' : 's'}, ${annotationValues} annotation attribute value${annotationValues === 1 ? '' : 's'} and ${specs} label attribute spec${specs === 1 ? '' : 's'}`,
        });
      });
      return { ...mapped, categories };
    };
  },
};
