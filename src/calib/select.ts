/**
 * Which items make a calibration set (pure functions over model items; no I/O).
 *
 * 1. Pool: the asked subsets minus the excluded ones (default: everything but test subsets, any case).
 * 2. Strata: the item's class (`label`), its class's parent category (`parent`), one stratum
 *    (`none`), or, for detection data, label coverage instead of strata.
 * 3. Allocation: proportional to stratum size by largest remainder (Hamilton), at least one place per
 *    stratum while the size allows.
 * 4. Inside a stratum, items in `unitHash(subset/id, seed)` order; with class spreading, round robin
 *    over the stratum's classes (in hash order of their names), so few places go to distinct classes.
 * 5. Output order: the strata merged evenly (the j-th of a stratum's n places at (j + 1/2) / n), so any
 *    prefix holds each stratum about in proportion: NNCF calibrates on the first subset_size lines.
 * Only hashes order anything, so the input order never matters.
 */
import { DatumError, UsageError } from '../diagnostics.js';
import type { Category, Item } from '../model.js';
import { classOf } from '../transforms/split/algorithm.js';
import { byHash } from '../transforms/split/hash.js';

export const STRATIFY = ['auto', 'label', 'parent', 'none'] as const;
export type Stratify = typeof STRATIFY[number];
/** What `auto` (or the flag) resolved to; `detection` is label coverage over annotations. */
export type ResolvedStratify = 'label' | 'parent' | 'none' | 'detection';

export const NO_CLASS = '(none)';
/** Candidates weighed per added image in the detection balancing (hash order), bounding the work. */
export const DETECTION_WINDOW = 64;

export interface PoolOptions {
  /** Subsets to draw from; default all. */
  subsets?: readonly string[];
  /** Subsets left out; default those named like test (only when `subsets` is not given). */
  exclude?: readonly string[];
}

/** The subsets left out by default: `test` in any case and with a suffix (CVAT's `Test`, COCO's `test2017`, `test-dev`). */
export const isTestSubset = (name: string): boolean => /^test/i.test(name);

export interface Pool {
  items: Item[];
  subsets: string[];
  /** The dataset's other subsets, none of whose items can be chosen. */
  excluded: string[];
}

const subsetName = (s: string) => s || '(none)';
const keyOf = (item: Item) => `${item.subset}/${item.id}`;

/**
 * The items to choose from. A named subset the dataset lacks is an error, as is an empty pool; both
 * list the subsets there are. The default exclusion of test subsets (isTestSubset) applies only when
 * no `subsets` are named: `--subset test` means test.
 */
export function selectPool(items: readonly Item[], options: PoolOptions = {}, source?: string): Pool {
  const present = [...new Set(items.map((i) => i.subset))].sort();
  const listed = present.map(subsetName).join(', ') || 'none (the dataset has no items)';
  for (const name of [...(options.subsets ?? []), ...(options.exclude ?? [])]) {
    if (!present.includes(name)) {
      throw new DatumError({ code: 'unknown-subset', file: source, message: `the dataset has no subset '${name}'; its subsets: ${listed}` });
    }
  }
  const wanted = options.subsets ? new Set(options.subsets) : undefined;
  const excluded = new Set(options.exclude ?? (wanted ? [] : present.filter(isTestSubset)));
  const pool = items.filter((i) => (!wanted || wanted.has(i.subset)) && !excluded.has(i.subset));
  if (!pool.length) {
    throw new DatumError({ code: 'empty-pool', file: source, message: `no item to choose from: ${wanted ? `subsets ${[...wanted].map(subsetName).join(', ')}` : 'all subsets'} minus ${[...excluded].map(subsetName).join(', ') || 'nothing'} leaves none; the dataset's subsets: ${listed}` });
  }
  const subsets = [...new Set(pool.map((i) => i.subset))].sort();
  return { items: pool, subsets, excluded: present.filter((s) => !subsets.includes(s)) };
}

/** Whether a shape (anything but an image label or caption) carries a label: detection-like data. */
function isShape(a: Item['annotations'][number]): boolean {
  return a.label !== undefined && a.type !== 'label' && a.type !== 'caption';
}

export function isDetection(items: readonly Item[]): boolean {
  return items.some((i) => i.annotations.some(isShape));
}

/** A class's display name: `parent/name` when it has a parent, so equal names under two parents differ. */
function className(categories: readonly Category[], label: number | undefined): string {
  if (label === undefined) return NO_CLASS;
  const c = categories[label];
  if (!c) return `#${label}`;
  return c.parent !== undefined ? `${c.parent}/${c.name}` : c.name;
}

/**
 * `auto`: detection data gets label coverage; classification gets `label` when every class can have
 * a place, `parent` when there are more classes than places and the classes have parents, else one
 * stratum spread over the classes. `label`/`parent` on detection data is refused (no class per image).
 */
export function resolveStratify(requested: Stratify, pool: readonly Item[], categories: readonly Category[], size: number): { stratify: ResolvedStratify; spread: boolean } {
  if (isDetection(pool)) {
    if (requested === 'label' || requested === 'parent') {
      throw new UsageError(`calib: --stratify ${requested} needs one class per image; this dataset has labeled shapes (detection): use --stratify auto (label coverage) or none`);
    }
    return { stratify: requested === 'none' ? 'none' : 'detection', spread: false };
  }
  const classes = new Set(pool.map(classOf));
  if (requested === 'label') return { stratify: 'label', spread: false };
  if (requested === 'parent') return { stratify: 'parent', spread: true };
  if (requested === 'none') return { stratify: 'none', spread: false };
  if (classes.size <= size) return { stratify: 'label', spread: false };
  const parented = [...classes].every((l) => l !== undefined && categories[l]?.parent !== undefined);
  return parented ? { stratify: 'parent', spread: true } : { stratify: 'none', spread: true };
}

/**
 * Places per stratum for `total` places: Hamilton's largest remainder over the sizes, every stratum
 * at least one while total >= strata (a stratum whose quota rounds to 0 is given 1 and the rest
 * re-apportioned among the others); with fewer places than strata the largest strata get one each.
 * Ties go to the larger stratum, then by `unitHash(name, seed)`. `total` must not exceed the sum of the sizes.
 */
export function allocate(strata: readonly { name: string; size: number }[], total: number, seed: number): Map<string, number> {
  const result = new Map(strata.map((s) => [s.name, 0]));
  const order = byHash(seed);
  const tie = (a: { name: string }, b: { name: string }) => order(a.name, b.name);
  if (total < strata.length) {
    const largest = [...strata].sort((a, b) => b.size - a.size || tie(a, b)).slice(0, total);
    for (const s of largest) result.set(s.name, 1);
    return result;
  }
  let open = [...strata];
  let places = total;
  for (;;) {
    const sum = open.reduce((n, s) => n + s.size, 0);
    // quota = places * size / sum, kept as integer whole part and remainder so equal remainders tie exactly
    const quotas = open.map((s) => ({ s, whole: Math.floor((places * s.size) / sum), rest: (places * s.size) % sum }));
    const starved = quotas.filter(({ whole }) => whole < 1);
    if (starved.length) {
      const fixed = new Set(starved.map(({ s }) => s));
      for (const s of fixed) result.set(s.name, 1);
      places -= fixed.size;
      open = open.filter((s) => !fixed.has(s));
      continue;
    }
    let left = places;
    for (const { s, whole } of quotas) { result.set(s.name, whole); left -= whole; }
    // equal remainders: the larger stratum has the larger claim (its quota before re-apportioning), then the hash
    quotas.sort((a, b) => b.rest - a.rest || b.s.size - a.s.size || tie(a.s, b.s));
    for (let k = 0; k < left; k++) result.set(quotas[k].s.name, result.get(quotas[k].s.name)! + 1);
    return result;
  }
}

/** Items sorted by their hash (the key breaks the practically impossible ties). */
function hashOrder(items: readonly Item[], seed: number): Item[] {
  const order = byHash(seed);
  return items.map((item) => ({ item, key: keyOf(item) })).sort((a, b) => order(a.key, b.key)).map((x) => x.item);
}

/** Round robin over the items' classes (classes in hash order of their names), each class in hash order. */
function spreadOrder(items: readonly Item[], categories: readonly Category[], seed: number): Item[] {
  const byClass = new Map<string, Item[]>();
  for (const item of hashOrder(items, seed)) {
    const name = className(categories, classOf(item));
    const list = byClass.get(name);
    if (list) list.push(item); else byClass.set(name, [item]);
  }
  const order = byHash(seed);
  const lists = [...byClass].sort(([a], [b]) => order(a, b)).map(([, l]) => l);
  return interleave(lists);
}

/** Round robin: the first of each list, then the second of each, and so on. */
function interleave<T>(lists: readonly T[][]): T[] {
  const out: T[] = [];
  const longest = lists.reduce((n, l) => Math.max(n, l.length), 0);
  for (let k = 0; k < longest; k++) for (const l of lists) if (k < l.length) out.push(l[k]);
  return out;
}

/**
 * The lists merged so that every prefix holds each about in proportion to its length: the j-th of a
 * list of n at (j + 1/2) / n, compared as exact integers; ties go to the earlier list.
 */
function mergeEvenly<T>(lists: readonly T[][]): T[] {
  const slots = lists.flatMap((list, s) => list.map((item, j) => ({ item, s, j, n: list.length })));
  return slots.sort((a, b) => (2 * a.j + 1) * b.n - (2 * b.j + 1) * a.n || a.s - b.s).map((x) => x.item);
}

export interface StratumReport {
  name: string;
  /** Items of the pool in the stratum (detection labels: annotations). */
  dataset: number;
  chosen: number;
  share_dataset: number;
  share_set: number;
}

export interface Chosen { item: Item; stratum: string }

export interface Selection {
  stratify: ResolvedStratify;
  /** Whether places inside a stratum were spread over its classes. */
  spread: boolean;
  /** In output order. */
  chosen: Chosen[];
  strata: StratumReport[];
  /** detection: every label's share of annotations in the pool and in the set; else empty. */
  labels: StratumReport[];
  /** Largest |share_set - share_dataset| over the strata (detection: labels), in percentage points. */
  maxDeviationPp: number;
  /** The stratum or label with that deviation. */
  maxDeviationOf: string | null;
}

export interface SelectOptions { size: number; stratify?: Stratify; seed?: number }

/** The calibration set from a pool (see the file comment); `size` larger than the pool takes it all. */
export function selectCalibration(pool: readonly Item[], categories: readonly Category[], options: SelectOptions): Selection {
  const seed = options.seed ?? 0;
  const size = Math.min(options.size, pool.length);
  const { stratify, spread } = resolveStratify(options.stratify ?? 'auto', pool, categories, size);
  if (stratify === 'detection') return selectDetection(pool, categories, size, seed);

  const stratumOf = (item: Item): string => {
    if (stratify === 'none') return 'all';
    const label = classOf(item);
    if (stratify === 'label') return className(categories, label);
    const parent = label === undefined ? undefined : categories[label]?.parent;
    return parent ?? NO_CLASS;
  };
  const groups = new Map<string, Item[]>();
  for (const item of pool) {
    const name = stratumOf(item);
    const list = groups.get(name);
    if (list) list.push(item); else groups.set(name, [item]);
  }
  const names = [...groups.keys()].sort();
  const places = allocate(names.map((name) => ({ name, size: groups.get(name)!.length })), size, seed);
  const picked = names.map((name) => {
    const items = groups.get(name)!;
    const ordered = spread ? spreadOrder(items, categories, seed) : hashOrder(items, seed);
    return ordered.slice(0, places.get(name)).map((item) => ({ item, stratum: name }));
  });
  const strata = names.map((name) => report(name, groups.get(name)!.length, places.get(name)!, pool.length, size));
  const chosen = mergeEvenly(picked);
  // detection data without strata (--stratify none) still reports its label shares
  const labels = isDetection(pool) ? labelShares(pool, chosen.map((c) => c.item), categories) : [];
  return { stratify, spread, chosen, strata, labels, ...largestDeviation(labels.length ? labels : strata) };
}

function report(name: string, dataset: number, chosen: number, datasetTotal: number, setTotal: number): StratumReport {
  return { name, dataset, chosen, share_dataset: datasetTotal ? dataset / datasetTotal : 0, share_set: setTotal ? chosen / setTotal : 0 };
}

function largestDeviation(rows: readonly StratumReport[]): { maxDeviationPp: number; maxDeviationOf: string | null } {
  let max = 0;
  let of: string | null = null;
  for (const r of rows) {
    const d = Math.abs(r.share_set - r.share_dataset) * 100;
    if (of === null || d > max) { max = d; of = r.name; }
  }
  return { maxDeviationPp: max, maxDeviationOf: of };
}

/**
 * Detection: first every label in at least one image (rarest label first, the first image in hash
 * order that has it), then one image at a time, the one of the next DETECTION_WINDOW unchosen images
 * (hash order) that brings the set's label shares of annotations closest to the pool's (sum of
 * squared differences; the earlier in hash order wins a tie).
 */
function selectDetection(pool: readonly Item[], categories: readonly Category[], size: number, seed: number): Selection {
  const ordered = hashOrder(pool, seed);
  const labelIds = new Map<number, number>(); // category index -> dense index
  const perItem = ordered.map((item) => {
    const counts = new Map<number, number>();
    for (const a of item.annotations) {
      if (!isShape(a)) continue;
      if (!labelIds.has(a.label!)) labelIds.set(a.label!, labelIds.size);
      const l = labelIds.get(a.label!)!;
      counts.set(l, (counts.get(l) ?? 0) + 1);
    }
    return { labels: [...counts.keys()], counts: [...counts.values()], total: [...counts.values()].reduce((s, n) => s + n, 0) };
  });
  const labelCategory = [...labelIds.keys()];
  const names = labelCategory.map((l) => className(categories, l));
  const L = labelCategory.length;
  const dataset = new Float64Array(L);
  for (const p of perItem) p.labels.forEach((l, k) => { dataset[l] += p.counts[k]; });
  const datasetTotal = dataset.reduce((s, n) => s + n, 0);
  const target = dataset.map((n) => (datasetTotal ? n / datasetTotal : 0));

  const taken = new Uint8Array(ordered.length);
  const chosen: number[] = [];
  const set = new Float64Array(L);
  let setTotal = 0;
  const take = (i: number) => {
    taken[i] = 1;
    chosen.push(i);
    perItem[i].labels.forEach((l, k) => { set[l] += perItem[i].counts[k]; });
    setTotal += perItem[i].total;
  };

  // cover: rarest label first (ties by hash of the name)
  const covered = new Uint8Array(L);
  const order = byHash(seed);
  const rarest = [...Array(L).keys()].sort((a, b) => dataset[a] - dataset[b] || order(names[a], names[b]));
  const firstWith = new Int32Array(L).fill(-1);
  perItem.forEach((p, i) => { for (const l of p.labels) if (firstWith[l] < 0) firstWith[l] = i; });
  for (const l of rarest) {
    if (chosen.length >= size) break;
    if (covered[l]) continue;
    // not taken yet: taking it would have covered l
    const i = firstWith[l];
    take(i);
    for (const m of perItem[i].labels) covered[m] = 1;
  }

  // balance: the next DETECTION_WINDOW unchosen images in hash order are the candidates
  let cursor = 0;
  const window: number[] = [];
  const refill = () => {
    while (window.length < DETECTION_WINDOW && cursor < ordered.length) {
      if (!taken[cursor]) window.push(cursor);
      cursor++;
    }
  };
  while (chosen.length < size) {
    refill();
    let best = -1;
    let bestCost = Infinity;
    for (let w = 0; w < window.length; w++) {
      const p = perItem[window[w]];
      const total = setTotal + p.total;
      let cost = 0;
      if (total > 0) {
        for (let l = 0; l < L; l++) {
          const d = set[l] / total - target[l];
          cost += d * d;
        }
        // the candidate's own labels: replace their terms
        p.labels.forEach((l, k) => {
          const before = set[l] / total - target[l];
          const after = (set[l] + p.counts[k]) / total - target[l];
          cost += after * after - before * before;
        });
      }
      if (cost < bestCost - 1e-15) { bestCost = cost; best = w; }
    }
    take(window[best]);
    window.splice(best, 1);
  }

  const labels = labelShares(pool, chosen.map((i) => ordered[i]), categories);
  const strata = [report('all', pool.length, size, pool.length, size)];
  return { stratify: 'detection', spread: false, chosen: chosen.map((i) => ({ item: ordered[i], stratum: 'all' })), strata, labels, ...largestDeviation(labels) };
}

/** Each label's annotations (shapes) in the pool and in the set, with their shares; by name. */
function labelShares(pool: readonly Item[], chosen: readonly Item[], categories: readonly Category[]): StratumReport[] {
  const count = (items: readonly Item[]) => {
    const counts = new Map<number, number>();
    for (const item of items) for (const a of item.annotations) if (isShape(a)) counts.set(a.label!, (counts.get(a.label!) ?? 0) + 1);
    return counts;
  };
  const inPool = count(pool);
  const inSet = count(chosen);
  const sum = (m: Map<number, number>) => [...m.values()].reduce((s, n) => s + n, 0);
  const poolTotal = sum(inPool);
  const setTotal = sum(inSet);
  return [...inPool].map(([label, n]) => report(className(categories, label), n, inSet.get(label) ?? 0, poolTotal, setTotal))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
