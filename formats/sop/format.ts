/**
 * Stanford Online Products (Song et al., CVPR 2016): `Stanford_Online_Products/` holding
 * `Ebay_info.txt` (every image), `Ebay_train.txt` and `Ebay_test.txt`, each a header line
 * `image_id class_id super_class_id path` and then one line per image, ids 1-based, paths like
 * `bicycle_final/111085122871_0.JPG` relative to that folder.
 */
import path from 'node:path';
import { isFile } from '../../src/files.js';
import { datasetFile } from '../../src/paths.js';
import { splitFields } from '../../src/text.js';

export const SOP_DIR = 'Stanford_Online_Products';
export const INFO_FILE = 'Ebay_info.txt';
export const HEADER = 'image_id class_id super_class_id path';
/** The subsets SOP has, and the file listing each. */
export const SUBSET_FILES: ReadonlyArray<readonly [subset: string, file: string]> = [['train', 'Ebay_train.txt'], ['test', 'Ebay_test.txt']];
export const LIST_FILES = [INFO_FILE, ...SUBSET_FILES.map(([, f]) => f)];

export interface SopLine { imageId: number; classId: number; superId: number; path: string }

const POSITIVE = /^\d+$/;

/** A data line, or why it is not one. */
export function parseLine(raw: string): SopLine | { error: string; code: string } {
  const fields = splitFields(raw);
  if (fields.length !== 4) return { code: 'bad-field-count', error: `expected 4 fields (${HEADER}), found ${fields.length}` };
  const names = ['image_id', 'class_id', 'super_class_id'];
  for (let k = 0; k < 3; k++) {
    if (!POSITIVE.test(fields[k]) || Number(fields[k]) < 1) return { code: 'not-a-number', error: `${names[k]} '${fields[k].slice(0, 40)}' is not a positive integer` };
  }
  return { imageId: Number(fields[0]), classId: Number(fields[1]), superId: Number(fields[2]), path: fields[3].replace(/\\/g, '/') };
}

/**
 * Whether the first line of a list is its header: anything but 4 fields with numeric first three (a
 * header may be malformed; a data line with a bad value is warned about, not skipped as a header).
 */
export function isHeader(firstLine: string): boolean {
  const fields = splitFields(firstLine);
  return fields.length !== 4 || !fields.slice(0, 3).every((f) => /^\d+$/.test(f));
}

/** `bicycle_final/1.JPG` -> `bicycle`; a path without a folder has no super-class name. */
export function superClassName(imagePath: string): string | undefined {
  const slash = imagePath.indexOf('/');
  if (slash <= 0) return undefined;
  return imagePath.slice(0, slash).replace(/_final$/, '') || undefined;
}

/** The SOP folder: `input` itself when it holds one of the lists, else `input/Stanford_Online_Products`. */
export async function findRoot(input: string): Promise<string | undefined> {
  const full = path.resolve(input);
  for (const root of [full, path.join(full, SOP_DIR)]) {
    for (const name of LIST_FILES) {
      try {
        if (await isFile(datasetFile(root, name))) return root;
      } catch { /* a list that is a symlink leading outside is not there */ }
    }
  }
  return undefined;
}
