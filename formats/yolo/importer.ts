import fs from 'node:fs';
import fsp from 'node:fs/promises';
import type { BboxAnnotation, Category, Dataset, Item } from '../../src/model.js';
import type { Context, Options } from '../../src/plugin.js';
import { probeItemSizes } from '../../src/media.js';
import { DatumError } from '../../src/diagnostics.js';
import { excerpt, forEachLine, lineWarner, splitFields, toNumber } from '../../src/text.js';
import { findLayout, locate, type Entry, type Layout } from './layout.js';

/** Items are read (labels parsed, image headers probed) this many at a time. */
const BATCH = 256;
/** Normalized values may stray this far outside [0, 1] (rounding in other tools), as Ultralytics allows. */
const TOLERANCE = 0.01;

/** One label line: class index and normalized centre/size. */
export interface YoloBox { label: number; cx: number; cy: number; w: number; h: number }

export async function importYolo(input: string, _options: Options, ctx: Context): Promise<Dataset> {
  const layout = await findLayout(await locate(input), ctx);
  const categories = await readNames(layout.namesFile, ctx);
  checkDeclaredClasses(layout, categories.length, ctx);
  return { categories, items: readItems(layout, categories.length, ctx) };
}

/**
 * obj.names: one name per line. Blank lines are skipped as Datumaro does; Darknet counts them as
 * classes, so one between names shifts the class numbers and is warned about.
 */
export async function readNames(file: string, ctx: Context): Promise<Category[]> {
  // A names path that is a folder or unreadable must still be reported with the file's name.
  const text = (await fsp.readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new DatumError({ code: 'names-unreadable', file, message: `cannot read the label names file (${error.code ?? error.message})` });
  }));
  const categories: Category[] = [];
  const seen = new Set<string>();
  const lines: string[] = [];
  forEachLine(text, (line) => { lines.push(line); });
  let lastName = lines.length - 1;
  while (lastName >= 0 && !lines[lastName].trim()) lastName--;
  const warner = lineWarner(ctx.reporter, file);
  lines.forEach((raw, i) => {
    const name = raw.trim();
    if (!name) {
      if (i < lastName) warner.warn({ code: 'blank-label-line', line: i + 1, message: 'blank line skipped as Datumaro does; Darknet counts it as a class, so its numbers for the classes below differ' });
      return;
    }
    if (seen.has(name)) warner.warn({ code: 'duplicate-label', line: i + 1, message: `label '${excerpt(name)}' is named twice; class ${categories.length} keeps the repeat` });
    seen.add(name);
    categories.push({ name });
  });
  warner.done();
  return categories;
}

function checkDeclaredClasses(layout: Layout, count: number, ctx: Context): void {
  const declared = layout.declaredClasses;
  if (declared && Number(declared.value) !== count) {
    ctx.reporter.warn({ code: 'class-count-mismatch', file: layout.configFile, line: declared.line, message: `classes = ${declared.value} but the names file has ${count} names` });
  }
}

/** Yields items batch by batch, reading the next batch (labels and image headers) while the caller takes this one. */
async function* readItems(layout: Layout, classCount: number, ctx: Context): AsyncGenerator<Item> {
  const total = layout.entries.length;
  const load = (start: number) => {
    const batch = readBatch(layout.entries.slice(start, start + BATCH), classCount, ctx);
    batch.catch(() => {}); // a caller that stops early must not leave an unhandled rejection behind
    return batch;
  };
  let next = total > 0 ? load(0) : undefined;
  for (let start = 0; next; start += BATCH) {
    const items = await next;
    next = start + BATCH < total ? load(start + BATCH) : undefined;
    yield* items;
    ctx.progress('Reading YOLO items', Math.min(start + BATCH, total), total);
  }
}

async function readBatch(entries: Entry[], classCount: number, ctx: Context): Promise<Item[]> {
  const items = entries.map((entry): Item => ({
    id: entry.id,
    subset: entry.subset,
    ...(entry.image ? { image: { path: entry.image } } : {}),
    annotations: [],
  }));
  const [boxes] = await Promise.all([
    Promise.all(entries.map((entry) => readLabelFile(entry, classCount, ctx))),
    probeItemSizes(items),
  ]);
  items.forEach((item, k) => {
    const size = item.image?.width && item.image.height ? { width: item.image.width, height: item.image.height } : undefined;
    if (!size) {
      item.normalized = true;
      warnNoSize(entries[k], ctx);
    }
    item.annotations = boxes[k].map((b) => toBbox(b, size));
  });
  return items;
}

function warnNoSize(entry: Entry, ctx: Context): void {
  const where = { file: entry.image ?? entry.label, item: entryName(entry) };
  if (!entry.image) {
    ctx.reporter.warn({ ...where, code: 'missing-image', message: 'no image found for this label file; boxes stay normalized to [0, 1]' });
  } else if (fs.existsSync(entry.image)) {
    ctx.reporter.warn({ ...where, code: 'image-unreadable', message: 'cannot read the image size; boxes stay normalized to [0, 1]' });
  } else {
    ctx.reporter.warn({ ...where, code: 'missing-image', message: 'image file not found; boxes stay normalized to [0, 1]' });
  }
}

function toBbox(b: YoloBox, size: { width: number; height: number } | undefined): BboxAnnotation {
  const W = size?.width ?? 1;
  const H = size?.height ?? 1;
  return { type: 'bbox', label: b.label, x: (b.cx - b.w / 2) * W, y: (b.cy - b.h / 2) * H, w: b.w * W, h: b.h * H };
}

/** A missing label file means an image without objects (Darknet's and Ultralytics' reading). */
async function readLabelFile(entry: Entry, classCount: number, ctx: Context): Promise<YoloBox[]> {
  if (!entry.label) return [];
  const item = entryName(entry);
  for (const file of [entry.label, entry.altLabel]) {
    if (!file) continue;
    const text = await fsp.readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') ctx.reporter.warn({ code: 'label-unreadable', file, item, message: `cannot read the label file (${error.code ?? error.message}); the item keeps no boxes` });
      return error.code === 'ENOENT' ? null : '';
    });
    if (text !== null) return parseLabels(text, file, classCount, ctx, item);
  }
  ctx.reporter.info({ code: 'label-missing', file: entry.label, item, message: 'no label file; the image has no objects' });
  return [];
}

/** Parses `class cx cy w h` lines in one linear pass; a bad line is warned about (file and line) and skipped. */
export function parseLabels(text: string, file: string, classCount: number, ctx: Context, item?: string): YoloBox[] {
  const boxes: YoloBox[] = [];
  const warner = lineWarner(ctx.reporter, file, item);
  forEachLine(text, (raw, line) => {
    const fields = splitFields(raw);
    if (fields.length === 0) return;
    const bad = (code: string, message: string) => warner.warn({ code, line, message: `${message}; line skipped` });
    if (fields.length !== 5) return bad('bad-field-count', `expected 5 values (class cx cy w h), found ${fields.length}`);
    if (!/^\d+$/.test(fields[0])) return bad('not-a-number', `class '${excerpt(fields[0])}' is not a non-negative integer`);
    const label = Number(fields[0]);
    if (label >= classCount) return bad('unknown-label', `class ${label} is outside the ${classCount} names`);
    const cx = toNumber(fields[1]), cy = toNumber(fields[2]), w = toNumber(fields[3]), h = toNumber(fields[4]);
    const values = [cx, cy, w, h];
    const nan = values.findIndex((v) => !Number.isFinite(v));
    if (nan >= 0) return bad('not-a-number', `'${excerpt(fields[nan + 1])}' is not a number`);
    if (values.some((v) => v < -TOLERANCE || v > 1 + TOLERANCE) || w < 0 || h < 0) {
      return bad('coordinate-out-of-range', `values ${fields.slice(1).join(' ')} are not normalized to [0, 1]`);
    }
    boxes.push({ label, cx, cy, w, h });
  });
  warner.done();
  return boxes;
}

function entryName(entry: Entry): string {
  return entry.subset ? `${entry.subset}/${entry.id}` : entry.id;
}
