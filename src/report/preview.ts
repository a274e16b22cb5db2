/**
 * Pictures of items with their annotations drawn, and `datum preview` as a library call: choose items
 * reproducibly while streaming the dataset, draw each as a PNG, and a contact sheet of them all, into
 * one output folder written atomically. Drawing is sharp compositing one SVG overlay (draw.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { FlatNames } from '../paths.js';
import { DatumError } from '../diagnostics.js';
import type { Category, Item } from '../model.js';
import { probeImageSize, type ImageSize } from '../media.js';
import { FileWriter, writeAtomically } from '../output.js';
import { assertOutputApart, createContext, importDataset } from '../pipeline.js';
import type { Context } from '../plugin.js';
import { unitHash } from '../transforms/split/hash.js';
import { drawOverlay, STRIP_BACKGROUND, xmlText, type Frame } from './draw.js';

export interface PreviewOptions {
  /** Longest side of the picture in pixels (the image is scaled to fit; default 640). */
  size?: number;
}

export interface Preview {
  png: Buffer;
  width: number;
  height: number;
  /** The image file was missing or unreadable: a placeholder of the annotated size was drawn. */
  placeholder: boolean;
}

export const DEFAULT_PREVIEW_SIZE = 640;
export const DEFAULT_COUNT = 16;
const PLACEHOLDER_GREY = '#808080';

/**
 * One item's image (upright by EXIF) with every annotation drawn; null when it cannot be drawn (no image and no size).
 *
 * Annotations are in the upright frame, as annotation tools show the image (EXIF orientation applied,
 * the size `datum validate` compares with), so the image is rotated first. The coordinate frame is the
 * image as it is; an annotated size that differs is noted in the legend, not stretched away (the
 * misplaced shapes are what there is to see). Without a readable image the annotated size gives a grey
 * placeholder; normalized coordinates without an image have no size to draw at (null).
 */
export async function renderPreview(item: Item, categories: readonly Category[], options: PreviewOptions = {}): Promise<Preview | null> {
  const size = options.size ?? DEFAULT_PREVIEW_SIZE;
  const file = item.image?.path;
  const { width: w, height: h } = item.image ?? {};
  const annotated = !item.normalized && w && h && w > 0 && h > 0 && Number.isFinite(w * h) ? { width: w, height: h } : null;
  const real = file ? await probeImageSize(file) : null;
  const frameSize = real ?? annotated;
  if (!frameSize) return null;

  const scale = size / Math.max(frameSize.width, frameSize.height);
  const width = Math.max(1, Math.round(frameSize.width * scale));
  const height = Math.max(1, Math.round(frameSize.height * scale));
  // normalized coordinates are fractions of the image
  const frame: Frame = item.normalized ? { width, height, sx: width, sy: height } : { width, height, sx: width / frameSize.width, sy: height / frameSize.height };

  const notes: string[] = [];
  let base = real ? await decodeUpright(file!, width, height) : null;
  const placeholder = !base;
  let missing: string | undefined;
  if (!base) {
    missing = !file ? 'no image' : !fs.existsSync(file) ? 'image missing' : 'image unreadable';
    notes.push(file ? `${missing}: ${file}` : missing);
    base = await sharp({ create: { width, height, channels: 3, background: PLACEHOLDER_GREY } }).raw().toBuffer({ resolveWithObject: true });
  } else if (annotated && real && (annotated.width !== real.width || annotated.height !== real.height)) {
    notes.push(`annotations say ${annotated.width} x ${annotated.height}, the image is ${real.width} x ${real.height} (EXIF orientation applied)`);
  }
  const overlay = await drawOverlay(item, categories, frame, notes, missing);

  let picture = sharp(base.data, { raw: { width: base.info.width, height: base.info.height, channels: base.info.channels } });
  if (overlay.stripHeight) picture = picture.extend({ bottom: overlay.stripHeight, background: STRIP_BACKGROUND });
  const png = await picture.composite([{ input: overlay.svg, top: 0, left: 0 }]).removeAlpha().png().toBuffer();
  return { png, width, height: height + overlay.stripHeight, placeholder };
}

/** The image upright (EXIF), scaled to width x height, as 8-bit sRGB raw pixels; null when it cannot be decoded. */
async function decodeUpright(file: string, width: number, height: number): Promise<{ data: Buffer; info: sharp.OutputInfo } | null> {
  try {
    return await sharp(file, { failOn: 'none' }).rotate().resize(width, height, { fit: 'fill' })
      .flatten({ background: '#000000' }).toColourspace('srgb').raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  } catch {
    return null;
  }
}

/** Contact sheet layout, in pixels: the box each thumbnail fits in, the caption line under it, the gaps. */
export const SHEET = { cell: 200, caption: 18, gap: 8, background: '#181818', maxItems: 256 } as const;

/** The sheet's size for `count` thumbnails: a near-square grid, `ceil(sqrt(count))` columns. */
export function contactSheetSize(count: number): ImageSize & { columns: number; rows: number } {
  const columns = Math.max(1, Math.ceil(Math.sqrt(count)));
  const rows = Math.max(1, Math.ceil(count / columns));
  return { columns, rows, width: columns * (SHEET.cell + SHEET.gap) + SHEET.gap, height: rows * (SHEET.cell + SHEET.caption + SHEET.gap) + SHEET.gap };
}

/** A grid of thumbnails (PNG buffers, in order), each with its caption (the item) under it. */
export async function contactSheet(cells: readonly { png: Buffer; caption: string }[]): Promise<Buffer> {
  const { columns, width, height } = contactSheetSize(cells.length);
  const layers: sharp.OverlayOptions[] = [];
  let captions = '';
  for (let k = 0; k < cells.length; k++) {
    const { data, info } = await sharp(cells[k].png).resize(SHEET.cell, SHEET.cell, { fit: 'inside' }).png().toBuffer({ resolveWithObject: true });
    const left = SHEET.gap + (k % columns) * (SHEET.cell + SHEET.gap);
    const top = SHEET.gap + Math.floor(k / columns) * (SHEET.cell + SHEET.caption + SHEET.gap);
    // centred in its cell, the caption right under it
    const thumbTop = top + Math.floor((SHEET.cell - info.height) / 2);
    layers.push({ input: data, left: left + Math.floor((SHEET.cell - info.width) / 2), top: thumbTop });
    const text = cells[k].caption.length > 28 ? cells[k].caption.slice(0, 27) + '…' : cells[k].caption;
    captions += `<text x="${left + SHEET.cell / 2}" y="${thumbTop + info.height + 13}" text-anchor="middle" font-family="DejaVu Sans, sans-serif" font-size="11" fill="#e0e0e0">${xmlText(text)}</text>`;
  }
  layers.push({ input: Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${captions}</svg>`), left: 0, top: 0 });
  return sharp({ create: { width, height, channels: 3, background: SHEET.background } }).composite(layers).png().toBuffer();
}

export interface PreviewRequest {
  input: string;
  inputFormat?: string;
  output: string;
  /** Item ids to draw (in this order); otherwise `count` items chosen by hash. */
  items?: string[];
  subset?: string;
  /** Only items with an annotation of this label (or of a label whose parent it is). */
  label?: string;
  /** Default 16. */
  count?: number;
  seed?: number;
  size?: number;
  overwrite?: boolean;
}

export interface PreviewEntry { id: string; subset: string; file: string; annotations: number; placeholder: boolean }

export interface PreviewResult {
  format: string;
  items: PreviewEntry[];
  /** Chosen items that could not be drawn (normalized coordinates and no image to size them). */
  skipped: { id: string; subset: string; reason: string }[];
  /** `contact-sheet.png` (relative to the output folder). */
  contact_sheet: string;
  output: string;
}

export const CONTACT_SHEET = 'contact-sheet.png';

/** `datum preview`: the chosen items drawn as `<subset>_<id>.png` plus `contact-sheet.png` in `output`. */
export async function previewDataset(request: PreviewRequest, ctx: Context = createContext()): Promise<PreviewResult> {
  const output = path.resolve(request.output);
  await assertOutputApart([request.input], output, request.output);
  // reading happens inside: an output that exists fails before a big dataset is read
  return writeAtomically(output, request.overwrite ?? false, async (dir) => {
    const { format, dataset } = await importDataset(request.input, request.inputFormat, {}, ctx);
    const chosen = await chooseItems(dataset.items, dataset.categories, request, ctx);
    const writer = new FileWriter(4);
    const names = new FlatNames([CONTACT_SHEET]);
    const items: PreviewEntry[] = [];
    const skipped: PreviewResult['skipped'] = [];
    const thumbnails: { png: Buffer; caption: string }[] = [];
    for (let k = 0; k < chosen.length; k++) {
      const item = chosen[k];
      const preview = await renderPreview(item, dataset.categories, { size: request.size });
      if (!preview) {
        const reason = item.normalized ? 'coordinates are normalized and there is no readable image to give them a size' : 'no readable image and no image size to draw the shapes at';
        ctx.reporter.warn({ code: 'no-image-size', item: itemName(item), file: item.image?.path, message: `not drawn: ${reason}` });
        skipped.push({ id: item.id, subset: item.subset, reason });
      } else {
        const file = names.next(item, '.png');
        await writer.write(path.join(dir, file), preview.png);
        items.push({ id: item.id, subset: item.subset, file, annotations: item.annotations.length, placeholder: preview.placeholder });
        // small copies for the sheet, not whole previews: memory stays bounded by the sheet's size
        if (thumbnails.length < SHEET.maxItems) {
          thumbnails.push({ png: await sharp(preview.png).resize(SHEET.cell, SHEET.cell, { fit: 'inside' }).png().toBuffer(), caption: itemName(item) });
        }
      }
      ctx.progress('drawing previews', k + 1, chosen.length);
    }
    if (!items.length) {
      throw new DatumError({ code: 'nothing-to-draw', file: request.input, message: `none of the ${chosen.length} chosen items can be drawn (no image and no image size)` });
    }
    await writer.write(path.join(dir, CONTACT_SHEET), await contactSheet(thumbnails));
    await writer.flush();
    return { format: format.name, items, skipped, contact_sheet: CONTACT_SHEET, output };
  });
}

/** `subset/id`, or the id alone when the item has no subset. */
const itemName = (item: Item) => (item.subset ? `${item.subset}/${item.id}` : item.id);

/**
 * The items to draw, reading the dataset once: the `--items` ids in the order given (every subset's
 * item of that id; an unknown id is an error naming some that exist), else the `count` items of
 * lowest `unitHash(subset/id, seed)` among those passing the subset and label filters, kept as they
 * stream by (memory for `count` items, not the dataset), in hash order: the same choice in any item order.
 */
export async function chooseItems(stream: AsyncIterable<Item> | Iterable<Item>, categories: readonly Category[], request: Pick<PreviewRequest, 'input' | 'items' | 'subset' | 'label' | 'count' | 'seed'>, ctx: Context = createContext()): Promise<Item[]> {
  const labels = request.label !== undefined ? labelFilter(categories, request.label, request.input) : undefined;
  const count = request.count ?? DEFAULT_COUNT;
  const seed = request.seed ?? 0;
  const wanted = request.items ? new Map(request.items.map((id) => [id, [] as Item[]])) : undefined;
  const best: { hash: number; key: string; item: Item }[] = [];
  const subsets = new Set<string>();
  const someIds: string[] = [];
  let seen = 0;
  for await (const item of stream) {
    ctx.progress('choosing items', ++seen);
    subsets.add(item.subset);
    if (someIds.length < 5) someIds.push(item.id);
    if (request.subset !== undefined && item.subset !== request.subset) continue;
    if (labels && !item.annotations.some((a) => a.label !== undefined && labels.has(a.label))) continue;
    if (wanted) {
      wanted.get(item.id)?.push(item);
      continue;
    }
    const key = `${item.subset}/${item.id}`;
    const hash = unitHash(key, seed);
    if (best.length === count && !before(hash, key, best[count - 1])) continue;
    let at = best.length;
    while (at > 0 && before(hash, key, best[at - 1])) at--;
    best.splice(at, 0, { hash, key, item });
    if (best.length > count) best.pop();
  }
  const where = request.subset !== undefined ? ` in subset '${request.subset}'` : '';
  if (request.subset !== undefined && !subsets.has(request.subset)) {
    throw new DatumError({ code: 'unknown-subset', file: request.input, message: `no subset '${request.subset}'; the subsets are ${[...subsets].map((s) => `'${s}'`).join(', ') || 'none (no items)'}` });
  }
  if (wanted) {
    const missing = [...wanted].filter(([, found]) => !found.length).map(([id]) => id);
    if (missing.length) {
      const label = request.label !== undefined ? ` with label '${request.label}'` : '';
      throw new DatumError({ code: 'unknown-item', file: request.input, message: `no item ${missing.slice(0, 5).map((id) => `'${id}'`).join(', ')}${missing.length > 5 ? ` (and ${missing.length - 5} more)` : ''}${where}${label}; items there include ${someIds.map((id) => `'${id}'`).join(', ') || 'none'}` });
    }
    return [...wanted.values()].flat();
  }
  if (!best.length) {
    throw new DatumError({ code: 'nothing-to-draw', file: request.input, message: `no item${where}${request.label !== undefined ? ` has an annotation of label '${request.label}'` : ''}${seen ? '' : ' (the dataset has no items)'}` });
  }
  return best.map((b) => b.item);
}

/** Lower hash first; the key decides equal hashes, so the order never depends on the input's. */
function before(hash: number, key: string, other: { hash: number; key: string }): boolean {
  return hash < other.hash || (hash === other.hash && key < other.key);
}

/** The indices of the category named `name` and of its children (SOP products under a super-class). */
function labelFilter(categories: readonly Category[], name: string, input: string): Set<number> {
  const indices = new Set<number>();
  categories.forEach((c, i) => { if (c.name === name || c.parent === name) indices.add(i); });
  if (!indices.size) {
    const names = categories.slice(0, 10).map((c) => `'${c.name}'`).join(', ');
    throw new DatumError({ code: 'unknown-label', file: input, message: `no label '${name}' in the dataset; its labels are ${names || 'none'}${categories.length > 10 ? `, ... (${categories.length} in all)` : ''}` });
  }
  return indices;
}

