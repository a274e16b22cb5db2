import fsp from 'node:fs/promises';
import path from 'node:path';
import type { BboxAnnotation, Dataset, Item } from '../../src/model.js';
import { ClassList, imageFileName } from '../../src/model.js';
import type { Context, ExportSummary, Options } from '../../src/plugin.js';
import { DatumError } from '../../src/diagnostics.js';
import { FileWriter } from '../../src/output.js';
import { probeItemSizes } from '../../src/media.js';
import { resolveInside } from '../../src/paths.js';
import { CONFIG_FILE, DEFAULT_SUBSET, NAMES_FILE, NON_SUBSET_KEYS, PATH_PREFIX, subsetFolder } from './format.js';

/** Items are gathered this many at a time so that missing image sizes are probed concurrently. */
const BATCH = 256;

interface ExportState {
  output: string;
  saveMedia: boolean;
  keepCrowd: boolean;
  prefix: string;
  classes: ClassList;
  categoryCount: number;
  writer: FileWriter;
  /** Subset -> image list lines, in item order. */
  lists: Map<string, string[]>;
  /** Subset -> item ids already written, to catch duplicates. */
  ids: Map<string, Set<string>>;
  written: number;
  dropped: Record<string, number>;
  items: number;
  ctx: Context;
}

export async function exportYolo(dataset: Dataset, output: string, options: Options, ctx: Context): Promise<ExportSummary> {
  const state: ExportState = {
    output,
    saveMedia: options['save-media'] === true,
    keepCrowd: options['keep-crowd'] === true,
    prefix: options['data-prefix'] === false ? '' : PATH_PREFIX,
    classes: new ClassList(dataset.categories),
    categoryCount: dataset.categories.length,
    writer: new FileWriter(),
    lists: new Map(),
    ids: new Map(),
    written: 0,
    dropped: {},
    items: 0,
    ctx,
  };
  let batch: Item[] = [];
  for await (const item of dataset.items) {
    batch.push(item);
    if (batch.length >= BATCH) { await writeBatch(batch, state); batch = []; }
  }
  await writeBatch(batch, state);
  await state.writer.flush();

  await fsp.writeFile(path.join(output, NAMES_FILE), namesText(state.classes, ctx));
  if (state.lists.size === 0) state.lists.set(DEFAULT_SUBSET, []);
  const configLines = [`classes = ${state.classes.categories.length}`];
  for (const [subset, lines] of state.lists) {
    await fsp.writeFile(path.join(output, `${subset}.txt`), lines.map((l) => l + '\n').join(''));
    configLines.push(`${subset} = ${state.prefix}${subset}.txt`);
  }
  configLines.push(`names = ${state.prefix}${NAMES_FILE}`, 'backup = backup/');
  const unread = [...state.lists.keys()].filter((s) => s !== 'train' && s !== 'valid');
  if (unread.length) {
    ctx.reporter.info({ code: 'darknet-subsets', file: CONFIG_FILE, message: `Darknet itself reads only the train and valid keys; subsets ${unread.join(', ')} are listed but need renaming for it (e.g. -t map_subsets:val=valid)` });
  }
  await fsp.writeFile(path.join(output, CONFIG_FILE), configLines.map((l) => l + '\n').join(''));

  return { items: state.items, annotations: { bbox: state.written }, dropped: state.dropped };
}

async function writeBatch(batch: Item[], state: ExportState): Promise<void> {
  // Probe copies: the caller's items are not ours to change.
  const ready = batch.map((item) => (needsSize(item) ? { ...item, image: { ...item.image! } } : item));
  // Probing and the existence checks of --save-media run concurrently, not one item at a time.
  const [, present] = await Promise.all([
    probeItemSizes(ready.filter(needsSize)),
    Promise.all(ready.map((item) => state.saveMedia && item.image ? exists(item.image.path) : false)),
  ]);
  for (const [k, item] of ready.entries()) await writeItem(item, present[k], state);
  state.ctx.progress('Writing YOLO items', state.items);
}

function exists(file: string): Promise<boolean> {
  return fsp.access(file).then(() => true, () => false);
}

function needsSize(item: Item): boolean {
  return !item.normalized && !!item.image && !(item.image.width && item.image.height);
}

async function writeItem(item: Item, imageExists: boolean, state: ExportState): Promise<void> {
  const subset = exportSubset(item);
  const where = { item: item.subset ? `${item.subset}/${item.id}` : item.id };
  const ids = state.ids.get(subset) ?? new Set<string>();
  state.ids.set(subset, ids);
  if (ids.has(item.id)) {
    state.ctx.reporter.warn({ ...where, code: 'duplicate-item', message: `item id repeats in subset '${subset}'; the repeat is not written` });
    return;
  }
  ids.add(item.id);
  state.items++;

  const folder = subsetFolder(subset);
  const dir = path.join(state.output, folder);
  const imageName = imageFileName(item);
  const imageTarget = resolveInside(dir, imageName, where);
  const labelTarget = resolveInside(dir, item.id + '.txt', where);

  const lines = labelLines(item, state);
  await state.writer.write(labelTarget, lines.map((l) => l + '\n').join(''));
  const list = state.lists.get(subset) ?? [];
  state.lists.set(subset, list);
  list.push(`${state.prefix}${folder}/${imageName}`);

  if (state.saveMedia) {
    if (imageExists) await state.writer.copy(item.image!.path, imageTarget);
    else state.ctx.reporter.warn({ ...where, file: item.image?.path, code: 'missing-image', message: item.image ? 'image file not found; not copied' : 'item has no image to copy' });
  }
}

/** Datumaro's rule: no subset (or 'default') becomes 'train'; obj.data needs word-like keys that are not its own. */
function exportSubset(item: Item): string {
  const subset = !item.subset || item.subset === 'default' ? DEFAULT_SUBSET : item.subset;
  if (!/^\w+$/.test(subset) || NON_SUBSET_KEYS.has(subset)) {
    throw new DatumError({
      code: 'bad-subset-name',
      item: `${item.subset}/${item.id}`,
      message: `subset '${subset}' cannot be a key of ${CONFIG_FILE} (letters, digits and _ only; not ${[...NON_SUBSET_KEYS].join(', ')}); rename it first (-t map_subsets:old=new)`,
    });
  }
  return subset;
}

/**
 * `class cx cy w h` lines for the item's boxes (an object's box is its bbox: its polygon or mask is not
 * a second line); crowd regions are skipped unless --keep-crowd, an identical line is written once.
 * Everything else is counted as dropped and warned about once per item.
 */
function labelLines(item: Item, state: ExportState): string[] {
  const size = item.normalized ? { width: 1, height: 1 }
    : item.image?.width && item.image.height ? { width: item.image.width, height: item.image.height } : undefined;
  const lines: string[] = [];
  const seen = new Set<string>();
  const drops = new Map<string, number>();
  const drop = (reason: string) => drops.set(reason, (drops.get(reason) ?? 0) + 1);
  for (const ann of item.annotations) {
    if (!state.keepCrowd && ann.attributes?.is_crowd === true) { drop('crowd'); continue; }
    if (ann.type !== 'bbox') { drop(ann.type); continue; }
    if (ann.label === undefined) { drop('bbox without label'); continue; }
    if (state.classes.isBackground(ann.label)) { drop('background'); continue; }
    const cls = state.classes.of(ann.label);
    if (cls === undefined) { drop(ann.label < state.categoryCount ? 'bbox labelled with a sub-label' : 'bbox with unknown label'); continue; }
    if (!size) { drop('bbox without image size'); continue; }
    const box = clip(hull(ann), size.width, size.height);
    if (!box) { drop('bbox outside image'); continue; }
    const cx = (box.x + box.w / 2) / size.width;
    const cy = (box.y + box.h / 2) / size.height;
    const line = [cls, cx.toFixed(6), cy.toFixed(6), (box.w / size.width).toFixed(6), (box.h / size.height).toFixed(6)].join(' ');
    if (seen.has(line)) { drop('duplicate'); continue; }
    seen.add(line);
    lines.push(line);
  }
  state.written += lines.length;
  for (const [reason, count] of drops) {
    state.dropped[reason] = (state.dropped[reason] ?? 0) + count;
    state.ctx.reporter.warn({
      code: reason === 'bbox without image size' ? 'no-image-size' : 'annotation-dropped',
      item: item.subset ? `${item.subset}/${item.id}` : item.id,
      message: `${count} ${reason}${reason.startsWith('bbox') ? '' : ' annotation(s)'} not written: ${WHY[reason] ?? 'YOLO holds labelled boxes only'}`,
    });
  }
  return lines;
}

/** Why a box could not be written, by drop reason (other kinds: YOLO has no place for them). */
const WHY: Record<string, string> = {
  'bbox without label': 'a YOLO line needs a class',
  'bbox with unknown label': 'its label index is outside the categories',
  'bbox labelled with a sub-label': 'a sub-label (skeleton keypoint or VOC part) is not a class of its own',
  'bbox without image size': 'the image size is unknown (image missing or unreadable), so it cannot be normalized',
  'bbox outside image': 'it lies entirely outside the image',
  crowd: 'crowd regions (is_crowd) are not objects (--keep-crowd writes them)',
  duplicate: 'the same line is already in this label file',
  background: "'background' is not a YOLO class",
};

interface Rect { x: number; y: number; w: number; h: number }

/** The axis-aligned box around a box rotated about its centre. */
export function hull(box: BboxAnnotation): Rect {
  const rad = ((box.rotation ?? 0) * Math.PI) / 180;
  const cos = Math.abs(Math.cos(rad));
  const sin = Math.abs(Math.sin(rad));
  if (sin < 1e-12) return box;
  const w = box.w * cos + box.h * sin;
  const h = box.w * sin + box.h * cos;
  return { x: box.x + box.w / 2 - w / 2, y: box.y + box.h / 2 - h / 2, w, h };
}

/** Clips to the image; null when nothing of the box is inside it. */
function clip(box: Rect, width: number, height: number): Rect | null {
  const x0 = Math.max(0, box.x);
  const y0 = Math.max(0, box.y);
  const x1 = Math.min(width, box.x + box.w);
  const y1 = Math.min(height, box.y + box.h);
  return x1 > x0 && y1 > y0 ? { x: x0, y: y0, w: x1 - x0, h: y1 - y0 } : null;
}

function namesText(classes: ClassList, ctx: Context): string {
  return classes.categories.map((c, i) => {
    if (!/[\r\n]/.test(c.name) && c.name.trim() === c.name && c.name) return c.name + '\n';
    ctx.reporter.warn({ code: 'label-renamed', element: `category ${i}`, message: `label name ${JSON.stringify(c.name)} cannot be one line of ${NAMES_FILE}; written with spaces` });
    return (c.name.replace(/\s+/g, ' ').trim() || `class_${i}`) + '\n';
  }).join('');
}
