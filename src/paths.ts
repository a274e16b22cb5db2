import fs from 'node:fs';
import path from 'node:path';
import { DatumError } from './diagnostics.js';
import type { Item } from './model.js';

type PathContext = { file?: string; element?: string; item?: string };

/**
 * Resolves a dataset-supplied relative path (an image name, a label file name) under `root`, refusing
 * anything that would land outside it: `../x`, absolute paths, drive letters, NUL bytes, and a name
 * that leads outside through a symlink (a symlinked file or folder on the way; symlinks that stay
 * inside `root` are fine). Returns the path as written (not its real path).
 * Every importer and exporter goes through this for names that come from a dataset.
 */
export function resolveInside(root: string, relative: string, context: PathContext = {}): string {
  const rootAbs = path.resolve(root);
  const full = resolveLexically(rootAbs, relative, context);
  if (full === rootAbs) return full;
  const realRoot = realPath(rootAbs);
  let real: string;
  try {
    real = realPath(full);
  } catch {
    throw unsafe(relative, context, 'cannot be resolved (a symlink loop)', full);
  }
  if (real !== realRoot && !real.startsWith(realRoot.endsWith(path.sep) ? realRoot : realRoot + path.sep)) {
    throw unsafe(relative, context, 'leads outside the dataset folder through a symlink', full);
  }
  return full;
}

/**
 * A fixed name a format looks for in its dataset (`val.txt`, `ImageSets/Action`, `obj.names`), under
 * the dataset's root folder: refused like any dataset name when it leads outside the root (a symlink),
 * the error naming that file.
 */
export function datasetFile(root: string, name: string): string {
  return resolveInside(root, name, { file: path.join(root, name) });
}

/** True when `relative` stays inside any root (same rules as `resolveInside`, without the file system). */
export function isSafeRelative(relative: string): boolean {
  try { resolveLexically(path.resolve('/r'), relative, {}); return true; } catch { return false; }
}

function resolveLexically(rootAbs: string, relative: string, context: PathContext): string {
  const normalized = relative.replace(/\\/g, '/');
  if (normalized.includes('\0') || path.posix.isAbsolute(normalized) || /^[a-zA-Z]:/.test(normalized)) {
    throw unsafe(relative, context);
  }
  const full = path.resolve(rootAbs, normalized);
  if (full !== rootAbs && !full.startsWith(rootAbs + path.sep)) throw unsafe(relative, context);
  return full;
}

/**
 * resolveInside runs once per image name (118k on COCO train2017), so what the file system says is
 * cached: the real path of each folder and symlink seen, and per folder the names in it that are
 * symlinks (one readdir per folder instead of one lstat per name). A folder that cannot be listed
 * (missing, or a file) is cached as holding no symlinks, so 118k names under an absent images/ folder
 * cost no syscall each; a dataset does not change while it is read, and what an exporter creates is
 * never a symlink.
 */
const realPaths = new Map<string, string>();
const symlinksIn = new Map<string, Set<string>>();

/** The real path of `p` as far as it exists (a missing tail is kept as written); throws on a loop. */
function realPath(p: string, hops = 0): string {
  const cached = realPaths.get(p);
  if (cached !== undefined) return cached;
  const parent = path.dirname(p);
  if (parent === p) return p;
  const realParent = realPath(parent, hops);
  const links = symlinksOf(parent);
  if (!realPaths.has(parent)) remember(realPaths, parent, realParent);
  const name = path.basename(p);
  // a name its folder does not list as a symlink is a file, a folder or something new: no syscall
  if (!links.has(name)) return realParent.endsWith(path.sep) ? realParent + name : realParent + path.sep + name;
  const stat = fs.lstatSync(p, { throwIfNoEntry: false });
  let real: string;
  if (stat?.isSymbolicLink()) {
    if (hops >= 40) throw new Error(`too many symlinks: ${p}`);
    real = realPath(path.resolve(parent, fs.readlinkSync(p)), hops + 1);
  } else {
    real = path.join(realParent, name);
  }
  if (stat && !stat.isFile()) remember(realPaths, p, real);
  return real;
}

/** The names of the symlinks in folder `dir`; none when it cannot be listed (missing, or a file). */
function symlinksOf(dir: string): Set<string> {
  const known = symlinksIn.get(dir);
  if (known) return known;
  let entries: fs.Dirent[] = [];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch { /* nothing there can be a symlink */ }
  const links = new Set(entries.filter((e) => e.isSymbolicLink()).map((e) => e.name));
  remember(symlinksIn, dir, links);
  return links;
}

/** Forgets what the file system said; the pipeline calls it per run, so a dataset changed between runs is seen anew. */
export function forgetPaths(): void {
  realPaths.clear();
  symlinksIn.clear();
}

function remember<V>(map: Map<string, V>, key: string, value: V): void {
  if (map.size >= 100_000) map.clear();
  map.set(key, value);
}

function unsafe(relative: string, context: PathContext, why = 'points outside the dataset folder', file?: string): DatumError {
  return new DatumError({
    code: 'unsafe-path',
    message: `path '${relative}' ${why}; refusing to read or write it`,
    ...context,
    file: context.file ?? file,
  });
}

/** Forward-slash relative path from `root` to `file`. */
export function toPosixRelative(root: string, file: string): string {
  return path.relative(root, file).split(path.sep).join('/');
}

/** `a/b/c.jpg` -> `a/b/c` */
export function stripExtension(name: string): string {
  const slash = name.lastIndexOf('/');
  const dot = name.lastIndexOf('.');
  return dot > slash + 1 ? name.slice(0, dot) : name;
}

/**
 * Distinct, safe file names `<subset>_<id><ext>` for items written side by side in one folder (preview
 * PNGs, calib's copied images): path separators and characters file systems refuse become `_`, a
 * leading dot too (no hidden files, no `..`), long names are cut; a name already given (compared
 * case-insensitively, as macOS and Windows do) or reserved gets `_2`, `_3`.
 */
export class FlatNames {
  private readonly taken: Set<string>;

  constructor(reserved: readonly string[] = []) {
    this.taken = new Set(reserved.map((n) => n.toLowerCase()));
  }

  next(item: Pick<Item, 'id' | 'subset'>, ext: string): string {
    const raw = (item.subset ? `${item.subset}_` : '') + item.id;
    // eslint-disable-next-line no-control-regex
    const stem = raw.replace(/[\\/<>:"|?*\u0000-\u001f\u007f]/g, '_').replace(/^\./, '_').slice(0, 150) || '_';
    let name = stem + ext;
    for (let n = 2; this.taken.has(name.toLowerCase()); n++) name = `${stem}_${n}${ext}`;
    this.taken.add(name.toLowerCase());
    return name;
  }
}
