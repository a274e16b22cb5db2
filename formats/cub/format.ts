/**
 * CUB-200-2011 (Wah et al. 2011): `CUB_200_2011/` holding `images.txt` (`<image_id> <path>`, paths
 * under `images/`), `classes.txt` (`<class_id> <name>`, e.g. `1 001.Black_footed_Albatross`),
 * `image_class_labels.txt` (`<image_id> <class_id>`), `train_test_split.txt` (`<image_id> <1|0>`,
 * 1 = training) and `bounding_boxes.txt` (`<image_id> <x> <y> <width> <height>`, pixels). No headers.
 */
import path from 'node:path';
import { isFile } from '../../src/files.js';
import { datasetFile } from '../../src/paths.js';

export const CUB_DIR = 'CUB_200_2011';
export const IMAGES_FILE = 'images.txt';
export const CLASSES_FILE = 'classes.txt';
export const LABELS_FILE = 'image_class_labels.txt';
export const SPLIT_FILE = 'train_test_split.txt';
export const BOXES_FILE = 'bounding_boxes.txt';
export const IMAGES_DIR = 'images';
/** Without these three there are no labelled items. */
export const REQUIRED = [IMAGES_FILE, CLASSES_FILE, LABELS_FILE];

export async function has(root: string, name: string): Promise<boolean> {
  try { return await isFile(datasetFile(root, name)); } catch { return false; }
}

/** The CUB folder: `input` itself when it holds images.txt, else `input/CUB_200_2011`. */
export async function findRoot(input: string): Promise<string | undefined> {
  const full = path.resolve(input);
  for (const root of [full, path.join(full, CUB_DIR)]) if (await has(root, IMAGES_FILE)) return root;
  return undefined;
}

/** `001.Black_footed_Albatross` -> `Black_footed_Albatross`: the number is the class id, kept in Category.id. */
export function className(raw: string): string {
  return raw.replace(/^\d+\./, '') || raw;
}
