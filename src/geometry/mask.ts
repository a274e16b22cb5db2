import type { MaskAnnotation } from '../model.js';

/** A binary bitmap, row-major, one byte per pixel (0 or 1). */
export interface Bitmap { width: number; height: number; data: Uint8Array }

/** Expands a model mask's runs into a bitmap of its own rectangle (left/top/width/height). */
export function maskToBitmap(mask: Pick<MaskAnnotation, 'width' | 'height' | 'rle'>): Bitmap {
  const data = new Uint8Array(mask.width * mask.height);
  let pos = 0;
  for (let i = 0; i < mask.rle.length; i++) {
    const run = mask.rle[i];
    if (i % 2 === 1) data.fill(1, pos, Math.min(pos + run, data.length));
    pos += run;
  }
  return { width: mask.width, height: mask.height, data };
}

/**
 * Encodes a bitmap as a model mask, cropped to the bounding box of its set pixels;
 * `offsetX/offsetY` place the bitmap in the image. An empty bitmap gives a 0 x 0 mask.
 */
export function bitmapToMask(bitmap: Bitmap, offsetX = 0, offsetY = 0): Pick<MaskAnnotation, 'left' | 'top' | 'width' | 'height' | 'rle'> {
  const { width, height, data } = bitmap;
  let x0 = width, y0 = height, x1 = -1, y1 = -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (data[y * width + x]) {
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
      }
    }
  }
  if (x1 < 0) return { left: offsetX, top: offsetY, width: 0, height: 0, rle: [] };
  const w = x1 - x0 + 1;
  const h = y1 - y0 + 1;
  const rle: number[] = [];
  let current = 0;
  let run = 0;
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const v = data[y * width + x] ? 1 : 0;
      if (v !== current) { rle.push(run); run = 0; current = v; }
      run++;
    }
  }
  rle.push(run);
  return { left: offsetX + x0, top: offsetY + y0, width: w, height: h, rle };
}

/** Number of set pixels. */
export function maskArea(mask: Pick<MaskAnnotation, 'rle'>): number {
  let area = 0;
  for (let i = 1; i < mask.rle.length; i += 2) area += mask.rle[i];
  return area;
}
