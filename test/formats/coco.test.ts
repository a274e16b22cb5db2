import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, test } from 'vitest';
import { collect, convert, createContext, DatumError, detectFormats, importDataset, Reporter } from '../../src/index.js';
import type { Annotation, Dataset, Item, MemoryDataset } from '../../src/index.js';
import { plugin } from '../../formats/coco/index.js';
import { fixture, tempDir } from '../helpers/corpus.js';
import { materialize } from '../helpers/compare.js';
import { parsePluginOptions } from '../../src/options.js';
import { UsageError } from '../../src/diagnostics.js';

/** Every COCO task file our fixtures have. */
const ALL_TASKS = ['instances', 'person_keypoints', 'captions', 'labels', 'image_info', 'stuff', 'panoptic'];

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

function writeJson(file: string, value: unknown): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, typeof value === 'string' ? value : JSON.stringify(value));
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

/** Images of our COCO fixtures: one per subset, as their annotation files list them. */
const SUBSET_IMAGES: Record<string, [string, number, number]> = { train: ['cat.jpg', 8, 6], val: ['dog.jpg', 6, 8] };

/**
 * A COCO dataset of our own: the given task files of test/fixtures/coco/annotations/, laid out as
 * `annotations/<task>_<subset>.json` + `images/<subset>/` (coco), `annotations/` + `<subset>/` (mmdet) or
 * `<subset>/_annotations.coco.json` beside the images (roboflow); images and panoptic PNGs are generated.
 */
async function cocoFixture(tasks: string[], layout: 'coco' | 'mmdet' | 'roboflow' = 'coco'): Promise<string> {
  const root = path.join(tempDir('coco-fixture-'), layout);
  for (const [subset, [name, width, height]] of Object.entries(SUBSET_IMAGES)) {
    for (const task of tasks) {
      const text = fs.readFileSync(fixture('coco', 'annotations', `${task}_${subset}.json`), 'utf8');
      writeJson(path.join(root, layout === 'roboflow' ? `${subset}/_annotations.coco.json` : `annotations/${task}_${subset}.json`), text);
    }
    const image = path.join(root, layout === 'coco' ? `images/${subset}` : subset, name);
    fs.mkdirSync(path.dirname(image), { recursive: true });
    await sharp({ create: { width, height, channels: 3, background: '#808080' } }).jpeg().toFile(image);
  }
  if (tasks.includes('panoptic')) {
    // cat.png is smaller than its 8 x 6 image; dog.png: columns 0-1 segment 5, 2-4 segment 300 = (44, 1, 0), 5 void
    await writePng(path.join(root, 'annotations/panoptic_train/cat.png'), 4, 6, () => [3, 2, 1]);
    await writePng(path.join(root, 'annotations/panoptic_val/dog.png'), 6, 8, (x) => (x < 2 ? [5, 0, 0] : x < 5 ? [44, 1, 0] : [0, 0, 0]));
  }
  return root;
}

async function writePng(file: string, width: number, height: number, colour: (x: number, y: number) => number[]): Promise<void> {
  const pixels = Array.from({ length: height }, (_, y) => Array.from({ length: width }, (_, x) => colour(x, y))).flat(2);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  await sharp(Buffer.from(pixels), { raw: { width, height, channels: 3 } }).png().toFile(file);
}

/** Our Roboflow COCO export (test/fixtures/coco/roboflow/): hashed file names, a placeholder category 0, `valid`. */
const roboflowFixture = () => materialize(fixture('coco', 'roboflow'), [
  ['train/img_0001_jpg.rf.3f2a.jpg', 8, 6], ['train/img_0002_jpg.rf.9c1d.jpg', 8, 6], ['valid/img_0003_jpg.rf.77e0.jpg', 8, 6],
]);

describe('coco import of our own task files and layouts', () => {
  test('instances: bbox, polygon, uncompressed RLE, sparse category ids, attributes', async () => {
    const dir = await cocoFixture(['instances']);
    const ds = await load(dir);
    expect(ds.categories.map((c) => [c.name, c.id])).toEqual([['ant', 2], ['bee', 3], ['fly', 7]]);
    expect(ds.items.map((i) => `${i.subset}/${i.id}`)).toEqual(['train/cat', 'val/dog']);
    const a = item(ds, 'train', 'cat');
    expect(a.image).toEqual({ path: path.join(dir, 'images/train/cat.jpg'), width: 8, height: 6 });
    expect(ds.items.map((i) => i.attributes)).toEqual([{ id: 12 }, { id: 47 }]);
    expect(a.annotations).toEqual([{ type: 'bbox', x: 1, y: 1, w: 4, h: 2, label: 1, id: 3 }]);
    const b = item(ds, 'val', 'dog');
    expect(b.annotations[0]).toEqual({ type: 'polygon', points: [1, 1, 4, 1, 4, 5, 1, 5], label: 0, id: 1, group: 1, attributes: { score: 2, note: 'left side' } });
    expect(b.annotations[1]).toEqual({ type: 'bbox', x: 1, y: 1, w: 3, h: 4, label: 0, id: 1, group: 1, attributes: { score: 2, note: 'left side' } });
    // counts [8, 16, 24] on a 6 x 8 image, column-major: columns 1 and 2 are set.
    expect(b.annotations[2]).toEqual({ type: 'mask', left: 1, top: 0, width: 2, height: 8, rle: [0, 16], label: 1, id: 2, group: 2, attributes: { is_crowd: true } });
  });

  test('person_keypoints: skeletons grouped with their shapes, 0-based edges recognized, names filled in', async () => {
    const reporter = new Reporter();
    const ds = await load(await cocoFixture(['person_keypoints']), reporter);
    expect(ds.categories[0]).toMatchObject({ name: 'ant', id: 2, keypoints: ['1', '2', '3'], skeleton: [[0, 1], [1, 2]] });
    const a = item(ds, 'train', 'cat');
    expect(a.annotations).toEqual([
      { type: 'bbox', x: 1, y: 1, w: 4, h: 2, label: 1, id: 3, group: 3 },
      { type: 'skeleton', points: [0, 0, 2, 2, 5, 2], visibility: [0, 1, 2], label: 1, id: 3, group: 3 },
    ]);
    const b = item(ds, 'val', 'dog');
    const skeletons = b.annotations.filter((x) => x.type === 'skeleton');
    expect(skeletons.map((s) => s.type === 'skeleton' && [labelName(ds, s), s.points, s.visibility, s.group])).toEqual([
      ['ant', [1, 1, 4, 1, 2, 5], [2, 2, 2], 1],
      ['bee', [1, 2, 2, 6, 2, 1], [2, 2, 2], 2],
    ]);
    expect(b.annotations.filter((x) => x.type !== 'skeleton').map((x) => [x.type, x.group])).toEqual([['polygon', 1], ['bbox', 1], ['mask', 2], ['bbox', 2]]);
    expect(reporter.messages.filter((m) => m.severity === 'warning')).toEqual([]);
  });

  test('captions, labels, image_info', async () => {
    const captions = await load(await cocoFixture(['captions']));
    expect(item(captions, 'val', 'dog').annotations).toEqual([{ type: 'caption', caption: 'a dog', id: 1 }, { type: 'caption', caption: 'on grass', id: 2 }]);
    expect(item(captions, 'train', 'cat').annotations).toEqual([{ type: 'caption', caption: 'a cat asleep', id: 1 }]);
    const labels = await load(await cocoFixture(['labels']));
    expect(item(labels, 'val', 'dog').annotations.map((x) => [x.type, labelName(labels, x)])).toEqual([['label', 'ant'], ['label', 'bee']]);
    const info = await load(await cocoFixture(['image_info']));
    expect(info.items.map((i) => [i.id, i.image?.width, i.image?.height, i.annotations.length])).toEqual([['cat', 8, 6, 0], ['dog', 6, 8, 0]]);
  });

  test('stuff: RLE with several runs', async () => {
    const ds = await load(await cocoFixture(['stuff']));
    // counts [12, 6, 6, 12, 12] on 8 x 6: columns 2, 4, 5 set, column 3 not.
    expect(item(ds, 'train', 'cat').annotations).toEqual([{
      type: 'mask', left: 2, top: 0, width: 4, height: 6, rle: [0, 1, 1, 3, 1, 3, 1, 3, 1, 3, 1, 3, 1, 2], label: 0, id: 9, group: 9, attributes: { is_crowd: true },
    }, { type: 'bbox', x: 2, y: 0, w: 4, h: 6, label: 0, id: 9, group: 9, attributes: { is_crowd: true } }]);
  });

  test('panoptic: segments from the PNG (id = R + 256 G + 256^2 B)', async () => {
    const ds = await load(await cocoFixture(['panoptic']));
    // cat.png is 4 x 6 of colour (3, 2, 1) = segment 66051.
    expect(item(ds, 'train', 'cat').annotations).toEqual([{ type: 'mask', left: 0, top: 0, width: 4, height: 6, rle: [0, 24], id: 66051, label: 0 }]);
    // dog.png: columns 0-1 are segment 5, 2-4 segment 300 (crowd), column 5 void.
    expect(item(ds, 'val', 'dog').annotations).toEqual([
      { type: 'mask', left: 0, top: 0, width: 2, height: 8, rle: [0, 16], id: 5, label: 0 },
      { type: 'mask', left: 2, top: 0, width: 3, height: 8, rle: [0, 24], id: 300, label: 1, attributes: { is_crowd: true } },
    ]);
  });

  test('every task: all task files of a subset merge into one item, duplicates across files dropped', async () => {
    const ds = await load(await cocoFixture(ALL_TASKS));
    expect(ds.categories.map((c) => c.name)).toEqual(['ant', 'bee', 'fly']);
    expect(ds.items).toHaveLength(2);
    const a = item(ds, 'train', 'cat');
    expect(a.annotations.map((x) => x.type).sort()).toEqual(['bbox', 'bbox', 'caption', 'label', 'mask', 'mask', 'skeleton']);
    const b = item(ds, 'val', 'dog');
    // instances (polygon, mask, their 2 bboxes) + keypoints (2 skeletons; their shapes are the instances' ones)
    // + labels (2) + captions (2) + panoptic (2 masks) + stuff (its mask equals the instances one).
    expect(b.annotations.map((x) => x.type).sort()).toEqual(['bbox', 'bbox', 'caption', 'caption', 'label', 'label', 'mask', 'mask', 'mask', 'polygon', 'skeleton', 'skeleton']);
  });

  test('mmdet layout finds images in <subset>/; Roboflow layouts find them beside the JSON', async () => {
    const mmdetDir = await cocoFixture(['instances'], 'mmdet');
    const mmdet = await load(mmdetDir);
    expect(item(mmdet, 'val', 'dog').image?.path).toBe(path.join(mmdetDir, 'val/dog.jpg'));
    expect(item(mmdet, 'val', 'dog').annotations).toHaveLength(4);
    const rf1Dir = await cocoFixture(['instances'], 'roboflow');
    const rf1 = await load(rf1Dir);
    expect(item(rf1, 'train', 'cat').image?.path).toBe(path.join(rf1Dir, 'train/cat.jpg'));
    expect(item(rf1, 'val', 'dog').annotations.map((x) => x.type)).toEqual(['polygon', 'bbox', 'mask', 'bbox']);
    const rf2 = await load(await roboflowFixture());
    // the placeholder category 0 (the others' supercategory) is left out
    expect(rf2.categories.map((c) => [c.name, c.id])).toEqual([['kitten', 1], ['puppy', 2]]);
    expect(rf2.items.map((i) => `${i.subset}/${i.id}`)).toEqual(['train/img_0001_jpg.rf.3f2a', 'train/img_0002_jpg.rf.9c1d', 'valid/img_0003_jpg.rf.77e0']);
    expect(item(rf2, 'train', 'img_0002_jpg.rf.9c1d').annotations).toEqual([{ type: 'bbox', x: 0, y: 0, w: 4, h: 5, label: 1, id: 1 }]);
    expect(fs.existsSync(item(rf2, 'valid', 'img_0003_jpg.rf.77e0').image!.path)).toBe(true);
  });

  test('detect recognizes every layout and one annotation file', async () => {
    for (const [tasks, layout] of [[ALL_TASKS, 'coco'], [['instances'], 'coco'], [['panoptic'], 'coco'], [['instances'], 'mmdet'], [['instances'], 'roboflow'], [['captions'], 'coco']] as const) {
      const found = await detectFormats(await cocoFixture([...tasks], layout));
      expect(found[0]?.format, `${tasks} ${layout}`).toBe('coco');
    }
    expect((await plugin.detect!(await roboflowFixture()))?.confidence).toBeGreaterThan(0.9);
    expect((await plugin.detect!(fixture('coco/annotations/instances_val.json')))?.confidence).toBeGreaterThan(0.9);
    expect(await plugin.detect!(fixture('cvat'))).toMatchObject({ confidence: 0 });
  });

  test('one annotation file as input', async () => {
    const dir = await cocoFixture(ALL_TASKS);
    const ds = await load(path.join(dir, 'annotations/instances_val.json'));
    expect(ds.items.map((i) => [i.subset, i.id, i.image?.path])).toEqual([['val', 'dog', path.join(dir, 'images/val/dog.jpg')]]);
  });
});

describe('coco round trip (import -> export -> import)', () => {
  for (const [tasks, layout] of [[['instances'], 'coco'], [['person_keypoints'], 'coco'], [['captions'], 'coco'], [['labels'], 'coco'], [['stuff'], 'coco'],
    [['image_info'], 'coco'], [['instances'], 'mmdet'], [['instances'], 'roboflow']] as const) {
    test(`${tasks} (${layout})`, async () => {
      const first = await load(await cocoFixture([...tasks], layout));
      const { out, reporter } = await exportTo(first);
      expect(reporter.messages.filter((m) => m.severity === 'warning')).toEqual([]);
      const second = await load(out);
      expect(comparable(second)).toEqual(comparable(first));
      expect(second.categories.map((c) => [c.name, c.id])).toEqual(first.categories.map((c) => [c.name, c.id]));
    });
  }

  test('every task (panoptic masks become instance masks)', async () => {
    const first = await load(await cocoFixture(ALL_TASKS));
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
    // Annotation ids that collide within one file (panoptic segment 5 vs ...) are renumbered.
    expect(comparable(second, false)).toEqual(comparable(first, false));
    const keypoints = JSON.parse(fs.readFileSync(path.join(out, 'annotations/person_keypoints_val.json'), 'utf8'));
    // Image ids of the source are kept (detection results refer to them).
    expect(keypoints.images).toEqual([{ id: 47, width: 6, height: 8, file_name: 'dog.jpg' }]);
    expect(keypoints.categories[0]).toMatchObject({ id: 2, name: 'ant', keypoints: ['1', '2', '3'], skeleton: [[1, 2], [2, 3]] });
    expect(keypoints.annotations[0]).toMatchObject({ id: 1, category_id: 2, keypoints: [1, 1, 2, 4, 1, 2, 2, 5, 2], num_keypoints: 3, bbox: [1, 1, 3, 4], area: 12, segmentation: [[1, 1, 4, 1, 4, 5, 1, 5]] });
  });

  test('--save-media copies images into images/<subset>/', async () => {
    const { out } = await exportTo(await load(await roboflowFixture()), { 'save-media': true });
    expect(fs.readdirSync(path.join(out, 'images/train')).sort()).toEqual(['img_0001_jpg.rf.3f2a.jpg', 'img_0002_jpg.rf.9c1d.jpg']);
    expect(fs.readdirSync(path.join(out, 'images/valid'))).toEqual(['img_0003_jpg.rf.77e0.jpg']);
    const again = await load(out);
    expect(fs.existsSync(item(again, 'valid', 'img_0003_jpg.rf.77e0').image!.path)).toBe(true);
  });
});

describe('coco export of model data', () => {
  const categories = [{ name: 'person', id: 1, keypoints: ['nose', 'eye'], skeleton: [[0, 1]] as [number, number][] }, { name: 'car', id: 3 }, { name: 'new' }];

  test('multi-part polygons, rotated boxes, unsupported kinds, normalized items, non-finite numbers', async () => {
    const ds: MemoryDataset = {
      categories,
      items: [
        {
          id: 'dir/one', subset: '', image: { path: '/nowhere/dir/one.png', width: 100, height: 50 },
          annotations: [
            { type: 'polygon', points: [0, 0, 10, 0, 10, 10], label: 1, group: 5, id: 9, attributes: { score: NaN, note: 'kept' } },
            { type: 'polygon', points: [20, 20, 30, 20, 30, 30, 20, 30], label: 1, group: 5 },
            { type: 'bbox', x: 10, y: 10, w: 20, h: 10, rotation: 90, label: 2 },
            { type: 'polyline', points: [0, 0, 1, 1], label: 1 },
            { type: 'bbox', x: NaN, y: 0, w: 1, h: 1, label: 1 },
            { type: 'bbox', x: 1, y: 1, w: 1, h: 1 },
            { type: 'bbox', x: 1, y: 1, w: 1, h: 1, label: 7 },
            { type: 'mask', left: 1, top: 2, width: 2, height: 2, rle: [0, 1, 2, 1], label: 0 },
          ],
        },
        { id: 'norm', subset: '', normalized: true, annotations: [{ type: 'bbox', x: 0.1, y: 0.1, w: 0.2, h: 0.2, label: 0 }, { type: 'caption', caption: 'ok' }] },
      ],
    };
    const reporter = new Reporter();
    const { out, summary } = await exportTo(ds, {}, reporter);
    expect(summary.dropped).toEqual({ 'unsupported-polyline': 1, 'non-finite': 1, 'no-label': 2, 'no-image-size': 1 });
    expect(summary.annotations).toEqual({ polygon: 2, bbox: 1, mask: 1, caption: 1 });
    expect(reporter.messages.map((m) => m.code).sort()).toEqual(['no-image-size', 'no-label', 'no-label', 'non-finite', 'rotated-bbox', 'unsupported-polyline']);
    const text = fs.readFileSync(path.join(out, 'annotations/instances_default.json'), 'utf8');
    expect(text).not.toMatch(/NaN|Infinity|null/);
    const json = JSON.parse(text);
    expect(json.categories.map((c: { id: number; name: string }) => [c.id, c.name])).toEqual([[1, 'person'], [3, 'car'], [2, 'new']]);
    expect(json.images).toEqual([{ id: 1, width: 100, height: 50, file_name: 'dir/one.png' }, { id: 2, width: 0, height: 0, file_name: 'norm.jpg' }]);
    const [parts, rotated, mask] = json.annotations;
    expect(parts).toMatchObject({ id: 9, category_id: 3, segmentation: [[0, 0, 10, 0, 10, 10], [20, 20, 30, 20, 30, 30, 20, 30]], bbox: [0, 0, 30, 30], area: 150, iscrowd: 0 });
    expect(parts.attributes).toEqual({ note: 'kept' });
    expect(rotated.category_id).toBe(2);
    // 20 x 10 box centred at (20, 15) turned 90 degrees clockwise: 10 wide, 20 high.
    const corners: number[] = rotated.segmentation[0];
    expect(corners.map((v) => Math.round(v * 1e6) / 1e6)).toEqual([25, 5, 25, 25, 15, 25, 15, 5]);
    // rle [0, 1, 2, 1] on a 2 x 2 box at (1, 2): pixels (1, 2) and (2, 3).
    expect(mask).toMatchObject({ category_id: 1, bbox: [1, 2, 2, 2], area: 2, segmentation: { size: [50, 100] } });
    const back = await load(out);
    const one = item(back, 'default', 'dir/one');
    expect(one.annotations.find((a) => a.type === 'mask')).toMatchObject({ left: 1, top: 2, width: 2, height: 2, rle: [0, 1, 2, 1] });
    expect(one.annotations.filter((a) => a.type === 'polygon').map((a) => a.group)).toEqual([9, 9, 1]);
    expect(item(back, 'default', 'norm').annotations).toEqual([{ type: 'caption', caption: 'ok', id: 1 }]);
  });

  test('polygons with fewer than 3 points and boxes of negative size are dropped with a warning (pycocotools reads 4 numbers as a box)', async () => {
    const ds: MemoryDataset = {
      categories,
      items: [{ id: 'p', subset: 'train', image: { path: '/x/p.jpg', width: 64, height: 64 }, annotations: [
        { type: 'polygon', points: [1, 1, 5, 5], label: 0, id: 4 },
        { type: 'polygon', points: [1, 1, 5, 5, 9], label: 0, id: 5 },
        { type: 'polygon', points: [1, 1, 5, 5, 9, 1], label: 0, id: 6 },
        { type: 'bbox', x: 5, y: 5, w: -2, h: 3, label: 0, id: 7 },
      ] }],
    };
    const reporter = new Reporter();
    const { out, summary } = await exportTo(ds, {}, reporter);
    const json = JSON.parse(fs.readFileSync(path.join(out, 'annotations/instances_train.json'), 'utf8'));
    expect(json.annotations.map((a: { id: number; segmentation: number[][] }) => [a.id, a.segmentation])).toEqual([[6, [[1, 1, 5, 5, 9, 1]]]]);
    expect(summary.dropped).toEqual({ 'degenerate-polygon': 2, 'negative-size': 1 });
    expect(reporter.messages.some((m) => m.message.startsWith('bbox annotation 7 not written'))).toBe(true);
    expect(reporter.messages.map((m) => m.message).filter((m) => /polygon annotation (4|5) not written/.test(m))).toHaveLength(2);
  });

  test('a dataset without items is written as an empty instances file that imports back with its categories', async () => {
    const { out } = await exportTo({ categories, items: [] });
    const json = JSON.parse(fs.readFileSync(path.join(out, 'annotations/instances_default.json'), 'utf8'));
    expect(json).toMatchObject({ images: [], annotations: [] });
    const back = await load(out);
    expect(back.categories.map((c) => c.name)).toEqual(categories.map((c) => c.name));
    expect(back.items).toEqual([]);
  });

  test('skeleton without a box: bbox from its visible points; edges written 1-based', async () => {
    const ds: MemoryDataset = {
      categories,
      items: [{ id: 'p', subset: 'train', image: { path: '/x/p.jpg', width: 64, height: 64 }, annotations: [
        { type: 'skeleton', points: [5, 6, 99, 99], visibility: [2, 0], label: 0 },
      ] }],
    };
    const { out } = await exportTo(ds);
    const json = JSON.parse(fs.readFileSync(path.join(out, 'annotations/person_keypoints_train.json'), 'utf8'));
    expect(json.categories[0]).toMatchObject({ keypoints: ['nose', 'eye'], skeleton: [[1, 2]] });
    expect(json.annotations).toEqual([{ id: 1, image_id: 1, category_id: 1, segmentation: [], area: 0, bbox: [5, 6, 0, 0], iscrowd: 0, keypoints: [5, 6, 2, 0, 0, 0], num_keypoints: 1 }]);
    const back = await load(out);
    expect(back.categories[0].skeleton).toEqual([[0, 1]]);
  });
});

describe('coco messy and bad inputs', () => {
  function dataset(files: Record<string, unknown>): string {
    const root = tempDir('coco-in-');
    for (const [name, value] of Object.entries(files)) writeJson(path.join(root, name), value);
    return root;
  }

  test('malformed JSON: DatumError with file, byte offset and line', async () => {
    const text = '{\n  "images": [{"id": 1, "file_name": "a.jpg"}],\n  "annotations": [{"id": 1,, "image_id": 1}]\n}';
    const root = dataset({ 'annotations/instances_train.json': text });
    const error = await load(root).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DatumError);
    const d = (error as DatumError).diagnostic;
    expect(d.code).toBe('bad-json');
    expect(d.file).toBe(path.join(root, 'annotations/instances_train.json'));
    expect(d.line).toBe(3);
    expect(d.offset).toBe(text.indexOf(',,') + 1);
  });

  test('truncated file: DatumError at the end', async () => {
    const text = '{"images": [{"id": 1, "file_name": "a.jpg"}], "annotations": [';
    const root = dataset({ 'annotations/instances_train.json': text });
    const error = (await load(root).catch((e: unknown) => e)) as DatumError;
    expect(error).toBeInstanceOf(DatumError);
    expect(error.diagnostic).toMatchObject({ code: 'bad-json', offset: text.length, line: 1 });
  });

  test('categories last; compressed RLE; non-finite numbers, strings, missing images and categories: warnings with the annotation id, the rest imported', async () => {
    const text = `{
      "annotations": [
        {"id": 11, "image_id": 0, "category_id": 7, "bbox": [NaN, 1, 2, 3]},
        {"id": 12, "image_id": 0, "category_id": 7, "bbox": [1, 1, 2, 3]},
        {"id": 13, "image_id": 0, "category_id": 7, "segmentation": [[1, 2, 3, "4", 5, 6]]},
        {"id": 14, "image_id": 0, "category_id": 7, "bbox": [1, 1, Infinity, 3]},
        {"id": 15, "image_id": 99, "category_id": 7, "bbox": [1, 1, 2, 3]},
        {"id": 16, "image_id": 1, "category_id": 42, "bbox": [4, 4, 2, 2]},
        {"id": 17, "image_id": 0, "category_id": 7, "segmentation": {"counts": "0", "size": [2, 2]}},
        {"id": 18, "image_id": 1, "category_id": 7, "segmentation": {"counts": "0d0n0", "size": [10, 5]}, "iscrowd": 1}
      ],
      "images": [{"id": 0, "file_name": "x.jpg", "width": "640", "height": "480"}, {"id": 1, "file_name": "y.jpg", "width": 10, "height": 10}],
      "categories": [{"id": 0, "name": "things"}, {"id": 7, "name": "cat", "supercategory": "things"}]
    }`;
    const root = dataset({ 'annotations/instances_train.json': text });
    const reporter = new Reporter();
    const ds = await load(root, reporter);
    // The unused placeholder category 0 (the others' supercategory) is left out.
    expect(ds.categories.map((c) => c.name)).toEqual(['cat']);
    expect(item(ds, 'train', 'x').image).toMatchObject({ width: 640, height: 480 });
    expect(item(ds, 'train', 'x').annotations).toEqual([{ type: 'bbox', x: 1, y: 1, w: 2, h: 3, label: 0, id: 12 }]);
    expect(item(ds, 'train', 'y').annotations).toEqual([
      { type: 'bbox', x: 4, y: 4, w: 2, h: 2, id: 16 },
      // '0d0n0' = runs [0, 20, 30] over 10 rows x 5 columns: the first two columns.
      { type: 'mask', left: 0, top: 0, width: 2, height: 10, rle: [0, 20], label: 0, id: 18, attributes: { is_crowd: true } },
    ]);
    const warnings = reporter.messages.filter((m) => m.severity === 'warning');
    expect(warnings.map((w) => w.code)).toEqual(['bad-bbox', 'bad-polygon', 'bad-bbox', 'bad-rle', 'unknown-image', 'unknown-category']);
    for (const [w, id] of warnings.map((w, i) => [w, [11, 13, 14, 17, 15, 16][i]] as const)) {
      expect(w.message).toContain(`annotation ${id}`);
      expect(w.file).toBe(path.join(root, 'annotations/instances_train.json'));
    }
    expect(warnings[0].pointer).toBe('/annotations/0/bbox');
  });

  test('placeholder category 0 is left out before export reads the categories: labels keep their names', async () => {
    const root = tempDir('coco-ph-');
    writeJson(path.join(root, 'train/_annotations.coco.json'), {
      images: [{ id: 0, file_name: 'x.jpg', width: 10, height: 10 }],
      categories: [{ id: 0, name: 'things', supercategory: 'none' }, { id: 1, name: 'cat', supercategory: 'things' }, { id: 2, name: 'dog', supercategory: 'things' }],
      annotations: [{ id: 5, image_id: 0, category_id: 2, bbox: [1, 1, 2, 2] }],
    });
    const out = path.join(tempDir('coco-ph-out-'), 'out');
    await convert({ input: root, inputFormat: 'coco', output: out, outputFormat: 'coco' });
    const written = JSON.parse(fs.readFileSync(path.join(out, 'annotations/instances_train.json'), 'utf8'));
    const names = new Map(written.categories.map((c: { id: number; name: string }) => [c.id, c.name]));
    expect([...names.values()]).toEqual(['cat', 'dog']);
    expect(written.annotations.map((a: { category_id: number }) => names.get(a.category_id))).toEqual(['dog']);
  });

  test('image id 0 is kept on export (ids were shifted by one, breaking result files that refer to them)', async () => {
    const images = [0, 1, 2].map((id) => ({ id, file_name: `${id}.jpg`, width: 4, height: 4 }));
    const root = dataset({ 'annotations/instances_train.json': { images, categories: [{ id: 1, name: 'a' }], annotations: [{ id: 3, image_id: 2, category_id: 1, bbox: [0, 0, 1, 1] }] } });
    const { out } = await exportTo(await load(root));
    const written = JSON.parse(fs.readFileSync(path.join(out, 'annotations/instances_train.json'), 'utf8'));
    expect(written.images.map((i: { id: number; file_name: string }) => [i.id, i.file_name])).toEqual([[0, '0.jpg'], [1, '1.jpg'], [2, '2.jpg']]);
    expect(written.annotations.map((a: { id: number; image_id: number }) => [a.id, a.image_id])).toEqual([[3, 2]]);
  });

  test('skeleton edges to keypoints the category does not name are skipped with a warning', async () => {
    const root = dataset({ 'annotations/person_keypoints_train.json': {
      images: [{ id: 1, file_name: 'a.jpg', width: 10, height: 10 }],
      categories: [{ id: 1, name: 'person', keypoints: ['a', 'b'], skeleton: [[1, 2], [2, 99]] }],
      annotations: [{ id: 1, image_id: 1, category_id: 1, bbox: [1, 1, 5, 5], keypoints: [1, 1, 2, 3, 3, 2] }],
    } });
    const reporter = new Reporter();
    const ds = await load(root, reporter);
    expect(ds.categories[0].skeleton).toEqual([[0, 1]]);
    expect(reporter.messages.filter((m) => m.code === 'bad-skeleton').map((m) => m.pointer)).toEqual(['/categories/0']);
  });

  test('segmentation [[]] (no polygon) or a broken one falls back to the bbox', async () => {
    const root = dataset({ 'annotations/instances_train.json': {
      images: [{ id: 1, file_name: 'a.jpg', width: 10, height: 10 }],
      categories: [{ id: 1, name: 'cat' }],
      annotations: [
        { id: 1, image_id: 1, category_id: 1, bbox: [1, 2, 3, 4], segmentation: [[]] },
        { id: 2, image_id: 1, category_id: 1, bbox: [2, 2, 3, 4], segmentation: [[1, 1, 'x', 1, 5, 5]] },
        { id: 3, image_id: 1, category_id: 1, bbox: [3, 2, 3, 4], segmentation: {} },
      ],
    } });
    const reporter = new Reporter();
    const ds = await load(root, reporter);
    expect(ds.items[0].annotations).toEqual([1, 2, 3].map((id) => ({ type: 'bbox', x: id, y: 2, w: 3, h: 4, label: 0, id })));
    expect(reporter.messages.map((m) => [m.code, m.pointer])).toEqual([['bad-polygon', '/annotations/1/segmentation/0'], ['bad-rle', '/annotations/2/segmentation']]);
  });

  test('image ids restart at 0 in each subset file; items without annotations are kept', async () => {
    const file = (name: string) => ({ images: [{ id: 0, file_name: `${name}.jpg`, width: 4, height: 4 }, { id: 1, file_name: `${name}2.jpg`, width: 4, height: 4 }], categories: [{ id: 1, name: 'a' }], annotations: [{ id: 0, image_id: 0, category_id: 1, bbox: [0, 0, 1, 1] }] });
    const root = dataset({ 'annotations/instances_train.json': file('t'), 'annotations/instances_val.json': file('v') });
    const ds = await load(root);
    expect(ds.items.map((i) => [i.subset, i.id, i.annotations.length])).toEqual([['train', 't', 1], ['train', 't2', 0], ['val', 'v', 1], ['val', 'v2', 0]]);
  });

  test('panoptic: ids above 255 use G and B; a missing PNG is a warning', async () => {
    const root = dataset({ 'annotations/panoptic_val.json': {
      images: [{ id: 1, file_name: 'p.jpg', width: 3, height: 2 }, { id: 2, file_name: 'q.jpg', width: 3, height: 2 }],
      categories: [{ id: 5, name: 'road', isthing: 0 }],
      annotations: [
        { image_id: 1, file_name: 'p.png', segments_info: [{ id: 300, category_id: 5, iscrowd: 0 }, { id: 65536, category_id: 5, iscrowd: 1 }] },
        { image_id: 2, file_name: 'missing.png', segments_info: [{ id: 1, category_id: 5 }] },
      ],
    } });
    // Row 0: 300 300 0; row 1: 0 65536 65536.  300 = (44, 1, 0), 65536 = (0, 0, 1).
    const pixels = [[44, 1, 0], [44, 1, 0], [0, 0, 0], [0, 0, 0], [0, 0, 1], [0, 0, 1]].flat();
    fs.mkdirSync(path.join(root, 'annotations/panoptic_val'));
    await sharp(Buffer.from(pixels), { raw: { width: 3, height: 2, channels: 3 } }).png().toFile(path.join(root, 'annotations/panoptic_val/p.png'));
    const reporter = new Reporter();
    const ds = await load(root, reporter);
    expect(item(ds, 'val', 'p').annotations).toEqual([
      { type: 'mask', left: 0, top: 0, width: 2, height: 1, rle: [0, 2], id: 300, label: 0 },
      { type: 'mask', left: 1, top: 1, width: 2, height: 1, rle: [0, 2], id: 65536, label: 0, attributes: { is_crowd: true } },
    ]);
    expect(item(ds, 'val', 'q').annotations).toEqual([]);
    expect(reporter.messages.map((m) => m.code)).toEqual(['missing-panoptic-png']);
  });

  test('a file_name leaving the dataset folder is refused', async () => {
    const root = dataset({ 'annotations/instances_train.json': { images: [{ id: 1, file_name: '../../etc/passwd', width: 1, height: 1 }], annotations: [], categories: [] } });
    await expect(load(root)).rejects.toMatchObject({ diagnostic: { code: 'unsafe-path' } });
  });

  test('convert coco -> coco through the pipeline', async () => {
    const out = path.join(tempDir('coco-conv-'), 'out');
    const result = await convert({ input: await cocoFixture(['instances']), inputFormat: 'coco', output: out, outputFormat: 'coco' });
    expect(result).toMatchObject({ items: 2, annotations: { bbox: 3, polygon: 1, mask: 1 } });
  });
});

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

describe('coco export --tasks', () => {
  test('the option is a plain string option; unknown task names are a usage error', async () => {
    expect(parsePluginOptions(['--tasks', 'instances,panoptic'], plugin.exportOptions, 'coco')).toEqual({ tasks: 'instances,panoptic' });
    await expect(exportTo({ categories: [], items: [] }, { tasks: 'instances,stuff' })).rejects.toThrow(UsageError);
    await expect(exportTo({ categories: [], items: [] }, { tasks: ' , ' })).rejects.toThrow(UsageError);
  });

  test('--tasks panoptic round-trips masks pixel for pixel, segment ids and categories', async () => {
    const first = await load(await cocoFixture(['panoptic']));
    const { out, summary, reporter } = await exportTo(first, { tasks: 'panoptic' });
    expect(reporter.messages.filter((m) => m.severity === 'warning')).toEqual([]);
    expect(summary).toEqual({ items: 2, annotations: { mask: 3 }, dropped: {} });
    expect(fs.readdirSync(path.join(out, 'annotations')).sort()).toEqual(['panoptic_train', 'panoptic_train.json', 'panoptic_val', 'panoptic_val.json']);
    const train = readJson(path.join(out, 'annotations/panoptic_train.json'));
    // isthing 0 as the source file said (Datumaro always writes 0).
    expect(train.categories).toEqual([{ id: 2, name: 'ant', supercategory: '', isthing: 0 }, { id: 3, name: 'bee', supercategory: '', isthing: 0 }]);
    expect(train.images).toEqual([{ id: 12, width: 8, height: 6, file_name: 'cat.jpg' }]);
    // The source's area 10 / bbox [2, 0, 2, 5] did not match its PNG; the painted 4 x 6 block is written.
    expect(train.annotations).toEqual([{ image_id: 12, file_name: 'cat.png', segments_info: [{ id: 66051, category_id: 2, area: 24, bbox: [0, 0, 4, 6], iscrowd: 0 }] }]);
    const val = readJson(path.join(out, 'annotations/panoptic_val.json'));
    expect(val.annotations[0].segments_info).toEqual([
      { id: 5, category_id: 2, area: 16, bbox: [0, 0, 2, 8], iscrowd: 0 },
      { id: 300, category_id: 3, area: 24, bbox: [2, 0, 3, 8], iscrowd: 1 },
    ]);
    // The PNG has the image's size (the source's cat.png is 4 x 6 for an 8 x 6 image).
    const a = await readSegmentIds(path.join(out, 'annotations/panoptic_train/cat.png'));
    expect(a).toEqual(Array.from({ length: 6 }, () => [...Array(4).fill(66051), ...Array(4).fill(0)]));
    const b = await readSegmentIds(path.join(out, 'annotations/panoptic_val/dog.png'));
    expect(b).toEqual(Array.from({ length: 8 }, () => [5, 5, 300, 300, 300, 0]));

    const second = await load(out);
    expect(comparable(second)).toEqual(comparable(first));
    expect(second.categories.map((c) => [c.name, c.id, c.extra?.isthing])).toEqual(first.categories.map((c) => [c.name, c.id, 0]));
  });

  test('overlapping masks and a polygon: z_order, then the later annotation wins; area and bbox count painted pixels', async () => {
    const categories = [{ name: 'person', id: 1 }, { name: 'car', id: 3, extra: { isthing: 0 } }];
    const ds: MemoryDataset = {
      categories,
      items: [{ id: 'dir/x', subset: 'train', image: { path: '/nowhere/dir/x.jpg', width: 6, height: 4 }, attributes: { id: 42 }, annotations: [
        { type: 'mask', left: 0, top: 0, width: 4, height: 4, rle: [0, 16], label: 0, id: 3, zOrder: 1 },
        // Same id 3 as the first: it gets a new one.
        { type: 'mask', left: 2, top: 1, width: 4, height: 2, rle: [0, 8], label: 1, id: 3, attributes: { is_crowd: true } },
        // Pixel centres x 5.5, y 0.5 and 1.5: column 5 of rows 0 and 1, over the mask above.
        { type: 'polygon', points: [5, 0, 6, 0, 6, 2, 5, 2], label: 0, id: 12 },
        // Under the first mask (lower z_order): nothing left to paint.
        { type: 'mask', left: 1, top: 1, width: 1, height: 1, rle: [0, 1], label: 0, id: 9 },
        { type: 'bbox', x: 0, y: 0, w: 2, h: 2, label: 0 },
        { type: 'caption', caption: 'not in panoptic' },
      ] }],
    };
    const reporter = new Reporter();
    const { out, summary } = await exportTo(ds, { tasks: 'panoptic' }, reporter);
    expect(summary).toEqual({ items: 1, annotations: { mask: 2, polygon: 1 }, dropped: { 'empty-segment': 1, 'no-task-for-bbox': 1, 'no-task-for-caption': 1 } });
    expect(reporter.messages.map((m) => m.code).sort()).toEqual(['empty-segment', 'no-task-for-bbox', 'no-task-for-caption']);
    const json = readJson(path.join(out, 'annotations/panoptic_train.json'));
    expect(json.categories).toEqual([{ id: 1, name: 'person', supercategory: '', isthing: 1 }, { id: 3, name: 'car', supercategory: '', isthing: 0 }]);
    expect(json.annotations).toEqual([{ image_id: 42, file_name: 'dir/x.png', segments_info: [
      { id: 3, category_id: 1, area: 16, bbox: [0, 0, 4, 4], iscrowd: 0 },
      { id: 1, category_id: 3, area: 3, bbox: [4, 1, 2, 2], iscrowd: 1 },
      { id: 12, category_id: 1, area: 2, bbox: [5, 0, 1, 2], iscrowd: 0 },
    ] }]);
    expect(await readSegmentIds(path.join(out, 'annotations/panoptic_train/dir/x.png'))).toEqual([
      [3, 3, 3, 3, 0, 12],
      [3, 3, 3, 3, 1, 12],
      [3, 3, 3, 3, 1, 1],
      [3, 3, 3, 3, 0, 0],
    ]);
    const back = item(await load(out), 'train', 'dir/x');
    expect(back.annotations.map((a) => [a.type, a.id, a.type === 'mask' && [a.left, a.top, a.width, a.height]])).toEqual([
      ['mask', 3, [0, 0, 4, 4]], ['mask', 1, [4, 1, 2, 2]], ['mask', 12, [5, 0, 1, 2]],
    ]);
  });

  test('panoptic with instances: masks go to both and count once; an item without size has no PNG', async () => {
    const ds: MemoryDataset = {
      categories: [{ name: 'a' }],
      items: [
        { id: 'sized', subset: '', image: { path: '/nowhere/sized.jpg', width: 3, height: 2 }, annotations: [] },
        { id: 'unsized', subset: '', image: { path: '/nowhere/unsized.jpg' }, annotations: [{ type: 'mask', left: 0, top: 0, width: 1, height: 1, rle: [0, 1], label: 0 }] },
        { id: 'big', subset: '', image: { path: '/nowhere/big.jpg', width: 2, height: 2 }, annotations: [{ type: 'mask', left: 1, top: 1, width: 3, height: 1, rle: [0, 3], label: 0 }] },
      ],
    };
    const { out, summary } = await exportTo(ds, { tasks: 'instances,panoptic' });
    // The unsized item's mask is in instances; only its panoptic PNG is missing.
    expect(summary).toEqual({ items: 3, annotations: { mask: 2 }, dropped: {} });
    const json = readJson(path.join(out, 'annotations/panoptic_default.json'));
    // One entry per image that has a size, segments or not; the mask is clipped to the image.
    expect(json.annotations).toEqual([
      { image_id: 1, file_name: 'sized.png', segments_info: [] },
      { image_id: 3, file_name: 'big.png', segments_info: [{ id: 1, category_id: 1, area: 1, bbox: [1, 1, 1, 1], iscrowd: 0 }] },
    ]);
    expect(await readSegmentIds(path.join(out, 'annotations/panoptic_default/sized.png'))).toEqual([[0, 0, 0], [0, 0, 0]]);
    expect(readJson(path.join(out, 'annotations/instances_default.json')).annotations).toHaveLength(2);

    const { summary: only } = await exportTo(ds, { tasks: 'panoptic' });
    expect(only.dropped).toEqual({ 'no-image-size': 1 });
  });

  test('an item id leaving the panoptic PNG folder is refused', async () => {
    const ds: MemoryDataset = { categories: [{ name: 'a' }], items: [{ id: '../evil', subset: 'train', image: { path: '/x/e.jpg', width: 1, height: 1 }, annotations: [] }] };
    await expect(exportTo(ds, { tasks: 'panoptic' })).rejects.toMatchObject({ diagnostic: { code: 'unsafe-path' } });
  });

  test('image_info: images only, round-trips the items; chosen task files are written even when empty', async () => {
    const first = await load(await cocoFixture(['instances']));
    const { out, summary } = await exportTo(first, { tasks: 'image_info,captions' });
    expect(fs.readdirSync(path.join(out, 'annotations')).sort()).toEqual(['captions_train.json', 'captions_val.json', 'image_info_train.json', 'image_info_val.json']);
    expect(summary.dropped).toEqual({ 'no-task-for-bbox': 3, 'no-task-for-polygon': 1, 'no-task-for-mask': 1 });
    const info = readJson(path.join(out, 'annotations/image_info_val.json'));
    expect(Object.keys(info).sort()).toEqual(['categories', 'images', 'info', 'licenses']);
    expect(info.images).toEqual([{ id: 47, width: 6, height: 8, file_name: 'dog.jpg' }]);
    expect(readJson(path.join(out, 'annotations/captions_val.json')).annotations).toEqual([]);
    const second = await load(out);
    expect(second.items.map((i) => [i.subset, i.id, i.image?.width, i.image?.height, i.attributes, i.annotations])).toEqual(
      first.items.map((i) => [i.subset, i.id, i.image?.width, i.image?.height, i.attributes, []]));

    const again = await load(await cocoFixture(['image_info']));
    const { out: out2 } = await exportTo(again, { tasks: 'image_info' });
    expect(comparable(await load(out2))).toEqual(comparable(again));
  });
});
