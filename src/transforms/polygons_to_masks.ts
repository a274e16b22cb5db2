import { UsageError } from '../diagnostics.js';
import type { Annotation, MaskAnnotation, PolygonAnnotation } from '../model.js';
import type { TransformPlugin } from '../plugin.js';
import { applyReplacements, groupObjects, imagePixels, replaceObject } from '../geometry/bounds.js';
import { MAX_RASTER_PIXELS, unionMask } from '../geometry/raster.js';
import { plural } from '../text.js';
import { mapItems } from './items.js';

export const transform: TransformPlugin = {
  name: 'polygons_to_masks',
  description: 'polygons become masks of the pixels whose centre they enclose (even-odd rule), within the image when its size is known, keeping label, attributes, group and id; '
    + 'the polygon parts of one object (same label and non-zero group) give one mask; polygons covering no pixel centre (of the image) are dropped; '
    + 'items with normalized coordinates are left alone',
  args: '',
  example: 'polygons_to_masks',
  create(text) {
    if (text.trim()) throw new UsageError(`transform 'polygons_to_masks' takes no arguments; got '${text}'`);
    return (dataset, ctx) => {
      let converted = 0, masks = 0, dropped = 0, normalized = 0, large = 0;
      return mapItems(dataset, (item) => {
        if (!item.annotations.some((a) => a.type === 'polygon')) return item;
        // Coordinates in [0, 1] have no pixels to paint.
        if (item.normalized) { normalized++; return item; }
        // A mask holds image pixels: what lies outside the image is not painted.
        const clip = imagePixels(item);
        const polygons = item.annotations.filter((a): a is PolygonAnnotation => a.type === 'polygon');
        // Each object's mask takes the place of its first part; the other parts go.
        const replacement = new Map<Annotation, Annotation | null>();
        let empty = 0, tooLarge = 0;
        for (const parts of groupObjects(polygons)) {
          const geometry = unionMask([], parts.map((p) => p.points), clip);
          if (!geometry) { tooLarge += parts.length; continue; }
          if (!geometry.width) { empty += parts.length; replaceObject(replacement, parts, null); continue; }
          converted += parts.length;
          masks++;
          const { points: _p, ...base } = parts[0];
          const mask: MaskAnnotation = { ...base, type: 'mask', ...geometry };
          replaceObject(replacement, parts, mask);
        }
        if (empty) {
          dropped += empty;
          ctx.reporter.warn({ code: 'empty-polygon', item: item.id, message: `polygons_to_masks: ${plural(empty, 'polygon')} enclosing no pixel centre${clip ? ' of the image' : ''} dropped` });
        }
        if (tooLarge) {
          large += tooLarge;
          ctx.reporter.warn({ code: 'shape-too-large', item: item.id, message: `polygons_to_masks: ${plural(tooLarge, 'polygon')} with bounds over ${MAX_RASTER_PIXELS} pixels (or not finite) left as polygons` });
        }
        return { ...item, annotations: applyReplacements(item.annotations, replacement) };
      }, () => {
        ctx.reporter.info({
          code: 'polygons-to-masks',
          message: `polygons_to_masks: ${plural(converted, 'polygon')} converted into ${plural(masks, 'mask')}; ${dropped} dropped (no pixel centre inside)${large ? `; ${large} too large, left as polygons` : ''}`,
        });
        if (normalized) ctx.reporter.warn({ code: 'normalized-coordinates', message: `polygons_to_masks: ${plural(normalized, 'item')} with normalized coordinates left alone (their polygons have no pixels)` });
      });
    };
  },
};
