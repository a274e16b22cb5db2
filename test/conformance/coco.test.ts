/**
 * COCO conformance: the Datumaro corpus's COCO datasets (every task file, mmdet and Roboflow layouts), read in
 * place. Skipped without the corpus; test/formats/coco.test.ts checks the same behaviours on our own fixtures.
 */
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { expect, test } from 'vitest';
import { collect, convert, createContext, detectFormats, importDataset, Reporter } from '../../src/index.js';
import type { Annotation, Dataset, Item, MemoryDataset } from '../../src/index.js';
import { plugin } from '../../formats/coco/index.js';
import { conformance, corpus, tempDir } from '../helpers/corpus.js';

const COCO = (name: string) => corpus('coco_dataset', name);


async function load(input: string, reporter = new Reporter()): Promise<MemoryDataset> {
  const { dataset } = await importDataset(input, 'coco', {}, createContext({ reporter }));
  return collect(dataset);
}

function item(ds: MemoryDataset, subset: string, id: string): Item {
  const found = ds.items.find((i) => i.subset === subset && i.id === id);
  if (!found) throw new Error(`no item ${subset}/${id}`);
  return found;
}

function labelName(ds: Dataset, a: Annotation): string | undefined {
  return a.label === undefined ? undefined : ds.categories[a.label].name;
}

async function exportTo(ds: Dataset, options: Record<string, boolean | string> = {}, reporter = new Reporter()) {
  const out = path.join(tempDir('coco-out-'), 'out');
  fs.mkdirSync(out);
  const summary = await plugin.export!(ds, out, options, createContext({ reporter }));
  return { out, summary, reporter };
}

/** Items as comparable data: image size, annotations sorted, without file paths. */
function comparable(ds: MemoryDataset, keepIds = true) {
  return ds.items.map((i) => ({
    key: `${i.subset}/${i.id}`,
    size: [i.image?.width, i.image?.height],
    annotations: i.annotations
      .map((a) => {
        const { label, id, ...rest } = a;
        const fields: Record<string, unknown> = { ...rest, label: labelName(ds, a), ...(keepIds ? { id } : {}) };
        return JSON.stringify(Object.keys(fields).sort().map((k) => [k, fields[k]]));
      })
      .sort(),
  })).sort((a, b) => a.key.localeCompare(b.key));
}

/** A panoptic PNG's segment ids (R + 256 G + 256^2 B), row by row. */
async function readSegmentIds(file: string): Promise<number[][]> {
  const { data, info } = await sharp(file).raw().toBuffer({ resolveWithObject: true });
  expect(info.channels).toBe(3);
  return Array.from({ length: info.height }, (_, y) => Array.from({ length: info.width }, (_, x) => {
    const q = 3 * (y * info.width + x);
    return data[q] + 256 * data[q + 1] + 65536 * data[q + 2];
  }));
}

function readJson(file: string) {
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

conformance('coco import of the Datumaro corpus', () => {
  test('coco_instances: bbox, polygon, uncompressed RLE, sparse category ids, attributes', async () => {
    const ds = await load(COCO('coco_instances'));
    expect(ds.categories.map((c) => [c.name, c.id])).toEqual([['a', 1], ['b', 2], ['c', 4]]);
    expect(ds.items.map((i) => `${i.subset}/${i.id}`)).toEqual(['train/a', 'val/b']);
    const a = item(ds, 'train', 'a');
    expect(a.image).toEqual({ path: COCO('coco_instances/images/train/a.jpg'), width: 10, height: 5 });
    expect(ds.items.map((i) => i.attributes)).toEqual([{ id: 5 }, { id: 40 }]);
    expect(a.annotations).toEqual([{ type: 'bbox', x: 2, y: 2, w: 3, h: 1, label: 1, id: 1 }]);
    const b = item(ds, 'val', 'b');
    expect(b.annotations[0]).toEqual({ type: 'polygon', points: [0, 0, 1, 0, 1, 2, 0, 2], label: 0, id: 1, group: 1, attributes: { x: 1, y: 'hello' } });
    // COCO's bbox is the object's box, kept beside its segmentation in one group.
    expect(b.annotations[1]).toMatchObject({ type: 'bbox', label: 0, id: 1, group: 1 });
    // counts [0, 20, 30] on a 10 x 5 image, column-major: columns 0 and 1 are set.
    expect(b.annotations[2]).toEqual({ type: 'mask', left: 0, top: 0, width: 2, height: 10, rle: [0, 20], label: 1, id: 2, group: 2, attributes: { is_crowd: true } });
  });

  test('coco_person_keypoints: skeletons grouped with their shapes, 0-based edges recognized, names filled in', async () => {
    const reporter = new Reporter();
    const ds = await load(COCO('coco_person_keypoints'), reporter);
    expect(ds.categories[0]).toMatchObject({ name: 'a', id: 1, keypoints: ['1', '2', '3'], skeleton: [[0, 1], [1, 2]] });
    const a = item(ds, 'train', 'a');
    expect(a.annotations).toEqual([
      { type: 'bbox', x: 2, y: 2, w: 3, h: 1, label: 1, id: 1, group: 1 },
      { type: 'skeleton', points: [0, 0, 0, 2, 4, 1], visibility: [0, 1, 2], label: 1, id: 1, group: 1 },
    ]);
    const b = item(ds, 'val', 'b');
    const skeletons = b.annotations.filter((x) => x.type === 'skeleton');
    expect(skeletons.map((s) => s.type === 'skeleton' && [labelName(ds, s), s.points, s.visibility, s.group])).toEqual([
      ['a', [1, 2, 3, 4, 2, 3], [2, 2, 2], 1],
      ['b', [2, 4, 4, 4, 4, 2], [2, 2, 2], 2],
    ]);
    expect(b.annotations.filter((x) => x.type !== 'skeleton').map((x) => [x.type, x.group])).toEqual([['polygon', 1], ['bbox', 1], ['mask', 2], ['bbox', 2]]);
    expect(reporter.messages.filter((m) => m.severity === 'warning')).toEqual([]);
  });

  test('coco_captions, coco_labels, coco_image_info', async () => {
    const captions = await load(COCO('coco_captions'));
    expect(item(captions, 'val', 'b').annotations).toEqual([{ type: 'caption', caption: 'world', id: 1 }, { type: 'caption', caption: 'text', id: 2 }]);
    expect(item(captions, 'train', 'a').annotations).toEqual([{ type: 'caption', caption: 'hello', id: 1 }]);
    const labels = await load(COCO('coco_labels'));
    expect(item(labels, 'val', 'b').annotations.map((x) => [x.type, labelName(labels, x)])).toEqual([['label', 'a'], ['label', 'b']]);
    const info = await load(COCO('coco_image_info'));
    expect(info.items.map((i) => [i.id, i.image?.width, i.image?.height, i.annotations.length])).toEqual([['a', 10, 5, 0], ['b', 5, 10, 0]]);
  });

  test('coco_stuff: RLE with several runs', async () => {
    const ds = await load(COCO('coco_stuff'));
    // counts [10, 10, 5, 10, 15] on 5 x 10: columns 2, 3, 5, 6 set, column 4 not.
    expect(item(ds, 'train', 'a').annotations).toEqual([{
      type: 'mask', left: 2, top: 0, width: 5, height: 5, rle: [0, 2, 1, 4, 1, 4, 1, 4, 1, 4, 1, 2], label: 0, id: 7, group: 7, attributes: { is_crowd: true },
    }, { type: 'bbox', x: 2, y: 0, w: 4, h: 4, label: 0, id: 7, group: 7, attributes: { is_crowd: true } }]);
  });

  test('coco_panoptic: segments from the PNG (id = R + 256 G + 256^2 B)', async () => {
    const ds = await load(COCO('coco_panoptic'));
    // a.png is 5 x 5 of colour (7, 7, 7) = segment 460551.
    expect(item(ds, 'train', 'a').annotations).toEqual([{ type: 'mask', left: 0, top: 0, width: 5, height: 5, rle: [0, 25], id: 460551, label: 0 }]);
    // b.png: columns 0-1 are segment 7, 2-3 segment 20 (crowd), column 4 void.
    expect(item(ds, 'val', 'b').annotations).toEqual([
      { type: 'mask', left: 0, top: 0, width: 2, height: 10, rle: [0, 20], id: 7, label: 0 },
      { type: 'mask', left: 2, top: 0, width: 2, height: 10, rle: [0, 20], id: 20, label: 1, attributes: { is_crowd: true } },
    ]);
  });

  test('coco: all task files of a subset merge into one item, duplicates across files dropped', async () => {
    const ds = await load(COCO('coco'));
    expect(ds.categories.map((c) => c.name)).toEqual(['a', 'b', 'c']);
    expect(ds.items).toHaveLength(2);
    const a = item(ds, 'train', 'a');
    expect(a.annotations.map((x) => x.type).sort()).toEqual(['bbox', 'bbox', 'caption', 'label', 'mask', 'mask', 'skeleton']);
    const b = item(ds, 'val', 'b');
    // instances (polygon, mask) + keypoints (2 skeletons; their shapes are the instances' ones)
    // + labels (2) + captions (2) + panoptic (2 masks; the stuff mask equals the instances one).
    expect(b.annotations.map((x) => x.type).sort()).toEqual(['bbox', 'bbox', 'caption', 'caption', 'label', 'label', 'mask', 'mask', 'mask', 'polygon', 'skeleton', 'skeleton']);
  });

  test('mmdet_coco finds images in <subset>/; Roboflow layouts find them beside the JSON', async () => {
    const mmdet = await load(COCO('mmdet_coco'));
    expect(item(mmdet, 'val', 'b').image?.path).toBe(COCO('mmdet_coco/val/b.jpg'));
    expect(item(mmdet, 'val', 'b').annotations).toHaveLength(4);
    const rf1 = await load(COCO('coco_roboflow'));
    expect(item(rf1, 'train', 'a').image?.path).toBe(COCO('coco_roboflow/train/a.jpg'));
    expect(item(rf1, 'val', 'b').annotations.map((x) => x.type)).toEqual(['polygon', 'bbox', 'mask', 'bbox']);
    const rf2 = await load(corpus('roboflow_dataset', 'coco'));
    expect(rf2.categories.map((c) => [c.name, c.id])).toEqual([['label_0', 1], ['label_1', 2]]);
    expect(rf2.items.map((i) => `${i.subset}/${i.id}`)).toEqual(['train/train_001', 'train/train_002', 'val/val_001']);
    expect(item(rf2, 'train', 'train_002').annotations).toEqual([{ type: 'bbox', x: 0, y: 0, w: 2, h: 4, label: 1, id: 1 }]);
    expect(fs.existsSync(item(rf2, 'val', 'val_001').image!.path)).toBe(true);
  });

  test('detect recognizes every corpus layout and one annotation file', async () => {
    for (const dir of ['coco', 'coco_instances', 'coco_panoptic', 'mmdet_coco', 'coco_roboflow', 'coco_captions']) {
      const found = await detectFormats(COCO(dir));
      expect(found[0]?.format, dir).toBe('coco');
    }
    expect((await plugin.detect!(corpus('roboflow_dataset', 'coco')))?.confidence).toBeGreaterThan(0.9);
    expect((await plugin.detect!(COCO('coco/annotations/instances_val.json')))?.confidence).toBeGreaterThan(0.9);
    expect(await plugin.detect!(corpus('voc_dataset'))).toMatchObject({ confidence: 0 });
  });

  test('one annotation file as input', async () => {
    const ds = await load(COCO('coco/annotations/instances_val.json'));
    expect(ds.items.map((i) => [i.subset, i.id, i.image?.path])).toEqual([['val', 'b', COCO('coco/images/val/b.jpg')]]);
  });
});

conformance('coco round trip of the corpus (import -> export -> import)', () => {
  for (const dir of ['coco_instances', 'coco_person_keypoints', 'coco_captions', 'coco_labels', 'coco_stuff', 'coco_image_info', 'mmdet_coco', 'coco_roboflow']) {
    test(dir, async () => {
      const first = await load(COCO(dir));
      const { out, reporter } = await exportTo(first);
      expect(reporter.messages.filter((m) => m.severity === 'warning')).toEqual([]);
      const second = await load(out);
      expect(comparable(second)).toEqual(comparable(first));
      expect(second.categories.map((c) => [c.name, c.id])).toEqual(first.categories.map((c) => [c.name, c.id]));
    });
  }

  test('coco (all tasks, panoptic masks become instance masks)', async () => {
    const first = await load(COCO('coco'));
    const { out, summary } = await exportTo(first);
    expect(fs.readdirSync(path.join(out, 'annotations')).sort()).toEqual([
      'captions_train.json', 'captions_val.json', 'instances_train.json', 'instances_val.json',
      'labels_train.json', 'labels_val.json', 'person_keypoints_train.json', 'person_keypoints_val.json',
    ]);
    expect(summary).toMatchObject({ items: 2, dropped: {} });
    const second = await load(out);
    // Panoptic masks have no COCO bbox: instances write one, which comes back grouped with the mask.
    const key = (a: Annotation) => JSON.stringify({ ...a, id: undefined, group: undefined });
    for (const i of second.items) {
      const loose = new Set(item(first, i.subset, i.id).annotations.filter((a) => a.type === 'mask' && !a.group).map(key));
      const boxed = new Set(i.annotations.filter((a) => a.type === 'mask' && a.group && loose.has(key(a))).map((a) => a.group));
      i.annotations = i.annotations.filter((a) => !(a.type === 'bbox' && boxed.has(a.group)));
      for (const a of i.annotations) if (boxed.has(a.group)) delete a.group;
    }
    // Annotation ids that collided within one file (panoptic segment 7 vs stuff annotation 7) are renumbered.
    expect(comparable(second, false)).toEqual(comparable(first, false));
    const keypoints = JSON.parse(fs.readFileSync(path.join(out, 'annotations/person_keypoints_val.json'), 'utf8'));
    // Image ids of the source are kept (detection results refer to them).
    expect(keypoints.images).toEqual([{ id: 40, width: 5, height: 10, file_name: 'b.jpg' }]);
    expect(keypoints.categories[0]).toMatchObject({ id: 1, name: 'a', keypoints: ['1', '2', '3'], skeleton: [[1, 2], [2, 3]] });
    expect(keypoints.annotations[0]).toMatchObject({ id: 1, category_id: 1, keypoints: [1, 2, 2, 3, 4, 2, 2, 3, 2], num_keypoints: 3, bbox: [0, 0, 1, 2], area: 2, segmentation: [[0, 0, 1, 0, 1, 2, 0, 2]] });
  });

  test('--save-media copies images into images/<subset>/', async () => {
    const { out } = await exportTo(await load(corpus('roboflow_dataset', 'coco')), { 'save-media': true });
    expect(fs.readdirSync(path.join(out, 'images/train')).sort()).toEqual(['train_001.jpg', 'train_002.jpg']);
    expect(fs.readdirSync(path.join(out, 'images/val'))).toEqual(['val_001.jpg']);
    const again = await load(out);
    expect(fs.existsSync(item(again, 'val', 'val_001').image!.path)).toBe(true);
  });

  test('convert coco -> coco through the pipeline', async () => {
    const out = path.join(tempDir('coco-conv-'), 'out');
    const result = await convert({ input: COCO('coco_instances'), inputFormat: 'coco', output: out, outputFormat: 'coco' });
    expect(result).toMatchObject({ items: 2, annotations: { bbox: 3, polygon: 1, mask: 1 } });
  });
});

conformance('coco export --tasks on the corpus', () => {
  test('coco_panoptic corpus: --tasks panoptic round-trips masks pixel for pixel, segment ids and categories', async () => {
    const first = await load(COCO('coco_panoptic'));
    const { out, summary, reporter } = await exportTo(first, { tasks: 'panoptic' });
    expect(reporter.messages.filter((m) => m.severity === 'warning')).toEqual([]);
    expect(summary).toEqual({ items: 2, annotations: { mask: 3 }, dropped: {} });
    expect(fs.readdirSync(path.join(out, 'annotations')).sort()).toEqual(['panoptic_train', 'panoptic_train.json', 'panoptic_val', 'panoptic_val.json']);
    const train = readJson(path.join(out, 'annotations/panoptic_train.json'));
    // isthing 0 as the source file said (Datumaro always writes 0).
    expect(train.categories).toEqual([{ id: 1, name: 'a', supercategory: '', isthing: 0 }, { id: 2, name: 'b', supercategory: '', isthing: 0 }]);
    expect(train.images).toEqual([{ id: 5, width: 10, height: 5, file_name: 'a.jpg' }]);
    // The source's area 20 / bbox [2, 0, 4, 4] did not match its PNG; the painted 5 x 5 block is written.
    expect(train.annotations).toEqual([{ image_id: 5, file_name: 'a.png', segments_info: [{ id: 460551, category_id: 1, area: 25, bbox: [0, 0, 5, 5], iscrowd: 0 }] }]);
    const val = readJson(path.join(out, 'annotations/panoptic_val.json'));
    expect(val.annotations[0].segments_info).toEqual([
      { id: 7, category_id: 1, area: 20, bbox: [0, 0, 2, 10], iscrowd: 0 },
      { id: 20, category_id: 2, area: 20, bbox: [2, 0, 2, 10], iscrowd: 1 },
    ]);
    // The PNG has the image's size (a.png of the corpus is 5 x 5 for a 10 x 5 image).
    const a = await readSegmentIds(path.join(out, 'annotations/panoptic_train/a.png'));
    expect(a).toEqual(Array.from({ length: 5 }, () => [...Array(5).fill(460551), ...Array(5).fill(0)]));
    const b = await readSegmentIds(path.join(out, 'annotations/panoptic_val/b.png'));
    expect(b).toEqual(Array.from({ length: 10 }, () => [7, 7, 20, 20, 0]));

    const second = await load(out);
    expect(comparable(second)).toEqual(comparable(first));
    expect(second.categories.map((c) => [c.name, c.id, c.extra?.isthing])).toEqual(first.categories.map((c) => [c.name, c.id, 0]));
  });

  test('image_info: images only, round-trips the items; chosen task files are written even when empty', async () => {
    const first = await load(COCO('coco_instances'));
    const { out, summary } = await exportTo(first, { tasks: 'image_info,captions' });
    expect(fs.readdirSync(path.join(out, 'annotations')).sort()).toEqual(['captions_train.json', 'captions_val.json', 'image_info_train.json', 'image_info_val.json']);
    expect(summary.dropped).toEqual({ 'no-task-for-bbox': 3, 'no-task-for-polygon': 1, 'no-task-for-mask': 1 });
    const info = readJson(path.join(out, 'annotations/image_info_val.json'));
    expect(Object.keys(info).sort()).toEqual(['categories', 'images', 'info', 'licenses']);
    expect(info.images).toEqual([{ id: 40, width: 5, height: 10, file_name: 'b.jpg' }]);
    expect(readJson(path.join(out, 'annotations/captions_val.json')).annotations).toEqual([]);
    const second = await load(out);
    expect(second.items.map((i) => [i.subset, i.id, i.image?.width, i.image?.height, i.attributes, i.annotations])).toEqual(
      first.items.map((i) => [i.subset, i.id, i.image?.width, i.image?.height, i.attributes, []]));

    const again = await load(COCO('coco_image_info'));
    const { out: out2 } = await exportTo(again, { tasks: 'image_info' });
    expect(comparable(await load(out2))).toEqual(comparable(again));
  });
});
