import { UsageError } from '../diagnostics.js';
import { hasFiniteNumbers, type Annotation, type Item, type Visibility } from '../model.js';
import type { TransformPlugin } from '../plugin.js';
import { boxBounds, clipPolygonToRect, clipPolylineToRect, ellipseBounds, polygonArea, type Bounds } from '../geometry/polygon.js';
import { cropMask } from '../geometry/raster.js';
import { plural } from '../text.js';
import { mapItems } from './items.js';

/** What happened to one annotation: kept as it was, replaced (clipped), or dropped. */
type Outcome = { kind: 'kept' } | { kind: 'crossing' } | { kind: 'clipped'; annotations: Annotation[] } | { kind: 'dropped' };

export const transform: TransformPlugin = {
  name: 'crop_to_image',
  description: 'clips shapes to the image ([0,1] for normalized items): boxes intersected, polygons clipped, polylines cut at the border, '
    + 'points outside made absent, masks cropped; ellipses and rotated boxes are kept whole when their centre is inside, else dropped; '
    + 'shapes left empty or of zero area are dropped; items without an image size are left alone',
  args: '',
  example: 'crop_to_image',
  create(text) {
    if (text.trim()) throw new UsageError(`transform 'crop_to_image' takes no arguments; got '${text}'`);
    return (dataset, ctx) => {
      let clipped = 0, dropped = 0, crossing = 0, noSize = 0, notFinite = 0;
      return mapItems(dataset, (item) => {
        if (!item.annotations.some((a) => a.type !== 'label' && a.type !== 'caption')) return item;
        const rect = imageRect(item);
        if (!rect) { noSize++; return item; }
        let nextGroup = item.annotations.reduce((max, a) => Math.max(max, a.group ?? 0), 0) + 1;
        let changed = false;
        const annotations: Annotation[] = [];
        for (const a of item.annotations) {
          // NaN or Infinity from the source: left for the exporter to report, not clipped into NaN.
          if (!hasFiniteNumbers(a)) { notFinite++; annotations.push(a); continue; }
          const outcome = clip(a, rect, Boolean(item.normalized), () => nextGroup++);
          if (outcome.kind === 'kept' || outcome.kind === 'crossing') {
            if (outcome.kind === 'crossing') crossing++;
            annotations.push(a);
            continue;
          }
          changed = true;
          if (outcome.kind === 'dropped') { dropped++; continue; }
          clipped++;
          annotations.push(...outcome.annotations);
        }
        return changed ? { ...item, annotations } : item;
      }, () => {
        ctx.reporter.info({
          code: 'crop-to-image',
          message: `crop_to_image: ${plural(clipped, 'shape')} clipped, ${dropped} dropped (outside the image or left empty); `
            + `${plural(crossing, 'ellipse or rotated box', 'ellipses or rotated boxes')} crossing the border kept whole; ${plural(noSize, 'item')} without an image size left alone`
            + (notFinite ? `; ${plural(notFinite, 'shape')} with coordinates not finite left as ${notFinite === 1 ? 'it was' : 'they were'}` : ''),
        });
        if (noSize) {
          ctx.reporter.warn({ code: 'no-image-size', message: `crop_to_image: ${plural(noSize, 'item')} ${noSize === 1 ? 'has' : 'have'} no image width and height; ${noSize === 1 ? 'its' : 'their'} shapes were not clipped` });
        }
      });
    };
  },
};

function imageRect(item: Item): Bounds | null {
  if (item.normalized) return { x0: 0, y0: 0, x1: 1, y1: 1 };
  const { width, height } = item.image ?? {};
  if (!width || !height || !(width > 0) || !(height > 0)) return null;
  return { x0: 0, y0: 0, x1: width, y1: height };
}

const inside = (x: number, y: number, r: Bounds) => x >= r.x0 && x <= r.x1 && y >= r.y0 && y <= r.y1;
const within = (b: Bounds, r: Bounds) => b.x0 >= r.x0 && b.y0 >= r.y0 && b.x1 <= r.x1 && b.y1 <= r.y1;

function clip(a: Annotation, r: Bounds, normalized: boolean, newGroup: () => number): Outcome {
  switch (a.type) {
    case 'label': case 'caption': return { kind: 'kept' };
    case 'bbox': {
      if (a.rotation) return wholeShape(boxBounds(a), a.x + a.w / 2, a.y + a.h / 2, r);
      const x0 = Math.max(a.x, r.x0), y0 = Math.max(a.y, r.y0);
      const x1 = Math.min(a.x + a.w, r.x1), y1 = Math.min(a.y + a.h, r.y1);
      if (x0 === a.x && y0 === a.y && x1 === a.x + a.w && y1 === a.y + a.h) return { kind: 'kept' };
      if (x1 <= x0 || y1 <= y0) return { kind: 'dropped' };
      return { kind: 'clipped', annotations: [{ ...a, x: x0, y: y0, w: x1 - x0, h: y1 - y0 }] };
    }
    case 'ellipse': return wholeShape(ellipseBounds(a), a.cx, a.cy, r);
    case 'polygon': {
      if (allInside(a.points, r)) return { kind: 'kept' };
      const points = clipPolygonToRect(a.points, r);
      if (points.length < 6 || polygonArea(points) <= 0) return { kind: 'dropped' };
      return { kind: 'clipped', annotations: [{ ...a, points }] };
    }
    case 'polyline': {
      if (allInside(a.points, r)) return { kind: 'kept' };
      const pieces = clipPolylineToRect(a.points, r);
      if (!pieces.length) return { kind: 'dropped' };
      // The pieces of a line that leaves the image and comes back are one object: one group.
      const group = pieces.length > 1 && !a.group ? newGroup() : a.group;
      return { kind: 'clipped', annotations: pieces.map((points) => ({ ...a, points, ...(group ? { group } : {}) })) };
    }
    case 'points': case 'skeleton': {
      // Points keep their places (keypoint order matters): those outside become absent.
      const visibility: Visibility[] = [];
      let changed = false;
      for (let i = 0; i + 1 < a.points.length; i += 2) {
        const v = a.visibility?.[i / 2] ?? 2;
        const out = v !== 0 && !inside(a.points[i], a.points[i + 1], r);
        if (out) changed = true;
        visibility.push(out ? 0 : v);
      }
      if (!changed) return { kind: 'kept' };
      if (visibility.every((v) => v === 0)) return { kind: 'dropped' };
      return { kind: 'clipped', annotations: [{ ...a, visibility }] };
    }
    case 'mask': {
      // Masks are in pixels: a normalized item's masks have no image to be cut to.
      if (normalized) return { kind: 'kept' };
      if (within({ x0: a.left, y0: a.top, x1: a.left + a.width, y1: a.top + a.height }, r)) return { kind: 'kept' };
      const geometry = cropMask(a, Math.ceil(r.x0), Math.ceil(r.y0), Math.floor(r.x1), Math.floor(r.y1));
      // What is left spans more pixels than can be held (a bogus size): left alone.
      if (!geometry) return { kind: 'kept' };
      if (!geometry.width) return { kind: 'dropped' };
      return { kind: 'clipped', annotations: [{ ...a, ...geometry }] };
    }
  }
}

/** Shapes that cannot be clipped as they are (ellipses, rotated boxes): kept when their centre is inside. */
function wholeShape(bounds: Bounds, cx: number, cy: number, r: Bounds): Outcome {
  if (within(bounds, r)) return { kind: 'kept' };
  return inside(cx, cy, r) ? { kind: 'crossing' } : { kind: 'dropped' };
}

function allInside(points: readonly number[], r: Bounds): boolean {
  for (let i = 0; i + 1 < points.length; i += 2) if (!inside(points[i], points[i + 1], r)) return false;
  return true;
}
