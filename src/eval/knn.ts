/**
 * Exact k-nearest-neighbour search over float32 rows (C order, `dim` values a row).
 *
 * The rows are taken in blocks (a block of gallery rows stays in cache while a block of queries passes
 * over it); the dot products of a pair of blocks come from a WebAssembly SIMD kernel (knn-wasm.ts)
 * and are then offered to each query's list. One-vs-rest (the queries are the gallery) computes each
 * pair of rows once and offers the product to both rows' lists, half the work.
 *
 * Precision: the result is the ranking by float64 dot products of the float32 inputs (every product of
 * two float32 values is exact in float64; the sums are float64, even and odd dimensions apart, as
 * `dotLanes`), found in two passes:
 * 1. a float32 pass (twice the speed of float64 SIMD) keeps the k + CANDIDATES_EXTRA best rows of
 *    each query by float32 dot products, whose error is at most gamma * |q| * |g| (gamma about
 *    (m + 4) * 2^-24, m = dim / 4 products summed per SIMD lane, plus float64's rounding);
 * 2. those candidates are scored again in float64 and sorted; a query whose last candidate's float32
 *    score, plus that error bound, is not below its k-th float64 score (a row outside the candidates
 *    might be nearer: near-ties, duplicates) is searched again in float64 against the whole gallery.
 * So the float32 pass changes the speed, never the answer. Float32 BLAS (numpy's `e @ e.T`) rounds each
 * partial sum to 24 bits (about 1e-7) and so can swap neighbours whose similarities differ by less
 * (bench/eval-recall.mjs, 10,000 x 512, cosine: 0 of 10,000 top-8 lists differed from numpy's).
 * Values beyond 2^48 or nonzero below 2^-60 in magnitude (where float32 sums could overflow or lose
 * their relative precision) skip the float32 pass.
 * Ties (equal scores) go to the lower gallery index, whatever order the scores are computed in.
 *
 * Deterministic: each score is a fixed sum, each list the k best under (score desc, index asc), so
 * `knn`, `knnParallel` and any thread count or block size give the same lists, bit for bit.
 *
 * Scores (higher is nearer): cosine `q.g / |g|` (the query's own norm does not change its ranking);
 * euclidean `2 q.g - |g|^2` (= |q|^2 - |q - g|^2, the same ranking as the distance).
 *
 * Memory: each searching thread holds two blocks of rows (about 1 MiB) and its own lists for every
 * query (queries x (k + CANDIDATES_EXTRA) x 12 bytes), merged at the end; nothing the size of the data
 * is copied into wasm memory, so there is no limit from its 4 GiB.
 */

import os from 'node:os';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { dotKernel, TILE_GALLERY } from './knn-wasm.js';

export type Metric = 'cosine' | 'euclidean';

export interface KnnOptions {
  metric: Metric;
  /** Queries are the gallery's own rows: query i never gets gallery row i (excluded by index, not by distance 0). */
  excludeSelf?: boolean;
  /** Called as the work progresses with the fraction done (0..1]. */
  onProgress?: (done: number) => void;
  /** Rows per block, a multiple of 4 (default: about 512 KiB of widened rows). The result does not depend on it. */
  blockRows?: number;
}

export interface Neighbours {
  k: number;
  /** [queries, k] gallery indices, nearest first; -1 where the gallery has fewer than k candidates. */
  indices: Int32Array;
  /** [queries, k] scores as above, -Infinity where there is no neighbour. */
  scores: Float64Array;
}

/** What a searching thread needs (a worker gets it as workerData, so no object identity in it). */
interface Search {
  queries: Float32Array;
  gallery: Float32Array;
  dim: number;
  k: number;
  metric: Metric;
  excludeSelf: boolean;
  /** The queries are the gallery (`queries` is then ignored): each pair of rows is computed once. */
  symmetric: boolean;
  /** Rows per block, or 0 for blockRowsOf's default. */
  blockRows: number;
  /** The float32 kernel (candidates) instead of the float64 one. */
  float32: boolean;
  /** The gallery row each query is, for excludeSelf, when not its own index (queries searched again). */
  selfRows?: Int32Array;
}

/** Rows per block: 512 KiB of rows (about one L2 cache), in multiples of 4 rows. */
function defaultBlockRows(rowBytes: number): number {
  return Math.max(4, Math.min(512, Math.floor((512 * 1024) / rowBytes / 4) * 4));
}

/** Bytes a row takes in wasm memory: dim rounded up to whole 16-byte SIMD vectors. */
const rowBytes = (dim: number, float32: boolean) => (float32 ? Math.ceil(dim / 4) * 16 : Math.ceil(dim / 2) * 16);
const roundUp = (n: number) => Math.ceil(n / TILE_GALLERY) * TILE_GALLERY;

/** The k nearest gallery rows of every query row, on this thread. */
export function knn(queries: Float32Array, gallery: Float32Array, dim: number, k: number, options: KnnOptions): Neighbours {
  const search = makeSearch(queries, gallery, dim, k, options);
  const fast = float32Search(search);
  if (!fast) return { k, ...searchHere(search, options.onProgress) };
  const { lists, again } = refine(search, searchHere(fast, options.onProgress), fast.k);
  if (again.length) place(lists, again, searchHere(againSearch(search, again)), k);
  return { k, ...lists };
}

/** Below this many multiply-adds, starting threads costs more than it saves. */
const PARALLEL_WORK = 2e8;

/**
 * `knn` over `threads` worker threads (default: the available cores) taking blocks of queries from a
 * shared counter, each with its own lists, merged at the end; the same result as `knn`, bit for bit.
 * Runs on this thread when the work is small, for one thread, or when this module is not compiled
 * JavaScript (tests run the TypeScript source, which a worker cannot load).
 */
export async function knnParallel(queries: Float32Array, gallery: Float32Array, dim: number, k: number, options: KnnOptions & { threads?: number }): Promise<Neighbours> {
  const search = makeSearch(queries, gallery, dim, k, options);
  const threads = options.threads ?? os.availableParallelism();
  const fast = float32Search(search);
  if (!fast) return { k, ...(await searchThreads(search, threads, options.onProgress)) };
  const { lists, again } = refine(search, await searchThreads(fast, threads, options.onProgress), fast.k);
  if (again.length) place(lists, again, await searchThreads(againSearch(search, again), threads), k);
  return { k, ...lists };
}

/** The search on this thread. */
function searchHere(search: Search, onProgress?: (done: number) => void): Lists {
  const lists = emptyLists(rowsOf(search).nq, search.k);
  const total = totalWork(search);
  let unit = 0, done = 0;
  searchUnits(search, lists, () => unit++, (work) => onProgress?.((done += work) / total));
  return lists;
}

/** The search on worker threads (or on this one, see knnParallel). */
async function searchThreads(search: Search, threads: number, onProgress?: (done: number) => void): Promise<Lists> {
  const { nq, ng } = rowsOf(search);
  const k = search.k;
  threads = Math.min(threads, unitCount(search));
  if (threads <= 1 || nq * ng * search.dim < PARALLEL_WORK || !import.meta.url.endsWith('.js')) return searchHere(search, onProgress);

  const shared = (a: Float32Array) => {
    if (a.buffer instanceof SharedArrayBuffer) return a;
    const copy = new Float32Array(new SharedArrayBuffer(a.byteLength));
    copy.set(a);
    return copy;
  };
  search = { ...search, gallery: shared(search.gallery), queries: search.symmetric ? new Float32Array(0) : shared(search.queries) };
  const counter = new Int32Array(new SharedArrayBuffer(4));
  const total = totalWork(search);
  let done = 0;
  const parts = await Promise.all(Array.from({ length: threads }, () => new Promise<Lists>((resolve, reject) => {
    const lists: Lists = {
      indices: new Int32Array(new SharedArrayBuffer(nq * k * 4)).fill(-1),
      scores: new Float64Array(new SharedArrayBuffer(nq * k * 8)).fill(-Infinity),
    };
    const job: WorkerJob = { kind: 'datum-knn', search, counter, lists };
    const worker = new Worker(new URL(import.meta.url), { workerData: job });
    worker.on('message', (work: number) => onProgress?.((done += work) / total));
    worker.on('error', reject);
    worker.on('exit', (code) => (code === 0 ? resolve(lists) : reject(new Error(`knn worker exited with code ${code}`))));
  })));
  return mergeLists(parts, nq, k);
}

/** Candidates kept by the float32 pass beyond the k asked for. */
const CANDIDATES_EXTRA = 8;

/** The float32 candidate pass for `search`, or undefined when the values are outside its safe range. */
function float32Search(search: Search): Search | undefined {
  for (const rows of search.symmetric ? [search.gallery] : [search.queries, search.gallery]) {
    for (let i = 0; i < rows.length; i++) {
      const v = Math.abs(rows[i]);
      if (v > 2 ** 48 || (v < 2 ** -60 && v !== 0)) return undefined;
    }
  }
  return { ...search, k: search.k + CANDIDATES_EXTRA, float32: true };
}

/**
 * The k best of each query's float32 candidates by float64 score, and the queries whose answer the
 * candidates do not prove (see the module comment) to search again.
 */
function refine(search: Search, candidates: Lists, kk: number): { lists: Lists; again: number[] } {
  const { dim, k, gallery } = search;
  const queries = search.symmetric ? gallery : search.queries;
  const { nq, ng } = rowsOf(search);
  const { scale, offset } = rowTerms(gallery, dim, search.metric);
  let scaledNorm = 0, offsetMax = 0;
  for (let g = 0; g < ng; g++) {
    scaledNorm = Math.max(scaledNorm, Math.abs(scale[g]) * Math.sqrt(dotLanes(gallery, g * dim, gallery, g * dim, dim)));
    offsetMax = Math.max(offsetMax, Math.abs(offset[g]));
  }
  // float32 sums: m + 2 roundings for each product (m a lane); float64 sums (both sides'): dim + 2; slack
  const lanes = Math.ceil(dim / 4) + 4;
  const gamma = (lanes * 2 ** -24) / (1 - lanes * 2 ** -24) + (dim + 8) * 2 ** -52;
  const lists = emptyLists(nq, k);
  const again: number[] = [];
  for (let q = 0; q < nq; q++) {
    // the candidates rescored in float64 go into q's list, kept sorted as in searchUnits
    let found = 0;
    for (let i = q * kk; i < (q + 1) * kk && candidates.indices[i] >= 0; i++) {
      const g = candidates.indices[i];
      const score = dotLanes(queries, q * dim, gallery, g * dim, dim) * scale[g] + offset[g];
      if (!(score > -Infinity)) continue;
      found++;
      let j = q * k + k - 1;
      if (!(score > lists.scores[j] || (score === lists.scores[j] && g < lists.indices[j]))) continue;
      while (j > q * k && (lists.scores[j - 1] < score || (lists.scores[j - 1] === score && lists.indices[j - 1] > g))) {
        lists.scores[j] = lists.scores[j - 1];
        lists.indices[j] = lists.indices[j - 1];
        j--;
      }
      lists.scores[j] = score;
      lists.indices[j] = g;
    }
    if (candidates.indices[(q + 1) * kk - 1] < 0) continue; // every row with a score is a candidate
    const bound = gamma * Math.sqrt(dotLanes(queries, q * dim, queries, q * dim, dim)) * scaledNorm + 2 ** -50 * offsetMax;
    if (!(found >= k && candidates.scores[(q + 1) * kk - 1] + bound < lists.scores[q * k + k - 1])) again.push(q);
  }
  return { lists, again };
}

/** The float64 search of the queries `again` (indices into search's queries) against the whole gallery. */
function againSearch(search: Search, again: number[]): Search {
  const { dim } = search;
  const from = search.symmetric ? search.gallery : search.queries;
  const queries = new Float32Array(again.length * dim);
  again.forEach((q, i) => queries.set(from.subarray(q * dim, (q + 1) * dim), i * dim));
  return { ...search, queries, symmetric: false, float32: false, selfRows: Int32Array.from(again) };
}

/** Copies the lists of the queries searched again into theirs. */
function place(lists: Lists, again: number[], found: Lists, k: number): void {
  again.forEach((q, i) => {
    lists.indices.set(found.indices.subarray(i * k, (i + 1) * k), q * k);
    lists.scores.set(found.scores.subarray(i * k, (i + 1) * k), q * k);
  });
}

interface WorkerJob { kind: 'datum-knn'; search: Search; counter: Int32Array; lists: Lists }

function makeSearch(queries: Float32Array, gallery: Float32Array, dim: number, k: number, options: KnnOptions): Search {
  const nq = queries.length / dim;
  const ng = gallery.length / dim;
  if (!Number.isInteger(nq) || !Number.isInteger(ng)) throw new Error(`knn: arrays are not whole rows of ${dim}`);
  if (options.excludeSelf && nq !== ng) throw new Error('knn: excludeSelf needs the queries to be the gallery');
  const blockRows = options.blockRows ?? 0; // 0: the default for the pass's row size
  if (options.blockRows !== undefined && !(blockRows > 0 && blockRows % TILE_GALLERY === 0)) throw new Error(`knn: blockRows must be a positive multiple of ${TILE_GALLERY}`);
  return { queries, gallery, dim, k, metric: options.metric, excludeSelf: options.excludeSelf ?? false, symmetric: queries === gallery, blockRows, float32: false };
}

const blockRowsOf = (s: Search) => s.blockRows || defaultBlockRows(rowBytes(s.dim, s.float32));
const rowsOf = (s: Search) => ({ nq: (s.symmetric ? s.gallery : s.queries).length / s.dim, ng: s.gallery.length / s.dim });
/**
 * A unit of work: in one-vs-rest a block of rows against the blocks from its own on (the pairs with
 * the later rows); else one block of queries against one block of the gallery, so that a few queries
 * against a large gallery still make work for every thread.
 */
function unitCount(s: Search): number {
  const { nq, ng } = rowsOf(s);
  const B = blockRowsOf(s);
  return s.symmetric ? Math.ceil(nq / B) : Math.ceil(nq / B) * Math.ceil(ng / B);
}
/** The query block and the gallery blocks [from, to) of unit `unit`. */
function unitBlocks(s: Search, unit: number): { query: number; from: number; to: number } {
  const blocks = Math.ceil(rowsOf(s).ng / blockRowsOf(s));
  if (s.symmetric) return { query: unit, from: unit, to: blocks };
  return { query: Math.floor(unit / blocks), from: unit % blocks, to: unit % blocks + 1 };
}
/** Pairs of rows computed by unit `unit`, for progress. */
function unitWork(s: Search, unit: number): number {
  const { nq, ng } = rowsOf(s);
  const B = blockRowsOf(s);
  const { query, from, to } = unitBlocks(s, unit);
  return Math.min(B, nq - query * B) * (Math.min(ng, to * B) - from * B);
}
function totalWork(s: Search): number {
  let total = 0;
  for (let u = 0; u < unitCount(s); u++) total += unitWork(s, u);
  return Math.max(1, total);
}

interface Lists { indices: Int32Array; scores: Float64Array }

function emptyLists(nq: number, k: number): Lists {
  return { indices: new Int32Array(nq * k).fill(-1), scores: new Float64Array(nq * k).fill(-Infinity) };
}

/** Per gallery row: the factor on q.g and the term added (cosine: 1/|g| and 0; euclidean: 2 and -|g|^2). */
export function rowTerms(rows: Float32Array, dim: number, metric: Metric): { scale: Float64Array; offset: Float64Array } {
  const n = rows.length / dim;
  const scale = new Float64Array(n);
  const offset = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    let sq = 0;
    for (let d = r * dim, end = d + dim; d < end; d++) sq += rows[d] * rows[d];
    if (metric === 'cosine') scale[r] = 1 / Math.sqrt(sq);
    else { scale[r] = 2; offset[r] = -sq; }
  }
  return { scale, offset };
}

/**
 * Searches the units that `nextUnit` hands out (until it gives one past the last) into `lists`,
 * reporting each unit's pairs to `onUnit`.
 */
function searchUnits(s: Search, lists: Lists, nextUnit: () => number, onUnit: (work: number) => void): void {
  const { dim, k, symmetric, excludeSelf, float32, selfRows } = s;
  const B = blockRowsOf(s);
  const queries = symmetric ? s.gallery : s.queries;
  const { nq, ng } = rowsOf(s);
  const { scale, offset } = rowTerms(s.gallery, dim, s.metric);
  const { indices, scores } = lists;
  const bytes = rowBytes(dim, float32);
  // wasm memory: the query block and the gallery block, the block of dot products (float64), float32 staging
  const qAt = 0, gAt = B * bytes, outAt = 2 * B * bytes, stageAt = outAt + B * B * 8;
  const kernel = dotKernel(stageAt + B * dim * 4);
  const heap = new Float64Array(kernel.memory.buffer);
  const heap32 = new Float32Array(kernel.memory.buffer);
  const stage = new Float32Array(kernel.memory.buffer, stageAt, B * dim);
  const dots = float32 ? kernel.dots32 : kernel.dots;

  /** Rows [from, from + n) of `rows` at byte `at` (float32, or widened to float64), zero padded to whole tiles. */
  const load = (rows: Float32Array, from: number, n: number, at: number) => {
    new Uint8Array(kernel.memory.buffer, at, roundUp(n) * bytes).fill(0);
    if (!float32) {
      stage.set(rows.subarray(from * dim, (from + n) * dim));
      kernel.widen(stageAt, at, n, dim, bytes);
    } else if (bytes === dim * 4) {
      heap32.set(rows.subarray(from * dim, (from + n) * dim), at / 4);
    } else {
      for (let r = 0; r < n; r++) heap32.set(rows.subarray((from + r) * dim, (from + r + 1) * dim), (at + r * bytes) / 4);
    }
  };

  /**
   * Puts gallery row g with score sc in query q's list (sorted nearest first; ties to the lower index).
   * Each thread takes its units in increasing order, so a list now gets its offers in increasing index
   * order, but the comparisons do not rely on it.
   */
  const insert = (q: number, g: number, sc: number) => {
    const base = q * k;
    let j = base + k - 1;
    while (j > base && (scores[j - 1] < sc || (scores[j - 1] === sc && indices[j - 1] > g))) {
      scores[j] = scores[j - 1];
      indices[j] = indices[j - 1];
      j--;
    }
    scores[j] = sc;
    indices[j] = g;
  };
  // NaN and -Infinity never enter a list (the comparisons are false for them)
  const better = (q: number, g: number, sc: number) => {
    const last = q * k + k - 1;
    return sc > scores[last] || (sc === scores[last] && g < indices[last]);
  };

  const units = unitCount(s);
  let loaded = -1; // the query block in wasm memory
  for (let unit = nextUnit(); unit < units; unit = nextUnit()) {
    const { query, from, to } = unitBlocks(s, unit);
    const q0 = query * B, qn = Math.min(B, nq - q0);
    if (query !== loaded) load(queries, q0, qn, qAt);
    loaded = query;
    for (let block = from; block < to; block++) {
      const g0 = block * B, gn = Math.min(B, ng - g0), width = roundUp(gn);
      const diagonal = symmetric && block === query;
      if (!diagonal) load(s.gallery, g0, gn, gAt);
      dots(qAt, roundUp(qn), diagonal ? qAt : gAt, width, bytes, outAt);
      for (let a = 0; a < qn; a++) {
        const q = q0 + a, row = outAt / 8 + a * width, self = selfRows ? selfRows[q] : q;
        const qScale = scale[q], qOffset = offset[q];
        // a diagonal block holds each pair twice (a, b and b, a): take b >= a
        for (let b = diagonal ? a : 0; b < gn; b++) {
          const g = g0 + b, dot = heap[row + b];
          if (g === self) {
            if (!excludeSelf && better(q, g, dot * scale[g] + offset[g])) insert(q, g, dot * scale[g] + offset[g]);
            continue;
          }
          const sc = dot * scale[g] + offset[g];
          if (better(q, g, sc)) insert(q, g, sc);
          if (symmetric) {
            const back = dot * qScale + qOffset;
            if (better(g, q, back)) insert(g, q, back);
          }
        }
      }
    }
    onUnit(unitWork(s, unit));
  }
}

/** The k best of each query's lists from several threads (each sorted, no gallery row in two). */
function mergeLists(parts: Lists[], nq: number, k: number): Lists {
  if (parts.length === 1) return { indices: new Int32Array(parts[0].indices), scores: new Float64Array(parts[0].scores) };
  const out = emptyLists(nq, k);
  const at = new Int32Array(parts.length);
  for (let q = 0; q < nq; q++) {
    at.fill(0);
    for (let slot = 0; slot < k; slot++) {
      let best = -1, bestScore = -Infinity, bestIndex = -1;
      for (let p = 0; p < parts.length; p++) {
        if (at[p] >= k) continue;
        const i = parts[p].indices[q * k + at[p]];
        if (i < 0) continue;
        const sc = parts[p].scores[q * k + at[p]];
        if (best < 0 || sc > bestScore || (sc === bestScore && i < bestIndex)) { best = p; bestScore = sc; bestIndex = i; }
      }
      if (best < 0) break;
      out.indices[q * k + slot] = bestIndex;
      out.scores[q * k + slot] = bestScore;
      at[best]++;
    }
  }
  return out;
}

/** The float64 kernel's dot product in JavaScript: even and odd dimensions summed apart, then added. */
export function dotLanes(x: Float32Array, xi: number, y: Float32Array, yi: number, dim: number): number {
  let even = 0, odd = 0, d = 0;
  for (; d + 1 < dim; d += 2) {
    even += x[xi + d] * y[yi + d];
    odd += x[xi + d + 1] * y[yi + d + 1];
  }
  if (d < dim) even += x[xi + d] * y[yi + d];
  return even + odd;
}

// a worker started by knnParallel (at the end of the module: it uses the functions above)
if (!isMainThread && (workerData as WorkerJob | undefined)?.kind === 'datum-knn') {
  const { search, counter, lists } = workerData as WorkerJob;
  searchUnits(search, lists, () => Atomics.add(counter, 0, 1), (work) => parentPort!.postMessage(work));
}
