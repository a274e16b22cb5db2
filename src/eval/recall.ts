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
import { dotLanes, knnParallel, rowTerms, type Metric, type Neighbours } from './knn.js';

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

/** The metrics summed over queries, each given by its neighbour list (nearest first, -1 for none). */
class MetricSums {
  private readonly hits: Float64Array;
  private mapSum = 0;
  private rpSum = 0;
  private lone = 0;
  private n = 0;

  constructor(private readonly ks: readonly number[]) {
    this.hits = new Float64Array(ks.length);
  }

  /** A query with R gallery images of its class, whose i-th nearest (0-based, i < length) is of its class when same(i). */
  add(length: number, R: number, same: (i: number) => boolean): void {
    this.n++;
    let first = -1; // rank (0-based) of the first neighbour of the query's class
    for (let i = 0; i < length; i++) if (same(i)) { first = i; break; }
    this.ks.forEach((k, j) => { if (first >= 0 && first < k) this.hits[j]++; });
    if (R <= 0) { this.lone++; return; }
    let correct = 0;
    let precisionSum = 0;
    for (let i = 0; i < Math.min(R, length); i++) {
      if (!same(i)) continue;
      correct++;
      precisionSum += correct / (i + 1);
    }
    this.mapSum += precisionSum / R;
    this.rpSum += correct / R;
  }

  result(): RetrievalScores {
    const { n, lone } = this;
    const withClass = n - lone;
    const recall: Record<number, number> = {};
    this.ks.forEach((k, j) => { recall[k] = n ? this.hits[j] / n : 0; });
    return { recall, mapAtR: withClass ? this.mapSum / withClass : 0, rPrecision: withClass ? this.rpSum / withClass : 0, queries: n, lone };
  }
}

/** The metrics from each query's neighbour list (nearest first, -1 for none). */
export function scoreNeighbours(neighbours: Neighbours, queryLabels: ArrayLike<number>, galleryLabels: ArrayLike<number>, r: Int32Array, ks: readonly number[]): RetrievalScores {
  const { k, indices } = neighbours;
  const sums = new MetricSums(ks);
  for (let q = 0; q < queryLabels.length; q++) {
    sums.add(k, r[q], (i) => indices[q * k + i] >= 0 && galleryLabels[indices[q * k + i]] === queryLabels[q]);
  }
  return sums.result();
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
  if (k > LONG_LISTS) return scoreRows(queries, gallery, queryLabels, galleryLabels, r, ks, request.metric ?? 'cosine', oneVsRest, request.onProgress);
  const neighbours = await knnParallel(queries.data, gallery.data, gallery.dim, k, {
    metric: request.metric ?? 'cosine', excludeSelf: oneVsRest, threads: request.threads, onProgress: request.onProgress,
  });
  return { ...scoreNeighbours(neighbours, queryLabels, galleryLabels, r, ks), neighbours };
}

/**
 * Above this many neighbours a query (a class of hundreds of images: classification data, not SOP's
 * 2 to 12), keeping sorted lists costs O(k) an insertion and queries x k x 12 bytes; scoreRows ranks
 * each query's whole row instead.
 */
const LONG_LISTS = 256;

/**
 * The metrics one query at a time from its full row of scores (the same scores and tie rule as knn:
 * float64 `dotLanes` sums, the lower index first on equal scores). The row is sorted as numbers
 * (native, no comparator); each image of the query's class then gets its rank by binary search, and
 * the ranks sorted give its class's positions. Memory: a few rows of the gallery's length, plus the
 * first max(ks) neighbours of each query (for --compare).
 */
function scoreRows(queries: Embeddings, gallery: Embeddings, queryLabels: ArrayLike<number>, galleryLabels: ArrayLike<number>,
  r: Int32Array, ks: readonly number[], metric: Metric, oneVsRest: boolean, onProgress?: (done: number) => void): RetrievalScores & { neighbours: Neighbours } {
  const { dim } = gallery;
  const ng = gallery.rows;
  const { scale, offset } = rowTerms(gallery.data, dim, metric);
  const top = Math.min(Math.max(...ks), ng - (oneVsRest ? 1 : 0));
  const indices = new Int32Array(queries.rows * top).fill(-1);
  const scores = new Float64Array(queries.rows * top).fill(-Infinity);
  const row = new Float64Array(ng);
  const sorted = new Float64Array(ng);
  const sums = new MetricSums(ks);
  /** Rows nearer than gallery row g: higher scores, and equal ones of lower index. */
  const nearer = (g: number, exclude: number): number => {
    const v = row[g];
    let lo = 0, hi = ng; // first index of sorted with a value > v
    while (lo < hi) { const mid = (lo + hi) >> 1; if (sorted[mid] > v) hi = mid; else lo = mid + 1; }
    let count = ng - lo;
    if (lo > 1 && sorted[lo - 2] === v) for (let h = 0; h < g; h++) if (row[h] === v && h !== exclude) count++; // a tie: rare
    return count;
  };
  for (let q = 0; q < queries.rows; q++) {
    const label = queryLabels[q];
    const exclude = oneVsRest ? q : -1;
    for (let g = 0; g < ng; g++) row[g] = dotLanes(queries.data, q * dim, gallery.data, g * dim, dim) * scale[g] + offset[g];
    if (exclude >= 0) row[exclude] = -Infinity;
    sorted.set(row);
    sorted.sort();
    // the first `top` neighbours, in order
    const threshold = sorted[ng - top];
    const first: number[] = [];
    for (let g = 0; g < ng; g++) if (row[g] >= threshold && g !== exclude) first.push(g);
    first.sort((a, b) => row[b] - row[a] || a - b);
    for (let i = 0; i < top; i++) { indices[q * top + i] = first[i]; scores[q * top + i] = row[first[i]]; }
    // positions (0-based) of the query's class: enough of the list for the metrics, whatever its length
    const positions: number[] = [];
    for (let g = 0; g < ng; g++) if (g !== exclude && galleryLabels[g] === label) positions.push(nearer(g, exclude));
    const length = Math.max(top, r[q]);
    const hit = new Uint8Array(length);
    for (const p of positions) if (p < length) hit[p] = 1;
    sums.add(length, r[q], (i) => hit[i] === 1);
    if (q % 64 === 63) onProgress?.((q + 1) / queries.rows);
  }
  onProgress?.(1);
  return { ...sums.result(), neighbours: { k: top, indices, scores } };
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
