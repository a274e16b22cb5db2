import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Diagnostic } from '../diagnostics.js';
import { hasFiniteNumbers, type Annotation, type AnnotationType, type Category, type Item } from '../model.js';
import { probeImageSize } from '../media.js';

export type ValidationTask = 'detection' | 'segmentation' | 'classification' | 'pose';

/** The annotation kinds each `--task` trains on (shapes that become boxes count for detection). */
export const TASK_KINDS: Record<ValidationTask, readonly AnnotationType[]> = {
  detection: ['bbox', 'polygon', 'mask', 'ellipse'],
  segmentation: ['polygon', 'mask'],
  classification: ['label'],
  pose: ['skeleton', 'points'],
};

/** Most common / least common label count above which `class-imbalance` is reported. */
export const IMBALANCE_RATIO = 10;
/** Pixels a box or keypoint may overshoot before it counts as outside (rounding of exported floats). */
const TOLERANCE = 0.5;
/** Image files probed at once. */
const PROBE_CONCURRENCY = 16;

export interface SemanticOptions {
  task?: ValidationTask;
  imbalanceRatio?: number;
}

const round = (v: number) => Math.round(v * 100) / 100;

/**
 * The semantic checks on the common model, for any format. `check(item)` is called once per item as
 * the import streams them; `finish()` reports what needs the whole dataset. Kept across items: label
 * counts per subset (labels x subsets numbers), item ids per subset and image paths (one string each,
 * ~100 bytes per item: ~12 MB for 118k items), and at most `keepMissing` missing-image findings.
 */
export class SemanticChecker {
  private readonly kinds: Set<AnnotationType> | null;
  private readonly ids = new Map<string, Set<string>>();
  private readonly imageSubset = new Map<string, string>();
  /** `name\0bytes` of each image file present -> where it was first seen. */
  private readonly imageCopies = new Map<string, { subset: string; file: string }>();
  private readonly labelCounts = new Map<string, number[]>();
  private readonly pending = new Set<Promise<void>>();
  private present = 0;
  private missing = 0;
  private readonly missingFindings: Diagnostic[] = [];

  constructor(
    private readonly categories: Category[],
    private readonly report: (d: Diagnostic, times?: number) => void,
    private readonly options: SemanticOptions = {},
    private readonly keepMissing = 1000,
  ) {
    this.kinds = options.task ? new Set(TASK_KINDS[options.task]) : null;
  }

  async check(item: Item): Promise<void> {
    const where = item.subset ? `${item.subset}/${item.id}` : item.id;
    const ids = this.ids.get(item.subset) ?? this.ids.set(item.subset, new Set()).get(item.subset)!;
    if (ids.has(item.id)) this.report({ severity: 'error', code: 'duplicate-item-id', item: where, message: `item id '${item.id}' appears twice in subset '${item.subset}'; a consumer keeps one of them` });
    ids.add(item.id);

    const counts = this.labelCounts.get(item.subset) ?? this.labelCounts.set(item.subset, new Array(this.categories.length).fill(0)).get(item.subset)!;
    const annotations = item.annotations.map((a, index) => ({ a, index })).filter(({ a }) => !this.kinds || this.kinds.has(a.type));
    if (!item.annotations.length) this.report({ severity: 'info', code: 'no-annotations', item: where, message: 'item has no annotations (a background image when training)' });
    else if (!annotations.length) this.report({ severity: 'warning', code: 'no-task-annotations', item: where, message: `item has no ${TASK_KINDS[this.options.task!].join('/')} annotation for task ${this.options.task}` });

    const size = item.normalized ? { width: 1, height: 1 } : item.image?.width && item.image?.height ? { width: item.image.width, height: item.image.height } : undefined;
    for (const { a, index } of annotations) {
      const at = { item: where, annotation: index };
      if (a.label !== undefined) {
        if (!Number.isInteger(a.label) || a.label < 0 || a.label >= this.categories.length) {
          this.report({ severity: 'error', code: 'unknown-label', ...at, message: `label index ${a.label} is not one of the ${this.categories.length} categories` });
          continue;
        }
        counts[a.label]++;
      }
      if (!hasFiniteNumbers(a)) {
        this.report({ severity: 'error', code: 'non-finite-coordinate', ...at, message: `${a.type} has a coordinate that is not a finite number` });
        continue;
      }
      this.checkShape(a, item, size, at);
    }

    const geometric = item.annotations.some((a) => a.type !== 'label' && a.type !== 'caption');
    const image = item.image;
    if (image?.path) await this.schedule(this.checkImage(image.path, size && !item.normalized ? size : undefined, geometric && !item.normalized, where, item.subset));
    else if (geometric && !size) this.report({ severity: 'warning', code: 'no-image-size', item: where, message: 'item has shapes but neither an image size nor an image file; pixel formats cannot place them' });
    if (image?.path) {
      const other = this.imageSubset.get(image.path);
      if (other === undefined) this.imageSubset.set(image.path, item.subset);
      else if (other !== item.subset) this.report({ severity: 'warning', code: 'subset-leakage', item: where, file: image.path, message: `the same image is in subsets '${other}' and '${item.subset}' (leakage between them)` });
    }
  }

  private checkShape(a: Annotation, item: Item, size: { width: number; height: number } | undefined, at: { item: string; annotation: number }): void {
    const unit = item.normalized ? ' (normalized)' : ' px';
    if (a.type === 'bbox') {
      if (!(a.w > 0 && a.h > 0)) {
        this.report({ severity: 'error', code: 'empty-box', ...at, message: `box has size ${round(a.w)} x ${round(a.h)}; a zero or negative size trains nothing or breaks loaders` });
        return;
      }
      if (size) this.checkInside(boxCorners(a), size, 'box', unit, at);
    } else if (a.type === 'ellipse') {
      if (!(a.rx > 0 && a.ry > 0)) this.report({ severity: 'error', code: 'empty-box', ...at, message: `ellipse has radii ${round(a.rx)} x ${round(a.ry)}` });
      else if (size) this.checkInside(boxCorners({ x: a.cx - a.rx, y: a.cy - a.ry, w: 2 * a.rx, h: 2 * a.ry, rotation: a.rotation }), size, 'ellipse', unit, at);
    } else if (a.type === 'polygon') {
      if (a.points.length < 6) this.report({ severity: 'error', code: 'polygon-too-few-points', ...at, message: `polygon has ${a.points.length >> 1} points; at least 3 are needed` });
      else if (Math.abs(shoelace(a.points)) < 1e-9) this.report({ severity: 'error', code: 'polygon-zero-area', ...at, message: `polygon of ${a.points.length >> 1} points has zero area` });
    } else if (a.type === 'skeleton' || a.type === 'points') {
      const category = a.label !== undefined ? this.categories[a.label] : undefined;
      if (a.type === 'skeleton' && category?.keypoints && a.points.length / 2 !== category.keypoints.length) {
        this.report({ severity: 'error', code: 'skeleton-point-count', ...at, message: `skeleton has ${a.points.length >> 1} points; category '${category.name}' has ${category.keypoints.length} keypoints` });
      }
      const box = a.group ? item.annotations.find((b) => b.type === 'bbox' && b.group === a.group && b.label === a.label) : undefined;
      if (box?.type === 'bbox' && !box.rotation) {
        let outside = 0;
        for (let i = 0; i + 1 < a.points.length; i += 2) {
          if (a.visibility && !a.visibility[i >> 1]) continue;
          const [x, y] = [a.points[i], a.points[i + 1]];
          if (x < box.x - TOLERANCE || y < box.y - TOLERANCE || x > box.x + box.w + TOLERANCE || y > box.y + box.h + TOLERANCE) outside++;
        }
        if (outside) this.report({ severity: 'warning', code: 'keypoint-outside-box', ...at, message: `${outside} keypoint${outside === 1 ? ' lies' : 's lie'} outside the object's box` });
      }
    }
  }

  private checkInside(corners: number[], size: { width: number; height: number }, what: string, unit: string, at: { item: string; annotation: number }): void {
    const xs = corners.filter((_, i) => i % 2 === 0), ys = corners.filter((_, i) => i % 2 === 1);
    const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
    const over = Math.max(-x0, -y0, x1 - size.width, y1 - size.height);
    const tolerance = unit === ' px' ? TOLERANCE : 1e-6;
    if (over <= tolerance) return;
    const disjoint = x1 <= 0 || y1 <= 0 || x0 >= size.width || y0 >= size.height;
    this.report(disjoint
      ? { severity: 'error', code: 'box-outside-image', ...at, message: `${what} lies entirely outside the ${size.width} x ${size.height} image (by ${round(over)}${unit}); a consumer drops or clips it to nothing` }
      : { severity: 'warning', code: 'box-partly-outside', ...at, message: `${what} extends ${round(over)}${unit} outside the ${size.width} x ${size.height} image` });
  }

  private async schedule(task: Promise<void>): Promise<void> {
    const p = task.finally(() => this.pending.delete(p));
    this.pending.add(p);
    if (this.pending.size >= PROBE_CONCURRENCY) await Promise.race(this.pending);
  }

  private async checkImage(file: string, size: { width: number; height: number } | undefined, needsSize: boolean, where: string, subset: string): Promise<void> {
    const stat = await fsp.stat(file).catch(() => null);
    if (!stat?.isFile()) {
      this.missing++;
      if (this.missingFindings.length < this.keepMissing) this.missingFindings.push({ severity: 'warning', code: 'image-missing', file, item: where, message: 'image file not found' });
      if (needsSize && !size) this.report({ severity: 'warning', code: 'no-image-size', item: where, message: 'item has shapes but no image size, and its image is missing' });
      return;
    }
    this.present++;
    // Copies of one image under images/train/ and images/val/ are different paths: the same file name
    // and byte size in two subsets is the same image too.
    const copy = `${path.basename(file)}\0${stat.size}`;
    const seen = this.imageCopies.get(copy);
    if (seen === undefined) this.imageCopies.set(copy, { subset, file });
    else if (seen.subset !== subset && seen.file !== file) {
      this.report({ severity: 'warning', code: 'subset-leakage', item: where, file, message: `the same image (file name and size) is in subsets '${seen.subset}' (${seen.file}) and '${subset}' (leakage between them)` });
    }
    const real = await probeImageSize(file);
    if (!real) {
      this.report({ severity: 'error', code: 'image-unreadable', file, item: where, message: 'image file is not an image that can be read (no size in its header)' });
    } else if (size && (real.width !== size.width || real.height !== size.height)) {
      this.report({ severity: 'error', code: 'image-size-mismatch', file, item: where, message: `annotations say ${size.width} x ${size.height}, the image is ${real.width} x ${real.height} (EXIF orientation applied); shapes land in the wrong place` });
    }
  }

  /** Whether no image of the dataset is present (after `finish`): annotations downloaded without media. */
  get imagesAbsent(): boolean { return this.missing > 0 && this.present === 0; }

  /** The whole-dataset checks, once every item was checked. */
  async finish(): Promise<void> {
    await Promise.all(this.pending);
    if (this.missing && !this.present) {
      this.report({ severity: 'info', code: 'images-absent', message: `none of the ${this.missing} images is present (annotations without media): image files and sizes were not checked` });
    } else if (this.missing) {
      for (const d of this.missingFindings) this.report(d);
      if (this.missing > this.missingFindings.length) this.report(this.missingFindings[0], this.missing - this.missingFindings.length);
    }

    const subsets = [...this.labelCounts.keys()];
    const total = this.categories.map((_, i) => subsets.reduce((n, s) => n + this.labelCounts.get(s)![i], 0));
    // Sub-labels (skeleton keypoints, VOC parts) are used through their parent, never on their own.
    const classes = this.categories.map((c, i) => ({ c, i })).filter(({ c }) => c.parent === undefined);
    // A parent used only through its children (SOP's super-classes over product classes) is in use too.
    const usedAsParent = new Set(this.categories.filter((c, i) => c.parent !== undefined && total[i] > 0).map((c) => c.parent));
    for (const { c, i } of classes) {
      if (!total[i] && !usedAsParent.has(c.name)) this.report({ severity: 'info', code: 'label-unused', message: `label '${c.name}' is defined but no ${this.kinds ? `${this.options.task} ` : ''}annotation uses it` });
    }
    const used = classes.filter(({ i }) => total[i] > 0).sort((a, b) => total[b.i] - total[a.i]);
    const ratio = this.options.imbalanceRatio ?? IMBALANCE_RATIO;
    if (used.length >= 2) {
      const most = used[0], least = used[used.length - 1];
      if (total[most.i] / total[least.i] > ratio) {
        this.report({ severity: 'warning', code: 'class-imbalance', message: `label '${most.c.name}' has ${total[most.i]} annotations, '${least.c.name}' ${total[least.i]}: ratio ${round(total[most.i] / total[least.i])} is over ${ratio}` });
      }
    }
    // A subset without any label (an unannotated test split) is not compared.
    const labeled = subsets.filter((s) => this.labelCounts.get(s)!.some((n) => n > 0));
    if (labeled.length >= 2) {
      for (const { c, i } of used) {
        for (const s of labeled) {
          if (!this.labelCounts.get(s)![i]) this.report({ severity: 'warning', code: 'label-missing-in-subset', message: `label '${c.name}' has annotations in ${labeled.filter((o) => this.labelCounts.get(o)![i]).map((o) => `'${o}'`).join(', ')} but none in subset '${s}'` });
        }
      }
    }
  }
}

/** The corners of a box rotated `rotation` degrees clockwise about its centre, flat x, y. */
function boxCorners(b: { x: number; y: number; w: number; h: number; rotation?: number }): number[] {
  const corners = [b.x, b.y, b.x + b.w, b.y, b.x + b.w, b.y + b.h, b.x, b.y + b.h];
  if (!b.rotation) return corners;
  const [cx, cy] = [b.x + b.w / 2, b.y + b.h / 2];
  const t = (b.rotation * Math.PI) / 180, cos = Math.cos(t), sin = Math.sin(t);
  const out: number[] = [];
  for (let i = 0; i < 8; i += 2) {
    const [dx, dy] = [corners[i] - cx, corners[i + 1] - cy];
    out.push(cx + dx * cos - dy * sin, cy + dx * sin + dy * cos);
  }
  return out;
}

function shoelace(p: number[]): number {
  let s = 0;
  for (let i = 0; i + 1 < p.length; i += 2) {
    const j = (i + 2) % (p.length - (p.length % 2));
    s += p[i] * p[j + 1] - p[j] * p[i + 1];
  }
  return s / 2;
}
