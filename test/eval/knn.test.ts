import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { dotLanes, knn, knnParallel, type Metric, type Neighbours } from '../../src/eval/knn.js';
import { ROOT } from '../helpers/corpus.js';

function random(seed: number): () => number {
  return () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32) - 0.5;
}
const rows = (n: number, dim: number, seed: number) => Float32Array.from({ length: n * dim }, random(seed));
const list = (r: Neighbours, q: number) => [...r.indices.subarray(q * r.k, (q + 1) * r.k)];

/**
 * Brute force: every gallery row scored (the kernel's sum, `dotLanes`, so scores can be compared
 * exactly), sorted by score then index, self left out when asked.
 */
function bruteForce(queries: Float32Array, gallery: Float32Array, dim: number, k: number, metric: Metric, excludeSelf: boolean) {
  const nq = queries.length / dim, ng = gallery.length / dim;
  return Array.from({ length: nq }, (_, q) => {
    const scored = [];
    for (let g = 0; g < ng; g++) {
      if (excludeSelf && g === q) continue;
      const dot = dotLanes(queries, q * dim, gallery, g * dim, dim);
      let sq = 0;
      for (let d = 0; d < dim; d++) sq += gallery[g * dim + d] ** 2;
      scored.push({ g, score: metric === 'cosine' ? dot * (1 / Math.sqrt(sq)) + 0 : dot * 2 - sq });
    }
    scored.sort((a, b) => b.score - a.score || a.g - b.g);
    return scored.slice(0, k);
  });
}

/** The ranking by plain float64 arithmetic (one running sum, the textbook formulas), for no-tie data. */
function float64Ranking(queries: Float32Array, gallery: Float32Array, dim: number, q: number, metric: Metric, excludeSelf: boolean): number[] {
  const ng = gallery.length / dim;
  const score = (g: number) => {
    let dot = 0, qq = 0, gg = 0;
    for (let d = 0; d < dim; d++) {
      dot += queries[q * dim + d] * gallery[g * dim + d];
      qq += queries[q * dim + d] ** 2;
      gg += gallery[g * dim + d] ** 2;
    }
    return metric === 'cosine' ? dot / Math.sqrt(qq * gg) : -(qq + gg - 2 * dot);
  };
  return [...Array(ng).keys()].filter((g) => !excludeSelf || g !== q).sort((a, b) => score(b) - score(a) || a - b);
}

function expectBruteForce(got: Neighbours, queries: Float32Array, gallery: Float32Array, dim: number, k: number, metric: Metric, excludeSelf: boolean) {
  // one dimension under cosine: every score is +-|q| up to rounding, near-ties everywhere
  const float64 = dim > 1 || metric === 'euclidean';
  const want = bruteForce(queries, gallery, dim, k, metric, excludeSelf);
  want.forEach((w, q) => {
    expect(list(got, q), `query ${q}`).toEqual([...w.map((x) => x.g), ...new Array(k - w.length).fill(-1)]);
    expect([...got.scores.subarray(q * k, (q + 1) * k)], `scores of query ${q}`).toEqual([...w.map((x) => x.score), ...new Array(k - w.length).fill(-Infinity)]);
    if (float64) expect(list(got, q).slice(0, w.length), `float64 ranking of query ${q}`).toEqual(float64Ranking(queries, gallery, dim, q, metric, excludeSelf).slice(0, k));
  });
}

describe('knn', () => {
  it('one-vs-rest: the brute-force lists and scores, odd sizes, several block sizes, both metrics', () => {
    for (const [n, dim] of [[61, 37], [23, 1], [30, 2], [45, 8]]) {
      const data = rows(n, dim, n + dim);
      for (const metric of ['cosine', 'euclidean'] as const) {
        for (const blockRows of [4, 12, 256]) {
          const got = knn(data, data, dim, 9, { metric, excludeSelf: true, blockRows });
          expectBruteForce(got, data, data, dim, 9, metric, true);
        }
      }
    }
  });

  it('separate queries: the brute-force lists, nothing excluded, and excludeSelf by index', () => {
    const dim = 13;
    const gallery = rows(50, dim, 1);
    const queries = rows(17, dim, 2);
    for (const metric of ['cosine', 'euclidean'] as const) {
      for (const blockRows of [4, 8, 64]) expectBruteForce(knn(queries, gallery, dim, 6, { metric, blockRows }), queries, gallery, dim, 6, metric, false);
    }
    // the same rows in another array: the symmetric path is not taken, the answer is the same
    const copy = new Float32Array(gallery);
    const a = knn(gallery, gallery, dim, 5, { metric: 'cosine', excludeSelf: true, blockRows: 8 });
    const b = knn(copy, gallery, dim, 5, { metric: 'cosine', excludeSelf: true, blockRows: 8 });
    expect(b.indices).toEqual(a.indices);
    expect(b.scores).toEqual(a.scores);
    // one-vs-rest with self kept: each row is its own nearest (cosine 1 is the maximum)
    const self = knn(gallery, gallery, dim, 3, { metric: 'cosine', blockRows: 8 });
    for (let q = 0; q < 50; q++) expect(list(self, q)[0]).toBe(q);
    expectBruteForce(self, gallery, gallery, dim, 3, 'cosine', false);
  });

  it('breaks ties by the lower gallery index, whichever block or direction a score comes from', () => {
    // 30 copies of one row and 10 of another: every score within a group is the same
    const dim = 5;
    const data = new Float32Array(40 * dim);
    for (let r = 0; r < 40; r++) for (let d = 0; d < dim; d++) data[r * dim + d] = r < 30 ? d + 1 : 5 - d;
    for (const blockRows of [4, 8, 40]) {
      for (const metric of ['cosine', 'euclidean'] as const) {
        const got = knn(data, data, dim, 12, { metric, excludeSelf: true, blockRows });
        expect(list(got, 0), `${metric} ${blockRows}`).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
        expect(list(got, 29)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
        expect(list(got, 35)).toEqual([30, 31, 32, 33, 34, 36, 37, 38, 39, 0, 1, 2]);
      }
    }
    // points on a line, euclidean: 1 and 7 tie for row 2 (x = 3), both at distance 2
    const xs = [0, 1, 3, 4, 6, 7, 10, 5];
    const line = Float32Array.from(xs.flatMap((x) => [x, 0]));
    const got = knn(line, line, 2, 7, { metric: 'euclidean', excludeSelf: true, blockRows: 4 });
    expect(list(got, 2)).toEqual([3, 1, 7, 0, 4, 5, 6]);
    expect(list(got, 7)).toEqual([3, 4, 2, 5, 1, 0, 6]);
  });

  it('is exact where float32 sums cannot tell the rows apart (near-ties searched again in float64)', () => {
    // 60 copies of a row, each with one value moved by -2..2 float32 steps: the scores of a query
    // differ by about 1e-9, far below the float32 sums' rounding (about 1e-7), far above float64's,
    // so the float32 candidates alone would be wrong
    const dim = 64;
    const base = rows(1, dim, 9);
    const gallery = new Float32Array(60 * dim);
    const value = new Float32Array(1);
    const bits = new Int32Array(value.buffer);
    for (let r = 0; r < 60; r++) {
      gallery.set(base, r * dim);
      value[0] = base[(r * 7) % dim];
      bits[0] += (r % 5) - 2;
      gallery[r * dim + ((r * 7) % dim)] = value[0];
    }
    const queries = rows(5, dim, 10);
    for (const metric of ['cosine', 'euclidean'] as const) {
      expectBruteForce(knn(queries, gallery, dim, 12, { metric, blockRows: 8 }), queries, gallery, dim, 12, metric, false);
    }
  });

  it('gives the same lists for values beyond the float32 pass\'s range (float64 only)', () => {
    const dim = 19;
    const data = rows(70, dim, 4);
    const big = Float32Array.from(data, (v) => v * 2 ** 50); // exact in float32 and in every float64 sum
    for (const metric of ['cosine', 'euclidean'] as const) {
      const a = knn(data, data, dim, 7, { metric, excludeSelf: true, blockRows: 8 });
      const b = knn(big, big, dim, 7, { metric, excludeSelf: true, blockRows: 8 });
      expect(b.indices).toEqual(a.indices);
      expect(Float64Array.from(b.scores, (x) => x / 2 ** (metric === 'cosine' ? 50 : 100))).toEqual(a.scores);
    }
  });

  it('pads with -1 and -Infinity when the gallery has fewer than k rows', () => {
    const gallery = Float32Array.from([1, 0, 0, 1, -1, 0]);
    const queries = Float32Array.from([0.9, 0.1]);
    const sep = knn(queries, gallery, 2, 5, { metric: 'cosine' });
    expect(list(sep, 0)).toEqual([0, 1, 2, -1, -1]);
    expect([...sep.scores.subarray(3)]).toEqual([-Infinity, -Infinity]);
    const own = knn(gallery, gallery, 2, 4, { metric: 'euclidean', excludeSelf: true });
    expect(list(own, 1)).toEqual([0, 2, -1, -1]);
    expect(own.scores[1 * 4 + 2]).toBe(-Infinity);
    const none = knn(new Float32Array(0), gallery, 2, 3, { metric: 'cosine' });
    expect(none.indices.length).toBe(0);
  });

  it('reports progress up to 1 and refuses arrays that are not whole rows', () => {
    const data = rows(40, 6, 3);
    const seen: number[] = [];
    knn(data, data, 6, 3, { metric: 'cosine', excludeSelf: true, blockRows: 8, onProgress: (f) => seen.push(f) });
    expect(seen.length).toBe(5);
    expect(seen.at(-1)).toBe(1);
    expect([...seen].sort((a, b) => a - b)).toEqual(seen);
    expect(() => knn(data.subarray(1), data, 6, 3, { metric: 'cosine' })).toThrow(/whole rows of 6/);
    expect(() => knn(data, data, 6, 3, { metric: 'cosine', blockRows: 6 })).toThrow(/multiple of 4/);
  });
});

// Worker threads need compiled JavaScript: this part runs the built module (npm run build first).
const built = path.join(ROOT, 'dist/src/eval/knn.js');
describe.runIf(fs.existsSync(built))('knnParallel (built, on worker threads)', () => {
  it('gives knn\'s lists and scores bit for bit, for any thread count, one-vs-rest and separate queries', async () => {
    const dist = (await import(pathToFileURL(built).href)) as typeof import('../../src/eval/knn.js');
    // above the 2e8 multiply-adds under which knnParallel stays on one thread
    // each row three times (r, r + 367, r + 734: different blocks, so different threads), so lists
    // from several threads hold equal scores that the merge must order by index
    const dim = 167;
    const base = rows(367, dim, 5);
    const data = new Float32Array(1101 * dim);
    for (let r = 0; r < 1101; r++) data.set(base.subarray((r % 367) * dim, (r % 367 + 1) * dim), r * dim);
    const want = knn(data, data, dim, 8, { metric: 'cosine', excludeSelf: true });
    const result = (r: Neighbours, q: number) => [...r.indices.subarray(q * 8, q * 8 + 2)];
    expect(result(want, 400)).toEqual([33, 767]);
    expect(result(want, 33)).toEqual([400, 767]);
    for (const threads of [2, 3]) {
      const progress: number[] = [];
      const got = await dist.knnParallel(data, data, dim, 8, { metric: 'cosine', excludeSelf: true, threads, onProgress: (f) => progress.push(f) });
      expect(got.indices, `${threads} threads`).toEqual(want.indices);
      expect(got.scores, `${threads} threads`).toEqual(want.scores);
      expect(progress.at(-1)).toBeCloseTo(1, 12);
    }
    const queries = rows(601, dim, 6);
    const gallery = rows(2003, dim, 7);
    const sep = knn(queries, gallery, dim, 5, { metric: 'euclidean' });
    const par = await dist.knnParallel(queries, gallery, dim, 5, { metric: 'euclidean', threads: 2 });
    expect(par.indices).toEqual(sep.indices);
    expect(par.scores).toEqual(sep.scores);
    // and the TypeScript source's knnParallel (on this thread) agrees too
    expect((await knnParallel(queries, gallery, dim, 5, { metric: 'euclidean', threads: 2 })).indices).toEqual(sep.indices);
  }, 60_000);
});
