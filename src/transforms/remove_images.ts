import type { TransformPlugin } from '../plugin.js';
import { parseArgs, parseList } from './args.js';
import { mapItems } from './items.js';

export const transform: TransformPlugin = {
  name: 'remove_images',
  description: 'drop the items with these ids (with subset=NAME only in that subset); an id matching no item is warned about',
  args: 'ID,...[;subset=NAME]',
  example: 'remove_images:frame_000010,street/0001;subset=train',
  create(text) {
    const args = parseArgs(text, 'remove_images', ['subset']);
    const ids = new Set(parseList(args.main, 'remove_images', 'item ids'));
    const subset = args.params.get('subset');
    return (dataset, ctx) => {
      const found = new Set<string>();
      let removed = 0;
      return mapItems(dataset, (item) => {
        if (!ids.has(item.id) || (subset !== undefined && item.subset !== subset)) return item;
        found.add(item.id);
        removed++;
        return null;
      }, () => {
        for (const id of ids) {
          if (!found.has(id)) ctx.reporter.warn({ code: 'item-not-found', message: `remove_images: no such item${subset === undefined ? '' : ` in subset '${subset}'`}`, item: id });
        }
        ctx.reporter.info({ code: 'remove-images', message: `remove_images: removed ${removed} item${removed === 1 ? '' : 's'}` });
      });
    };
  },
};
