import fsp from 'node:fs/promises';
import path from 'node:path';
import { isDirectory, isFile, readFileHead } from '../../src/files.js';
import { resolveInside } from '../../src/paths.js';

/** COCO task files, in the order they are read (shapes first, so their categories come first). */
export const TASKS = ['instances', 'person_keypoints', 'stuff', 'panoptic', 'labels', 'captions', 'image_info'] as const;
export type Task = (typeof TASKS)[number];

const TASK_FILE = new RegExp(`^(${TASKS.join('|')})_(.+)\\.json$`);
export const ROBOFLOW_FILE = '_annotations.coco.json';
/** The subset of a file whose name does not give one (`annotations.json`, `coco.json`), as Datumaro names it. */
export const DEFAULT_SUBSET = 'default';
/** How much of a JSON file is read to tell whether it is COCO: files can be hundreds of MB. */
const HEAD_BYTES = 16 * 1024;

export interface TaskFile {
  file: string;
  /** null for Roboflow's `_annotations.coco.json`, which may hold any kind of annotation. */
  task: Task | null;
  subset: string;
  /** Folder the images' `file_name`s are relative to. */
  imageDir: string;
  /** Panoptic PNG folder (`annotations/panoptic_<subset>/`: beside the file, named like it). */
  pngDir?: string;
  /** What told this file is COCO, for the detector's reason. */
  seen: string;
}

/** `instances_train2017.json` -> { task: 'instances', subset: 'train2017' } */
export function parseTaskFileName(name: string): { task: Task; subset: string } | null {
  const match = TASK_FILE.exec(name);
  return match ? { task: match[1] as Task, subset: match[2] } : null;
}

/** What the start of a JSON file says: null unless its top level is an object with COCO's arrays. */
export interface CocoSniff {
  /** The top-level COCO keys seen with an array value, in file order. */
  keys: string[];
  /** The task the content points to: keypoints, captions, segments_info, else instances. */
  task: Task;
  /** Per-element COCO fields (file_name, image_id, category_id) were seen too. */
  fields: boolean;
}

/**
 * Looks at the first bytes of a JSON file (`head`, possibly cut anywhere) for the top-level keys
 * `images`, `annotations`, `categories` holding arrays. Datumaro's own JSON (`categories` an object,
 * `items`), a package.json or a top-level list are not COCO.
 */
export function sniffCoco(head: string): CocoSniff | null {
  const top = topLevelKeys(head);
  if (!top || top.has('items')) return null;
  const keys = [...top].filter(([k, v]) => (k === 'images' || k === 'annotations' || k === 'categories') && v === '[').map(([k]) => k);
  if (keys.length === 0) return null;
  const task: Task = /"segments_info"\s*:/.test(head) ? 'panoptic'
    : /"keypoints"\s*:\s*\[/.test(head) ? 'person_keypoints'
    : /"caption"\s*:/.test(head) ? 'captions' : 'instances';
  return { keys, task, fields: /"(file_name|image_id|category_id)"\s*:/.test(head) };
}

/** Top-level key -> first character of its value ('' when the head ends first); null if not an object. */
function topLevelKeys(head: string): Map<string, string> | null {
  let i = 0;
  if (head.charCodeAt(0) === 0xfeff) i++;
  while (i < head.length && /\s/.test(head[i])) i++;
  if (head[i] !== '{') return null;
  const keys = new Map<string, string>();
  let depth = 0;
  for (; i < head.length; i++) {
    const c = head[i];
    if (c === '"') {
      let j = i + 1;
      while (j < head.length && head[j] !== '"') j += head[j] === '\\' ? 2 : 1;
      if (j >= head.length) break;
      if (depth === 1) {
        // A string at depth 1 followed by ':' is a key.
        let k = j + 1;
        while (k < head.length && /\s/.test(head[k])) k++;
        if (head[k] === ':') {
          k++;
          while (k < head.length && /\s/.test(head[k])) k++;
          keys.set(head.slice(i + 1, j), head[k] ?? '');
        }
      }
      i = j;
    } else if (c === '{' || c === '[') {
      depth++;
    } else if (c === '}' || c === ']') {
      if (--depth === 0) break;
    }
  }
  return keys;
}

async function listDir(p: string): Promise<string[]> {
  return (await fsp.readdir(p).catch(() => [] as string[])).sort();
}

/**
 * Every COCO annotation file under `input`: a dataset root with `annotations/` (Datumaro and the
 * official layout, images in `images/<subset>/` or mmdetection's `<subset>/`), an `annotations/`
 * folder itself, a Roboflow export (`<subset>/_annotations.coco.json` beside the images), or one file.
 * Files named `<task>_<subset>.json` are taken by name; any other `*.json` in the root or in
 * `annotations/` (`annotations.json`, `coco.json`, CVAT's and Label Studio's exports) when its first
 * bytes are a COCO object. A dataset name leading outside `input` (a symlink) is refused, or skipped
 * with `quiet` (the detector, which never throws).
 */
export async function findTaskFiles(input: string, quiet = false): Promise<TaskFile[]> {
  const abs = path.resolve(input);
  const inside = (root: string, name: string): string | null => {
    try { return resolveInside(root, name, { file: path.join(root, name) }); } catch (error) { if (quiet) return null; throw error; }
  };
  if (await isFile(abs)) return [await taskFileFor(abs, (root, name) => inside(root, name))].filter((t): t is TaskFile => t !== null);
  const found: TaskFile[] = [];
  const annotationsDir = inside(abs, 'annotations');
  for (const dir of [annotationsDir, abs]) {
    if (!dir || !(await isDirectory(dir))) continue;
    for (const name of await listDir(dir)) {
      if (!/\.json$/i.test(name) || name === ROBOFLOW_FILE) continue;
      const file = inside(dir, name);
      if (!file || !(await isFile(file))) continue;
      const task = await taskFileFor(file, inside);
      if (task) found.push(task);
    }
  }
  // Roboflow: <subset>/_annotations.coco.json, or the file in the folder itself.
  for (const name of ['', ...await listDir(abs)]) {
    const dir = name ? path.join(abs, name) : abs;
    if (!(await isFile(path.join(dir, ROBOFLOW_FILE)))) continue;
    const file = inside(abs, name ? `${name}/${ROBOFLOW_FILE}` : ROBOFLOW_FILE);
    if (file) found.push((await taskFileFor(file, inside))!);
  }
  return found.sort((a, b) => taskRank(a) - taskRank(b));
}

function taskRank(t: TaskFile): number {
  return t.task === null ? 0 : TASKS.indexOf(t.task);
}

async function taskFileFor(file: string, inside: (root: string, name: string) => string | null): Promise<TaskFile | null> {
  const dir = path.dirname(file);
  const name = path.basename(file);
  if (name === ROBOFLOW_FILE) return { file, task: null, subset: path.basename(dir), imageDir: dir, seen: 'a Roboflow COCO file' };
  const stem = name.slice(0, -'.json'.length);
  let parsed = parseTaskFileName(name);
  let seen = parsed ? `named ${parsed.task}_${parsed.subset}` : '';
  if (!parsed) {
    if (!/\.json$/i.test(name)) return null;
    const sniff = sniffCoco(await readFileHead(file, HEAD_BYTES));
    if (!sniff) return null;
    // `instances.json`: the name says the task, not the subset.
    const named = (TASKS as readonly string[]).includes(stem);
    parsed = { task: named ? stem as Task : sniff.task, subset: DEFAULT_SUBSET };
    seen = `top-level ${sniff.keys.join(', ')}: ${parsed.task} by ${named ? 'name' : 'content'}, subset ${DEFAULT_SUBSET}`;
  }
  const root = path.basename(dir) === 'annotations' ? path.dirname(dir) : dir;
  const subset = parsed.subset;
  // images/<subset>/ (Datumaro), <subset>/ (mmdetection), else images/ or the root (CVAT, Label Studio).
  let imageDir: string | null = null;
  for (const candidate of [`images/${subset}`, subset, 'images']) {
    const resolved = inside(root, candidate);
    if (resolved && await isDirectory(resolved)) { imageDir = resolved; break; }
  }
  if (!imageDir && subset === DEFAULT_SUBSET) imageDir = root;
  imageDir ??= inside(root, `images/${subset}`) ?? root;
  // The PNG folder is named like the file: panoptic_val2017.json, panoptic_val2017/.
  const pngDir = parsed.task === 'panoptic' ? inside(dir, stem) ?? undefined : undefined;
  return { file, task: parsed.task, subset, imageDir, pngDir, seen };
}
