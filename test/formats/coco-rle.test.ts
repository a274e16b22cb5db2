import { describe, expect, test } from 'vitest';
import { bitmapToMask, maskToBitmap } from '../../src/geometry/mask.js';
import { cocoCountsToMask, decodeCompressedCounts, encodeCompressedCounts, maskToCocoCounts } from '../../formats/coco/rle.js';

describe('COCO compressed RLE strings', () => {
  test('hand-computed encodings', () => {
    // 20 = 0b10100: the sign bit 0x10 is set, so a second (zero) group follows: 'd' '0'.
    expect(encodeCompressedCounts([0, 20, 30])).toBe('0d0n0');
    // From the 4th run on (i > 2), the difference to the run two before is written: 1 - 3 = -2 -> 30 + 48 = 'N'.
    expect(encodeCompressedCounts([5, 3, 2, 1])).toBe('532N');
    expect(decodeCompressedCounts('0d0n0')).toEqual([0, 20, 30]);
    expect(decodeCompressedCounts('532N')).toEqual([5, 3, 2, 1]);
    expect(decodeCompressedCounts('')).toEqual([]);
  });

  test('large and irregular runs survive encode -> decode', () => {
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    for (let n = 0; n < 200; n++) {
      const counts = Array.from({ length: 1 + Math.floor(random() * 40) }, () => Math.floor(random() ** 3 * 5_000_000));
      expect(decodeCompressedCounts(encodeCompressedCounts(counts))).toEqual(counts);
    }
  });

  test('bad strings throw', () => {
    expect(() => decodeCompressedCounts('0d')).toThrow(/ends in the middle/);
    expect(() => decodeCompressedCounts('0 1')).toThrow(/not part of/);
  });
});

describe('COCO column-major runs <-> model masks', () => {
  test('a 3 x 2 image by hand', () => {
    // Column-major [1, 2, 1, 2]: each column is 0, 1, 1 -> rows 1 and 2 set.
    expect(cocoCountsToMask([1, 2, 1, 2], 3, 2)).toEqual({ left: 0, top: 1, width: 2, height: 2, rle: [0, 4] });
    expect(maskToCocoCounts({ left: 0, top: 1, width: 2, height: 2, rle: [0, 4] }, 3, 2)).toEqual([1, 2, 1, 2]);
  });

  test('an image-sized mask starting with set pixels begins with a 0 run', () => {
    expect(maskToCocoCounts({ left: 0, top: 0, width: 2, height: 2, rle: [0, 4] }, 2, 2)).toEqual([0, 4]);
    expect(cocoCountsToMask([0, 4], 2, 2)).toEqual({ left: 0, top: 0, width: 2, height: 2, rle: [0, 4] });
  });

  test('random bitmaps round trip through counts and strings', () => {
    let seed = 3;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    for (let n = 0; n < 50; n++) {
      const width = 1 + Math.floor(random() * 30), height = 1 + Math.floor(random() * 30);
      const data = Uint8Array.from({ length: width * height }, () => (random() < 0.4 ? 1 : 0));
      const mask = bitmapToMask({ width, height, data });
      const counts = maskToCocoCounts(mask, height, width);
      expect(counts.reduce((a, b) => a + b, 0)).toBe(width * height);
      const back = cocoCountsToMask(decodeCompressedCounts(encodeCompressedCounts(counts)), height, width);
      expect(back).toEqual(mask);
      // And the pixels themselves: the model mask placed back in the image equals the bitmap.
      const inside = maskToBitmap(back);
      for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) {
        const mx = x - back.left, my = y - back.top;
        const v = mx >= 0 && my >= 0 && mx < back.width && my < back.height ? inside.data[my * back.width + mx] : 0;
        expect(v).toBe(data[y * width + x]);
      }
    }
  });

  test('runs that do not fill the image throw', () => {
    expect(() => cocoCountsToMask([0, 3], 2, 2)).toThrow(/add up to 3/);
    expect(() => cocoCountsToMask([0, -1, 5], 2, 2)).toThrow(/not a non-negative integer/);
  });
});
