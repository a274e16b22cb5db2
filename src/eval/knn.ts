/**
 * Exact k-nearest-neighbour search over float32 rows (C order, `dim` values a row), blocked so that a
 * chunk of gallery rows stays in cache while every query passes over it, with 4 x 4 register tiles.
 *
 * Exactness: the inputs are float32 but every product and sum is taken in float64 (JavaScript's
 * arithmetic), so the ranking is that of the exact dot products up to float64 rounding; float32 BLAS
 * (numpy's `e @ e.T`) rounds each sum to 24 bits and can swap neighbours whose similarities differ by
 * about 1e-7. Ties (equal scores) are broken by gallery index, lower first.
 *
 * Scores (higher is nearer): cosine `q.g / |g|` (the query's own norm does not change its ranking);
 * euclidean `2 q.g - |g|^2` (= |q|^2 - |q - g|^2, the same ranking as the distance).
 */

import os from 'node:os';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';

export type Metric = 'cosine' | 'euclidean';

export interface KnnOptions {
  metric: Metric;
  /** Queries are the gallery's own rows: query i never gets gallery row i (excluded by index, not by distance 0). */
  excludeSelf?: boolean;
  /** Called after each gallery chunk with the fraction done (0..1]. */
  onProgress?: (done: number) => void;
}

export interface Neighbours {
  k: number;
  /** [queries, k] gallery indices, nearest first; -1 where the gallery has fewer than k candidates. */
  indices: Int32Array;
  /** [queries, k] scores as above, -Infinity where there is no neighbour. */
  scores: Float64Array;
}

/** Gallery rows per chunk: 256 rows of 512 float32 values are 512 KiB, about one L2 cache. */
function chunkRows(dim: number): number {
  return Math.max(4, Math.min(1024, Math.floor((512 * 1024) / (4 * Math.max(1, dim)) / 4) * 4));
}

/** The k nearest gallery rows of every query row, on this thread. */
export function knn(queries: Float32Array, gallery: Float32Array, dim: number, k: number, options: KnnOptions): Neighbours {
  const { nq } = checkShapes(queries, gallery, dim, options);
  const indices = new Int32Array(nq * k).fill(-1);
  const scores = new Float64Array(nq * k).fill(-Infinity);
  searchRows(queries, gallery, dim, k, options, 0, nq, indices, scores, options.onProgress);
  return { k, indices, scores };
}

/** Below this many multiply-adds, starting threads costs more than it saves. */
const PARALLEL_WORK = 2e8;

/**
 * `knn` over `threads` worker threads (default: the available cores), each taking a share of the
 * queries; the same result as `knn`, bit for bit (each query still sees the gallery in order). Runs on
 * this thread when the work is small, for one thread, or when this module is not compiled JavaScript
 * (tests run the TypeScript source, which a worker cannot load).
 */
export async function knnParallel(queries: Float32Array, gallery: Float32Array, dim: number, k: number, options: KnnOptions & { threads?: number }): Promise<Neighbours> {
  const { nq, ng } = checkShapes(queries, gallery, dim, options);
  const threads = Math.min(options.threads ?? os.availableParallelism(), Math.ceil(nq / 4));
  if (threads <= 1 || nq * ng * dim < PARALLEL_WORK || !import.meta.url.endsWith('.js')) return knn(queries, gallery, dim, k, options);

  const shared = (a: Float32Array) => {
    if (a.buffer instanceof SharedArrayBuffer) return a;
    const copy = new Float32Array(new SharedArrayBuffer(a.byteLength));
    copy.set(a);
    return copy;
  };
  const q = shared(queries);
  const g = options.excludeSelf && queries === gallery ? q : shared(gallery);
  const indices = new Int32Array(new SharedArrayBuffer(nq * k * 4)).fill(-1);
  const scores = new Float64Array(new SharedArrayBuffer(nq * k * 8)).fill(-Infinity);
  // shares in multiples of 4 rows, so the register tiles are the same as on one thread
  const share = Math.ceil(nq / threads / 4) * 4;
  const done = new Float64Array(threads);
  await Promise.all(Array.from({ length: threads }, (_, t) => new Promise<void>((resolve, reject) => {
    const job: WorkerJob = {
      kind: 'datum-knn', queries: q, gallery: g, dim, k, metric: options.metric, excludeSelf: options.excludeSelf ?? false,
      from: Math.min(nq, t * share), to: Math.min(nq, (t + 1) * share), indices, scores,
    };
    const worker = new Worker(new URL(import.meta.url), { workerData: job });
    worker.on('message', (fraction: number) => {
      done[t] = fraction * (job.to - job.from);
      options.onProgress?.(done.reduce((a, b) => a + b, 0) / nq);
    });
    worker.on('error', reject);
    worker.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`knn worker exited with code ${code}`))));
  })));
  return { k, indices: new Int32Array(indices), scores: new Float64Array(scores) };
}

interface WorkerJob {
  kind: 'datum-knn';
  queries: Float32Array; gallery: Float32Array; dim: number; k: number; metric: Metric; excludeSelf: boolean;
  from: number; to: number; indices: Int32Array; scores: Float64Array;
}

if (!isMainThread && (workerData as WorkerJob | undefined)?.kind === 'datum-knn') {
  const job = workerData as WorkerJob;
  searchRows(job.queries, job.gallery, job.dim, job.k, job, job.from, job.to, job.indices, job.scores, (f) => parentPort!.postMessage(f));
}

function checkShapes(queries: Float32Array, gallery: Float32Array, dim: number, options: KnnOptions): { nq: number; ng: number } {
  const nq = queries.length / dim;
  const ng = gallery.length / dim;
  if (!Number.isInteger(nq) || !Number.isInteger(ng)) throw new Error(`knn: arrays are not whole rows of ${dim}`);
  if (options.excludeSelf && nq !== ng) throw new Error('knn: excludeSelf needs the queries to be the gallery');
  return { nq, ng };
}

/** Fills the lists of queries [from, to) (their slots in indices/scores, which start at -1/-Infinity). */
function searchRows(queries: Float32Array, gallery: Float32Array, dim: number, k: number, options: KnnOptions,
  from: number, to: number, indices: Int32Array, scores: Float64Array, onProgress?: (done: number) => void): void {
  const ng = gallery.length / dim;
  const excludeSelf = options.excludeSelf ?? false;
  // per gallery row: the factor on q.g and the term added (cosine: 1/|g| and 0; euclidean: 2 and -|g|^2)
  const scale = new Float64Array(ng);
  const offset = new Float64Array(ng);
  for (let g = 0; g < ng; g++) {
    let sq = 0;
    for (let d = g * dim, end = d + dim; d < end; d++) sq += gallery[d] * gallery[d];
    if (options.metric === 'cosine') scale[g] = 1 / Math.sqrt(sq);
    else { scale[g] = 2; offset[g] = -sq; }
  }

  /** Offers gallery row g with dot product dot to query q's list (kept sorted, nearest first). */
  const offer = (q: number, g: number, dot: number) => {
    if (excludeSelf && q === g) return;
    const s = dot * scale[g] + offset[g];
    const base = q * k;
    // gallery rows come in increasing order, so an equal score never displaces an earlier (lower) index
    if (!(s > scores[base + k - 1])) return;
    let j = k - 1;
    while (j > 0 && scores[base + j - 1] < s) {
      scores[base + j] = scores[base + j - 1];
      indices[base + j] = indices[base + j - 1];
      j--;
    }
    scores[base + j] = s;
    indices[base + j] = g;
  };

  const tile = new Float64Array(16);
  const chunk = chunkRows(dim);
  for (let g0 = 0; g0 < ng; g0 += chunk) {
    const g1 = Math.min(ng, g0 + chunk);
    for (let q = from; q < to; q += 4) {
      const qn = Math.min(4, to - q);
      for (let g = g0; g < g1; g += 4) {
        const gn = Math.min(4, g1 - g);
        if (qn === 4 && gn === 4) {
          dot4x4(queries, q * dim, gallery, g * dim, dim, tile);
          for (let a = 0; a < 4; a++) for (let b = 0; b < 4; b++) offer(q + a, g + b, tile[a * 4 + b]);
        } else {
          for (let a = 0; a < qn; a++) for (let b = 0; b < gn; b++) offer(q + a, g + b, dot(queries, (q + a) * dim, gallery, (g + b) * dim, dim));
        }
      }
    }
    onProgress?.(g1 / ng);
  }
}

function dot(x: Float32Array, xi: number, y: Float32Array, yi: number, dim: number): number {
  let s = 0;
  for (let d = 0; d < dim; d++) s += x[xi + d] * y[yi + d];
  return s;
}

/** out[a * 4 + b] = row a of x (from xi) . row b of y (from yi), rows of dim values. */
function dot4x4(x: Float32Array, xi: number, y: Float32Array, yi: number, dim: number, out: Float64Array): void {
  let s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0;
  let s20 = 0, s21 = 0, s22 = 0, s23 = 0, s30 = 0, s31 = 0, s32 = 0, s33 = 0;
  const x1 = xi + dim, x2 = x1 + dim, x3 = x2 + dim;
  const y1 = yi + dim, y2 = y1 + dim, y3 = y2 + dim;
  for (let d = 0; d < dim; d++) {
    const a0 = x[xi + d], a1 = x[x1 + d], a2 = x[x2 + d], a3 = x[x3 + d];
    const b0 = y[yi + d], b1 = y[y1 + d], b2 = y[y2 + d], b3 = y[y3 + d];
    s00 += a0 * b0; s01 += a0 * b1; s02 += a0 * b2; s03 += a0 * b3;
    s10 += a1 * b0; s11 += a1 * b1; s12 += a1 * b2; s13 += a1 * b3;
    s20 += a2 * b0; s21 += a2 * b1; s22 += a2 * b2; s23 += a2 * b3;
    s30 += a3 * b0; s31 += a3 * b1; s32 += a3 * b2; s33 += a3 * b3;
  }
  out[0] = s00; out[1] = s01; out[2] = s02; out[3] = s03;
  out[4] = s10; out[5] = s11; out[6] = s12; out[7] = s13;
  out[8] = s20; out[9] = s21; out[10] = s22; out[11] = s23;
  out[12] = s30; out[13] = s31; out[14] = s32; out[15] = s33;
}
