/**
 * Pascal VOC exporter: Annotations/<id>.xml for every item, ImageSets lists, palette PNG masks in
 * SegmentationClass/SegmentationObject for mask and polygon annotations, labelmap.txt, and the
 * images with --save-media. Items are consumed one at a time; only ids are kept for the lists.
 */
import crypto from 'node:crypto';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Annotation, AttributeValue, BboxAnnotation, Category, Dataset, Item, MaskAnnotation, PointsAnnotation, PolygonAnnotation } from '../../src/model.js';
import { hasFiniteNumbers, imageFileName } from '../../src/model.js';
import type { Context, ExportSummary, Options } from '../../src/plugin.js';
import { resolveInside } from '../../src/paths.js';
import { FileWriter } from '../../src/output.js';
import { probeImageSize } from '../../src/media.js';
import {
  ANNOTATIONS_DIR, CLASS_MASK_DIR, DEFAULT_SUBSET, IMAGES_DIR, LABELMAP_FILE, OBJECT_MASK_DIR, SETS_DIR, VOC_PALETTE,
  VOID_INDEX, categoryActions, formatLabelmap, packRgb, type LabelmapEntry, type Rgb,
} from './layout.js';
import { boxOffset } from './importer.js';
import { actionTag, writeAnnotationXml, type VocBox, type VocObjectOut } from './xml.js';
import { encodePalettePng } from './png.js';
import { paintMask, paintPolygon } from './masks.js';

const BUILTIN_ATTRIBUTES = new Set(['truncated', 'difficult', 'occluded', 'pose']);
const VOID_LABEL = 'ignored';

/** The output labelmap and where each model label goes in it. */
interface LabelPlan {
  entries: LabelmapEntry[];
  /** model label -> class index in SegmentationClass (VOID_INDEX for `ignored`) */
  classIndex: Map<number, number>;
  /** model labels written as <part> of an object */
  partLabels: Set<number>;
  classPalette: Rgb[];
}

/**
 * Labelmap lines are the categories that are not parts (a part is a category whose parent is
 * another category), with `background` first (added black if missing, as Datumaro does). Labels
 * without a color get the VOC palette color of their index, or the next unused one.
 */
export function planLabels(categories: Category[]): LabelPlan {
  const names = new Set(categories.map((c) => c.name));
  const isPart = (c: Category) => c.parent !== undefined && c.parent !== c.name && names.has(c.parent);
  const main = categories.filter((c) => !isPart(c));
  const hasBackground = main.some((c) => c.name === 'background' || (c.color && packRgb(...c.color) === 0));
  const entries: LabelmapEntry[] = [];
  if (!hasBackground) entries.push({ name: 'background', color: [0, 0, 0], parts: [], actions: [] });
  const background = main.find((c) => c.name === 'background');
  for (const c of background ? [background, ...main.filter((m) => m !== background)] : main) {
    entries.push({ name: c.name, color: c.color ? [...c.color] as Rgb : undefined, parts: [], actions: categoryActions(c) });
  }
  const byName = new Map(entries.map((e) => [e.name, e]));
  for (const c of categories) if (isPart(c)) byName.get(c.parent!)?.parts.push(c.name);

  // Colors identify classes in SegmentationClass, so a color already taken (or the void color) is replaced.
  const used = new Set([packRgb(...VOC_PALETTE[VOID_INDEX])]);
  for (const e of entries) {
    if (!e.color) continue;
    if (used.has(packRgb(...e.color))) e.color = undefined;
    else used.add(packRgb(...e.color));
  }
  let next = 0;
  entries.forEach((e, i) => {
    if (e.color) return;
    const preferred = i < VOID_INDEX ? VOC_PALETTE[i] : undefined;
    if (preferred && !used.has(packRgb(...preferred))) e.color = [...preferred];
    else {
      while (next < VOC_PALETTE.length && used.has(packRgb(...VOC_PALETTE[next]))) next++;
      e.color = next < VOC_PALETTE.length ? [...VOC_PALETTE[next]] : undefined;
    }
    if (e.color) used.add(packRgb(...e.color));
  });

  const entryIndex = new Map(entries.map((e, i) => [e.name, i]));
  const classIndex = new Map<number, number>();
  const partLabels = new Set<number>();
  categories.forEach((c, label) => {
    if (isPart(c)) partLabels.add(label);
    else if (c.name === VOID_LABEL) classIndex.set(label, VOID_INDEX);
    else if (entryIndex.get(c.name)! < VOID_INDEX) classIndex.set(label, entryIndex.get(c.name)!);
  });
  const classPalette = VOC_PALETTE.map((rgb, i) => (i < entries.length && i !== VOID_INDEX && entries[i].color ? entries[i].color! : rgb));
  return { entries, classIndex, partLabels, classPalette };
}

/** Counts of dropped annotations by reason, each reported once at the end with the first item it happened in. */
class Drops {
  readonly counts: Record<string, number> = {};
  private readonly first = new Map<string, { item: string; message: string }>();
  add(reason: string, item: Item, message: string, n = 1): void {
    if (n <= 0) return;
    this.counts[reason] = (this.counts[reason] ?? 0) + n;
    if (!this.first.has(reason)) this.first.set(reason, { item: item.id, message });
  }
  report(ctx: Context): void {
    for (const [reason, { item, message }] of this.first) {
      ctx.reporter.warn({ code: reason, item, message: `${this.counts[reason]} annotation(s) not exported: ${message}` });
    }
  }
}

const UNSUPPORTED: Partial<Record<Annotation['type'], string>> = {
  polyline: 'VOC has no polylines', ellipse: 'VOC has no ellipses',
  skeleton: 'VOC has no skeletons', caption: 'VOC has no captions',
};

function truthy(value: AttributeValue | undefined): boolean {
  return value === true || value === 1 || value === '1' || (typeof value === 'string' && value.toLowerCase() === 'true');
}

export async function exportVoc(dataset: Dataset, output: string, options: Options, ctx: Context): Promise<ExportSummary> {
  const { categories } = dataset;
  const plan = planLabels(categories);
  for (const entry of plan.entries) {
    // A line starting with '#' is a comment to every labelmap reader (Datumaro's too): the label would vanish.
    if (/[:,\n]/.test(entry.name) || /^\s*#/.test(entry.name) || entry.parts.some((p) => /[:,\n]/.test(p))) {
      ctx.reporter.warn({ code: 'bad-label-name', message: `label '${entry.name}' (or one of its parts) contains ':', ',' or a newline, or starts with '#', which ${LABELMAP_FILE} cannot hold; the labelmap line will not read back` });
    }
  }
  const offset = boxOffset(options);
  const saveMedia = options['save-media'] === true;
  const writer = new FileWriter();
  const drops = new Drops();
  const written: Record<string, number> = {};
  const count = (type: string, n = 1) => { if (n) written[type] = (written[type] ?? 0) + n; };
  const toVocBox = (b: BboxAnnotation): VocBox => ({ xmin: b.x + offset, ymin: b.y + offset, xmax: b.x + b.w, ymax: b.y + b.h });

  // Per subset: ids for each list, and the per-class / per-action lines.
  const lists = new Map<string, { main: string[]; segmentation: string[]; layout: string[]; action: string[]; classes: Map<string, Set<number>>; actions: Map<string, string[]> }>();
  // An id listed in two subsets (train and trainval) shares one XML, mask pair and image.
  // A digest of what was written per id: a different item under an id already written (train/0001 and
  // val/0001 of a COCO dataset are two images) cannot be held and is reported, not silently lost.
  const writtenIds = new Map<string, string>();
  let items = 0;
  for await (const item of dataset.items) {
    items++;
    const subset = item.subset || DEFAULT_SUBSET;
    let list = lists.get(subset);
    if (!list) lists.set(subset, list = { main: [], segmentation: [], layout: [], action: [], classes: new Map(), actions: new Map() });
    const context = { item: item.id };
    const digest = itemDigest(item);
    const earlier = writtenIds.get(item.id);
    const firstTime = earlier === undefined;
    if (firstTime) writtenIds.set(item.id, digest);
    else if (earlier !== digest) {
      drops.add('duplicate-id', item, `another item with this id in another subset was written first (VOC has one Annotations/<id>.xml for all subsets)`,
        item.annotations.filter((a) => a.type !== 'label').length);
      ctx.reporter.warn({ code: 'duplicate-id', item: item.id, message: `item '${item.id}' of subset '${subset}' differs from the item of that id already written; VOC holds one per id, so its image and annotations are not written (it is still listed)` });
    }

    let width = item.image?.width;
    let height = item.image?.height;
    if ((!width || !height) && item.image && !item.normalized) {
      const size = await probeImageSize(item.image.path);
      if (size) ({ width, height } = size);
    }

    const labels = new Set<number>();
    const boxes: BboxAnnotation[] = [];
    const shapes: (MaskAnnotation | PolygonAnnotation)[] = [];
    const points: PointsAnnotation[] = [];
    for (const a of item.annotations) {
      if (a.type === 'label') {
        if (a.label === undefined) drops.add('unlabeled', item, 'a label annotation without a label');
        else if (plan.partLabels.has(a.label)) drops.add('part-label', item, `'${categories[a.label].name}' is a part label; VOC class lists hold only labelmap labels`);
        else { labels.add(a.label); count('label'); }
        continue;
      }
      const unsupported = UNSUPPORTED[a.type];
      if (unsupported) { drops.add(`unsupported-${a.type}`, item, unsupported); continue; }
      if (item.normalized) { drops.add('no-image-size', item, 'the item has normalized coordinates and no image size'); continue; }
      if (a.label === undefined) { drops.add('unlabeled', item, `a ${a.type} without a label`); continue; }
      // NaN/Infinity would be written as text no VOC reader parses (or break the mask canvas size).
      if (!hasFiniteNumbers(a)) {
        drops.add('non-finite', item, 'a non-finite coordinate');
        ctx.reporter.warn({ code: 'non-finite', item: item.id, message: `${a.type} annotation${a.id !== undefined ? ` ${a.id}` : ''} has a non-finite coordinate; not written` });
        continue;
      }
      if (a.type === 'bbox') {
        if (a.rotation) drops.add('rotated-bbox', item, 'VOC boxes cannot be rotated');
        // xmax < xmin: readers (datum's too) skip such a box.
        else if (a.w < 0 || a.h < 0) drops.add('negative-size', item, `a box of negative size (${a.w} x ${a.h})`);
        else boxes.push(a);
      } else if (a.type === 'points') {
        points.push(a);
      } else if (a.type === 'mask' || a.type === 'polygon') {
        if (plan.partLabels.has(a.label) || !plan.classIndex.has(a.label)) drops.add('no-mask-class', item, `label '${categories[a.label]?.name}' has no class index in the mask palette`);
        else shapes.push(a);
      }
    }

    // Objects: boxes that are not parts of another box in their group; parts attach to the first such box.
    // An object (same label, same group: a COCO annotation's bbox beside its polygon or mask) is one
    // <object> with that box; its shapes paint its instance in SegmentationObject.
    const objects: { box: BboxAnnotation; out: VocObjectOut }[] = [];
    const objectOfGroup = new Map<number, number>();
    const objectOfLabelGroup = new Map<string, number>();
    for (const box of boxes) {
      const isPart = plan.partLabels.has(box.label!) && box.group && boxes.some((b) => b !== box && b.group === box.group && !plan.partLabels.has(b.label!));
      if (isPart) continue;
      objects.push({ box, out: objectOut(box, categories, toVocBox(box)) });
      if (box.group && !objectOfGroup.has(box.group)) objectOfGroup.set(box.group, objects.length);
      if (box.group && !objectOfLabelGroup.has(`${box.label}/${box.group}`)) objectOfLabelGroup.set(`${box.label}/${box.group}`, objects.length);
    }
    for (const box of boxes) {
      if (objects.some((o) => o.box === box)) continue;
      objects[objectOfGroup.get(box.group!)! - 1].out.parts.push({ name: categories[box.label!].name, box: toVocBox(box) });
    }
    count('bbox', boxes.length);
    // A single point grouped with an object is VOC Action's <point>; other points have no place in VOC.
    for (const p of points) {
      const object = p.group ? objects[(objectOfGroup.get(p.group) ?? 0) - 1] : undefined;
      if (object && p.points.length === 2 && !object.out.point) {
        object.out.point = { x: p.points[0] + offset, y: p.points[1] + offset };
        count('points');
      } else drops.add('unsupported-points', item, 'VOC holds only one point per object (<point>), grouped with its box');
    }

    let segmented = false;
    if (shapes.length) {
      const canvas = width && height ? { width, height } : extentOf(shapes);
      const classMap = new Uint8Array(canvas.width * canvas.height);
      const objectMap = new Uint8Array(canvas.width * canvas.height);
      let nextInstance = objects.length + 1;
      const instanceOfObject = new Map(objectOfLabelGroup);
      for (const shape of [...shapes].sort((a, b) => (a.zOrder ?? 0) - (b.zOrder ?? 0))) {
        const key = shape.group ? `${shape.label}/${shape.group}` : undefined;
        // Another label in the group: VOC's own pairing (instance k = k-th <object>, its class from the class mask).
        let instance = key ? instanceOfObject.get(key) ?? objectOfGroup.get(shape.group!) : undefined;
        if (instance === undefined) {
          if (nextInstance >= VOID_INDEX) { drops.add('too-many-instances', item, 'SegmentationObject holds at most 254 instances'); continue; }
          instance = nextInstance++;
          if (key) instanceOfObject.set(key, instance);
        }
        const classValue = plan.classIndex.get(shape.label!)!;
        const objectValue = classValue === VOID_INDEX ? VOID_INDEX : instance;
        if (shape.type === 'mask') {
          paintMask(classMap, canvas.width, canvas.height, shape, classValue);
          paintMask(objectMap, canvas.width, canvas.height, shape, objectValue);
        } else {
          paintPolygon(classMap, canvas.width, canvas.height, shape.points, classValue);
          paintPolygon(objectMap, canvas.width, canvas.height, shape.points, objectValue);
        }
        count(shape.type);
      }
      if (firstTime) {
        await writer.write(resolveInside(path.join(output, CLASS_MASK_DIR), `${item.id}.png`, context), encodePalettePng(canvas.width, canvas.height, classMap, plan.classPalette));
        await writer.write(resolveInside(path.join(output, OBJECT_MASK_DIR), `${item.id}.png`, context), encodePalettePng(canvas.width, canvas.height, objectMap, VOC_PALETTE));
      }
      list.segmentation.push(item.id);
      segmented = true;
    }

    const filename = imageFileName(item);
    const xml = writeAnnotationXml({
      filename,
      size: width && height ? { width, height, depth: 3 } : undefined,
      segmented,
      objects: objects.map((o) => o.out),
    });
    if (firstTime) await writer.write(resolveInside(path.join(output, ANNOTATIONS_DIR), `${item.id}.xml`, context), xml);
    list.main.push(item.id);
    if (labels.size) list.classes.set(item.id, labels);
    if (objects.some((o) => o.out.parts.length)) {
      const quoted = /\s/.test(item.id) ? `"${item.id}"` : item.id;
      objects.forEach((o, k) => { if (o.out.parts.length) list!.layout.push(`${quoted} ${k + 1}`); });
    }
    if (objects.some((o) => o.out.actions.length)) {
      list.action.push(item.id);
      objects.forEach((o, k) => {
        for (const [action, present] of o.out.actions) {
          const lines = list!.actions.get(action) ?? [];
          lines.push(`${item.id} ${k + 1} ${present ? ' 1' : '-1'}`);
          list!.actions.set(action, lines);
        }
      });
    }

    if (saveMedia && item.image && firstTime) {
      const exists = await fsp.stat(item.image.path).then((s) => s.isFile(), () => false);
      if (exists) await writer.copy(item.image.path, resolveInside(path.join(output, IMAGES_DIR), filename, context));
      else ctx.reporter.warn({ code: 'missing-image', file: item.image.path, item: item.id, message: 'image file not found; not copied' });
    }
    ctx.progress('voc: export', items);
  }

  // No items: an empty default list keeps the output a VOC dataset (else only labelmap.txt, which no reader takes).
  if (lists.size === 0) lists.set(DEFAULT_SUBSET, { main: [], segmentation: [], layout: [], action: [], classes: new Map(), actions: new Map() });
  for (const [subset, list] of lists) {
    const write = (relative: string, lines: string[]) => writer.write(resolveInside(path.join(output, SETS_DIR), relative), lines.map((l) => `${l}\n`).join(''));
    await write(`Main/${subset}.txt`, list.main);
    if (list.classes.size) {
      for (const entry of plan.entries) {
        const label = categories.findIndex((c) => c.name === entry.name);
        const lines = [...list.classes].map(([id, labels]) => `${id} ${labels.has(label) ? ' 1' : '-1'}`);
        await write(`Main/${entry.name}_${subset}.txt`, lines);
      }
    }
    if (list.segmentation.length) await write(`Segmentation/${subset}.txt`, list.segmentation);
    if (list.layout.length) await write(`Layout/${subset}.txt`, list.layout);
    if (list.action.length) {
      await write(`Action/${subset}.txt`, list.action);
      for (const [action, lines] of list.actions) await write(`Action/${actionTag(action)}_${subset}.txt`, lines);
    }
  }
  await writer.write(resolveInside(output, LABELMAP_FILE), formatLabelmap(plan.entries));
  await writer.flush();
  drops.report(ctx);
  const summary: ExportSummary = { items, annotations: written };
  if (Object.keys(drops.counts).length) summary.dropped = drops.counts;
  return summary;
}

function objectOut(box: BboxAnnotation, categories: Category[], vocBox: VocBox): VocObjectOut {
  const category = categories[box.label!];
  const attributes = box.attributes ?? {};
  const actions = categoryActions(category);
  const out: VocObjectOut = {
    name: category.name,
    truncated: truthy(attributes.truncated),
    difficult: truthy(attributes.difficult),
    occluded: box.occluded ?? truthy(attributes.occluded),
    box: vocBox,
    parts: [],
    actions: actions.map((a) => [a, truthy(attributes[a])]),
    attributes: Object.entries(attributes)
      .filter(([k]) => !BUILTIN_ATTRIBUTES.has(k) && !actions.includes(k))
      .map(([k, v]) => [k, String(v)]),
  };
  if (attributes.pose !== undefined) out.pose = String(attributes.pose);
  return out;
}

/** Canvas for masks of an item whose image size is unknown: the extent of its shapes. */
function extentOf(shapes: (MaskAnnotation | PolygonAnnotation)[]): { width: number; height: number } {
  let width = 1, height = 1;
  for (const s of shapes) {
    if (s.type === 'mask') { width = Math.max(width, s.left + s.width); height = Math.max(height, s.top + s.height); }
    else for (let i = 0; i < s.points.length; i += 2) { width = Math.max(width, Math.ceil(s.points[i])); height = Math.max(height, Math.ceil(s.points[i + 1])); }
  }
  return { width, height };
}


/** What an item writes into the shared Annotations/, masks and JPEGImages/ (class labels are per subset). */
function itemDigest(item: Item): string {
  const shapes = item.annotations.filter((a) => a.type !== 'label');
  return crypto.createHash('sha1').update(JSON.stringify([item.image?.path ?? '', shapes])).digest('base64');
}
