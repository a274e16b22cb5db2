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
      return mapItems(dataset, (item) => {
        const subset = mapping.get(item.subset) ?? item.subset;
        const id = ids.unique(subset, item.id, item.id);
        return subset === item.subset && id === item.id ? item : { ...item, subset, id };
      });
    };
  },
};
