import fsp from 'node:fs/promises';
import path from 'node:path';
import type { BboxAnnotation, Dataset, Item } from '../../src/model.js';
import { imageFileName } from '../../src/model.js';
import type { Context, ExportSummary, Options } from '../../src/plugin.js';
import { FileWriter } from '../../src/output.js';
import { resolveInside } from '../../src/paths.js';
import { numberKeys } from '../sop/exporter.js';
import { BOXES_FILE, CLASSES_FILE, IMAGES_DIR, IMAGES_FILE, LABELS_FILE, SPLIT_FILE } from './format.js';

/** Items are gathered this many at a time so that the image checks of --save-media run concurrently. */
const BATCH = 256;

interface Row { path: string; label: number; training: boolean; box?: BboxAnnotation }

/**
 * The five CUB lists for the items given, numbered 1..N in item order, images under images/. An
 * item's class is its first label annotation, else its first labelled box's label; its box is the
 * first box of that class. Subsets: train is is_training 1, everything else 0 (warned unless test).
 * classes.txt lists the classes used, `<id> <NNN>.<name>` as CUB writes them.
 */
export async function exportCub(dataset: Dataset, output: string, options: Options, ctx: Context): Promise<ExportSummary> {
  const saveMedia = options['save-media'] === true;
  const categories = dataset.categories;
  const writer = new FileWriter();
  const rows: Row[] = [];
  const paths = new Set<string>();
  const dropped: Record<string, number> = {};
  const drop = (reason: string, n = 1) => { dropped[reason] = (dropped[reason] ?? 0) + n; };
  const notTest = new Map<string, number>();
  const imagesDir = path.join(output, IMAGES_DIR);

  const writeItem = async (item: Item, imageExists: boolean) => {
    const where = { item: item.subset ? `${item.subset}/${item.id}` : item.id };
    const known = (label: number | undefined): label is number => label !== undefined && label < categories.length;
    const label = item.annotations.find((a) => a.type === 'label' && known(a.label))?.label
      ?? item.annotations.find((a) => a.type === 'bbox' && known(a.label))?.label;
    if (label === undefined) {
      drop('no label', item.annotations.length || 1);
      ctx.reporter.warn({ ...where, code: 'no-label', message: 'item has no label or labelled box (of a known category); not written, every CUB image has a class' });
      return;
    }
    const rel = imageFileName(item);
    if (/\s/.test(rel)) {
      drop('unlistable path', item.annotations.length || 1);
      ctx.reporter.warn({ ...where, code: 'path-with-space', message: `image path '${rel}' holds whitespace, which CUB lists cannot; not written (rename it first, e.g. -t rename)` });
      return;
    }
    const target = resolveInside(imagesDir, rel, where);
    if (paths.has(rel)) {
      drop('duplicate', item.annotations.length || 1);
      ctx.reporter.warn({ ...where, code: 'duplicate-item', message: `image path '${rel}' is already listed (an item of the same id in another subset); the repeat is not written` });
      return;
    }
    paths.add(rel);
    const box = item.annotations.find((a): a is BboxAnnotation => a.type === 'bbox' && a.label === label && !a.rotation && !item.normalized);
    let keptLabel = false;
    for (const a of item.annotations) {
      if (a === box) continue;
      if (a.type === 'label' && a.label === label && !keptLabel) { keptLabel = true; continue; }
      drop(a.type);
    }
    if (!box) ctx.reporter.warn({ ...where, code: 'no-box', message: `no ${item.normalized ? 'pixel ' : ''}box of the item's class; it has no line in ${BOXES_FILE}` });
    if (item.subset !== 'train' && item.subset !== 'test') notTest.set(item.subset, (notTest.get(item.subset) ?? 0) + 1);
    rows.push({ path: rel, label, training: item.subset === 'train', box });
    if (saveMedia) {
      if (imageExists) await writer.copy(item.image!.path, target);
      else ctx.reporter.warn({ ...where, file: item.image?.path, code: 'missing-image', message: item.image ? 'image file not found; not copied' : 'item has no image to copy' });
    }
  };

  let batch: Item[] = [];
  const flush = async () => {
    const present = await Promise.all(batch.map((item) => saveMedia && item.image ? fsp.access(item.image.path).then(() => true, () => false) : false));
    for (const [k, item] of batch.entries()) await writeItem(item, present[k]);
    batch = [];
    ctx.progress('Writing CUB items', rows.length);
  };
  for await (const item of dataset.items) {
    batch.push(item);
    if (batch.length >= BATCH) await flush();
  }
  await flush();
  await writer.flush();

  const used = [...new Set(rows.map((r) => r.label))].sort((a, b) => a - b);
  const classId = numberKeys(used, (label) => categories[label].id);
  const lines = (fn: (row: Row, n: number) => string | undefined) => rows.map((r, k) => fn(r, k + 1)).filter((l) => l !== undefined).map((l) => l + '\n').join('');
  const num = (v: number) => (Number.isInteger(v) ? v.toFixed(1) : String(v));
  await fsp.writeFile(path.join(output, CLASSES_FILE), used.map((label) => {
    const id = classId.get(label)!;
    const name = categories[label].name.trim().replace(/\s+/g, '_') || `class_${id}`;
    if (name !== categories[label].name) ctx.reporter.warn({ code: 'label-renamed', element: `category ${label}`, message: `label name ${JSON.stringify(categories[label].name)} written as '${name}': ${CLASSES_FILE} names are one word` });
    return `${id} ${String(id).padStart(3, '0')}.${name}\n`;
  }).join(''));
  await fsp.writeFile(path.join(output, IMAGES_FILE), lines((r, n) => `${n} ${r.path}`));
  await fsp.writeFile(path.join(output, LABELS_FILE), lines((r, n) => `${n} ${classId.get(r.label)}`));
  await fsp.writeFile(path.join(output, SPLIT_FILE), lines((r, n) => `${n} ${r.training ? 1 : 0}`));
  await fsp.writeFile(path.join(output, BOXES_FILE), lines((r, n) => r.box && `${n} ${[r.box.x, r.box.y, r.box.w, r.box.h].map(num).join(' ')}`));

  for (const [subset, count] of notTest) {
    ctx.reporter.warn({ code: 'subset-moved', file: path.join(output, SPLIT_FILE), message: `${subset ? `subset '${subset}'` : 'no subset'} (${count} items) written as is_training 0 (test): CUB splits train and test only` });
  }
  const written = rows.filter((r) => r.box).length;
  return { items: rows.length, annotations: { label: rows.length, bbox: written }, dropped };
}
