import { UsageError } from '../diagnostics.js';
import { hasFiniteNumbers, type Annotation, type BboxAnnotation } from '../model.js';
import type { TransformPlugin } from '../plugin.js';
import { annotationBounds, objectKey, type Shape } from '../geometry/bounds.js';
import type { Bounds } from '../geometry/polygon.js';
import { plural } from '../text.js';
import { parseArgs, parseList } from './args.js';
import { mapItems } from './items.js';

const KINDS = ['polygon', 'polyline', 'points', 'mask', 'ellipse', 'skeleton', 'bbox'] as const;

export const transform: TransformPlugin = {
  name: 'shapes_to_boxes',
  description: 'polygons, polylines, points, masks, ellipses, skeletons (their points not absent) and rotated boxes become axis-aligned boxes of their bounds; '
    + 'the shapes of one object (same label and non-zero group) give one box, none when the object already has an axis-aligned box; types= restricts the kinds converted',
  args: '[types=KIND,...]',
  example: 'shapes_to_boxes:types=polygon,mask',
  create(text) {
    const args = parseArgs(text, 'shapes_to_boxes', ['types']);
    if (args.main) throw new UsageError(`transform 'shapes_to_boxes' takes only ;types=KIND,...; got '${args.main}'`);
    const given = args.params.get('types');
    const types = new Set<string>(given === undefined ? KINDS : parseList(given, 'shapes_to_boxes', 'annotation kinds'));
    for (const t of types) {
      if (!(KINDS as readonly string[]).includes(t)) throw new UsageError(`transform 'shapes_to_boxes': '${t}' is not a kind it converts; kinds: ${KINDS.join(', ')} (bbox: rotated boxes)`);
    }
    return (dataset, ctx) => {
      const converted: Record<string, number> = {};
      let absorbed = 0, dropped = 0, notFinite = 0;
      const convertible = (a: Annotation): a is Shape => types.has(a.type) && (a.type !== 'bbox' || Boolean(a.rotation));
      return mapItems(dataset, (item) => {
        if (!item.annotations.some(convertible)) return item;
        // An object's axis-aligned box (COCO gives one beside every polygon) stands for its other shapes.
        const boxed = new Set(item.annotations.filter((a) => a.type === 'bbox' && !a.rotation && a.group).map(objectKey));
        const objectBoxes = new Map<string, BboxAnnotation>();
        const annotations: Annotation[] = [];
        let emptied = 0;
        for (const a of item.annotations) {
          if (!convertible(a)) { annotations.push(a); continue; }
          // NaN or Infinity from the source: left for the exporter to report, not boxed into NaN.
          if (!hasFiniteNumbers(a)) { notFinite++; annotations.push(a); continue; }
          const bounds = annotationBounds(a);
          if (!bounds) { emptied++; continue; }
          converted[a.type] = (converted[a.type] ?? 0) + 1;
          const key = a.group ? objectKey(a) : null;
          if (key !== null && boxed.has(key)) { absorbed++; continue; }
          const earlier = key === null ? undefined : objectBoxes.get(key);
          if (earlier) {
            // One box per object: widen the object's box to hold this shape too.
            const x0 = Math.min(earlier.x, bounds.x0), y0 = Math.min(earlier.y, bounds.y0);
            const x1 = Math.max(earlier.x + earlier.w, bounds.x1), y1 = Math.max(earlier.y + earlier.h, bounds.y1);
            Object.assign(earlier, { x: x0, y: y0, w: x1 - x0, h: y1 - y0 }); // our own new box, already in the list
            absorbed++;
            continue;
          }
          const box = toBox(a, bounds);
          if (key !== null) objectBoxes.set(key, box);
          annotations.push(box);
        }
        if (emptied) {
          dropped += emptied;
          ctx.reporter.warn({ code: 'empty-shape', item: item.id, message: `shapes_to_boxes: ${plural(emptied, 'shape')} with no points or pixels dropped` });
        }
        return { ...item, annotations };
      }, () => {
        const kinds = Object.entries(converted).map(([k, n]) => `${k} ${n}`).join(', ');
        const total = Object.values(converted).reduce((s, n) => s + n, 0);
        ctx.reporter.info({
          code: 'shapes-to-boxes',
          message: `shapes_to_boxes: ${plural(total, 'shape')} converted${kinds ? ` (${kinds})` : ''}; ${absorbed} of them merged into their object's box; ${plural(dropped, 'empty shape')} dropped`
            + (notFinite ? `; ${plural(notFinite, 'shape')} with coordinates not finite left as ${notFinite === 1 ? 'it was' : 'they were'}` : ''),
        });
      });
    };
  },
};

/** The box of `bounds`, with the shape's label, attributes, group, id, z order... */
function toBox(a: Shape, b: Bounds): BboxAnnotation {
  const geometry = { type: 'bbox' as const, x: b.x0, y: b.y0, w: b.x1 - b.x0, h: b.y1 - b.y0 };
  switch (a.type) {
    case 'bbox': { const { rotation: _r, x: _x, y: _y, w: _w, h: _h, ...base } = a; return { ...base, ...geometry }; }
    case 'polygon': case 'polyline': { const { points: _p, ...base } = a; return { ...base, ...geometry }; }
    case 'points': case 'skeleton': { const { points: _p, visibility: _v, ...base } = a; return { ...base, ...geometry }; }
    case 'mask': { const { left: _l, top: _t, width: _w, height: _h, rle: _rle, ...base } = a; return { ...base, ...geometry }; }
    case 'ellipse': { const { cx: _cx, cy: _cy, rx: _rx, ry: _ry, rotation: _r, ...base } = a; return { ...base, ...geometry }; }
  }
}
