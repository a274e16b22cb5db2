import { UsageError } from '../diagnostics.js';
import type { TransformPlugin } from '../plugin.js';
import { parseArgs, parseList } from './args.js';
import { mapItems } from './items.js';

export const transform: TransformPlugin = {
  name: 'remove_annotations',
  description: 'remove the annotations of the items with these ids (of every item when no id is given; with subset=NAME only in that subset); ' +
    'ids=N,... removes only the annotations with those annotation ids (the source\'s, e.g. COCO\'s); items stay',
  args: '[ID,...][;ids=N,...][;subset=NAME]',
  example: 'remove_annotations:img0,img1;ids=3,5',
  create(text) {
    const args = parseArgs(text, 'remove_annotations', ['ids', 'subset']);
    const items = args.main ? new Set(parseList(args.main, 'remove_annotations', 'item ids')) : undefined;
    const idsText = args.params.get('ids');
    const annotationIds = idsText === undefined ? undefined : new Set(parseList(idsText, 'remove_annotations', 'annotation ids').map((id) => {
      if (!/^-?\d+$/.test(id)) throw new UsageError(`transform 'remove_annotations': annotation ids are integers; got '${id}'`);
      return Number(id);
    }));
    const subset = args.params.get('subset');
    return (dataset, ctx) => {
      const foundItems = new Set<string>();
      const foundIds = new Set<number>();
      let removed = 0, touched = 0;
      return mapItems(dataset, (item) => {
        if ((items && !items.has(item.id)) || (subset !== undefined && item.subset !== subset)) return item;
        foundItems.add(item.id);
        const annotations = item.annotations.filter((a) => {
          if (annotationIds && (a.id === undefined || !annotationIds.has(a.id))) return true;
          if (a.id !== undefined) foundIds.add(a.id);
          return false;
        });
        if (annotations.length === item.annotations.length) return item;
        removed += item.annotations.length - annotations.length;
        touched++;
        return { ...item, annotations };
      }, () => {
        const inSubset = subset === undefined ? '' : ` in subset '${subset}'`;
        for (const id of items ?? []) {
          if (!foundItems.has(id)) ctx.reporter.warn({ code: 'item-not-found', message: `remove_annotations: no such item${inSubset}`, item: id });
        }
        for (const id of annotationIds ?? []) {
          if (!foundIds.has(id)) ctx.reporter.warn({ code: 'annotation-not-found', message: `remove_annotations: no annotation with id ${id}${items ? ' in the items listed' : ''}${inSubset}` });
        }
        ctx.reporter.info({ code: 'remove-annotations', message: `remove_annotations: removed ${removed} annotation${removed === 1 ? '' : 's'} from ${touched} item${touched === 1 ? '' : 's'}` });
      });
    };
  },
};
