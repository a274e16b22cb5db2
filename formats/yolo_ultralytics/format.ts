/**
 * Layout conventions of YOLO-Ultralytics datasets, as `yolo train data=<root>/data.yaml` reads them
 * (see /work/shared/FORMATS.md):
 *
 *   data.yaml            train/val/test: a folder of images, a list of folders, or a .txt list of images;
 *                        names (index -> name), nc, optional path (root), kpt_shape + flip_idx for pose
 *   images/<split>/...   the images
 *   labels/<split>/...   one .txt per image: the last `/images/` of the image path becomes `/labels/`
 *   <split>.txt          image list, lines `./images/<split>/<file>` relative to the list's folder
 *
 * Classification is a folder tree instead: <root>/<split>/<class>/<image>.
 */

export const TASKS = ['detect', 'segment', 'pose', 'obb', 'classify'] as const;
export type Task = (typeof TASKS)[number];

export const CONFIG_FILE = 'data.yaml';
/** Splits Ultralytics trains and validates on. */
export const STANDARD_SPLITS = ['train', 'val', 'test'] as const;
/** Keys of data.yaml that are not splits. */
export const NON_SPLIT_KEYS = new Set(['path', 'names', 'nc', 'kpt_shape', 'flip_idx', 'download', 'yaml_file', 'channels', 'roboflow']);

export const IMAGE_EXTENSIONS = new Set([
  '.bmp', '.dng', '.jpeg', '.jpg', '.mpo', '.png', '.tif', '.tiff', '.webp', '.pfm', '.heic', '.avif', '.jp2',
]);

export function isImageFile(name: string): boolean {
  const dot = name.lastIndexOf('.');
  return dot > 0 && IMAGE_EXTENSIONS.has(name.slice(dot).toLowerCase());
}

/**
 * The split an item of subset `subset` goes to: train/val/test and their common spellings map to
 * Ultralytics' names, '' and 'default' go to train, anything else keeps its own name (`known: false`).
 */
export function splitOf(subset: string): { split: string; known: boolean } {
  const s = subset.trim().toLowerCase();
  // `default` is Datumaro's (and now every importer's) name for "no subset".
  if (s === '' || s === 'default' || s === 'train' || s === 'training') return { split: 'train', known: true };
  if (s === 'val' || s === 'valid' || s === 'validation') return { split: 'val', known: true };
  if (s === 'test' || s === 'testing') return { split: 'test', known: true };
  // The split names a folder and a list file: keep it one plain path segment. A subset called like a
  // data.yaml setting would overwrite it.
  const plain = subset.trim().replace(/[^\w.-]+/g, '_').replace(/^\.+/, '_');
  return { split: NON_SPLIT_KEYS.has(plain) ? `subset_${plain}` : plain, known: false };
}

/** Ultralytics' img2label_paths: the last `/images/` becomes `/labels/` (or `labelsFolder`), the extension `.txt`. */
export function labelPathFor(imagePath: string, labelsFolder = 'labels'): string {
  const p = imagePath.replace(/\\/g, '/');
  const at = p.lastIndexOf('/images/');
  const swapped = at >= 0 ? `${p.slice(0, at)}/${labelsFolder}/${p.slice(at + '/images/'.length)}` : p;
  const slash = swapped.lastIndexOf('/');
  const dot = swapped.lastIndexOf('.');
  return (dot > slash ? swapped.slice(0, dot) : swapped) + '.txt';
}

/** Numbers as label files write them: 6 decimals, no negative zero. */
export function fmt(value: number): string {
  const text = value.toFixed(6);
  return text === '-0.000000' ? '0.000000' : text;
}

export function clamp01(value: number): number {
  return value < 0 ? 0 : value > 1 ? 1 : value;
}

/** How far past 0 or 1 a box edge may lie from 6-decimal rounding alone (cx + w/2 of written values). */
export const ROUNDING_SLACK = 1e-6;

/**
 * Clamps a normalized box edge to [0, 1] but leaves rounding residue alone: clipping an edge that
 * only lies past 1 because cx and w were rounded would shrink the box at every re-export.
 */
export function clampEdge(value: number): number {
  return value < -ROUNDING_SLACK ? 0 : value > 1 + ROUNDING_SLACK ? 1 : value;
}

/** Index of the mirrored keypoint for each keypoint (left_eye <-> right_eye), or null when no pair exists. */
export function flipIndex(names: readonly string[]): number[] | null {
  const index = new Map(names.map((n, i) => [n.toLowerCase(), i]));
  let paired = false;
  const flip = names.map((name, i) => {
    const mirror = mirrorName(name.toLowerCase());
    const j = mirror === null ? undefined : index.get(mirror);
    if (j === undefined || j === i) return i;
    paired = true;
    return j;
  });
  return paired ? flip : null;
}

const MIRRORS: [RegExp, string, string][] = [
  [/^left([_\- ]?)/, 'left', 'right'], [/^right([_\- ]?)/, 'right', 'left'],
  [/^l_/, 'l_', 'r_'], [/^r_/, 'r_', 'l_'],
  [/([_\- ]?)left$/, 'left', 'right'], [/([_\- ]?)right$/, 'right', 'left'],
  [/_l$/, '_l', '_r'], [/_r$/, '_r', '_l'],
];

function mirrorName(name: string): string | null {
  for (const [pattern, from, to] of MIRRORS) {
    const match = pattern.exec(name);
    if (!match) continue;
    const replaced = match[0].replace(from, to);
    return name.slice(0, match.index) + replaced + name.slice(match.index + match[0].length);
  }
  return null;
}
