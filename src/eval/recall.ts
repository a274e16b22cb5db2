/**
 * Retrieval metrics over embeddings: recall@k as the CGD evaluation of Stanford Online Products computes
 * it, and MAP@R and R-precision as Musgrave et al. 2020 ("A Metric Learning Reality Check") define them,
 * matching pytorch-metric-learning's AccuracyCalculator.
 *
 * One-vs-rest (no separate queries): every row is a query and the whole set is the gallery, each query
 * excluded from its own results by index (duplicates of it still count). With separate queries, the
 * gallery is searched as it is.
 *
 * For a query with R gallery images of its class (R excludes the query itself in one-vs-rest):
 * - recall@k: 1 when one of its k nearest is of its class, else 0; averaged over all queries, so a query
 *   whose class has no other image (a lone query, R = 0) counts as a miss (CGD);
 * - R-precision: (images of its class among its R nearest) / R;
 * - MAP@R: (1/R) * sum over i = 1..R of P(i) * rel(i), P(i) the precision of its i nearest, rel(i) 1 when
 *   the i-th nearest is of its class;
 * both averaged over the queries with R > 0 (pytorch-metric-learning leaves lone queries out; 0 when
 * every query is lone). pytorch-metric-learning caps R at 1023 (a faiss limit); datum does not.
 * Ties in distance: the lower gallery index is nearer (see knn.ts).
 */
import { DatumError, UsageError } from '../diagnostics.js';
import { isTestSubset } from '../calib/select.js';
import type { Context } from '../plugin.js';
import { importDataset } from '../pipeline.js';
import { readNpy } from '../npy.js';
import { knnParallel, type Metric, type Neighbours } from './knn.js';

export type { Metric } from './knn.js';
export const METRICS: readonly Metric[] = ['cosine', 'euclidean'];
export const DEFAULT_KS: readonly number[] = [1, 2, 4, 8];

export interface RetrievalScores {
  /** recall@k by k. */
  recall: Record<number, number>;
  mapAtR: number;
  rPrecision: number;
  queries: number;
  /** Queries with no other image of their class in the gallery. */
  lone: number;
}

/** Rows of embeddings, as read from a .npy file. */
export interface Embeddings { rows: number; dim: number; data: Float32Array }

export interface RecallRequest {
  gallery: Embeddings;
  /** Class of each gallery row (any integer key). */
  galleryLabels: ArrayLike<number>;
  /** Separate queries; absent: one-vs-rest over the gallery. */
  queries?: Embeddings;
  queryLabels?: ArrayLike<number>;
  ks?: readonly number[];
  metric?: Metric;
  threads?: number;
  onProgress?: (done: number) => void;
}

/** How many neighbours the metrics need: the largest k, and the largest R. */
export function neighboursNeeded(ks: readonly number[], r: Int32Array, candidates: number): number {
  let k = Math.max(...ks);
  for (const n of r) if (n > k) k = n;
  return Math.max(1, Math.min(k, candidates));
}

/** R of each query: the gallery images of its class, less itself in one-vs-rest. */
export function relevantCounts(queryLabels: ArrayLike<number>, galleryLabels: ArrayLike<number>, oneVsRest: boolean): Int32Array {
  const count = new Map<number, number>();
  for (let i = 0; i < galleryLabels.length; i++) count.set(galleryLabels[i], (count.get(galleryLabels[i]) ?? 0) + 1);
  const r = new Int32Array(queryLabels.length);
  for (let q = 0; q < r.length; q++) r[q] = (count.get(queryLabels[q]) ?? 0) - (oneVsRest ? 1 : 0);
  return r;
}

/** The metrics from each query's neighbour list (nearest first, -1 for none). */
export function scoreNeighbours(neighbours: Neighbours, queryLabels: ArrayLike<number>, galleryLabels: ArrayLike<number>, r: Int32Array, ks: readonly number[]): RetrievalScores {
  const { k, indices } = neighbours;
  const hits = new Float64Array(ks.length);
  let mapSum = 0;
  let rpSum = 0;
  let lone = 0;
  for (let q = 0; q < queryLabels.length; q++) {
    const label = queryLabels[q];
    const base = q * k;
    const same = (i: number) => indices[base + i] >= 0 && galleryLabels[indices[base + i]] === label;
    let first = -1; // rank (0-based) of the first neighbour of the query's class
    for (let i = 0; i < k; i++) if (same(i)) { first = i; break; }
    ks.forEach((kk, j) => { if (first >= 0 && first < kk) hits[j]++; });
    const R = r[q];
    if (R <= 0) { lone++; continue; }
    let correct = 0;
    let precisionSum = 0;
    for (let i = 0; i < R; i++) {
      if (!same(i)) continue;
      correct++;
      precisionSum += correct / (i + 1);
    }
    mapSum += precisionSum / R;
    rpSum += correct / R;
  }
  const n = queryLabels.length;
  const withClass = n - lone;
  const recall: Record<number, number> = {};
  ks.forEach((kk, j) => { recall[kk] = n ? hits[j] / n : 0; });
  return { recall, mapAtR: withClass ? mapSum / withClass : 0, rPrecision: withClass ? rpSum / withClass : 0, queries: n, lone };
}

/** recall@k, MAP@R and R-precision, with the neighbour lists they came from. */
export async function evaluateRecall(request: RecallRequest): Promise<RetrievalScores & { neighbours: Neighbours }> {
  const { gallery, galleryLabels } = request;
  const ks = request.ks ?? DEFAULT_KS;
  const oneVsRest = request.queries === undefined;
  const queries = request.queries ?? gallery;
  const queryLabels = request.queryLabels ?? galleryLabels;
  if (galleryLabels.length !== gallery.rows || queryLabels.length !== queries.rows) throw new Error('evaluateRecall: one label per row is needed');
  if (queries.dim !== gallery.dim) throw new Error(`evaluateRecall: queries have ${queries.dim} values a row, the gallery ${gallery.dim}`);
  const r = relevantCounts(queryLabels, galleryLabels, oneVsRest);
  const k = neighboursNeeded(ks, r, gallery.rows - (oneVsRest ? 1 : 0));
  const neighbours = await knnParallel(queries.data, gallery.data, gallery.dim, k, {
    metric: request.metric ?? 'cosine', excludeSelf: oneVsRest, threads: request.threads, onProgress: request.onProgress,
  });
  return { ...scoreNeighbours(neighbours, queryLabels, galleryLabels, r, ks), neighbours };
}

/**
 * A `[N, D]` float32/float16 .npy file as embeddings, checked: two dimensions, D > 0, `rows` rows when
 * given, `dim` values a row when given, no NaN or infinite value, and (cosine) no all-zero row.
 */
export async function readEmbeddings(file: string, expect: { rows?: number; rowsOf?: string; dim?: number; dimOf?: string; metric?: Metric } = {}): Promise<Embeddings> {
  const { shape, data } = await readNpy(file);
  const fail = (code: string, message: string): never => { throw new DatumError({ code, file, message }); };
  if (shape.length !== 2) fail('embeddings-shape', `embeddings must be a 2-D array [N, D] (one row per item); this one has shape (${shape.join(', ')})`);
  const [rows, dim] = shape;
  if (dim === 0) fail('embeddings-shape', `embeddings have shape (${rows}, 0): no values in a row`);
  if (expect.rows !== undefined && rows !== expect.rows) fail('embeddings-rows', `${rows} rows of embeddings, but ${expect.rowsOf ?? 'the dataset'} has ${expect.rows} items (one row per item, in the importer's order)`);
  if (expect.dim !== undefined && dim !== expect.dim) fail('embeddings-dim', `${dim} values a row, but ${expect.dimOf ?? 'the other embeddings'} have ${expect.dim}`);
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) fail('embeddings-not-finite', `row ${Math.floor(i / dim)} (0-based), column ${i % dim}: ${data[i]}; every value must be a finite number`);
  }
  if (expect.metric === 'cosine') {
    for (let row = 0; row < rows; row++) {
      let zero = true;
      for (let d = row * dim; d < (row + 1) * dim && zero; d++) zero = data[d] === 0;
      if (zero) fail('embeddings-zero-row', `row ${row} (0-based) is all zeros: it has no direction for cosine similarity (use --metric euclidean, or check the model's output)`);
    }
  }
  return { rows, dim, data };
}

/** The class of every item of a subset, in the order the importer gives them. */
export interface DatasetLabels {
  /** The subset read, or undefined for all items. */
  subset: string | undefined;
  ids: string[];
  /** Each item's class: its category index (a name in `names`). */
  labels: Int32Array;
  names: string[];
  /** Subsets present, with item counts. */
  subsets: Record<string, number>;
}

/**
 * The subset evaluated when none is asked for: `test`, else the one test subset (CVAT's `Test`, COCO's
 * `test2017`), else all items; several test subsets without a plain `test` are ambiguous.
 */
function defaultSubset(counts: Record<string, number>, input: string): string | undefined {
  if ('test' in counts) return 'test';
  const tests = Object.keys(counts).filter(isTestSubset);
  if (tests.length > 1) throw new UsageError(`eval recall: ${input} has several test subsets (${tests.join(', ')}); choose one with --subset`);
  return tests[0];
}

/**
 * Reads a dataset and each item's class: its one `label` annotation (an item with none or several is
 * an error naming it, since each embeddings row must be one item's). One set per entry of `subsets`, all read in one
 * pass; an undefined entry is the default subset (defaultSubset).
 */
export async function readDatasetLabels(input: string, format: string | undefined, subsets: (string | undefined)[], ctx: Context): Promise<{ format: string; sets: DatasetLabels[] }> {
  const { format: plugin, dataset } = await importDataset(input, format, {}, ctx);
  const seen: { id: string; subset: string; label: number | undefined; labels: number }[] = [];
  const counts: Record<string, number> = {};
  for await (const item of dataset.items) {
    const classes = item.annotations.filter((a) => a.type === 'label');
    seen.push({ id: item.id, subset: item.subset, label: classes[0]?.label, labels: classes.length });
    counts[item.subset] = (counts[item.subset] ?? 0) + 1;
  }
  const names = dataset.categories.map((c) => c.name);
  const sets = subsets.map((asked) => {
    const subset = asked ?? defaultSubset(counts, input);
    if (subset !== undefined && !(subset in counts)) {
      throw new DatumError({ code: 'subset-missing', file: input, message: `the dataset has no subset '${subset}' (it has ${Object.entries(counts).map(([s, n]) => `${s || '(none)'} ${n}`).join(', ') || 'no items'})` });
    }
    const chosen = seen.filter((s) => subset === undefined || s.subset === subset);
    for (const s of chosen) {
      if (s.labels !== 1 || s.label === undefined) {
        throw new DatumError({ code: 'item-class', file: input, item: s.id, message: `item '${s.id}' has ${s.labels === 0 ? 'no class (label annotation)' : s.labels > 1 ? `${s.labels} class labels` : 'a label annotation without a label'}; eval recall needs exactly one class per item` });
      }
    }
    return { subset, ids: chosen.map((s) => s.id), labels: Int32Array.from(chosen, (s) => s.label!), names, subsets: counts };
  });
  return { format: plugin.name, sets };
}
