/**
 * `datum calib` as a library call: read a dataset, choose a calibration set (select.ts), write
 * calibration.txt, manifest.json and optionally image copies, a .npy tensor and the chosen items as a
 * dataset, all into one output folder written atomically.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { FlatNames } from '../paths.js';
import { DatumError, Reporter } from '../diagnostics.js';
import { collect, type Item } from '../model.js';
import { assertOutputApart, createContext, importDataset } from '../pipeline.js';
import type { Context, ExportSummary, Options } from '../plugin.js';
import { getFormat } from '../registry.js';
import { FileWriter, writeAtomically } from '../output.js';
import { plural } from '../text.js';
import { selectCalibration, selectPool, type ResolvedStratify, type StratumReport, type Stratify } from './select.js';
import { writeTensor, type TensorOptions } from './tensor.js';

export { selectCalibration, selectPool, allocate, resolveStratify, isDetection, STRATIFY, DETECTION_WINDOW } from './select.js';
export type { Selection, StratumReport, Stratify, ResolvedStratify, Pool, PoolOptions, SelectOptions } from './select.js';

export const DEFAULT_SIZE = 300;
/** The subset the chosen items are exported in with -f (Ultralytics' int8 export calibrates on `val`). */
export const EXPORT_SUBSET = 'val';

export interface CalibRequest {
  input: string;
  inputFormat?: string;
  output: string;
  /** Default 300. */
  size?: number;
  subsets?: string[];
  exclude?: string[];
  stratify?: Stratify;
  seed?: number;
  /** Copy (hard-link) the images into images/ and list those, relative to the output folder. */
  copyImages?: boolean;
  /** Also export the chosen items in this format into dataset/. */
  outputFormat?: string;
  exportOptions?: Options;
  tensor?: TensorOptions;
  overwrite?: boolean;
}

export interface ManifestItem { id: string; subset: string; image: string; stratum: string }

export interface Manifest {
  version: 1;
  source: string;
  format: string;
  seed: number;
  size: number;
  count: number;
  pool: { subsets: string[]; items: number; excluded: string[] };
  stratify: ResolvedStratify;
  spread_classes: boolean;
  strata: StratumReport[];
  max_deviation_pp: number;
  max_deviation_of: string | null;
  labels: StratumReport[];
  images: { copied: boolean; missing: number; list: string };
  tensor?: TensorOptions & { file: string; shape: number[]; bytes: number };
  dataset?: { format: string; path: string; subset: string; items: number };
  items: ManifestItem[];
}

export interface CalibResult { output: string; manifest: Manifest; exported?: ExportSummary }

/** Chooses and writes the calibration set; a failure leaves nothing at `output`. */
export async function calibrate(request: CalibRequest, ctx: Context = createContext()): Promise<CalibResult> {
  const exporter = request.outputFormat !== undefined ? getFormat(request.outputFormat, 'export') : undefined; // fail before reading
  const input = path.resolve(request.input);
  const output = path.resolve(request.output);
  await assertOutputApart([input], output, request.output);
  const size = request.size ?? DEFAULT_SIZE;
  const seed = request.seed ?? 0;
  const { format, dataset } = await importDataset(input, request.inputFormat, {}, ctx);
  const all = await collect(dataset);
  const pool = selectPool(all.items, { subsets: request.subsets, exclude: request.exclude }, input);
  if (!request.subsets && !request.exclude && !pool.excluded.length && pool.subsets.length > 1) {
    // COCO has train and val only: left alone, the set would share images with the evaluation
    ctx.reporter.warn({ code: 'no-test-subset', file: input, message: `no subset named test to leave out, so the set is drawn from every subset (${pool.subsets.map((s) => s || '(none)').join(', ')}); if you evaluate on one of them, name it with --exclude-subset` });
  }
  // an item without an image cannot calibrate anything: not a candidate
  const imageless = pool.items.filter((i) => !i.image?.path).length;
  if (imageless) {
    pool.items = pool.items.filter((i) => i.image?.path);
    ctx.reporter.warn({ code: 'no-image', file: input, message: `${plural(imageless, 'item')} of the pool ${imageless === 1 ? 'has' : 'have'} no image; left out` });
    if (!pool.items.length) throw new DatumError({ code: 'empty-pool', file: input, message: 'no item of the pool has an image' });
  }
  // the same image listed in train and test (a leaky split) would be calibrated on and evaluated on
  const kept = new Set(pool.subsets);
  const evaluated = new Set(all.items.filter((i) => !kept.has(i.subset) && i.image?.path).map(imagePathOf));
  const shared = evaluated.size ? pool.items.filter((i) => evaluated.has(imagePathOf(i))).length : 0;
  if (shared) {
    pool.items = pool.items.filter((i) => !evaluated.has(imagePathOf(i)));
    const where = pool.excluded.map((s) => s || '(none)').join(', ');
    ctx.reporter.warn({ code: 'image-in-excluded-subset', file: input, message: `${plural(shared, 'item')} of the pool ${shared === 1 ? 'shows an image' : 'show images'} that ${pool.excluded.length === 1 ? 'subset' : 'subsets'} ${where} ${pool.excluded.length === 1 ? 'has' : 'have'} too; left out` });
    if (!pool.items.length) throw new DatumError({ code: 'empty-pool', file: input, message: `every image of the pool is in ${where} too` });
  }
  if (size > pool.items.length) {
    ctx.reporter.warn({ code: 'size-exceeds-pool', file: input, message: `--size ${size} is more than the ${plural(pool.items.length, 'item')} to choose from; taking them all` });
  }
  const selection = selectCalibration(pool.items, all.categories, { size, stratify: request.stratify, seed });
  const chosen = selection.chosen.map((c) => c.item);
  const strict = Boolean(request.copyImages || request.tensor);
  const sources = await checkImages(chosen, strict, ctx);
  const missing = sources.filter((s) => s === null).length;

  return writeAtomically(output, request.overwrite ?? false, async (dir) => {
    const listed = request.copyImages ? await copyImages(chosen, sources as string[], dir, ctx) : sources.map((s, k) => s ?? imagePathOf(chosen[k]));
    await fsp.writeFile(path.join(dir, 'calibration.txt'), listed.map((p) => p + '\n').join(''));
    const manifest: Manifest = {
      version: 1, source: input, format: format.name, seed, size, count: chosen.length,
      pool: { subsets: pool.subsets, items: pool.items.length, excluded: pool.excluded },
      stratify: selection.stratify, spread_classes: selection.spread,
      strata: selection.strata, max_deviation_pp: selection.maxDeviationPp, max_deviation_of: selection.maxDeviationOf,
      labels: selection.labels,
      images: { copied: Boolean(request.copyImages), missing, list: 'calibration.txt' },
      items: selection.chosen.map((c, k) => ({ id: c.item.id, subset: c.item.subset, image: listed[k], stratum: c.stratum })),
    };
    if (request.tensor) {
      const file = 'calibration.npy';
      const written = await writeTensor(sources as string[], path.join(dir, file), request.tensor, (done, total) => ctx.progress('writing the tensor', done, total));
      manifest.tensor = { ...request.tensor, file, shape: written.shape, bytes: written.bytes };
    }
    let exported: ExportSummary | undefined;
    if (exporter) {
      const target = path.join(dir, 'dataset');
      await fsp.mkdir(target);
      exported = await exporter.export!({ categories: all.categories, info: all.info, items: asOneSubset(chosen) }, target, request.exportOptions ?? {}, withoutMissingSplit(ctx, exporter.name));
      manifest.dataset = { format: exporter.name, path: 'dataset', subset: EXPORT_SUBSET, items: exported.items };
    }
    await fsp.writeFile(path.join(dir, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
    return { output, manifest, exported };
  });
}

/** The image path an item names, absolute (the pool has only items with an image). */
function imagePathOf(item: Item): string {
  return path.resolve(item.image!.path);
}

const itemName = (item: Item) => (item.subset ? `${item.subset}/${item.id}` : item.id);

/**
 * Each chosen item's image path, or null when the file is missing: warned about and counted, or an
 * error naming the item and the file when the images are copied or read (the set would shrink).
 */
async function checkImages(items: readonly Item[], strict: boolean, ctx: Context): Promise<(string | null)[]> {
  const result: (string | null)[] = new Array(items.length).fill(null);
  let done = 0;
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const k = next++;
      const file = imagePathOf(items[k]);
      const found = await fsp.stat(file).then((s) => s.isFile(), () => false);
      if (found) result[k] = file;
      else if (strict) throw new DatumError({ code: 'missing-image', file, item: itemName(items[k]), message: 'image file not found; a calibration set with --copy-images or --tensor needs every image' });
      else ctx.reporter.warn({ code: 'missing-image', file, item: itemName(items[k]), message: 'image file not found; listed anyway' });
      ctx.progress('checking images', ++done, items.length);
    }
  };
  await Promise.all(Array.from({ length: Math.min(32, items.length) }, worker));
  return result;
}

/**
 * Hard-links (or copies) the images into images/ under FlatNames (`<subset>_<id>.<ext>`, made safe and
 * distinct); returns the paths relative to `dir`.
 */
async function copyImages(items: readonly Item[], sources: readonly string[], dir: string, ctx: Context): Promise<string[]> {
  const writer = new FileWriter();
  const names = new FlatNames();
  const listed: string[] = [];
  for (let k = 0; k < items.length; k++) {
    const name = names.next(items[k], path.extname(sources[k]));
    await writer.copy(sources[k], path.join(dir, 'images', name));
    listed.push(`images/${name}`);
    ctx.progress('copying images', k + 1, items.length);
  }
  await writer.flush();
  return listed;
}

/** The chosen items in one subset; ids that meet there from several subsets get `_2`, `_3`. */
function asOneSubset(items: readonly Item[]): Item[] {
  const seen = new Set<string>();
  return items.map((item) => {
    let id = item.id;
    for (let n = 2; seen.has(id); n++) id = `${item.id}_${n}`;
    seen.add(id);
    return { ...item, id, subset: EXPORT_SUBSET };
  });
}

/**
 * yolo_ultralytics warns that data.yaml points train at val.txt: that is wanted here (Ultralytics'
 * check_det_dataset needs both keys; `yolo export int8=True` calibrates on val), so it is left out.
 */
function withoutMissingSplit(ctx: Context, format: string): Context {
  if (format !== 'yolo_ultralytics') return ctx;
  return { ...ctx, reporter: new Reporter((d) => { if (d.code !== 'missing-split') ctx.reporter.report(d); }) };
}
