import { UsageError } from '../diagnostics.js';
import type { Annotation, MaskAnnotation, PolygonAnnotation } from '../model.js';
import type { TransformPlugin } from '../plugin.js';
import { MAX_RASTER_PIXELS, unionMask } from '../geometry/raster.js';
import { mapItems } from './items.js';

export const transform: TransformPlugin = {
  name: 'polygons_to_masks',
  description: 'polygons become masks of the pixels whose centre they enclose (even-odd rule), keeping label, attributes, group and id; the polygon parts of one object '
    + '(same label and non-zero group) give one mask; polygons covering no pixel centre are dropped; items with normalized coordinates are left alone',
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
        // The parts of one object, keyed by group and label; an ungrouped polygon is an object of its own.
        const objects = new Map<string | PolygonAnnotation, PolygonAnnotation[]>();
        for (const a of item.annotations) {
          if (a.type !== 'polygon') continue;
          const key = a.group ? `${a.group}:${a.label}` : a;
          const parts = objects.get(key);
          if (parts) parts.push(a); else objects.set(key, [a]);
        }
        // Each object's mask takes the place of its first part; the other parts go.
        const replacement = new Map<Annotation, MaskAnnotation | null>();
        let empty = 0, tooLarge = 0;
        for (const parts of objects.values()) {
          const geometry = unionMask([], parts.map((p) => p.points));
          if (!geometry) { tooLarge += parts.length; continue; }
          if (!geometry.width) { empty += parts.length; parts.forEach((p) => replacement.set(p, null)); continue; }
          converted += parts.length;
          masks++;
          const { points: _p, ...base } = parts[0];
          parts.forEach((p, i) => replacement.set(p, i === 0 ? { ...base, type: 'mask', ...geometry } : null));
        }
        if (empty) {
          dropped += empty;
          ctx.reporter.warn({ code: 'empty-polygon', item: item.id, message: `polygons_to_masks: ${empty} polygon(s) enclosing no pixel centre dropped` });
        }
        if (tooLarge) {
          large += tooLarge;
          ctx.reporter.warn({ code: 'shape-too-large', item: item.id, message: `polygons_to_masks: ${tooLarge} polygon(s) with bounds over ${MAX_RASTER_PIXELS} pixels (or not finite) left as polygons` });
        }
        const annotations = item.annotations.flatMap((a) => {
          const r = replacement.get(a);
          return r === undefined ? [a] : r === null ? [] : [r];
        });
        return { ...item, annotations };
      }, () => {
        ctx.reporter.info({
          code: 'polygons-to-masks',
          message: `polygons_to_masks: ${converted} polygon(s) converted into ${masks} mask(s); ${dropped} dropped (no pixel centre inside)${large ? `; ${large} too large, left as polygons` : ''}`,
        });
        if (normalized) ctx.reporter.warn({ code: 'normalized-coordinates', message: `polygons_to_masks: ${normalized} item(s) with normalized coordinates left alone (their polygons have no pixels)` });
      });
    };
  },
};
