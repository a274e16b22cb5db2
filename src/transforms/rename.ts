import { UsageError } from '../diagnostics.js';
import type { TransformPlugin } from '../plugin.js';
import { parseRegex } from './args.js';
import { uniqueIds } from './ids.js';
import { mapItems } from './items.js';

export const transform: TransformPlugin = {
  name: 'rename',
  description: "rewrite item ids with a regular expression, as Datumaro's `rename -e`: |PATTERN|REPLACEMENT| where the first character is the separator; \\1 or $1 insert a captured group; ids that collide in a subset get _2, _3 (warned)",
  args: '|PATTERN|REPLACEMENT|',
  example: 'rename:|^frame_0*(\\d+)$|\\1|',
  create(text) {
    const sep = text[0];
    const parts = sep ? text.slice(1).split(sep) : [];
    if (parts.length !== 3 || parts[2] !== '' || !parts[0]) {
      throw new UsageError(`transform 'rename' needs |PATTERN|REPLACEMENT| (any separator character, e.g. rename:|^img_|| or rename:#(.*)#train/\\1#); got '${text}'`);
    }
    const pattern = parseRegex(parts[0], 'rename', 'g'); // every match, as Python's re.sub in Datumaro
    // Python's \1 (Datumaro's syntax) as JavaScript's $1 (which works too; $$ is a literal $).
    const replacement = parts[1].replace(/\\(\d+)/g, '$$$1');
    return (dataset, ctx) => {
      const ids = uniqueIds('rename', ctx);
      let changed = 0;
      return mapItems(dataset, (item) => {
        const renamed = item.id.replace(pattern, replacement);
        if (!renamed) throw new UsageError(`transform 'rename': item '${item.id}' would get an empty id`);
        const id = ids.unique(item.subset, renamed, item.id);
        if (id !== item.id) changed++;
        return { ...item, id };
      }, () => ctx.reporter.info({ code: 'rename', message: `rename: ${changed} item id${changed === 1 ? '' : 's'} changed` }));
    };
  },
};
