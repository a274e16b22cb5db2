/**
 * Path conventions of Darknet YOLO as Datumaro and CVAT read and write them:
 *
 *   obj.data            classes = N / <subset> = data/<subset>.txt / names = data/obj.names / backup = backup/
 *   obj.names           one label name per line
 *   <subset>.txt        image paths, one per line: data/obj_<subset>_data/<id>.jpg
 *   obj_<subset>_data/  images with their <id>.txt label files side by side
 *
 * Darknet runs from its own folder with the dataset copied into `data/`, hence the prefix; readers
 * strip it and resolve the rest against the dataset root.
 */

import path from 'node:path';
import { forEachLine } from '../../src/text.js';

export const CONFIG_FILE = 'obj.data';
export const NAMES_FILE = 'obj.names';
/** Keys of obj.data that are not subsets (Datumaro's reserved keys plus Darknet's other settings). */
export const NON_SUBSET_KEYS = new Set(['classes', 'names', 'backup', 'eval', 'results', 'map', 'top']);
/** Subset name used for items without one (Datumaro's default). */
export const DEFAULT_SUBSET = 'train';
export const PATH_PREFIX = 'data/';

export const IMAGE_EXTENSIONS = new Set([
  '.jpg', '.jpeg', '.jpe', '.png', '.bmp', '.dib', '.tif', '.tiff', '.webp', '.gif',
  '.jp2', '.pbm', '.pgm', '.ppm', '.pnm', '.tga',
]);

export function isImageFile(name: string): boolean {
  const dot = name.lastIndexOf('.');
  return dot > 0 && IMAGE_EXTENSIONS.has(name.slice(dot).toLowerCase());
}

/** `data/obj_train_data/a/1.jpg` -> `obj_train_data/a/1.jpg`, normalized as Datumaro's normpath does (`\\`, `./`, `a/..`). */
export function localizePath(raw: string): string {
  const p = path.posix.normalize(raw.trim().replace(/\\/g, '/'));
  return p.startsWith(PATH_PREFIX) ? p.slice(PATH_PREFIX.length) : p;
}

/** Item id from a list line: the path after the `obj_<subset>_data/` folder, without extension. */
export function idFromListPath(localized: string): string {
  const parts = localized.split('/');
  const rest = parts.length > 1 ? parts.slice(1).join('/') : localized;
  const slash = rest.lastIndexOf('/');
  const dot = rest.lastIndexOf('.');
  return dot > slash + 1 ? rest.slice(0, dot) : rest;
}

/**
 * Darknet's second guess for a label file (VOC-style trees made by voc_label.py):
 * `VOC2007/JPEGImages/1.jpg` -> `VOC2007/labels/1.txt`; undefined when no such folder is in the path.
 */
export function labelsFolderPath(image: string): string | undefined {
  const parts = image.split('/');
  let k = parts.length - 2;
  while (k >= 0 && parts[k] !== 'images' && parts[k] !== 'JPEGImages') k--;
  if (k < 0) return undefined;
  parts[k] = 'labels';
  const name = parts.join('/');
  const slash = name.lastIndexOf('/');
  const dot = name.lastIndexOf('.');
  return (dot > slash + 1 ? name.slice(0, dot) : name) + '.txt';
}

/** obj.data lines are `key = value`; anything else is ignored, as Darknet does. */
export function parseConfig(text: string): Map<string, { value: string; line: number }> {
  const config = new Map<string, { value: string; line: number }>();
  forEachLine(text, (line, lineNo) => {
    // No `(.+?)\s*$`: on a long run of spaces that backtracks quadratically; trim instead.
    const match = /^\s*(\w+)\s*=/.exec(line);
    const value = match ? line.slice(match[0].length).trim() : '';
    if (value) config.set(match![1], { value, line: lineNo });
  });
  return config;
}

/** Subset folder name inside the dataset: `obj_train_data`. */
export function subsetFolder(subset: string): string {
  return `obj_${subset}_data`;
}
