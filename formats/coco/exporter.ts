import fsp from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import type { Annotation, Attributes, BboxAnnotation, Category, Dataset, Item, MaskAnnotation, PolygonAnnotation, SkeletonAnnotation } from '../../src/model.js';
import { hasFiniteNumbers, imageFileName } from '../../src/model.js';
import { rotatedBoxCorners } from '../../src/geometry/polygon.js';
import type { Context, ExportSummary, OptionSpec, Options } from '../../src/plugin.js';
import { UsageError } from '../../src/diagnostics.js';
import { FileWriter } from '../../src/output.js';
import { resolveInside } from '../../src/paths.js';
import { probeImageSize } from '../../src/media.js';
import { maskArea, maskToBitmap } from '../../src/geometry/mask.js';
import { maskToCocoCounts } from './rle.js';

/**
 * COCO export: `annotations/instances_<subset>.json` for every subset, plus person_keypoints,
 * captions and labels files when the dataset has skeletons, captions or labels; `--tasks` picks the
 * files instead (and adds image_info and panoptic). Annotations are streamed to disk as items come;
 * image entries (small) are kept and written at the end of each file, after "annotations" (COCO
 * readers do not depend on key order).
 */

export const TASKS = ['instances', 'person_keypoints', 'captions', 'labels', 'image_info', 'panoptic'] as const;
type Task = (typeof TASKS)[number];
type Entry = Record<string, unknown>;
type Size = { width: number; height: number };

/** What the exporter writes without `--tasks`: files appear as the dataset has annotations for them. */
const DEFAULT_TASKS: readonly Task[] = ['instances', 'person_keypoints', 'captions', 'labels'];
/** Panoptic segment ids are 24-bit RGB colours. */
const MAX_SEGMENT_ID = 0xffffff;

export const exportOptions: readonly OptionSpec[] = [
  { name: 'save-media', type: 'boolean', description: 'copy (hard-link) the images into images/<subset>/' },
  { name: 'tasks', type: 'string', description: `task files to write, comma-separated: ${TASKS.join(', ')} (default: every task the dataset has annotations for, without image_info and panoptic)` },
];

export async function exportCoco(dataset: Dataset, output: string, options: Options, ctx: Context): Promise<ExportSummary> {
  const exporter = new CocoExporter(dataset, output, options['save-media'] === true, parseTasks(options.tasks), ctx);
  return exporter.run(dataset);
}

/** `--tasks instances,panoptic` -> the set; null when the option is absent (default behaviour). */
export function parseTasks(value: unknown): Set<Task> | null {
  if (value === undefined) return null;
  const names = String(value).split(',').map((t) => t.trim()).filter(Boolean);
  const unknown = names.filter((t) => !(TASKS as readonly string[]).includes(t));
  if (unknown.length || names.length === 0) {
    throw new UsageError(`option '--tasks' of coco takes a comma-separated list of ${TASKS.join(', ')}; got '${String(value)}'`);
  }
  return new Set(names as Task[]);
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

  async abort(): Promise<void> {
    await this.handle.close().catch(() => {});
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

/**
 * `shapeIds` number instances and person_keypoints together, as COCO does: an object in both files
 * has one id there, so that reading them back merges it into one object.
 */
interface SubsetFiles { name: string; images: string[]; imageIds: IdAllocator; shapeIds: IdAllocator; tasks: Map<Task, TaskFile> }

/** One panoptic segment: a mask, or the polygons of one group and label; `parts[0]` leads. */
interface Segment { parts: (MaskAnnotation | PolygonAnnotation)[]; box?: BboxAnnotation; pixels: number; x0: number; y0: number; x1: number; y1: number; id: number }

/**
 * The annotations of one object (same label and non-zero group): written as ONE COCO annotation, its
 * segmentation from the polygons (else the first mask), its `bbox` from the object's box (else
 * computed), its keypoints from the skeleton. The COCO importer gives back the same object.
 */
interface CocoObject { polygons: PolygonAnnotation[]; masks: MaskAnnotation[]; box?: BboxAnnotation }

/** The shape whose entry carries the object (its first polygon, else its first mask). */
function objectLead(o: CocoObject): PolygonAnnotation | MaskAnnotation | undefined {
  return o.polygons[0] ?? o.masks[0];
}

const objectKey = (a: Annotation) => `${a.group}:${a.label}`;

function collectObjects(shapes: Annotation[]): Map<string, CocoObject> {
  const objects = new Map<string, CocoObject>();
  for (const a of shapes) {
    if (!a.group || (a.type !== 'polygon' && a.type !== 'mask' && a.type !== 'bbox')) continue;
    let o = objects.get(objectKey(a));
    if (!o) objects.set(objectKey(a), o = { polygons: [], masks: [] });
    if (a.type === 'polygon') o.polygons.push(a);
    else if (a.type === 'mask') o.masks.push(a);
    // A rotated box is no COCO bbox: it is written on its own, as a polygon.
    else if (!o.box && !a.rotation) o.box = a;
  }
  return objects;
}

/** `background` (VOC's class 0, any case) is never a COCO category. */
function isBackground(c: Category): boolean {
  return c.name.toLowerCase() === 'background';
}

class CocoExporter {
  private readonly categoryIds: number[];
  private readonly tasks: Set<Task>;
  private readonly headers: Record<'plain' | 'panoptic', string>;
  private readonly subsets = new Map<string, SubsetFiles>();
  private readonly media = new FileWriter();
  private readonly written: Record<string, number> = {};
  private readonly dropped: Record<string, number> = {};
  private items = 0;

  /**
   * `explicit` is the `--tasks` set: exactly those files are written (empty ones too) and whatever
   * they cannot hold is dropped; null keeps the default.
   */
  private readonly categories: Category[];

  constructor(dataset: Dataset, private readonly output: string, private readonly saveMedia: boolean, private readonly explicit: Set<Task> | null, private readonly ctx: Context) {
    this.categories = dataset.categories;
    // `background` (VOC's class 0) is no category: it takes no id and its annotations are dropped.
    const written = dataset.categories.map((_, i) => i).filter((i) => !isBackground(dataset.categories[i]));
    const ids = assignCategoryIds(written.map((i) => dataset.categories[i]));
    this.categoryIds = dataset.categories.map(() => -1);
    written.forEach((index, k) => { this.categoryIds[index] = ids[k]; });
    this.tasks = explicit ?? new Set(DEFAULT_TASKS);
    const start = `{"licenses":[{"name":"","id":0,"url":""}],"info":${JSON.stringify(dataset.info ?? {})},"categories":`;
    this.headers = {
      plain: start + JSON.stringify(written.map((i) => categoryEntry(dataset.categories[i], this.categoryIds[i]))),
      panoptic: start + JSON.stringify(written.map((i) => panopticCategoryEntry(dataset.categories[i], this.categoryIds[i]))),
    };
  }

  async run(dataset: Dataset): Promise<ExportSummary> {
    try {
      for await (const item of dataset.items) {
        await this.writeItem(item);
        this.items++;
        if (this.items % 1000 === 0) this.ctx.progress('coco: writing', this.items);
      }
    } catch (error) {
      // The output is discarded; only the open files need closing.
      for (const subset of this.subsets.values()) for (const task of subset.tasks.values()) await task.file.abort();
      throw error;
    }
    // No items: still write the categories, else the output is an empty folder no reader accepts.
    if (this.subsets.size === 0) await this.subsetFiles('');
    for (const subset of this.subsets.values()) {
      const images = subset.images.join(',\n');
      for (const [name, task] of subset.tasks) {
        // image_info holds images only; the others close their "annotations" array first.
        await task.file.write(`${name === 'image_info' ? '' : '\n]'},"images":[\n${images}\n]}\n`);
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
      files = { name, images: [], imageIds: new IdAllocator(0), shapeIds: new IdAllocator(), tasks: new Map() };
      this.subsets.set(name, files);
      for (const task of this.explicit ?? ['instances' as const]) await this.task(files, task, { item: name });
    }
    return files;
  }

  private async task(subset: SubsetFiles, task: Task, where: { item: string }): Promise<TaskFile> {
    let file = subset.tasks.get(task);
    if (!file) {
      const target = resolveInside(this.output, `annotations/${task}_${subset.name}.json`, where);
      file = new TaskFile(await JsonFile.open(target));
      await file.file.write(this.headers[task === 'panoptic' ? 'panoptic' : 'plain'] + (task === 'image_info' ? '' : ',"annotations":['));
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
      if (this.hasCategory(a) && this.categoryIds[a.label!] < 0) {
        this.drop('background', a, where.item, `its category '${this.categories[a.label!].name}' is background, which is never a COCO category`);
      } else if ((a.type === 'caption' && !this.tasks.has('captions')) || (a.type === 'label' && !this.tasks.has('labels'))) {
        this.dropNoTask(a, where.item);
      } else if (a.type === 'caption') {
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
      } else if (!hasFiniteNumbers(a)) {
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
    const held = new Set<Annotation>();
    const objects = collectObjects(shapes);
    // The id each object's instances entry took, for its keypoints entry.
    const objectIds = new Map<CocoObject, number>();
    // Why a shape the panoptic task could not paint was left out, where that is more than "no task".
    const failures = new Map<Annotation, [reason: string, why: string]>();
    if (shapes.length && this.tasks.has('instances')) await this.writeInstances(shapes, objects, objectIds, subset, imageId, size, held, where);
    if (shapes.length && this.tasks.has('person_keypoints')) await this.writeKeypoints(shapes, objects, objectIds, subset, imageId, size, held, where);
    if (this.tasks.has('panoptic')) await this.writePanoptic(item, shapes, objects, subset, imageId, size, held, failures, where);
    for (const a of shapes) {
      if (held.has(a)) { this.count(a.type); continue; }
      const failure = failures.get(a);
      if (failure) this.drop(failure[0], a, where.item, failure[1]);
      else this.dropNoTask(a, where.item);
    }
  }

  private async writeInstances(shapes: Annotation[], objects: Map<string, CocoObject>, objectIds: Map<CocoObject, number>, subset: SubsetFiles, imageId: number, size: Size | null, held: Set<Annotation>, where: { item: string }): Promise<void> {
    const instances = subset.tasks.get('instances')!;
    for (const a of shapes) {
      if (a.type === 'skeleton') continue;
      const object = a.group ? objects.get(objectKey(a)) : undefined;
      const lead = object && objectLead(object);
      if (object && lead && (a === object.box || (a.type === 'polygon' && a !== lead))) continue; // in the lead's entry
      if (object && a === lead) {
        const geometry = a.type === 'polygon' ? polygonsGeometry(object.polygons) : maskGeometry(a, size);
        const id = subset.shapeIds.take(a.id ?? object.box?.id);
        objectIds.set(object, id);
        await instances.add(this.instanceEntry(id, imageId, a, withBox(geometry, object.box)));
        for (const s of [...(a.type === 'polygon' ? object.polygons : [a]), ...(object.box ? [object.box] : [])]) held.add(s);
        continue;
      }
      const geometry = this.geometry(a, size, where.item);
      if (!geometry) continue;
      const id = subset.shapeIds.take(a.id);
      if (object && a === object.box) objectIds.set(object, id);
      await instances.add(this.instanceEntry(id, imageId, a, geometry));
      held.add(a);
    }
  }

  private async writeKeypoints(shapes: Annotation[], objects: Map<string, CocoObject>, objectIds: Map<CocoObject, number>, subset: SubsetFiles, imageId: number, size: Size | null, held: Set<Annotation>, where: { item: string }): Promise<void> {
    for (const a of shapes) {
      if (a.type !== 'skeleton') continue;
      const keypoints = await this.task(subset, 'person_keypoints', where);
      const object = a.group ? objects.get(objectKey(a)) : undefined;
      const id = (object && objectIds.get(object)) ?? subset.shapeIds.take(a.id);
      await keypoints.add(this.keypointsEntry(id, imageId, a, object, size));
      // The shapes the entry carries survive a round trip even without the instances task.
      held.add(a);
      const lead = object && objectLead(object);
      for (const s of [...(lead?.type === 'polygon' ? object!.polygons : lead ? [lead] : []), ...(object?.box ? [object.box] : [])]) held.add(s);
    }
  }

  /**
   * Paints the item's masks and polygons into `annotations/panoptic_<subset>/<id>.png` (segment id as
   * R + 256 G + 256^2 B, 0 = none) and adds its entry, one per image, with `segments_info` measured
   * on the pixels actually painted: where segments overlap, the higher z_order (then the later one) wins.
   */
  private async writePanoptic(item: Item, shapes: Annotation[], objects: Map<string, CocoObject>, subset: SubsetFiles, imageId: number, size: Size | null,
    held: Set<Annotation>, failures: Map<Annotation, [string, string]>, where: { item: string }): Promise<void> {
    const segments: Segment[] = [];
    const byGroup = new Map<string, Segment>();
    for (const a of shapes) {
      if (a.type !== 'mask' && a.type !== 'polygon') continue;
      // Polygons of one group and label are the parts of one object, as in instances.
      const key = a.type === 'polygon' && a.group ? `${a.group}:${a.label}` : null;
      const known = key ? byGroup.get(key) : undefined;
      if (known) { known.parts.push(a); continue; }
      const object = a.group ? objects.get(objectKey(a)) : undefined;
      // The object's box goes with its lead segment, as in instances.
      const box = object && objectLead(object) === a ? object.box : undefined;
      const segment: Segment = { parts: [a], box, pixels: 0, x0: Infinity, y0: Infinity, x1: -1, y1: -1, id: 0 };
      segments.push(segment);
      if (key) byGroup.set(key, segment);
    }
    const fail = (s: Segment, failure: [string, string]) => { for (const a of [...s.parts, ...(s.box ? [s.box] : [])]) failures.set(a, failure); };
    if (!size) {
      for (const s of segments) fail(s, ['no-image-size', 'a panoptic PNG needs the image size']);
      return;
    }
    const width = Math.ceil(size.width), height = Math.ceil(size.height);
    // owner[pixel] = 1 + index into `segments` of the segment painted last there.
    const owner = new Int32Array(width * height);
    const order = segments.map((_, i) => i).sort((i, j) => (segments[i].parts[0].zOrder ?? 0) - (segments[j].parts[0].zOrder ?? 0));
    for (const i of order) for (const a of segments[i].parts) paint(a, owner, width, height, i + 1);
    for (let p = 0; p < owner.length; p++) {
      if (!owner[p]) continue;
      const s = segments[owner[p] - 1];
      const x = p % width, y = (p - x) / width;
      s.pixels++;
      if (x < s.x0) s.x0 = x;
      if (x > s.x1) s.x1 = x;
      if (y < s.y0) s.y0 = y;
      if (y > s.y1) s.y1 = y;
    }
    const ids = new IdAllocator();
    const info: Entry[] = [];
    for (const s of segments) {
      const lead = s.parts[0];
      if (s.pixels === 0) {
        fail(s, ['empty-segment', 'it paints no pixel in the panoptic PNG (covered by later segments or outside the image)']);
        continue;
      }
      s.id = ids.take(lead.id !== undefined && lead.id <= MAX_SEGMENT_ID ? lead.id : undefined);
      // Area and box of the pixels painted, unless the object has a box of its own.
      const bbox = s.box ? [s.box.x, s.box.y, s.box.w, s.box.h] : [s.x0, s.y0, s.x1 - s.x0 + 1, s.y1 - s.y0 + 1];
      info.push({ id: s.id, category_id: this.categoryIds[lead.label!], area: s.pixels, bbox, iscrowd: lead.attributes?.is_crowd ? 1 : 0 });
      for (const a of [...s.parts, ...(s.box ? [s.box] : [])]) held.add(a);
    }
    const rgb = Buffer.alloc(width * height * 3);
    for (let p = 0; p < owner.length; p++) {
      if (!owner[p]) continue;
      const id = segments[owner[p] - 1].id;
      rgb[3 * p] = id & 0xff;
      rgb[3 * p + 1] = (id >> 8) & 0xff;
      rgb[3 * p + 2] = (id >> 16) & 0xff;
    }
    const pngName = `${item.id}.png`;
    // Inside the PNG folder itself: readers resolve file_name against it.
    const target = resolveInside(resolveInside(this.output, `annotations/panoptic_${subset.name}`, where), pngName, where);
    await this.media.write(target, await sharp(rgb, { raw: { width, height, channels: 3 } }).png().toBuffer());
    await subset.tasks.get('panoptic')!.add({ image_id: imageId, file_name: pngName, segments_info: info });
  }

  private geometry(a: Annotation, size: Size | null, item: string): Geometry | null {
    if (a.type === 'bbox') {
      if (a.rotation) {
        this.ctx.reporter.warn({ code: 'rotated-bbox', item, message: `bbox ${a.id ?? ''} rotated by ${a.rotation} degrees is written as a polygon (COCO boxes are axis-aligned)` });
        return polygonsGeometry([{ points: rotatedBoxCorners(a) }]);
      }
      return { segmentation: [], bbox: [a.x, a.y, a.w, a.h], area: a.w * a.h };
    }
    if (a.type === 'polygon') return polygonsGeometry([a]);
    if (a.type === 'mask') return maskGeometry(a, size);
    return null;
  }

  private instanceEntry(id: number, imageId: number, a: Annotation, geometry: Geometry): Entry {
    const entry: Entry = {
      id, image_id: imageId, category_id: this.categoryIds[a.label!],
      segmentation: geometry.segmentation, area: geometry.area, bbox: geometry.bbox, iscrowd: a.attributes?.is_crowd ? 1 : 0,
    };
    const extra = extraAttributes(a.attributes);
    if (extra) entry.attributes = extra;
    return entry;
  }

  /**
   * A skeleton with its object, as COCO's person_keypoints: segmentation from the object's polygons
   * or mask, bbox from its box, else from the segmentation, else around the visible keypoints.
   */
  private keypointsEntry(id: number, imageId: number, a: SkeletonAnnotation, object: CocoObject | undefined, size: Size | null): Entry {
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
    const lead = object && objectLead(object);
    const segmented = lead?.type === 'polygon' ? polygonsGeometry(object!.polygons) : lead ? maskGeometry(lead, size) : null;
    const box = object?.box;
    const geometry = segmented ? withBox(segmented, box)
      : box ? { segmentation: [], bbox: [box.x, box.y, box.w, box.h], area: box.w * box.h }
      : pointsGeometry(xs, ys);
    const entry: Entry = {
      id, image_id: imageId, category_id: this.categoryIds[a.label!],
      segmentation: geometry.segmentation, area: geometry.area, bbox: geometry.bbox, iscrowd: a.attributes?.is_crowd ? 1 : 0,
      keypoints, num_keypoints: visible,
    };
    const extra = extraAttributes(a.attributes);
    if (extra) entry.attributes = extra;
    return entry;
  }

  private async imageSize(item: Item, where: string): Promise<Size | null> {
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

  private dropNoTask(a: Annotation, item: string): void {
    this.drop(`no-task-for-${a.type}`, a, item, `none of the tasks ${[...this.tasks].join(', ')} holds ${a.type} annotations`);
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

/** A segmentation's geometry with the object's own box, where it has one. */
function withBox(geometry: Geometry, box: BboxAnnotation | undefined): Geometry {
  return box ? { ...geometry, bbox: [box.x, box.y, box.w, box.h] } : geometry;
}

/** Sets `owner` to `value` on the pixels of a mask or polygon, clipped to the image. */
function paint(a: MaskAnnotation | PolygonAnnotation, owner: Int32Array, width: number, height: number, value: number): void {
  if (a.type === 'polygon') {
    fillPolygon(a.points, width, height, (y, from, to) => owner.fill(value, y * width + from, y * width + to + 1));
    return;
  }
  const bits = maskToBitmap(a).data;
  const left = Math.round(a.left), top = Math.round(a.top);
  for (let r = 0; r < a.height; r++) {
    const y = top + r;
    if (y < 0 || y >= height) continue;
    for (let c = 0; c < a.width; c++) {
      const x = left + c;
      if (x >= 0 && x < width && bits[r * a.width + c]) owner[y * width + x] = value;
    }
  }
}

/**
 * Scanline fill, even-odd: pixel (x, y) is inside when its centre (x + 0.5, y + 0.5) is; `span`
 * gets each row's runs as inclusive pixel ranges within the image.
 */
function fillPolygon(points: readonly number[], width: number, height: number, span: (y: number, from: number, to: number) => void): void {
  const n = points.length >> 1;
  let top = Infinity, bottom = -Infinity;
  for (let i = 0; i < n; i++) { top = Math.min(top, points[2 * i + 1]); bottom = Math.max(bottom, points[2 * i + 1]); }
  const xs: number[] = [];
  for (let y = Math.max(0, Math.floor(top)); y < Math.min(height, Math.ceil(bottom)); y++) {
    const cy = y + 0.5;
    xs.length = 0;
    for (let i = 0, j = n - 1; i < n; j = i++) {
      const xi = points[2 * i], yi = points[2 * i + 1], xj = points[2 * j], yj = points[2 * j + 1];
      if ((yi <= cy) !== (yj <= cy)) xs.push(xi + ((cy - yi) * (xj - xi)) / (yj - yi));
    }
    xs.sort((a, b) => a - b);
    for (let k = 0; k + 1 < xs.length; k += 2) {
      // Centres in [xs[k], xs[k + 1]).
      const from = Math.max(0, Math.ceil(xs[k] - 0.5));
      const to = Math.min(width - 1, Math.ceil(xs[k + 1] - 0.5) - 1);
      if (from <= to) span(y, from, to);
    }
  }
}

function maskGeometry(a: MaskAnnotation, size: Size | null): Geometry {
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

/** Panoptic categories carry `isthing`: 1 (an object with instances) unless the category kept another value. */
function panopticCategoryEntry(c: Category, id: number): Entry {
  const kept = c.extra?.isthing;
  const isthing = kept === 0 || kept === false || kept === '0' ? 0 : 1;
  return { id, name: c.name, supercategory: typeof c.extra?.supercategory === 'string' ? c.extra.supercategory : c.parent ?? '', isthing };
}

function isSize(value: number | undefined): value is number {
  return value !== undefined && Number.isFinite(value) && value > 0;
}
