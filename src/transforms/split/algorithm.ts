/**
 * The split itself (`splitDataset`): hash-ordered, stratified, then balanced by a few swaps.
 *
 * 1. Units: an item, or every item sharing a group key (an attribute value, an id regex match).
 * 2. Each unit gets u = hash(seed, key) in [0, 1). Units are sorted by u, so the input order never
 *    matters, and a unit's u decides where it goes: low u to the first subset, high u to the last.
 * 3. Strata: classification by the unit's class; detection/segmentation by the rarest label (fewest
 *    annotations overall) the unit has. Each stratum, in u order, is cut at its share of every
 *    subset (items rounded so each stratum is exact to ±1 and the totals too).
 * 4. detection/segmentation: greedy swaps between subsets, the pair that lowers the squared
 *    deviation of annotation counts from their targets most, until every label's share in every
 *    subset is within BALANCED_PP of the whole, or no swap helps.
 * Growing the dataset moves old units only where a stratum's cut points shift (a few per stratum)
 * plus the swaps, which are few because step 3 starts close.
 */
import { UsageError } from '../../diagnostics.js';
import { parseRegex } from '../args.js';
import type { Annotation, Category, Item } from '../../model.js';
import { unitHash } from './hash.js';

export const SPLIT_TASKS = ['classification', 'detection', 'segmentation'] as const;
export type SplitTask = typeof SPLIT_TASKS[number];

export interface SplitOptions {
  /** Subset names with their shares, in order: each > 0, together 1 (±1e-6). */
  ratios: readonly (readonly [string, number])[] | Readonly<Record<string, number>>;
  /** An integer; default 0. */
  seed?: number;
  /** Default: detection when an annotation other than a `label` has a label, else classification. */
  task?: SplitTask;
  /** Items with the same value of this item attribute go to the same subset. */
  group?: string;
  /** Items whose ids give the same match (its first capture group, if it has one) go together. */
  groupRegex?: RegExp | string;
  /** Items of this subset stay in it; the others are split. The ratios must not name it. */
  keep?: string;
  /** For label names in the report. */
  categories?: readonly Category[];
}

export interface SubsetReport {
  name: string;
  /** The share asked for; null for the kept subset. */
  ratio: number | null;
  items: number;
  /** Share of the split items (the kept subset: of all items). */
  share: number;
  /**
   * Largest |share of a label in this subset - its share in all split items|, in percentage points:
   * shares of annotations (detection, segmentation) or of items (classification); null when the
   * subset has nothing to measure.
   */
  maxDeviation: number | null;
  label: string | null;
  kept?: boolean;
}

export interface SplitReport {
  task: SplitTask;
  seed: number;
  /** Items split (all but the kept subset's). */
  items: number;
  /** Units split: groups and ungrouped items. */
  units: number;
  /** Units of more than one item. */
  groups: number;
  /** With group/groupRegex: items without the attribute or not matching, split on their own. */
  ungrouped: number;
  /** Item ids outside groups that more than one item has (in different subsets): each such set is kept together. */
  sharedIds: number;
  /** With keep and group/groupRegex: groups that have items in the kept subset and others split elsewhere. */
  straddlingGroups: number;
  /** Units the balancing swapped away from where their hash and stratum put them. */
  balanced: number;
  /** Items whose subset differs from the one they came with. */
  changed: number;
  subsets: SubsetReport[];
}

export interface SplitResult { items: Item[]; report: SplitReport }

/** A swap is taken when every label is within this of its share in the whole (percentage points). */
const BALANCED_PP = 0.25;
/** Candidates per side evaluated for a swap, by the first-order gain. */
const CANDIDATES = 24;
/** Weight of the items-per-subset term against the label terms (matters only for groups). */
const ITEM_WEIGHT = 10;

/** Checks names and shares: > 0, unique, sum 1 ±1e-6, not the kept subset. */
export function checkRatios(ratios: SplitOptions['ratios'], keep?: string, owner = "transform 'split'"): [string, number][] {
  const list: [string, number][] = Array.isArray(ratios)
    ? ratios.map(([n, r]) => [n, r])
    : Object.entries(ratios as Record<string, number>);
  if (!list.length) throw new UsageError(`${owner}: no ratios; give them as train=0.8,val=0.1,test=0.1`);
  const seen = new Set<string>();
  for (const [name, ratio] of list) {
    if (!name) throw new UsageError(`${owner}: a ratio without a subset name; give them as train=0.8,val=0.1,test=0.1`);
    if (seen.has(name)) throw new UsageError(`${owner}: subset '${name}' is named twice in the ratios`);
    seen.add(name);
    if (!Number.isFinite(ratio) || ratio <= 0) throw new UsageError(`${owner}: the ratio of '${name}' must be a number > 0; got '${ratio}'`);
    if (name === keep) throw new UsageError(`${owner}: the ratios name the kept subset '${keep}'; its items stay as they are, give the ratios of the other subsets only`);
  }
  const sum = list.reduce((s, [, r]) => s + r, 0);
  if (Math.abs(sum - 1) > 1e-6) throw new UsageError(`${owner}: the ratios must add up to 1; ${list.map(([n, r]) => `${n}=${r}`).join(',')} add up to ${+sum.toFixed(6)}`);
  return list;
}

/** detection when any annotation other than a `label` carries a label, else classification. */
export function inferTask(items: readonly Item[]): SplitTask {
  for (const item of items) for (const a of item.annotations) if (a.label !== undefined && a.type !== 'label') return 'detection';
  return 'classification';
}

const SEGMENTS = new Set(['polygon', 'mask', 'ellipse']);
function counts(a: Annotation, task: SplitTask): boolean {
  if (a.label === undefined) return false;
  if (task === 'segmentation') return SEGMENTS.has(a.type);
  return a.type !== 'label' && a.type !== 'caption';
}

/** The class of an item for classification: its first `label` annotation's label, undefined without one. */
export function classOf(item: Item): number | undefined {
  for (const a of item.annotations) if (a.type === 'label' && a.label !== undefined) return a.label;
  return undefined;
}

/**
 * The units in u order, flat: unit k has items `members[memberStart[k] .. memberStart[k+1])` and
 * dense labels with counts at `labels/counts[labelStart[k] .. labelStart[k+1])`, in label order.
 */
interface Units {
  length: number;
  weight: Float64Array;
  memberStart: Int32Array;
  members: Int32Array;
  labelStart: Int32Array;
  labels: Int32Array;
  counts: Float64Array;
  subset: Int32Array;
}

export function splitDataset(items: readonly Item[], options: SplitOptions): SplitResult {
  const keep = options.keep;
  const ratios = checkRatios(options.ratios, keep);
  const seed = options.seed ?? 0;
  if (!Number.isSafeInteger(seed)) throw new UsageError(`transform 'split': seed must be an integer; got '${seed}'`);
  if (options.group !== undefined && options.groupRegex !== undefined) throw new UsageError("transform 'split': give group (an attribute) or group_regex (on ids), not both");
  const regex = typeof options.groupRegex === 'string' ? parseRegex(options.groupRegex, 'split') : options.groupRegex;
  const rest: number[] = [];
  items.forEach((item, i) => { if (keep === undefined || item.subset !== keep) rest.push(i); });
  const task = options.task ?? inferTask(rest.map((i) => items[i]));
  const S = ratios.length;
  const r = ratios.map(([, x]) => x);

  const groupKey = (item: Item): string | undefined => {
    if (options.group !== undefined) {
      const value = item.attributes?.[options.group];
      return value === undefined ? undefined : `g:${String(value)}`; // video 5 from COCO and "5" from CVAT are one
    }
    const m = regex?.exec(item.id);
    return m ? `g:${m[1] ?? m[0]}` : undefined;
  };

  // Units, keyed so that an item alone never shares a key with a group.
  let ungrouped = 0;
  const byKey = new Map<string, number>();
  const keys: string[] = [];
  const shared = new Set<string>();
  const unitOf = new Int32Array(items.length).fill(-1);
  for (const i of rest) {
    const item = items[i];
    let key = groupKey(item);
    if (key === undefined) {
      if (options.group !== undefined || regex) ungrouped++;
      key = `i:${item.id}`; // not the subset: splitting a split again must give the same split
    }
    let k = byKey.get(key);
    if (k === undefined) { byKey.set(key, k = keys.length); keys.push(key); } else if (key.startsWith('i:')) shared.add(key);
    unitOf[i] = k;
  }
  // Groups the kept subset has a part of: their other items are split all the same (leaving the kept
  // subset alone is the promise), but the caller is told.
  let straddlingGroups = 0;
  if (keep !== undefined && (options.group !== undefined || regex)) {
    const kept = new Set<string>();
    items.forEach((item) => { if (item.subset === keep) { const g = groupKey(item); if (g !== undefined) kept.add(g); } });
    for (const key of keys) if (kept.has(key)) straddlingGroups++;
  }
  // Renumber the units in (u, key) order: from here on nothing depends on the input order.
  const u = keys.map((key) => unitHash(key, seed));
  const order = keys.map((_, k) => k).sort((a, b) => u[a] - u[b] || (keys[a] < keys[b] ? -1 : keys[a] > keys[b] ? 1 : 0));
  const rank = new Int32Array(keys.length);
  order.forEach((k, position) => { rank[k] = position; });
  const U = keys.length;
  const memberStart = new Int32Array(U + 1);
  for (const i of rest) memberStart[(unitOf[i] = rank[unitOf[i]]) + 1]++;
  for (let k = 0; k < U; k++) memberStart[k + 1] += memberStart[k];
  const members = new Int32Array(rest.length);
  const fill = memberStart.slice(0, U);
  for (const i of rest) members[fill[unitOf[i]]++] = i; // items of a unit in input order: only summed

  // Dense label indices in label order; -1, classification's unlabeled class, first.
  const itemLabels = (item: Item, each: (label: number) => void) => {
    if (task === 'classification') each(classOf(item) ?? -1);
    else for (const a of item.annotations) if (counts(a, task)) each(a.label!);
  };
  const raw = new Set<number>();
  for (const i of rest) itemLabels(items[i], (l) => raw.add(l));
  const labelOf = [...raw].sort((a, b) => a - b);
  const dense = new Map(labelOf.map((l, d) => [l, d]));
  const L = labelOf.length;
  const total = new Float64Array(L);
  const scratch = new Float64Array(L);
  const touched: number[] = [];
  const labelStart = new Int32Array(U + 1);
  const flatLabels: number[] = [];
  const flatCounts: number[] = [];
  const weight = new Float64Array(U);
  for (let k = 0; k < U; k++) {
    weight[k] = memberStart[k + 1] - memberStart[k];
    for (let m = memberStart[k]; m < memberStart[k + 1]; m++) {
      itemLabels(items[members[m]], (l) => { const d = dense.get(l)!; if (scratch[d] === 0) touched.push(d); scratch[d]++; });
    }
    sortSmall(touched);
    for (const d of touched) { flatLabels.push(d); flatCounts.push(scratch[d]); total[d] += scratch[d]; scratch[d] = 0; }
    touched.length = 0;
    labelStart[k + 1] = flatLabels.length;
  }
  const units: Units = {
    length: U, weight, memberStart, members, labelStart,
    labels: Int32Array.from(flatLabels), counts: Float64Array.from(flatCounts), subset: new Int32Array(U),
  };

  // Strata: classification by the unit's (most frequent) class, else by its rarest label; -1: none.
  const strata = new Map<number, number[]>();
  for (let k = 0; k < U; k++) {
    let best = -1;
    for (let j = labelStart[k]; j < labelStart[k + 1]; j++) {
      const d = units.labels[j];
      if (task === 'classification' && labelOf[d] < 0) continue;
      if (best < 0 || (task === 'classification' ? units.counts[j] > units.counts[best] : total[d] < total[units.labels[best]])) best = j;
    }
    const stratum = best >= 0 ? units.labels[best] : labelStart[k] < labelStart[k + 1] ? units.labels[labelStart[k]] : -1;
    let list = strata.get(stratum);
    if (!list) strata.set(stratum, list = []);
    list.push(k);
  }

  // Cut each stratum, in u order, at its share of every subset, carrying the rounding over.
  const carry = new Float64Array(S);
  for (const stratum of [...strata.keys()].sort((a, b) => a - b)) {
    const list = strata.get(stratum)!;
    const W = list.reduce((s, k) => s + weight[k], 0);
    const target = r.map((x) => Math.floor(x * W));
    const want = r.map((x, s) => x * W - target[s] + carry[s]);
    let left = W - target.reduce((a, b) => a + b, 0);
    const byWant = want.map((_, s) => s).sort((a, b) => want[b] - want[a] || a - b);
    for (let j = 0; left > 0; j = (j + 1) % S, left--) target[byWant[j]]++;
    const actual = new Float64Array(S);
    let position = 0, s = 0, edge = target[0];
    for (const k of list) {
      const mid = position + weight[k] / 2;
      while (s < S - 1 && mid >= edge) edge += target[++s];
      units.subset[k] = s;
      actual[s] += weight[k];
      position += weight[k];
    }
    for (let j = 0; j < S; j++) carry[j] += r[j] * W - actual[j];
  }

  const initial = units.subset.slice();
  if (task !== 'classification' && S > 1) balance(units, r, L, total);
  let balanced = 0;
  for (let k = 0; k < U; k++) if (units.subset[k] !== initial[k]) balanced++;

  // The output: the same items, in the same order, with their new subsets.
  let changed = 0;
  const names = ratios.map(([n]) => n);
  const out = items.map((item, i) => {
    const name = unitOf[i] < 0 ? item.subset : names[units.subset[unitOf[i]]];
    if (name === item.subset) return item;
    changed++;
    return { ...item, subset: name };
  });

  const labelName = (d: number) => {
    const l = labelOf[d];
    return l < 0 ? '(unlabeled)' : options.categories?.[l]?.name ?? `label ${l}`;
  };
  const counted = new Float64Array(S * L);
  const size = new Float64Array(S);
  for (let k = 0; k < U; k++) {
    const s = units.subset[k];
    size[s] += weight[k];
    for (let j = labelStart[k]; j < labelStart[k + 1]; j++) counted[s * L + units.labels[j]] += units.counts[j];
  }
  const all = total.reduce((a, b) => a + b, 0);
  const subsets: SubsetReport[] = names.map((name, s) => {
    let inSubset = 0;
    for (let d = 0; d < L; d++) inSubset += counted[s * L + d];
    let worst = -1, label = -1;
    if (inSubset > 0) {
      for (let d = 0; d < L; d++) {
        const dev = Math.abs(counted[s * L + d] / inSubset - total[d] / all) * 100;
        if (dev > worst) { worst = dev; label = d; }
      }
    }
    return {
      name, ratio: r[s], items: size[s], share: rest.length ? size[s] / rest.length : 0,
      maxDeviation: worst < 0 ? null : worst, label: label < 0 ? null : labelName(label),
    };
  });
  if (keep !== undefined) {
    const keptItems = items.length - rest.length;
    subsets.push({ name: keep, ratio: null, items: keptItems, share: items.length ? keptItems / items.length : 0, maxDeviation: null, label: null, kept: true });
  }
  let groups = 0;
  for (let k = 0; k < U; k++) if (weight[k] > 1) groups++;
  return { items: out, report: { task, seed, items: rest.length, units: U, groups, ungrouped, sharedIds: shared.size, straddlingGroups, balanced, changed, subsets } };
}

/**
 * Greedy swaps between the subset with the worst label share and another, each the best of
 * CANDIDATES x CANDIDATES pairs picked by first-order gain, while a swap lowers
 * F = sum over subsets s, labels l of ((count - r_s * total_l) / (r_s * all))^2 + ITEM_WEIGHT * items term.
 */
function balance(units: Units, r: number[], L: number, total: Float64Array): void {
  const S = r.length;
  const U = units.length;
  const { labelStart, labels, counts: n, weight, subset } = units;
  const all = total.reduce((a, b) => a + b, 0);
  if (all === 0) return;
  const N = weight.reduce((a, b) => a + b, 0);
  const count = new Float64Array(S * L);
  const size = new Float64Array(S);
  for (let k = 0; k < U; k++) {
    size[subset[k]] += weight[k];
    for (let j = labelStart[k]; j < labelStart[k + 1]; j++) count[subset[k] * L + labels[j]] += n[j];
  }
  const scale = r.map((x) => x * all);
  const target = new Float64Array(S * L);
  for (let s = 0; s < S; s++) for (let d = 0; d < L; d++) target[s * L + d] = r[s] * total[d];
  const sq = (s: number, d: number, delta: number) => { const e = (count[s * L + d] + delta - target[s * L + d]) / scale[s]; return e * e; };
  const sizeSq = (s: number, delta: number) => { const e = (size[s] + delta - r[s] * N) / (r[s] * N); return e * e; };
  const limit = Math.ceil(U * 0.005) + 50;
  const delta = new Float64Array(L);
  const touched: number[] = [];
  const stuck = new Set<number>();
  const gain = new Float64Array(S * L);
  const fromS = Array.from({ length: S }, () => new TopK(CANDIDATES));
  const fromT = Array.from({ length: S }, () => new TopK(CANDIDATES));

  for (let step = 0; step < limit; step++) {
    // The subset with the largest label-share deviation still worth working on.
    let worst = BALANCED_PP / 100, s = -1;
    for (let k = 0; k < S; k++) {
      if (stuck.has(k)) continue;
      let inK = 0;
      for (let d = 0; d < L; d++) inK += count[k * L + d];
      for (let d = 0; d < L; d++) {
        const dev = inK > 0 ? Math.abs(count[k * L + d] / inK - total[d] / all) : 1;
        if (dev > worst) { worst = dev; s = k; }
      }
    }
    if (s < 0) break;
    // Moving one annotation of d from s to t lowers F by about 2 gain[t * L + d].
    for (let t = 0; t < S; t++) {
      fromS[t].clear();
      fromT[t].clear();
      if (t === s) continue;
      for (let d = 0; d < L; d++) {
        gain[t * L + d] = (count[s * L + d] - target[s * L + d]) / (scale[s] * scale[s]) - (count[t * L + d] - target[t * L + d]) / (scale[t] * scale[t]);
      }
    }
    for (let k = 0; k < U; k++) {
      const at = subset[k];
      if (at === s) {
        for (let t = 0; t < S; t++) {
          if (t === s) continue;
          let g = 0;
          for (let j = labelStart[k]; j < labelStart[k + 1]; j++) g += n[j] * gain[t * L + labels[j]];
          fromS[t].offer(k, g);
        }
      } else {
        let g = 0;
        for (let j = labelStart[k]; j < labelStart[k + 1]; j++) g -= n[j] * gain[at * L + labels[j]];
        fromT[at].offer(k, g);
      }
    }
    let best = -1e-12, bestA = -1, bestB = -1;
    for (let t = 0; t < S; t++) {
      if (t === s) continue;
      for (const a of fromS[t].units) {
        for (const b of fromT[t].units) {
          // The exact change of F when a goes s -> t and b goes t -> s.
          for (let j = labelStart[a]; j < labelStart[a + 1]; j++) { const d = labels[j]; touched.push(d); delta[d] -= n[j]; }
          for (let j = labelStart[b]; j < labelStart[b + 1]; j++) { const d = labels[j]; if (delta[d] === 0) touched.push(d); delta[d] += n[j]; }
          let change = 0;
          for (const d of touched) {
            const x = delta[d];
            if (x !== 0) change += sq(s, d, x) - sq(s, d, 0) + sq(t, d, -x) - sq(t, d, 0);
            delta[d] = 0;
          }
          touched.length = 0;
          const w = weight[b] - weight[a];
          if (w !== 0) change += ITEM_WEIGHT * (sizeSq(s, w) - sizeSq(s, 0) + sizeSq(t, -w) - sizeSq(t, 0));
          if (change < best) { best = change; bestA = a; bestB = b; }
        }
      }
    }
    if (bestA < 0) { stuck.add(s); continue; }
    const t = subset[bestB];
    for (const [k, from, to] of [[bestA, s, t], [bestB, t, s]]) {
      for (let j = labelStart[k]; j < labelStart[k + 1]; j++) { count[from * L + labels[j]] -= n[j]; count[to * L + labels[j]] += n[j]; }
      size[from] -= weight[k];
      size[to] += weight[k];
      subset[k] = to;
    }
    stuck.clear();
  }
}

/** Insertion sort: the label lists of one unit are short, and Array#sort costs more per call. */
function sortSmall(list: number[]): void {
  for (let i = 1; i < list.length; i++) {
    const v = list[i];
    let j = i;
    for (; j > 0 && list[j - 1] > v; j--) list[j] = list[j - 1];
    list[j] = v;
  }
}

/** The k units with the highest scores; ties keep the earlier (lower u) unit. */
class TopK {
  readonly units: number[] = [];
  private readonly scores: number[] = [];
  constructor(private readonly k: number) {}
  clear(): void { this.units.length = 0; this.scores.length = 0; }
  offer(unit: number, score: number): void {
    if (this.units.length === this.k && score <= this.scores[this.k - 1]) return;
    let i = this.units.length;
    while (i > 0 && this.scores[i - 1] < score) i--;
    this.units.splice(i, 0, unit);
    this.scores.splice(i, 0, score);
    if (this.units.length > this.k) { this.units.pop(); this.scores.pop(); }
  }
}
