/**
 * NumPy `.npy` files (format versions 1.0-3.0 read, 1.0 written): the magic `\x93NUMPY`, a version,
 * a little-endian header length, then a Python dict literal such as
 * `{'descr': '<f4', 'fortran_order': False, 'shape': (300, 3, 224, 224), }` padded with spaces to a
 * multiple of 64 bytes and ended by a newline, then the raw data in C order.
 * Only what datum reads and writes is supported: little-endian float32 and float16.
 */
import fsp from 'node:fs/promises';
import { DatumError } from './diagnostics.js';

const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]); // \x93NUMPY
const ALIGN = 64;

export type NpyDescr = '<f4' | '<f2';

/** Bytes per value of each dtype datum reads. */
const ITEM_SIZE: Record<NpyDescr, number> = { '<f4': 4, '<f2': 2 };

/**
 * The whole header (magic to newline) of a version 1.0 file, so that `header + data` is a valid file;
 * a writer that streams rows writes this first.
 */
export function npyHeader(shape: readonly number[], descr: NpyDescr = '<f4', fortranOrder = false): Buffer {
  for (const n of shape) if (!Number.isSafeInteger(n) || n < 0) throw new Error(`bad .npy dimension ${n}`);
  // a 1-tuple needs its trailing comma in Python: (5,)
  const dims = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  const dict = `{'descr': '${descr}', 'fortran_order': ${fortranOrder ? 'True' : 'False'}, 'shape': ${dims}, }`;
  const unpadded = MAGIC.length + 2 + 2 + dict.length + 1;
  const padding = (ALIGN - (unpadded % ALIGN)) % ALIGN;
  const text = dict + ' '.repeat(padding) + '\n';
  const header = Buffer.alloc(MAGIC.length + 4 + text.length);
  MAGIC.copy(header, 0);
  header[6] = 1;
  header[7] = 0;
  header.writeUInt16LE(text.length, 8);
  header.write(text, 10, 'latin1');
  return header;
}

/** A float32 array as a complete .npy file. */
export async function writeNpy(file: string, data: Float32Array, shape: readonly number[]): Promise<void> {
  const size = shape.reduce((a, b) => a * b, 1);
  if (size !== data.length) throw new Error(`shape (${shape.join(', ')}) holds ${size} values, the data ${data.length}`);
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  await fsp.writeFile(file, Buffer.concat([npyHeader(shape, '<f4'), bytes]));
}

export interface NpyArray {
  shape: number[];
  /** The dtype as stored: `<f4` or `<f2` (float16 values are converted to float32 in `data`). */
  descr: NpyDescr;
  data: Float32Array;
}

/** A float32 or float16 .npy file, its values as float32 in C order; a clear error for anything else. */
export async function readNpy(file: string): Promise<NpyArray> {
  const bytes = await fsp.readFile(file).catch((error: NodeJS.ErrnoException) => {
    throw new DatumError({ code: 'npy-unreadable', file, message: `cannot read the .npy file (${error.code ?? error.message})` });
  });
  const fail = (message: string, code = 'bad-npy'): never => { throw new DatumError({ code, file, message }); };
  if (bytes.length < 10 || !bytes.subarray(0, 6).equals(MAGIC)) fail('not a NumPy .npy file (no \\x93NUMPY magic at the start; save it with numpy.save)');
  const major = bytes[6];
  if (major < 1 || major > 3) fail(`unsupported .npy format version ${major}.${bytes[7]} (1.0 to 3.0 are read)`);
  const lengthBytes = major === 1 ? 2 : 4;
  const headerLength = major === 1 ? bytes.readUInt16LE(8) : bytes.length >= 12 ? bytes.readUInt32LE(8) : 0;
  const dataStart = 8 + lengthBytes + headerLength;
  if (dataStart > bytes.length) fail('the .npy header is cut short (truncated file)');
  const header = bytes.subarray(8 + lengthBytes, dataStart).toString(major === 3 ? 'utf8' : 'latin1');

  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) fail(`unreadable .npy header '${header.trim().slice(0, 120)}'`);
  const normalized = descr!.replace(/^[=|]/, '<');
  if (normalized !== '<f4' && normalized !== '<f2') {
    const what = /^>/.test(descr!) ? 'big-endian values' : `dtype '${descr}'`;
    fail(`${what}; datum reads little-endian float32 or float16 (in NumPy: arr.astype('<f4'))`, 'npy-dtype');
  }
  if (fortran === 'True') fail("the array is in Fortran order; save a C-ordered copy (numpy.ascontiguousarray(arr))", 'npy-fortran-order');
  const shape = shapeText!.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  if (shape.some((n) => !Number.isSafeInteger(n) || n < 0)) fail(`bad shape (${shapeText}) in the .npy header`);

  const itemSize = ITEM_SIZE[normalized as NpyDescr];
  const count = shape.reduce((a, b) => a * b, 1);
  const available = bytes.length - dataStart;
  if (available < count * itemSize) fail(`shape (${shape.join(', ')}) needs ${count * itemSize} bytes of data, the file has ${available} (truncated file)`);
  if (available > count * itemSize) fail(`the file has ${available - count * itemSize} bytes after the data its shape (${shape.join(', ')}) describes`);
  const raw = bytes.subarray(dataStart, dataStart + count * itemSize);
  const data = normalized === '<f4' ? float32View(raw) : float16ToFloat32(raw);
  return { shape, descr: normalized as NpyDescr, data };
}

/** The bytes as float32 values: a view when they are aligned, else a copy. */
function float32View(raw: Buffer): Float32Array {
  if (raw.byteOffset % 4 === 0) return new Float32Array(raw.buffer, raw.byteOffset, raw.length / 4);
  return new Float32Array(Uint8Array.from(raw).buffer);
}

/** IEEE half-precision (little-endian) to float32, exactly (every float16 is a float32). */
function float16ToFloat32(raw: Buffer): Float32Array {
  const out = new Float32Array(raw.length / 2);
  for (let i = 0; i < out.length; i++) {
    const h = raw[2 * i] | (raw[2 * i + 1] << 8);
    const sign = h & 0x8000 ? -1 : 1;
    const exponent = (h >> 10) & 0x1f;
    const fraction = h & 0x3ff;
    out[i] = exponent === 0 ? sign * fraction * 2 ** -24
      : exponent === 31 ? (fraction ? NaN : sign * Infinity)
        : sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
  }
  return out;
}
