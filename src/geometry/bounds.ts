/**
 * The axis-aligned bounds of any annotation, one definition for every transform that needs them
 * (shapes_to_boxes boxes them, filter measures width and height), and the grouping of shapes into
 * objects that the geometry transforms share.
 */
import type { Annotation, Item } from '../model.js';
import { boxBounds, ellipseBounds, pointBounds, type Bounds } from './polygon.js';
import { maskPixelBounds, type PixelRect } from './raster.js';

export type Shape = Exclude<Annotation, { type: 'label' | 'caption' }>;

/** Whether an annotation has an extent (every kind but `label` and `caption`). */
export const isShape = (a: Annotation): a is Shape => a.type !== 'label' && a.type !== 'caption';

/**
 * Axis-aligned bounds of a shape: a rotated box's or an ellipse's hull, the points of a polygon or
 * polyline, the points of `points` and `skeleton` that are not absent (visibility 0: their x, y mean
 * nothing; hidden ones, 1, count), a mask's set pixels in pixel corners. Null when there is nothing
 * to bound (no points present, no pixels set) and for labels and captions.
 */
export function annotationBounds(a: Annotation): Bounds | null {
  switch (a.type) {
    case 'bbox': return boxBounds(a);
    case 'polygon': case 'polyline': return a.points.length >= 2 ? pointBounds(a.points) : null;
    case 'points': case 'skeleton': {
      const present = a.visibility ? a.points.filter((_, i) => a.visibility![i >> 1] !== 0) : a.points;
      return present.length >= 2 ? pointBounds(present) : null;
    }
    case 'mask': return maskPixelBounds(a);
    case 'ellipse': return ellipseBounds(a);
    case 'label': case 'caption': return null;
  }
}

/** The key of an annotation's object: same non-zero group and same label. */
export const objectKey = (a: Annotation): string => `${a.group}:${a.label}`;

/**
 * Annotations put into objects, in first-seen order: those with the same label and non-zero group
 * are one object; an ungrouped one is an object of its own.
 */
export function groupObjects<T extends Annotation>(annotations: readonly T[]): T[][] {
  const objects = new Map<string | T, T[]>();
  for (const a of annotations) {
    const key = a.group ? objectKey(a) : a;
    const parts = objects.get(key);
    if (parts) parts.push(a); else objects.set(key, [a]);
  }
  return [...objects.values()];
}

/**
 * `parts` of one object replaced by `merged` in the place of the first part, the other parts
 * removed (all of them when `merged` is null); recorded in `replacement` for `applyReplacements`.
 */
export function replaceObject(replacement: Map<Annotation, Annotation | null>, parts: readonly Annotation[], merged: Annotation | null): void {
  parts.forEach((p, i) => replacement.set(p, i === 0 ? merged : null));
}

/** `annotations` with the replacements made, in order (null: removed; absent: kept as it is). */
export function applyReplacements(annotations: readonly Annotation[], replacement: ReadonlyMap<Annotation, Annotation | null>): Annotation[] {
  return annotations.flatMap((a) => {
    const r = replacement.get(a);
    return r === undefined ? [a] : r === null ? [] : [r];
  });
}

/**
 * The image's pixels [0, width) x [0, height), to paint masks within; undefined when the size is
 * unknown (or not a positive finite number), or the item's coordinates are normalized.
 */
export function imagePixels(item: Item): PixelRect | undefined {
  const { width, height } = item.image ?? {};
  if (item.normalized || !width || !height || !(width > 0 && height > 0 && Number.isFinite(width * height))) return undefined;
  return { x0: 0, y0: 0, x1: Math.floor(width), y1: Math.floor(height) };
}
