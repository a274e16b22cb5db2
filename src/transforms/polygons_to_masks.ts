import { UsageError } from '../diagnostics.js';
import type { Annotation, MaskAnnotation } from '../model.js';
import type { TransformPlugin } from '../plugin.js';
import { MAX_RASTER_PIXELS, polygonToMask } from '../geometry/raster.js';
import { mapItems } from './items.js';

export const transform: TransformPlugin = {
  name: 'polygons_to_masks',
  description: 'every polygon becomes a mask of the pixels whose centre it encloses (even-odd rule), one mask per polygon, keeping label, attributes, group and id; '
    + 'polygons covering no pixel centre are dropped; items with normalized coordinates are left alone (follow with merge_instance_segments for one mask per object)',
  args: '',
  example: 'polygons_to_masks',
  create(text) {
    if (text.trim()) throw new UsageError(`transform 'polygons_to_masks' takes no arguments; got '${text}'`);
    return (dataset, ctx) => {
      let converted = 0, dropped = 0, normalized = 0, large = 0;
      return mapItems(dataset, (item) => {
        if (!item.annotations.some((a) => a.type === 'polygon')) return item;
        // Coordinates in [0, 1] have no pixels to paint.
        if (item.normalized) { normalized++; return item; }
        let empty = 0, tooLarge = 0;
        const annotations = item.annotations.flatMap((a): Annotation[] => {
          if (a.type !== 'polygon') return [a];
          const { points, ...base } = a;
          const geometry = polygonToMask(points);
          if (!geometry) { tooLarge++; return [a]; }
          if (!geometry.width) { empty++; return []; }
          converted++;
          const mask: MaskAnnotation = { ...base, type: 'mask', ...geometry };
          return [mask];
        });
        if (empty) {
          dropped += empty;
          ctx.reporter.warn({ code: 'empty-polygon', item: item.id, message: `polygons_to_masks: ${empty} polygon(s) enclosing no pixel centre dropped` });
        }
        if (tooLarge) {
          large += tooLarge;
          ctx.reporter.warn({ code: 'shape-too-large', item: item.id, message: `polygons_to_masks: ${tooLarge} polygon(s) with bounds over ${MAX_RASTER_PIXELS} pixels (or not finite) left as polygons` });
        }
        return { ...item, annotations };
      }, () => {
        ctx.reporter.info({ code: 'polygons-to-masks', message: `polygons_to_masks: ${converted} polygon(s) converted to masks; ${dropped} dropped (no pixel centre inside)${large ? `; ${large} too large, left as polygons` : ''}` });
        if (normalized) ctx.reporter.warn({ code: 'normalized-coordinates', message: `polygons_to_masks: ${normalized} item(s) with normalized coordinates left alone (their polygons have no pixels)` });
      });
    };
  },
};
