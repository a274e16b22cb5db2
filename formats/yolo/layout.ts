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
import { isSafeRelative, resolveInside, stripExtension } from '../../src/paths.js';
import { CONFIG_FILE, NAMES_FILE, NON_SUBSET_KEYS, idFromListPath, isImageFile, labelsFolderPath, localizePath, parseConfig } from './format.js';

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
  if (fs.existsSync(path.join(root, CONFIG_FILE))) return { root, configFile: path.join(root, CONFIG_FILE) };
  for (const name of (await fsp.readdir(root)).filter((n) => n.endsWith('.data')).sort()) {
    const file = path.join(root, name);
    if (parseConfig(await readFileHead(file)).has('names')) return { root, configFile: file };
  }
  return { root };
}

export async function findLayout({ root, configFile }: Location, ctx: Context): Promise<Layout> {
  if (configFile) return strictLayout(root, configFile, ctx);
  const namesFile = path.join(root, NAMES_FILE);
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
  const configPath = (key: string): string | undefined => {
    const entry = config.get(key);
    if (!entry) return undefined;
    const found = datasetPath(root, entry.value);
    if (found?.rerooted) ctx.reporter.warn({ code: 'path-rerooted', file: configFile, line: entry.line, message: `'${entry.value}' is outside the dataset folder; using ${found.rel}` });
    return found && resolveInside(root, found.rel, { file: configFile });
  };

  const namesEntry = config.get('names');
  let namesFile = configPath('names') ?? path.join(root, NAMES_FILE);
  if (!fs.existsSync(namesFile) && fs.existsSync(path.join(root, NAMES_FILE))) {
    ctx.reporter.warn({ code: 'names-missing', file: configFile, line: namesEntry?.line, message: `names file ${namesEntry?.value} not found; using ${NAMES_FILE}` });
    namesFile = path.join(root, NAMES_FILE);
  }
  if (!fs.existsSync(namesFile)) {
    throw new DatumError({ code: 'names-missing', file: configFile, line: namesEntry?.line, message: `label names file not found (${namesEntry?.value ?? NAMES_FILE})` });
  }

  const entries: Entry[] = [];
  for (const [subset, { value, line }] of config) {
    if (NON_SUBSET_KEYS.has(subset)) continue;
    const listFile = configPath(subset);
    const text = listFile ? await fsp.readFile(listFile, 'utf8').catch(() => null) : null;
    if (text === null) {
      ctx.reporter.warn({ code: 'subset-list-missing', file: configFile, line, message: `image list '${value}' of subset '${subset}' not found; subset skipped` });
      continue;
    }
    entries.push(...readImageList(root, subset, listFile!, text, ctx));
  }
  return { kind: 'strict', root, namesFile, configFile, declaredClasses: config.get('classes'), entries };
}

function readImageList(root: string, subset: string, listFile: string, text: string, ctx: Context): Entry[] {
  const entries: Entry[] = [];
  const seen = new Set<string>();
  const rerooted: number[] = [];
  text.replace(/^\uFEFF/, '').split(/\r?\n/).forEach((raw, i) => {
    if (!raw.trim()) return;
    const where = { file: listFile, line: i + 1 };
    const found = datasetPath(root, raw);
    if (!found) {
      ctx.reporter.warn({ ...where, code: 'unsafe-path', message: `image path '${raw.trim()}' points outside the dataset folder and no part of it exists inside; item skipped` });
      return;
    }
    if (found.rerooted) rerooted.push(i + 1);
    const image = resolveInside(root, found.rel, { file: listFile });
    const id = idFromListPath(found.rel);
    if (seen.has(id)) {
      ctx.reporter.warn({ ...where, code: 'duplicate-item', item: id, message: `item '${id}' is listed twice in subset '${subset}'; the repeat is skipped` });
      return;
    }
    seen.add(id);
    const alt = labelsFolderPath(found.rel);
    entries.push({ id, subset, image, label: stripExtension(image) + '.txt', ...(alt ? { altLabel: resolveInside(root, alt) } : {}) });
  });
  if (rerooted.length) {
    ctx.reporter.warn({ file: listFile, line: rerooted[0], code: 'path-rerooted', message: `${rerooted.length} image path(s) point outside the dataset folder (absolute paths of another machine?); read from the part of each path that exists inside it` });
  }
  return entries;
}

/**
 * A path from obj.data or an image list, relative to the root with Darknet's `data/` stripped. An
 * absolute path, or one leaving the folder, is replaced by its longest tail that exists inside.
 */
function datasetPath(root: string, raw: string): { rel: string; rerooted: boolean } | undefined {
  const localized = localizePath(raw);
  if (isSafeRelative(localized)) return { rel: localized, rerooted: false };
  const tail = existingTail(root, localized);
  return tail === undefined ? undefined : { rel: tail, rerooted: true };
}

/**
 * Lists written by Darknet scripts often hold absolute paths of the machine that made them
 * (/home/me/darknet/data/obj/1.jpg): the longest tail of such a path that exists in the dataset stands in for it.
 */
function existingTail(root: string, localized: string): string | undefined {
  const parts = localized.replace(/^[a-zA-Z]:/, '').split('/').filter((p) => p && p !== '.' && p !== '..');
  for (let k = 0; k < parts.length; k++) {
    const tail = parts.slice(k).join('/');
    if (fs.existsSync(resolveInside(root, tail))) return tail;
  }
  return undefined;
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
    const file = path.join(labelsDir, rel);
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
      subset: slash < 0 ? '' : stem.slice(0, slash),
      id: slash < 0 ? stem : stem.slice(slash + 1),
      image: image === undefined ? undefined : path.join(imagesDir!, image),
      label: labels.get(stem),
    };
  });
  return { kind, root, namesFile, entries };
}

/** True when the first non-blank line has 5 numeric fields, or the file is empty. */
async function looksLikeLabels(file: string): Promise<boolean> {
  const first = (await readFileHead(file)).replace(/^\uFEFF/, '').split(/\r?\n/).find((l) => l.trim());
  if (first === undefined) return true;
  const fields = first.trim().split(/\s+/);
  return fields.length === 5 && fields.every((f) => Number.isFinite(Number(f)));
}

function firstExisting(root: string, names: string[]): string | undefined {
  return names.map((n) => path.join(root, n)).find((p) => fs.statSync(p, { throwIfNoEntry: false })?.isDirectory());
}

/** Every file under `dir`, as sorted '/'-separated paths relative to it. */
async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  const visit = async (rel: string) => {
    const entries = await fsp.readdir(path.join(dir, rel), { withFileTypes: true });
    for (const e of entries) {
      const child = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) await visit(child);
      else if (e.isFile()) out.push(child);
    }
  };
  await visit('');
  return out.sort();
}
