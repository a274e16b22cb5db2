/**
 * What the report shows about one dataset, gathered while its items stream by once: counts per
 * subset, label and kind, fixed-bin histograms and a fixed grid, so memory depends on the number of
 * labels and subsets, never on the number of items (the gallery keeps a few items per label).
 */
import { annotationBounds, groupObjects } from '../geometry/bounds.js';
import { probeImageSize } from '../media.js';
import { ANNOTATION_TYPES, type AnnotationType, type Category, type Item } from '../model.js';
import type { Bin } from './charts.js';

/** Counts over fixed bins: bin k holds values in [edges[k], edges[k+1]); the last bin is open. */
export class Histogram {
  readonly counts: number[];
  constructor(readonly edges: readonly number[], private readonly name: (lo: number, hi: number | undefined) => string) {
    this.counts = edges.map(() => 0);
  }

  add(value: number): void {
    if (!Number.isFinite(value) || value < this.edges[0]) return;
    let k = this.edges.length - 1;
    while (value < this.edges[k]) k--;
    this.counts[k]++;
  }

  bins(): Bin[] {
    return this.counts.map((count, k) => ({ label: this.name(this.edges[k], this.edges[k + 1]), count }));
  }
}

const POWERS_OF_TWO = Array.from({ length: 14 }, (_, k) => 2 ** k); // 1 .. 8192 px
const pixels = () => new Histogram([0, ...POWERS_OF_TWO], (lo, hi) => (hi === undefined ? `${lo}+` : `<${hi}`));
const shares = () => new Histogram(Array.from({ length: 10 }, (_, k) => k / 10), (lo) => lo.toFixed(1));
/** Aspect ratio w/h from 1/16 to 16, one bin per factor of two. */
const ratios = () => new Histogram([0, ...Array.from({ length: 9 }, (_, k) => 2 ** (k - 4))], (lo, hi) => (hi === undefined ? `${lo}+` : hi < 1 ? `<1/${1 / hi}` : `<${hi}`));
const OBJECT_EDGES = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 16, 32, 64, 128];

/** Cells per side of the box-centre heatmap. */
export const HEAT_SIDE = 16;
/** Distinct image sizes counted one by one; further sizes are counted together. */
const MAX_SIZES = 1000;
/** Items without a size in their annotations whose image file is read for its size (a sample: reading all is slow). */
export const PROBE_SAMPLE = 500;
/** Gallery: items kept per label, and labels for which items are kept. */
const GALLERY_PER_LABEL = 3;
const GALLERY_LABELS_KEPT = 200;

/** Kinds whose bounds are a box a detector would learn (points and lines have no meaningful box). */
const BOXED = new Set<AnnotationType>(['bbox', 'polygon', 'mask', 'ellipse']);

type KindCounts = Record<AnnotationType, number>;
const zeroKinds = (): KindCounts => Object.fromEntries(ANNOTATION_TYPES.map((t) => [t, 0])) as KindCounts;

export class DatasetAggregate {
  readonly itemsPerSubset = new Map<string, number>();
  readonly kindsPerSubset = new Map<string, KindCounts>();
  /** Label index (-1: no label) -> subset -> annotations. */
  readonly labelsPerSubset = new Map<number, Map<string, number>>();
  readonly boxWidth = pixels();
  readonly boxHeight = pixels();
  readonly boxWidthShare = shares();
  readonly boxHeightShare = shares();
  readonly aspect = ratios();
  readonly objectsPerImage = new Histogram(OBJECT_EDGES, (lo, hi) => (hi === undefined ? `${lo}+` : hi - lo === 1 ? String(lo) : `${lo}-${hi - 1}`));
  /** Box centres over the image, row-major, HEAT_SIDE x HEAT_SIDE. */
  readonly heat = new Array<number>(HEAT_SIDE * HEAT_SIDE).fill(0);
  /** Boxes measured, one per object (its bbox, else the bounds of its polygon, mask or ellipse). */
  boxes = 0;
  /** Boxes whose item has no known size (not in the share histograms nor the heatmap). */
  boxesWithoutSize = 0;
  readonly sizes = new Map<string, number>();
  otherSizes = 0;
  unknownSize = 0;
  /** Image files of the first PROBE_SAMPLE items without a size, their sizes once read (probeSizes). */
  private readonly unsized: string[] = [];
  readonly probed = new Map<string, number>();
  probeFailed = 0;
  normalizedItems = 0;
  readonly gallery = new Map<number, Item[]>();

  constructor(readonly categories: readonly Category[]) {}

  add(item: Item): void {
    const subset = item.subset;
    this.itemsPerSubset.set(subset, (this.itemsPerSubset.get(subset) ?? 0) + 1);
    let kinds = this.kindsPerSubset.get(subset);
    if (!kinds) this.kindsPerSubset.set(subset, (kinds = zeroKinds()));
    if (item.normalized) this.normalizedItems++;

    const { width, height } = item.image ?? {};
    const sized = Boolean(!item.normalized && width && height && width > 0 && height > 0);
    if (sized) this.countSize(`${width}x${height}`);
    else if (!item.normalized) this.unknownSize++;
    if (!sized && item.image?.path && this.unsized.length < PROBE_SAMPLE) this.unsized.push(item.image.path);
    // normalized coordinates are shares of the image already
    const [sw, sh] = item.normalized ? [1, 1] : sized ? [width!, height!] : [0, 0];

    for (const a of item.annotations) {
      kinds[a.type]++;
      const label = a.label ?? -1;
      let perSubset = this.labelsPerSubset.get(label);
      if (!perSubset) this.labelsPerSubset.set(label, (perSubset = new Map()));
      perSubset.set(subset, (perSubset.get(subset) ?? 0) + 1);
      if (label >= 0) this.keepForGallery(label, item);
    }
    // objects, not annotations: COCO's polygon and bbox of one object (one group and label) are one
    // object with one box, its bbox where it has one
    const objects = groupObjects(item.annotations.filter((a) => a.type !== 'label' && a.type !== 'caption'));
    for (const parts of objects) {
      const a = parts.find((p) => p.type === 'bbox') ?? parts.find((p) => BOXED.has(p.type));
      if (!a) continue;
      const b = annotationBounds(a);
      if (!b) continue;
      this.boxes++;
      const w = b.x1 - b.x0;
      const h = b.y1 - b.y0;
      // normalized boxes have no pixel size, nor an aspect ratio (the image's is unknown)
      if (!item.normalized) {
        this.boxWidth.add(w);
        this.boxHeight.add(h);
        if (w > 0 && h > 0) this.aspect.add(w / h);
      }
      if (!sw) { this.boxesWithoutSize++; continue; }
      this.boxWidthShare.add(Math.min(w / sw, 0.9999));
      this.boxHeightShare.add(Math.min(h / sh, 0.9999));
      const cx = Math.floor(((b.x0 + b.x1) / 2 / sw) * HEAT_SIDE);
      const cy = Math.floor(((b.y0 + b.y1) / 2 / sh) * HEAT_SIDE);
      if (cx >= 0 && cy >= 0 && cx < HEAT_SIDE && cy < HEAT_SIDE) this.heat[cy * HEAT_SIDE + cx]++;
    }
    this.objectsPerImage.add(objects.length);
  }

  /** Reads the sizes of the sampled image files (headers only), a few at a time. */
  async probeSizes(progress: (done: number, total: number) => void): Promise<void> {
    let next = 0;
    let done = 0;
    const worker = async () => {
      while (next < this.unsized.length) {
        const size = await probeImageSize(this.unsized[next++]);
        if (size) {
          const key = `${size.width}x${size.height}`;
          this.probed.set(key, (this.probed.get(key) ?? 0) + 1);
        } else {
          this.probeFailed++;
        }
        progress(++done, this.unsized.length);
      }
    };
    await Promise.all(Array.from({ length: Math.min(16, this.unsized.length) }, worker));
  }

  private countSize(key: string): void {
    const n = this.sizes.get(key);
    if (n !== undefined) this.sizes.set(key, n + 1);
    else if (this.sizes.size < MAX_SIZES) this.sizes.set(key, 1);
    else this.otherSizes++;
  }

  private keepForGallery(label: number, item: Item): void {
    let kept = this.gallery.get(label);
    if (!kept) {
      if (this.gallery.size >= GALLERY_LABELS_KEPT) return;
      this.gallery.set(label, (kept = []));
    }
    if (kept.length < GALLERY_PER_LABEL && !kept.includes(item)) kept.push(item);
  }

  labelName(label: number): string {
    return label < 0 ? '(no label)' : this.categories[label]?.name ?? `#${label}`;
  }

  /** Annotations of a label over all subsets. */
  labelTotal(label: number): number {
    let n = 0;
    for (const v of this.labelsPerSubset.get(label)?.values() ?? []) n += v;
    return n;
  }

  /** Subsets in first-seen order. */
  subsets(): string[] {
    return [...this.itemsPerSubset.keys()];
  }

  /**
   * Per subset, the labels with annotations in another subset but none in it (a label the model
   * is never evaluated or trained on there).
   */
  missingLabels(): Map<string, string[]> {
    const out = new Map<string, string[]>();
    const subsets = this.subsets();
    if (subsets.length < 2) return out;
    for (const [label, perSubset] of this.labelsPerSubset) {
      if (label < 0) continue;
      for (const s of subsets) {
        if (perSubset.get(s)) continue;
        if (!out.has(s)) out.set(s, []);
        out.get(s)!.push(this.labelName(label));
      }
    }
    return out;
  }
}
