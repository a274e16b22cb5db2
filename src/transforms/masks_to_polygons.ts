import { UsageError } from '../diagnostics.js';
import type { Annotation, PolygonAnnotation } from '../model.js';
import type { TransformPlugin } from '../plugin.js';
import { traceOuterContours } from '../geometry/contour.js';
import { polygonArea } from '../geometry/polygon.js';
import { MAX_RASTER_PIXELS, maskBitmap } from '../geometry/raster.js';
import { plural } from '../text.js';
import { numberParam, parseArgs } from './args.js';
import { mapItems } from './items.js';

export const transform: TransformPlugin = {
  name: 'masks_to_polygons',
  description: 'every mask becomes one polygon per 8-connected component (outline on pixel corners), components under min_area pixels dropped (default 1); '
    + 'holes are filled in (counted and warned); the polygons of one mask share its group, or a new one when it had none',
  args: '[min_area=N]',
  example: 'masks_to_polygons:min_area=4',
  create(text) {
    const args = parseArgs(text, 'masks_to_polygons', ['min_area']);
    if (args.main) throw new UsageError(`transform 'masks_to_polygons' takes only ;min_area=N; got '${args.main}'`);
    const minArea = numberParam(args, 'min_area', 1, 'masks_to_polygons');
    if (minArea < 0) throw new UsageError(`transform 'masks_to_polygons': min_area must be >= 0; got ${minArea}`);
    return (dataset, ctx) => {
      let masks = 0, polygons = 0, small = 0, dropped = 0, holed = 0, holePixels = 0;
      return mapItems(dataset, (item) => {
        if (!item.annotations.some((a) => a.type === 'mask')) return item;
        let nextGroup = item.annotations.reduce((max, a) => Math.max(max, a.group ?? 0), 0) + 1;
        let emptied = 0, itemHoles = 0, tooLarge = 0;
        const annotations = item.annotations.flatMap((a): Annotation[] => {
          if (a.type !== 'mask') return [a];
          masks++;
          const { left: _l, top: _t, width: _w, height: _h, rle: _rle, ...base } = a;
          // Traced in the bounds of its set pixels: a mask's rectangle may be much larger.
          const placed = maskBitmap(a);
          if (!placed) { tooLarge++; return [a]; }
          const contours = traceOuterContours(placed.bitmap, placed.left, placed.top);
          const kept = contours.filter((c) => c.area >= minArea);
          small += contours.length - kept.length;
          if (!kept.length) { emptied++; return []; }
          // Filling an outer contour covers the component and its holes: the difference is what is lost.
          const lost = kept.reduce((sum, c) => sum + polygonArea(c.points) - c.area, 0);
          if (lost > 0) { holed++; holePixels += lost; itemHoles += lost; }
          polygons += kept.length;
          const group = kept.length > 1 && !a.group ? nextGroup++ : a.group;
          return kept.map((c): PolygonAnnotation => ({ ...base, type: 'polygon', points: c.points, ...(group ? { group } : {}) }));
        });
        if (emptied) {
          dropped += emptied;
          ctx.reporter.warn({ code: 'empty-mask', item: item.id, message: `masks_to_polygons: ${plural(emptied, 'mask')} with no component of at least ${plural(minArea, 'pixel')} dropped` });
        }
        if (tooLarge) {
          ctx.reporter.warn({ code: 'shape-too-large', item: item.id, message: `masks_to_polygons: ${plural(tooLarge, 'mask')} whose pixels span over ${MAX_RASTER_PIXELS} pixels left as masks` });
        }
        if (itemHoles) {
          ctx.reporter.warn({ code: 'mask-holes-filled', item: item.id, message: `masks_to_polygons: polygons have no holes; ${plural(itemHoles, 'hole pixel')} of this item's masks are now inside a polygon` });
        }
        return { ...item, annotations };
      }, () => ctx.reporter.info({
        code: 'masks-to-polygons',
        message: `masks_to_polygons: ${plural(masks, 'mask')} gave ${plural(polygons, 'polygon')}; ${plural(small, 'component')} under ${plural(minArea, 'pixel')} dropped, `
          + `${plural(dropped, 'mask')} left with none dropped; ${plural(holed, 'mask')} had holes (${plural(holePixels, 'pixel')} filled in)`,
      }));
    };
  },
};
