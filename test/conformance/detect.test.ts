import path from 'node:path';
import { expect, it } from 'vitest';
import { detectDataset } from '../../src/index.js';
import { conformance, corpus, CORPUS } from '../helpers/corpus.js';

/** Every dataset folder of the corpus and the format datum must call it; null: a format datum does not read. */
const DATASETS: Record<string, string | null> = {
  ...Object.fromEntries(['coco', 'coco_captions', 'coco_image_info', 'coco_instances', 'coco_labels', 'coco_panoptic',
    'coco_person_keypoints', 'coco_roboflow', 'coco_stuff', 'mmdet_coco'].map((d) => [`coco_dataset/${d}`, 'coco'])),
  'cvat_dataset/for_images/export_project': 'cvat',
  'cvat_dataset/for_images/export_task': 'cvat',
  'cvat_dataset/for_video': 'cvat',
  'voc_dataset/voc_dataset1': 'voc',
  'voc_dataset/voc_dataset2': 'voc',
  'voc_dataset/voc_dataset3': 'voc',
  'yolo_dataset/strict': 'yolo',
  'yolo_dataset/annotations': 'yolo',
  'yolo_dataset/labels': 'yolo',
  'roboflow_dataset/coco': 'coco',
  'roboflow_dataset/voc': 'voc',
  'roboflow_dataset/yolo': 'yolo_ultralytics',
  'roboflow_dataset/yolo_obb': 'yolo_ultralytics',
  'datumaro_dataset/legacy': null,
  'roboflow_dataset/createml': null,
  'roboflow_dataset/multiclass': null,
  'roboflow_dataset/tfrecord': null,
};

conformance('detect on the Datumaro corpus', () => {
  it('every dataset folder is detected as its own format, at its own root, unambiguously; unsupported formats as nothing', async () => {
    for (const [dir, format] of Object.entries(DATASETS)) {
      const report = await detectDataset(corpus(dir));
      if (format === null) {
        expect([report.candidates, report.datasets], dir).toEqual([[], []]);
        continue;
      }
      expect(report.root, dir).toBe(corpus(dir));
      expect(report.candidates[0]?.format, dir).toBe(format);
      const [best, second] = report.candidates;
      expect(second === undefined || best.confidence - second.confidence >= 0.1, `${dir}: ${JSON.stringify(report.candidates)}`).toBe(true);
    }
  });

  it('the parent folders name the datasets below them', async () => {
    const below = (parent: string) => Object.entries(DATASETS)
      .filter(([d, f]) => f !== null && d.startsWith(parent + '/') && d.split('/').length - parent.split('/').length <= 2)
      .map(([d, f]) => [d, f]).sort();
    for (const parent of ['coco_dataset', 'cvat_dataset', 'cvat_dataset/for_images', 'voc_dataset', 'yolo_dataset', 'roboflow_dataset']) {
      const report = await detectDataset(corpus(parent));
      expect(report.candidates, parent).toEqual([]);
      expect(report.datasets.map((d) => [path.relative(CORPUS, d.root), d.format]).sort(), parent).toEqual(below(parent));
    }
  });
});
