/**
 * The dot-product kernel of knn.ts as a WebAssembly SIMD module, assembled here from its opcodes
 * (no toolchain, no dependency): `dots(q, nq, g, ng, stride, out)` writes the float64 dot products of
 * `nq` rows from byte address `q` with `ng` rows from `g` (rows of `stride` bytes of float64, zero
 * padded to a multiple of 16 bytes) to `out`, row-major `[nq, ng]`. `nq` must be a multiple of
 * TILE_QUERIES and `ng` of TILE_GALLERY.
 *
 * Register tiles of 2 query rows x 4 gallery rows: 8 f64x2 accumulators + 2 query vectors + 1 gallery
 * vector fit the 16 SIMD registers V8 uses on x64 (3 x 4 and 4 x 4 spill and ran at half the speed).
 * Accumulator lane 0 sums the even dimensions, lane 1 the odd ones, each in dimension order; the dot
 * product is lane 0 + lane 1. `dotLanes` in knn.ts is the same sum in JavaScript, for checking.
 */

export const TILE_QUERIES = 2;
export const TILE_GALLERY = 4;

const I32 = 0x7f, V128 = 0x7b;
const BLOCK = 0x02, LOOP = 0x03, BR = 0x0c, BR_IF = 0x0d, END = 0x0b, VOID = 0x40;
const LOCAL_GET = 0x20, LOCAL_SET = 0x21, I32_CONST = 0x41;
const I32_GE_U = 0x4f, I32_ADD = 0x6a, I32_MUL = 0x6c, F64_ADD = 0xa0, F32_LOAD = 0x2a, F64_STORE = 0x39, F64_PROMOTE_F32 = 0xbb;
const F32_ADD = 0x92;
const SIMD = 0xfd, V128_LOAD = 0x00, V128_CONST = 0x0c, F64X2_EXTRACT_LANE = 0x21, F64X2_ADD = 0xf0, F64X2_MUL = 0xf2;
const F32X4_EXTRACT_LANE = 0x1f, F32X4_ADD = 0xe4, F32X4_MUL = 0xe6;

/** Unsigned LEB128, as wasm encodes counts, indices and SIMD opcodes. */
function leb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n) byte |= 0x80;
    out.push(byte);
  } while (n);
  return out;
}
const sized = (bytes: number[]) => [...leb(bytes.length), ...bytes];
const name = (s: string) => sized([...Buffer.from(s, 'utf8')]);
const simd = (op: number) => [SIMD, ...leb(op)];

/** One function's body: code bytes and locals (parameters first, all i32), with the helpers to emit them. */
class FunctionBody {
  readonly code: number[] = [];
  private readonly locals: number[] = [];
  constructor(private readonly params: number) {}
  local(type: number): number { this.locals.push(type); return this.params + this.locals.length - 1; }
  emit(...parts: (number | number[])[]): void { for (const p of parts) typeof p === 'number' ? this.code.push(p) : this.code.push(...p); }
  get(i: number): number[] { return [LOCAL_GET, ...leb(i)]; }
  set(i: number): number[] { return [LOCAL_SET, ...leb(i)]; }
  /** `for (i = 0; i < n; i += step) body()` as block { loop { br_if exit; body; i += step; br loop } } */
  forLoop(i: number, n: number, step: number, body: () => void): void {
    this.emit(konst(0), this.set(i), BLOCK, VOID, LOOP, VOID, this.get(i), this.get(n), I32_GE_U, BR_IF, 1);
    body();
    this.emit(this.get(i), konst(step), I32_ADD, this.set(i), BR, 0, END, END);
  }
  /** The encoded body: locals grouped by type (in the order allocated), code, end. */
  bytes(): number[] {
    const groups: number[][] = [];
    for (const t of this.locals) {
      if (groups.length && groups[groups.length - 1][1] === t) groups[groups.length - 1][0]++;
      else groups.push([1, t]);
    }
    return sized([...leb(groups.length), ...groups.flatMap(([n, t]) => [...leb(n), t]), ...this.code, END]);
  }
}
/** i32.const n for 0 <= n < 8192 (signed LEB128: a 7th bit set needs a second byte). */
const konst = (n: number) => [I32_CONST, ...(n < 64 ? [n] : [(n & 0x7f) | 0x80, n >> 7])];

/** dots(q, nq, g, ng, stride, out) on float64 rows, or dots32 on float32 rows: see the module comment. */
function dotsFunction(float32: boolean): number[] {
  const [mul, add] = float32 ? [F32X4_MUL, F32X4_ADD] : [F64X2_MUL, F64X2_ADD];
  const f = new FunctionBody(6);
  const [q, nq, g, ng, stride, out] = [0, 1, 2, 3, 4, 5];
  const qi = f.local(I32), gi = f.local(I32), d = f.local(I32), row = f.local(I32);
  const qRows = Array.from({ length: TILE_QUERIES }, () => f.local(I32));
  const gRows = Array.from({ length: TILE_GALLERY }, () => f.local(I32));
  const acc = Array.from({ length: TILE_QUERIES * TILE_GALLERY }, () => f.local(V128));
  const qv = Array.from({ length: TILE_QUERIES }, () => f.local(V128));
  const gv = f.local(V128);
  const { get, set } = { get: f.get.bind(f), set: f.set.bind(f) };

  f.forLoop(qi, nq, TILE_QUERIES, () => {
    qRows.forEach((r, a) => f.emit(get(q), get(qi), konst(a), I32_ADD, get(stride), I32_MUL, I32_ADD, set(r)));
    f.forLoop(gi, ng, TILE_GALLERY, () => {
      gRows.forEach((r, b) => f.emit(get(g), get(gi), konst(b), I32_ADD, get(stride), I32_MUL, I32_ADD, set(r)));
      for (const x of acc) f.emit(simd(V128_CONST), new Array(16).fill(0), set(x));
      f.forLoop(d, stride, 16, () => {
        qRows.forEach((r, a) => f.emit(get(r), get(d), I32_ADD, simd(V128_LOAD), 4, 0, set(qv[a])));
        gRows.forEach((r, b) => {
          f.emit(get(r), get(d), I32_ADD, simd(V128_LOAD), 4, 0, set(gv));
          qv.forEach((v, a) => f.emit(get(acc[a * TILE_GALLERY + b]), get(v), get(gv), simd(mul), simd(add), set(acc[a * TILE_GALLERY + b])));
        });
      });
      for (let a = 0; a < TILE_QUERIES; a++) {
        // row = out + ((qi + a) * ng + gi) * 8; the 4 results at row + b * 8
        f.emit(get(out), get(qi), konst(a), I32_ADD, get(ng), I32_MUL, get(gi), I32_ADD, konst(8), I32_MUL, I32_ADD, set(row));
        for (let b = 0; b < TILE_GALLERY; b++) {
          const x = acc[a * TILE_GALLERY + b];
          const lane = (i: number) => [...get(x), ...simd(float32 ? F32X4_EXTRACT_LANE : F64X2_EXTRACT_LANE), i];
          // float64: lane 0 + lane 1; float32: (0 + 1) + (2 + 3), then widened
          if (float32) f.emit(get(row), lane(0), lane(1), F32_ADD, lane(2), lane(3), F32_ADD, F32_ADD, F64_PROMOTE_F32, F64_STORE, 3, ...leb(b * 8));
          else f.emit(get(row), lane(0), lane(1), F64_ADD, F64_STORE, 3, ...leb(b * 8));
        }
      }
    });
  });
  return f.bytes();
}

/** widen(src, dst, rows, dim, stride): float32 rows of dim values (packed) to float64 rows of stride bytes. */
function widenFunction(): number[] {
  const f = new FunctionBody(5);
  const [src, dst, rows, dim, stride] = [0, 1, 2, 3, 4];
  const r = f.local(I32), d = f.local(I32), from = f.local(I32), to = f.local(I32);
  const { get, set } = { get: f.get.bind(f), set: f.set.bind(f) };
  f.forLoop(r, rows, 1, () => {
    f.emit(get(src), get(r), get(dim), I32_MUL, konst(4), I32_MUL, I32_ADD, set(from));
    f.emit(get(dst), get(r), get(stride), I32_MUL, I32_ADD, set(to));
    f.forLoop(d, dim, 1, () => {
      f.emit(get(to), get(d), konst(8), I32_MUL, I32_ADD, get(from), get(d), konst(4), I32_MUL, I32_ADD, F32_LOAD, 2, 0, F64_PROMOTE_F32, F64_STORE, 3, 0);
    });
  });
  return f.bytes();
}

function kernelModule(): Uint8Array<ArrayBuffer> {
  const section = (id: number, entries: number[][]) => [id, ...sized([...leb(entries.length), ...entries.flat()])];
  const signature = (params: number) => [0x60, params, ...new Array(params).fill(I32), 0]; // (i32 x params) -> ()
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
    ...section(1, [signature(6), signature(5)]),
    ...section(3, [[0], [0], [1]]), // dots and dots32 have type 0, widen type 1
    ...section(5, [[0x00, 1]]), // memory: at least one 64 KiB page, grown by the caller
    ...section(7, [[...name('dots'), 0x00, 0], [...name('dots32'), 0x00, 1], [...name('widen'), 0x00, 2], [...name('memory'), 0x02, 0]]),
    ...section(10, [dotsFunction(false), dotsFunction(true), widenFunction()]),
  ]);
}

let compiled: WebAssembly.Module | undefined;

export interface DotKernel {
  memory: WebAssembly.Memory;
  dots: (q: number, nq: number, g: number, ng: number, stride: number, out: number) => void;
  dots32: (q: number, nq: number, g: number, ng: number, stride: number, out: number) => void;
  widen: (src: number, dst: number, rows: number, dim: number, stride: number) => void;
}

/** A new instance of the kernel with its own memory of at least `bytes`. */
export function dotKernel(bytes: number): DotKernel {
  compiled ??= new WebAssembly.Module(kernelModule());
  const instance = new WebAssembly.Instance(compiled, {});
  const memory = instance.exports.memory as WebAssembly.Memory;
  const pages = Math.ceil(bytes / 65536) - memory.buffer.byteLength / 65536;
  if (pages > 0) memory.grow(pages);
  const { dots, dots32, widen } = instance.exports as unknown as Omit<DotKernel, 'memory'>;
  return { memory, dots, dots32, widen };
}
