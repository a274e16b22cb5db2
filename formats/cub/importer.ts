import fsp from 'node:fs/promises';
import type { Annotation, Category, Dataset, Item } from '../../src/model.js';
import type { Context, Options } from '../../src/plugin.js';
import { DatumError } from '../../src/diagnostics.js';
import { datasetFile, resolveInside, stripExtension } from '../../src/paths.js';
import { excerpt, forEachLine, lineWarner, splitFields, toNumber } from '../../src/text.js';
import { BOXES_FILE, CLASSES_FILE, CUB_DIR, IMAGES_DIR, IMAGES_FILE, LABELS_FILE, REQUIRED, SPLIT_FILE, className, findRoot, has } from './format.js';

type Warn = (code: string, message: string) => void;

/**
 * Reads `<id> ...` lines of one file: `fn` gets the id (a positive integer, else the line is warned
 * about and skipped) and the other fields; `fields` is the exact count, or the least with `atLeast`.
 */
async function readTable(root: string, name: string, fields: number, ctx: Context, fn: (id: number, rest: string[], warn: Warn) => void, atLeast = false): Promise<void> {
  const file = datasetFile(root, name);
  const text = await fsp.readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new DatumError({ code: 'list-unreadable', file, message: `cannot read ${name} (${error.code ?? error.message})` });
  });
  const warner = lineWarner(ctx.reporter, file);
  forEachLine(text, (raw, line) => {
    const parts = splitFields(raw);
    if (!parts.length) return;
    const warn: Warn = (code, message) => warner.warn({ code, line, message: `${message} in '${excerpt(raw)}'; line skipped` });
    if (atLeast ? parts.length < fields : parts.length !== fields) return warn('bad-field-count', `expected ${atLeast ? 'at least ' : ''}${fields} fields, found ${parts.length}`);
    if (!/^\d+$/.test(parts[0]) || Number(parts[0]) < 1) return warn('not-a-number', `id '${excerpt(parts[0], 40)}' is not a positive integer`);
    fn(Number(parts[0]), parts.slice(1), warn);
  });
  warner.done();
}

/**
 * Items in images.txt order (id = image path without extension), each with a `label` annotation of
 * its class and a `bbox` of the same label; subsets train and test from train_test_split.txt.
 * Categories: classes.txt in class-id order, named without the number (`Black_footed_Albatross`,
 * Category.id 1).
 */
export async function importCub(input: string, _options: Options, ctx: Context): Promise<Dataset> {
  const root = await findRoot(input);
  if (!root) throw new DatumError({ code: 'cub-lists-missing', file: input, message: `no ${IMAGES_FILE} here or in ${CUB_DIR}/; not a CUB-200-2011 dataset` });
  for (const name of REQUIRED) {
    if (!(await has(root, name))) throw new DatumError({ code: 'cub-lists-missing', file: root, message: `${name} not found; a CUB-200-2011 folder has ${REQUIRED.join(', ')}` });
  }

  const classes = new Map<number, string>();
  await readTable(root, CLASSES_FILE, 2, ctx, (id, rest, warn) => {
    if (classes.has(id)) return warn('duplicate-label', `class ${id} is already named '${classes.get(id)}'`);
    classes.set(id, className(rest.join(' ')));
  }, true);
  const categories: Category[] = [];
  const labelOf = new Map<number, number>();
  for (const id of [...classes.keys()].sort((a, b) => a - b)) {
    labelOf.set(id, categories.length);
    categories.push({ name: classes.get(id)!, id });
  }

  const imagesDir = datasetFile(root, IMAGES_DIR);
  const images = new Map<number, { id: string; path: string }>();
  const ids = new Set<string>();
  await readTable(root, IMAGES_FILE, 2, ctx, (id, [rel], warn) => {
    if (images.has(id)) return warn('duplicate-item', `image_id ${id} is already listed`);
    let image: string;
    try {
      image = resolveInside(imagesDir, rel, { file: datasetFile(root, IMAGES_FILE) });
    } catch (error) {
      if (error instanceof DatumError) return warn(error.diagnostic.code, error.diagnostic.message);
      throw error;
    }
    const itemId = stripExtension(rel.replace(/\\/g, '/'));
    if (ids.has(itemId)) return warn('duplicate-item', `image '${excerpt(rel)}' is already listed`);
    ids.add(itemId);
    images.set(id, { id: itemId, path: image });
  });
  const known = (id: number, warn: Warn) => {
    if (!images.has(id)) warn('unknown-image', `image_id ${id} is not in ${IMAGES_FILE}`);
    return images.has(id);
  };

  const labels = new Map<number, number>();
  await readTable(root, LABELS_FILE, 2, ctx, (id, [cls], warn) => {
    if (!known(id, warn)) return;
    if (labels.has(id)) return warn('duplicate-item', `image_id ${id} already has a class`);
    const label = /^\d+$/.test(cls) ? labelOf.get(Number(cls)) : undefined;
    if (label === undefined) return warn('unknown-label', `class '${excerpt(cls, 40)}' is not in ${CLASSES_FILE}`);
    labels.set(id, label);
  });

  const subsets = new Map<number, string>();
  const hasSplit = await has(root, SPLIT_FILE);
  if (hasSplit) {
    await readTable(root, SPLIT_FILE, 2, ctx, (id, [flag], warn) => {
      if (!known(id, warn)) return;
      if (flag !== '0' && flag !== '1') return warn('bad-value', `is_training '${excerpt(flag, 40)}' is not 1 or 0`);
      subsets.set(id, flag === '1' ? 'train' : 'test');
    });
  } else {
    ctx.reporter.warn({ code: 'split-missing', file: root, message: `no ${SPLIT_FILE}: the items have no subset` });
  }

  const boxes = new Map<number, number[]>();
  if (await has(root, BOXES_FILE)) {
    await readTable(root, BOXES_FILE, 5, ctx, (id, rest, warn) => {
      if (!known(id, warn)) return;
      const values = rest.map(toNumber);
      const bad = values.findIndex((v) => !Number.isFinite(v));
      if (bad >= 0) return warn('not-a-number', `'${excerpt(rest[bad], 40)}' is not a number`);
      if (values[2] < 0 || values[3] < 0) return warn('coordinate-out-of-range', 'a box width or height is negative');
      if (boxes.has(id)) return warn('duplicate-box', `image_id ${id} already has a box (CUB has one per image)`);
      boxes.set(id, values);
    });
  } else {
    ctx.reporter.info({ code: 'boxes-missing', file: root, message: `no ${BOXES_FILE}: the items have labels only` });
  }

  const items: Item[] = [];
  for (const [imageId, { id, path }] of images) {
    const where = { file: datasetFile(root, IMAGES_FILE), item: id };
    const label = labels.get(imageId);
    if (label === undefined) ctx.reporter.warn({ ...where, code: 'no-class', message: `image_id ${imageId} has no class in ${LABELS_FILE}; its box, if any, is unlabelled` });
    if (hasSplit && !subsets.has(imageId)) ctx.reporter.warn({ ...where, code: 'no-subset', message: `image_id ${imageId} is not in ${SPLIT_FILE}; it has no subset` });
    const annotations: Annotation[] = label === undefined ? [] : [{ type: 'label', label }];
    const box = boxes.get(imageId);
    if (box) annotations.push({ type: 'bbox', ...(label === undefined ? {} : { label }), x: box[0], y: box[1], w: box[2], h: box[3] });
    items.push({ id, subset: subsets.get(imageId) ?? '', image: { path }, attributes: { image_id: imageId }, annotations });
  }
  return { categories, items };
}
