import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import YAML from 'yaml';
import type { Annotation, Category, Dataset, Item, Visibility } from '../../src/model.js';
import type { Context, OptionSpec, Options } from '../../src/plugin.js';
import { DatumError } from '../../src/diagnostics.js';
import { resolveInside, toPosixRelative } from '../../src/paths.js';
import { isDirectory, readFileHead } from '../../src/files.js';
import { probeItemSizes } from '../../src/media.js';
import { boxFromCorners } from '../../src/geometry/polygon.js';
import { LINE_WARNINGS_PER_FILE, excerpt, fieldCount, forEachLine, lineWarner, readLines, splitFields, toNumber } from '../../src/text.js';
import { CONFIG_FILE, NON_SPLIT_KEYS, STANDARD_SPLITS, TASKS, clampEdge, isImageFile, labelPathFor, type Task } from './format.js';

export const importOptions: readonly OptionSpec[] = [
  { name: 'task', type: 'string', choices: TASKS, description: 'how to read the labels (9-value rows: obb or 4-point polygons); inferred when absent' },
];

/** Values 0.01 beyond [0, 1] are tolerated (and clipped), as Ultralytics tolerates them. */
const TOLERANCE = 0.01;
/**
 * More classes than any real dataset has: a class index (or names key, or nc) beyond it is a broken
 * value, and making up class_<i> names up to it would exhaust memory.
 */
const MAX_CLASSES = 100_000;

interface Source {
  split: string;
  images: string[];
  /** Ids are image paths relative to this folder, without extension. */
  base: string;
  /** Folders whose label files are checked for images that do not exist. */
  labelDirs: string[];
  /** The folder, list or image the split entry named. */
  origin: string;
}
interface PendingItem { item: Item; rows: Row[]; labelFile?: string }
/** One parsed label row: YOLO rows are normalized, DOTA rows (labelTxt/) are in pixels. */
type Row = { line: number; cls: number; values: number[]; pixels?: boolean; difficult?: boolean };

export async function importUltralytics(input: string, options: Options, ctx: Context): Promise<Dataset> {
  const stat = await fsp.stat(input);
  const config = stat.isFile() ? input : await findConfig(input);
  if (stat.isFile() && !/\.ya?ml$/i.test(input)) {
    throw new DatumError({ code: 'not-a-yaml', file: input, message: 'expected a dataset YAML (data.yaml) or a dataset folder' });
  }
  if (config) return importWithConfig(config, options, ctx);
  if (await isDirectory(resolveInside(input, 'images'))) return importLayout(input, options, ctx);
  if (await classificationSplits(input)) return importClassification(input, ctx);
  throw new DatumError({ code: 'no-dataset', file: input, message: `no ${CONFIG_FILE} (or other YAML with names), images/ folder or <split>/<class>/ image folders found` });
}

/** data.yaml, or any top-level YAML with `names` or `nc` and a train or val key. */
export async function findConfig(dir: string): Promise<string | null> {
  const entries = (await fsp.readdir(dir).catch(() => [] as string[])).filter((n) => /\.ya?ml$/i.test(n)).sort();
  const ordered = [...entries.filter((n) => n.toLowerCase() === CONFIG_FILE), ...entries.filter((n) => n.toLowerCase() !== CONFIG_FILE)];
  for (const name of ordered) {
    const file = resolveInside(dir, name);
    // The keys are near the top; a detector reads the first KB of a file, never a whole one.
    const text = (await readFileHead(file, 65536)).replace(/^\uFEFF/, '');
    if (/^(names|nc)\s*:/m.test(text) && /^(train|val)\s*:/m.test(text)) return file;
  }
  return null;
}

async function importWithConfig(file: string, options: Options, ctx: Context): Promise<Dataset> {
  const config = parseYaml(file, await fsp.readFile(file, 'utf8'));
  const yamlDir = path.dirname(file);
  const root = await datasetRoot(config, yamlDir, file, ctx);
  const kptShape = readKptShape(config, file);
  const sources: Source[] = [];
  const origins = new Map<string, string>();
  const keys = Object.keys(config).filter((k) => !NON_SPLIT_KEYS.has(k));
  keys.sort((a, b) => rank(a) - rank(b));
  for (const split of keys) {
    const value = config[split];
    if (value === null || value === undefined || value === '') continue;
    const entries = Array.isArray(value) ? value : [value];
    for (const entry of entries) {
      if (typeof entry !== 'string') {
        ctx.reporter.warn({ code: 'bad-split', file, element: split, message: `split '${split}' must be a folder, a .txt list or a list of them; got ${show(entry)}` });
        continue;
      }
      const source = await resolveSource(root, split, entry, file, ctx);
      if (!source) continue;
      // `val: train.txt` (a dataset without its own val images) would import every image twice.
      const earlier = origins.get(source.origin);
      if (earlier !== undefined && earlier !== split) {
        ctx.reporter.info({ code: 'split-shares-images', file, element: split, message: `split '${split}' uses the same images as '${earlier}'; they are imported once, as '${earlier}'` });
        continue;
      }
      origins.set(source.origin, split);
      sources.push(source);
    }
  }
  if (sources.length === 0) throw new DatumError({ code: 'no-images', file, message: 'none of the splits in the YAML points at existing images' });
  const names = readNames(config, file, ctx);
  return buildDataset(root, sources, names, kptShape, config.flip_idx, options, ctx);
}

function rank(split: string): number {
  const i = (STANDARD_SPLITS as readonly string[]).indexOf(split);
  return i < 0 ? STANDARD_SPLITS.length : i;
}

/** Deeper than this a YAML is refused before parsing: the parser recurses per level and would exhaust the stack. */
const MAX_YAML_DEPTH = 100;

export function parseYaml(file: string, text: string): Record<string, unknown> {
  const { depth, line } = yamlDepth(text);
  if (depth > MAX_YAML_DEPTH) {
    throw new DatumError({ code: 'yaml-too-deep', file, line, message: `the YAML nests more than ${MAX_YAML_DEPTH} levels deep; a dataset YAML never does, so it is refused` });
  }
  let value: unknown;
  try {
    // PyYAML, which Ultralytics reads data.yaml with, lets a repeated key override the earlier one.
    // maxAliasCount: a "billion laughs" of aliases to aliases is refused instead of expanded.
    value = YAML.parse(text, { uniqueKeys: false, maxAliasCount: 100 });
  } catch (error) {
    if (/call stack/i.test(String((error as Error).message))) {
      throw new DatumError({ code: 'yaml-too-deep', file, message: 'the YAML nests too deeply to be read; refused' });
    }
    if (/alias/i.test(String((error as Error).message)) && error instanceof ReferenceError) {
      throw new DatumError({ code: 'yaml-aliases', file, message: 'the YAML expands aliases of aliases beyond any dataset YAML (a "billion laughs"); refused' });
    }
    const line = (error as { linePos?: { line: number }[] }).linePos?.[0]?.line;
    throw new DatumError({ code: 'bad-yaml', file, line, message: `not valid YAML: ${(error as Error).message.split('\n')[0]}` });
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new DatumError({ code: 'bad-yaml', file, message: 'the YAML must be a mapping with names and train/val keys' });
  return value as Record<string, unknown>;
}

/**
 * How deep a YAML nests, without parsing it: block levels by indentation (and `- ` items), flow
 * levels by brackets outside quotes; with the line of the deepest point.
 */
function yamlDepth(text: string): { depth: number; line: number } {
  let max = 0;
  let maxLine = 0;
  const indents: number[] = [];
  let flow = 0;
  forEachLine(text, (line, lineNo) => {
    let i = 0;
    while (line.charCodeAt(i) === 32) i++;
    if (i >= line.length || line[i] === '#') return;
    let indent = i;
    while (indents.length && indents[indents.length - 1] >= indent) indents.pop();
    indents.push(indent);
    // `- - - x`: each dash opens a level
    while (line[i] === '-' && line[i + 1] === ' ') { i += 2; while (line.charCodeAt(i) === 32) i++; indents.push(++indent); }
    let quote = '';
    for (; i < line.length; i++) {
      const c = line[i];
      if (quote) { if (c === quote) quote = ''; continue; }
      if (c === '"' || c === "'") quote = c;
      else if (c === '#' && line[i - 1] === ' ') break;
      else if (c === '[' || c === '{') { flow++; if (indents.length + flow > max) { max = indents.length + flow; maxLine = lineNo; } }
      else if ((c === ']' || c === '}') && flow > 0) flow--;
    }
    if (indents.length > max) { max = indents.length; maxLine = lineNo; }
  });
  return { depth: max, line: maxLine };
}

/** A YAML value for a message: short, and safe for self-referencing aliases (`&x [*x]`). */
function show(value: unknown): string {
  try {
    const text = JSON.stringify(value) ?? String(value);
    return text.length > 80 ? `${text.slice(0, 80)}...` : text;
  } catch {
    return 'a value that refers to itself';
  }
}

/**
 * `path` if it exists (relative to the YAML's folder, or absolute) inside the YAML's folder, else the
 * YAML's folder: a dataset never makes datum read outside the folder it was given.
 */
async function datasetRoot(config: Record<string, unknown>, yamlDir: string, file: string, ctx: Context): Promise<string> {
  const given = config.path;
  if (typeof given !== 'string' || given.trim() === '') return yamlDir;
  const candidate = path.resolve(yamlDir, given);
  if (!isWithin(yamlDir, candidate)) {
    ctx.reporter.warn({ code: 'path-outside', file, element: 'path', message: `dataset path '${given}' lies outside the YAML's folder, where datum does not read; using the YAML's folder as the root` });
    return yamlDir;
  }
  if (await isDirectory(candidate)) return candidate;
  ctx.reporter.warn({ code: 'path-not-found', file, element: 'path', message: `dataset path '${given}' does not exist relative to the YAML; using the YAML's folder as the root` });
  return yamlDir;
}

function readKptShape(config: Record<string, unknown>, file: string): [number, number] | null {
  const shape = config.kpt_shape;
  if (shape === undefined || shape === null) return null;
  // A keypoint count beyond MAX_CLASSES is a broken value (its kpt_<i> names would exhaust memory).
  if (!Array.isArray(shape) || shape.length !== 2 || !shape.every((v) => Number.isInteger(v) && v >= 0 && v <= MAX_CLASSES) || (shape[1] !== 2 && shape[1] !== 3)) {
    throw new DatumError({ code: 'bad-kpt-shape', file, element: 'kpt_shape', message: `kpt_shape must be [keypoints, 2 or 3]; got ${show(shape)}` });
  }
  return [shape[0], shape[1]];
}

/** `names` as a list or an index map; `nc` alone gives class_0..; null when neither is there (names come from the labels). */
function readNames(config: Record<string, unknown>, file: string, ctx: Context): string[] | null {
  const { names, nc } = config;
  let list: string[] | null = null;
  if (Array.isArray(names)) {
    list = names.map((n) => String(n));
  } else if (names && typeof names === 'object') {
    const entries = Object.entries(names as Record<string, unknown>);
    const indices = entries.map(([k]) => Number(k));
    if (indices.some((i) => !Number.isInteger(i) || i < 0 || i >= MAX_CLASSES)) {
      throw new DatumError({ code: 'bad-names', file, element: 'names', message: 'names keys must be class indices 0..n-1' });
    }
    list = Array.from({ length: Math.max(-1, ...indices) + 1 }, (_, i) => `class_${i}`);
    for (const [k, v] of entries) list[Number(k)] = String(v);
    if (entries.length !== list.length) {
      ctx.reporter.warn({ code: 'names-gap', file, element: 'names', message: `names skips some indices below ${list.length}; they are named class_<index>` });
    }
  } else if (names !== undefined && names !== null) {
    throw new DatumError({ code: 'bad-names', file, element: 'names', message: 'names must be a list or an index -> name map' });
  }
  if (nc !== undefined && nc !== null && !(typeof nc === 'number' && Number.isInteger(nc) && nc >= 0 && nc <= MAX_CLASSES)) {
    ctx.reporter.warn({ code: 'bad-nc', file, element: 'nc', message: `nc must be a class count; got ${show(nc)}; ignored` });
  } else if (typeof nc === 'number') {
    if (!list) list = Array.from({ length: nc }, (_, i) => `class_${i}`);
    else if (nc !== list.length) ctx.reporter.warn({ code: 'nc-mismatch', file, element: 'nc', message: `nc is ${nc} but names has ${list.length} entries; using names` });
  }
  return list;
}

/**
 * The images of one split entry: a folder (searched recursively), a .txt list or one image.
 * Roboflow writes `../train/images` for a `train/images` beside the YAML and `valid` for `val`, so
 * leading `../` are dropped and the usual folders are tried before giving up.
 */
async function resolveSource(root: string, split: string, entry: string, file: string, ctx: Context): Promise<Source | null> {
  const candidates: string[] = [];
  const trimmed = entry.trim().replace(/\\/g, '/');
  const inside = (rel: string) => { try { candidates.push(resolveInside(root, rel)); } catch { /* outside the root: try the next */ } };
  if (path.isAbsolute(trimmed) || /^[a-zA-Z]:\//.test(trimmed)) {
    if (path.isAbsolute(trimmed) && isWithin(root, trimmed)) candidates.push(trimmed);
    // Written on another machine: the same layout below this root, most specific first
    // (/home/u/ds/images/train -> ds/images/train, images/train; a lone last segment only if it is a file).
    const parts = trimmed.split('/').filter(Boolean);
    for (let k = 1; k < parts.length; k++) if (k < parts.length - 1 || parts[k].includes('.')) inside(parts.slice(k).join('/'));
    inside(`${split}/images`);
    inside(`images/${split}`);
  } else {
    inside(trimmed);
    const stripped = trimmed.replace(/^(\.\.?\/)+/, '');
    inside(stripped);
    for (const [a, b] of [['valid', 'val'], ['val', 'valid'], ['validation', 'val']]) {
      if (stripped.split('/').includes(a)) inside(stripped.split('/').map((p) => (p === a ? b : p)).join('/'));
    }
    inside(`${split}/images`);
    inside(`images/${split}`);
  }
  for (const candidate of candidates) {
    const stat = await fsp.stat(candidate).catch(() => null);
    if (!stat) continue;
    if (candidate !== candidates[0]) {
      ctx.reporter.info({ code: 'split-relocated', file, element: split, message: `'${entry}' does not exist; using ${toPosixRelative(root, candidate) || '.'}` });
    }
    if (stat.isDirectory()) {
      const images = await listImages(candidate, root, ctx);
      return { split, images, base: candidate, labelDirs: [path.dirname(labelPathNamed(root, path.join(candidate, 'x.jpg')))], origin: candidate };
    }
    if (candidate.toLowerCase().endsWith('.txt')) {
      const list = await readList(candidate, root, split, ctx);
      // Images listed from an images/ folder (as this plugin writes them): its labels/ twin is checked for orphans.
      const labelDir = path.dirname(labelPathNamed(root, path.join(list.base, 'x.jpg')));
      return { split, ...list, labelDirs: labelDir !== list.base ? [labelDir] : [], origin: candidate };
    }
    if (isImageFile(candidate)) return { split, images: [candidate], base: path.dirname(candidate), labelDirs: [], origin: candidate };
  }
  ctx.reporter.warn({ code: 'missing-split', file, element: split, message: `split '${split}': '${entry}' does not exist under ${root}; skipped` });
  return null;
}

/**
 * A .txt image list: `./x` is relative to the list's folder (Ultralytics' rule); other relative lines
 * are taken relative to the root, also when they start with the dataset folder's own name; absolute
 * lines must lie inside the root or are re-rooted at their last `images/`.
 */
async function readList(file: string, root: string, split: string, ctx: Context): Promise<{ images: string[]; base: string }> {
  const text = await fsp.readFile(file, 'utf8');
  const images: string[] = [];
  const listDir = path.dirname(file);
  const rootName = path.basename(root);
  const warner = lineWarner(ctx.reporter, file);
  const exists = new Map<string, boolean>();
  const isThere = (p: string) => { let e = exists.get(p); if (e === undefined) exists.set(p, e = fs.existsSync(p)); return e; };
  let byName: Map<string, string[]> | undefined;
  // A list may repeat a line a million times: each distinct line is resolved (and warned about) once.
  const resolved = new Map<string, string>();
  forEachLine(text, (raw, lineNo) => {
    const line = raw.trim().replace(/\\/g, '/');
    if (!line || line.startsWith('#')) return;
    const known = resolved.get(line);
    if (known !== undefined) { images.push(known); return; }
    const where = { file, line: lineNo };
    try {
      let image: string;
      if (line.startsWith('./')) image = resolveInside(listDir, line.slice(2), where);
      else if (path.posix.isAbsolute(line) || /^[a-zA-Z]:\//.test(line)) {
        const inRoot = path.relative(root, line);
        if (!inRoot.startsWith('..') && !path.isAbsolute(inRoot)) image = resolveInside(root, inRoot, where);
        else {
          const at = line.lastIndexOf('/images/');
          if (at < 0) throw new DatumError({ code: 'unsafe-path', ...where, message: `absolute image path '${excerpt(line)}' is outside the dataset folder` });
          image = resolveInside(root, line.slice(at + 1), where);
        }
      } else if (line.startsWith(`${rootName}/`) && !isThere(resolveInside(root, line, where))) {
        image = resolveInside(root, line.slice(rootName.length + 1), where);
      } else if (line.startsWith('data/') && !isThere(resolveInside(root, line, where))) {
        // Darknet's and CVAT's lists prefix the dataset with data/ (Datumaro strips it).
        image = resolveInside(root, line.slice('data/'.length), where);
      } else {
        image = resolveInside(root, line, where);
      }
      if (!isThere(image)) {
        // An upload that flattened the folders: the one image of that name elsewhere in the dataset.
        byName ??= indexByName(root);
        const name = path.basename(image);
        const found = byName.get(name)?.[0];
        if (found) {
          warner.warn({ line: lineNo, code: 'path-relocated', message: `image '${excerpt(line)}' is not where the list says; using ${toPosixRelative(root, found)}, the file of that name in the dataset` });
          image = found;
        }
      }
      images.push(image);
      resolved.set(line, image);
    } catch (error) {
      if (!(error instanceof DatumError)) throw error;
      warner.warn({ ...error.diagnostic, code: error.diagnostic.code, message: `${error.diagnostic.message}; line skipped` });
    }
  });
  warner.done();
  // Ids are relative to images/<split>/ when the images live there (as this plugin writes them).
  const splitDir = path.join(root, 'images', split);
  const base = images.every((p) => p.startsWith(splitDir + path.sep)) ? splitDir
    : images.every((p) => p.startsWith(path.join(root, 'images') + path.sep)) ? path.join(root, 'images') : root;
  return { images, base };
}

/** Every image file below `root` by file name (sorted paths), for list lines whose folders an upload flattened. */
function indexByName(root: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      if (e.name.startsWith('.')) continue;
      const full = path.join(dir, e.name);
      if (e.isDirectory()) walk(full);
      else if (isImageFile(e.name)) { const list = out.get(e.name); if (list) list.push(full); else out.set(e.name, [full]); }
    }
  };
  walk(root);
  return out;
}

/** The images under `dir`; one that is a symlink leading outside `root` is skipped with a warning. */
async function listImages(dir: string, root: string, ctx: Context): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string) => {
    const entries = await fsp.readdir(d, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      const full = path.join(d, e.name);
      if (e.isDirectory()) await walk(full);
      else if (isImageFile(e.name) && (!e.isSymbolicLink() || staysInside(root, full, ctx))) out.push(full);
    }
  };
  await walk(dir);
  return out;
}

/** Whether `file` stays inside `root` (no symlink leads out); if not, a warning ending in `consequence`. */
function staysInside(root: string, file: string, ctx: Context, consequence = 'image skipped'): boolean {
  try {
    resolveInside(root, toPosixRelative(root, file), { file });
    return true;
  } catch (error) {
    if (!(error instanceof DatumError)) throw error;
    ctx.reporter.warn({ ...error.diagnostic, message: `${error.diagnostic.message}; ${consequence}` });
    return false;
  }
}

/** No YAML: images/<split>/ beside labels/<split>/ (or images/ and labels/ directly, subset ''). */
async function importLayout(root: string, options: Options, ctx: Context): Promise<Dataset> {
  ctx.reporter.warn({ code: 'no-config', file: root, message: `no ${CONFIG_FILE}; class names are taken from classes.txt or obj.names if present, else class_<index>` });
  const imagesDir = resolveInside(root, 'images');
  const entries = await fsp.readdir(imagesDir, { withFileTypes: true });
  const splitDirs = entries.filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name).sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  const looseImages = entries.some((e) => e.isFile() && isImageFile(e.name));
  const sources: Source[] = [];
  if (looseImages || splitDirs.length === 0) {
    const images = await listImages(imagesDir, root, ctx);
    // No split folders: the images are Ultralytics' train split (no item has the subset '').
    sources.push({ split: 'train', images, base: imagesDir, labelDirs: [resolveInside(root, 'labels')], origin: imagesDir });
  } else {
    for (const split of splitDirs) {
      const dir = resolveInside(imagesDir, split);
      sources.push({ split, images: await listImages(dir, root, ctx), base: dir, labelDirs: [resolveInside(root, `labels/${split}`)], origin: dir });
    }
  }
  // Label tools (and Datumaro's loose YOLO layout) keep the class names in classes.txt or obj.names.
  const classesFile = ['classes.txt', 'obj.names'].map((n) => resolveInside(root, n)).find((f) => fs.existsSync(f));
  const names = classesFile
    ? readLines(await fsp.readFile(classesFile, 'utf8')).map((l) => l.trim()).filter(Boolean)
    : null;
  return buildDataset(root, sources, names, null, undefined, options, ctx);
}

/** Reads the labels of every source's images, decides the task, probes image sizes and builds items. */
async function buildDataset(root: string, sources: Source[], givenNames: string[] | null, kptShape: [number, number] | null, flipIdx: unknown, options: Options, ctx: Context): Promise<Dataset> {
  const pending: PendingItem[] = [];
  const seen = new Set<string>();
  const imageSet = new Set<string>();
  let missingLabels = 0;
  let duplicates = 0;
  const idOf = (base: string, image: string) => {
    const rel = toPosixRelative(base, image);
    return rel.slice(0, rel.length - path.extname(rel).length);
  };
  const repeated = (split: string, image: string, id: string) => {
    // A list naming one image a million times must not make a million warnings.
    if (++duplicates <= LINE_WARNINGS_PER_FILE) ctx.reporter.warn({ code: 'duplicate-item', file: image, item: `${split}/${id}`, message: 'the same image id appears twice in this split; the second is skipped' });
  };
  for (const source of sources) {
    const inSource = new Set<string>();
    for (const image of source.images) {
      // The same file twice in one split is the same item: skipped before any path work.
      if (inSource.has(image)) { repeated(source.split, image, duplicates < LINE_WARNINGS_PER_FILE ? idOf(source.base, image) : ''); continue; }
      inSource.add(image);
      let id = idOf(source.base, image);
      // `train: [a/images, b/images]` may hold a/images/1.jpg and b/images/1.jpg: both are kept, the
      // second under its path from the dataset root.
      if (seen.has(`${source.split}\0${id}`) && !imageSet.has(image)) {
        const fromRoot = idOf(root, image);
        if (!fromRoot.startsWith('../')) id = fromRoot;
      }
      const key = `${source.split}\0${id}`;
      if (seen.has(key)) { repeated(source.split, image, id); continue; }
      seen.add(key);
      imageSet.add(image);
      const labelFile = await findLabelFile(root, image, ctx);
      if (!labelFile) missingLabels++;
      pending.push({ item: { id, subset: source.split, image: { path: image }, annotations: [] }, rows: [], labelFile });
    }
  }
  if (duplicates > LINE_WARNINGS_PER_FILE) ctx.reporter.warn({ code: 'duplicate-item', message: `${duplicates - LINE_WARNINGS_PER_FILE} more repeated images skipped (not listed)` });
  if (missingLabels) ctx.reporter.info({ code: 'no-label-file', message: `${missingLabels} image(s) have no label file (background images)` });
  await reportOrphanLabels(root, sources, imageSet, ctx);

  // Read all label files (bounded concurrency) before deciding how to read 9-value rows.
  const texts = new Map<PendingItem, string>();
  await forEachLimit(pending.filter((p) => p.labelFile), 32, async (p) => {
    try {
      texts.set(p, await fsp.readFile(p.labelFile!, 'utf8'));
    } catch (error) {
      ctx.reporter.warn({ code: 'unreadable-label', file: p.labelFile, message: `label file cannot be read (${(error as NodeJS.ErrnoException).code ?? error}); the image is imported without labels` });
    }
  });
  const task = decideTask(options.task as Task | undefined, kptShape, texts);

  const names = givenNames ? [...givenNames] : [];
  const extraNames = !givenNames;
  for (const p of pending) {
    const text = texts.get(p);
    if (text !== undefined) p.rows = parseLabelFile(text, p.labelFile!, task, kptShape, names, extraNames, ctx);
  }
  if (extraNames) {
    let maxClass = -1; // a loop, not Math.max(...rows): spreading 100k values overflows the stack
    for (const p of pending) for (const r of p.rows) if (r.cls > maxClass) maxClass = r.cls;
    for (let i = names.length; i <= maxClass; i++) names.push(`class_${i}`);
  }

  const items = pending.map((p) => p.item);
  const unreadable = await probeItemSizes(items, 32, (done, total) => ctx.progress('reading image sizes', done, total));
  for (const item of unreadable) {
    const exists = fs.existsSync(item.image!.path);
    ctx.reporter.warn({ code: exists ? 'unreadable-image' : 'missing-image', file: item.image!.path, item: `${item.subset}/${item.id}`,
      message: `${exists ? 'image cannot be read' : 'image is listed but missing'}; its labels stay normalized to [0, 1]` });
  }
  for (const p of pending) toAnnotations(p, task, kptShape);

  const categories: Category[] = names.map((name) => ({ name }));
  if (kptShape) {
    const keypoints = Array.from({ length: kptShape[0] }, (_, i) => `kpt_${i}`);
    const extra = Array.isArray(flipIdx) && flipIdx.length === kptShape[0] ? { flip_idx: flipIdx.join(',') } : undefined;
    for (const c of categories) { c.keypoints = keypoints; if (extra) c.extra = extra; }
  }
  return { categories, items };
}

/**
 * Ultralytics' label path rule (last /images/ -> /labels/) applied below the dataset root, so that a
 * root lying inside some `.../images/...` folder never sends the lookup outside the dataset. Images
 * outside the root (absolute split entries) get the rule on their full path.
 */
function labelPathIn(root: string, image: string, folder = 'labels'): string {
  const named = labelPathNamed(root, image, folder);
  return named.startsWith(root + path.sep) ? resolveInside(root, toPosixRelative(root, named)) : named;
}

/** `labelPathIn` without the symlink check, for paths that are only compared, or checked before reading. */
function labelPathNamed(root: string, image: string, folder = 'labels'): string {
  const rel = toPosixRelative(root, image);
  if (rel === '..' || rel.startsWith('../') || path.isAbsolute(rel)) return labelPathFor(image, folder);
  return path.join(root, labelPathFor(`/${rel}`, folder).slice(1));
}

async function findLabelFile(root: string, image: string, ctx: Context): Promise<string | undefined> {
  try {
    // Roboflow's and DOTA's OBB exports keep labels in labelTxt/ beside images/.
    return [labelPathIn(root, image), labelPathIn(root, image, 'labelTxt')].find((f) => fs.existsSync(f));
  } catch (error) {
    // A label path that leads outside (a symlink) is not read: the image stays without labels.
    if (!(error instanceof DatumError)) throw error;
    ctx.reporter.warn({ ...error.diagnostic, message: `${error.diagnostic.message}; the image is imported without labels` });
    return undefined;
  }
}

/** Label files in a source's labels folder with no image, and Ultralytics' .cache files: reported, not read. */
async function reportOrphanLabels(root: string, sources: Source[], images: Set<string>, ctx: Context): Promise<void> {
  const expected = new Set([...images].map((image) => labelPathNamed(root, image)));
  for (const dir of new Set(sources.flatMap((s) => s.labelDirs))) {
    // Ultralytics caches labels/<split>/ as labels/<split>.cache.
    const cache = `${dir}.cache`;
    if (fs.existsSync(cache)) ctx.reporter.info({ code: 'cache-ignored', file: cache, message: 'Ultralytics label cache ignored (labels are read from the .txt files)' });
    if (!(await isDirectory(dir)) || !staysInside(root, dir, ctx, 'its label files are not read')) continue;
    const walk = async (d: string) => {
      for (const e of await fsp.readdir(d, { withFileTypes: true })) {
        const full = path.join(d, e.name);
        if (e.isDirectory()) await walk(full);
        else if (e.name.toLowerCase().endsWith('.txt') && !expected.has(full.replace(/\\/g, '/'))) {
          ctx.reporter.warn({ code: 'label-without-image', file: full, message: 'label file has no matching image; not imported' });
        } else if (e.name.endsWith('.cache')) {
          ctx.reporter.info({ code: 'cache-ignored', file: full, message: 'Ultralytics label cache ignored' });
        }
      }
    };
    await walk(dir);
  }
}

/** --task, else kpt_shape -> pose, else 9-value rows everywhere -> obb (else they are 4-point polygons). */
function decideTask(given: Task | undefined, kptShape: [number, number] | null, texts: Map<PendingItem, string>): Task {
  if (given) return given;
  if (kptShape) return 'pose';
  let nine = 0;
  let other = 0;
  for (const text of texts.values()) {
    forEachLine(text, (line) => {
      const n = fieldCount(line);
      if (n === 9) nine++;
      else if (n > 0) other++;
    });
  }
  return nine > 0 && other === 0 ? 'obb' : 'detect';
}

/**
 * The rows of one label file. Bad rows (wrong count, unknown class, values beyond [0, 1] by more than
 * 0.01, not numbers) are reported with file and line and skipped; the rest of the file is kept.
 */
function parseLabelFile(text: string, file: string, task: Task, kptShape: [number, number] | null, names: string[], growNames: boolean, ctx: Context): Row[] {
  const rows: Row[] = [];
  const warner = lineWarner(ctx.reporter, file);
  const bad = (line: number, code: string, message: string) => warner.warn({ code, line, message: `${message}; line skipped` });
  const isDota = /[\\/]labelTxt[\\/]/.test(file);
  forEachLine(text, (raw, lineNo) => {
    const tokens = splitFields(raw);
    if (tokens.length === 0) return;
    if (isDota) {
      const known = names.length;
      const row = parseDotaRow(tokens, names, growNames);
      if (typeof row === 'string') { if (row) bad(lineNo, 'bad-label-line', row); return; }
      if (names.length > known && !growNames) {
        warner.warn({ code: 'new-class', line: lineNo, message: `class '${excerpt(tokens[8])}' is not in names; added as class ${names.length - 1}` });
      }
      rows.push({ line: lineNo, ...row, pixels: true });
      return;
    }
    const numbers = tokens.map(toNumber);
    if (numbers.some((n) => !Number.isFinite(n))) return bad(lineNo, 'bad-label-line', `not all values are numbers: '${excerpt(raw)}'`);
    const [cls, ...values] = numbers;
    if (!Number.isInteger(cls) || cls < 0 || cls >= (growNames ? MAX_CLASSES : names.length)) {
      return bad(lineNo, 'unknown-class', growNames ? `class ${excerpt(tokens[0])} is not a class index (0..${MAX_CLASSES - 1})` : `class ${excerpt(tokens[0])} is not an index of names (0..${names.length - 1})`);
    }
    const expected = expectedCount(task, kptShape, values.length);
    if (expected !== true) return bad(lineNo, 'bad-label-line', `${tokens.length} values; ${expected}`);
    const coords = task === 'pose' && kptShape ? poseCoordinates(values, kptShape[1]) : values;
    if (coords.some((v) => v < -TOLERANCE || v > 1 + TOLERANCE)) {
      return bad(lineNo, 'coordinate-out-of-range', 'a coordinate is outside [0, 1] (normalized)');
    }
    rows.push({ line: lineNo, cls, values });
  });
  warner.done();
  return rows;
}

/** true, or what a row of this task should look like. */
function expectedCount(task: Task, kptShape: [number, number] | null, n: number): true | string {
  if (task === 'pose' && kptShape) return n === 4 + kptShape[0] * kptShape[1] || `pose rows need ${5 + kptShape[0] * kptShape[1]} (class, box, ${kptShape[0]} x ${kptShape[1]} keypoint values)`;
  if (task === 'obb') return n === 8 || 'obb rows need 9 (class and 4 corners)';
  if (n === 4) return true;
  return (n >= 6 && n % 2 === 0) || 'expected 5 (class cx cy w h) or an odd count >= 7 (class and polygon x y pairs)';
}

/** The values of a pose row that are coordinates (the box and keypoint x, y; not the visibility flags). */
function poseCoordinates(values: number[], dims: number): number[] {
  const out = values.slice(0, 4);
  for (let i = 4; i + 1 < values.length; i += dims) out.push(values[i], values[i + 1]);
  return out;
}

/** DOTA `x1 y1 .. x4 y4 class_name [difficulty]` in pixels; header lines (imagesource:, gsd:) give ''. */
function parseDotaRow(tokens: string[], names: string[], growNames: boolean): { cls: number; values: number[]; difficult: boolean } | string {
  if (/^(imagesource|gsd):/i.test(tokens[0])) return '';
  if (tokens.length < 9 || tokens.length > 10) return `DOTA rows need 8 corner values, a class name and an optional difficulty; got ${tokens.length} values`;
  const values = tokens.slice(0, 8).map(Number);
  if (values.some((v) => !Number.isFinite(v))) return 'corner values are not numbers';
  let cls = names.indexOf(tokens[8]);
  if (cls < 0) {
    if (!growNames && /^\d+$/.test(tokens[8]) && Number(tokens[8]) < names.length) cls = Number(tokens[8]);
    else { names.push(tokens[8]); cls = names.length - 1; }
  }
  return { cls, values, difficult: tokens[9] === '1' };
}

/** Turns an item's rows into model annotations, in pixels when the image size is known. */
function toAnnotations(p: PendingItem, task: Task, kptShape: [number, number] | null): void {
  const { item } = p;
  const size = item.image?.width && item.image.height ? { w: item.image.width, h: item.image.height } : null;
  if (!size && p.rows.some((r) => !r.pixels)) item.normalized = true;
  const sx = (v: number) => clampEdge(v) * (size?.w ?? 1);
  const sy = (v: number) => clampEdge(v) * (size?.h ?? 1);
  let group = 0;
  for (const row of p.rows) {
    const v = row.values;
    if (row.pixels || task === 'obb') {
      const corners = row.pixels ? v : v.map((c, i) => (i % 2 ? sy(c) : sx(c)));
      item.annotations.push({ type: 'bbox', label: row.cls, ...rightAngleBox(boxFromCorners(corners)), ...(row.difficult ? { attributes: { difficult: true } } : {}) });
    } else if (v.length === 4 || (task === 'pose' && kptShape)) {
      const [cx, cy, w, h] = v;
      const x0 = sx(cx - w / 2), y0 = sy(cy - h / 2), x1 = sx(cx + w / 2), y1 = sy(cy + h / 2);
      const box: Annotation = { type: 'bbox', label: row.cls, x: x0, y: y0, w: x1 - x0, h: y1 - y0 };
      if (task !== 'pose' || !kptShape) { item.annotations.push(box); continue; }
      group++;
      const [k, dims] = kptShape;
      const points: number[] = [];
      const visibility: Visibility[] = [];
      for (let j = 0; j < k; j++) {
        const x = v[4 + j * dims], y = v[5 + j * dims];
        const flag = dims === 3 ? Math.round(v[6 + j * dims]) : x === 0 && y === 0 ? 0 : 2;
        const vis = (flag <= 0 ? 0 : flag >= 2 ? 2 : 1) as Visibility;
        visibility.push(vis);
        points.push(vis ? sx(x) : 0, vis ? sy(y) : 0);
      }
      item.annotations.push({ ...box, group }, { type: 'skeleton', label: row.cls, group, points, visibility });
    } else {
      item.annotations.push({ type: 'polygon', label: row.cls, points: v.map((c, i) => (i % 2 ? sy(c) : sx(c))) });
    }
  }
}

/** A box rotated by a multiple of 90 degrees is an axis-aligned box (with w and h swapped for 90/270). */
function rightAngleBox(box: { x: number; y: number; w: number; h: number; rotation: number }): { x: number; y: number; w: number; h: number; rotation?: number } {
  const quarter = box.rotation / 90;
  const k = Math.round(quarter);
  if (Math.abs(quarter - k) > 1e-9) return box;
  if (k % 2 === 0) return { x: box.x, y: box.y, w: box.w, h: box.h };
  const cx = box.x + box.w / 2, cy = box.y + box.h / 2;
  return { x: cx - box.h / 2, y: cy - box.w / 2, w: box.h, h: box.w };
}

async function forEachLimit<T>(list: T[], limit: number, fn: (x: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => { while (next < list.length) await fn(list[next++]); };
  await Promise.all(Array.from({ length: Math.min(limit, list.length) }, worker));
}

/** Classification layout: <root>/<split>/<class>/<images>; returns the split folders or null. */
export async function classificationSplits(root: string): Promise<string[] | null> {
  const splits = (await fsp.readdir(root, { withFileTypes: true }).catch(() => [])).filter((e) => e.isDirectory() && !e.name.startsWith('.'));
  const found: string[] = [];
  for (const split of splits) {
    if (split.name === 'images' || split.name === 'labels') return null;
    const splitDir = resolveInside(root, split.name);
    const classes = (await fsp.readdir(splitDir, { withFileTypes: true })).filter((e) => !e.name.startsWith('.'));
    if (classes.length === 0 || classes.some((e) => !e.isDirectory())) continue;
    // At least one class folder must hold images directly (VOC's ImageSets/Main holds lists).
    for (const c of classes) {
      const files = await fsp.readdir(path.join(splitDir, c.name)).catch(() => [] as string[]);
      if (files.some(isImageFile)) { found.push(split.name); break; }
    }
  }
  // Ultralytics' classification trainer needs `train/` (check_cls_dataset): without it, a folder of
  // folders of images (a parent of datasets, a temp folder) is not a classification dataset.
  return found.includes('train') ? found : null;
}

/** Classes are the class folders of all splits in alphabetical order (Ultralytics' class index). */
async function importClassification(root: string, ctx: Context): Promise<Dataset> {
  const splits = (await classificationSplits(root))!;
  const classSet = new Set<string>();
  for (const split of splits) {
    for (const e of await fsp.readdir(resolveInside(root, split), { withFileTypes: true })) if (e.isDirectory() && !e.name.startsWith('.')) classSet.add(e.name);
  }
  const classes = [...classSet].sort();
  const items: Item[] = [];
  for (const split of splits) {
    const seen = new Set<string>();
    for (const [label, name] of classes.entries()) {
      const dir = resolveInside(root, `${split}/${name}`);
      if (!(await isDirectory(dir))) continue;
      for (const image of await listImages(dir, root, ctx)) {
        const rel = toPosixRelative(dir, image);
        let id = rel.slice(0, rel.length - path.extname(rel).length);
        if (seen.has(id)) {
          ctx.reporter.warn({ code: 'duplicate-item', file: image, item: `${split}/${id}`, message: `an image named '${id}' is in another class too; this one gets the id '${name}/${id}'` });
          id = `${name}/${id}`;
        }
        seen.add(id);
        items.push({ id, subset: split, image: { path: image }, annotations: [{ type: 'label', label }] });
      }
    }
  }
  await probeItemSizes(items, 32, (done, total) => ctx.progress('reading image sizes', done, total));
  return { categories: classes.map((name) => ({ name })), items };
}

/** Whether `target` is `dir` or lies below it. */
function isWithin(dir: string, target: string): boolean {
  const rel = path.relative(dir, target);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}
