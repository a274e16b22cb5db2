import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { parseTensorOptions, TENSOR_DEFAULTS, writeTensor, type TensorOptions } from '../../src/calib/tensor.js';
import { DatumError, UsageError } from '../../src/diagnostics.js';
import { readNpy } from '../../src/npy.js';
import { tempDir } from '../helpers/corpus.js';

const dir = tempDir('datum-tensor-');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const MEAN = TENSOR_DEFAULTS.mean;
const STD = TENSOR_DEFAULTS.std;
/** What a channel value 0-255 becomes, computed here by hand. */
const normalized = (v: number, c: number) => (v / 255 - MEAN[c]) / STD[c];
/** The channel value 0-255 a normalized value came from. */
const channelValue = (x: number, c: number) => (x * STD[c] + MEAN[c]) * 255;

type RGB = [number, number, number];
let counter = 0;
/** Writes raw RGB(A) pixels (row-major) as an image file and returns its path. */
async function imageFile(width: number, height: number, pixels: number[], format: 'png' | 'jpeg', channels: 1 | 3 | 4 = 3): Promise<string> {
  const file = path.join(dir, `img-${counter++}.${format === 'png' ? 'png' : 'jpg'}`);
  let image = sharp(Buffer.from(pixels), { raw: { width, height, channels } });
  if (channels === 1) image = image.toColourspace('b-w');
  await (format === 'png' ? image.png() : image.jpeg({ quality: 100, chromaSubsampling: '4:4:4' })).toFile(file);
  return file;
}
const solid = (width: number, height: number, rgb: RGB, format: 'png' | 'jpeg' = 'png') =>
  imageFile(width, height, Array.from({ length: width * height }, () => rgb).flat(), format);

function options(width: number, height: number, more: Partial<TensorOptions> = {}): TensorOptions {
  return { ...TENSOR_DEFAULTS, width, height, ...more };
}
/** Writes the tensor and reads it back. */
async function tensor(images: string[], opts: TensorOptions) {
  const file = path.join(dir, `out-${counter++}.npy`);
  const result = await writeTensor(images, file, opts);
  const npy = await readNpy(file);
  expect(result.shape).toEqual(npy.shape);
  expect(result.bytes).toBe(fs.statSync(file).size);
  return { file, ...npy };
}
/** The value at image n, channel c, pixel (x, y) of an NCHW tensor. */
const nchw = (t: { shape: number[]; data: Float32Array }, n: number, c: number, y: number, x: number) => {
  const [, , h, w] = t.shape;
  return t.data[((n * 3 + c) * h + y) * w + x];
};
const rgbAt = (t: { shape: number[]; data: Float32Array }, n: number, y: number, x: number) =>
  [0, 1, 2].map((c) => channelValue(nchw(t, n, c, y, x), c));

describe('parseTensorOptions', () => {
  it('reads WxH or one number for a square, with the ImageNet defaults', () => {
    expect(parseTensorOptions({ tensor: '224' })).toEqual({ ...TENSOR_DEFAULTS, width: 224, height: 224 });
    expect(parseTensorOptions({ tensor: '320x240' })).toMatchObject({ width: 320, height: 240 });
    expect(parseTensorOptions({ tensor: '16384x1', mean: '0.5, 0.5,0.5', std: '0.5,0.5,0.5', layout: 'NHWC' }))
      .toMatchObject({ width: 16384, height: 1, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], layout: 'nhwc' });
  });

  it('short-side always crops the centre; --crop center is only for short-side', () => {
    expect(parseTensorOptions({ tensor: '224', resize: 'short-side' })).toMatchObject({ resize: 'short-side', crop: 'center' });
    expect(parseTensorOptions({ tensor: '224', resize: 'short-side', crop: 'center' })).toMatchObject({ resize: 'short-side', crop: 'center' });
    expect(() => parseTensorOptions({ tensor: '224', resize: 'stretch', crop: 'center' })).toThrow(/--crop center needs --resize short-side: stretch already resizes every image to exactly 224x224/);
    expect(() => parseTensorOptions({ tensor: '224', crop: 'center' })).toThrow(UsageError);
  });

  it.each([
    [{ tensor: '0' }, "--tensor '0'"],
    [{ tensor: '224x' }, "--tensor '224x'"],
    [{ tensor: '16385x224' }, "--tensor '16385x224'"],
    [{ tensor: '22.4' }, "--tensor '22.4'"],
    [{ tensor: 'big' }, "--tensor 'big'"],
    [{ tensor: '224', mean: '0.5,0.5' }, "--mean '0.5,0.5': expected three numbers"],
    [{ tensor: '224', mean: '0.5,x,0.5' }, "--mean '0.5,x,0.5'"],
    [{ tensor: '224', mean: '123.675,116.28,103.53' }, "--mean '123.675,116.28,103.53': the mean is of v / 255"],
    [{ tensor: '224', std: '0.2,0,0.2' }, "--std '0.2,0,0.2': each value must be greater than 0"],
    [{ tensor: '224', std: '0.2,Infinity,0.2' }, "--std '0.2,Infinity,0.2'"],
    [{ tensor: '224', resize: 'fit' }, "--resize 'fit': expected one of stretch, short-side"],
    [{ tensor: '224', crop: 'top' }, "--crop 'top': expected one of center, none"],
    [{ tensor: '224', layout: 'chw' }, "--layout 'chw': expected one of nchw, nhwc"],
  ])('%o is a UsageError naming the flag and value', (flags, message) => {
    expect(() => parseTensorOptions(flags)).toThrow(UsageError);
    expect(() => parseTensorOptions(flags)).toThrow(message);
  });
});

describe('writeTensor', () => {
  it('writes [N, 3, H, W] float32 with (v / 255 - mean) / std per channel, rounded once to float32', async () => {
    const t = await tensor([await solid(7, 5, [255, 0, 0])], options(4, 3));
    expect(t.shape).toEqual([1, 3, 3, 4]);
    expect(t.descr).toBe('<f4');
    expect(t.data.length).toBe(3 * 3 * 4);
    // red 255 in channel 0: (1 - 0.485) / 0.229 = 2.24890829...
    expect(Math.abs(nchw(t, 0, 0, 1, 2) - 2.2489082969432315)).toBeLessThan(1e-6);
    expect(nchw(t, 0, 0, 1, 2)).toBe(Math.fround(normalized(255, 0)));
    expect(nchw(t, 0, 1, 2, 3)).toBe(Math.fround(normalized(0, 1)));
    expect(nchw(t, 0, 2, 0, 0)).toBe(Math.fround(normalized(0, 2)));
    expect(new Set(t.data.subarray(0, 12))).toEqual(new Set([Math.fround(normalized(255, 0))]));
  });

  it('a solid-colour JPEG comes out within JPEG rounding of its colour', async () => {
    const t = await tensor([await solid(32, 16, [40, 160, 220], 'jpeg')], options(8, 8));
    for (const [c, v] of [40, 160, 220].entries()) expect(Math.abs(channelValue(nchw(t, 0, c, 4, 4), c) - v)).toBeLessThan(2);
  });

  it('puts each pixel of a 2x2 image where NCHW and NHWC say', async () => {
    const pixels: RGB[] = [[255, 0, 0], [0, 255, 0], [0, 0, 255], [10, 100, 200]]; // (0,0) (1,0) (0,1) (1,1)
    const image = await imageFile(2, 2, pixels.flat(), 'png');
    const planar = await tensor([image], options(2, 2));
    const interleaved = await tensor([image], options(2, 2, { layout: 'nhwc' }));
    expect(planar.shape).toEqual([1, 3, 2, 2]);
    expect(interleaved.shape).toEqual([1, 2, 2, 3]);
    for (let y = 0; y < 2; y++) for (let x = 0; x < 2; x++) for (let c = 0; c < 3; c++) {
      const expected = Math.fround(normalized(pixels[y * 2 + x][c], c));
      expect(planar.data[c * 4 + y * 2 + x]).toBe(expected);
      expect(interleaved.data[(y * 2 + x) * 3 + c]).toBe(expected);
    }
  });

  it('turns an EXIF-orientation-6 image upright, as a viewer shows it', async () => {
    // Stored 16 wide x 8 high, its top-left 8x4 red, the rest blue. Orientation 6 means "rotate 90 degrees
    // clockwise to view": upright it is 8 wide x 16 high and the red block is at the top right.
    const stored = Array.from({ length: 16 * 8 }, (_, i) => (i % 16 < 8 && Math.floor(i / 16) < 4 ? [255, 0, 0] : [0, 0, 255])).flat();
    const file = path.join(dir, 'rotated.jpg');
    await sharp(Buffer.from(stored), { raw: { width: 16, height: 8, channels: 3 } })
      .jpeg({ quality: 100, chromaSubsampling: '4:4:4' }).withMetadata({ orientation: 6 }).toFile(file);
    expect((await sharp(file).metadata()).orientation).toBe(6);
    const t = await tensor([file], options(8, 16));
    const close = (got: number[], want: RGB) => got.every((v, c) => Math.abs(v - want[c]) < 12);
    expect(close(rgbAt(t, 0, 1, 6), [255, 0, 0])).toBe(true); // top right: red
    expect(close(rgbAt(t, 0, 1, 1), [0, 0, 255])).toBe(true); // top left: blue
    expect(close(rgbAt(t, 0, 14, 6), [0, 0, 255])).toBe(true); // bottom right: blue
  });

  it('gives a grayscale image three equal channels', async () => {
    const gray = await imageFile(2, 2, [0, 50, 100, 200], 'png', 1);
    expect((await sharp(gray).metadata()).channels).toBe(1);
    const t = await tensor([gray], options(2, 2));
    for (const [i, v] of [0, 50, 100, 200].entries()) {
      for (let c = 0; c < 3; c++) expect(nchw(t, 0, c, i >> 1, i & 1)).toBe(Math.fround(normalized(v, c)));
    }
  });

  it('converts a CMYK JPEG to RGB close to the colour it was made from', async () => {
    const file = path.join(dir, 'cmyk.jpg');
    await sharp({ create: { width: 8, height: 8, channels: 3, background: { r: 180, g: 120, b: 90 } } }).toColourspace('cmyk').jpeg({ quality: 100 }).toFile(file);
    expect((await sharp(file).metadata()).space).toBe('cmyk');
    const t = await tensor([file], options(4, 4));
    for (const [c, v] of [180, 120, 90].entries()) expect(Math.abs(rgbAt(t, 0, 2, 2)[c] - v)).toBeLessThan(8);
  });

  it('drops alpha and keeps the colour under it, transparent pixels too (like PIL convert("RGB"))', async () => {
    // 4x4, one colour; the top half fully transparent, the bottom half half-transparent. Resizing must not
    // see the alpha (premultiplied, it would darken or zero the colour).
    const pixels = Array.from({ length: 16 }, (_, i) => [200, 50, 20, i < 8 ? 0 : 128]).flat();
    const t = await tensor([await imageFile(4, 4, pixels, 'png', 4)], options(2, 2));
    for (let y = 0; y < 2; y++) for (let x = 0; x < 2; x++) {
      [200, 50, 20].forEach((v, c) => expect(nchw(t, 0, c, y, x)).toBe(Math.fround(normalized(v, c))));
    }
  });

  it('reads a 16-bit RGBA PNG as its 8-bit colour, alpha dropped', async () => {
    const pixels = Array.from({ length: 16 }, (_, i) => [200 * 257, 50 * 257, 20 * 257, i < 8 ? 0 : 30000]).flat();
    const file = path.join(dir, 'rgba16.png');
    await sharp(new Uint16Array(pixels), { raw: { width: 4, height: 4, channels: 4 } }).toColourspace('rgb16').png().toFile(file);
    expect((await sharp(file).metadata()).depth).toBe('ushort');
    const t = await tensor([file], options(2, 2));
    [200, 50, 20].forEach((v, c) => expect(nchw(t, 0, c, 0, 1)).toBe(Math.fround(normalized(v, c))));
  });

  it('short-side scales so the short side fits, then keeps the centre of a 2:1 image', async () => {
    // 8x4: columns 0-1 red, 2-5 green, 6-7 blue. To 4x4 the short side already fits, so the crop is columns 2-5.
    const columns: RGB[] = [[255, 0, 0], [255, 0, 0], [0, 255, 0], [0, 255, 0], [0, 255, 0], [0, 255, 0], [0, 0, 255], [0, 0, 255]];
    const wide = await imageFile(8, 4, Array.from({ length: 4 }, () => columns).flat(2), 'png');
    const cropped = await tensor([wide], options(4, 4, { resize: 'short-side', crop: 'center' }));
    for (let c = 0; c < 3; c++) expect(new Set(cropped.data.subarray(c * 16, c * 16 + 16))).toEqual(new Set([Math.fround(normalized(c === 1 ? 255 : 0, c))]));
    // stretch keeps all of it: red at the left edge, blue at the right
    const stretched = await tensor([wide], options(4, 4));
    expect(rgbAt(stretched, 0, 2, 0)[0]).toBeGreaterThan(200);
    expect(rgbAt(stretched, 0, 2, 3)[2]).toBeGreaterThan(200);
    // a bigger 2:1 image (32x16) scaled down to 8x8 keeps its middle too
    const big = await imageFile(32, 16, Array.from({ length: 16 }, () => columns.flatMap((col) => [col, col, col, col])).flat(2), 'png');
    const small = await tensor([big], options(8, 8, { resize: 'short-side' }));
    expect(small.shape).toEqual([1, 3, 8, 8]);
    expect(rgbAt(small, 0, 4, 4).map((v) => Math.round(v) + 0)).toEqual([0, 255, 0]);
    expect(rgbAt(small, 0, 4, 0)[0]).toBeLessThan(60); // the red columns were cropped away
  });

  it('keeps the input order: the i-th row is the i-th image, whatever the sizes', async () => {
    const count = 24;
    const images = await Promise.all(Array.from({ length: count }, (_, i) => solid(3 + ((i * 7) % 40), 2 + ((i * 13) % 50), [i * 10, 255 - i * 10, (i * 37) % 256])));
    const progress: number[] = [];
    const file = path.join(dir, 'order.npy');
    await writeTensor(images, file, options(5, 3), (done, total) => { expect(total).toBe(count); progress.push(done); });
    expect(progress).toEqual(Array.from({ length: count }, (_, i) => i + 1));
    const t = await readNpy(file);
    expect(t.shape).toEqual([count, 3, 3, 5]);
    for (let i = 0; i < count; i++) {
      [i * 10, 255 - i * 10, (i * 37) % 256].forEach((v, c) => expect(nchw(t, i, c, 1, 2)).toBe(Math.fround(normalized(v, c))));
    }
  });

  it('writes a header-only file for no images', async () => {
    const t = await tensor([], options(224, 224));
    expect(t.shape).toEqual([0, 3, 224, 224]);
    expect(t.data.length).toBe(0);
  });

  it.each([
    ['not an image', 'corrupt.jpg', (file: string) => fs.writeFileSync(file, 'this is not a JPEG'), /not an image that can be decoded/],
    ['a truncated JPEG', 'truncated.jpg', async (file: string) => {
      const whole = await sharp({ create: { width: 64, height: 64, channels: 3, background: 'red' } }).jpeg().toBuffer();
      fs.writeFileSync(file, whole.subarray(0, whole.length >> 1));
    }, /not an image that can be decoded/],
    ['a missing file', 'missing.jpg', () => {}, /the image file does not exist/],
  ])('%s: an image-unreadable error naming it, and no partial file', async (_what, name, make, message) => {
    const bad = path.join(dir, name);
    await make(bad);
    const good = await solid(4, 4, [1, 2, 3]);
    const images = [good, good, good, bad, ...Array.from({ length: 10 }, () => good)];
    const file = path.join(dir, `failed-${name}.npy`);
    const error = await writeTensor(images, file, options(16, 16)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DatumError);
    expect((error as DatumError).diagnostic).toMatchObject({ code: 'image-unreadable', file: bad });
    expect((error as DatumError).message).toMatch(message);
    expect((error as DatumError).message).toContain(bad);
    expect(fs.existsSync(file)).toBe(false);
  });

  it('an output file that cannot be created is a write-failed error naming it', async () => {
    const file = path.join(dir, 'no-such-folder', 'calibration.npy');
    const error = await writeTensor([await solid(2, 2, [1, 2, 3])], file, options(2, 2)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DatumError);
    expect((error as DatumError).diagnostic).toMatchObject({ code: 'write-failed', file });
    expect((error as DatumError).message).toContain('ENOENT');
  });

  const numpy = spawnSync('python3', ['-c', 'import numpy'], { encoding: 'utf8' }).status === 0;
  it.skipIf(!numpy)('numpy.load reads the file: shape, dtype and a value', async () => {
    const pixels: RGB[] = [[255, 0, 0], [0, 255, 0], [0, 0, 255], [10, 100, 200]];
    const image = await imageFile(2, 2, pixels.flat(), 'png');
    const file = path.join(dir, 'numpy.npy');
    await writeTensor([image, image, image], file, options(2, 2));
    const script = 'import sys, json, numpy as np; a = np.load(sys.argv[1]); print(json.dumps([list(a.shape), str(a.dtype), float(a[2, 2, 1, 1]), float(a[0, 0, 0, 0])]))';
    const run = spawnSync('python3', ['-c', script, file], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    const [shape, dtype, blueOfLast, redOfFirst] = JSON.parse(run.stdout);
    expect(shape).toEqual([3, 3, 2, 2]);
    expect(dtype).toBe('float32');
    expect(blueOfLast).toBe(Math.fround(normalized(200, 2)));
    expect(redOfFirst).toBe(Math.fround(normalized(255, 0)));
  });
});
