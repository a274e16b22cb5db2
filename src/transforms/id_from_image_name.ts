import type { TransformPlugin } from '../plugin.js';
import { UsageError } from '../diagnostics.js';
import { uniqueIds } from './ids.js';
import { mapItems } from './items.js';

export const transform: TransformPlugin = {
  name: 'id_from_image_name',
  description: "make each item's id its image file name without the extension; a name taken twice in a subset gets _2, _3 (warned); items without an image keep their id",
  args: '',
  example: 'id_from_image_name',
  create(text) {
    if (text.trim()) throw new UsageError(`transform 'id_from_image_name' takes no arguments; got '${text}'`);
    return (dataset, ctx) => {
      const ids = uniqueIds('id_from_image_name', ctx);
      let withoutImage = 0, renamed = 0;
      return mapItems(dataset, (item) => {
        if (!item.image) { withoutImage++; return { ...item, id: ids.unique(item.subset, item.id, item.id) }; }
        const base = item.image.path.slice(item.image.path.lastIndexOf('/') + 1);
        const dot = base.lastIndexOf('.');
        const name = dot > 0 ? base.slice(0, dot) : base;
        const id = ids.unique(item.subset, name, item.id);
        if (id !== item.id) renamed++;
        return { ...item, id };
      }, () => {
        ctx.reporter.info({ code: 'id-from-image-name', message: `id_from_image_name: ${renamed} item id${renamed === 1 ? '' : 's'} changed` });
        if (withoutImage) ctx.reporter.warn({ code: 'no-image', message: `id_from_image_name: ${withoutImage} item${withoutImage === 1 ? ' has' : 's have'} no image and kept ${withoutImage === 1 ? 'its id' : 'their ids'}` });
      });
    };
  },
};
