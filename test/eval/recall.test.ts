import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { knn } from '../../src/eval/knn.js';
import { evaluateRecall, readDatasetLabels } from '../../src/eval/recall.js';
import { createContext } from '../../src/pipeline.js';
import { registerFormat } from '../../src/registry.js';
import type { Item } from '../../src/model.js';
import { writeNpy } from '../../src/npy.js';
import { ROOT, tempDir } from '../helpers/corpus.js';
// @ts-expect-error: a plain .mjs script without types
import { makeSopFixture, writeFakeEmbeddings } from '../../scripts/make-sop-fixture.mjs';

const DATUM = path.join(ROOT, 'bin/datum.js');
const dir = tempDir('datum-recall-');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const datum = (...args: string[]) => spawnSync(process.execPath, [DATUM, ...args], { encoding: 'utf8' });
const hasNumpy = spawnSync('python3', ['-c', 'import numpy'], { stdio: 'ignore' }).status === 0;

/**
 * Eight points on a line (x, 0), euclidean. Worked out on paper (neighbours of each query, self left
 * out, ties to the lower index):
 *   q0 A x=0:  1 2 3 7 4 5 6 -> A B A ...   R=2  first hit 1  RP 1/2  MAP (1)/2 = 1/2
 *   q1 A x=1:  0 2 3 7 4 5 6 -> A B A ...   R=2  first hit 1  RP 1/2  MAP 1/2
 *   q2 B x=3:  3 1 7 0 4 5 6 -> A A B ...   R=3  first hit 3  RP 1/3  MAP (1/3)/3 = 1/9   (1 and 7 tie at 2)
 *   q3 A x=4:  2 7 4 1 5 0 6 -> B B B A ..  R=2  first hit 4  RP 0    MAP 0             (2|7 and 1|5 tie)
 *   q4 B x=6:  5 7 3 2 6 1 0 -> B B A B ..  R=3  first hit 1  RP 2/3  MAP (1+1)/3 = 2/3 (5 and 7 tie at 1)
 *   q5 B x=7:  4 7 3 6 2 1 0 -> B B A C ..  R=3  first hit 1  RP 2/3  MAP 2/3           (3 and 6 tie at 3)
 *   q6 C x=10: lone (R=0): a miss for every recall@k, left out of MAP@R and R-precision
 *   q7 B x=5:  3 4 2 5 1 0 6 -> A B B B ..  R=3  first hit 2  RP 2/3  MAP (1/2+2/3)/3 = 7/18
 * recall@1 = 4/8, @2 = 5/8, @4 = @8 = 7/8; MAP@R = (1/2+1/2+1/9+0+2/3+2/3+7/18)/7 = 17/42;
 * R-precision = (1/2+1/2+1/3+0+2/3+2/3+2/3)/7 = 10/21.
 */
const XS = [0, 1, 3, 4, 6, 7, 10, 5];
const LABELS = [0, 0, 1, 0, 1, 1, 2, 1];
const line = { rows: 8, dim: 2, data: Float32Array.from(XS.flatMap((x) => [x, 0])) };

describe('recall@k, MAP@R and R-precision', () => {
  it('gives the values worked out by hand, with a lone query and ties', async () => {
    const s = await evaluateRecall({ gallery: line, galleryLabels: LABELS, metric: 'euclidean', ks: [1, 2, 4, 8] });
    expect(s.recall).toEqual({ 1: 4 / 8, 2: 5 / 8, 4: 7 / 8, 8: 7 / 8 });
    expect(s.mapAtR).toBeCloseTo(17 / 42, 12);
    expect(s.rPrecision).toBeCloseTo(10 / 21, 12);
    expect(s.queries).toBe(8);
    expect(s.lone).toBe(1);
    const list = (q: number) => [...s.neighbours.indices.subarray(q * s.neighbours.k, (q + 1) * s.neighbours.k)];
    expect(list(2).slice(0, 5)).toEqual([3, 1, 7, 0, 4]); // ties go to the lower index
    expect(list(7)).toEqual([3, 4, 2, 5, 1, 0, 6]);
    expect(list(6)).not.toContain(6); // a query never finds itself
  });

  it('does not depend on the order of the rows', async () => {
    // a permutation without ties changing meaning: reverse, then the scores are the same set
    const order = [7, 6, 5, 4, 3, 2, 1, 0];
    const data = Float32Array.from(order.flatMap((i) => [XS[i] + 0.001 * i, 0])); // no ties, so order cannot matter
    const labels = order.map((i) => LABELS[i]);
    const base = { rows: 8, dim: 2, data: Float32Array.from(XS.flatMap((x, i) => [x + 0.001 * i, 0])) };
    const a = await evaluateRecall({ gallery: base, galleryLabels: LABELS, metric: 'euclidean' });
    const b = await evaluateRecall({ gallery: { rows: 8, dim: 2, data }, galleryLabels: labels, metric: 'euclidean' });
    expect(b.recall).toEqual(a.recall);
    expect(b.mapAtR).toBeCloseTo(a.mapAtR, 12);
    expect(b.rPrecision).toBeCloseTo(a.rPrecision, 12);
  });

  it('excludes the query by index, not by distance: a duplicate of it is still a neighbour', async () => {
    const g = { rows: 3, dim: 2, data: Float32Array.from([1, 0, 1, 0, 0, 1]) };
    const s = await evaluateRecall({ gallery: g, galleryLabels: [5, 5, 6], metric: 'cosine', ks: [1] });
    expect(s.recall[1]).toBeCloseTo(2 / 3, 12); // rows 0 and 1 find each other; row 2 is lone
    expect(s.lone).toBe(1);
  });

  it('searches a separate gallery with separate queries, nothing excluded', async () => {
    const gallery = { rows: 3, dim: 2, data: Float32Array.from([1, 0, 0, 1, -1, 0]) };
    const queries = { rows: 2, dim: 2, data: Float32Array.from([0.9, 0.1, -0.2, 1]) };
    const s = await evaluateRecall({ gallery, galleryLabels: [0, 1, 2], queries, queryLabels: [0, 2], metric: 'cosine', ks: [1, 2] });
    // q0 nearest: row 0 (class 0) hit; q1 nearest row 1, then row 2 (class 2) -> hit only at 2
    expect(s.recall).toEqual({ 1: 0.5, 2: 1 });
    expect(s.mapAtR).toBeCloseTo(0.5, 12); // R = 1 each: q0 1, q1 0
  });

  it('large classes (R above the list length knn keeps) give a brute force\'s MAP@R and R-precision', async () => {
    let seed = 3;
    const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32) - 0.5;
    const n = 700, dim = 6;
    const labels = Array.from({ length: n }, (_, i) => (i % 7 === 0 ? 2 : i % 2)); // R about 300, 300 and 99
    const data = Float32Array.from({ length: n * dim }, (_, i) => rand() + 0.3 * labels[Math.floor(i / dim)] * (i % dim === 0 ? 1 : 0));
    const s = await evaluateRecall({ gallery: { rows: n, dim, data }, galleryLabels: labels, metric: 'cosine', ks: [1, 5] });
    let map = 0, rp = 0;
    const hits = [0, 0];
    for (let q = 0; q < n; q++) {
      const norm = (g: number) => Math.hypot(...data.subarray(g * dim, (g + 1) * dim));
      const score = (g: number) => data.subarray(q * dim, (q + 1) * dim).reduce((t, v, d) => t + v * data[g * dim + d], 0) / norm(g);
      const order = [...Array(n).keys()].filter((g) => g !== q).map((g) => [score(g), g]).sort((a, b) => b[0] - a[0] || a[1] - b[1]).map(([, g]) => g);
      const R = labels.filter((l) => l === labels[q]).length - 1;
      [1, 5].forEach((k, j) => { if (order.slice(0, k).some((g) => labels[g] === labels[q])) hits[j]++; });
      let correct = 0, sum = 0;
      for (let i = 0; i < R; i++) if (labels[order[i]] === labels[q]) sum += ++correct / (i + 1);
      map += sum / R;
      rp += correct / R;
    }
    expect(s.neighbours.k).toBe(5); // only the first max(ks) are kept
    expect(s.recall[1]).toBeCloseTo(hits[0] / n, 12);
    expect(s.recall[5]).toBeCloseTo(hits[1] / n, 12);
    expect(s.mapAtR).toBeCloseTo(map / n, 10);
    expect(s.rPrecision).toBeCloseTo(rp / n, 10);
  });

  it('ranks as a float64 brute force does, for both metrics', () => {
    let seed = 7;
    const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32) - 0.5;
    const dim = 37, n = 61, k = 9; // odd sizes: the 4 x 4 tiles have remainders
    const data = Float32Array.from({ length: n * dim }, rand);
    for (const metric of ['cosine', 'euclidean'] as const) {
      const got = knn(data, data, dim, k, { metric, excludeSelf: true });
      for (let q = 0; q < n; q++) {
        const score = (g: number) => {
          let dot = 0, qq = 0, gg = 0;
          for (let d = 0; d < dim; d++) { dot += data[q * dim + d] * data[g * dim + d]; qq += data[q * dim + d] ** 2; gg += data[g * dim + d] ** 2; }
          return metric === 'cosine' ? dot / Math.sqrt(qq * gg) : -(qq + gg - 2 * dot);
        };
        const want = [...Array(n).keys()].filter((g) => g !== q).sort((a, b) => score(b) - score(a) || a - b).slice(0, k);
        expect([...got.indices.subarray(q * k, (q + 1) * k)], `${metric} query ${q}`).toEqual(want);
      }
    }
  });
});

describe('the rows\' labels', () => {
  let items: Item[] = [];
  registerFormat({ name: 'test_recall_memory', description: 'items of a recall test', import: async () => ({ categories: [{ name: 'a' }, { name: 'b' }], items }) });
  const subsets = (names: string[]) => {
    items = names.map((subset, i) => ({ id: `i${i}`, subset, annotations: [{ type: 'label' as const, label: i % 2 }] }));
    return readDatasetLabels(dir, 'test_recall_memory', [undefined], createContext());
  };

  it('default to the test subset in any spelling, and refuse to guess between two', async () => {
    expect((await subsets(['Train', 'Test', 'Test'])).sets[0]).toMatchObject({ subset: 'Test', ids: ['i1', 'i2'] });
    expect((await subsets(['train2017', 'test2017'])).sets[0].subset).toBe('test2017');
    expect((await subsets(['test', 'test-dev'])).sets[0].subset).toBe('test');
    expect((await subsets(['train', 'val'])).sets[0]).toMatchObject({ subset: undefined, ids: ['i0', 'i1'] });
    await expect(subsets(['test2017', 'test-dev'])).rejects.toThrow(/several test subsets \(test2017, test-dev\); choose one with --subset/);
  });
});

describe('datum eval recall', () => {
  const fixtureDir = path.join(dir, 'sop');
  const ready = (async () => {
    const { root, classes } = await makeSopFixture(fixtureDir, { seed: 3 });
    const test = classes.filter((c: { subset: string }) => c.subset === 'test');
    const labels = test.flatMap((c: { classId: number; paths: string[] }) => c.paths.map(() => c.classId));
    await writeFakeEmbeddings(path.join(dir, 'fp32.npy'), labels, 16, { seed: 1 });
    await writeFakeEmbeddings(path.join(dir, 'int8.npy'), labels, 16, { seed: 1, quantize: true });
    return { root, labels };
  })();

  it('prints recall@k for the test subset, and --json the same numbers', async () => {
    const { root, labels } = await ready;
    const r = datum('eval', 'recall', '--embeddings', path.join(dir, 'fp32.npy'), '--dataset', root, '--json');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.queries).toBe(labels.length);
    expect(out.subset).toBe('test');
    expect(out.format).toBe('sop');
    for (const k of [1, 2, 4, 8]) expect(out[`recall@${k}`]).toBeGreaterThanOrEqual(0);
    expect(out['recall@8']).toBeGreaterThanOrEqual(out['recall@1']);
    // the same as the library on the same rows
    const { readNpy } = await import('../../src/npy.js');
    const e = await readNpy(path.join(dir, 'fp32.npy'));
    const s = await evaluateRecall({ gallery: { rows: e.shape[0], dim: e.shape[1], data: e.data }, galleryLabels: labels, metric: 'cosine' });
    expect(out['recall@1']).toBeCloseTo(s.recall[1], 12);
    expect(out['map@r']).toBeCloseTo(s.mapAtR, 12);

    const table = datum('eval', 'recall', '--embeddings', path.join(dir, 'int8.npy'), '--compare', path.join(dir, 'fp32.npy'), '--dataset', root, '-if', 'sop');
    expect(table.status).toBe(0);
    expect(table.stdout).toMatch(/^metric\s+int8\.npy\s+fp32\.npy\s+difference$/m);
    expect(table.stdout).toMatch(/^recall@1\s+\d\.\d{4}\s+\d\.\d{4}\s+[-+]?\d\.\d{4}$/m);
    expect(table.stdout).toMatch(/^MAP@R\s/m);
  });

  it.runIf(hasNumpy)('agrees with numpy (e @ e.T, self left out) on recall@k', async () => {
    const { labels } = await ready;
    const file = path.join(dir, 'fp32.npy');
    const script = `import numpy as np, json
e = np.load('${file}').astype(np.float64); e /= np.linalg.norm(e, axis=1, keepdims=True)
l = np.array(${JSON.stringify(labels)}); s = e @ e.T; np.fill_diagonal(s, -np.inf)
order = np.argsort(-s, axis=1, kind='stable')
print(json.dumps({k: float(np.mean([(l[order[q, :k]] == l[q]).any() for q in range(len(l))])) for k in (1, 2, 4, 8)}))`;
    const want = JSON.parse(execFileSync('python3', ['-c', script], { encoding: 'utf8' }));
    const { root } = await ready;
    const out = JSON.parse(datum('eval', 'recall', '--embeddings', file, '--dataset', root, '--json').stdout);
    for (const k of [1, 2, 4, 8]) expect(out[`recall@${k}`], `recall@${k}`).toBeCloseTo(want[k], 12);
  });

  it('refuses rows that do not match the dataset, NaN, a wrong dtype and Fortran order, naming the file', async () => {
    const { root, labels } = await ready;
    const n = labels.length;
    const short = path.join(dir, 'short.npy');
    await writeNpy(short, new Float32Array((n - 1) * 4).fill(1), [n - 1, 4]);
    let r = datum('eval', 'recall', '--embeddings', short, '--dataset', root);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('short.npy');
    expect(r.stderr).toMatch(new RegExp(`${n - 1} rows of embeddings, but subset 'test' has ${n} items`));

    const nan = path.join(dir, 'nan.npy');
    const values = new Float32Array(n * 4).fill(1);
    values[4 * 3 + 2] = NaN;
    await writeNpy(nan, values, [n, 4]);
    r = datum('eval', 'recall', '--embeddings', nan, '--dataset', root);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/nan\.npy.*row 3 \(0-based\), column 2: NaN/s);

    const header = (dict: string) => {
      const text = dict.padEnd(Math.ceil((dict.length + 11) / 64) * 64 - 11) + '\n';
      return Buffer.concat([Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, text.length, 0]), Buffer.from(text, 'latin1')]);
    };
    const f64 = path.join(dir, 'f64.npy');
    fs.writeFileSync(f64, Buffer.concat([header(`{'descr': '<f8', 'fortran_order': False, 'shape': (${n}, 2), }`), Buffer.alloc(n * 16)]));
    r = datum('eval', 'recall', '--embeddings', f64, '--dataset', root);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('f64.npy');
    expect(r.stderr).toMatch(/<f8/);

    const fortran = path.join(dir, 'fortran.npy');
    fs.writeFileSync(fortran, Buffer.concat([header(`{'descr': '<f4', 'fortran_order': True, 'shape': (${n}, 2), }`), Buffer.alloc(n * 8)]));
    r = datum('eval', 'recall', '--embeddings', fortran, '--dataset', root);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/fortran\.npy.*[Ff]ortran/s);

    r = datum('eval', 'recall', '--embeddings', path.join(dir, 'fp32.npy'), '--dataset', root, '--k', '1,x');
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/--k takes whole numbers/);
    for (const res of [r]) expect(res.stderr).not.toMatch(/TypeError|at .*\.js:\d+/);
  });
});
