import type { TransformPlugin } from '../plugin.js';
import { parsePairs } from './args.js';
import { uniqueIds } from './ids.js';
import { mapItems } from './items.js';

export const transform: TransformPlugin = {
  name: 'map_subsets',
  description: 'rename subsets; two names mapped to one merge those subsets (an id found in both gets _2, warned, so no file overwrites another); unnamed subsets are kept',
  args: 'OLD=NEW,...',
  example: 'map_subsets:Train=train,Validation=val,Test=test',
  create(args) {
    const mapping = new Map(parsePairs(args, 'map_subsets', 'Train=train,Validation=val'));
    return (dataset, ctx) => {
      const ids = uniqueIds('map_subsets', ctx);
      const seen = new Set<string>();
      let moved = 0;
      return mapItems(dataset, (item) => {
        seen.add(item.subset);
        const subset = mapping.get(item.subset) ?? item.subset;
        const id = ids.unique(subset, item.id, item.id);
        if (subset !== item.subset) moved++;
        return subset === item.subset && id === item.id ? item : { ...item, subset, id };
      }, () => {
        const absent = [...mapping.keys()].filter((s) => !seen.has(s));
        if (absent.length) ctx.reporter.warn({ code: 'unknown-subset', message: `map_subsets: the dataset has no subset ${absent.map((s) => `'${s}'`).join(', ')} (its subsets: ${[...seen].map((s) => `'${s}'`).join(', ') || 'none'})` });
        ctx.reporter.info({ code: 'map-subsets', message: `map_subsets: ${moved} item${moved === 1 ? '' : 's'} moved to another subset, ${ids.renamed()} renamed to keep ids unique` });
      });
    };
  },
};
