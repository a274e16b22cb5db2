import type { MaskAnnotation } from '../../src/model.js';
import { bitmapToMask } from '../../src/geometry/mask.js';

/**
 * COCO run-length encoding: runs over the whole image (size [height, width]) taken column by column,
 * alternating and starting with a run of zeros. "Compressed" RLE is the same runs written as a
 * string by pycocotools (rleToString / rleFrString): each run, from the third on, as the difference
 * to the run two before, in 5-bit groups (low first) + 48, bit 0x20 meaning "more groups follow"
 * and bit 0x10 of the last group the sign.
 */

export type MaskShape = Pick<MaskAnnotation, 'left' | 'top' | 'width' | 'height' | 'rle'>;

export function decodeCompressedCounts(text: string): number[] {
  const counts: number[] = [];
  let p = 0;
  while (p < text.length) {
    let x = 0;
    let k = 0;
    let more = true;
    while (more) {
      if (p >= text.length) throw new Error('compressed RLE string ends in the middle of a number');
      const c = text.charCodeAt(p) - 48;
      if (c < 0 || c > 63) throw new Error(`character '${text[p]}' is not part of a compressed RLE string`);
      x += (c & 0x1f) * 2 ** (5 * k);
      more = (c & 0x20) !== 0;
      p++;
      k++;
      if (!more && (c & 0x10)) x -= 2 ** (5 * k);
    }
    if (counts.length > 2) x += counts[counts.length - 2];
    counts.push(x);
  }
  return counts;
}

export function encodeCompressedCounts(counts: readonly number[]): string {
  let text = '';
  for (let i = 0; i < counts.length; i++) {
    let x = counts[i];
    if (i > 2) x -= counts[i - 2];
    let more = true;
    while (more) {
      let c = x & 0x1f;
      x = Math.floor(x / 32);
      more = (c & 0x10) ? x !== -1 : x !== 0;
      if (more) c |= 0x20;
      text += String.fromCharCode(c + 48);
    }
  }
  return text;
}

/**
 * COCO column-major runs over a height x width image -> model mask (row-major runs, cropped to the
 * set pixels). Throws when the runs do not add up to the image size.
 */
export function cocoCountsToMask(counts: readonly number[], height: number, width: number): MaskShape {
  const total = height * width;
  let sum = 0;
  for (const run of counts) {
    if (!Number.isInteger(run) || run < 0) throw new Error(`RLE run ${run} is not a non-negative integer`);
    sum += run;
  }
  if (sum !== total) throw new Error(`RLE runs add up to ${sum} pixels, the size [${height}, ${width}] has ${total}`);
  const data = new Uint8Array(total);
  let pos = 0; // column-major position: x * height + y
  for (let i = 0; i < counts.length; i++) {
    const run = counts[i];
    if (i % 2 === 1) {
      for (let p = pos; p < pos + run; p++) data[(p % height) * width + Math.floor(p / height)] = 1;
    }
    pos += run;
  }
  return bitmapToMask({ width, height, data });
}

/** Model mask -> COCO column-major runs over the whole height x width image (parts outside are cut). */
export function maskToCocoCounts(mask: MaskShape, height: number, width: number): number[] {
  const inside = new Uint8Array(mask.width * mask.height);
  let pos = 0;
  for (let i = 0; i < mask.rle.length; i++) {
    if (i % 2 === 1) inside.fill(1, pos, Math.min(pos + mask.rle[i], inside.length));
    pos += mask.rle[i];
  }
  const counts: number[] = [];
  let current = 0;
  let run = 0;
  for (let x = 0; x < width; x++) {
    const mx = x - mask.left;
    for (let y = 0; y < height; y++) {
      const my = y - mask.top;
      const v = mx >= 0 && mx < mask.width && my >= 0 && my < mask.height ? inside[my * mask.width + mx] : 0;
      if (v !== current) { counts.push(run); run = 0; current = v; }
      run++;
    }
  }
  counts.push(run);
  return counts;
}
