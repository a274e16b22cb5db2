import fsp from 'node:fs/promises';
import path from 'node:path';
import { isDirectory, isFile } from '../../src/files.js';

/** COCO task files, in the order they are read (shapes first, so their categories come first). */
export const TASKS = ['instances', 'person_keypoints', 'stuff', 'panoptic', 'labels', 'captions', 'image_info'] as const;
export type Task = (typeof TASKS)[number];

const TASK_FILE = new RegExp(`^(${TASKS.join('|')})_(.+)\\.json$`);
export const ROBOFLOW_FILE = '_annotations.coco.json';

export interface TaskFile {
  file: string;
  /** null for Roboflow's `_annotations.coco.json`, which may hold any kind of annotation. */
  task: Task | null;
  subset: string;
  /** Folder the images' `file_name`s are relative to. */
  imageDir: string;
  /** Panoptic PNG folder (`annotations/panoptic_<subset>/`). */
  pngDir?: string;
}

/** `instances_train2017.json` -> { task: 'instances', subset: 'train2017' } */
export function parseTaskFileName(name: string): { task: Task; subset: string } | null {
  const match = TASK_FILE.exec(name);
  return match ? { task: match[1] as Task, subset: match[2] } : null;
}

async function listDir(p: string): Promise<string[]> {
  return (await fsp.readdir(p).catch(() => [] as string[])).sort();
}

/**
 * Every COCO annotation file under `input`: a dataset root with `annotations/` (Datumaro and the
 * official layout, images in `images/<subset>/` or mmdetection's `<subset>/`), an `annotations/`
 * folder itself, a Roboflow export (`<subset>/_annotations.coco.json` beside the images), or one file.
 */
export async function findTaskFiles(input: string): Promise<TaskFile[]> {
  const abs = path.resolve(input);
  if (await isFile(abs)) return [await taskFileFor(abs)].filter((t): t is TaskFile => t !== null);
  const found: TaskFile[] = [];
  const annotationsDir = path.join(abs, 'annotations');
  const dirs = (await isDirectory(annotationsDir)) ? [annotationsDir] : [abs];
  for (const dir of dirs) {
    for (const name of await listDir(dir)) {
      if (!parseTaskFileName(name) || !(await isFile(path.join(dir, name)))) continue;
      const task = await taskFileFor(path.join(dir, name));
      if (task) found.push(task);
    }
  }
  if (await isFile(path.join(abs, ROBOFLOW_FILE))) found.push((await taskFileFor(path.join(abs, ROBOFLOW_FILE)))!);
  for (const name of await listDir(abs)) {
    const file = path.join(abs, name, ROBOFLOW_FILE);
    if (await isFile(file)) found.push((await taskFileFor(file))!);
  }
  return found.sort((a, b) => taskRank(a) - taskRank(b));
}

function taskRank(t: TaskFile): number {
  return t.task === null ? 0 : TASKS.indexOf(t.task);
}

async function taskFileFor(file: string): Promise<TaskFile | null> {
  const dir = path.dirname(file);
  const name = path.basename(file);
  if (name === ROBOFLOW_FILE) return { file, task: null, subset: path.basename(dir), imageDir: dir };
  const parsed = parseTaskFileName(name);
  if (!parsed) return /\.json$/i.test(name) ? { file, task: null, subset: '', imageDir: dir } : null;
  const root = path.basename(dir) === 'annotations' ? path.dirname(dir) : dir;
  const candidates = [path.join(root, 'images', parsed.subset), path.join(root, parsed.subset)];
  let imageDir = candidates[0];
  for (const candidate of candidates) if (await isDirectory(candidate)) { imageDir = candidate; break; }
  const pngDir = parsed.task === 'panoptic' ? path.join(dir, `panoptic_${parsed.subset}`) : undefined;
  return { file, task: parsed.task, subset: parsed.subset, imageDir, pngDir };
}
