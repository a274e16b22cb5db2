/**
 * Objects in the YOLO exporters (YOLO-Ultralytics and Darknet), as Ultralytics' `convert_coco` writes
 * them from COCO: the object's box is its grouped `bbox` (not its polygon's bounds, not its visible
 * keypoints), crowd regions are skipped (`--keep-crowd` keeps them), identical rows are written once,
 * clipped OBB corners are warned about, and `background` is never a class. Rows are parsed from the
 * written files and compared with values worked out by hand.
 */
import { afterAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import '../../formats/index.js';
import type { Category, Dataset, Item } from '../../src/model.js';
import { Reporter } from '../../src/diagnostics.js';
import { convert, createContext } from '../../src/pipeline.js';
import { plugin as ultralytics } from '../../formats/yolo_ultralytics/index.js';
import { plugin as darknet } from '../../formats/yolo/index.js';
import { tempDir } from '../helpers/corpus.js';

const temps: string[] = [];
function temp(): string { const d = tempDir('yolo-objects-'); temps.push(d); return d; }
afterAll(() => { for (const d of temps) fs.rmSync(d, { recursive: true, force: true }); });

async function exportWith(plugin: typeof ultralytics, dataset: Dataset, options: Record<string, string | boolean> = {}) {
  const out = temp();
  const reporter = new Reporter();
  const summary = await plugin.export!(dataset, out, options, createContext({ reporter }));
  return { out, summary, warnings: reporter.messages.filter((m) => m.severity === 'warning') };
}

const read = (file: string) => fs.readFileSync(file, 'utf8');
/** Rows of a label file as numbers. */
const rows = (file: string) => read(file).split('\n').filter(Boolean).map((l) => l.split(' ').map(Number));
function expectRows(actual: number[][], expected: number[][]) {
  expect(actual.map((r) => r.length)).toEqual(expected.map((r) => r.length));
  actual.forEach((row, i) => row.forEach((v, j) => expect(v, `row ${i} value ${j}`).toBeCloseTo(expected[i][j], 6)));
}

const image = (width: number, height: number) => ({ path: '/nowhere/x.jpg', width, height });
const crowd = { is_crowd: true };

/** A COCO-shaped image 200 x 100: objects as the COCO importer yields them (bbox + polygon/mask in one group). */
function cocoShapedItem(): Item {
  return { id: 'a', subset: 'train', image: image(200, 100), annotations: [
    // person: its polygon's bounds (30..50, 20..60) are not its COCO bbox (20..60, 10..70)
    { type: 'polygon', label: 0, group: 1, id: 1, points: [30, 20, 50, 20, 50, 60] },
    { type: 'bbox', label: 0, group: 1, id: 1, x: 20, y: 10, w: 40, h: 60 },
    // car in two polygon parts, with its bbox
    { type: 'bbox', label: 1, group: 2, id: 2, x: 100, y: 0, w: 50, h: 50 },
    { type: 'polygon', label: 1, group: 2, id: 2, points: [100, 0, 120, 0, 120, 20] },
    { type: 'polygon', label: 1, group: 2, id: 2, points: [130, 30, 150, 30, 150, 50] },
    // a crowd of cars: mask + bbox
    { type: 'mask', label: 1, group: 3, id: 3, attributes: crowd, left: 0, top: 50, width: 100, height: 50, rle: [0, 5000] },
    { type: 'bbox', label: 1, group: 3, id: 3, attributes: crowd, x: 0, y: 50, w: 100, h: 50 },
    // the same car box once more, as a plain box
    { type: 'bbox', label: 1, id: 4, x: 100, y: 0, w: 50, h: 50 },
    // a person in two parts without a box (a CVAT group): one object, one box around both
    { type: 'polygon', label: 0, group: 5, points: [160, 60, 180, 60, 180, 80] },
    { type: 'polygon', label: 0, group: 5, points: [170, 70, 190, 70, 190, 90] },
  ] };
}
const cocoCategories: Category[] = [{ name: 'person' }, { name: 'car' }];

describe('yolo_ultralytics detect', () => {
  it('writes each object once with its bbox, skips crowds and identical rows', async () => {
    const { out, summary, warnings } = await exportWith(ultralytics, { categories: cocoCategories, items: [cocoShapedItem()] }, { task: 'detect' });
    expectRows(rows(path.join(out, 'labels/train/a.txt')), [
      [0, 0.2, 0.4, 0.2, 0.6], // (20 + 40/2) / 200, (10 + 60/2) / 100, 40/200, 60/100
      [1, 0.625, 0.25, 0.25, 0.5],
      [0, 0.875, 0.75, 0.15, 0.3], // 160..190 x 60..90
    ]);
    expect(summary.annotations).toEqual({ bbox: 2, 'polygon (as its box)': 2 });
    expect(summary.dropped).toEqual({ 'polygon of an object that has a box (detect task)': 3, crowd: 2, duplicate: 1 });
    const dropped = warnings.filter((w) => w.code === 'annotation-dropped');
    expect(dropped.every((w) => w.item === 'train/a')).toBe(true);
    expect(dropped.find((w) => w.message.includes('crowd'))?.message).toMatch(/2 annotation\(s\) not written: crowd .*--keep-crowd/);
    expect(dropped.find((w) => w.message.includes('duplicate'))?.message).toMatch(/1 annotation\(s\) not written: duplicate/);
  });

  it('--keep-crowd writes crowd regions as objects, and is a declared option', async () => {
    expect(ultralytics.exportOptions?.find((o) => o.name === 'keep-crowd')?.type).toBe('boolean');
    const { out, summary } = await exportWith(ultralytics, { categories: cocoCategories, items: [cocoShapedItem()] }, { task: 'detect', 'keep-crowd': true });
    expectRows(rows(path.join(out, 'labels/train/a.txt')), [
      [0, 0.2, 0.4, 0.2, 0.6],
      [1, 0.625, 0.25, 0.25, 0.5],
      [1, 0.25, 0.75, 0.5, 0.5], // the crowd's bbox
      [0, 0.875, 0.75, 0.15, 0.3],
    ]);
    expect(summary.dropped).toEqual({ 'polygon of an object that has a box (detect task)': 3, 'mask of an object that has a box (detect task)': 1, duplicate: 1 });
  });
});

describe('yolo_ultralytics segment', () => {
  it('writes the polygon of an object with a bbox once, not its box as a second row; crowds and duplicates skipped', async () => {
    const items: Item[] = [{ id: 's', subset: 'train', image: image(200, 100), annotations: [
      { type: 'bbox', label: 0, group: 1, x: 0, y: 0, w: 100, h: 50 },
      { type: 'polygon', label: 0, group: 1, points: [10, 10, 90, 10, 90, 40] },
      { type: 'polygon', label: 0, points: [10, 10, 90, 10, 90, 40] },
      { type: 'polygon', label: 0, attributes: crowd, points: [100, 50, 150, 50, 150, 90] },
    ] }];
    const { out, summary } = await exportWith(ultralytics, { categories: [{ name: 'a' }], items }, { task: 'segment' });
    expectRows(rows(path.join(out, 'labels/train/s.txt')), [[0, 0.05, 0.1, 0.45, 0.1, 0.45, 0.4]]);
    expect(summary.annotations).toEqual({ polygon: 1 });
    expect(summary.dropped).toEqual({ 'bbox of an object that has a polygon or mask (segment task)': 1, duplicate: 1, crowd: 1 });
  });
});

describe('yolo_ultralytics pose', () => {
  const categories: Category[] = [{ name: 'person', keypoints: ['nose', 'left_eye', 'right_eye'], skeleton: [[0, 1], [0, 2]] }];

  it("takes the row's box from the skeleton's grouped bbox, not its visible keypoints; crowds and duplicates skipped", async () => {
    const person = (group: number, attributes?: Record<string, boolean>): Item['annotations'] => [
      { type: 'bbox', label: 0, group, attributes, x: 20, y: 10, w: 80, h: 80 },
      { type: 'polygon', label: 0, group, attributes, points: [20, 10, 100, 10, 100, 90] },
      { type: 'skeleton', label: 0, group, attributes, points: [40, 20, 50, 20, 0, 0], visibility: [2, 1, 0] },
    ];
    const items: Item[] = [{ id: 'p', subset: 'val', image: image(200, 100), annotations: [
      ...person(1),
      ...person(2), // the same person again
      ...person(3, crowd),
      // no grouped box: the visible keypoints' bounds, as before
      { type: 'skeleton', label: 0, points: [100, 50, 120, 70, 0, 0], visibility: [2, 2, 0] },
    ] }];
    const { out, summary } = await exportWith(ultralytics, { categories, items }, { task: 'pose' });
    expectRows(rows(path.join(out, 'labels/val/p.txt')), [
      // box (20 + 80/2) / 200, (10 + 80/2) / 100, 80/200, 80/100; keypoints x/200, y/100, v
      [0, 0.3, 0.5, 0.4, 0.8, 0.2, 0.2, 2, 0.25, 0.2, 1, 0, 0, 0],
      [0, 0.55, 0.6, 0.1, 0.2, 0.5, 0.5, 2, 0.6, 0.7, 2, 0, 0, 0],
    ]);
    expect(summary.annotations).toEqual({ skeleton: 2 });
    expect(summary.dropped).toEqual({ 'polygon in pose task': 2, duplicate: 1, crowd: 3 });
  });
});

describe('yolo_ultralytics obb', () => {
  it('clips corners outside the image, counts the box apart and warns naming the item', async () => {
    const items: Item[] = [{ id: 'o', subset: 'train', image: image(100, 100), annotations: [
      { type: 'bbox', label: 0, x: 90, y: 40, w: 20, h: 20, rotation: 45 }, // centre (100, 50): half outside
      { type: 'bbox', label: 0, x: 80, y: 10, w: 20, h: 10 }, // touches the right edge: not clipped
      { type: 'bbox', label: 0, x: 80, y: 10, w: 20, h: 10 }, // the same again
    ] }];
    const { out, summary, warnings } = await exportWith(ultralytics, { categories: [{ name: 'ship' }], items }, { task: 'obb' });
    const h = 10 * Math.SQRT2; // half diagonal
    expectRows(rows(path.join(out, 'labels/train/o.txt')), [
      [0, 1, (50 - h) / 100, 1, 0.5, 1, (50 + h) / 100, (100 - h) / 100, 0.5],
      [0, 0.8, 0.1, 1, 0.1, 1, 0.2, 0.8, 0.2],
    ]);
    expect(summary.annotations).toEqual({ 'bbox (clipped to the image)': 1, bbox: 1 });
    expect(summary.dropped).toEqual({ duplicate: 1 });
    const clipped = warnings.filter((w) => w.code === 'obb-clipped');
    expect(clipped).toHaveLength(1);
    expect(clipped[0]).toMatchObject({ item: 'train/o', file: 'labels/train/o.txt' });
    expect(clipped[0].message).toMatch(/^1 box\(es\) reach outside the image/);
  });
});

describe('background is never a YOLO class', () => {
  const categories: Category[] = [{ name: 'Background' }, { name: 'cat' }, { name: 'dog' }];
  const items: Item[] = [{ id: 'b', subset: 'train', image: image(100, 100), annotations: [
    { type: 'bbox', label: 0, x: 0, y: 0, w: 100, h: 100 },
    { type: 'bbox', label: 1, x: 0, y: 0, w: 50, h: 50 },
    { type: 'bbox', label: 2, x: 50, y: 50, w: 50, h: 50 },
  ] }];

  it('yolo_ultralytics: left out of names, its annotations dropped as background', async () => {
    const { out, summary, warnings } = await exportWith(ultralytics, { categories, items }, { task: 'detect' });
    expect(YAML.parse(read(path.join(out, 'data.yaml')))).toMatchObject({ nc: 2, names: { 0: 'cat', 1: 'dog' } });
    expectRows(rows(path.join(out, 'labels/train/b.txt')), [[0, 0.25, 0.25, 0.5, 0.5], [1, 0.75, 0.75, 0.5, 0.5]]);
    expect(summary.dropped).toEqual({ background: 1 });
    expect(warnings.find((w) => w.code === 'annotation-dropped')).toMatchObject({ item: 'train/b' });
  });

  it('yolo (Darknet): left out of obj.names, its annotations dropped as background', async () => {
    const { out, summary } = await exportWith(darknet, { categories, items });
    expect(read(path.join(out, 'obj.names'))).toBe('cat\ndog\n');
    expect(read(path.join(out, 'obj.data'))).toMatch(/^classes = 2\n/);
    expectRows(rows(path.join(out, 'obj_train_data/b.txt')), [[0, 0.25, 0.25, 0.5, 0.5], [1, 0.75, 0.75, 0.5, 0.5]]);
    expect(summary.dropped).toEqual({ background: 1 });
  });
});

describe('yolo (Darknet)', () => {
  it('writes the bbox of an object once, skips crowds and identical lines; --keep-crowd keeps crowds', async () => {
    expect(darknet.exportOptions?.find((o) => o.name === 'keep-crowd')?.type).toBe('boolean');
    const dataset = { categories: cocoCategories, items: [cocoShapedItem()] };
    const { out, summary, warnings } = await exportWith(darknet, dataset);
    expect(read(path.join(out, 'obj_train_data/a.txt'))).toBe('0 0.200000 0.400000 0.200000 0.600000\n1 0.625000 0.250000 0.250000 0.500000\n');
    expect(summary.dropped).toEqual({ polygon: 5, crowd: 2, duplicate: 1 });
    expect(warnings.filter((w) => /crowd|duplicate/.test(w.message)).map((w) => w.item)).toEqual(['train/a', 'train/a']);

    const kept = await exportWith(darknet, { categories: cocoCategories, items: [cocoShapedItem()] }, { 'keep-crowd': true });
    expect(rows(path.join(kept.out, 'obj_train_data/a.txt'))).toEqual([[0, 0.2, 0.4, 0.2, 0.6], [1, 0.625, 0.25, 0.25, 0.5], [1, 0.25, 0.75, 0.5, 0.5]]);
    expect(kept.summary.dropped).toEqual({ polygon: 5, mask: 1, duplicate: 1 });
  });
});

/**
 * From a COCO file through the real importer: the rows Ultralytics' convert_coco writes (box from
 * `bbox`, normalized by the image size; crowd skipped; a repeated box once; pose box from `bbox`).
 */
describe('COCO json to YOLO-Ultralytics, end to end', () => {
  function cocoDataset(task: 'instances' | 'person_keypoints'): string {
    const root = temp();
    fs.mkdirSync(path.join(root, 'annotations'), { recursive: true });
    const images = [{ id: 1, file_name: 'a.jpg', width: 200, height: 100 }];
    // A crowd mask over x 0..99, y 50..99 as uncompressed RLE (column by column, from zeros).
    const counts = [...Array.from({ length: 100 }, () => [50, 50]).flat(), 100 * 100];
    if (task === 'instances') fs.writeFileSync(path.join(root, 'annotations/instances_default.json'), JSON.stringify({
      images,
      categories: [{ id: 1, name: 'person' }, { id: 3, name: 'car' }],
      annotations: [
        { id: 1, image_id: 1, category_id: 1, iscrowd: 0, area: 400, bbox: [20, 10, 40, 60], segmentation: [[30, 20, 50, 20, 50, 60]] },
        { id: 2, image_id: 1, category_id: 3, iscrowd: 1, area: 5000, bbox: [0, 50, 100, 50], segmentation: { size: [100, 200], counts } },
        { id: 3, image_id: 1, category_id: 3, iscrowd: 0, area: 2500, bbox: [100, 0, 50, 50] },
        { id: 4, image_id: 1, category_id: 3, iscrowd: 0, area: 2500, bbox: [100, 0, 50, 50] },
      ],
    }));
    else fs.writeFileSync(path.join(root, 'annotations/person_keypoints_default.json'), JSON.stringify({
      images,
      categories: [{ id: 1, name: 'person', keypoints: ['nose', 'left_eye', 'right_eye'], skeleton: [[1, 2], [1, 3]] }],
      annotations: [
        // half visible: its visible keypoints span 40..50 x 20, its bbox 20..100 x 10..90
        { id: 10, image_id: 1, category_id: 1, iscrowd: 0, area: 3200, bbox: [20, 10, 80, 80], num_keypoints: 2,
          keypoints: [40, 20, 2, 50, 20, 1, 0, 0, 0], segmentation: [[20, 10, 100, 10, 100, 90]] },
      ],
    }));
    return root;
  }

  it('detect: the COCO bbox of each annotation, crowd skipped, the repeated box once', async () => {
    const out = path.join(temp(), 'out');
    const result = await convert({ input: cocoDataset('instances'), inputFormat: 'coco', output: out, outputFormat: 'yolo_ultralytics', exportOptions: { task: 'detect' } },
      createContext({ reporter: new Reporter() }));
    expect(YAML.parse(read(path.join(out, 'data.yaml'))).names).toEqual({ 0: 'person', 1: 'car' });
    expectRows(rows(path.join(out, 'labels/train/a.txt')), [[0, 0.2, 0.4, 0.2, 0.6], [1, 0.625, 0.25, 0.25, 0.5]]);
    expect(result.dropped).toEqual({ 'polygon of an object that has a box (detect task)': 1, crowd: 2, duplicate: 1 });
  });

  it("pose: the row's box is the person's COCO bbox", async () => {
    const out = path.join(temp(), 'out');
    await convert({ input: cocoDataset('person_keypoints'), inputFormat: 'coco', output: out, outputFormat: 'yolo_ultralytics', exportOptions: { task: 'pose' } },
      createContext({ reporter: new Reporter() }));
    expect(YAML.parse(read(path.join(out, 'data.yaml')))).toMatchObject({ names: { 0: 'person' }, kpt_shape: [3, 3] });
    expectRows(rows(path.join(out, 'labels/train/a.txt')), [[0, 0.3, 0.5, 0.4, 0.8, 0.2, 0.2, 2, 0.25, 0.2, 1, 0, 0, 0]]);
  });
});

describe('yolo_ultralytics splits', () => {
  it("writes the subset 'default' (no subset, as importers name it) as train, without a warning", async () => {
    const items: Item[] = [{ id: 'd', subset: 'default', image: image(10, 10), annotations: [{ type: 'bbox', label: 0, x: 0, y: 0, w: 5, h: 5 }] }];
    const { out, warnings } = await exportWith(ultralytics, { categories: [{ name: 'a' }], items }, { task: 'detect' });
    expect(read(path.join(out, 'train.txt'))).toBe('./images/train/d.jpg\n');
    expectRows(rows(path.join(out, 'labels/train/d.txt')), [[0, 0.25, 0.25, 0.5, 0.5]]);
    expect(warnings.some((w) => w.code === 'unknown-subset')).toBe(false);
  });
});
