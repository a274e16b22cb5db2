import type { TransformPlugin } from '../plugin.js';
import { UsageError } from '../diagnostics.js';
import { mapItems } from './items.js';

export const transform: TransformPlugin = {
  name: 'reindex',
  description: 'number the items START, START+1, ... in dataset order across all subsets (ids become those numbers; image files are named after them); default start 1',
  args: '[START]',
  example: 'reindex:0',
  create(text) {
    const start = text.trim() === '' ? 1 : Number(text);
    if (!Number.isSafeInteger(start) || start < 0) throw new UsageError(`transform 'reindex': the start must be a whole number >= 0; got '${text}'`);
    return (dataset, ctx) => {
      let next = start;
      return mapItems(dataset, (item) => ({ ...item, id: String(next++) }),
        () => ctx.reporter.info({ code: 'reindex', message: `reindex: items numbered ${start} to ${next - 1}` }));
    };
  },
};
