import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Category, Dataset, Item } from '../../src/model.js';
import { categoryIndex, imageFileName } from '../../src/model.js';
import type { Context, ExportSummary, Options } from '../../src/plugin.js';
import { FileWriter } from '../../src/output.js';
import { resolveInside } from '../../src/paths.js';
import { HEADER, INFO_FILE, SUBSET_FILES } from './format.js';

/** Items are gathered this many at a time so that the image checks of --save-media run concurrently. */
const BATCH = 256;

/** One image line before its ids are known: the ids depend on which classes the whole export uses. */
interface Row { list: 'train' | 'test' | ''; path: string; label: number }

interface State {
  output: string;
  saveMedia: boolean;
  categories: Category[];
  writer: FileWriter;
  rows: Row[];
  paths: Set<string>;
  dropped: Record<string, number>;
  /** Items of subsets SOP has no list for, by subset: written to Ebay_test.txt. */
  moved: Map<string, number>;
  ctx: Context;
}

/**
 * Ebay_info.txt (every image), Ebay_train.txt and Ebay_test.txt, always all three, for whatever part
 * of a dataset it is given. Each item's first label is its product class; the class's parent is its
 * super-class (a label without a parent is its own super-class). Ids: class_id and super_class_id
 * are the categories' own ids where they have distinct positive ones, else numbered after them;
 * image_id counts each file's lines from 1. Subsets other than train and test go to Ebay_test.txt
 * (warned); items without a subset (or 'default') are listed in Ebay_info.txt only.
 */
export async function exportSop(dataset: Dataset, output: string, options: Options, ctx: Context): Promise<ExportSummary> {
  const state: State = {
    output,
    saveMedia: options['save-media'] === true,
    categories: dataset.categories,
    writer: new FileWriter(),
    rows: [],
    paths: new Set(),
    dropped: {},
    moved: new Map(),
    ctx,
  };
  let batch: Item[] = [];
  for await (const item of dataset.items) {
    batch.push(item);
    if (batch.length >= BATCH) { await writeBatch(batch, state); batch = []; }
  }
  await writeBatch(batch, state);
  await state.writer.flush();

  const { classId, superId } = assignIds(state.rows, state.categories);
  const line = (row: Row, n: number) => `${n} ${classId.get(row.label)} ${superId.get(row.label)} ${row.path}\n`;
  const write = (name: string, rows: Row[]) => fsp.writeFile(path.join(output, name), HEADER + '\n' + rows.map((r, k) => line(r, k + 1)).join(''));
  const lists = SUBSET_FILES.map(([subset]) => state.rows.filter((r) => r.list === subset));
  for (const [k, [, name]] of SUBSET_FILES.entries()) await write(name, lists[k]);
  await write(INFO_FILE, [...lists.flat(), ...state.rows.filter((r) => r.list === '')]);

  for (const [subset, count] of state.moved) {
    ctx.reporter.warn({ code: 'subset-moved', message: `subset '${subset}' (${count} items) written to Ebay_test.txt: SOP lists train and test only (rename it first with -t map_subsets:${subset}=train to train on it)` });
  }
  const unlisted = state.rows.filter((r) => r.list === '').length;
  if (unlisted) ctx.reporter.info({ code: 'no-subset', message: `${unlisted} items without a subset are listed in ${INFO_FILE} only` });
  for (const [kind, count] of Object.entries(state.dropped)) {
    if (!['no label', 'unlistable path', 'duplicate'].includes(kind)) ctx.reporter.info({ code: 'annotations-dropped', message: `${count} ${kind} annotation(s) not written: SOP lists one product class per image` });
  }
  return { items: state.rows.length, annotations: { label: state.rows.length }, dropped: state.dropped };
}

async function writeBatch(batch: Item[], state: State): Promise<void> {
  const present = await Promise.all(batch.map((item) => state.saveMedia && item.image ? exists(item.image.path) : false));
  for (const [k, item] of batch.entries()) await writeItem(item, present[k], state);
  state.ctx.progress('Writing SOP items', state.rows.length);
}

function exists(file: string): Promise<boolean> {
  return fsp.access(file).then(() => true, () => false);
}

async function writeItem(item: Item, imageExists: boolean, state: State): Promise<void> {
  const where = { item: item.subset ? `${item.subset}/${item.id}` : item.id };
  const drop = (reason: string, count = 1) => { state.dropped[reason] = (state.dropped[reason] ?? 0) + count; };
  const labels = item.annotations.filter((a) => a.type === 'label' && a.label !== undefined && a.label < state.categories.length);
  for (const a of item.annotations) if (!labels.includes(a)) drop(a.type);
  if (!labels.length) {
    drop('no label');
    state.ctx.reporter.warn({ ...where, code: 'no-label', message: 'item has no label (of a known category); not listed, an SOP line needs a product class' });
    return;
  }
  if (labels.length > 1) {
    drop('label', labels.length - 1);
    state.ctx.reporter.warn({ ...where, code: 'several-labels', message: `item has ${labels.length} labels; SOP lists one product class per image, the first ('${state.categories[labels[0].label!].name}') is written` });
  }
  const rel = imageFileName(item);
  // the readers of SOP lists split lines on whitespace
  if (/\s/.test(rel)) {
    drop('unlistable path');
    state.ctx.reporter.warn({ ...where, code: 'path-with-space', message: `image path '${rel}' holds whitespace, which SOP lists cannot; not listed (rename it first, e.g. -t rename)` });
    return;
  }
  const target = resolveInside(state.output, rel, where);
  if (state.paths.has(rel)) {
    drop('duplicate');
    state.ctx.reporter.warn({ ...where, code: 'duplicate-item', message: `image path '${rel}' is already listed (an item of the same id in another subset); the repeat is not written` });
    return;
  }
  state.paths.add(rel);
  state.rows.push({ list: listOf(item.subset, state), path: rel, label: labels[0].label! });
  if (state.saveMedia) {
    if (imageExists) await state.writer.copy(item.image!.path, target);
    else state.ctx.reporter.warn({ ...where, file: item.image?.path, code: 'missing-image', message: item.image ? 'image file not found; not copied' : 'item has no image to copy' });
  }
}

function listOf(subset: string, state: State): Row['list'] {
  if (subset === 'train' || subset === 'test' || subset === '') return subset;
  if (subset === 'default') return ''; // Datumaro's name for no subset
  state.moved.set(subset, (state.moved.get(subset) ?? 0) + 1);
  return 'test';
}

/**
 * class_id per label used and super_class_id per label (via its super-class, looked up by name):
 * a category's own id when positive, whole and not taken by an earlier one, else numbers after the
 * largest, in category order, so the same dataset always gets the same ids.
 */
function assignIds(rows: Row[], categories: Category[]): { classId: Map<number, number>; superId: Map<number, number> } {
  const index = categoryIndex(categories);
  const used = [...new Set(rows.map((r) => r.label))].sort((a, b) => a - b);
  const classId = numberKeys(used, (label) => categories[label].id);
  const superOf = new Map(used.map((label) => [label, categories[label].parent ?? categories[label].name]));
  const superNames = [...new Set(superOf.values())].sort((a, b) => (index.get(a) ?? Infinity) - (index.get(b) ?? Infinity) || a.localeCompare(b));
  const superIds = numberKeys(superNames, (name) => categories[index.get(name) ?? -1]?.id);
  return { classId, superId: new Map(used.map((label) => [label, superIds.get(superOf.get(label)!)!])) };
}

/** Ids for `keys`: `preferred` where positive, whole and not taken by an earlier key, else numbers after the largest. */
export function numberKeys<K>(keys: K[], preferred: (key: K) => number | undefined): Map<K, number> {
  const ids = new Map<K, number>();
  const taken = new Set<number>();
  for (const key of keys) {
    const id = preferred(key);
    if (id !== undefined && Number.isInteger(id) && id >= 1 && !taken.has(id)) { ids.set(key, id); taken.add(id); }
  }
  let next = 1;
  for (const id of taken) if (id >= next) next = id + 1;
  for (const key of keys) if (!ids.has(key)) ids.set(key, next++);
  return ids;
}
