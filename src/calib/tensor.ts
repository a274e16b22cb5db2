/**
 * Calibration images as one NCHW/NHWC float32 batch in a NumPy .npy file, preprocessed the way the
 * CGD/NNCF evaluation does it: upright (EXIF orientation), RGB, resized to W x H, then per channel
 * `(v / 255 - mean) / std`. Written row by row: memory holds a few images, never the batch.
 *
 * Choices, each matching what torchvision does on a PIL image (`Image.open(f).convert('RGB')`,
 * `Resize`, `ToTensor`, `Normalize`):
 * - alpha is dropped, the colour values kept (PIL's RGBA -> RGB), not flattened onto a background;
 * - grayscale becomes three equal channels, CMYK is converted to sRGB (its ICC profile, else libvips' default);
 * - the resize kernel is bilinear (sharp's `linear`, antialiased when shrinking like PIL's), not sharp's
 *   default lanczos3; JPEG shrink-on-load (libjpeg's DCT scaling, which PIL's resize does not do) is held
 *   back by `fastShrinkOnLoad: false` to shrinks of 4x or more, always leaving 2x or more to the bilinear step;
 * - values are computed in float64 and rounded once to the nearest float32. torchvision works in float32
 *   throughout (v / 255, then - mean, then / std, each rounded, with mean and std rounded to float32 first);
 *   with the ImageNet mean/std the two differ by at most 4.8e-7, a few units in the last place.
 */
import fsp from 'node:fs/promises';
import os from 'node:os';
import sharp from 'sharp';
import { DatumError, UsageError } from '../diagnostics.js';
import { npyHeader } from '../npy.js';

export type ResizeMode = 'stretch' | 'short-side';
export type Layout = 'nchw' | 'nhwc';

export interface TensorOptions {
  width: number;
  height: number;
  /** Per channel, RGB, applied as (v / 255 - mean) / std. */
  mean: [number, number, number];
  std: [number, number, number];
  /**
   * stretch: resize to width x height ignoring the aspect ratio; short-side: scale so the image covers
   * width x height (its short side fits), then crop the centre. A batch has one size, so short-side always
   * crops: `crop: 'none'` with short-side behaves as `center`.
   */
  resize: ResizeMode;
  /** With short-side: center crop to width x height (the only crop there is). */
  crop: 'center' | 'none';
  layout: Layout;
}

export const TENSOR_DEFAULTS: Omit<TensorOptions, 'width' | 'height'> = {
  mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], resize: 'stretch', crop: 'none', layout: 'nchw',
};

/** The largest width or height accepted (one 16384 x 16384 row is already 3 GiB of float32). */
export const MAX_SIDE = 16384;

/** The CLI's words (`--tensor 224x224 --mean .. --std .. --resize .. --crop .. --layout ..`) as options; UsageError when wrong. */
export function parseTensorOptions(flags: { tensor: string; mean?: string; std?: string; resize?: string; crop?: string; layout?: string }): TensorOptions {
  const size = /^\s*(\d+)\s*(?:[xX]\s*(\d+))?\s*$/.exec(flags.tensor ?? '');
  const width = size ? Number(size[1]) : NaN;
  const height = size ? Number(size[2] ?? size[1]) : NaN;
  if (![width, height].every((n) => Number.isSafeInteger(n) && n >= 1 && n <= MAX_SIDE)) {
    throw new UsageError(`--tensor '${flags.tensor}': expected WIDTHxHEIGHT or one number for a square, whole numbers from 1 to ${MAX_SIDE} (e.g. 224x224 or 224)`);
  }

  const mean = flags.mean === undefined ? TENSOR_DEFAULTS.mean : threeNumbers('--mean', flags.mean);
  if (mean.some((m) => m < 0 || m > 1)) {
    throw new UsageError(`--mean '${flags.mean}': the mean is of v / 255, so each value is between 0 and 1 (a mean on the 0-255 scale such as 123.675 is 0.485 here: divide it and the std by 255)`);
  }
  const std = flags.std === undefined ? TENSOR_DEFAULTS.std : threeNumbers('--std', flags.std);
  if (std.some((s) => s <= 0)) throw new UsageError(`--std '${flags.std}': each value must be greater than 0 (it divides)`);

  const resize = word('--resize', flags.resize, { stretch: 'stretch', 'short-side': 'short-side' }) ?? TENSOR_DEFAULTS.resize;
  const crop = word('--crop', flags.crop, { center: 'center', centre: 'center', none: 'none' });
  if (crop === 'center' && resize === 'stretch') {
    throw new UsageError(`--crop center needs --resize short-side: stretch already resizes every image to exactly ${width}x${height}, so there is nothing left to crop`);
  }
  const layout = word('--layout', flags.layout, { nchw: 'nchw', nhwc: 'nhwc' }) ?? TENSOR_DEFAULTS.layout;
  // short-side without --crop still crops the centre: every row of the batch has the same size.
  return { width, height, mean, std, resize, crop: resize === 'short-side' ? 'center' : 'none', layout };
}

function threeNumbers(flag: string, text: string): [number, number, number] {
  const parts = text.split(',').map((s) => s.trim());
  const values = parts.map((s) => (s === '' ? NaN : Number(s)));
  if (values.length !== 3 || !values.every(Number.isFinite)) {
    throw new UsageError(`${flag} '${text}': expected three numbers for R,G,B separated by commas (e.g. ${flag === '--std' ? '0.229,0.224,0.225' : '0.485,0.456,0.406'})`);
  }
  return values as [number, number, number];
}

function word<T extends string>(flag: string, value: string | undefined, choices: Record<string, T>): T | undefined {
  if (value === undefined) return undefined;
  const choice = Object.hasOwn(choices, value.toLowerCase()) ? choices[value.toLowerCase()] : undefined;
  if (choice === undefined) throw new UsageError(`${flag} '${value}': expected one of ${[...new Set(Object.values(choices))].join(', ')}`);
  return choice;
}

/** At most this many bytes of decoded rows in flight, so that big tensors decode fewer images at once. */
const IN_FLIGHT_BYTES = 256 * 1024 * 1024;

/** Writes the images, in order, as one [N, 3, H, W] (or [N, H, W, 3]) float32 .npy at `file`. */
export async function writeTensor(images: readonly string[], file: string, options: TensorOptions, onProgress?: (done: number, total: number) => void): Promise<{ shape: number[]; bytes: number }> {
  const { width, height, layout } = options;
  const shape = layout === 'nhwc' ? [images.length, height, width, 3] : [images.length, 3, height, width];
  const header = npyHeader(shape, '<f4', false);
  const rowBytes = 3 * width * height * 4;
  const table = normalizationTable(options);
  // Decoding runs on libuv's thread pool: 2 per core keeps the cores busy while one row is written.
  const window = Math.max(1, Math.min(2 * os.availableParallelism(), Math.floor(IN_FLIGHT_BYTES / rowBytes)));

  const handle = await fsp.open(file, 'w').catch((error: NodeJS.ErrnoException) => {
    throw new DatumError({ code: 'write-failed', file, message: `cannot create the tensor file (${error.code ?? error.message})` });
  });
  const pending: Promise<Buffer>[] = [];
  let next = 0;
  const startNext = () => {
    const row = tensorRow(images[next++], options, table);
    row.catch(() => {}); // awaited in order below; this only keeps a later failure from going unhandled meanwhile
    pending.push(row);
  };
  try {
    await writeAll(handle, header, file);
    while (next < images.length && pending.length < window) startNext();
    for (let done = 0; done < images.length; done++) {
      const row = await pending.shift()!;
      if (next < images.length) startNext();
      await writeAll(handle, row, file);
      onProgress?.(done + 1, images.length);
    }
    await handle.close();
  } catch (error) {
    await Promise.allSettled(pending);
    await handle.close().catch(() => {});
    await fsp.rm(file, { force: true });
    throw error;
  }
  return { shape, bytes: header.length + images.length * rowBytes };
}

/** The float32 value of every channel value 0-255: `(v / 255 - mean[c]) / std[c]` in float64, rounded once. */
function normalizationTable({ mean, std }: TensorOptions): Float32Array {
  const table = new Float32Array(3 * 256);
  for (let c = 0; c < 3; c++) for (let v = 0; v < 256; v++) table[c * 256 + v] = (v / 255 - mean[c]) / std[c];
  return table;
}

/** One image as its row of the batch: little-endian float32 bytes in the layout asked for. */
async function tensorRow(image: string, options: TensorOptions, table: Float32Array): Promise<Buffer> {
  const pixels = await decodeRgb(image, options);
  const count = options.width * options.height;
  const row = new Float32Array(3 * count);
  if (options.layout === 'nhwc') {
    for (let i = 0; i < 3 * count; i += 3) {
      row[i] = table[pixels[i]];
      row[i + 1] = table[256 + pixels[i + 1]];
      row[i + 2] = table[512 + pixels[i + 2]];
    }
  } else {
    for (let p = 0, i = 0; p < count; p++, i += 3) {
      row[p] = table[pixels[i]];
      row[count + p] = table[256 + pixels[i + 1]];
      row[2 * count + p] = table[512 + pixels[i + 2]];
    }
  }
  const bytes = Buffer.from(row.buffer, row.byteOffset, row.byteLength);
  return os.endianness() === 'LE' ? bytes : bytes.swap32();
}

/** The image upright, in sRGB, resized to width x height: raw 8-bit RGB, row-major (HWC). */
async function decodeRgb(image: string, { width, height, resize }: TensorOptions): Promise<Buffer> {
  const unreadable = (message: string) => new DatumError({ code: 'image-unreadable', file: image, message });
  const input = await fsp.readFile(image).catch((error: NodeJS.ErrnoException) => {
    const why = error.code === 'ENOENT' ? 'the image file does not exist' : error.code === 'EISDIR' ? 'the image path is a folder' : `cannot read the image file (${error.code ?? error.message})`;
    throw unreadable(why);
  });
  try {
    let source = sharp(input).rotate();
    // sharp resizes with premultiplied alpha and removes alpha only afterwards, which would darken the
    // colour under transparent pixels; so an image with alpha loses it (colours kept) in a first pass.
    if ((await source.metadata()).hasAlpha) {
      const { data, info } = await source.removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
      source = sharp(data, { raw: { width: info.width, height: info.height, channels: info.channels } });
    }
    const { data, info } = await source
      .toColourspace('srgb')
      .resize(width, height, { fit: resize === 'stretch' ? 'fill' : 'cover', position: 'centre', kernel: 'linear', fastShrinkOnLoad: false })
      .removeAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3 || info.width !== width || info.height !== height) {
      throw new Error(`decoded to ${info.width}x${info.height} with ${info.channels} channels`);
    }
    return data;
  } catch (error) {
    throw unreadable(`not an image that can be decoded (${(error as Error).message})`);
  }
}

/** The whole buffer, however many writes it takes. */
async function writeAll(handle: fsp.FileHandle, bytes: Buffer, file: string): Promise<void> {
  try {
    for (let offset = 0; offset < bytes.length;) offset += (await handle.write(bytes, offset, bytes.length - offset)).bytesWritten;
  } catch (error) {
    throw new DatumError({ code: 'write-failed', file, message: `cannot write the tensor file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})` });
  }
}
