/**
 * `datum report --compare`: what differs between a dataset and another version of it (its conversion),
 * per subset and label. Items are matched by subset + id, or by id alone when that id is in one
 * subset of the other (subsets renamed: CVAT `Train` -> YOLO `train`); labels by name; within an
 * item and label, boxes by IoU (best pairs first), then the rest in order. Normalized coordinates
 * (YOLO labels without their images) are scaled by the other side's image size.
 */
import { rotatedBoxCorners } from '../geometry/polygon.js';
import type { Annotation, AnnotationType, Attributes, BboxAnnotation, Category, Item } from '../model.js';

/** A box edge that moved by more than this (pixels) is a moved box. */
export const MOVE_TOLERANCE = 1;
/** The same for boxes with no image size on either side (fractions of the image): a pixel of a 1000 px image. */
export const FRACTION_TOLERANCE = 0.001;
/** Examples kept per kind of difference. */
const EXAMPLES = 10;
/** Boxes of different labels with at least this IoU are the same object relabelled. */
const RELABEL_IOU = 0.9;

export interface CountRow { subset: string; label: string; kind: AnnotationType; source: number; other: number }
export interface MovedBox {
  item: string; label: string; shift: number; source: number[]; other: number[];
  /** The coordinates and the shift are fractions of the image (no size known on either side). */
  fractions?: boolean;
  /** Degrees clockwise here and there, when either box is rotated. */
  rotation?: [number, number];
  /** The item with just the two boxes, label 0 here and 1 there (see PAIR_CATEGORIES), to draw. */
  picture: Item;
}
/** The categories of a moved box's picture: the box here in blue, there in orange. */
export const PAIR_CATEGORIES: Category[] = [{ name: 'here', color: [0, 114, 178] }, { name: 'there', color: [213, 94, 0] }];
export interface Relabel { from: string; to: string; count: number }

export interface Comparison {
  items: { source: number; other: number; matched: number; byIdOnly: number };
  onlySource: string[];
  onlySourceCount: number;
  onlyOther: string[];
  onlyOtherCount: number;
  /** Which subset of the other dataset each source subset's items were found in. */
  subsetPairs: { source: string; other: string; items: number }[];
  /** Annotation counts per source subset, label and kind, over the matched and unmatched items. */
  rows: CountRow[];
  /** `maxShift` in pixels; `inFractions`: paired boxes compared as fractions of the image (FRACTION_TOLERANCE). */
  /** `unmeasured`: paired boxes with normalized coordinates on one side only and no image size on either (not comparable). */
  boxes: { paired: number; moved: number; maxShift: number; inFractions: number; unmeasured: number; examples: MovedBox[] };
  relabelled: Relabel[];
  /** Categories by name: only on one side, or with another parent (SOP super-classes lost). */
  labels: { onlySource: string[]; onlyOther: string[]; parentChanged: { name: string; source?: string; other?: string }[] };
  /** Annotations (and items, as label '(item)') with an attribute lost or changed; keys only there are `added`. */
  attributes: { changed: number; lost: Record<string, number>; added: Record<string, number>; examples: { item: string; label: string; source: Attributes; other: Attributes }[] };
  identical: boolean;
}

const where = (item: Item) => (item.subset ? `${item.subset}/${item.id}` : item.id);

function iou(a: number[], b: number[]): number {
  const w = Math.min(a[2], b[2]) - Math.max(a[0], b[0]);
  const h = Math.min(a[3], b[3]) - Math.max(a[1], b[1]);
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter);
}

/** A box as [x0, y0, x1, y1] in pixels of `size` when it is normalized (and a size is known). */
function corners(a: BboxAnnotation, normalized: boolean, size: { width?: number; height?: number } | undefined): number[] {
  const [sx, sy] = normalized && size?.width && size.height ? [size.width, size.height] : [1, 1];
  return [a.x * sx, a.y * sy, (a.x + a.w) * sx, (a.y + a.h) * sy];
}

/** A box's four corners, its rotation applied, scaled as `corners` scales. */
function rotatedCorners(a: BboxAnnotation, normalized: boolean, size: { width?: number; height?: number } | undefined): number[] {
  const [sx, sy] = normalized && size?.width && size.height ? [size.width, size.height] : [1, 1];
  return rotatedBoxCorners(a).map((v, k) => v * (k % 2 ? sy : sx));
}

/**
 * How far two boxes' corners are apart: for each corner the distance (the larger of x and y) to the
 * nearest corner of the other box, the largest of these. An edge that moves moves its corners by as
 * much; a rotation that is lost or gained moves them too; the same rectangle whichever corner its
 * rotation starts from is 0.
 */
function cornerShift(p: readonly number[], q: readonly number[]): number {
  const far = (a: readonly number[], b: readonly number[]) => {
    let worst = 0;
    for (let i = 0; i < a.length; i += 2) {
      let nearest = Infinity;
      for (let j = 0; j < b.length; j += 2) nearest = Math.min(nearest, Math.max(Math.abs(a[i] - b[j]), Math.abs(a[i + 1] - b[j + 1])));
      worst = Math.max(worst, nearest);
    }
    return worst;
  };
  return Math.max(far(p, q), far(q, p));
}

/** What one annotation carries besides its geometry, for the attribute comparison. */
function attributesOf(a: Annotation): Attributes {
  const out: Attributes = { ...(a.attributes ?? {}) };
  if (a.occluded) out.occluded = true;
  return out;
}

/** The other dataset, held in memory (keyed by subset + id and by id) while the source streams by. */
export class Comparer {
  private readonly bySubsetId = new Map<string, Item>();
  private readonly byId = new Map<string, Item[]>();
  private readonly used = new Set<Item>();
  private readonly counts = new Map<string, CountRow>();
  private readonly pairs = new Map<string, { source: string; other: string; items: number }>();
  private readonly relabels = new Map<string, Relabel>();
  private readonly result: Comparison = {
    items: { source: 0, other: 0, matched: 0, byIdOnly: 0 }, onlySource: [], onlySourceCount: 0, onlyOther: [], onlyOtherCount: 0,
    subsetPairs: [], rows: [], boxes: { paired: 0, moved: 0, maxShift: 0, inFractions: 0, unmeasured: 0, examples: [] }, relabelled: [],
    labels: { onlySource: [], onlyOther: [], parentChanged: [] }, attributes: { changed: 0, lost: {}, added: {}, examples: [] }, identical: false,
  };

  private sourceCategories: readonly Category[] = [];

  constructor(private readonly otherCategories: readonly Category[]) {}

  /** The source's categories, known once it is imported (after the other was read). */
  setSourceCategories(categories: readonly Category[]): void {
    this.sourceCategories = categories;
  }

  addOther(full: Item): void {
    this.result.items.other++;
    const item: Item = { id: full.id, subset: full.subset, normalized: full.normalized, attributes: full.attributes, annotations: full.annotations.map(slim) };
    if (full.image) item.image = { path: '', width: full.image.width, height: full.image.height };
    this.bySubsetId.set(`${item.subset}\0${item.id}`, item);
    const same = this.byId.get(item.id);
    if (same) same.push(item); else this.byId.set(item.id, [item]);
  }

  addSource(item: Item): void {
    this.result.items.source++;
    let other = this.bySubsetId.get(`${item.subset}\0${item.id}`);
    if (other && this.used.has(other)) other = undefined;
    if (!other) {
      const candidates = (this.byId.get(item.id) ?? []).filter((o) => !this.used.has(o));
      if (candidates.length === 1) { other = candidates[0]; this.result.items.byIdOnly++; }
    }
    if (!other) {
      this.result.onlySourceCount++;
      if (this.result.onlySource.length < EXAMPLES) this.result.onlySource.push(where(item));
      this.count(item.subset, item.annotations, this.sourceCategories, 'source');
      return;
    }
    this.used.add(other);
    this.result.items.matched++;
    const pairKey = `${item.subset}\0${other.subset}`;
    const pair = this.pairs.get(pairKey);
    if (pair) pair.items++; else this.pairs.set(pairKey, { source: item.subset, other: other.subset, items: 1 });
    this.count(item.subset, item.annotations, this.sourceCategories, 'source');
    this.count(item.subset, other.annotations, this.otherCategories, 'other');
    this.compareAttributes(item, '(item)', item.attributes ?? {}, other.attributes ?? {});
    this.compareItem(item, other);
  }

  finish(): Comparison {
    const r = this.result;
    for (const items of this.byId.values()) {
      for (const o of items) {
        if (this.used.has(o)) continue;
        r.onlyOtherCount++;
        if (r.onlyOther.length < EXAMPLES) r.onlyOther.push(where(o));
        this.count(this.sourceSubsetOf(o.subset), o.annotations, this.otherCategories, 'other');
      }
    }
    r.rows = [...this.counts.values()];
    r.subsetPairs = [...this.pairs.values()];
    r.relabelled = [...this.relabels.values()].sort((a, b) => b.count - a.count);
    r.labels = compareCategories(this.sourceCategories, this.otherCategories);
    r.identical = !r.onlySourceCount && !r.onlyOtherCount && r.rows.every((x) => x.source === x.other)
      && !r.boxes.moved && !r.relabelled.length && !r.attributes.changed && !Object.keys(r.attributes.added).length
      && !r.labels.onlySource.length && !r.labels.onlyOther.length && !r.labels.parentChanged.length;
    return r;
  }

  /** The source subset most items of an other subset came from (its own name when none). */
  private sourceSubsetOf(otherSubset: string): string {
    let best: { source: string; items: number } | undefined;
    for (const p of this.pairs.values()) if (p.other === otherSubset && (!best || p.items > best.items)) best = p;
    return best?.source ?? otherSubset;
  }

  private count(subset: string, annotations: readonly Annotation[], categories: readonly Category[], side: 'source' | 'other'): void {
    for (const a of annotations) {
      const label = labelName(a, categories);
      const key = `${subset}\0${label}\0${a.type}`;
      let row = this.counts.get(key);
      if (!row) this.counts.set(key, (row = { subset, label, kind: a.type, source: 0, other: 0 }));
      row[side]++;
    }
  }

  private compareItem(source: Item, other: Item): void {
    const groups = new Map<string, { s: Annotation[]; o: Annotation[] }>();
    const group = (a: Annotation, categories: readonly Category[], side: 's' | 'o') => {
      const key = `${labelName(a, categories)}\0${a.type}`;
      let g = groups.get(key);
      if (!g) groups.set(key, (g = { s: [], o: [] }));
      g[side].push(a);
    };
    for (const a of source.annotations) group(a, this.sourceCategories, 's');
    for (const a of other.annotations) group(a, this.otherCategories, 'o');
    // Each side's size scales the other's normalized boxes.
    const sBox = (a: Annotation) => corners(a as BboxAnnotation, Boolean(source.normalized), other.image);
    const oBox = (a: Annotation) => corners(a as BboxAnnotation, Boolean(other.normalized), source.image);
    // two sides without a size (YOLO labels without their images) stay fractions of the image
    const fractions = Boolean(source.normalized && other.normalized) && !sizeOf(source.image) && !sizeOf(other.image);
    // fractions on one side, pixels on the other and no size to relate them (CUB against its YOLO labels): not comparable
    const unscaled = Boolean(source.normalized) !== Boolean(other.normalized) && !sizeOf(source.image) && !sizeOf(other.image);
    const leftS: Annotation[] = [];
    const leftO: Annotation[] = [];
    for (const [key, g] of groups) {
      const label = key.slice(0, key.indexOf('\0'));
      const paired = !unscaled && (g.s[0]?.type === 'bbox' || g.o[0]?.type === 'bbox') ? pairBoxes(g.s.map(sBox), g.o.map(oBox)) : pairInOrder(g.s.length, g.o.length);
      const usedS = new Set<number>();
      const usedO = new Set<number>();
      for (const [i, j] of paired) {
        usedS.add(i); usedO.add(j);
        const s = g.s[i];
        const o = g.o[j];
        this.compareAttributes(source, label, attributesOf(s), attributesOf(o));
        if (s.type !== 'bbox') continue;
        const a = sBox(s);
        const b = oBox(o);
        const [sb, ob] = [s as BboxAnnotation, o as BboxAnnotation];
        const shift = cornerShift(rotatedCorners(sb, Boolean(source.normalized), other.image), rotatedCorners(ob, Boolean(other.normalized), source.image));
        const rotation: [number, number] | undefined = sb.rotation || ob.rotation ? [round(sb.rotation ?? 0), round(ob.rotation ?? 0)] : undefined;
        this.result.boxes.paired++;
        if (unscaled) { this.result.boxes.unmeasured++; continue; }
        if (fractions) this.result.boxes.inFractions++;
        if (shift > (fractions ? FRACTION_TOLERANCE : MOVE_TOLERANCE)) {
          this.result.boxes.moved++;
          if (!fractions) this.result.boxes.maxShift = Math.max(this.result.boxes.maxShift, shift);
          if (this.result.boxes.examples.length < EXAMPLES) this.result.boxes.examples.push({ item: where(source), label, shift, source: a.map(fractions ? roundFraction : round), other: b.map(fractions ? roundFraction : round), picture: pairPicture(source, other, a, b, rotation), ...(fractions ? { fractions } : {}), ...(rotation ? { rotation } : {}) });
        }
      }
      g.s.forEach((a, i) => { if (!usedS.has(i) && a.type === 'bbox') leftS.push(a); });
      g.o.forEach((a, j) => { if (!usedO.has(j) && a.type === 'bbox') leftO.push(a); });
    }
    if (!unscaled) this.findRelabels(leftS, leftO, sBox, oBox);
  }

  /** Unpaired boxes of one label that sit on an unpaired box of another: the label changed. */
  private findRelabels(leftS: Annotation[], leftO: Annotation[], sBox: (a: Annotation) => number[], oBox: (a: Annotation) => number[]): void {
    const taken = new Set<number>();
    for (const s of leftS) {
      const a = sBox(s);
      const j = leftO.findIndex((o, k) => !taken.has(k) && iou(a, oBox(o)) >= RELABEL_IOU);
      if (j < 0) continue;
      taken.add(j);
      const from = labelName(s, this.sourceCategories);
      const to = labelName(leftO[j], this.otherCategories);
      const key = `${from}\0${to}`;
      const r = this.relabels.get(key);
      if (r) r.count++; else this.relabels.set(key, { from, to, count: 1 });
    }
  }

  private compareAttributes(item: Item, label: string, s: Attributes, o: Attributes): void {
    const a = this.result.attributes;
    for (const k of Object.keys(o)) if (!(k in s)) a.added[k] = (a.added[k] ?? 0) + 1;
    const lost = Object.keys(s).filter((k) => !(k in o));
    if (!lost.length && Object.keys(s).every((k) => s[k] === o[k])) return;
    a.changed++;
    for (const k of lost) a.lost[k] = (a.lost[k] ?? 0) + 1;
    if (a.examples.length < EXAMPLES) a.examples.push({ item: where(item), label, source: s, other: o });
  }
}

/** The source item (its image, in pixels of the size known on either side) with the two boxes only. */
function pairPicture(source: Item, other: Item, a: number[], b: number[], rotation?: [number, number]): Item {
  const size = source.normalized ? other.image : source.image;
  const box = (c: number[], label: number): Annotation => ({ type: 'bbox', x: c[0], y: c[1], w: c[2] - c[0], h: c[3] - c[1], label, ...(rotation?.[label] ? { rotation: rotation[label] } : {}) });
  return {
    id: source.id, subset: source.subset,
    image: { path: source.image?.path ?? '', width: size?.width, height: size?.height },
    annotations: [box(a, 0), box(b, 1)],
  };
}

/**
 * What the comparison reads of an annotation held in memory: a box whole; of other kinds only the
 * label and attributes (a mask's runs or a polygon's points would make the held dataset many times larger).
 */
function slim(a: Annotation): Annotation {
  if (a.type === 'bbox') return a;
  const { type, label, attributes, occluded } = a;
  return { type, label, attributes, occluded } as Annotation;
}

export function labelName(a: Annotation, categories: readonly Category[]): string {
  return a.label === undefined ? '(no label)' : categories[a.label]?.name ?? `#${a.label}`;
}

function compareCategories(source: readonly Category[], other: readonly Category[]): Comparison['labels'] {
  const there = new Map(other.map((c) => [c.name, c]));
  const here = new Set(source.map((c) => c.name));
  const parentChanged: Comparison['labels']['parentChanged'] = [];
  for (const c of source) {
    const o = there.get(c.name);
    if (o && o.parent !== c.parent) parentChanged.push({ name: c.name, source: c.parent, other: o.parent });
  }
  return { onlySource: source.map((c) => c.name).filter((n) => !there.has(n)), onlyOther: other.map((c) => c.name).filter((n) => !here.has(n)), parentChanged };
}

const round = (v: number) => Math.round(v * 100) / 100;
const roundFraction = (v: number) => Math.round(v * 1e4) / 1e4;
const sizeOf = (image: Item['image']) => Boolean(image?.width && image.height);

/** Index pairs: the highest-IoU pairs first, then the boxes left on both sides in order. */
function pairBoxes(s: number[][], o: number[][]): [number, number][] {
  const candidates: [number, number, number][] = [];
  s.forEach((a, i) => o.forEach((b, j) => { const v = iou(a, b); if (v > 0) candidates.push([v, i, j]); }));
  candidates.sort((x, y) => y[0] - x[0] || x[1] - y[1] || x[2] - y[2]);
  const usedS = new Set<number>();
  const usedO = new Set<number>();
  const pairs: [number, number][] = [];
  for (const [, i, j] of candidates) {
    if (usedS.has(i) || usedO.has(j)) continue;
    usedS.add(i); usedO.add(j);
    pairs.push([i, j]);
  }
  const restS = s.map((_, i) => i).filter((i) => !usedS.has(i));
  const restO = o.map((_, j) => j).filter((j) => !usedO.has(j));
  for (let k = 0; k < Math.min(restS.length, restO.length); k++) pairs.push([restS[k], restO[k]]);
  return pairs;
}

function pairInOrder(n: number, m: number): [number, number][] {
  return Array.from({ length: Math.min(n, m) }, (_, k) => [k, k]);
}
