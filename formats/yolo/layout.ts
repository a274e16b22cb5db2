/**
 * Finds what a YOLO folder holds: its names file and one entry per item (id, subset, image, label
 * file). Reading the labels themselves is the importer's job.
 *
 * Layouts, tried in this order (Datumaro's order):
 *   strict       obj.data + <subset>.txt lists + obj_<subset>_data/ (images and labels side by side)
 *   annotations  obj.names + [Aa]nnotations/[<subset>/]*.txt + [Ii]mages/[<subset>/]*.jpg
 *   labels       obj.names + [Ll]abels/[<subset>/]*.txt + [Ii]mages/[<subset>/]*.jpg
 *   root         obj.names + *.txt beside the images, at the root or in <subset>/ folders
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Context } from '../../src/plugin.js';
import { DatumError } from '../../src/diagnostics.js';
import { readFileHead } from '../../src/files.js';
import { isSafeRelative, resolveInside, stripExtension, toPosixRelative } from '../../src/paths.js';
import { excerpt, forEachLine, lineWarner, splitFields } from '../../src/text.js';
import { CONFIG_FILE, DEFAULT_SUBSET, NAMES_FILE, PATH_PREFIX, NON_SUBSET_KEYS, idFromListPath, isImageFile, labelsFolderPath, localizePath, parseConfig } from './format.js';

export type LayoutKind = 'strict' | 'annotations' | 'labels' | 'root';

export interface Entry {
  id: string;
  subset: string;
  /** Absolute image path; undefined when a loose layout has a label file but no image for it. */
  image?: string;
  /** Absolute label file path; it may not exist (strict lists name images, not labels). */
  label?: string;
  /** Where Darknet also looks when `label` is missing: the image's `images`/`JPEGImages` folder renamed `labels`. */
  altLabel?: string;
}

export interface Layout {
  kind: LayoutKind;
  root: string;
  namesFile: string;
  configFile?: string;
  /** `classes = N` from the config, with its line, to check against the names file. */
  declaredClasses?: { value: string; line: number };
  entries: Entry[];
}

export interface Location {
  root: string;
  /** The Darknet config (obj.data, or coco.data and the like); absent for the loose layouts. */
  configFile?: string;
}

/**
 * Where the dataset is, for an input that may be its folder, its config or its obj.names. The config
 * is the given *.data file, else obj.data, else the one *.data file with a `names` key (Darknet's
 * own examples are coco.data, voc.data).
 */
export async function locate(input: string): Promise<Location> {
  const full = path.resolve(input);
  const stat = await fsp.stat(full);
  const root = stat.isDirectory() ? full : path.dirname(full);
  if (!stat.isDirectory() && full.endsWith('.data')) return { root, configFile: full };
  // Darknet's own tree keeps obj.data in data/ with paths `data/...` relative to the folder above it.
  for (const rel of [CONFIG_FILE, PATH_PREFIX + CONFIG_FILE]) {
    const file = resolveInside(root, rel);
    if (fs.existsSync(file)) return { root, configFile: file };
  }
  for (const name of (await fsp.readdir(root)).filter((n) => n.endsWith('.data')).sort()) {
    const file = resolveInside(root, name);
    if (parseConfig(await readFileHead(file)).has('names')) return { root, configFile: file };
  }
  return { root };
}

export async function findLayout({ root, configFile }: Location, ctx: Context): Promise<Layout> {
  if (configFile) return strictLayout(root, configFile, ctx);
  const namesFile = resolveInside(root, NAMES_FILE);
  if (!fs.existsSync(namesFile)) {
    throw new DatumError({ code: 'names-missing', file: root, message: `neither ${CONFIG_FILE} nor ${NAMES_FILE} found; not a YOLO dataset` });
  }
  const annotations = firstExisting(root, ['Annotations', 'annotations']);
  const labels = firstExisting(root, ['labels', 'Labels']);
  const images = firstExisting(root, ['images', 'Images']);
  if (annotations) return looseLayout('annotations', root, namesFile, annotations, images, ctx);
  if (labels) return looseLayout('labels', root, namesFile, labels, images, ctx);
  return looseLayout('root', root, namesFile, root, root, ctx);
}

async function strictLayout(root: string, configFile: string, ctx: Context): Promise<Layout> {
  const config = parseConfig(await fsp.readFile(configFile, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new DatumError({ code: 'config-unreadable', file: configFile, message: `cannot read the Darknet config (${error.code ?? error.message})` });
  }));
  // Every file of the dataset once, so that each list line is looked up in memory, not on disk.
  const files = new DatasetFiles(root, await walk(root, true));
  const configPath = (key: string): string | undefined => {
    const entry = config.get(key);
    if (!entry) return undefined;
    const found = files.find(entry.value);
    if (found?.how === 'rerooted') ctx.reporter.warn({ code: 'path-rerooted', file: configFile, line: entry.line, message: `'${entry.value}' is outside the dataset folder; using ${found.rel}` });
    if (found?.how === 'by-name') ctx.reporter.warn({ code: 'path-relocated', file: configFile, line: entry.line, message: `'${entry.value}' not found there; using ${found.rel}, the file of that name in the dataset` });
    // Not found: the path as Datumaro reads it, so that what is wrong with it is reported naming it.
    const rel = found?.rel ?? (isSafeRelative(localizePath(entry.value)) ? localizePath(entry.value) : undefined);
    return rel === undefined ? undefined : resolveInside(root, rel, { file: configFile });
  };

  const namesEntry = config.get('names');
  const defaultNames = resolveInside(root, NAMES_FILE);
  let namesFile = configPath('names') ?? defaultNames;
  if (!fs.existsSync(namesFile) && fs.existsSync(defaultNames)) {
    ctx.reporter.warn({ code: 'names-missing', file: configFile, line: namesEntry?.line, message: `names file ${namesEntry?.value} not found; using ${NAMES_FILE}` });
    namesFile = defaultNames;
  }
  if (!fs.existsSync(namesFile)) {
    throw new DatumError({ code: 'names-missing', file: configFile, line: namesEntry?.line, message: `label names file not found (${namesEntry?.value ?? NAMES_FILE})` });
  }

  const lists = new Map<string, { subset: string; file: string; line: number; value: string }>();
  for (const [subset, { value, line }] of config) {
    if (NON_SUBSET_KEYS.has(subset)) continue;
    let listFile: string | undefined;
    try {
      listFile = configPath(subset);
    } catch (error) {
      // A list that leads outside the dataset (a symlink, ../) is not read: that subset is skipped.
      if (!(error instanceof DatumError)) throw error;
      ctx.reporter.warn({ ...error.diagnostic, file: configFile, line, message: `${error.diagnostic.message}; subset '${subset}' skipped` });
      continue;
    }
    if (listFile) files.exclude(listFile);
    lists.set(subset, { subset, file: listFile ?? '', line, value });
  }
  const entries: Entry[] = [];
  for (const { subset, file: listFile, line, value } of lists.values()) {
    const text = listFile ? await fsp.readFile(listFile, 'utf8').catch(() => null) : null;
    if (text === null) {
      ctx.reporter.warn({ code: 'subset-list-missing', file: configFile, line, message: `image list '${value}' of subset '${subset}' not found; subset skipped` });
      continue;
    }
    entries.push(...readImageList(root, subset, listFile, text, files, ctx));
  }
  return { kind: 'strict', root, namesFile, configFile, declaredClasses: config.get('classes'), entries };
}

function readImageList(root: string, subset: string, listFile: string, text: string, files: DatasetFiles, ctx: Context): Entry[] {
  const entries: Entry[] = [];
  const seen = new Set<string>();
  const rerooted: number[] = [];
  const warner = lineWarner(ctx.reporter, listFile);
  // A list may repeat a line a million times: each distinct line is looked up once.
  const lookups = new Map<string, { listed: string; found: ReturnType<DatasetFiles['find']> }>();
  forEachLine(text, (raw, lineNo) => {
    if (!raw.trim()) return;
    const line = { line: lineNo };
    let lookup = lookups.get(raw);
    if (!lookup) lookups.set(raw, lookup = { listed: localizePath(raw), found: files.find(raw) });
    const { listed, found } = lookup;
    if (!found && !isSafeRelative(listed)) {
      warner.warn({ ...line, code: 'unsafe-path', message: `image path '${excerpt(raw)}' points outside the dataset folder and no part of it exists inside; item skipped` });
      return;
    }
    const rel = found?.rel ?? listed;
    if (found?.how === 'rerooted') rerooted.push(lineNo);
    const id = idFromListPath(found?.how === 'rerooted' ? rel : listed);
    if (seen.has(id)) {
      warner.warn({ ...line, code: 'duplicate-item', item: id, message: `item '${id}' is listed twice in subset '${subset}'; the repeat is skipped` });
      return;
    }
    seen.add(id);
    if (found?.how === 'by-name') {
      warner.warn({ ...line, code: 'path-relocated', item: id, message: `image '${excerpt(raw)}' is not where the list says; using ${rel}, the file of that name in the dataset` });
    }
    let image: string;
    try {
      image = resolveInside(root, rel, { file: listFile });
    } catch (error) {
      if (!(error instanceof DatumError)) throw error;
      warner.warn({ ...error.diagnostic, ...line, message: `${error.diagnostic.message}; item skipped` });
      return;
    }
    // The label beside the image, else Darknet's labels/ twin, else (a flattened upload) the one label file of that name.
    let label = stripExtension(rel) + '.txt';
    const alt = labelsFolderPath(rel);
    if (!files.has(label) && !(alt && files.has(alt))) {
      const byName = files.byName(stripExtension(rel.slice(rel.lastIndexOf('/') + 1)) + '.txt', label);
      if (byName) {
        warner.warn({ ...line, code: 'path-relocated', item: id, message: `label file ${label} not found; using ${byName}, the file of that name in the dataset` });
        label = byName;
      }
    }
    // A label path leading outside (a symlink) is not read: the item keeps no boxes.
    const inside = (rel: string) => { try { return resolveInside(root, rel, { file: listFile }); } catch (error) {
      if (!(error instanceof DatumError)) throw error;
      warner.warn({ ...error.diagnostic, ...line, item: id, message: `${error.diagnostic.message}; not read` });
      return undefined;
    } };
    const labelFile = inside(label);
    const altLabel = alt ? inside(alt) : undefined;
    entries.push({ id, subset, image, ...(labelFile ? { label: labelFile } : {}), ...(altLabel ? { altLabel } : {}) });
  });
  warner.done();
  if (rerooted.length) {
    ctx.reporter.warn({ file: listFile, line: rerooted[0], code: 'path-rerooted', message: `${rerooted.length} image path(s) point outside the dataset folder (absolute paths of another machine?); read from the part of each path that exists inside it` });
  }
  return entries;
}

/** No path longer than this exists (PATH_MAX): longer tails of a list line are not looked up. */
const MAX_PATH = 4096;

/** The files of a dataset (relative '/' paths), to resolve the paths an obj.data or image list gives. */
class DatasetFiles {
  private readonly all: Set<string>;
  private names?: Map<string, string[]>;
  constructor(readonly root: string, files: string[]) { this.all = new Set(files); }

  has(rel: string): boolean { return this.all.has(rel); }

  /** A list file is never taken for an image's label file. */
  exclude(file: string): void { this.all.delete(toPosixRelative(this.root, file)); this.names = undefined; }

  /**
   * Where a path from obj.data or a list is: as Datumaro reads it (`data/` stripped), as Darknet does
   * (relative to the folder holding `data/`), for an absolute or outside path its longest tail inside,
   * else (an upload that flattened the folders) the file of the same name elsewhere in the dataset.
   */
  find(raw: string): { rel: string; how: 'as-listed' | 'rerooted' | 'by-name' } | undefined {
    const listed = localizePath(raw);
    const safe = isSafeRelative(listed);
    if (safe && this.all.has(listed)) return { rel: listed, how: 'as-listed' };
    const darknet = path.posix.normalize(raw.trim().replace(/\\/g, '/'));
    if (darknet !== listed && isSafeRelative(darknet) && this.all.has(darknet)) return { rel: darknet, how: 'as-listed' };
    if (!safe) {
      const tail = this.existingTail(listed);
      if (tail !== undefined) return { rel: tail, how: 'rerooted' };
    }
    const byName = this.byName(listed.slice(listed.lastIndexOf('/') + 1), listed);
    return byName === undefined ? undefined : { rel: byName, how: 'by-name' };
  }

  /**
   * Lists written by Darknet scripts often hold absolute paths of the machine that made them
   * (/home/me/darknet/data/obj/1.jpg): the longest tail of such a path that exists in the dataset stands in for it.
   */
  private existingTail(localized: string): string | undefined {
    const p = localized.replace(/^[a-zA-Z]:/, '');
    for (let at = p.indexOf('/'); at >= 0; at = p.indexOf('/', at + 1)) {
      if (p.length - at - 1 > MAX_PATH) continue;
      const tail = path.posix.normalize(p.slice(at + 1));
      if (isSafeRelative(tail) && this.all.has(tail)) return tail;
    }
    return undefined;
  }

  /** The dataset's file called `name`; of several, the one sharing the longest end of `like`'s path. */
  byName(name: string, like: string): string | undefined {
    if (!name || name.length > MAX_PATH) return undefined;
    if (!this.names) {
      this.names = new Map();
      for (const rel of this.all) {
        const base = rel.slice(rel.lastIndexOf('/') + 1);
        const list = this.names.get(base);
        if (list) list.push(rel); else this.names.set(base, [rel]);
      }
    }
    const found = this.names.get(name);
    if (!found) return undefined;
    const wanted = like.split('/').reverse();
    const shared = (rel: string) => { const parts = rel.split('/').reverse(); let k = 0; while (k < parts.length && parts[k] === wanted[k]) k++; return k; };
    return [...found].sort().reduce((best, rel) => (shared(rel) > shared(best) ? rel : best));
  }
}

async function looseLayout(kind: LayoutKind, root: string, namesFile: string, labelsDir: string, imagesDir: string | undefined, ctx: Context): Promise<Layout> {
  const labelFiles = (await walk(labelsDir)).filter((f) => f.toLowerCase().endsWith('.txt'));
  const imageFiles = imagesDir ? (await walk(imagesDir)).filter(isImageFile) : [];

  // Relative path without extension -> file, for images and labels alike.
  const images = new Map<string, string>();
  for (const rel of imageFiles) {
    const stem = stripExtension(rel);
    const other = images.get(stem);
    if (other) {
      ctx.reporter.warn({ code: 'duplicate-item', file: path.join(imagesDir!, rel), item: stem, message: `two images for one item (${other} and ${rel}); using ${other}` });
      continue;
    }
    images.set(stem, rel);
  }
  const labels = new Map<string, string>();
  for (const rel of labelFiles) {
    const stem = stripExtension(rel);
    const file = resolveInside(labelsDir, rel);
    // A README.txt, classes.txt or image list is not a label file; only files with an image of the same name or label-like content are.
    if (!images.has(stem) && !(await looksLikeLabels(file))) {
      ctx.reporter.info({ code: 'not-a-label-file', file, message: 'text file without an image and without label lines; ignored' });
      continue;
    }
    labels.set(stem, file);
  }

  const stems = [...new Set([...images.keys(), ...labels.keys()])].sort();
  const entries = stems.map((stem): Entry => {
    const slash = stem.indexOf('/');
    const image = images.get(stem);
    return {
      // Darknet has no unnamed subset: items outside subset folders are `train` (Datumaro's default).
      subset: slash < 0 ? DEFAULT_SUBSET : stem.slice(0, slash),
      id: slash < 0 ? stem : stem.slice(slash + 1),
      image: image === undefined ? undefined : resolveInside(imagesDir!, image),
      label: labels.get(stem),
    };
  });
  return { kind, root, namesFile, entries };
}

/** True when the first non-blank line has 5 numeric fields, or the file is empty. */
async function looksLikeLabels(file: string): Promise<boolean> {
  let first: string | undefined;
  forEachLine(await readFileHead(file), (line) => { if (first === undefined && line.trim()) first = line; });
  if (first === undefined) return true;
  const fields = splitFields(first);
  return fields.length === 5 && fields.every((f) => Number.isFinite(Number(f)));
}

function firstExisting(root: string, names: string[]): string | undefined {
  return names.map((n) => resolveInside(root, n)).find((p) => fs.statSync(p, { throwIfNoEntry: false })?.isDirectory());
}

/** Every file under `dir` (and, with `links`, every symlink: resolveInside judges where they lead), as sorted '/'-separated paths relative to it. */
async function walk(dir: string, links = false): Promise<string[]> {
  const out: string[] = [];
  const visit = async (rel: string) => {
    const entries = await fsp.readdir(path.join(dir, rel), { withFileTypes: true });
    for (const e of entries) {
      const child = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) await visit(child);
      else if (e.isFile() || (links && e.isSymbolicLink())) out.push(child);
    }
  };
  await visit('');
  return out.sort();
}
