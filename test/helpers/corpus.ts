import path from 'node:path';
import fs from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { describe } from 'vitest';

/** The project root. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * The conformance corpus (datasets written by other tools' authors), read in place and never copied
 * into the repo: `DATUM_CORPUS`, else `../shared/corpus` beside the project. It is optional; the suite's
 * own fixtures live in `test/fixtures/`.
 */
export const CORPUS_ROOT = path.resolve(ROOT, process.env.DATUM_CORPUS ?? '../shared/corpus');
export const CORPUS = path.join(CORPUS_ROOT, 'datumaro');
export const HAS_CORPUS = fs.existsSync(CORPUS);

/**
 * A describe block of conformance tests: runs when the corpus is present, skipped otherwise.
 * Its title starts with `conformance:`, which `scripts/test.mjs` counts to say how many did not run.
 */
export function conformance(title: string, body: () => void): void {
  describe.skipIf(!HAS_CORPUS)(`conformance: ${title}`, body);
}

/** The corpus datasets every format's importer reads, as [format, folder under the corpus]. */
export const CORPUS_DATASETS: readonly [string, string][] = [
  ...['coco', 'coco_captions', 'coco_image_info', 'coco_instances', 'coco_labels', 'coco_panoptic', 'coco_person_keypoints', 'coco_roboflow', 'coco_stuff', 'mmdet_coco']
    .map((d) => ['coco', `coco_dataset/${d}`] as [string, string]),
  ['cvat', 'cvat_dataset/for_images/export_project'], ['cvat', 'cvat_dataset/for_video'],
  ['voc', 'voc_dataset/voc_dataset1'], ['voc', 'voc_dataset/voc_dataset2'], ['voc', 'voc_dataset/voc_dataset3'],
  ['yolo', 'yolo_dataset/annotations'], ['yolo', 'yolo_dataset/labels'], ['yolo', 'yolo_dataset/strict'],
  ['coco', 'roboflow_dataset/coco'], ['voc', 'roboflow_dataset/voc'],
  ['yolo_ultralytics', 'roboflow_dataset/yolo'], ['yolo_ultralytics', 'roboflow_dataset/yolo_obb'],
];

export function corpus(...parts: string[]): string {
  return path.join(CORPUS, ...parts);
}

/** A file or folder of the suite's own fixtures, `test/fixtures/...`. */
export function fixture(...parts: string[]): string {
  return path.join(ROOT, 'test', 'fixtures', ...parts);
}

/** A fresh temporary folder. */
export function tempDir(prefix = 'datum-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}
