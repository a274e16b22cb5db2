import { UsageError } from '../diagnostics.js';
import { hasFiniteNumbers, type Annotation, type PolygonAnnotation } from '../model.js';
import type { TransformPlugin } from '../plugin.js';
import { objectKey } from '../geometry/bounds.js';
import { rotatedBoxCorners } from '../geometry/polygon.js';
import { plural } from '../text.js';
import { mapItems } from './items.js';

export const transform: TransformPlugin = {
  name: 'boxes_to_polygons',
  description: 'every box (rotated ones too) becomes a 4-point polygon of its corners, clockwise from its top-left, keeping label, attributes, group and id; '
    + 'the box of an object that has a polygon or mask (same label and non-zero group, as COCO gives) stays its box',
  args: '',
  example: 'boxes_to_polygons',
  create(text) {
    if (text.trim()) throw new UsageError(`transform 'boxes_to_polygons' takes no arguments; got '${text}'`);
    return (dataset, ctx) => {
      let converted = 0, objectBoxes = 0, notFinite = 0;
      return mapItems(dataset, (item) => {
        if (!item.annotations.some((a) => a.type === 'bbox')) return item;
        // A second outline for an object that has one would make it two objects on export.
        const outlined = new Set(item.annotations.filter((a) => a.group && (a.type === 'polygon' || a.type === 'mask')).map(objectKey));
        const annotations = item.annotations.map((a): Annotation => {
          if (a.type !== 'bbox') return a;
          if (a.group && outlined.has(objectKey(a))) { objectBoxes++; return a; }
          // NaN or Infinity from the source: left for the exporter to report, not turned into NaN corners.
          if (!hasFiniteNumbers(a)) { notFinite++; return a; }
          converted++;
          const { x, y, w, h, rotation, ...base } = a;
          // Unrotated boxes get exact corners (rotatedBoxCorners would go through the centre).
          const points = rotation ? rotatedBoxCorners(a) : [x, y, x + w, y, x + w, y + h, x, y + h];
          const polygon: PolygonAnnotation = { ...base, type: 'polygon', points };
          return polygon;
        });
        return { ...item, annotations };
      }, () => ctx.reporter.info({
        code: 'boxes-to-polygons',
        message: `boxes_to_polygons: ${plural(converted, 'box', 'boxes')} converted to polygons; ${plural(objectBoxes, 'box', 'boxes')} of objects that have a polygon or mask kept as boxes`
          + (notFinite ? `; ${plural(notFinite, 'box', 'boxes')} with coordinates not finite left as ${notFinite === 1 ? 'it was' : 'they were'}` : ''),
      }));
    };
  },
};
