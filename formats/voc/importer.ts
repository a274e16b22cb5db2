/**
 * Pascal VOC importer. Two layouts:
 * - the VOC devkit layout: Annotations/, ImageSets/{Main,Segmentation,Layout,Action}/<subset>.txt,
 *   JPEGImages/, SegmentationClass/, SegmentationObject/, optional labelmap.txt (Datumaro; without it the
 *   labels are the names the dataset uses);
 * - the flat layout of Roboflow exports: <subset>/<name>.xml beside <subset>/<name>.jpg.
 * Items are read one at a time; only the subset lists and file listings are held up front.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Annotation, Attributes, BboxAnnotation, Category, Dataset, Item } from '../../src/model.js';
import type { Context, Options } from '../../src/plugin.js';
import { DatumError, type Reporter } from '../../src/diagnostics.js';
import { isSafeRelative, resolveInside, stripExtension } from '../../src/paths.js';
import {
  ANNOTATIONS_DIR, CLASS_MASK_DIR, DEFAULT_SUBSET, IMAGES_DIR, IMAGE_EXTENSIONS, LABELMAP_FILE, OBJECT_MASK_DIR, SETS_DIR, TASK_DIRS,
  VOC_CLASSES, VOC_PALETTE, VOID_INDEX, actionSpec, categoryActions, labelmapToCategories, packRgb, readLabelmap,
} from './layout.js';
import { isDirectory, isFile } from '../../src/files.js';
import { listFiles } from './files.js';
import { actionTag, parseAnnotationXml, type VocAnnotation, type VocBox } from './xml.js';
import { classIndicesOf, instanceColors, masksFromIndexMaps, readIndexMask, type IndexMap } from './masks.js';

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

/** What the XML files use, for datasets without labelmap.txt: object names, part names (with their first owner), actions per name. */
interface UsedNames { objects: Set<string>; parts: Map<string, string>; actions: Map<string, string[]> }

function usedNames(): UsedNames {
  return { objects: new Set(), parts: new Map(), actions: new Map() };
}

/** Reads the XMLs of `ids` (default: all of `source`) for the names they use; the results are kept so items are not parsed twice. */
async function scanNames(source: Source, used: UsedNames, reporter: Reporter, ids: Iterable<string> = source.xmlIds): Promise<void> {
  source.parsed = new Map();
  for (const id of ids) {
    if (!source.xmlIds.has(id) || source.parsed.has(id)) continue;
    const parsed = await parseItemXml(source, id, reporter);
    source.parsed.set(id, parsed);
    for (const obj of parsed?.objects ?? []) {
      used.objects.add(obj.name);
      const actions = used.actions.get(obj.name) ?? [];
      for (const action of Object.keys(obj.actions)) if (!actions.includes(action)) actions.push(action);
      if (actions.length) used.actions.set(obj.name, actions);
      for (const part of obj.parts) if (!used.parts.has(part.name)) used.parts.set(part.name, obj.name);
    }
  }
}

/** Code-unit order: the same on every machine (localeCompare depends on the ICU locale). */
const byCodeUnits = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Categories of a dataset without labelmap.txt: the names it uses, sorted (Pascal's own class order is
 * alphabetical, and a sorted list does not depend on which file happens to come first), then the part
 * names, sorted, as sub-labels of their object's label. A name used as a part anywhere is a part.
 * With `pascalColors`, Pascal class names get their palette color (their index in the devkit's masks).
 */
function categoriesOf(used: UsedNames, pascalColors: boolean): Category[] {
  const main = [...used.objects].filter((n) => !used.parts.has(n)).sort(byCodeUnits);
  const parts = [...used.parts.keys()].sort(byCodeUnits);
  return [...main.map((name): Category => ({ name })), ...parts.map((name): Category => ({ name, parent: used.parts.get(name)! }))].map((c) => {
    const pascal = VOC_CLASSES.indexOf(c.name);
    if (pascalColors && pascal > 0) c.color = [...VOC_PALETTE[pascal]];
    const actions = used.actions.get(c.name);
    if (actions) c.attributes = actions.map(actionSpec);
    return c;
  });
}

/** A fixed folder or file of the dataset (`ImageSets/Main`, `labelmap.txt`), refused when it leads outside through a symlink. */
function inRoot(root: string, name: string): string {
  return resolveInside(root, name, { file: path.join(root, name) });
}

async function readLabelmapIfAny(root: string, reporter: Reporter): Promise<Category[] | null> {
  const file = inRoot(root, LABELMAP_FILE);
  return (await isFile(file)) ? labelmapToCategories(await readLabelmap(file, reporter)) : null;
}

async function importDevkit(root: string, options: Options, ctx: Context): Promise<Dataset> {
  const reporter = ctx.reporter;
  const source = await scanSource(inRoot(root, ANNOTATIONS_DIR), inRoot(root, IMAGES_DIR));
  const labelmap = await readLabelmapIfAny(root, reporter);
  const { listings, classLists } = await readImageSets(root, labelmap, reporter);
  // Without a labelmap the labels are those of the items imported (an unlisted XML is not one).
  const used = usedNames();
  if (!labelmap) await scanNames(source, used, reporter, listings.length ? listings.flatMap((l) => l.ids) : source.xmlIds);

  const classMaskDir = inRoot(root, CLASS_MASK_DIR);
  const objectMaskDir = inRoot(root, OBJECT_MASK_DIR);
  const classMasks = new Set((await listFiles(classMaskDir, PNG_EXT)).map(stripExtension));
  const objectMasks = new Set((await listFiles(objectMaskDir, PNG_EXT)).map(stripExtension));
  if (listings.length === 0) {
    // No ImageSets: every annotation XML (and every mask) is an item of the default subset.
    listings.push({ subset: DEFAULT_SUBSET, ids: [...new Set([...source.xmlIds, ...classMasks, ...objectMasks])] });
  } else {
    const listed = new Set(listings.flatMap((l) => l.ids));
    const unlisted = [...source.xmlIds].filter((id) => !listed.has(id));
    if (unlisted.length) {
      reporter.warn({ code: 'unlisted-annotation', file: source.annotationsDir, item: unlisted[0],
        message: `${unlisted.length} annotation file(s) are in no ImageSets list and are not imported (first: '${unlisted[0]}.xml')` });
    }
  }

  // Class masks hold class indices: the labelmap's line numbers, else Pascal's palette indices.
  const classColors = new Map<number, number>();
  let categories: Category[];
  let labelOfClass: (index: number) => number | undefined;
  if (labelmap) {
    categories = labelmap;
    categories.forEach((c, i) => { if (c.color && !classColors.has(packRgb(...c.color))) classColors.set(packRgb(...c.color), i); });
    labelOfClass = (index) => (index < categories.length ? index : undefined);
  } else {
    VOC_CLASSES.forEach((_, i) => classColors.set(packRgb(...VOC_PALETTE[i]), i));
    for (const { subset, ids } of listings) for (const id of ids) for (const name of classLists.get(subset)?.get(id) ?? []) used.objects.add(name);
    // Without a labelmap only the Pascal classes the masks actually use become labels.
    const listed = new Set(listings.flatMap((l) => l.ids));
    for (const id of classMasks) {
      if (!listed.has(id)) continue;
      for (const index of await classIndicesOf(resolveInside(classMaskDir, `${id}.png`, { item: id }), classColors)) {
        if (index > 0 && index < VOC_CLASSES.length) used.objects.add(VOC_CLASSES[index]);
      }
    }
    categories = categoriesOf(used, true);
    const byName = new Map(categories.map((c, i) => [c.name, i]));
    labelOfClass = (index) => (index < VOC_CLASSES.length ? byName.get(VOC_CLASSES[index]) : undefined);
  }
  // The void color always means void, whatever label the labelmap gives it (Datumaro's `ignored`).
  classColors.set(packRgb(224, 224, 192), VOID_INDEX);
  const labelIndex = labelIndexOf(categories);
  const classLabels = new Map([...classLists].map(([subset, lists]) => [subset, new Map([...lists].map(([id, names]) =>
    [id, [...names].map((n) => labelIndex.get(n)).filter((l): l is number => l !== undefined)]))]));

  const total = listings.reduce((n, l) => n + l.ids.length, 0);
  const offset = boxOffset(options);

  async function* items(): AsyncGenerator<Item> {
    let done = 0;
    for (const { subset, ids } of listings) {
      for (const id of ids) {
        if (!source.xmlIds.has(id) && !source.imagesById.has(id) && !classMasks.has(id) && !objectMasks.has(id)) {
          // Often a list line with an extension or a typo: say so rather than yield an empty item silently.
          reporter.warn({ code: 'missing-item-files', file: inRoot(root, SETS_DIR), item: id, message: `'${id}' is listed in subset '${subset}' but has no annotation XML, image or mask` });
        }
        const item = await readItem(source, id, subset, categories, labelIndex, offset, reporter);
        for (const label of classLabels.get(subset)?.get(id) ?? []) item.annotations.push({ type: 'label', label });
        const classFile = classMasks.has(id) ? resolveInside(classMaskDir, `${id}.png`, { item: id }) : null;
        const objectFile = objectMasks.has(id) ? resolveInside(objectMaskDir, `${id}.png`, { item: id }) : null;
        if (classFile || objectFile) {
          const [classMap, objectMap] = await Promise.all([
            classFile ? readMask(classFile, classColors, reporter, id) : null,
            objectFile ? readMask(objectFile, instanceColors(), reporter, id) : null,
          ]);
          if (classMap && objectMap && (classMap.width !== objectMap.width || classMap.height !== objectMap.height)) {
            reporter.warn({ code: 'mask-size-mismatch', file: objectFile!, item: id, message: `class mask is ${classMap.width}x${classMap.height}, object mask ${objectMap.width}x${objectMap.height}; instance labels are unknown` });
          }
          item.annotations.push(...masksFromIndexMaps(classMap, objectMap, labelOfClass));
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
    return { subset: folder === '.' ? DEFAULT_SUBSET : folder, source: scanned };
  }));
  const used = usedNames();
  const labelmap = await readLabelmapIfAny(root, reporter);
  if (!labelmap) for (const { source } of sources) await scanNames(source, used, reporter);
  const categories = labelmap ?? categoriesOf(used, false);
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
  const imagePath = imagePathOf(source, id, filename, reporter);
  if (imagePath) {
    item.image = { path: imagePath };
    if (parsed?.width && parsed.height) Object.assign(item.image, { width: parsed.width, height: parsed.height });
  }
  return item;
}

async function parseItemXml(source: Source, id: string, reporter: Reporter): Promise<VocAnnotation | null> {
  const file = resolveInside(source.annotationsDir, `${id}.xml`, { item: id });
  return parseAnnotationXml(await readText(file), file, reporter, id);
}

/** A dataset text file; what the file system says (EISDIR, EACCES) becomes a sentence naming the file. */
async function readText(file: string): Promise<string> {
  try {
    return await fsp.readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new DatumError({ code: 'unreadable-file', file, message: code === 'EISDIR' ? 'is a folder, not a file' : `cannot be read (${code ?? (error as Error).message})` });
  }
}

/** The XML's <filename> when that file exists, else an image named like the id, else the (missing) <filename> or `<id>.jpg` (none when that is a folder). */
function imagePathOf(source: Source, id: string, filename: string | undefined, reporter: Reporter): string | undefined {
  const context = { item: id };
  if (filename && source.imageFiles.has(filename)) return resolveInside(source.imagesDir, filename, context);
  const byId = source.imagesById.get(id);
  if (byId) return resolveInside(source.imagesDir, byId, context);
  const missing = resolveInside(source.imagesDir, filename || `${id}.jpg`, context);
  // A folder there would reach exporters as an image to copy (EISDIR): the item has no image instead.
  if (fs.statSync(missing, { throwIfNoEntry: false })?.isDirectory()) {
    reporter.warn({ code: 'image-not-a-file', file: missing, item: id, message: `'${path.basename(missing)}' is a folder, not an image; the item has no image` });
    return undefined;
  }
  return missing;
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
 * and Main's `<class>_<subset>.txt` classification lists (`id  1` = the class is present), as label
 * names per subset and id. With a labelmap, a class list of a name it does not hold is ignored.
 */
async function readImageSets(root: string, labelmap: Category[] | null, reporter: Reporter): Promise<{ listings: Listing[]; classLists: Map<string, Map<string, Set<string>>> }> {
  const bySubset = new Map<string, Set<string>>();
  const firstFile = new Map<string, string>();
  const classLists = new Map<string, Map<string, Set<string>>>();
  const labels = labelmap && new Set(labelmap.map((c) => c.name));
  for (const task of TASK_DIRS) {
    const dir = inRoot(root, path.join(SETS_DIR, task));
    const files = (await listFiles(dir, new Set(['.txt']))).filter((f) => !f.includes('/'));
    const stems = new Set(files.map(stripExtension));
    // `<class>_<subset>.txt` (or `<action>_<subset>.txt`) beside `<subset>.txt` is a per-class list, not a subset.
    const subsetOf = (stem: string) => [...stem.matchAll(/_/g)].map((m) => stem.slice(m.index! + 1)).find((s) => stems.has(s));
    for (const stem of stems) {
      const subset = subsetOf(stem);
      const file = resolveInside(dir, `${stem}.txt`);
      if (subset !== undefined) {
        if (task !== 'Main') continue;
        const prefix = stem.slice(0, stem.length - subset.length - 1);
        if (labels && !labels.has(prefix)) {
          reporter.warn({ code: 'unknown-label', file, message: `class list of '${prefix}', which is not a label; ignored` });
          continue;
        }
        const lists = classLists.get(subset) ?? new Map<string, Set<string>>();
        classLists.set(subset, lists);
        await readClassList(file, prefix, lists, reporter);
        continue;
      }
      const ids = bySubset.get(stem) ?? new Set<string>();
      bySubset.set(stem, ids);
      if (!firstFile.has(stem)) firstFile.set(stem, file);
      for (const { text, line } of await readLines(file)) {
        const id = task === 'Layout' ? layoutId(text) : text;
        if (id === null) reporter.warn({ code: 'bad-list-line', file, line, message: 'expected an id, or a quoted id and an object index' });
        else ids.add(id);
      }
    }
  }
  foldTrainval(bySubset, classLists, firstFile.get(TRAINVAL), reporter);
  return { listings: [...bySubset].map(([subset, ids]) => ({ subset, ids: [...ids] })), classLists };
}

const TRAINVAL = 'trainval';

/**
 * VOC's `trainval` lists train ∪ val: its items that are in train or val (in any task folder) are
 * not imported a second time (their trainval class labels go to that item); the others stay under
 * `trainval`, with a warning. A dataset with trainval and neither train nor val keeps it as is.
 */
function foldTrainval(bySubset: Map<string, Set<string>>, classLists: Map<string, Map<string, Set<string>>>, file: string | undefined, reporter: Reporter): void {
  const trainval = bySubset.get(TRAINVAL);
  const parts = ['train', 'val'].filter((s) => bySubset.has(s));
  if (!trainval || parts.length === 0) return;
  const trainvalLabels = classLists.get(TRAINVAL);
  const rest: string[] = [];
  for (const id of trainval) {
    const owner = parts.find((s) => bySubset.get(s)!.has(id));
    if (owner === undefined) { rest.push(id); continue; }
    const names = trainvalLabels?.get(id);
    if (names) {
      const lists = classLists.get(owner) ?? new Map<string, Set<string>>();
      classLists.set(owner, lists);
      const own = lists.get(id) ?? new Set<string>();
      for (const name of names) own.add(name);
      lists.set(id, own);
    }
  }
  if (rest.length === 0) {
    bySubset.delete(TRAINVAL);
    return;
  }
  bySubset.set(TRAINVAL, new Set(rest));
  reporter.warn({ code: 'trainval-not-in-train-or-val', file, item: rest[0],
    message: `${rest.length} item(s) listed in ${TRAINVAL} are in neither ${parts.join(' nor ')}; they are imported under subset '${TRAINVAL}' (first: '${rest[0]}')` });
}

/** One `<class>_<subset>.txt`: ids marked `1` get the class (`-1` absent, `0` difficult). */
async function readClassList(file: string, label: string, lists: Map<string, Set<string>>, reporter: Reporter): Promise<void> {
  for (const { text, line } of await readLines(file)) {
    const match = /^(.*\S)\s+(-?\d+)$/.exec(text);
    if (!match || !['1', '0', '-1'].includes(match[2])) {
      reporter.warn({ code: 'bad-list-line', file, line, message: `expected '<id> 1', '<id> -1' or '<id> 0', got '${text}'` });
      continue;
    }
    if (match[2] !== '1') continue;
    const names = lists.get(match[1]) ?? new Set<string>();
    names.add(label);
    lists.set(match[1], names);
  }
}

/** Non-empty, non-comment lines with their 1-based line numbers, trimmed. */
async function readLines(file: string): Promise<{ text: string; line: number }[]> {
  const text = await readText(file);
  return text.replace(/^\uFEFF/, '').split(/\r?\n/)
    .map((raw, i) => ({ text: raw.trim(), line: i + 1 }))
    .filter((l) => l.text && !l.text.startsWith('#'));
}

/** Layout lists: `id objindex` or `"id with spaces" objindex` or a bare id. */
export function layoutId(text: string): string | null {
  if (text.startsWith('"')) {
    const end = text.indexOf('"', 1);
    return end > 1 ? text.slice(1, end) : null;
  }
  const match = /^(.*\S)\s+-?\d+$/.exec(text);
  return match ? match[1] : text;
}
