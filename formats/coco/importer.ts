import path from 'node:path';
import sharp from 'sharp';
import type { Annotation, Attributes, AttributeValue, Category, Dataset, Item, MaskAnnotation, Visibility } from '../../src/model.js';
import type { Context, Options } from '../../src/plugin.js';
import { DatumError } from '../../src/diagnostics.js';
import { resolveInside, stripExtension } from '../../src/paths.js';
import { bitmapToMask } from '../../src/geometry/mask.js';
import { findTaskFiles, type TaskFile } from './layout.js';
import { jsonError, parseElement, scanJsonFile } from './json-stream.js';
import { cocoCountsToMask, decodeCompressedCounts } from './rle.js';

/**
 * COCO import. Each annotation file is scanned as a byte stream (json-stream.ts) and only its small
 * elements are parsed, so files of any size work. Annotations are converted to lean model objects at
 * once and kept per image until the whole file is read (categories and images may come after the
 * annotations); the task files of one subset are merged by image `file_name`.
 */

type ImageKey = number | string;

/** Panoptic segments waiting for their PNG to be decoded when the item is handed over. */
interface PanopticEntry { file: string; png: string; segments: { id: number; label?: number; crowd: boolean }[] }

interface ImageRecord {
  fileName: string;
  /** The image id in the first file that lists the image, kept (as item attribute `id`) for export. */
  cocoId: ImageKey;
  path: string;
  width?: number;
  height?: number;
  annotations: Annotation[];
  /** How many task files added annotations: more than one means duplicates are possible. */
  sources: number;
  panoptic?: PanopticEntry[];
}

interface SubsetState { records: ImageRecord[]; byName: Map<string, ImageRecord> }

type Json = Record<string, unknown>;

export async function importCoco(input: string, _options: Options, ctx: Context): Promise<Dataset> {
  const files = await findTaskFiles(input);
  if (files.length === 0) {
    throw new DatumError({ code: 'no-coco-files', file: input, message: 'no COCO annotation files found (annotations/<task>_<subset>.json, <subset>/_annotations.coco.json, or a *.json in the folder or in annotations/ with top-level "images", "annotations", "categories" lists)' });
  }
  const importer = new CocoImporter(ctx);
  for (const taskFile of files) await importer.readFile(taskFile);
  // Before returning: exporters read `categories` before they pull the first item.
  const remap = importer.dropPlaceholderCategory();
  return { categories: importer.categories, info: importer.info, items: importer.items(remap) };
}

class CocoImporter {
  readonly categories: Category[] = [];
  info: Attributes | undefined;
  private readonly categoryByName = new Map<string, number>();
  private readonly subsets = new Map<string, SubsetState>();
  private readonly usedLabels = new Set<number>();

  constructor(private readonly ctx: Context) {}

  async readFile(taskFile: TaskFile): Promise<void> {
    const reader = new FileReader(this, taskFile, this.ctx);
    const label = `coco: reading ${path.basename(taskFile.file)}`;
    await scanJsonFile(taskFile.file, (key, index, bytes, offset) => reader.onValue(key, index, bytes, offset),
      (done, total) => this.ctx.progress(label, done, total));
    reader.finish();
  }

  subset(name: string): SubsetState {
    let state = this.subsets.get(name);
    if (!state) this.subsets.set(name, state = { records: [], byName: new Map() });
    return state;
  }

  /** Merges a file's category into the dataset's (by name); returns its index. */
  addCategory(category: Category): number {
    let index = this.categoryByName.get(category.name);
    if (index === undefined) {
      index = this.categories.length;
      this.categories.push(category);
      this.categoryByName.set(category.name, index);
      return index;
    }
    const known = this.categories[index];
    known.id ??= category.id;
    if (category.keypoints?.length && !known.keypoints?.length) known.keypoints = category.keypoints;
    if (category.skeleton?.length && !known.skeleton?.length) known.skeleton = category.skeleton;
    // Keys the first file did not give (a panoptic file's isthing) come from the later ones.
    if (category.extra) known.extra = { ...category.extra, ...known.extra };
    return index;
  }

  markUsed(label: number): void { this.usedLabels.add(label); }

  async *items(remap: Int32Array | null): AsyncGenerator<Item> {
    for (const [subset, state] of this.subsets) {
      for (const record of state.records) {
        let annotations = record.annotations;
        record.annotations = []; // hand the memory over with the item
        for (const entry of record.panoptic ?? []) annotations.push(...await this.decodePanoptic(entry));
        if (record.sources > 1) annotations = dedupe(annotations);
        if (remap) for (const a of annotations) if (a.label !== undefined) a.label = remap[a.label];
        yield {
          id: stripExtension(record.fileName),
          subset,
          image: { path: record.path, width: record.width, height: record.height },
          attributes: { id: record.cocoId },
          annotations,
        };
      }
    }
  }

  /**
   * Roboflow writes a placeholder category 0 named after the other categories' supercategory and never
   * used; keeping it would shift every class index in YOLO-like exports. Returns the label remapping.
   */
  dropPlaceholderCategory(): Int32Array | null {
    const index = this.categories.findIndex((c, i) => c.id === 0 && !this.usedLabels.has(i)
      && this.categories.some((other) => other !== c && other.extra?.supercategory === c.name));
    if (index < 0) return null;
    this.ctx.reporter.info({ code: 'placeholder-category', message: `unused category 0 '${this.categories[index].name}' (the others' supercategory) is left out` });
    this.categories.splice(index, 1);
    const remap = new Int32Array(this.categories.length + 1);
    for (let i = 0; i < remap.length; i++) remap[i] = i < index ? i : i - 1;
    return remap;
  }

  private async decodePanoptic(entry: PanopticEntry): Promise<Annotation[]> {
    let decoded: { data: Buffer; info: sharp.OutputInfo };
    try {
      decoded = await sharp(entry.png).raw().toBuffer({ resolveWithObject: true });
    } catch (error) {
      this.ctx.reporter.warn({ code: 'missing-panoptic-png', file: entry.file, message: `panoptic PNG ${entry.png} cannot be read (${(error as Error).message}); its segments are skipped` });
      return [];
    }
    const { data, info } = decoded;
    const { width, height, channels } = info;
    const slot = new Map<number, number>(entry.segments.map((s, i) => [s.id, i]));
    const bitmaps = entry.segments.map(() => new Uint8Array(width * height));
    for (let p = 0, q = 0; p < width * height; p++, q += channels) {
      // Segment id = R + 256 G + 256^2 B (a grey PNG holds only R).
      const i = slot.get(channels >= 3 ? data[q] + 256 * data[q + 1] + 65536 * data[q + 2] : data[q]);
      if (i !== undefined) bitmaps[i][p] = 1;
    }
    return entry.segments.map((segment, i) => {
      const mask: MaskAnnotation = { type: 'mask', ...bitmapToMask({ width, height, data: bitmaps[i] }), id: segment.id };
      if (segment.label !== undefined) mask.label = segment.label;
      if (segment.crowd) mask.attributes = { is_crowd: true };
      return mask;
    });
  }
}

/** Reads one task file: its images, categories and annotations. */
class FileReader {
  private readonly imagesById = new Map<ImageKey, ImageRecord>();
  private readonly annotationsByImage = new Map<ImageKey, Annotation[]>();
  private readonly panopticByImage = new Map<ImageKey, { png: string; segments: Json[]; index: number }[]>();
  /** COCO category id -> dataset category index. */
  private readonly labelOf = new Map<number, number>();
  /** Ids of annotations already warned about (one warning per COCO annotation). */
  private readonly reportedIds = new Set<number>();
  private readonly subset: SubsetState;
  private readonly file: string;
  /** Last group number given in this file (see `convert`). */
  private groupSerial = 0;

  constructor(private readonly owner: CocoImporter, private readonly taskFile: TaskFile, private readonly ctx: Context) {
    this.subset = owner.subset(taskFile.subset);
    this.file = taskFile.file;
  }

  onValue(key: string, index: number, bytes: Buffer, offset: number): void {
    if (key !== 'images' && key !== 'annotations' && key !== 'categories' && key !== 'info') return;
    const value = this.parse(bytes, offset);
    if (index < 0) {
      if (key === 'info') this.readInfo(value);
      else this.warn('bad-structure', `/${key}`, `"${key}" is not an array; ignored`);
      return;
    }
    const pointer = `/${key}/${index}`;
    if (!isObject(value)) { this.warn('bad-structure', pointer, `element of "${key}" is not an object; skipped`); return; }
    if (key === 'images') this.readImage(value, pointer);
    else if (key === 'categories') this.readCategory(value, pointer);
    else if (key === 'annotations') this.readAnnotation(value, pointer, index);
  }

  /** One element; a syntax error stops the import. */
  private parse(bytes: Buffer, offset: number): unknown {
    const parsed = parseElement(bytes, offset);
    if ('error' in parsed) throw jsonError(this.file, parsed.error.offset, parsed.error.message);
    return parsed.value;
  }

  private readInfo(value: unknown): void {
    if (!isObject(value) || this.owner.info) return;
    const info: Attributes = {};
    for (const [k, v] of Object.entries(value)) if (isAttributeValue(v)) info[k] = v;
    this.owner.info = info;
  }

  private readImage(image: Json, pointer: string): void {
    const fileName = typeof image.file_name === 'string' ? image.file_name.replace(/\\/g, '/') : '';
    const key = imageKey(image.id);
    if (!fileName || key === undefined) {
      this.warn('bad-image', pointer, `image ${String(image.id)} has no file_name or id; skipped`);
      return;
    }
    if (this.imagesById.has(key)) {
      this.warn('duplicate-image-id', pointer, `image id ${key} is used twice; '${fileName}' is skipped`);
      return;
    }
    let record = this.subset.byName.get(fileName);
    if (!record) {
      const imagePath = resolveInside(this.taskFile.imageDir, fileName, { file: this.file, element: pointer });
      record = { fileName, cocoId: key, path: imagePath, annotations: [], sources: 0 };
      this.subset.byName.set(fileName, record);
      this.subset.records.push(record);
    }
    const width = positiveNumber(image.width);
    const height = positiveNumber(image.height);
    if (width === undefined || height === undefined) {
      if (image.width !== undefined || image.height !== undefined) {
        this.warn('bad-image-size', pointer, `image '${fileName}' has an invalid size ${String(image.width)} x ${String(image.height)}; it is left unknown`);
      }
    } else if (record.width === undefined) {
      record.width = width;
      record.height = height;
    }
    this.imagesById.set(key, record);
  }

  private readCategory(category: Json, pointer: string): void {
    const id = finiteNumber(category.id);
    if (id === undefined) { this.warn('bad-category', pointer, `category without a numeric id; skipped`); return; }
    if (this.labelOf.has(id)) { this.warn('duplicate-category-id', pointer, `category id ${id} is used twice; the second is skipped`); return; }
    const name = typeof category.name === 'string' && category.name ? category.name : String(id);
    const result: Category = { name, id };
    if (typeof category.supercategory === 'string' && category.supercategory) result.extra = { supercategory: category.supercategory };
    // Panoptic files say whether a category is a thing; kept so a panoptic export writes it back.
    if (category.isthing === 0 || category.isthing === 1) result.extra = { ...result.extra, isthing: category.isthing };
    if (Array.isArray(category.keypoints) && category.keypoints.length) result.keypoints = category.keypoints.map(String);
    if (Array.isArray(category.skeleton) && category.skeleton.length) result.skeleton = this.readSkeleton(category.skeleton, pointer, name, result.keypoints?.length ?? 0);
    this.labelOf.set(id, this.owner.addCategory(result));
  }

  /** COCO skeleton edges are 1-based; Datumaro writes 0-based ones, recognizable by a 0. */
  private readSkeleton(edges: unknown[], pointer: string, name: string, keypoints: number): [number, number][] {
    const valid = edges.filter((e): e is [number, number] => Array.isArray(e) && e.length === 2 && e.every((v) => Number.isInteger(v) && v >= 0));
    if (valid.length !== edges.length) this.warn('bad-skeleton', pointer, `category '${name}': ${edges.length - valid.length} skeleton edges are not pairs of indices; skipped`);
    const zeroBased = valid.some(([a, b]) => a === 0 || b === 0);
    if (zeroBased) this.ctx.reporter.info({ code: 'zero-based-skeleton', file: this.file, pointer, message: `category '${name}': skeleton edges contain 0, so they are read as 0-based` });
    const converted = valid.map(([a, b]): [number, number] => (zeroBased ? [a, b] : [a - 1, b - 1]));
    // An edge to a keypoint the category does not name would reach exporters (CVAT's svg) as a dangling node.
    const inRange = keypoints ? converted.filter(([a, b]) => a < keypoints && b < keypoints) : converted;
    if (inRange.length !== converted.length) this.warn('bad-skeleton', pointer, `category '${name}': ${converted.length - inRange.length} skeleton edges refer to keypoints beyond its ${keypoints}; skipped`);
    return inRange;
  }

  private readAnnotation(json: Json, pointer: string, index: number): void {
    const key = imageKey(json.image_id);
    const name = annotationName(json, index);
    if (key === undefined) { this.warn('bad-annotation', pointer, `${name} has no image_id; skipped`); return; }
    if (Array.isArray(json.segments_info)) {
      const png = typeof json.file_name === 'string' ? json.file_name : '';
      let list = this.panopticByImage.get(key);
      if (!list) this.panopticByImage.set(key, list = []);
      list.push({ png, segments: json.segments_info.filter(isObject), index });
      return;
    }
    const converted = this.convert(json, pointer, name);
    if (converted.length === 0) return;
    const list = this.annotationsByImage.get(key);
    if (list) for (const a of converted) list.push(a);
    else this.annotationsByImage.set(key, converted);
  }

  /**
   * One COCO annotation -> model annotations, with the COCO category id in `label` until the file ends.
   * The shapes of one annotation (polygon parts or mask, its bbox, its keypoints) share a group: here a
   * number unique in the file, made unique in the item by `finish` (see `objectGroup`).
   */
  private convert(json: Json, pointer: string, name: string): Annotation[] {
    const id = finiteNumber(json.id);
    if (typeof json.caption === 'string') return [id === undefined ? { type: 'caption', caption: json.caption } : { type: 'caption', caption: json.caption, id }];
    const category = json.category_id === undefined || json.category_id === null ? undefined : finiteNumber(json.category_id);
    const attributes = readAttributes(json);
    const out: Annotation[] = [];
    const hasKeypoints = Array.isArray(json.keypoints) && json.keypoints.length > 0;
    const segmentation = json.segmentation;
    if (Array.isArray(segmentation) && segmentation.length > 0) {
      const parts = segmentation.filter((part, i) => {
        // `[[]]` is how several converters write "no polygon" for a box: not worth a warning.
        if (Array.isArray(part) && part.length === 0) return false;
        const ok = Array.isArray(part) && part.length >= 6 && part.length % 2 === 0 && allFinite(part);
        if (!ok) this.warn('bad-polygon', `${pointer}/segmentation/${i}`, `${name}: polygon part is not an even list of at least 6 finite numbers; skipped`);
        return ok;
      }) as number[][];
      for (const points of parts) out.push(shape({ type: 'polygon', points }, category, id, attributes));
    } else if (isObject(segmentation)) {
      const mask = this.readRle(segmentation, pointer, name);
      if (mask) out.push(shape({ type: 'mask', ...mask }, category, id, attributes));
    }
    // COCO's bbox is the object's box, also beside a segmentation or keypoints (Ultralytics' converter
    // takes it, not the polygon's or the visible keypoints' bounds); alone when there is nothing else.
    if (json.bbox !== undefined) {
      const box = json.bbox;
      if (Array.isArray(box) && box.length === 4 && allFinite(box) && box[2] >= 0 && box[3] >= 0) {
        out.push(shape({ type: 'bbox', x: box[0], y: box[1], w: box[2], h: box[3] }, category, id, attributes));
      } else {
        this.warn('bad-bbox', `${pointer}/bbox`, `${name}: bbox ${JSON.stringify(box)} is not 4 finite numbers with w, h >= 0; skipped`);
      }
    }
    if (hasKeypoints) {
      const skeleton = this.readKeypoints(json.keypoints as unknown[], pointer, name);
      if (skeleton) out.push(shape({ type: 'skeleton', ...skeleton }, category, id, attributes));
    }
    if (out.length > 1) {
      const group = ++this.groupSerial;
      for (const a of out) a.group = group;
    }
    if (out.length === 0 && category !== undefined && json.segmentation === undefined && json.bbox === undefined && !hasKeypoints) {
      out.push(shape({ type: 'label' }, category, id, attributes));
    }
    return out;
  }

  private readRle(segmentation: Json, pointer: string, name: string): Omit<MaskAnnotation, 'type'> | null {
    const size = segmentation.size;
    try {
      if (!Array.isArray(size) || size.length !== 2 || !size.every((v) => Number.isInteger(v) && v >= 0)) {
        throw new Error(`size ${JSON.stringify(size)} is not [height, width]`);
      }
      const counts = typeof segmentation.counts === 'string' ? decodeCompressedCounts(segmentation.counts) : segmentation.counts;
      if (!Array.isArray(counts)) throw new Error('counts is neither a list nor a string');
      return cocoCountsToMask(counts as number[], size[0] as number, size[1] as number);
    } catch (error) {
      this.warn('bad-rle', `${pointer}/segmentation`, `${name}: ${(error as Error).message}; skipped`);
      return null;
    }
  }

  private readKeypoints(values: unknown[], pointer: string, name: string): { points: number[]; visibility: Visibility[] } | null {
    const fail = (why: string) => { this.warn('bad-keypoints', `${pointer}/keypoints`, `${name}: ${why}; keypoints skipped`); return null; };
    if (values.length % 3 !== 0) return fail(`${values.length} numbers are not x, y, v triplets`);
    const points: number[] = [];
    const visibility: Visibility[] = [];
    for (let i = 0; i < values.length; i += 3) {
      const [x, y, v] = [values[i], values[i + 1], values[i + 2]];
      if (typeof x !== 'number' || typeof y !== 'number' || !Number.isFinite(x) || !Number.isFinite(y)) return fail(`keypoint ${i / 3} has non-finite coordinates`);
      if (v !== 0 && v !== 1 && v !== 2) return fail(`keypoint ${i / 3} has visibility ${String(v)} (not 0, 1 or 2)`);
      points.push(x, y);
      visibility.push(v);
    }
    return { points, visibility };
  }

  /** Attaches the file's annotations to their images and turns COCO category ids into label indices. */
  finish(): void {
    const touched = new Set<ImageRecord>();
    for (const [key, annotations] of this.annotationsByImage) {
      const record = this.imagesById.get(key);
      if (!record) {
        for (const a of annotations) if (this.firstReport(a)) this.warn('unknown-image', '/annotations', `annotation ${a.id ?? '(no id)'} refers to image id ${key}, which is not in "images"; skipped`);
        continue;
      }
      const groups = new Map<number, number>();
      const earlier = record.annotations.length; // what other task files gave
      for (const a of annotations) {
        if (!this.resolveLabel(a)) continue;
        if (a.group !== undefined) {
          let group = groups.get(a.group);
          if (group === undefined) groups.set(a.group, group = objectGroup(record.annotations, earlier, a));
          a.group = group;
        }
        record.annotations.push(a);
      }
      touched.add(record);
    }
    for (const [key, entries] of this.panopticByImage) {
      const record = this.imagesById.get(key);
      if (!record) { this.warn('unknown-image', '/annotations', `panoptic annotation refers to image id ${key}, which is not in "images"; skipped`); continue; }
      for (const entry of entries) this.addPanoptic(record, entry);
      touched.add(record);
    }
    for (const record of touched) record.sources++;
  }

  /**
   * Whether a warning about this annotation is the first: a COCO annotation with a bbox and a polygon
   * is two model annotations, and one defect gets one warning.
   */
  private firstReport(a: Annotation): boolean {
    if (a.id === undefined) return true;
    if (this.reportedIds.has(a.id)) return false;
    this.reportedIds.add(a.id);
    return true;
  }

  /** False when the annotation means nothing without its (unknown) category. */
  private resolveLabel(a: Annotation): boolean {
    if (a.type === 'caption' || a.label === undefined) return true;
    const index = this.labelOf.get(a.label);
    if (index === undefined) {
      if (this.firstReport(a)) this.warn('unknown-category', '/annotations', `annotation ${a.id ?? '(no id)'} has category_id ${a.label}, which is not in "categories"; ${a.type === 'label' ? 'skipped' : 'kept without a label'}`);
      delete a.label;
      return a.type !== 'label';
    }
    a.label = index;
    this.owner.markUsed(index);
    if (a.type === 'skeleton') this.fitKeypointNames(a.points.length / 2, index);
    return true;
  }

  /** Skeleton points need names in the category; files with an empty `keypoints` list get '1', '2', ... */
  private fitKeypointNames(count: number, index: number): void {
    const category = this.owner.categories[index];
    const names = category.keypoints ?? [];
    if (names.length >= count) return;
    this.ctx.reporter.info({ code: 'missing-keypoint-names', file: this.file, message: `category '${category.name}' names ${names.length} keypoints, annotations have ${count}; the rest are numbered` });
    category.keypoints = [...names, ...Array.from({ length: count - names.length }, (_, i) => String(names.length + i + 1))];
  }

  private addPanoptic(record: ImageRecord, entry: { png: string; segments: Json[]; index: number }): void {
    const pointer = `/annotations/${entry.index}`;
    if (!entry.png || !this.taskFile.pngDir) { this.warn('bad-annotation', pointer, 'panoptic annotation without file_name; skipped'); return; }
    const segments: PanopticEntry['segments'] = [];
    for (const s of entry.segments) {
      const id = finiteNumber(s.id);
      if (id === undefined) { this.warn('bad-annotation', pointer, 'panoptic segment without id; skipped'); continue; }
      const category = finiteNumber(s.category_id);
      const label = category === undefined ? undefined : this.labelOf.get(category);
      if (label === undefined) this.warn('unknown-category', pointer, `segment ${id} has category_id ${String(s.category_id)}, which is not in "categories"; kept without a label`);
      else this.owner.markUsed(label);
      segments.push({ id, label, crowd: Number(s.iscrowd) === 1 });
    }
    const png = resolveInside(this.taskFile.pngDir, entry.png, { file: this.file, element: pointer });
    (record.panoptic ??= []).push({ file: this.file, png, segments });
  }

  private warn(code: string, pointer: string, message: string): void {
    this.ctx.reporter.warn({ code, file: this.file, pointer, message });
  }
}

/**
 * The item's group for an object of one task file: the group the same COCO id and label has in the
 * annotations `list[0..earlier)` of the other task files (instances and person_keypoints both hold a
 * person), else one no annotation of the item has, the COCO id where it is free. Scans the item's
 * annotations (a few per image) rather than keeping an index per image in memory.
 */
function objectGroup(list: Annotation[], earlier: number, a: Annotation): number {
  if (a.id !== undefined) {
    for (let i = 0; i < earlier; i++) {
      const other = list[i];
      if (other.group && other.id === a.id && other.label === a.label) return other.group;
    }
  }
  const used = (g: number) => list.some((other) => other.group === g);
  if (a.id !== undefined && Number.isSafeInteger(a.id) && a.id > 0 && !used(a.id)) return a.id;
  let group = 1;
  while (used(group)) group++;
  return group;
}

function shape<T extends Annotation>(a: T, label: number | undefined, id: number | undefined, attributes: Attributes | undefined): T {
  if (label !== undefined) a.label = label;
  if (id !== undefined) a.id = id;
  if (attributes) a.attributes = { ...attributes };
  return a;
}

/** `iscrowd` as `is_crowd`, plus Datumaro's free-form `attributes` object. */
function readAttributes(json: Json): Attributes | undefined {
  let attributes: Attributes | undefined;
  if (isObject(json.attributes)) {
    for (const [k, v] of Object.entries(json.attributes)) if (isAttributeValue(v)) (attributes ??= {})[k] = v;
  }
  if (Number(json.iscrowd) === 1) (attributes ??= {}).is_crowd = true;
  return attributes;
}

/**
 * Drops exact duplicates that come from merging task files (instances and person_keypoints both
 * carry the person's polygon), keeping the grouped copy.
 */
function dedupe(annotations: Annotation[]): Annotation[] {
  const seen = new Map<string, Annotation>();
  const out: Annotation[] = [];
  for (const a of annotations) {
    if (a.type === 'skeleton' || a.type === 'caption' || a.type === 'label') { out.push(a); continue; }
    const { group, ...rest } = a;
    const key = JSON.stringify(rest);
    const earlier = seen.get(key);
    if (!earlier) { seen.set(key, a); out.push(a); continue; }
    if (earlier.group === undefined && group !== undefined) earlier.group = group;
  }
  return out;
}

function imageKey(value: unknown): ImageKey | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'string' && value) {
    const n = Number(value);
    return Number.isFinite(n) && value.trim() !== '' ? n : value;
  }
  return undefined;
}

function annotationName(json: Json, index: number): string {
  return json.id === undefined ? `annotation #${index} (no id)` : `annotation ${String(json.id)}`;
}

/** A finite number, also from a numeric string (real files write width/height as strings). */
function finiteNumber(value: unknown): number | undefined {
  const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
  return Number.isFinite(n) ? n : undefined;
}

function positiveNumber(value: unknown): number | undefined {
  const n = finiteNumber(value);
  return n !== undefined && n > 0 ? n : undefined;
}

function allFinite(values: unknown[]): boolean {
  for (const v of values) if (typeof v !== 'number' || !Number.isFinite(v)) return false;
  return true;
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isAttributeValue(value: unknown): value is AttributeValue {
  return typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value));
}
