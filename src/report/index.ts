/**
 * `datum report` as a library call: read a dataset once (counting with computeStats, so the numbers
 * are `datum stats`'s, and aggregating the rest on the same pass), validate it, draw a few thumbnails,
 * optionally compare it with another version and show a calibration manifest, and write one HTML file
 * atomically (a temporary file beside it, renamed into place).
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import type { Manifest } from '../calib/index.js';
import { DatumError } from '../diagnostics.js';
import { writeFileAtomically } from '../output.js';
import type { Category, Item, ItemStream } from '../model.js';
import { assertOutputApart, createContext, importDataset } from '../pipeline.js';
import type { Context } from '../plugin.js';
import { computeStats } from '../stats.js';
import { validateDataset, type ValidationResult } from '../validate/index.js';
import { DatasetAggregate } from './aggregate.js';
import { Comparer, PAIR_CATEGORIES, type Comparison } from './compare.js';
import { renderReport, type ReportPage, type Thumbnail } from './html.js';
import { renderPreview } from './preview.js';

/** Labels in the gallery (the most annotated), and the thumbnails' longest side in pixels. */
export const GALLERY_LABELS = 24;
export const THUMBNAIL_SIZE = 160;
/** Longest side of a moved box's picture (cropped to the boxes and enlarged: a few pixels must show). */
const MOVED_SIZE = 240;

export interface ReportRequest {
  input: string;
  inputFormat?: string;
  /** The HTML file to write. */
  output: string;
  /** Another version of the dataset (its conversion) to compare with. */
  compare?: string;
  compareFormat?: string;
  /** A `datum calib` manifest.json; found in `input` when it is a calib output folder. */
  manifest?: string;
  overwrite?: boolean;
}

export interface ReportSummary {
  output: string;
  bytes: number;
  format: string;
  items: number;
  annotations: number;
  labels: number;
  subsets: Record<string, number>;
  findings?: ValidationResult['summary'];
  thumbnails: number;
  compare?: {
    other: string; format: string; identical: boolean; matched: number; onlySource: number; onlyOther: number;
    /** Annotations fewer / more in the other dataset, summed over subset, label and kind. */
    dropped: number; added: number; movedBoxes: number; relabelled: number; attributeChanges: number;
    /** Attribute keys on paired items or annotations there that are not here. */
    attributesOnlyOther: string[];
    /** Labels only in the source / only in the other, and labels whose parent differs. */
    labelsOnlySource: number; labelsOnlyOther: number; parentChanged: number;
  };
  calibration?: { manifest: string; count: number; strata: number; found?: number };
}

export async function writeReport(request: ReportRequest, ctx: Context = createContext()): Promise<ReportSummary> {
  const output = path.resolve(request.output);
  const input = path.resolve(request.input);
  await assertOutputApart([request.input, ...(request.compare ? [request.compare] : [])], output, request.output);
  await checkOutput(output, request.output, Boolean(request.overwrite));

  const calib = await findManifest(input, request.manifest);
  const datasetPath = calib?.datasetPath ?? input;

  let comparer: Comparer | undefined;
  let other: { format: string; path: string } | undefined;
  if (request.compare) {
    // read first and whole: the source then streams past it
    const imported = await importDataset(request.compare, request.compareFormat, {}, ctx);
    other = { format: imported.format.name, path: path.resolve(request.compare) };
    comparer = new Comparer(imported.dataset.categories);
    let done = 0;
    for await (const item of imported.dataset.items) {
      comparer.addOther(item);
      ctx.progress('reading the other dataset', ++done);
    }
  }

  const { format, dataset } = await importDataset(datasetPath, request.inputFormat, {}, ctx);
  comparer?.setSourceCategories(dataset.categories);
  const aggregate = new DatasetAggregate(dataset.categories);
  const wanted = calib && !calib.own ? new Set(calib.manifest.items.map((i) => `${i.subset}\0${i.id}`)) : undefined;
  let found = 0;
  let done = 0;
  const stats = await computeStats({
    ...dataset,
    items: tap(dataset.items, (item) => {
      aggregate.add(item);
      comparer?.addSource(item);
      if (wanted?.has(`${item.subset}\0${item.id}`)) found++;
      ctx.progress('reading items', ++done);
    }),
  });
  const comparison: Comparison | undefined = comparer?.finish();
  await aggregate.probeSizes((n, total) => ctx.progress('reading image sizes', n, total));

  let validation: ValidationResult | undefined;
  let validationError: string | undefined;
  try {
    validation = await validateDataset(datasetPath, { format: format.name }, ctx);
  } catch (error) {
    if (!(error instanceof DatumError)) throw error;
    validationError = `Validation could not run: ${error.message}`;
  }

  const { gallery, note } = await drawGallery(aggregate, ctx);
  const movedPictures: (Thumbnail | undefined)[] = [];
  for (const m of comparison?.boxes.examples ?? []) movedPictures.push(await movedPicture(m.picture).catch(() => undefined));
  const page: ReportPage = {
    source: calib?.datasetPath ?? request.input, format: format.name, stats, aggregate, validation, validationError, gallery, galleryNote: note,
    comparison: comparison && other ? { other: other.path, format: other.format, result: comparison, pictures: movedPictures } : undefined,
    calibration: calib ? { file: calib.file, manifest: calib.manifest, found: wanted ? found : undefined } : undefined,
  };
  const html = renderReport(page);
  await writeFileAtomically(output, html);

  const annotations = Object.values(stats.annotations).reduce((a, b) => a + b, 0);
  const summary: ReportSummary = {
    output, bytes: Buffer.byteLength(html), format: format.name, items: stats.items, annotations, labels: stats.labels.length,
    subsets: stats.subsets, findings: validation?.summary, thumbnails: gallery.reduce((a, g) => a + g.thumbnails.length, 0),
  };
  if (comparison && other) {
    const diff = (f: (s: number, o: number) => number) => comparison.rows.reduce((a, r) => a + f(r.source, r.other), 0);
    summary.compare = {
      other: other.path, format: other.format, identical: comparison.identical, matched: comparison.items.matched,
      onlySource: comparison.onlySourceCount, onlyOther: comparison.onlyOtherCount,
      dropped: diff((s, o) => Math.max(0, s - o)), added: diff((s, o) => Math.max(0, o - s)),
      movedBoxes: comparison.boxes.moved, relabelled: comparison.relabelled.reduce((a, r) => a + r.count, 0), attributeChanges: comparison.attributes.changed,
      attributesOnlyOther: Object.keys(comparison.attributes.added),
      labelsOnlySource: comparison.labels.onlySource.length, labelsOnlyOther: comparison.labels.onlyOther.length, parentChanged: comparison.labels.parentChanged.length,
    };
  }
  if (calib) summary.calibration = { manifest: calib.file, count: calib.manifest.count, strata: calib.manifest.strata.length, found: wanted ? found : undefined };
  return summary;
}

/** The items, each handed to `see` on its way past. */
async function* tap(items: ItemStream, see: (item: Item) => void): AsyncGenerator<Item> {
  for await (const item of items) {
    see(item);
    yield item;
  }
}

async function checkOutput(output: string, shown: string, overwrite: boolean): Promise<void> {
  if (output.includes('\0')) throw new DatumError({ code: 'bad-output', file: JSON.stringify(shown), message: 'the output path contains a NUL byte' });
  const existing = await fsp.stat(output).catch(() => null);
  if (existing?.isDirectory()) throw new DatumError({ code: 'output-is-folder', file: shown, message: 'the report is one HTML file; this path is a folder' });
  if (existing && !overwrite) throw new DatumError({ code: 'output-exists', file: shown, message: 'output file exists; pass --overwrite to replace it' });
}

interface CalibManifest {
  file: string;
  manifest: Manifest;
  /** The folder the report reads: the calib folder's dataset/ when the manifest was found there. */
  datasetPath?: string;
  /** The dataset read is the calib folder's own export (its ids are not the source's). */
  own: boolean;
}

/**
 * The calibration manifest: `--manifest`, or `input/manifest.json` when input is a `datum calib`
 * folder, whose dataset/ is then the dataset reported (the manifest's `source` is not followed: the
 * report reads only the paths it is given).
 */
async function findManifest(input: string, given: string | undefined): Promise<CalibManifest | undefined> {
  if (given) return { file: path.resolve(given), manifest: await readManifest(path.resolve(given)), own: false };
  const file = path.join(input, 'manifest.json');
  const isDir = (await fsp.stat(input).catch(() => null))?.isDirectory();
  if (!isDir || !fs.existsSync(file) || !fs.existsSync(path.join(input, 'calibration.txt'))) return undefined;
  const manifest = await readManifest(file);
  const dataset = path.join(input, 'dataset');
  if (!manifest.dataset || !fs.existsSync(dataset)) {
    throw new DatumError({ code: 'calib-without-dataset', file: input, message: 'this calibration folder holds no dataset/ (calib without -f); report on the source dataset with `-i SOURCE --manifest manifest.json`' });
  }
  return { file, manifest, datasetPath: dataset, own: true };
}

async function readManifest(file: string): Promise<Manifest> {
  let manifest: Manifest;
  try {
    manifest = JSON.parse(await fsp.readFile(file, 'utf8'));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new DatumError({ code: code === 'ENOENT' ? 'file-not-found' : 'bad-manifest', file, message: code === 'ENOENT' ? 'no such file' : 'not a JSON file' });
  }
  const ok = manifest && manifest.version === 1 && Array.isArray(manifest.strata) && Array.isArray(manifest.labels) && Array.isArray(manifest.items) && manifest.pool;
  if (!ok) throw new DatumError({ code: 'bad-manifest', file, message: 'not a `datum calib` manifest (version 1 with strata, labels, items and pool)' });
  return manifest;
}

/**
 * Thumbnails for the most annotated labels, a few items each, each item drawn once (renderPreview,
 * then JPEG for a small data: URI). A drawing that fails leaves that thumbnail out.
 */
/**
 * A moved box's picture: the item drawn with the box here and there, cropped to the two boxes with a
 * margin and enlarged, so that a shift of a few pixels shows.
 */
async function movedPicture(item: Item): Promise<Thumbnail | undefined> {
  const { width, height } = item.image ?? {};
  if (!width || !height) return undefined;
  const preview = await renderPreview(item, PAIR_CATEGORIES, { size: Math.max(width, height) });
  if (!preview) return undefined;
  const scale = preview.width / width;
  const boxes = item.annotations as { x: number; y: number; w: number; h: number }[];
  const x0 = Math.min(...boxes.map((b) => b.x));
  const y0 = Math.min(...boxes.map((b) => b.y));
  const x1 = Math.max(...boxes.map((b) => b.x + b.w));
  const y1 = Math.max(...boxes.map((b) => b.y + b.h));
  const margin = Math.max(8, 0.25 * Math.max(x1 - x0, y1 - y0));
  const left = Math.max(0, Math.floor((x0 - margin) * scale));
  const top = Math.max(0, Math.floor((y0 - margin) * scale));
  const right = Math.min(preview.width, Math.ceil((x1 + margin) * scale));
  const bottom = Math.min(preview.height, Math.ceil((y1 + margin) * scale));
  if (right <= left || bottom <= top) return undefined;
  const { data, info } = await sharp(preview.png).extract({ left, top, width: right - left, height: bottom - top })
    .resize({ width: MOVED_SIZE, height: MOVED_SIZE, fit: 'inside', kernel: 'nearest' })
    .flatten({ background: '#ffffff' }).jpeg({ quality: 80 }).toBuffer({ resolveWithObject: true });
  const name = item.subset ? `${item.subset}/${item.id}` : item.id;
  return { item: name, uri: `data:image/jpeg;base64,${data.toString('base64')}`, width: info.width, height: info.height, placeholder: preview.placeholder };
}

/** An item drawn by renderPreview, as a JPEG data: URI; undefined when it cannot be drawn. */
async function thumbnail(item: Item, categories: readonly Category[], size: number): Promise<Thumbnail | undefined> {
  const preview = await renderPreview(item, categories, { size });
  if (!preview) return undefined;
  const jpeg = await sharp(preview.png).flatten({ background: '#ffffff' }).jpeg({ quality: 72 }).toBuffer();
  const name = item.subset ? `${item.subset}/${item.id}` : item.id;
  return { item: name, uri: `data:image/jpeg;base64,${jpeg.toString('base64')}`, width: preview.width, height: preview.height, placeholder: preview.placeholder };
}

async function drawGallery(aggregate: DatasetAggregate, ctx: Context): Promise<{ gallery: ReportPage['gallery']; note?: string }> {
  const labels = [...aggregate.gallery.keys()]
    .map((label) => ({ label, total: aggregate.labelTotal(label) }))
    .sort((a, b) => b.total - a.total || a.label - b.label)
    .slice(0, GALLERY_LABELS);
  const items = [...new Set(labels.flatMap((l) => aggregate.gallery.get(l.label)!))];
  const drawn = new Map<Item, Thumbnail>();
  let failure: string | undefined;
  for (const [k, item] of items.entries()) {
    try {
      const t = await thumbnail(item, aggregate.categories, THUMBNAIL_SIZE);
      if (t) drawn.set(item, t);
    } catch (error) {
      failure ??= error instanceof Error ? error.message : String(error);
    }
    ctx.progress('drawing thumbnails', k + 1, items.length);
  }
  const gallery = labels.map((l) => ({ label: aggregate.labelName(l.label), thumbnails: aggregate.gallery.get(l.label)!.flatMap((i) => drawn.get(i) ?? []) }));
  const note = drawn.size ? undefined : items.length ? `No thumbnail could be drawn${failure ? ` (${failure})` : ''}.` : 'No labelled item to show.';
  return { gallery, note };
}
