/**
 * Painting shapes into pixel buffers, and polygon <-> mask conversions built on it. Pixel (x, y)
 * covers [x, x+1] x [y, y+1]; a polygon covers a pixel when the pixel's centre is inside it
 * (even-odd rule), so a polygon on pixel corners paints exactly the pixels it encloses.
 */
import type { MaskAnnotation } from '../model.js';
import { bitmapToMask, maskToBitmap, type Bitmap } from './mask.js';

type MaskGeometry = Pick<MaskAnnotation, 'left' | 'top' | 'width' | 'height' | 'rle'>;

/** Paints the set pixels of a model mask into `target` (clipped to the canvas). */
export function paintMask(target: Uint8Array, width: number, height: number, mask: MaskGeometry, value: number): void {
  let pos = 0;
  for (let i = 0; i < mask.rle.length; i++) {
    const run = mask.rle[i];
    if (i % 2 === 1) {
      let row = Math.floor(pos / mask.width);
      let col = pos % mask.width;
      for (let k = 0; k < run; k++) {
        const x = mask.left + col;
        const y = mask.top + row;
        if (x >= 0 && y >= 0 && x < width && y < height) target[y * width + x] = value;
        if (++col === mask.width) { col = 0; row++; }
      }
    }
    pos += run;
  }
}

/**
 * Paints a polygon (flat points) with the even-odd rule: a pixel is inside when its centre is.
 * Used to write polygons into VOC masks and to turn polygons into mask annotations.
 */
export function paintPolygon(target: Uint8Array, width: number, height: number, points: number[], value: number): void {
  const n = points.length / 2;
  if (n < 3) return;
  let minY = Infinity, maxY = -Infinity;
  for (let i = 1; i < points.length; i += 2) { minY = Math.min(minY, points[i]); maxY = Math.max(maxY, points[i]); }
  const yStart = Math.max(0, Math.floor(minY));
  const yEnd = Math.min(height - 1, Math.ceil(maxY));
  const crossings: number[] = [];
  for (let y = yStart; y <= yEnd; y++) {
    const cy = y + 0.5;
    crossings.length = 0;
    for (let i = 0; i < n; i++) {
      const ax = points[2 * i], ay = points[2 * i + 1];
      const j = (i + 1) % n;
      const bx = points[2 * j], by = points[2 * j + 1];
      if ((ay <= cy && cy < by) || (by <= cy && cy < ay)) crossings.push(ax + ((cy - ay) / (by - ay)) * (bx - ax));
    }
    crossings.sort((a, b) => a - b);
    for (let k = 0; k + 1 < crossings.length; k += 2) {
      const from = Math.max(0, Math.ceil(crossings[k] - 0.5));
      const to = Math.min(width - 1, Math.ceil(crossings[k + 1] - 0.5) - 1);
      for (let x = from; x <= to; x++) target[y * width + x] = value;
    }
  }
}

/** A bitmap placed in the image: its pixel (0, 0) is image pixel (left, top). */
export interface PlacedBitmap { bitmap: Bitmap; left: number; top: number }

/**
 * The most pixels a shape is painted into (a 11585 x 11585 bitmap): larger bounds come from bad
 * coordinates, and the functions below give null for them instead of running out of memory.
 */
export const MAX_RASTER_PIXELS = 2 ** 27;

/** A rectangle of whole image pixels [x0, x1) x [y0, y1) that painting is limited to (the image). */
export interface PixelRect { x0: number; y0: number; x1: number; y1: number }

/**
 * The bitmap of a polygon's bounds (whole pixels, within `clip` when given) with the pixels the
 * polygon covers set; null when its bounds are not finite or larger than MAX_RASTER_PIXELS.
 */
export function polygonBitmap(points: readonly number[], clip?: PixelRect): PlacedBitmap | null {
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (let i = 0; i + 1 < points.length; i += 2) {
    x0 = Math.min(x0, points[i]); x1 = Math.max(x1, points[i]);
    y0 = Math.min(y0, points[i + 1]); y1 = Math.max(y1, points[i + 1]);
  }
  if (![x0, y0, x1, y1].every(Number.isFinite)) return points.length >= 2 ? null : empty();
  if (!(x1 > x0 && y1 > y0)) return empty();
  const left = Math.max(Math.floor(x0), clip?.x0 ?? -Infinity), top = Math.max(Math.floor(y0), clip?.y0 ?? -Infinity);
  const width = Math.min(Math.ceil(x1), clip?.x1 ?? Infinity) - left, height = Math.min(Math.ceil(y1), clip?.y1 ?? Infinity) - top;
  if (width <= 0 || height <= 0) return empty();
  if (width * height > MAX_RASTER_PIXELS) return null;
  const data = new Uint8Array(width * height);
  const shifted = points.map((v, i) => (i % 2 === 0 ? v - left : v - top));
  paintPolygon(data, width, height, shifted, 1);
  return { bitmap: { width, height, data }, left, top };
}

const empty = (): PlacedBitmap => ({ bitmap: { width: 0, height: 0, data: new Uint8Array(0) }, left: 0, top: 0 });

/**
 * A mask's set pixels (within `clip` when given) as a bitmap of their bounds only (a mask's rectangle
 * may be much larger than what it covers); null when those bounds exceed MAX_RASTER_PIXELS.
 */
export function maskBitmap(mask: MaskGeometry, clip?: PixelRect): PlacedBitmap | null {
  const cropped = cropMask(mask, clip?.x0 ?? -Infinity, clip?.y0 ?? -Infinity, clip?.x1 ?? Infinity, clip?.y1 ?? Infinity);
  return cropped && { bitmap: maskToBitmap(cropped), left: cropped.left, top: cropped.top };
}

/**
 * The union of masks and polygons as one mask (cropped to its set pixels): the pixels any of them
 * covers (within `clip`, the image, when given), painted into one bitmap spanning all their bounds;
 * null when that is too large.
 */
export function unionMask(masks: readonly MaskGeometry[], polygons: readonly (readonly number[])[] = [], clip?: PixelRect): MaskGeometry | null {
  const all = [...masks.map((m) => maskBitmap(m, clip)), ...polygons.map((p) => polygonBitmap(p, clip))];
  if (all.some((p) => p === null)) return null;
  const placed = (all as PlacedBitmap[]).filter((p) => p.bitmap.width > 0 && p.bitmap.height > 0);
  if (!placed.length) return { left: 0, top: 0, width: 0, height: 0, rle: [] };
  const left = placed.reduce((m, p) => Math.min(m, p.left), Infinity);
  const top = placed.reduce((m, p) => Math.min(m, p.top), Infinity);
  const width = placed.reduce((m, p) => Math.max(m, p.left + p.bitmap.width), -Infinity) - left;
  const height = placed.reduce((m, p) => Math.max(m, p.top + p.bitmap.height), -Infinity) - top;
  if (width * height > MAX_RASTER_PIXELS) return null;
  const data = new Uint8Array(width * height);
  for (const p of placed) {
    for (let y = 0; y < p.bitmap.height; y++) {
      const row = (p.top - top + y) * width + p.left - left;
      for (let x = 0; x < p.bitmap.width; x++) if (p.bitmap.data[y * p.bitmap.width + x]) data[row + x] = 1;
    }
  }
  return bitmapToMask({ width, height, data }, left, top);
}

/**
 * A mask cut to the image pixels [x0, x1) x [y0, y1) (whole pixels), cropped to its set pixels;
 * 0 x 0 when nothing is left, null when what is left spans more than MAX_RASTER_PIXELS. Reads the
 * runs directly: only the kept rectangle is allocated.
 */
export function cropMask(mask: MaskGeometry, x0: number, y0: number, x1: number, y1: number): MaskGeometry | null {
  const set = maskPixelBounds(mask);
  const left = Math.max(set?.x0 ?? 0, x0), top = Math.max(set?.y0 ?? 0, y0);
  const right = Math.min(set?.x1 ?? 0, x1), bottom = Math.min(set?.y1 ?? 0, y1);
  if (!set || right <= left || bottom <= top) return { left: Math.max(mask.left, x0), top: Math.max(mask.top, y0), width: 0, height: 0, rle: [] };
  const width = right - left, height = bottom - top;
  if (width * height > MAX_RASTER_PIXELS) return null;
  const data = new Uint8Array(width * height);
  // The kept rectangle in the mask's own rows and columns.
  const c0 = left - mask.left, c1 = right - mask.left, r0 = top - mask.top, r1 = bottom - mask.top;
  const total = mask.width * mask.height;
  let pos = 0;
  for (let i = 0; i < mask.rle.length && pos < total; i++) {
    const end = Math.min(pos + mask.rle[i], total);
    if (i % 2 === 1 && end > pos) {
      const firstRow = Math.floor(pos / mask.width), lastRow = Math.floor((end - 1) / mask.width);
      for (let row = Math.max(firstRow, r0); row <= Math.min(lastRow, r1 - 1); row++) {
        const from = Math.max(row === firstRow ? pos % mask.width : 0, c0);
        const to = Math.min(row === lastRow ? ((end - 1) % mask.width) + 1 : mask.width, c1);
        if (to > from) data.fill(1, (row - r0) * width + from - c0, (row - r0) * width + to - c0);
      }
    }
    pos = end;
  }
  return bitmapToMask({ width, height, data }, left, top);
}
/** Bounds of a mask's set pixels in pixel corners (x1, y1 exclusive); null when it has none. */
export function maskPixelBounds(mask: MaskGeometry): { x0: number; y0: number; x1: number; y1: number } | null {
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  let pos = 0;
  for (let i = 0; i < mask.rle.length; i++) {
    const run = Math.min(mask.rle[i], mask.width * mask.height - pos);
    if (i % 2 === 1 && run > 0 && mask.width > 0) {
      const firstRow = Math.floor(pos / mask.width), lastRow = Math.floor((pos + run - 1) / mask.width);
      y0 = Math.min(y0, firstRow); y1 = Math.max(y1, lastRow + 1);
      // A run spanning a row break covers the whole width.
      if (lastRow > firstRow) { x0 = 0; x1 = mask.width; } else {
        x0 = Math.min(x0, pos % mask.width); x1 = Math.max(x1, (pos % mask.width) + run);
      }
    }
    pos += Math.max(0, run);
  }
  if (x1 < 0) return null;
  return { x0: mask.left + x0, y0: mask.top + y0, x1: mask.left + x1, y1: mask.top + y1 };
}
