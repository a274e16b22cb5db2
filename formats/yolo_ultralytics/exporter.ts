import fsp from 'node:fs/promises';
import YAML from 'yaml';
import { ClassList, collect, imageFileName, type Annotation, type BboxAnnotation, type Category, type Dataset, type Item } from '../../src/model.js';
import type { Context, ExportSummary, OptionSpec, Options } from '../../src/plugin.js';
import { DatumError } from '../../src/diagnostics.js';
import { resolveInside, toPosixRelative } from '../../src/paths.js';
import { FileWriter } from '../../src/output.js';
import { probeItemSizes } from '../../src/media.js';
import { maskToBitmap } from '../../src/geometry/mask.js';
import { traceOuterContours } from '../../src/geometry/contour.js';
import { boxBounds, mergePolygonParts, pointBounds, polygonArea, rotatedBoxCorners } from '../../src/geometry/polygon.js';
import { CONFIG_FILE, IMAGE_EXTENSIONS, STANDARD_SPLITS, TASKS, clamp01, clampEdge, flipIndex, fmt, isImageFile, labelPathFor, splitOf, type Task } from './format.js';

export const exportOptions: readonly OptionSpec[] = [
  { name: 'task', type: 'string', choices: TASKS, description: 'what the labels describe; inferred from the annotations when absent' },
  { name: 'save-media', type: 'boolean', description: 'copy (hard-link where possible) the images into images/<split>/' },
  { name: 'keep-crowd', type: 'boolean', description: 'write crowd regions (is_crowd, COCO iscrowd: 1) as objects; by default they are skipped, as Ultralytics\' convert_coco does' },
];

/** Items whose image sizes are probed together (sharp reads headers in parallel). */
const BATCH = 128;

export async function exportUltralytics(dataset: Dataset, output: string, options: Options, ctx: Context): Promise<ExportSummary> {
  let task = options.task as Task | undefined;
  let items = dataset.items;
  if (!task) {
    const all = (await collect(dataset)).items;
    task = inferTask(all);
    items = all;
    ctx.reporter.info({ code: 'task-chosen', message: `exporting the ${task} task (inferred from the annotations; choose another with --task)` });
  }
  const tally = new Tally(ctx);
  const writer = new FileWriter();
  const exporter = task === 'classify'
    ? new ClassifyExporter(dataset.categories, output, writer, tally, ctx)
    : new LabelExporter(task, dataset.categories, output, writer, tally, ctx, options['save-media'] === true, options['keep-crowd'] === true);
  let batch: Item[] = [];
  let done = 0;
  const flushBatch = async () => {
    await exporter.prepare(batch);
    for (const item of batch) await exporter.add(item);
    done += batch.length;
    ctx.progress('writing labels', done);
    batch = [];
  };
  for await (const item of items) {
    batch.push(item);
    if (batch.length >= BATCH) await flushBatch();
  }
  await flushBatch();
  await exporter.finish();
  await writer.flush();
  return tally.summary(exporter.itemCount);
}

/**
 * skeletons -> pose, rotated boxes -> obb, polygons/masks without boxes -> segment,
 * only image labels -> classify, else detect.
 */
export function inferTask(items: Item[]): Task {
  const kinds = new Set<string>();
  let rotated = false;
  for (const item of items) {
    for (const a of item.annotations) {
      kinds.add(a.type);
      if (a.type === 'bbox' && normalizedAngle(a.rotation) !== 0) rotated = true;
    }
  }
  if (kinds.has('skeleton')) return 'pose';
  if (rotated) return 'obb';
  if ((kinds.has('polygon') || kinds.has('mask')) && !kinds.has('bbox')) return 'segment';
  if (kinds.has('label') && [...kinds].every((k) => k === 'label' || k === 'caption')) return 'classify';
  return 'detect';
}

function normalizedAngle(rotation: number | undefined): number {
  const r = ((rotation ?? 0) % 360 + 360) % 360;
  return Math.abs(r) < 1e-9 || Math.abs(r - 360) < 1e-9 ? 0 : r;
}

/** Why an annotation was not written, for the reasons that need saying. */
const WHY: Record<string, string> = {
  crowd: 'crowd regions (is_crowd) are not objects (--keep-crowd writes them)',
  duplicate: 'the same row is already in this label file (Ultralytics would remove it with "duplicate labels removed")',
  background: "'background' is not a YOLO class",
};

/** Counts what was written and dropped; drops are warned about once per item and reason. */
class Tally {
  readonly written: Record<string, number> = {};
  readonly dropped: Record<string, number> = {};
  private pending = new Map<string, number>();
  constructor(private readonly ctx: Context) {}

  write(kind: string): void { this.written[kind] = (this.written[kind] ?? 0) + 1; }
  drop(reason: string, count = 1): void {
    if (count <= 0) return;
    this.dropped[reason] = (this.dropped[reason] ?? 0) + count;
    this.pending.set(reason, (this.pending.get(reason) ?? 0) + count);
  }
  /** Warns about the drops of one item. */
  endItem(item: Item, file?: string): void {
    for (const [reason, count] of this.pending) {
      this.ctx.reporter.warn({ code: 'annotation-dropped', file, item: itemName(item), message: `${count} annotation(s) not written: ${reason}${WHY[reason] ? ` (${WHY[reason]})` : ''}` });
    }
    this.pending.clear();
  }
  summary(items: number): ExportSummary { return { items, annotations: this.written, dropped: this.dropped }; }
}

function itemName(item: Item): string {
  return item.subset ? `${item.subset}/${item.id}` : item.id;
}

interface Size { width: number; height: number }

/** detect, segment, pose and obb: label files, image lists and data.yaml. */
class LabelExporter {
  itemCount = 0;
  /** split -> number of images listed (only what data.yaml needs stays in memory). */
  private readonly splits = new Map<string, number>();
  private readonly listBuffers = new Map<string, string[]>();
  private readonly written = new Set<string>();
  private readonly warnedSplits = new Set<string>();
  /** Sizes read from the image files of the current batch. */
  private probed = new Map<Item, { width?: number; height?: number }>();
  private readonly keypoints: number;
  private readonly flip: number[] | null;
  private readonly classes: ClassList;

  constructor(
    private readonly task: Exclude<Task, 'classify'>,
    private readonly categories: Category[],
    private readonly output: string,
    private readonly writer: FileWriter,
    private readonly tally: Tally,
    private readonly ctx: Context,
    private readonly saveMedia: boolean,
    private readonly keepCrowd: boolean,
  ) {
    const skeletons = categories.filter((c) => c.keypoints?.length);
    if (task === 'pose' && skeletons.length === 0) {
      throw new DatumError({ code: 'no-keypoints', message: 'the pose task needs skeleton categories with keypoint names; this dataset has none (choose another --task)' });
    }
    this.keypoints = Math.max(0, ...skeletons.map((c) => c.keypoints!.length));
    this.classes = new ClassList(categories);
    // flip_idx only makes sense when every skeleton category shares one keypoint list.
    const same = skeletons.every((c) => c.keypoints!.join('\0') === skeletons[0]?.keypoints!.join('\0'));
    this.flip = skeletons.length && same && skeletons[0].keypoints!.length === this.keypoints ? flipOf(skeletons[0]) : null;
  }

  /** Reads the sizes of a batch's images where the labels need them and the model lacks them. */
  async prepare(batch: Item[]): Promise<void> {
    await this.flushLists();
    this.probed = new Map();
    const unsized = batch.filter((item) => !item.normalized && item.annotations.length && item.image && !(item.image.width && item.image.height));
    if (unsized.length === 0) return;
    // Probe copies so the caller's items are left as they were.
    const copies = unsized.map((item) => ({ ...item, image: { ...item.image! } }));
    await probeItemSizes(copies);
    this.probed = new Map(copies.map((copy, i) => [unsized[i], copy.image]));
  }

  async add(item: Item): Promise<void> {
    const { split, known } = splitOf(item.subset);
    if (!known && !this.warnedSplits.has(split)) {
      this.warnedSplits.add(split);
      this.ctx.reporter.warn({ code: 'unknown-subset', item: itemName(item), message: `subset '${item.subset}' is not train/val/test; it is written as its own split '${split}' in ${CONFIG_FILE}` });
    }
    const fileName = imageFileName(item);
    const context = { item: itemName(item) };
    if (!isImageFile(fileName)) {
      this.ctx.reporter.warn({ code: 'unsupported-image-format', item: itemName(item), file: item.image?.path, message: `Ultralytics skips images named ${fileName.slice(fileName.lastIndexOf('.'))} (it reads ${[...IMAGE_EXTENSIONS].join(' ')}); this image and its labels will not be trained on` });
    }
    // Ids resolve inside their split's folder, so `../x` cannot land in another split or on data.yaml.
    const imagePath = resolveInside(resolveInside(this.output, `images/${split}`, context), fileName, context);
    // The path as written (`a/./b`, `a\b` normalized): Ultralytics replaces every `./` of a list line.
    const imageRel = toPosixRelative(this.output, imagePath);
    // Where Ultralytics looks: the *last* /images/ of the image path becomes /labels/, so an id such as
    // `a/images/b` (or a split called `images`) has its label beside that inner images/ folder.
    const labelRel = labelPathFor(`/${imageRel}`).slice(1);
    const labelPath = resolveInside(this.output, labelRel, context);
    if (this.written.has(labelPath)) {
      this.tally.drop('duplicate item id in its split', item.annotations.length);
      this.ctx.reporter.warn({ code: 'duplicate-item', item: itemName(item), message: `another item was already written as ${labelRel}; this one is skipped` });
      this.tally.endItem(item);
      return;
    }
    this.written.add(labelPath);

    const size = this.sizeOf(item);
    if (!size && item.annotations.length) {
      this.tally.drop('unknown image size', item.annotations.length);
      this.ctx.reporter.warn({ code: 'no-image-size', item: itemName(item), file: item.image?.path, message: 'the image size is unknown and the image cannot be read, so its labels cannot be normalized; the item is skipped' });
      this.tally.endItem(item);
      return;
    }
    const rows = size ? this.rows(item, size) : [];
    if (this.clipped) {
      this.ctx.reporter.warn({ code: 'obb-clipped', file: labelRel, item: itemName(item), message: `${this.clipped} box(es) reach outside the image; their corners are clipped to it, which changes their shape` });
    }
    this.tally.endItem(item, labelRel);
    await this.writer.write(labelPath, rows.length ? rows.join('\n') + '\n' : '');
    if (this.saveMedia) await this.copyImage(item, imagePath);
    this.list(split, `./${imageRel}`);
    this.itemCount++;
  }

  private sizeOf(item: Item): Size | null {
    if (item.normalized) return { width: 1, height: 1 };
    const image = this.probed.get(item) ?? item.image;
    return image?.width && image.height ? { width: image.width, height: image.height } : null;
  }

  private async copyImage(item: Item, target: string): Promise<void> {
    const source = item.image?.path;
    if (!source || !(await fsp.access(source).then(() => true, () => false))) {
      this.ctx.reporter.warn({ code: 'missing-image', item: itemName(item), file: source, message: 'image file not found; not copied' });
      return;
    }
    await this.writer.copy(source, target);
  }

  private list(split: string, line: string): void {
    this.splits.set(split, (this.splits.get(split) ?? 0) + 1);
    const buffer = this.listBuffers.get(split) ?? [];
    buffer.push(line);
    this.listBuffers.set(split, buffer);
  }

  /** Appends buffered list lines to <split>.txt (before each batch and at the finish). */
  private async flushLists(): Promise<void> {
    for (const [split, lines] of this.listBuffers) {
      if (!lines.length) continue;
      await fsp.appendFile(resolveInside(this.output, `${split}.txt`), lines.join('\n') + '\n');
      lines.length = 0;
    }
  }

  async finish(): Promise<void> {
    await this.flushLists();
    await fsp.writeFile(resolveInside(this.output, CONFIG_FILE), this.dataYaml());
  }

  private dataYaml(): string {
    const doc = new YAML.Document<YAML.YAMLMap>(new YAML.YAMLMap());
    const root = doc.contents!;
    const present = [...this.splits.keys()];
    const notes = [
      `YOLO-Ultralytics ${this.task} dataset written by datum.`,
      'No `path` key on purpose: without it Ultralytics takes this file\'s folder as the root, while a',
      'relative `path` would resolve against the working directory. Train with: yolo train data=<this file>',
    ];
    const trainSource = this.splits.has('train') ? 'train' : this.splits.has('val') ? 'val' : present[0];
    const valSource = this.splits.has('val') ? 'val' : trainSource;
    for (const split of STANDARD_SPLITS) {
      if (this.splits.has(split)) root.set(split, `${split}.txt`);
    }
    if (!this.splits.has('train') && trainSource) {
      root.set('train', `${trainSource}.txt`);
      notes.push(`The dataset has no train subset; train reuses ${trainSource}.txt.`);
      this.ctx.reporter.warn({ code: 'missing-split', message: `no train subset; ${CONFIG_FILE} points train at ${trainSource}.txt` });
    }
    if (!this.splits.has('val') && valSource) {
      root.set('val', `${valSource}.txt`);
      notes.push(`The dataset has no val subset; val reuses ${valSource}.txt.`);
      this.ctx.reporter.warn({ code: 'missing-split', message: `no val subset; ${CONFIG_FILE} points val at ${valSource}.txt (Ultralytics needs one)` });
    }
    for (const split of present) if (!root.has(split)) root.set(split, `${split}.txt`);
    root.set('nc', this.classes.categories.length);
    const names = new YAML.YAMLMap();
    this.classes.categories.forEach((c, i) => {
      const name = new YAML.Scalar(c.name);
      name.type = YAML.Scalar.QUOTE_DOUBLE; // so `no`, `on`, `1` stay strings for PyYAML
      names.items.push(new YAML.Pair(new YAML.Scalar(i), name)); // a bare 0 key would print as `? 0`
    });
    root.set('names', names);
    if (this.task === 'pose') {
      const shape = doc.createNode([this.keypoints, 3]);
      shape.flow = true;
      root.set('kpt_shape', shape);
      if (this.flip) {
        const flip = doc.createNode(this.flip);
        flip.flow = true;
        root.set('flip_idx', flip);
      }
    }
    doc.commentBefore = notes.map((n) => ` ${n}`).join('\n');
    return doc.toString({ lineWidth: 0, flowCollectionPadding: false });
  }

  /** Rows of the current item, to write each distinct row once. */
  private seen = new Set<string>();
  /** Boxes of the current item whose corners were clipped to the image (obb). */
  private clipped = 0;

  /**
   * The label rows of one item for this task, in pixels divided by the image size. Crowd regions are
   * skipped unless --keep-crowd; an identical row is written once.
   */
  private rows(item: Item, size: Size): string[] {
    this.seen = new Set();
    this.clipped = 0;
    const annotations = item.annotations.filter((a) => {
      if (this.keepCrowd || a.attributes?.is_crowd !== true) return true;
      this.tally.drop('crowd');
      return false;
    });
    const objects = { ...item, annotations };
    switch (this.task) {
      case 'detect': return this.detectRows(objects, size);
      case 'obb': return this.obbRows(objects, size);
      case 'segment': return this.segmentRows(objects, size);
      case 'pose': return this.poseRows(objects, size);
    }
  }

  /** Adds a row unless the file already has it; `kinds` are the annotations it writes. */
  private emit(rows: string[], row: string, kinds: string[]): void {
    if (this.seen.has(row)) { this.tally.drop('duplicate', kinds.length); return; }
    this.seen.add(row);
    rows.push(row);
    for (const kind of kinds) this.tally.write(kind);
  }

  /** The class index of an annotation, or null (counted as dropped) when it has no valid class. */
  private classOf(a: Annotation): number | null {
    if (a.label === undefined) { this.tally.drop(`unlabeled ${a.type}`); return null; }
    if (this.classes.isBackground(a.label)) { this.tally.drop('background'); return null; }
    const cls = this.classes.of(a.label);
    if (cls === undefined) {
      this.tally.drop(this.categories[a.label] ? `${a.type} labelled with a sub-label (keypoint or part)` : `${a.type} with unknown label`);
      return null;
    }
    return cls;
  }

  private dropOther(a: Annotation): void {
    this.tally.drop(`${a.type} in ${this.task} task`);
  }

  /**
   * Boxes as they are; an object (label + non-zero group) with a box is that box, as Ultralytics'
   * convert_coco takes COCO's bbox. Polygons, masks and ellipses without a box are written as their
   * bounds (as Ultralytics derives boxes from segments), the parts of one object as one box.
   */
  private detectRows(item: Item, size: Size): string[] {
    const boxed = new Set(item.annotations.filter((a) => a.type === 'bbox' && a.group).map((a) => `${a.label}/${a.group}`));
    const entries: { cls: number; x0: number; y0: number; x1: number; y1: number; kinds: string[] }[] = [];
    const parts = new Map<string, (typeof entries)[number]>();
    for (const a of item.annotations) {
      const key = `${a.label}/${a.group}`;
      // before the bounds: COCO's 810k polygons all have a box, and measuring them cost ~2 s
      const shape = a.type !== 'bbox' && a.type !== 'label' && a.type !== 'caption';
      if (shape && a.group && boxed.has(key)) { this.tally.drop(`${a.type} of an object that has a box (detect task)`); continue; }
      const extent = a.type === 'bbox' ? boxBounds(a) : shapeBounds(a);
      if (!extent) { this.dropOther(a); continue; }
      const cls = this.classOf(a);
      if (cls === null) continue;
      const kind = a.type === 'bbox' ? 'bbox' : `${a.type} (as its box)`;
      const object = a.type !== 'bbox' && a.group ? parts.get(key) : undefined;
      if (object) {
        object.x0 = Math.min(object.x0, extent.x0); object.y0 = Math.min(object.y0, extent.y0);
        object.x1 = Math.max(object.x1, extent.x1); object.y1 = Math.max(object.y1, extent.y1);
        object.kinds.push(kind);
        continue;
      }
      const entry = { cls, ...extent, kinds: [kind] };
      entries.push(entry);
      if (a.type !== 'bbox' && a.group) parts.set(key, entry);
    }
    const rows: string[] = [];
    for (const { cls, x0, y0, x1, y1, kinds } of entries) {
      const box = this.normalizedBox({ x: x0, y: y0, w: x1 - x0, h: y1 - y0 }, size);
      if (box) this.emit(rows, `${cls} ${box.map(fmt).join(' ')}`, kinds);
      else if (kinds.length > 1) this.tally.drop('degenerate box (empty inside the image)', kinds.length - 1);
    }
    return rows;
  }

  /** cx cy w h of a box's axis-aligned hull, clipped to the image; null (dropped) when nothing is left. */
  private normalizedBox(box: Pick<BboxAnnotation, 'x' | 'y' | 'w' | 'h' | 'rotation'>, size: Size): number[] | null {
    const b = boxBounds(box);
    const x0 = clampEdge(b.x0 / size.width), x1 = clampEdge(b.x1 / size.width);
    const y0 = clampEdge(b.y0 / size.height), y1 = clampEdge(b.y1 / size.height);
    // Below half a unit of the 6th decimal the box would be written with zero size.
    if (!(x1 - x0 >= 5e-7 && y1 - y0 >= 5e-7)) { this.tally.drop('degenerate box (empty inside the image)'); return null; }
    // Every written value stays within [0, 1] (Ultralytics drops the image otherwise).
    return [(x0 + x1) / 2, (y0 + y1) / 2, x1 - x0, y1 - y0].map(clamp01);
  }

  private obbRows(item: Item, size: Size): string[] {
    const rows: string[] = [];
    for (const a of item.annotations) {
      if (a.type !== 'bbox') { this.dropOther(a); continue; }
      const cls = this.classOf(a);
      if (cls === null) continue;
      if (!(a.w > 0 && a.h > 0)) { this.tally.drop('degenerate box (empty inside the image)'); continue; }
      const raw = rotatedBoxCorners(a).map((v, i) => v / (i % 2 ? size.height : size.width));
      // Ultralytics rejects a file with a coordinate past 1, so corners are clipped to the image.
      const corners = raw.map(clamp01);
      // A box outside the image clips to a line or a point: no object to train on.
      if (polygonArea(corners) <= 1e-12) { this.tally.drop('degenerate box (empty inside the image)'); continue; }
      // A clipped rotated box is another shape: written, but counted apart and warned about.
      const clipped = raw.some((v) => clampEdge(v) !== v);
      if (clipped) this.clipped++;
      this.emit(rows, `${cls} ${corners.map(fmt).join(' ')}`, [clipped ? 'bbox (clipped to the image)' : 'bbox']);
    }
    return rows;
  }

  private normalizePoints(points: readonly number[], size: Size): number[] {
    return points.map((v, i) => clamp01(v / (i % 2 ? size.height : size.width)));
  }

  /**
   * One polygon per object: polygons and masks sharing a label and a non-zero group are one object
   * whose parts are joined; a box becomes a 4-point polygon unless its object has a polygon or mask.
   */
  private segmentRows(item: Item, size: Size): string[] {
    const objects = new Map<string, { cls: number; parts: number[][]; kinds: string[] }>();
    const boxes: { key: string; cls: number; box: BboxAnnotation }[] = [];
    item.annotations.forEach((a, i) => {
      if (a.type !== 'polygon' && a.type !== 'mask' && a.type !== 'bbox') { this.dropOther(a); return; }
      const cls = this.classOf(a);
      if (cls === null) return;
      const key = a.group ? `${cls}/g${a.group}` : `#${i}`;
      if (a.type === 'bbox') { boxes.push({ key, cls, box: a }); return; }
      const parts = a.type === 'polygon' ? [a.points] : maskParts(a);
      if (parts.length === 0) { this.tally.drop('empty mask'); return; }
      const object = objects.get(key) ?? { cls, parts: [], kinds: [] };
      object.parts.push(...parts);
      object.kinds.push(a.type);
      objects.set(key, object);
    });
    for (const { key, cls, box } of boxes) {
      if (objects.has(key)) { this.tally.drop('bbox of an object that has a polygon or mask (segment task)'); continue; }
      objects.set(key, { cls, parts: [rotatedBoxCorners(box)], kinds: ['bbox'] });
    }
    const rows: string[] = [];
    for (const { cls, parts, kinds } of objects.values()) {
      const merged = mergePolygonParts(parts.filter((p) => p.length >= 6));
      const points = this.normalizePoints(merged, size);
      if (points.length < 6 || polygonArea(points) <= 1e-12) {
        this.tally.drop(`degenerate ${kinds[0]} (fewer than 3 points or no area inside the image)`, kinds.length);
        continue;
      }
      this.emit(rows, `${cls} ${points.map(fmt).join(' ')}`, kinds);
    }
    return rows;
  }

  /** `class cx cy w h` + K keypoints `x y v`; the box is the skeleton's grouped bbox or the bounds of its visible points. */
  private poseRows(item: Item, size: Size): string[] {
    const boxes = item.annotations.filter((a): a is BboxAnnotation => a.type === 'bbox');
    const usedBoxes = new Set<BboxAnnotation>();
    const rows: string[] = [];
    for (const a of item.annotations) {
      if (a.type === 'bbox') continue;
      if (a.type !== 'skeleton') { this.dropOther(a); continue; }
      const cls = this.classOf(a);
      if (cls === null) continue;
      const box = a.group ? boxes.find((b) => b.group === a.group && b.label === a.label) ?? boxes.find((b) => b.group === a.group && !usedBoxes.has(b)) : undefined;
      const visible: number[] = [];
      for (let k = 0; k < a.visibility.length; k++) if (a.visibility[k] > 0) visible.push(a.points[2 * k], a.points[2 * k + 1]);
      let xywh: number[] | null;
      if (box) {
        usedBoxes.add(box);
        xywh = this.normalizedBox(box, size);
      } else if (visible.length) {
        const b = pointBounds(visible);
        xywh = this.normalizedBox({ x: b.x0, y: b.y0, w: b.x1 - b.x0, h: b.y1 - b.y0 }, size);
      } else {
        this.tally.drop('skeleton without a box or visible points');
        continue;
      }
      if (!xywh) continue;
      const values = [...xywh.map(fmt)];
      for (let k = 0; k < this.keypoints; k++) {
        const v = a.visibility[k] ?? 0;
        if (v === 0 || k >= a.points.length / 2) { values.push('0', '0', '0'); continue; }
        values.push(fmt(clamp01(a.points[2 * k] / size.width)), fmt(clamp01(a.points[2 * k + 1] / size.height)), String(v));
      }
      if (a.visibility.length > this.keypoints) this.tally.drop('keypoints beyond kpt_shape (count of points)', a.visibility.length - this.keypoints);
      this.emit(rows, `${cls} ${values.join(' ')}`, ['skeleton']);
    }
    for (const box of boxes) if (!usedBoxes.has(box)) this.tally.drop('bbox without a skeleton (pose task)');
    return rows;
  }
}

/** Mirror pairs from left/right keypoint names, else the flip_idx an Ultralytics import kept in `extra`. */
function flipOf(category: Category): number[] | null {
  const fromNames = flipIndex(category.keypoints!);
  if (fromNames) return fromNames;
  const kept = category.extra?.flip_idx;
  const list = typeof kept === 'string' ? kept.split(',').map(Number) : [];
  const k = category.keypoints!.length;
  return list.length === k && list.every((i) => Number.isInteger(i) && i >= 0 && i < k) ? list : null;
}

/** The axis-aligned bounds of a polygon, mask or ellipse; null for kinds without an area. */
function shapeBounds(a: Annotation): { x0: number; y0: number; x1: number; y1: number } | null {
  let b: { x0: number; y0: number; x1: number; y1: number } | null = null;
  if (a.type === 'polygon' && a.points.length >= 6) b = pointBounds(a.points);
  else if (a.type === 'mask') b = maskBounds(a);
  else if (a.type === 'ellipse') {
    const t = ((a.rotation ?? 0) * Math.PI) / 180;
    const hw = Math.hypot(a.rx * Math.cos(t), a.ry * Math.sin(t));
    const hh = Math.hypot(a.rx * Math.sin(t), a.ry * Math.cos(t));
    b = { x0: a.cx - hw, y0: a.cy - hh, x1: a.cx + hw, y1: a.cy + hh };
  }
  return b;
}

/** Pixel-edge bounds of a mask's set pixels, or null when it has none. */
function maskBounds(mask: Extract<Annotation, { type: 'mask' }>): { x0: number; y0: number; x1: number; y1: number } | null {
  if (mask.width <= 0) return null;
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  let pos = 0;
  mask.rle.forEach((run, i) => {
    if (i % 2 === 1 && run > 0) {
      const first = pos, last = pos + run - 1;
      const r0 = Math.floor(first / mask.width), r1 = Math.floor(last / mask.width);
      y0 = Math.min(y0, r0); y1 = Math.max(y1, r1);
      // A run that wraps to the next row reaches both the last and the first column.
      if (r1 > r0) { x0 = 0; x1 = mask.width - 1; }
      else { x0 = Math.min(x0, first % mask.width); x1 = Math.max(x1, last % mask.width); }
    }
    pos += run;
  });
  return x1 < 0 ? null : { x0: mask.left + x0, y0: mask.top + y0, x1: mask.left + x1 + 1, y1: mask.top + y1 + 1 };
}

/** The outlines of a mask's components (holes are not kept), in image pixels. */
function maskParts(mask: Extract<Annotation, { type: 'mask' }>): number[][] {
  if (mask.width <= 0 || mask.height <= 0) return [];
  return traceOuterContours(maskToBitmap(mask), mask.left, mask.top).map((c) => c.points);
}

/** classify: <split>/<class>/<image>; the image files are required, label files are not written. */
class ClassifyExporter {
  itemCount = 0;
  private readonly splits = new Set<string>();
  private readonly written = new Set<string>();
  /**
   * The folder of each category that can be a class (undefined: background, a skeleton's keypoint):
   * one plain path segment, distinct (`a/b` would nest inside class `a`). Unlike detection, a category
   * with a parent is a class when an image is labeled with it (an SOP product under its super-class).
   */
  private readonly folders: (string | undefined)[];
  /** Categories some image was labeled with; a parent of one of them gets no folder of its own. */
  private readonly used = new Set<number>();

  constructor(
    private readonly categories: readonly Category[],
    private readonly output: string,
    private readonly writer: FileWriter,
    private readonly tally: Tally,
    private readonly ctx: Context,
  ) {
    const background = new ClassList(categories);
    const taken = new Set<string>();
    this.folders = categories.map(({ name, parent }, i) => {
      const keypoint = parent !== undefined && categories.find((c) => c.name === parent)?.keypoints?.includes(name);
      if (keypoint || background.isBackground(i)) return undefined;
      const plain = name.trim().replace(/[\\/\0]+/g, '_').replace(/^\.+/, '_') || '_';
      let folder = plain;
      for (let n = 2; taken.has(folder); n++) folder = `${plain}_${n}`;
      taken.add(folder);
      if (folder !== name) ctx.reporter.warn({ code: 'class-renamed', message: `class '${name}' is not a plain folder name; its images go to <split>/${folder}/` });
      return folder;
    });
  }

  async prepare(): Promise<void> {}

  async add(item: Item): Promise<void> {
    const { split } = splitOf(item.subset);
    const labels = item.annotations.filter((a) => a.type === 'label' && a.label !== undefined && this.folders[a.label] !== undefined);
    for (const a of item.annotations) {
      if (labels.includes(a)) continue;
      const known = a.label !== undefined && a.label >= 0 && a.label < this.categories.length;
      this.tally.drop(a.type !== 'label' ? `${a.type} in classify task` : known ? (this.categories[a.label!].parent !== undefined ? 'keypoint label' : 'background') : 'label without a known category');
    }
    if (labels.length === 0) {
      this.ctx.reporter.warn({ code: 'unlabeled-item', item: itemName(item), message: 'item has no class label; its image is not written' });
      this.tally.endItem(item);
      return;
    }
    // One class per image: further labels would make the image a sample of several classes.
    this.tally.drop('extra label (classify holds one class per image)', labels.length - 1);
    const source = item.image?.path;
    if (!source || !(await fsp.access(source).then(() => true, () => false))) {
      this.tally.drop('label of an item without its image file (classify needs images)');
      this.ctx.reporter.warn({ code: 'missing-image', item: itemName(item), file: source, message: 'classification needs the image file, which is missing; item skipped' });
      this.tally.endItem(item);
      return;
    }
    const className = this.folders[labels[0].label!]!;
    const context = { item: itemName(item) };
    const classDir = resolveInside(resolveInside(this.output, split, context), className, context);
    const target = resolveInside(classDir, imageFileName(item), context);
    if (this.written.has(target)) {
      this.tally.drop('duplicate item id in its split');
      this.ctx.reporter.warn({ code: 'duplicate-item', item: itemName(item), message: `another item was already written as ${split}/${className}/${imageFileName(item)}; this one is skipped` });
      this.tally.endItem(item);
      return;
    }
    this.written.add(target);
    await this.writer.copy(source, target);
    this.splits.add(split);
    this.used.add(labels[0].label!);
    this.tally.write('label');
    this.tally.endItem(item);
    this.itemCount++;
  }

  /** Every class gets a folder in every split, so class indices (alphabetical folders) agree across splits. */
  async finish(): Promise<void> {
    if (this.splits.size === 0) throw new DatumError({ code: 'nothing-to-export', message: 'classify: no item has both a class label and an image file' });
    // Classes: the categories without a parent, less those only used through their children (SOP's
    // super-classes), and the sub-categories images were labeled with.
    const parentsUsed = new Set([...this.used].map((i) => this.categories[i].parent).filter((p) => p !== undefined));
    const classes = this.folders.filter((folder, i): folder is string => folder !== undefined
      && (this.used.has(i) || (this.categories[i].parent === undefined && !parentsUsed.has(this.categories[i].name))));
    for (const split of this.splits) {
      for (const name of classes) await this.writer.ensureDir(resolveInside(resolveInside(this.output, split), name));
    }
  }
}
