import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Annotation, Attributes, BboxAnnotation, Category, Dataset, Item, MaskAnnotation, PolygonAnnotation, SkeletonAnnotation } from '../../src/model.js';
import { imageFileName } from '../../src/model.js';
import type { Context, ExportSummary, OptionSpec, Options } from '../../src/plugin.js';
import { FileWriter } from '../../src/output.js';
import { resolveInside } from '../../src/paths.js';
import { probeImageSize } from '../../src/media.js';
import { maskArea } from '../../src/geometry/mask.js';
import { maskToCocoCounts } from './rle.js';

/**
 * COCO export: `annotations/instances_<subset>.json` for every subset, plus person_keypoints,
 * captions and labels files when the dataset has skeletons, captions or labels. Annotations are
 * streamed to disk as items come; image entries (small) are kept and written at the end of each file,
 * after "annotations" (COCO readers do not depend on key order).
 */

type Task = 'instances' | 'person_keypoints' | 'captions' | 'labels';
type Entry = Record<string, unknown>;

export const exportOptions: readonly OptionSpec[] = [
  { name: 'save-media', type: 'boolean', description: 'copy (hard-link) the images into images/<subset>/' },
];

export async function exportCoco(dataset: Dataset, output: string, options: Options, ctx: Context): Promise<ExportSummary> {
  const exporter = new CocoExporter(dataset, output, options['save-media'] === true, ctx);
  return exporter.run(dataset);
}

/** Appends text to a file through a 1 MiB buffer. */
class JsonFile {
  private buffer = '';
  private constructor(private readonly handle: fsp.FileHandle) {}

  static async open(file: string): Promise<JsonFile> {
    await fsp.mkdir(path.dirname(file), { recursive: true });
    return new JsonFile(await fsp.open(file, 'w'));
  }

  async write(text: string): Promise<void> {
    this.buffer += text;
    if (this.buffer.length >= 1 << 20) await this.flush();
  }

  async close(): Promise<void> {
    await this.flush();
    await this.handle.close();
  }

  private async flush(): Promise<void> {
    if (this.buffer) await this.handle.write(this.buffer);
    this.buffer = '';
  }
}

/** Unique ids within one file, keeping the source's id where it is free. */
class IdAllocator {
  private readonly used = new Set<number>();
  private next = 1;
  /**
   * `min` 0 for images: Roboflow and others number images from 0, and result files refer to those ids.
   * Annotation ids stay >= 1 (pycocotools' COCOeval takes id 0 for "no match").
   */
  constructor(private readonly min = 1) {}
  take(preferred?: number): number {
    if (preferred !== undefined && Number.isSafeInteger(preferred) && preferred >= this.min && !this.used.has(preferred)) {
      this.used.add(preferred);
      return preferred;
    }
    while (this.used.has(this.next)) this.next++;
    this.used.add(this.next);
    return this.next;
  }
}

class TaskFile {
  count = 0;
  readonly ids = new IdAllocator();
  constructor(readonly file: JsonFile) {}
  async add(entry: Entry): Promise<void> {
    await this.file.write((this.count++ ? ',\n' : '\n') + JSON.stringify(entry));
  }
}

interface SubsetFiles { name: string; images: string[]; imageIds: IdAllocator; tasks: Map<Task, TaskFile> }

class CocoExporter {
  private readonly categoryIds: number[];
  /** Everything before the first annotation; the same in every file. */
  private readonly header: string;
  private readonly subsets = new Map<string, SubsetFiles>();
  private readonly media = new FileWriter();
  private readonly written: Record<string, number> = {};
  private readonly dropped: Record<string, number> = {};
  private items = 0;

  constructor(dataset: Dataset, private readonly output: string, private readonly saveMedia: boolean, private readonly ctx: Context) {
    this.categoryIds = assignCategoryIds(dataset.categories);
    this.header = `{"licenses":[{"name":"","id":0,"url":""}],"info":${JSON.stringify(dataset.info ?? {})},`
      + `"categories":${JSON.stringify(dataset.categories.map((c, i) => categoryEntry(c, this.categoryIds[i])))},"annotations":[`;
  }

  async run(dataset: Dataset): Promise<ExportSummary> {
    for await (const item of dataset.items) {
      await this.writeItem(item);
      this.items++;
      if (this.items % 1000 === 0) this.ctx.progress('coco: writing', this.items);
    }
    // No items: still write the categories, else the output is an empty folder no reader accepts.
    if (this.subsets.size === 0) await this.subsetFiles('');
    for (const subset of this.subsets.values()) {
      const images = subset.images.join(',\n');
      for (const task of subset.tasks.values()) {
        await task.file.write(`\n],"images":[\n${images}\n]}\n`);
        await task.file.close();
      }
    }
    await this.media.flush();
    return { items: this.items, annotations: this.written, dropped: this.dropped };
  }

  private async subsetFiles(subset: string): Promise<SubsetFiles> {
    const name = subset || 'default';
    let files = this.subsets.get(name);
    if (!files) {
      files = { name, images: [], imageIds: new IdAllocator(0), tasks: new Map() };
      this.subsets.set(name, files);
      await this.task(files, 'instances', { item: name });
    }
    return files;
  }

  private async task(subset: SubsetFiles, task: Task, where: { item: string }): Promise<TaskFile> {
    let file = subset.tasks.get(task);
    if (!file) {
      const target = resolveInside(this.output, `annotations/${task}_${subset.name}.json`, where);
      file = new TaskFile(await JsonFile.open(target));
      await file.file.write(this.header);
      subset.tasks.set(task, file);
    }
    return file;
  }

  private async writeItem(item: Item): Promise<void> {
    const where = { item: `${item.subset}/${item.id}` };
    const subset = await this.subsetFiles(item.subset);
    const fileName = imageFileName(item);
    // Keep the source's image id (COCO import stores it as item attribute `id`): result files refer to it.
    const sourceId = item.attributes?.id;
    const imageId = subset.imageIds.take(typeof sourceId === 'number' ? sourceId : undefined);
    const size = await this.imageSize(item, where.item);
    subset.images.push(JSON.stringify({ id: imageId, width: size?.width ?? 0, height: size?.height ?? 0, file_name: fileName }));
    if (this.saveMedia) await this.copyImage(item, subset.name, fileName, where.item);

    const shapes: Annotation[] = [];
    for (const a of item.annotations) {
      if (a.type === 'caption') {
        const captions = await this.task(subset, 'captions', where);
        await captions.add({ id: captions.ids.take(a.id), image_id: imageId, category_id: 0, caption: a.caption });
        this.count('caption');
      } else if (a.type === 'label') {
        if (!this.hasCategory(a)) { this.drop('no-label', a, where.item); continue; }
        const labels = await this.task(subset, 'labels', where);
        await labels.add({ id: labels.ids.take(a.id), image_id: imageId, category_id: this.categoryIds[a.label!] });
        this.count('label');
      } else if (item.normalized) {
        this.drop('no-image-size', a, where.item, 'the item has normalized coordinates and no image size');
      } else if (a.type === 'polyline' || a.type === 'points' || a.type === 'ellipse') {
        this.drop(`unsupported-${a.type}`, a, where.item, `COCO has no ${a.type} annotations`);
      } else if (!this.hasCategory(a)) {
        this.drop('no-label', a, where.item, 'COCO annotations need a category');
      } else if (!numbersFinite(a)) {
        this.drop('non-finite', a, where.item, 'it has a non-finite coordinate');
      } else if (a.type === 'bbox' && (a.w < 0 || a.h < 0)) {
        // COCO readers (datum's too) reject a negative width or height.
        this.drop('negative-size', a, where.item, `its size ${a.w} x ${a.h} is negative`);
      } else if (a.type === 'polygon' && (a.points.length < 6 || a.points.length % 2 !== 0)) {
        // pycocotools reads a 4-number polygon as a box and fails on shorter ones.
        this.drop('degenerate-polygon', a, where.item, `a polygon needs at least 3 points, it has ${a.points.length} numbers`);
      } else {
        shapes.push(a);
      }
    }
    if (shapes.length) await this.writeShapes(shapes, subset, imageId, size, where);
  }

  private async writeShapes(shapes: Annotation[], subset: SubsetFiles, imageId: number, size: { width: number; height: number } | null, where: { item: string }): Promise<void> {
    const instances = subset.tasks.get('instances')!;
    // Polygons of one group and label are the parts of one COCO object.
    const parts = new Map<string, PolygonAnnotation[]>();
    for (const a of shapes) {
      if (a.type === 'polygon' && a.group) {
        const key = `${a.group}:${a.label}`;
        const list = parts.get(key);
        if (list) { list.push(a); continue; }
        parts.set(key, [a]);
      }
    }
    for (const a of shapes) {
      if (a.type === 'skeleton') continue;
      if (a.type === 'polygon' && a.group) {
        const list = parts.get(`${a.group}:${a.label}`)!;
        if (list[0] !== a) continue;
        await instances.add(this.instanceEntry(instances, imageId, a, polygonsGeometry(list)));
        this.count('polygon', list.length);
        continue;
      }
      const geometry = this.geometry(a, size, where.item);
      if (!geometry) continue;
      await instances.add(this.instanceEntry(instances, imageId, a, geometry));
      this.count(a.type);
    }
    for (const a of shapes) {
      if (a.type !== 'skeleton') continue;
      const keypoints = await this.task(subset, 'person_keypoints', where);
      await keypoints.add(this.keypointsEntry(keypoints, imageId, a, shapes, size));
      this.count('skeleton');
    }
  }

  private geometry(a: Annotation, size: { width: number; height: number } | null, item: string): Geometry | null {
    if (a.type === 'bbox') {
      if (a.rotation) {
        this.ctx.reporter.warn({ code: 'rotated-bbox', item, message: `bbox ${a.id ?? ''} rotated by ${a.rotation} degrees is written as a polygon (COCO boxes are axis-aligned)` });
        return polygonsGeometry([{ points: rotatedCorners(a) }]);
      }
      return { segmentation: [], bbox: [a.x, a.y, a.w, a.h], area: a.w * a.h };
    }
    if (a.type === 'polygon') return polygonsGeometry([a]);
    if (a.type === 'mask') return maskGeometry(a, size);
    return null;
  }

  private instanceEntry(file: TaskFile, imageId: number, a: Annotation, geometry: Geometry): Entry {
    const entry: Entry = {
      id: file.ids.take(a.id), image_id: imageId, category_id: this.categoryIds[a.label!],
      segmentation: geometry.segmentation, area: geometry.area, bbox: geometry.bbox, iscrowd: a.attributes?.is_crowd ? 1 : 0,
    };
    const extra = extraAttributes(a.attributes);
    if (extra) entry.attributes = extra;
    return entry;
  }

  /** A skeleton with the box/polygon of its group (same group and label), as COCO's person_keypoints. */
  private keypointsEntry(file: TaskFile, imageId: number, a: SkeletonAnnotation, shapes: Annotation[], size: { width: number; height: number } | null): Entry {
    const keypoints: number[] = [];
    let visible = 0;
    const xs: number[] = [];
    const ys: number[] = [];
    for (let i = 0; i < a.visibility.length; i++) {
      const v = a.visibility[i];
      if (v === 0) { keypoints.push(0, 0, 0); continue; }
      keypoints.push(a.points[2 * i], a.points[2 * i + 1], v);
      xs.push(a.points[2 * i]);
      ys.push(a.points[2 * i + 1]);
      visible++;
    }
    const companions = a.group ? shapes.filter((s) => s !== a && s.group === a.group && s.label === a.label && (s.type === 'polygon' || s.type === 'bbox' || s.type === 'mask')) : [];
    const polygons = companions.filter((s): s is PolygonAnnotation => s.type === 'polygon');
    const other = companions.find((s) => s.type !== 'polygon');
    let geometry: Geometry;
    if (polygons.length) geometry = polygonsGeometry(polygons);
    else if (other) geometry = this.geometry(other, size, '') ?? pointsGeometry(xs, ys);
    else geometry = pointsGeometry(xs, ys);
    const entry: Entry = {
      id: file.ids.take(a.id), image_id: imageId, category_id: this.categoryIds[a.label!],
      segmentation: geometry.segmentation, area: geometry.area, bbox: geometry.bbox, iscrowd: a.attributes?.is_crowd ? 1 : 0,
      keypoints, num_keypoints: visible,
    };
    const extra = extraAttributes(a.attributes);
    if (extra) entry.attributes = extra;
    return entry;
  }

  private async imageSize(item: Item, where: string): Promise<{ width: number; height: number } | null> {
    const image = item.image;
    if (image && isSize(image.width) && isSize(image.height)) return { width: image.width, height: image.height };
    const probed = image ? await probeImageSize(image.path) : null;
    if (!probed && !item.normalized) {
      this.ctx.reporter.warn({ code: 'no-image-size', item: where, message: 'image size unknown and the image cannot be read; width and height are written as 0' });
    }
    return probed;
  }

  private async copyImage(item: Item, subset: string, fileName: string, where: string): Promise<void> {
    const source = item.image?.path;
    if (!source || !(await fsp.access(source).then(() => true, () => false))) {
      this.ctx.reporter.warn({ code: 'missing-image', item: where, message: `image ${source ?? '(none)'} not found; not copied` });
      return;
    }
    await this.media.copy(source, resolveInside(this.output, `images/${subset}/${fileName}`, { item: where }));
  }

  private hasCategory(a: Annotation): boolean {
    return a.label !== undefined && a.label >= 0 && a.label < this.categoryIds.length;
  }

  private count(kind: string, n = 1): void { this.written[kind] = (this.written[kind] ?? 0) + n; }

  private drop(reason: string, a: Annotation, item: string, why = 'it has no category'): void {
    this.dropped[reason] = (this.dropped[reason] ?? 0) + 1;
    this.ctx.reporter.warn({ code: reason, item, message: `${a.type} annotation${a.id !== undefined ? ` ${a.id}` : ''} not written: ${why}` });
  }
}

interface Geometry { segmentation: unknown; bbox: number[]; area: number }

function polygonsGeometry(polygons: Pick<PolygonAnnotation, 'points'>[]): Geometry {
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity, area = 0;
  for (const { points } of polygons) {
    let twice = 0;
    for (let i = 0; i < points.length; i += 2) {
      const x = points[i], y = points[i + 1];
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
      const j = (i + 2) % points.length;
      twice += x * points[j + 1] - points[j] * y;
    }
    area += Math.abs(twice) / 2;
  }
  return { segmentation: polygons.map((p) => p.points), bbox: [x0, y0, x1 - x0, y1 - y0], area };
}

function maskGeometry(a: MaskAnnotation, size: { width: number; height: number } | null): Geometry {
  // Without an image size the mask's own extent is the smallest image that holds it.
  const width = size?.width ?? a.left + a.width;
  const height = size?.height ?? a.top + a.height;
  return {
    segmentation: { counts: maskToCocoCounts(a, height, width), size: [height, width] },
    bbox: [a.left, a.top, a.width, a.height],
    area: maskArea(a),
  };
}

function pointsGeometry(xs: number[], ys: number[]): Geometry {
  if (xs.length === 0) return { segmentation: [], bbox: [0, 0, 0, 0], area: 0 };
  const x0 = Math.min(...xs), y0 = Math.min(...ys);
  const w = Math.max(...xs) - x0, h = Math.max(...ys) - y0;
  return { segmentation: [], bbox: [x0, y0, w, h], area: w * h };
}

function rotatedCorners(a: BboxAnnotation): number[] {
  const cx = a.x + a.w / 2, cy = a.y + a.h / 2;
  const t = ((a.rotation ?? 0) * Math.PI) / 180;
  const cos = Math.cos(t), sin = Math.sin(t);
  const corners = [[-a.w / 2, -a.h / 2], [a.w / 2, -a.h / 2], [a.w / 2, a.h / 2], [-a.w / 2, a.h / 2]];
  return corners.flatMap(([dx, dy]) => [cx + dx * cos - dy * sin, cy + dx * sin + dy * cos]);
}

function numbersFinite(a: Annotation): boolean {
  switch (a.type) {
    case 'bbox': return [a.x, a.y, a.w, a.h, a.rotation ?? 0].every(Number.isFinite);
    case 'polygon': case 'skeleton': return a.points.every(Number.isFinite);
    case 'mask': return [a.left, a.top, a.width, a.height, ...a.rle].every(Number.isFinite);
    default: return true;
  }
}

/** Attributes other than `is_crowd` go into Datumaro's per-annotation "attributes" object. */
function extraAttributes(attributes: Attributes | undefined): Attributes | undefined {
  if (!attributes) return undefined;
  // JSON has no NaN/Infinity: such values are left out rather than written as null.
  const rest = Object.fromEntries(Object.entries(attributes).filter(([k, v]) => k !== 'is_crowd' && (typeof v !== 'number' || Number.isFinite(v))));
  return Object.keys(rest).length ? rest : undefined;
}

/** Keeps each category's source id where it is a unique non-negative integer; the rest get new ids. */
export function assignCategoryIds(categories: Category[]): number[] {
  const used = new Set<number>();
  const ids = categories.map((c) => {
    const ok = c.id !== undefined && Number.isSafeInteger(c.id) && c.id >= 0 && !used.has(c.id);
    if (ok) used.add(c.id!);
    return ok ? c.id! : -1;
  });
  let next = 1;
  return ids.map((id) => {
    if (id >= 0) return id;
    while (used.has(next)) next++;
    used.add(next);
    return next;
  });
}

function categoryEntry(c: Category, id: number): Entry {
  const entry: Entry = { id, name: c.name, supercategory: typeof c.extra?.supercategory === 'string' ? c.extra.supercategory : c.parent ?? '' };
  if (c.keypoints?.length) {
    entry.keypoints = c.keypoints;
    entry.skeleton = (c.skeleton ?? []).map(([a, b]) => [a + 1, b + 1]);
  }
  return entry;
}

function isSize(value: number | undefined): value is number {
  return value !== undefined && Number.isFinite(value) && value > 0;
}
