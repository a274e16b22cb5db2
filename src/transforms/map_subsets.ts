import type { TransformPlugin } from '../plugin.js';
import { parsePairs } from './args.js';
import { mapItems } from './items.js';

export const transform: TransformPlugin = {
  name: 'map_subsets',
  description: 'rename subsets; two names mapped to one merge those subsets; unnamed subsets are kept',
  args: 'OLD=NEW,...',
  example: 'map_subsets:Train=train,Validation=val,Test=test',
  create(args) {
    const mapping = new Map(parsePairs(args, 'map_subsets', 'Train=train,Validation=val'));
    return (dataset) => mapItems(dataset, (item) => {
      const subset = mapping.get(item.subset);
      return subset === undefined ? item : { ...item, subset };
    });
  },
};
