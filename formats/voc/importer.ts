/**
 * Pascal VOC importer. Two layouts:
 * - the VOC devkit layout: Annotations/, ImageSets/{Main,Segmentation,Layout,Action}/<subset>.txt,
 *   JPEGImages/, SegmentationClass/, SegmentationObject/, optional labelmap.txt (Datumaro);
 * - the flat layout of Roboflow exports: <subset>/<name>.xml beside <subset>/<name>.jpg.
 * Items are read one at a time; only the subset lists and file listings are held up front.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Annotation, Attributes, BboxAnnotation, Category, Dataset, Item } from '../../src/model.js';
import type { Context, Options } from '../../src/plugin.js';
import { DatumError, type Reporter } from '../../src/diagnostics.js';
import { isSafeRelative, resolveInside, stripExtension } from '../../src/paths.js';
import {
  ANNOTATIONS_DIR, CLASS_MASK_DIR, IMAGES_DIR, IMAGE_EXTENSIONS, LABELMAP_FILE, OBJECT_MASK_DIR, SETS_DIR, TASK_DIRS,
  VOID_INDEX, actionSpec, categoryActions, defaultLabelmap, labelmapToCategories, packRgb, readLabelmap,
} from './layout.js';
import { isDirectory, isFile } from '../../src/files.js';
import { listFiles } from './files.js';
import { actionTag, parseAnnotationXml, type VocAnnotation, type VocBox } from './xml.js';
import { instanceColors, masksFromIndexMaps, readIndexMask, type IndexMap } from './masks.js';

/** How xmin..xmax map to model boxes: `voc` = 1-based inclusive pixel indices (the devkit), `datumaro` = plain x, x + w. */
export type BoxConvention = 'voc' | 'datumaro';
export const BOX_CONVENTIONS: readonly BoxConvention[] = ['voc', 'datumaro'];

/**
 * Offset between model x and VOC xmin: x = xmin - offset, w = xmax - xmin + offset. The devkit
 * layout defaults to `voc`; Roboflow's flat layout to `datumaro` (Roboflow writes xmin = 0).
 */
export function boxOffset(options: Options, fallback: BoxConvention = 'voc'): number {
  return (options.coords ?? fallback) === 'datumaro' ? 0 : 1;
}

interface Source {
  /** Folder that holds the XML files and whose names are ids. */
  annotationsDir: string;
  /** Folder that image file names in the XML are relative to. */
  imagesDir: string;
  /** ids that have an XML file */
  xmlIds: Set<string>;
  /** image files by id (relative path without extension) and by relative path */
  imagesById: Map<string, string>;
  imageFiles: Set<string>;
  /** XML files already parsed while collecting label names (no labelmap.txt), by id. */
  parsed?: Map<string, VocAnnotation | null>;
}

interface Listing { subset: string; ids: string[] }

const XML_EXT = new Set(['.xml']);
const PNG_EXT = new Set(['.png']);

export async function importVoc(input: string, options: Options, ctx: Context): Promise<Dataset> {
  const root = path.resolve(input);
  if (!(await isDirectory(root))) {
    throw new DatumError({ code: 'not-a-folder', file: input, message: 'a Pascal VOC dataset is a folder (with Annotations/, ImageSets/, JPEGImages/...)' });
  }
  const devkit = await isDevkitLayout(root);
  return devkit ? importDevkit(root, options, ctx) : importFlat(root, options, ctx);
}

export async function isDevkitLayout(root: string): Promise<boolean> {
  for (const dir of [ANNOTATIONS_DIR, SETS_DIR, CLASS_MASK_DIR, OBJECT_MASK_DIR]) {
    if (await isDirectory(path.join(root, dir))) return true;
  }
  return false;
}

async function scanSource(annotationsDir: string, imagesDir: string): Promise<Source> {
  const xmlIds = new Set((await listFiles(annotationsDir, XML_EXT)).map(stripExtension));
  const images = await listFiles(imagesDir, IMAGE_EXTENSIONS);
  const imagesById = new Map<string, string>();
  for (const image of images) if (!imagesById.has(stripExtension(image))) imagesById.set(stripExtension(image), image);
  return { annotationsDir, imagesDir, xmlIds, imagesById, imageFiles: new Set(images) };
}

/** Categories: labelmap.txt when present, else the VOC defaults (devkit layout) plus any other names the XML files use. */
async function loadCategories(root: string, source: Source, withDefaults: boolean, reporter: Reporter): Promise<{ categories: Category[]; fromLabelmap: boolean }> {
  const labelmapFile = path.join(root, LABELMAP_FILE);
  if (await isFile(labelmapFile)) {
    return { categories: labelmapToCategories(await readLabelmap(labelmapFile, reporter)), fromLabelmap: true };
  }
  const categories = withDefaults ? labelmapToCategories(defaultLabelmap()) : [];
  const byName = new Map(categories.map((c) => [c.name, c]));
  // Every XML has to be read for its names; keep the results so items are not parsed twice.
  source.parsed = new Map();
  for (const id of source.xmlIds) {
    const parsed = await parseItemXml(source, id, reporter);
    source.parsed.set(id, parsed);
    for (const obj of parsed?.objects ?? []) {
      let category = byName.get(obj.name);
      if (!category) byName.set(obj.name, category = { name: obj.name }), categories.push(category);
      for (const action of Object.keys(obj.actions)) {
        if (!categoryActions(category).includes(action)) (category.attributes ??= []).push(actionSpec(action));
      }
      for (const part of obj.parts) {
        if (!byName.has(part.name)) {
          const partCategory: Category = { name: part.name, parent: obj.name };
          byName.set(part.name, partCategory);
          categories.push(partCategory);
        }
      }
    }
  }
  return { categories, fromLabelmap: false };
}

async function importDevkit(root: string, options: Options, ctx: Context): Promise<Dataset> {
  const reporter = ctx.reporter;
  const source = await scanSource(path.join(root, ANNOTATIONS_DIR), path.join(root, IMAGES_DIR));
  const { categories } = await loadCategories(root, source, true, reporter);
  const labelIndex = labelIndexOf(categories);

  const { listings, classLabels } = await readImageSets(root, categories, reporter);
  if (listings.length === 0) {
    // No ImageSets: every annotation XML (and every mask) is an item without a subset.
    const ids = new Set(source.xmlIds);
    for (const dir of [CLASS_MASK_DIR, OBJECT_MASK_DIR]) {
      for (const mask of await listFiles(path.join(root, dir), PNG_EXT)) ids.add(stripExtension(mask));
    }
    listings.push({ subset: '', ids: [...ids] });
  } else {
    const listed = new Set(listings.flatMap((l) => l.ids));
    const unlisted = [...source.xmlIds].filter((id) => !listed.has(id));
    if (unlisted.length) {
      reporter.warn({ code: 'unlisted-annotation', file: path.join(root, ANNOTATIONS_DIR), item: unlisted[0],
        message: `${unlisted.length} annotation file(s) are in no ImageSets list and are not imported (first: '${unlisted[0]}.xml')` });
    }
  }
  const classMasks = new Set((await listFiles(path.join(root, CLASS_MASK_DIR), PNG_EXT)).map(stripExtension));
  const objectMasks = new Set((await listFiles(path.join(root, OBJECT_MASK_DIR), PNG_EXT)).map(stripExtension));
  const classColors = new Map<number, number>();
  categories.forEach((c, i) => { if (c.color && !classColors.has(packRgb(...c.color))) classColors.set(packRgb(...c.color), i); });
  // The void color always means void, whatever label the labelmap gives it (Datumaro's `ignored`).
  classColors.set(packRgb(224, 224, 192), VOID_INDEX);

  const total = listings.reduce((n, l) => n + l.ids.length, 0);
  const offset = boxOffset(options);

  async function* items(): AsyncGenerator<Item> {
    let done = 0;
    for (const { subset, ids } of listings) {
      for (const id of ids) {
        if (!source.xmlIds.has(id) && !source.imagesById.has(id) && !classMasks.has(id) && !objectMasks.has(id)) {
          // Often a list line with an extension or a typo: say so rather than yield an empty item silently.
          reporter.warn({ code: 'missing-item-files', file: path.join(root, SETS_DIR), item: id, message: `'${id}' is listed in subset '${subset}' but has no annotation XML, image or mask` });
        }
        const item = await readItem(source, id, subset, categories, labelIndex, offset, reporter);
        for (const label of classLabels.get(subset)?.get(id) ?? []) item.annotations.push({ type: 'label', label });
        const classFile = classMasks.has(id) ? resolveInside(path.join(root, CLASS_MASK_DIR), `${id}.png`, { item: id }) : null;
        const objectFile = objectMasks.has(id) ? resolveInside(path.join(root, OBJECT_MASK_DIR), `${id}.png`, { item: id }) : null;
        if (classFile || objectFile) {
          const [classMap, objectMap] = await Promise.all([
            classFile ? readMask(classFile, classColors, reporter, id) : null,
            objectFile ? readMask(objectFile, instanceColors(), reporter, id) : null,
          ]);
          if (classMap && objectMap && (classMap.width !== objectMap.width || classMap.height !== objectMap.height)) {
            reporter.warn({ code: 'mask-size-mismatch', file: objectFile!, item: id, message: `class mask is ${classMap.width}x${classMap.height}, object mask ${objectMap.width}x${objectMap.height}; instance labels are unknown` });
          }
          item.annotations.push(...masksFromIndexMaps(classMap, objectMap, categories.length));
          const size = classMap ?? objectMap;
          if (size && item.image && !item.image.width) Object.assign(item.image, { width: size.width, height: size.height });
        }
        ctx.progress('voc: items', ++done, total);
        yield item;
      }
    }
  }
  return { categories, items: items() };
}

async function readMask(file: string, colors: Map<number, number>, reporter: Reporter, item: string): Promise<IndexMap | null> {
  try {
    return await readIndexMask(file, colors, reporter, item);
  } catch (error) {
    reporter.warn({ code: 'bad-mask', file, item, message: `cannot decode the mask: ${(error as Error).message}; skipped` });
    return null;
  }
}

/** Flat layout (Roboflow): each folder holding XML files is a subset named after it; images lie beside. */
async function importFlat(root: string, options: Options, ctx: Context): Promise<Dataset> {
  const reporter = ctx.reporter;
  const xmlFiles = await listFiles(root, XML_EXT);
  if (xmlFiles.length === 0) {
    throw new DatumError({ code: 'no-annotations', file: root, message: 'no Annotations/, ImageSets/ or *.xml annotation files found' });
  }
  const folders = [...new Set(xmlFiles.map((f) => path.posix.dirname(f)))];
  const sources = await Promise.all(folders.map(async (folder) => {
    const dir = folder === '.' ? root : resolveInside(root, folder);
    const scanned = await scanSource(dir, dir);
    // Only the XML files directly in this folder belong to it.
    scanned.xmlIds = new Set([...scanned.xmlIds].filter((id) => !id.includes('/')));
    return { subset: folder === '.' ? '' : folder, source: scanned };
  }));
  const categories: Category[] = [];
  for (const { source } of sources) {
    const found = await loadCategories(root, source, false, reporter);
    if (found.fromLabelmap) { categories.splice(0, categories.length, ...found.categories); break; }
    for (const c of found.categories) if (!categories.some((k) => k.name === c.name)) categories.push(c);
  }
  const labelIndex = labelIndexOf(categories);
  const offset = boxOffset(options, 'datumaro');
  const total = sources.reduce((n, s) => n + s.source.xmlIds.size, 0);
  async function* items(): AsyncGenerator<Item> {
    let done = 0;
    for (const { subset, source } of sources) {
      for (const id of source.xmlIds) {
        const item = await readItem(source, id, subset, categories, labelIndex, offset, reporter);
        ctx.progress('voc: items', ++done, total);
        yield item;
      }
    }
  }
  return { categories, items: items() };
}

/**
 * Label name -> index. The XML reader trims element text, so a labelmap name with outer spaces
 * (`dog `, kept as written) is also found by its trimmed form.
 */
function labelIndexOf(categories: Category[]): Map<string, number> {
  const index = new Map(categories.map((c, i) => [c.name, i]));
  categories.forEach((c, i) => { if (!index.has(c.name.trim())) index.set(c.name.trim(), i); });
  return index;
}

/** One item: its annotation XML (if any) and its image. */
async function readItem(source: Source, id: string, subset: string, categories: Category[], labelIndex: Map<string, number>, offset: number, reporter: Reporter): Promise<Item> {
  let parsed: VocAnnotation | null = null;
  const item: Item = { id, subset, annotations: [] };
  if (source.xmlIds.has(id)) {
    parsed = source.parsed?.has(id) ? source.parsed.get(id)! : await parseItemXml(source, id, reporter);
    const file = resolveInside(source.annotationsDir, `${id}.xml`, { item: id });
    if (parsed) item.annotations = objectAnnotations(parsed, file, id, categories, labelIndex, offset, reporter);
  }
  let filename = parsed?.filename;
  if (filename && !isSafeRelative(filename)) {
    // Some tools write the absolute path they saw (C:\data\x.jpg); the image is looked up by id instead.
    reporter.warn({ code: 'unsafe-path', file: resolveInside(source.annotationsDir, `${id}.xml`), item: id, element: '<filename>',
      message: `'${filename}' points outside the dataset folder; the image is looked for as '${id}' in ${path.basename(source.imagesDir)}/` });
    filename = undefined;
  }
  const imagePath = imagePathOf(source, id, filename);
  if (imagePath) {
    item.image = { path: imagePath };
    if (parsed?.width && parsed.height) Object.assign(item.image, { width: parsed.width, height: parsed.height });
  }
  return item;
}

async function parseItemXml(source: Source, id: string, reporter: Reporter): Promise<VocAnnotation | null> {
  const file = resolveInside(source.annotationsDir, `${id}.xml`, { item: id });
  return parseAnnotationXml(await fsp.readFile(file, 'utf8'), file, reporter, id);
}

/** The XML's <filename> when that file exists, else an image named like the id, else the (missing) <filename> or `<id>.jpg`. */
function imagePathOf(source: Source, id: string, filename: string | undefined): string {
  const context = { item: id };
  if (filename && source.imageFiles.has(filename)) return resolveInside(source.imagesDir, filename, context);
  const byId = source.imagesById.get(id);
  if (byId) return resolveInside(source.imagesDir, byId, context);
  return resolveInside(source.imagesDir, filename || `${id}.jpg`, context);
}

function objectAnnotations(parsed: VocAnnotation, file: string, item: string, categories: Category[], labelIndex: Map<string, number>, offset: number, reporter: Reporter): Annotation[] {
  const out: Annotation[] = [];
  const toBbox = (box: VocBox): Pick<BboxAnnotation, 'x' | 'y' | 'w' | 'h'> => ({
    x: box.xmin - offset, y: box.ymin - offset, w: box.xmax - box.xmin + offset, h: box.ymax - box.ymin + offset,
  });
  // A negative size would pass into every other format (COCO readers reject it); which corner is wrong is unknowable.
  // (In the 1-based convention xmax = xmin - 1 is a zero-width box, as datum writes one.)
  const inverted = (b: Pick<BboxAnnotation, 'w' | 'h'>, element: string): boolean => {
    if (b.w >= 0 && b.h >= 0) return false;
    reporter.warn({ code: 'bad-bbox', file, item, element: `${element} <bndbox>`, message: `xmax < xmin or ymax < ymin (size ${b.w} x ${b.h}); the box is skipped` });
    return true;
  };
  const labelOf = (name: string, element: string): number | undefined => {
    const label = labelIndex.get(name);
    if (label === undefined) reporter.warn({ code: 'unknown-label', file, item, element, message: `label '${name}' is not in ${LABELMAP_FILE}; skipped` });
    return label;
  };
  for (const obj of parsed.objects) {
    const element = `<object> #${obj.index}`;
    const label = labelOf(obj.name, element);
    if (label === undefined) continue;
    const box = toBbox(obj.box);
    if (inverted(box, `${element} '${obj.name}'`)) continue;
    const attributes: Attributes = { truncated: obj.truncated, difficult: obj.difficult };
    if (obj.pose !== undefined) attributes.pose = obj.pose;
    const actions = categoryActions(categories[label]);
    for (const action of actions) attributes[action] = false;
    // A tag is the action's name made an XML name (`riding bike` -> <riding_bike>): map it back to the labelmap's name.
    for (const [tag, present] of Object.entries(obj.actions)) attributes[actions.find((a) => actionTag(a) === tag) ?? tag] = present;
    Object.assign(attributes, obj.attributes);
    out.push({ type: 'bbox', label, ...box, occluded: obj.occluded, group: obj.index, id: obj.index, attributes });
    if (obj.point) out.push({ type: 'points', label, points: [obj.point.x - offset, obj.point.y - offset], group: obj.index });
    for (const part of obj.parts) {
      const partLabel = labelOf(part.name, `${element} <part>`);
      const partBox = toBbox(part.box);
      if (partLabel !== undefined && !inverted(partBox, `${element} <part> '${part.name}'`)) out.push({ type: 'bbox', label: partLabel, ...partBox, group: obj.index });
    }
  }
  return out;
}

/**
 * Reads ImageSets: `<subset>.txt` lists (one id per line; Layout lines may be `"id with spaces" 1`)
 * and Main's `<class>_<subset>.txt` classification lists (`id  1` = the class is present).
 */
async function readImageSets(root: string, categories: Category[], reporter: Reporter): Promise<{ listings: Listing[]; classLabels: Map<string, Map<string, number[]>> }> {
  const bySubset = new Map<string, Set<string>>();
  const classLabels = new Map<string, Map<string, number[]>>();
  const labels = new Set(categories.map((c) => c.name));
  for (const task of TASK_DIRS) {
    const dir = path.join(root, SETS_DIR, task);
    const files = (await listFiles(dir, new Set(['.txt']))).filter((f) => !f.includes('/'));
    const stems = new Set(files.map(stripExtension));
    // `<class>_<subset>.txt` (or `<action>_<subset>.txt`) beside `<subset>.txt` is a per-class list, not a subset.
    const subsetOf = (stem: string) => [...stem.matchAll(/_/g)].map((m) => stem.slice(m.index! + 1)).find((s) => stems.has(s));
    for (const stem of stems) {
      const subset = subsetOf(stem);
      if (subset !== undefined) {
        const prefix = stem.slice(0, stem.length - subset.length - 1);
        if (task === 'Main' && !labels.has(prefix)) {
          reporter.warn({ code: 'unknown-label', file: path.join(dir, `${stem}.txt`), message: `class list of '${prefix}', which is not a label; ignored` });
        }
        continue;
      }
      const file = path.join(dir, `${stem}.txt`);
      const ids = bySubset.get(stem) ?? new Set<string>();
      bySubset.set(stem, ids);
      for (const { text, line } of await readLines(file)) {
        const id = task === 'Layout' ? layoutId(text) : text;
        if (id === null) reporter.warn({ code: 'bad-list-line', file, line, message: 'expected an id, or a quoted id and an object index' });
        else ids.add(id);
      }
      if (task === 'Main') classLabels.set(stem, await readClassLists(dir, stem, categories, reporter));
    }
  }
  return { listings: [...bySubset].map(([subset, ids]) => ({ subset, ids: [...ids] })), classLabels };
}

async function readClassLists(dir: string, subset: string, categories: Category[], reporter: Reporter): Promise<Map<string, number[]>> {
  const labels = new Map<string, number[]>();
  for (const [label, category] of categories.entries()) {
    // A label name is dataset content: `../../x` must not make the importer read outside ImageSets/Main.
    if (!isSafeRelative(`${category.name}_${subset}.txt`)) continue;
    const file = resolveInside(dir, `${category.name}_${subset}.txt`);
    if (!(await isFile(file))) continue;
    for (const { text, line } of await readLines(file)) {
      const match = /^(.*\S)\s+(-?\d+)$/.exec(text);
      if (!match || !['1', '0', '-1'].includes(match[2])) {
        reporter.warn({ code: 'bad-list-line', file, line, message: `expected '<id> 1', '<id> -1' or '<id> 0', got '${text}'` });
        continue;
      }
      if (match[2] !== '1') continue;
      const list = labels.get(match[1]) ?? [];
      list.push(label);
      labels.set(match[1], list);
    }
  }
  return labels;
}

/** Non-empty, non-comment lines with their 1-based line numbers, trimmed. */
async function readLines(file: string): Promise<{ text: string; line: number }[]> {
  const text = await fsp.readFile(file, 'utf8');
  return text.replace(/^\uFEFF/, '').split(/\r?\n/)
    .map((raw, i) => ({ text: raw.trim(), line: i + 1 }))
    .filter((l) => l.text && !l.text.startsWith('#'));
}

/** Layout lists: `id objindex` or `"id with spaces" objindex` or a bare id. */
function layoutId(text: string): string | null {
  if (text.startsWith('"')) {
    const end = text.indexOf('"', 1);
    return end > 1 ? text.slice(1, end) : null;
  }
  const match = /^(.*\S)\s+-?\d+$/.exec(text);
  return match ? match[1] : text;
}
