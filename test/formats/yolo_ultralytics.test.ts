import { describe, expect, it, afterAll } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import YAML from 'yaml';
import type { Category, Dataset, Item } from '../../src/model.js';
import { Reporter } from '../../src/diagnostics.js';
import { createContext } from '../../src/pipeline.js';
import { plugin } from '../../formats/yolo_ultralytics/index.js';
import { fixture, tempDir } from '../helpers/corpus.js';

const temps: string[] = [];
function temp(): string { const d = tempDir('yu-'); temps.push(d); return d; }
afterAll(() => { for (const d of temps) fs.rmSync(d, { recursive: true, force: true }); });

async function makeImage(file: string, width: number, height: number, orientation?: number): Promise<string> {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  let img = sharp({ create: { width, height, channels: 3, background: { r: 40, g: 90, b: 200 } } });
  if (orientation) img = img.withMetadata({ orientation });
  await img.toFile(file);
  return file;
}

async function exportTo(dataset: Dataset, options: Record<string, string | boolean> = {}) {
  const out = temp();
  const reporter = new Reporter();
  const summary = await plugin.export!(dataset, out, options, createContext({ reporter }));
  return { out, summary, reporter };
}

const read = (file: string) => fs.readFileSync(file, 'utf8');
/** Rows of a label file as numbers. */
const rows = (file: string) => read(file).split('\n').filter(Boolean).map((l) => l.split(' ').map(Number));

describe('export: detect', () => {
  const categories: Category[] = [{ name: 'car' }, { name: 'no' }, { name: '1' }, { name: 'on' }];

  it('writes data.yaml, lists and normalized, clipped box rows', async () => {
    const src = temp();
    const probed = await makeImage(path.join(src, 'probe.png'), 200, 100);
    const items: Item[] = [
      { id: 'a', subset: 'Train', image: { path: '/nowhere/a.jpg', width: 100, height: 50 }, annotations: [
        { type: 'bbox', label: 0, x: 10, y: 5, w: 20, h: 10 },
        { type: 'bbox', label: 1, x: 90, y: 40, w: 20, h: 20 }, // clipped to the image
        { type: 'bbox', label: 2, x: 120, y: 0, w: 5, h: 5 }, // entirely outside: degenerate
        { type: 'bbox', label: 3, x: 40, y: 20, w: 20, h: 10, rotation: 90 }, // hull is 10 x 20
        { type: 'polygon', label: 0, points: [0, 0, 10, 0, 10, 10] }, // written as its box
        { type: 'mask', label: 1, left: 50, top: 10, width: 4, height: 3, rle: [3, 2, 6, 1] }, // pixels (3,0),(0,1),(3,2)
        { type: 'bbox', label: 2, group: 7, x: 60, y: 20, w: 10, h: 10 },
        { type: 'polygon', label: 2, group: 7, points: [60, 20, 70, 20, 70, 30] }, // its object has a box
        { type: 'polyline', label: 0, points: [0, 0, 10, 10] },
      ] },
      { id: 'sub/b', subset: 'Validation', image: { path: '/nowhere/b.png', width: 10, height: 10 }, annotations: [] },
      { id: 'c', subset: '', normalized: true, image: { path: '/nowhere/c.jpg' }, annotations: [
        { type: 'bbox', label: 0, x: 0.1, y: 0.2, w: 0.3, h: 0.4 },
      ] },
      { id: 'probe', subset: 'valid', image: { path: probed }, annotations: [{ type: 'bbox', label: 0, x: 0, y: 0, w: 100, h: 100 }] },
      { id: 'lost', subset: 'test', image: { path: '/nowhere/lost.jpg' }, annotations: [{ type: 'bbox', label: 0, x: 0, y: 0, w: 1, h: 1 }] },
      { id: 'odd', subset: 'holdout', image: { path: '/nowhere/odd.jpg', width: 10, height: 10 }, annotations: [] },
    ];
    const { out, summary, reporter } = await exportTo({ categories, items }, { task: 'detect' });

    const yaml = YAML.parse(read(path.join(out, 'data.yaml')));
    expect(yaml).toEqual({ train: 'train.txt', val: 'val.txt', holdout: 'holdout.txt', nc: 4, names: { 0: 'car', 1: 'no', 2: '1', 3: 'on' } });
    const yamlText = read(path.join(out, 'data.yaml'));
    expect(yamlText).toContain(`names:\n  0: "car"\n  1: "no"\n  2: "1"\n  3: "on"\n`);
    expect(yamlText).toContain('"1"');
    expect(yamlText).not.toMatch(/^path:/m);

    expect(rows(path.join(out, 'labels/train/a.txt'))).toEqual([
      [0, 0.2, 0.2, 0.2, 0.2],
      [1, 0.95, 0.9, 0.1, 0.2],
      [3, 0.5, 0.5, 0.1, 0.4],
      [0, 0.05, 0.1, 0.1, 0.2],
      [1, 0.52, 0.23, 0.04, 0.06],
      [2, 0.65, 0.5, 0.1, 0.2],
    ]);
    expect(rows(path.join(out, 'labels/train/c.txt'))).toEqual([[0, 0.25, 0.4, 0.3, 0.4]]);
    expect(read(path.join(out, 'labels/val/sub/b.txt'))).toBe('');
    expect(rows(path.join(out, 'labels/val/probe.txt'))).toEqual([[0, 0.25, 0.5, 0.5, 1]]);
    expect(fs.existsSync(path.join(out, 'labels/test/lost.txt'))).toBe(false);
    expect(read(path.join(out, 'train.txt'))).toBe('./images/train/a.jpg\n./images/train/c.jpg\n');
    expect(read(path.join(out, 'val.txt'))).toBe('./images/val/sub/b.png\n./images/val/probe.png\n');
    expect(fs.existsSync(path.join(out, 'test.txt'))).toBe(false);
    expect(fs.existsSync(path.join(out, 'images'))).toBe(false);

    expect(summary).toEqual({
      items: 5,
      annotations: { bbox: 6, 'polygon (as its box)': 1, 'mask (as its box)': 1 },
      dropped: { 'degenerate box (empty inside the image)': 1, 'polygon of an object that has a box (detect task)': 1, 'polyline in detect task': 1, 'unknown image size': 1 },
    });
    const codes = reporter.messages.map((m) => `${m.code}:${m.item ?? ''}`);
    expect(codes).toEqual(expect.arrayContaining(['annotation-dropped:Train/a', 'no-image-size:test/lost', 'unknown-subset:holdout/odd']));
  });

  it('copies images with --save-media and probes EXIF-rotated sizes', async () => {
    const src = temp();
    const rotated = await makeImage(path.join(src, 'r.jpg'), 40, 20, 6); // displayed 20 x 40
    const items: Item[] = [
      { id: 'r', subset: 'train', image: { path: rotated }, annotations: [{ type: 'bbox', label: 0, x: 0, y: 0, w: 10, h: 10 }] },
      { id: 'gone', subset: 'val', image: { path: path.join(src, 'gone.jpg'), width: 10, height: 10 }, annotations: [] },
    ];
    const { out, reporter } = await exportTo({ categories, items }, { task: 'detect', 'save-media': true });
    expect(fs.statSync(path.join(out, 'images/train/r.jpg')).size).toBe(fs.statSync(rotated).size);
    expect(rows(path.join(out, 'labels/train/r.txt'))).toEqual([[0, 0.25, 0.125, 0.5, 0.25]]);
    expect(reporter.messages.find((m) => m.code === 'missing-image')?.item).toBe('val/gone');
  });

  it('reuses train as val when there is no val subset, and refuses unsafe ids', async () => {
    const items: Item[] = [{ id: 'x', subset: 'train', image: { path: '/n/x.jpg', width: 4, height: 4 }, annotations: [] }];
    const { out, reporter } = await exportTo({ categories, items }, { task: 'detect' });
    expect(YAML.parse(read(path.join(out, 'data.yaml')))).toMatchObject({ train: 'train.txt', val: 'train.txt' });
    expect(reporter.messages.some((m) => m.code === 'missing-split')).toBe(true);
    const odd: Item[] = ['a/b', '..', 'names', 'x y'].map((subset) => ({ id: 'x', subset, image: { path: '/n/x.jpg', width: 4, height: 4 }, annotations: [] }));
    const oddOut = (await exportTo({ categories, items: odd }, { task: 'detect' })).out;
    expect(Object.keys(YAML.parse(read(path.join(oddOut, 'data.yaml'))))).toEqual(['train', 'val', 'a_b', '_', 'subset_names', 'x_y', 'nc', 'names']);
    expect(read(path.join(oddOut, 'a_b.txt'))).toBe('./images/a_b/x.jpg\n');
    const bad: Item[] = [{ id: '../../escape', subset: 'train', image: { path: '/n/x.jpg', width: 4, height: 4 }, annotations: [] }];
    await expect(exportTo({ categories, items: bad }, { task: 'detect' })).rejects.toThrow(/unsafe|outside/);
  });

  it('writes each label where Ultralytics looks: the last /images/ of the image path becomes /labels/', async () => {
    const box = { type: 'bbox' as const, label: 0, x: 0, y: 0, w: 2, h: 2 };
    const items: Item[] = [
      { id: 'cam/images/y', subset: 'train', image: { path: '/n/y.jpg', width: 4, height: 4 }, annotations: [box] },
      { id: 'x', subset: 'images', image: { path: '/n/x.jpg', width: 4, height: 4 }, annotations: [box] },
    ];
    const { out } = await exportTo({ categories, items }, { task: 'detect' });
    expect(read(path.join(out, 'train.txt'))).toBe('./images/train/cam/images/y.jpg\n');
    expect(read(path.join(out, 'images.txt'))).toBe('./images/images/x.jpg\n');
    expect(rows(path.join(out, 'images/train/cam/labels/y.txt'))).toEqual([[0, 0.25, 0.25, 0.5, 0.5]]);
    expect(rows(path.join(out, 'images/labels/x.txt'))).toEqual([[0, 0.25, 0.25, 0.5, 0.5]]);
  });

  it('warns about images whose extension Ultralytics does not read (they would be skipped in training)', async () => {
    const items: Item[] = [
      { id: 'anim', subset: 'train', image: { path: '/n/anim.gif', width: 4, height: 4 }, annotations: [] },
      { id: 'ok', subset: 'train', image: { path: '/n/ok.JPG', width: 4, height: 4 }, annotations: [] },
    ];
    const { out, reporter } = await exportTo({ categories, items }, { task: 'detect' });
    expect(reporter.messages.filter((m) => m.code === 'unsupported-image-format').map((m) => m.item)).toEqual(['train/anim']);
    expect(read(path.join(out, 'train.txt'))).toBe('./images/train/anim.gif\n./images/train/ok.JPG\n');
  });

  it('lists image paths normalized, as they were written (Ultralytics replaces every ./ of a line)', async () => {
    const items: Item[] = ['a/../b', 'c/./d', 'e\\f'].map((id) => ({ id, subset: 'train', image: { path: '/n/x.jpg', width: 4, height: 4 }, annotations: [] }));
    const { out } = await exportTo({ categories, items }, { task: 'detect' });
    expect(read(path.join(out, 'train.txt'))).toBe('./images/train/b.jpg\n./images/train/c/d.jpg\n./images/train/e/f.jpg\n');
    expect(['b', 'c/d', 'e/f'].map((n) => fs.existsSync(path.join(out, `labels/train/${n}.txt`)))).toEqual([true, true, true]);
  });

  it('infers detect for boxes and says so', async () => {
    const items: Item[] = [{ id: 'x', subset: 'train', image: { path: '/n/x.jpg', width: 4, height: 4 }, annotations: [{ type: 'bbox', label: 0, x: 0, y: 0, w: 2, h: 2 }] }];
    const { reporter } = await exportTo({ categories, items: (async function* () { yield* items; })() });
    expect(reporter.messages.find((m) => m.code === 'task-chosen')).toMatchObject({ severity: 'info', message: expect.stringContaining('detect') });
  });
});

describe('convert cvat -> yolo_ultralytics (the headline command)', () => {
  it('writes a trainable layout from the sample CVAT project, images included', async () => {
    const { convert } = await import('../../src/pipeline.js');
    await import('../../formats/index.js');
    const out = path.join(temp(), 'out');
    const reporter = new Reporter();
    const result = await convert({ input: 'samples/cvat_dataset', inputFormat: 'cvat', output: out, outputFormat: 'yolo_ultralytics', exportOptions: { 'save-media': true } }, createContext({ reporter }));
    expect(result).toMatchObject({ items: 6, annotations: { bbox: 10 }, dropped: {} });
    expect(YAML.parse(read(path.join(out, 'data.yaml')))).toEqual({
      train: 'train.txt', val: 'val.txt', test: 'test.txt', nc: 3, names: { 0: 'car', 1: 'person', 2: 'traffic light' },
    });
    expect(read(path.join(out, 'train.txt')).split('\n').filter(Boolean).sort()).toEqual(
      ['park_004', 'street_001', 'street_002', 'street_003'].map((n) => `./images/train/${n}.jpg`));
    // street_001: car 20,120-140,190 and person 200,60-240,170 in a 320 x 240 image
    expect(rows(path.join(out, 'labels/train/street_001.txt'))).toEqual([
      [0, 0.25, 0.645833, 0.375, 0.291667],
      [1, 0.6875, 0.479167, 0.125, 0.458333],
    ]);
    expect(read(path.join(out, 'labels/train/park_004.txt'))).toBe('');
    expect(fs.readdirSync(path.join(out, 'images/train')).sort()).toEqual(['park_004.jpg', 'street_001.jpg', 'street_002.jpg', 'street_003.jpg']);
    expect(reporter.messages.filter((m) => m.severity === 'warning')).toEqual([]);
  });
});

describe('geometry helpers', async () => {
  const { rotatedBoxCorners, boxFromCorners, mergePolygonParts, polygonArea } = await import('../../src/geometry/polygon.js');
  const { traceOuterContours } = await import('../../src/geometry/contour.js');
  const { bitmapToMask } = await import('../../src/geometry/mask.js');

  it('rotates box corners clockwise about the centre and inverts them', () => {
    // 90 degrees clockwise on screen: the top-left corner of a 4 x 2 box at the origin goes to the top-right.
    expect(rotatedBoxCorners({ x: 0, y: 0, w: 4, h: 2, rotation: 90 }).map((v) => +v.toFixed(9)))
      .toEqual([3, -1, 3, 3, 1, 3, 1, -1]);
    for (const rotation of [0, 15, 90, 179, 200, 359.5]) {
      const box = { x: 10, y: 20, w: 30, h: 12, rotation };
      const back = boxFromCorners(rotatedBoxCorners(box));
      for (const k of ['x', 'y', 'w', 'h', 'rotation'] as const) expect(back[k]).toBeCloseTo(box[k], 9);
    }
  });

  it('joins parts at their closest points, visiting every vertex', () => {
    const a = [0, 0, 2, 0, 2, 2, 0, 2];
    const b = [5, 0, 7, 0, 7, 2, 5, 2];
    const c = [10, 0, 12, 0, 12, 2, 10, 2];
    expect(mergePolygonParts([a, b])).toEqual([2, 0, 2, 2, 0, 2, 0, 0, 2, 0, 5, 0, 7, 0, 7, 2, 5, 2, 5, 0]);
    const merged = mergePolygonParts([a, b, c]);
    expect(merged.length / 2).toBe(12 + 2 * 2);
    // Ends where it entered the middle part; the implicit closing edge is the link back to the first part.
    expect(merged.slice(0, 2)).toEqual([2, 0]);
    expect(merged.slice(-2)).toEqual([5, 0]);
    expect(mergePolygonParts([a])).toEqual(a);
  });

  it('walks round a middle part once when it is entered and left at the same vertex', () => {
    // Even-odd inside test, as cv2.fillPoly fills the polygon into a mask.
    const inside = (poly: number[], x: number, y: number) => {
      let odd = false;
      for (let i = 0, n = poly.length / 2, j = n - 1; i < n; j = i++) {
        const [xi, yi, xj, yj] = [poly[2 * i], poly[2 * i + 1], poly[2 * j], poly[2 * j + 1]];
        if ((yi > y) !== (yj > y) && x < xj + ((y - yj) * (xi - xj)) / (yi - yj)) odd = !odd;
      }
      return odd;
    };
    const a = [0, 0, 2, 0, 2, 2, 0, 2];
    const b = [5, 5, 8, 4, 8, 6]; // (5, 5) is closest to both a and c
    const c = [3, 8, 5, 8, 5, 10, 3, 10];
    const merged = mergePolygonParts([a, b, c]);
    expect(merged.length / 2).toBe(5 + 1 + 5 + 4);
    expect([[1, 1], [7, 5], [4, 9]].map(([x, y]) => inside(merged, x, y))).toEqual([true, true, true]);
  });

  it('traces outer pixel-corner outlines that fill back to the component', () => {
    const width = 7, height = 6;
    const rowsOf = ['1100000', '1100011', '0010011', '0001000', '0000000', '0111110'];
    const data = Uint8Array.from(rowsOf.join('').split('').map(Number));
    const contours = traceOuterContours({ width, height, data }, 100, 200);
    // Diagonal neighbours join one component (8-connectivity): the L at top-left runs to (3,3).
    expect(contours.map((c) => c.area)).toEqual([6, 4, 5]);
    expect(contours[1].points).toEqual([105, 201, 107, 201, 107, 203, 105, 203]);
    expect(contours[2].points).toEqual([101, 205, 106, 205, 106, 206, 101, 206]);
    expect(polygonArea(contours[0].points)).toBe(6);
    expect(contours[0].points).toEqual([100, 200, 102, 200, 102, 202, 103, 202, 103, 203, 104, 203, 104, 204, 103, 204, 103, 203, 102, 203, 102, 202, 100, 202]);
    // A ring keeps its outer outline only: the hole is filled.
    const ring = { width: 3, height: 3, data: Uint8Array.from([1, 1, 1, 1, 0, 1, 1, 1, 1]) };
    expect(traceOuterContours(ring)[0]).toEqual({ points: [0, 0, 3, 0, 3, 3, 0, 3], area: 8 });
    expect(bitmapToMask(ring).rle).toEqual([0, 4, 1, 4]);
  });
});

describe('export: segment, pose, obb, classify', () => {
  const image = (w: number, h: number) => ({ path: '/nowhere/x.jpg', width: w, height: h });

  it('segment: one polygon per object, parts merged, masks traced, boxes as 4-point polygons', async () => {
    const { bitmapToMask } = await import('../../src/geometry/mask.js');
    const mask = bitmapToMask({ width: 4, height: 4, data: Uint8Array.from([0, 0, 0, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0]) }, 10, 20);
    const items: Item[] = [{ id: 's', subset: 'train', image: image(100, 50), annotations: [
      { type: 'polygon', label: 0, points: [0, 0, 10, 0, 10, 10] },
      { type: 'polygon', label: 1, group: 3, points: [20, 0, 30, 0, 30, 10] },
      { type: 'polygon', label: 1, group: 3, points: [40, 0, 50, 0, 50, 10] },
      { type: 'bbox', label: 1, group: 3, x: 20, y: 0, w: 30, h: 10 }, // the object already has a polygon
      { type: 'mask', label: 0, ...mask },
      { type: 'bbox', label: 2, x: 50, y: 25, w: 50, h: 25 },
      { type: 'polyline', label: 0, points: [0, 0, 5, 5] },
    ] }];
    const { out, summary } = await exportTo({ categories: [{ name: 'a' }, { name: 'b' }, { name: 'c' }], items }, { task: 'segment' });
    expect(rows(path.join(out, 'labels/train/s.txt'))).toEqual([
      [0, 0, 0, 0.1, 0, 0.1, 0.2],
      [1, 0.3, 0, 0.3, 0.2, 0.2, 0, 0.3, 0, 0.4, 0, 0.5, 0, 0.5, 0.2, 0.4, 0],
      [0, 0.11, 0.42, 0.13, 0.42, 0.13, 0.46, 0.11, 0.46],
      [2, 0.5, 0.5, 1, 0.5, 1, 1, 0.5, 1],
    ]);
    expect(summary.annotations).toEqual({ polygon: 3, mask: 1, bbox: 1 });
    expect(summary.dropped).toEqual({ 'bbox of an object that has a polygon or mask (segment task)': 1, 'polyline in segment task': 1 });
  });

  it('pose: kpt_shape, flip_idx, box from the group or the visible points, padding to K', async () => {
    const categories: Category[] = [
      { name: 'person', keypoints: ['nose', 'left_eye', 'right_eye', 'l_hand', 'r_hand'] },
      { name: 'cat', keypoints: ['nose', 'tail'] },
    ];
    const items: Item[] = [{ id: 'p', subset: 'val', image: image(100, 200), annotations: [
      { type: 'bbox', label: 0, group: 1, x: 10, y: 20, w: 50, h: 100 },
      { type: 'skeleton', label: 0, group: 1, points: [20, 40, 0, 0, 30, 60, 40, 80, 50, 100], visibility: [2, 0, 1, 2, 2] },
      { type: 'skeleton', label: 1, points: [10, 20, 30, 60], visibility: [2, 2] },
      { type: 'bbox', label: 1, x: 0, y: 0, w: 5, h: 5 },
    ] }];
    const { out, summary, reporter } = await exportTo({ categories, items });
    expect(reporter.messages.find((m) => m.code === 'task-chosen')?.message).toContain('pose');
    const yaml = YAML.parse(read(path.join(out, 'data.yaml')));
    expect(yaml.kpt_shape).toEqual([5, 3]);
    expect(read(path.join(out, 'data.yaml'))).toContain('kpt_shape: [5, 3]\n');
    expect(yaml).not.toHaveProperty('flip_idx'); // two skeleton categories with different keypoints
    expect(rows(path.join(out, 'labels/val/p.txt'))).toEqual([
      [0, 0.35, 0.35, 0.5, 0.5, 0.2, 0.2, 2, 0, 0, 0, 0.3, 0.3, 1, 0.4, 0.4, 2, 0.5, 0.5, 2],
      [1, 0.2, 0.2, 0.2, 0.2, 0.1, 0.1, 2, 0.3, 0.3, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    ]);
    expect(rows(path.join(out, 'labels/val/p.txt')).every((r) => r.length === 5 + 5 * 3)).toBe(true);
    expect(summary.dropped).toEqual({ 'bbox without a skeleton (pose task)': 1 });

    const one = await exportTo({ categories: [categories[0]], items: [{ ...items[0], annotations: items[0].annotations.slice(0, 2) }] }, { task: 'pose' });
    expect(YAML.parse(read(path.join(one.out, 'data.yaml'))).flip_idx).toEqual([0, 2, 1, 4, 3]);
  });

  it('obb: rotated corners, normalized; inferred from a rotated box', async () => {
    const items: Item[] = [{ id: 'o', subset: 'train', image: image(100, 100), annotations: [
      { type: 'bbox', label: 0, x: 40, y: 45, w: 20, h: 10, rotation: 90 },
      { type: 'bbox', label: 0, x: 10, y: 10, w: 10, h: 10 },
    ] }];
    const { out, reporter } = await exportTo({ categories: [{ name: 'ship' }], items });
    expect(reporter.messages.find((m) => m.code === 'task-chosen')?.message).toContain('obb');
    expect(rows(path.join(out, 'labels/train/o.txt'))).toEqual([
      [0, 0.55, 0.4, 0.55, 0.6, 0.45, 0.6, 0.45, 0.4],
      [0, 0.1, 0.1, 0.2, 0.1, 0.2, 0.2, 0.1, 0.2],
    ]);
  });

  it('obb: a box outside the image is dropped and counted, not written as a collapsed quad', async () => {
    const items: Item[] = [{ id: 'o', subset: 'train', image: image(100, 100), annotations: [
      { type: 'bbox', label: 0, x: 200, y: 200, w: 10, h: 10, rotation: 30 },
      { type: 'bbox', label: 0, x: -50, y: 10, w: 10, h: 10 },
      { type: 'bbox', label: 0, x: 95, y: 10, w: 10, h: 10 },
    ] }];
    const { out, summary } = await exportTo({ categories: [{ name: 'ship' }], items }, { task: 'obb' });
    expect(rows(path.join(out, 'labels/train/o.txt'))).toEqual([[0, 0.95, 0.1, 1, 0.1, 1, 0.2, 0.95, 0.2]]);
    expect(summary.dropped).toEqual({ 'degenerate box (empty inside the image)': 2 });
  });

  it('classify: <split>/<class>/<image>, a folder for every class, unlabeled and extra labels reported', async () => {
    const src = temp();
    const a = await makeImage(path.join(src, 'a.png'), 8, 8);
    const b = await makeImage(path.join(src, 'b.png'), 8, 8);
    const categories: Category[] = [{ name: 'dog' }, { name: 'cat' }, { name: 'bird' }];
    const items: Item[] = [
      { id: 'a', subset: 'Train', image: { path: a }, annotations: [{ type: 'label', label: 1 }] },
      { id: 'nested/b', subset: 'test', image: { path: b }, annotations: [{ type: 'label', label: 0 }, { type: 'label', label: 2 }] },
      { id: 'c', subset: 'train', image: { path: path.join(src, 'missing.png') }, annotations: [{ type: 'label', label: 0 }] },
      { id: 'd', subset: 'train', image: { path: a }, annotations: [] },
    ];
    const { out, summary, reporter } = await exportTo({ categories, items });
    expect(reporter.messages.find((m) => m.code === 'task-chosen')?.message).toContain('classify');
    expect(fs.readdirSync(out).sort()).toEqual(['test', 'train']);
    expect(fs.readdirSync(path.join(out, 'train')).sort()).toEqual(['bird', 'cat', 'dog']);
    expect(fs.readdirSync(path.join(out, 'train/cat'))).toEqual(['a.png']);
    expect(fs.existsSync(path.join(out, 'test/dog/nested/b.png'))).toBe(true);
    expect(summary).toEqual({ items: 2, annotations: { label: 2 }, dropped: {
      'extra label (classify holds one class per image)': 1, 'label of an item without its image file (classify needs images)': 1 } });
    expect(reporter.messages.map((m) => m.code)).toEqual(expect.arrayContaining(['missing-image', 'unlabeled-item']));
  });

  it('classify: sub-categories images are labeled with are classes (SOP products), their parents and keypoints are not', async () => {
    const a = await makeImage(path.join(temp(), 'a.png'), 8, 8);
    const categories: Category[] = [
      { name: 'bicycle' }, { name: '11319', parent: 'bicycle' }, { name: '11320', parent: 'bicycle' },
      { name: 'chair' }, { name: 'person', keypoints: ['nose'] }, { name: 'nose', parent: 'person' },
    ];
    const items: Item[] = [1, 2, 3, 5].map((label) => ({ id: `i${label}`, subset: 'train', image: { path: a }, annotations: [{ type: 'label', label }] }));
    const { out, summary } = await exportTo({ categories, items }, { task: 'classify' });
    // bicycle is used only through its products; chair and person are classes without images
    expect(fs.readdirSync(path.join(out, 'train')).sort()).toEqual(['11319', '11320', 'chair', 'person']);
    expect(fs.readdirSync(path.join(out, 'train/11320'))).toEqual(['i2.png']);
    expect(summary.annotations).toEqual({ label: 3 });
    expect(summary.dropped).toEqual({ 'keypoint label': 1 });
  });

  it('classify: a class name that is not one plain folder name gets a folder of its own', async () => {
    const a = await makeImage(path.join(temp(), 'a.png'), 8, 8);
    const categories: Category[] = [{ name: 'cat/dog' }, { name: 'cat' }, { name: '..' }, { name: 'cat_dog' }];
    const items: Item[] = [0, 1, 2, 3].map((label) => ({ id: `i${label}`, subset: 'train', image: { path: a }, annotations: [{ type: 'label', label }] }));
    const { out, summary, reporter } = await exportTo({ categories, items }, { task: 'classify' });
    expect(fs.readdirSync(path.join(out, 'train')).sort()).toEqual(['_', 'cat', 'cat_dog', 'cat_dog_2']);
    expect(['_', 'cat', 'cat_dog', 'cat_dog_2'].map((d) => fs.readdirSync(path.join(out, 'train', d)))).toEqual([['i2.png'], ['i1.png'], ['i0.png'], ['i3.png']]);
    expect(summary.annotations).toEqual({ label: 4 });
    expect(reporter.messages.filter((m) => m.code === 'class-renamed')).toHaveLength(3);
  });

  it('classify: a second item with the same file in the same split and class is reported, not copied over the first', async () => {
    const src = temp();
    const a = await makeImage(path.join(src, 'a.png'), 8, 8);
    const b = await makeImage(path.join(src, 'b.png'), 16, 16);
    const items: Item[] = [
      { id: 'x', subset: 'val', image: { path: a }, annotations: [{ type: 'label', label: 0 }] },
      { id: 'x', subset: 'validation', image: { path: b }, annotations: [{ type: 'label', label: 0 }] },
    ];
    const { out, summary, reporter } = await exportTo({ categories: [{ name: 'cat' }], items }, { task: 'classify' });
    expect(fs.statSync(path.join(out, 'val/cat/x.png')).size).toBe(fs.statSync(a).size);
    expect(summary).toEqual({ items: 1, annotations: { label: 1 }, dropped: { 'duplicate item id in its split': 1 } });
    expect(reporter.messages.find((m) => m.code === 'duplicate-item')?.item).toBe('validation/x');
  });
});

async function importFrom(input: string, options: Record<string, string> = {}) {
  const reporter = new Reporter();
  const dataset = await plugin.import!(input, options, createContext({ reporter }));
  return { dataset, items: dataset.items as Item[], reporter };
}

/** A copy of test/fixtures/<dir> (text files only) with its images generated. */
async function fixtureCopy(dir: string, images: string[], width: number, height: number): Promise<string> {
  const root = path.join(temp(), path.basename(dir));
  fs.cpSync(fixture(dir), root, { recursive: true });
  for (const rel of images) await makeImage(path.join(root, rel), width, height);
  return root;
}
const ROBOFLOW_IMAGES = ['train/images/r1.jpg', 'train/images/r2.jpg', 'val/images/r3.jpg'];
/** Roboflow's YOLO export: data.yaml says ../train/images and ../valid/images, the folders are train/ and val/. */
const roboflowFixture = () => fixtureCopy('yolo/roboflow', ROBOFLOW_IMAGES, 16, 8);
/** Roboflow's YOLO-OBB export: the same YAML, DOTA pixel quads in <split>/labelTxt/. */
const roboflowObbFixture = () => fixtureCopy('yolo/roboflow_obb', ROBOFLOW_IMAGES, 16, 8);
/** Darknet YOLO: images/<subset>/ + labels/<subset>/ + obj.names. */
const darknetLabelsFixture = () => fixtureCopy('yolo/labels', ['images/train/0042.jpg', 'images/val/0042.jpg'], 12, 8);
/** A COCO folder of the given task (annotations/<task>_train.json). */
function cocoFolder(task: string): string {
  const root = temp();
  fs.mkdirSync(path.join(root, 'annotations'));
  const categories = [{ id: 1, name: 'person', keypoints: ['nose', 'eye'], skeleton: [[1, 2]] }];
  fs.writeFileSync(path.join(root, 'annotations', `${task}_train.json`), JSON.stringify({ images: [], annotations: [], categories }));
  return root;
}

describe('import: Roboflow and Darknet layouts (fixtures of our own, test/fixtures/yolo)', () => {
  it('reads Roboflow YOLO (../train/images, valid -> val fallbacks) in pixels', async () => {
    const input = await roboflowFixture();
    expect(await plugin.detect!(input)).toMatchObject({ confidence: 0.9 });
    const { dataset, items, reporter } = await importFrom(input);
    expect(dataset.categories).toEqual([{ name: 'leaf' }, { name: 'stem' }, { name: 'vein' }]);
    expect(items.map((i) => `${i.subset}/${i.id} ${i.image?.width}x${i.image?.height}`)).toEqual(['train/r1 16x8', 'train/r2 16x8', 'val/r3 16x8']);
    const boxes = items.flatMap((i) => i.annotations.map((a) => a.type === 'bbox' ? [a.label, a.x, a.y, a.w, a.h].map((v) => +v!.toFixed(9)) : a.type));
    // Label files without a final newline.
    expect(boxes).toEqual([[0, 4, 2, 4, 4], [2, 0, 0, 5, 6], [1, 0, 0, 2, 4], [2, 0, 0, 16, 2]]);
    expect(reporter.messages.filter((m) => m.severity === 'warning')).toEqual([]);
  });

  it('reads Roboflow YOLO-OBB (DOTA lines in labelTxt/, pixels, class names); right-angle quads become plain boxes', async () => {
    const { items } = await importFrom(await roboflowObbFixture());
    const boxes = items.flatMap((i) => i.annotations.map((a) => a.type === 'bbox' ? [a.label, a.x, a.y, a.w, a.h, a.rotation ?? 0].map((v) => +v!.toFixed(9)) : a.type));
    // Quads listed clockwise and counter-clockwise.
    expect(boxes).toEqual([[0, 1, 1, 4, 3, 0], [2, 2, 0, 5, 3, 0], [0, 0, 0, 3, 3, 0], [1, 4, 1, 8, 5, 0]]);
  });

  it('leaves Darknet YOLO and other formats to their plugins, but reads the loose layout when asked', async () => {
    const labels = await darknetLabelsFixture();
    const strict = await fixtureCopy('yolo/strict', ['obj_train_data/0042.jpg'], 12, 8);
    for (const d of [labels, strict, fixture('voc/detection'), cocoFolder('instances'), 'samples/cvat_dataset']) {
      expect(await plugin.detect!(d), d).toMatchObject({ confidence: 0 });
    }
    const { dataset, items } = await importFrom(labels);
    expect(dataset.categories.length).toBe(4); // names from obj.names
    expect(items.map((i) => `${i.subset}/${i.id}:${i.annotations.length}`)).toEqual(['train/0042:2', 'val/0042:2']);
  });
});

describe('round trips: export -> import -> export', () => {
  /** Builds items over real images of the given sizes (the import needs them to get back to pixels). */
  async function withImages(specs: { id: string; subset: string; w: number; h: number; annotations: Item['annotations'] }[]): Promise<Item[]> {
    const src = temp();
    return Promise.all(specs.map(async (s) => ({
      id: s.id, subset: s.subset, annotations: s.annotations,
      image: { path: await makeImage(path.join(src, s.subset, `${s.id}.png`), s.w, s.h), width: s.w, height: s.h },
    })));
  }

  /** Annotation numbers divided by the image size, so 6-decimal files compare within 1e-6. */
  function normalized(item: Item): (string | number)[][] {
    const W = item.image!.width!, H = item.image!.height!;
    return item.annotations.map((a) => {
      switch (a.type) {
        case 'bbox': return ['bbox', a.label!, a.x / W, a.y / H, a.w / W, a.h / H, a.rotation ?? 0];
        case 'polygon': return ['polygon', a.label!, ...a.points.map((v, i) => v / (i % 2 ? H : W))];
        case 'skeleton': return ['skeleton', a.label!, a.group ?? 0, ...a.points.map((v, i) => v / (i % 2 ? H : W)), ...a.visibility];
        case 'label': return ['label', a.label!];
        default: return [a.type];
      }
    });
  }

  function expectSame(actual: Item[], expected: Item[], tolerance = 1e-6) {
    expect(actual.map((i) => `${i.subset}/${i.id}`)).toEqual(expected.map((i) => `${i.subset}/${i.id}`));
    actual.forEach((item, k) => {
      const a = normalized(item), e = normalized(expected[k]);
      expect(a.map((r) => `${r[0]}:${r.length}`), item.id).toEqual(e.map((r) => `${r[0]}:${r.length}`));
      a.forEach((row, j) => row.forEach((v, n) => {
        if (typeof v === 'number') expect(Math.abs(v - (e[j][n] as number)), `${item.id} annotation ${j} value ${n}`).toBeLessThanOrEqual(tolerance);
      }));
    });
  }

  /** All label files of an export, by relative path. */
  function labelFiles(out: string): Record<string, string> {
    const files: Record<string, string> = {};
    const walk = (d: string) => { for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const f = path.join(d, e.name);
      if (e.isDirectory()) walk(f); else if (f.endsWith('.txt') || f.endsWith('.yaml')) files[path.relative(out, f)] = read(f);
    } };
    walk(out);
    return files;
  }

  async function roundTrip(dataset: Dataset, task: string) {
    const first = await exportTo(dataset, { task, 'save-media': true });
    const back = await importFrom(first.out);
    const second = await exportTo(back.dataset, { 'save-media': true });
    expect(second.reporter.messages.find((m) => m.code === 'task-chosen')?.message).toContain(task);
    expect(labelFiles(second.out)).toEqual(labelFiles(first.out));
    return { first, back, second };
  }

  it('detect', async () => {
    const items = await withImages([
      { id: 'a', subset: 'train', w: 64, h: 48, annotations: [{ type: 'bbox', label: 0, x: 1.5, y: 2.25, w: 30, h: 20 }, { type: 'bbox', label: 1, x: 40, y: 0, w: 24, h: 48 }] },
      { id: 'deep/b', subset: 'val', w: 33, h: 17, annotations: [{ type: 'bbox', label: 1, x: 3.3, y: 1.7, w: 10.1, h: 5.5 }] },
      { id: 'empty', subset: 'test', w: 8, h: 8, annotations: [] },
    ]);
    const { back } = await roundTrip({ categories: [{ name: 'yes' }, { name: 'off' }], items }, 'detect');
    expect(back.dataset.categories.map((c) => c.name)).toEqual(['yes', 'off']);
    expectSame(back.items, items);
  });

  it('segment', async () => {
    const items = await withImages([
      { id: 'a', subset: 'train', w: 100, h: 80, annotations: [
        { type: 'polygon', label: 0, points: [10, 10, 50.5, 12, 30, 60.25] },
        { type: 'polygon', label: 1, points: [60, 10, 90, 10, 90, 70, 60, 70, 75, 40] },
      ] },
      { id: 'b', subset: 'val', w: 50, h: 50, annotations: [{ type: 'polygon', label: 1, points: [0, 0, 50, 0, 50, 50, 0, 50] }] },
    ]);
    const { back } = await roundTrip({ categories: [{ name: 'a' }, { name: 'b' }], items }, 'segment');
    expectSame(back.items, items);
  });

  it('pose (flip_idx survives through the category)', async () => {
    const categories: Category[] = [{ name: 'person', keypoints: ['nose', 'left_eye', 'right_eye'] }];
    const items = await withImages([
      { id: 'p', subset: 'train', w: 120, h: 90, annotations: [
        { type: 'bbox', label: 0, group: 1, x: 10, y: 10, w: 60, h: 70 },
        { type: 'skeleton', label: 0, group: 1, points: [20, 30, 0, 0, 50.5, 33], visibility: [2, 0, 1] },
        { type: 'bbox', label: 0, group: 2, x: 70, y: 5, w: 40, h: 40 },
        { type: 'skeleton', label: 0, group: 2, points: [80, 20, 90, 21, 100, 22], visibility: [2, 2, 2] },
      ] },
      { id: 'q', subset: 'val', w: 40, h: 40, annotations: [] },
    ]);
    const { first, back } = await roundTrip({ categories, items }, 'pose');
    expect(YAML.parse(read(path.join(first.out, 'data.yaml')))).toMatchObject({ kpt_shape: [3, 3], flip_idx: [0, 2, 1] });
    expect(back.dataset.categories[0]).toMatchObject({ keypoints: ['kpt_0', 'kpt_1', 'kpt_2'], extra: { flip_idx: '0,2,1' } });
    expectSame(back.items, items);
  });

  it('obb', async () => {
    const items = await withImages([
      { id: 'o', subset: 'train', w: 200, h: 100, annotations: [
        { type: 'bbox', label: 0, x: 50, y: 30, w: 40, h: 20, rotation: 30 },
        { type: 'bbox', label: 0, x: 120, y: 40, w: 30, h: 10, rotation: 300 },
      ] },
      { id: 'v', subset: 'val', w: 100, h: 100, annotations: [{ type: 'bbox', label: 0, x: 20, y: 20, w: 10, h: 30, rotation: 45 }] },
    ]);
    const { back } = await roundTrip({ categories: [{ name: 'ship' }], items }, 'obb');
    // Corners are written to 6 decimals; the angle comes back within ~1e-4 degrees.
    back.items.forEach((item, k) => item.annotations.forEach((a, j) => {
      const e = items[k].annotations[j];
      if (a.type !== 'bbox' || e.type !== 'bbox') throw new Error('not a box');
      expect(Math.abs(a.rotation! - e.rotation!)).toBeLessThan(1e-3);
      a.rotation = e.rotation;
    }));
    expectSame(back.items, items, 2e-6);
  });

  it('classify', async () => {
    const items = await withImages([
      { id: 'x1', subset: 'train', w: 8, h: 8, annotations: [{ type: 'label', label: 0 }] },
      { id: 'x2', subset: 'train', w: 8, h: 8, annotations: [{ type: 'label', label: 1 }] },
      { id: 'x3', subset: 'val', w: 8, h: 8, annotations: [{ type: 'label', label: 1 }] },
    ]);
    const categories = [{ name: 'ant' }, { name: 'bee' }];
    const first = await exportTo({ categories, items }, { task: 'classify' });
    expect(await plugin.detect!(first.out)).toMatchObject({ confidence: 0.6 });
    const back = await importFrom(first.out);
    expect(back.dataset.categories).toEqual(categories);
    expectSame(back.items, items);
  });
});

describe('import: messy and bad inputs', () => {
  function write(file: string, text: string) { fs.mkdirSync(path.dirname(file), { recursive: true }); fs.writeFileSync(file, text); }

  it('reads any YAML name, path:, lists, odd lines, and reports each problem with file and line', async () => {
    const root = temp();
    const ds = path.join(root, 'ds');
    write(path.join(root, 'my set.yml'), 'path: ds\ntrain: images/train\nval: [val.txt]\nnc: 2\nnames: {0: cat, 1: "no"}\n');
    await makeImage(path.join(ds, 'images/train/A.JPG'), 100, 50);
    const trainLabels = path.join(ds, 'labels/train/A.txt');
    write(trainLabels, [
      '0 0.5 0.5 0.2 0.2',
      '1 0.5 0.5 0.2 0.2 7', // a 6th column (track id)
      '5 0.5 0.5 0.2 0.2', // no class 5
      '0 1.5 0.5 0.2 0.2', // beyond the tolerance
      '0 abc 0.5 0.2 0.2',
      '',
      '1 0.1 0.1 0.3 0.1 0.2 0.4', // a triangle
      '0 1.005 0.5 0.2 0.2', // within 0.01: clipped
    ].join('\n'));
    write(path.join(ds, 'labels/train/orphan.txt'), '0 0.5 0.5 0.1 0.1\n');
    write(path.join(ds, 'labels/train.cache'), 'binary');
    await makeImage(path.join(ds, 'images/val/b.png'), 10, 10);
    await makeImage(path.join(ds, 'images/val/c.png'), 10, 10);
    await makeImage(path.join(ds, 'images/val/d.png'), 10, 10);
    write(path.join(ds, 'labels/val/missing.txt'), '0 0.5 0.5 0.2 0.2\n');
    write(path.join(ds, 'val.txt'), './images/val/b.png\nds/images/val/c.png\n/elsewhere/data/images/val/d.png\nimages/val/missing.png\n../../etc/passwd\n');

    expect(await plugin.detect!(root)).toMatchObject({ confidence: 0.9, reason: expect.stringContaining('my set.yml') });
    const { dataset, items, reporter } = await importFrom(path.join(root, 'my set.yml'));
    expect(dataset.categories.map((c) => c.name)).toEqual(['cat', 'no']);
    expect(items.map((i) => `${i.subset}/${i.id}`)).toEqual(['train/A', 'val/b', 'val/c', 'val/d', 'val/missing']);
    const a = items[0];
    expect(a.annotations.map((x) => x.type === 'bbox' ? [x.label, x.x, x.y, x.w, x.h].map((v) => +v!.toFixed(6)) : [x.type, x.label, ...(x as { points: number[] }).points.map((v) => +v.toFixed(6))])).toEqual([
      [0, 40, 20, 20, 10],
      ['polygon', 1, 10, 5, 30, 5, 20, 20],
      [0, 90.5, 20, 9.5, 10], // the box edge beyond 1 is clipped at the right edge
    ]);
    const missing = items[4];
    expect(missing.normalized).toBe(true);
    expect(missing.annotations[0]).toMatchObject({ type: 'bbox', x: 0.4, y: 0.4 });
    expect(missing.annotations[0].type === 'bbox' && +missing.annotations[0].w.toFixed(9)).toBe(0.2);

    const at = (code: string) => reporter.messages.filter((m) => m.code === code).map((m) => `${path.relative(root, m.file ?? '')}${m.line ? ':' + m.line : ''}`);
    expect(at('bad-label-line')).toEqual(['ds/labels/train/A.txt:2', 'ds/labels/train/A.txt:5']);
    expect(at('unknown-class')).toEqual(['ds/labels/train/A.txt:3']);
    expect(at('coordinate-out-of-range')).toEqual(['ds/labels/train/A.txt:4']);
    expect(at('label-without-image')).toEqual(['ds/labels/train/orphan.txt']);
    expect(at('cache-ignored')).toEqual(['ds/labels/train.cache']);
    expect(at('missing-image')).toEqual(['ds/images/val/missing.png']);
    expect(at('unsafe-path')).toEqual(['ds/val.txt:5']);
  });

  it('falls back to the YAML folder when path: does not exist or lies outside it, and reads names as a list', async () => {
    const root = temp();
    write(path.join(root, 'data.yaml'), 'path: datasets/coco8\ntrain: images/train\nval: images/train\nnames: [a, b]\n');
    await makeImage(path.join(root, 'images/train/x.jpg'), 10, 10);
    const { items, reporter } = await importFrom(root);
    expect(items.map((i) => `${i.subset}/${i.id}`)).toEqual(['train/x']); // val names the same folder: imported once
    expect(reporter.messages.map((m) => m.code)).toEqual(expect.arrayContaining(['path-not-found', 'split-shares-images']));
    // Ultralytics' usual `path: ../datasets/x` names a folder outside the one datum was given: never read there
    const outside = temp();
    await makeImage(path.join(outside, 'images/train/secret.jpg'), 10, 10);
    for (const given of [path.relative(root, outside), outside]) {
      write(path.join(root, 'data.yaml'), `path: ${given}\ntrain: images/train\nval: ${path.join(outside, 'images/train')}\nnames: [a, b]\n`);
      const again = await importFrom(root);
      expect(again.items.map((i) => `${i.subset}/${i.id}`)).toEqual(['train/x']);
      expect(again.reporter.messages.map((m) => m.code)).toContain('path-outside');
    }
  });

  it('reads 9-value rows as obb when every row has 9 values, else as 4-point polygons; --task overrides', async () => {
    const root = temp();
    write(path.join(root, 'data.yaml'), 'train: images/train\nval: images/train\nnames: [a]\n');
    await makeImage(path.join(root, 'images/train/x.jpg'), 100, 100);
    write(path.join(root, 'labels/train/x.txt'), '0 0.1 0.1 0.3 0.1 0.3 0.2 0.1 0.2\n');
    expect((await importFrom(root)).items[0].annotations[0]).toMatchObject({ type: 'bbox', x: 10, y: 10 });
    expect((await importFrom(root, { task: 'segment' })).items[0].annotations[0].type).toBe('polygon');
    write(path.join(root, 'labels/train/x.txt'), '0 0.1 0.1 0.3 0.1 0.3 0.2 0.1 0.2\n0 0.5 0.5 0.1 0.1\n');
    expect((await importFrom(root)).items[0].annotations.map((a) => a.type)).toEqual(['polygon', 'bbox']);
  });

  it('reads pose rows with kpt_shape [K, 2] and rejects a bad kpt_shape or broken YAML with file and line', async () => {
    const root = temp();
    write(path.join(root, 'data.yaml'), 'train: images/train\nval: images/train\nnames: [hand]\nkpt_shape: [2, 2]\n');
    await makeImage(path.join(root, 'images/train/x.jpg'), 10, 20);
    write(path.join(root, 'labels/train/x.txt'), '0 0.5 0.5 0.4 0.4 0.3 0.4 0 0\n0 0.5 0.5 0.4 0.4 0.3\n');
    const { items, reporter } = await importFrom(root);
    expect(items[0].annotations).toEqual([
      { type: 'bbox', label: 0, group: 1, x: 3, y: 6, w: 4, h: 8 },
      { type: 'skeleton', label: 0, group: 1, points: [3, 8, 0, 0], visibility: [2, 0] },
    ]);
    expect(reporter.messages.find((m) => m.code === 'bad-label-line')).toMatchObject({ line: 2, message: expect.stringContaining('pose rows need 9') });

    write(path.join(root, 'data.yaml'), 'train: images/train\nval: images/train\nnames: [hand]\nkpt_shape: [2, 4]\n');
    await expect(importFrom(root)).rejects.toThrow(/kpt_shape/);
    write(path.join(root, 'data.yaml'), 'train: images/train\nval: images/train\nnames: [hand]\nkpt_shape: [1000000000, 3]\n');
    await expect(importFrom(root)).rejects.toMatchObject({ diagnostic: { code: 'bad-kpt-shape' } });
    write(path.join(root, 'data.yaml'), 'train: images/train\nnames: [a, b\nval: x\n');
    await expect(importFrom(path.join(root, 'data.yaml'))).rejects.toMatchObject({ diagnostic: { code: 'bad-yaml', file: path.join(root, 'data.yaml'), line: expect.any(Number) } });
  });

  it('reads images/ + labels/ without a YAML, class names from classes.txt', async () => {
    const root = temp();
    write(path.join(root, 'classes.txt'), 'red\ngreen\n');
    await makeImage(path.join(root, 'images/train/x.jpg'), 10, 10);
    write(path.join(root, 'labels/train/x.txt'), '1 0.5 0.5 0.2 0.2\n');
    expect(await plugin.detect!(root)).toMatchObject({ confidence: 0.5 });
    const { dataset, items } = await importFrom(root);
    expect(dataset.categories.map((c) => c.name)).toEqual(['red', 'green']);
    expect(items[0].annotations[0]).toMatchObject({ label: 1, x: 4, y: 4 });
  });
});

describe('rounding at the image border', () => {
  it('re-exports rows whose box edge lies past 1 only by rounding byte for byte', async () => {
    const root = temp();
    fs.writeFileSync(path.join(root, 'data.yaml'), 'train: images/train\nval: images/train\nnames: [a, b, c, d, e, f]\n');
    await makeImage(path.join(root, 'images/train/x.jpg'), 1920, 1080);
    const lines = '5 0.150896 0.938454 0.122417 0.123093\n2 0.968615 0.263125 0.062771 0.071454\n0 0.500000 0.500000 1.000000 1.000000\n';
    fs.mkdirSync(path.join(root, 'labels/train'), { recursive: true });
    fs.writeFileSync(path.join(root, 'labels/train/x.txt'), lines);
    const { dataset } = await importFrom(root);
    const { out } = await exportTo(dataset, { task: 'detect' });
    expect(read(path.join(out, 'labels/train/x.txt'))).toBe(lines);
  });
});

describe('detection among all formats', () => {
  it('is the single confident match for its own layouts and silent elsewhere', async () => {
    const { detectFormats } = await import('../../src/pipeline.js');
    await import('../../formats/index.js');
    const items: Item[] = [{ id: 'x', subset: 'train', image: { path: '/n/x.jpg', width: 4, height: 4 }, annotations: [{ type: 'bbox', label: 0, x: 0, y: 0, w: 2, h: 2 }] }];
    const { out } = await exportTo({ categories: [{ name: 'a' }], items }, { task: 'detect' });
    for (const input of [out, path.join(out, 'data.yaml'), await roboflowFixture(), await roboflowObbFixture()]) {
      const found = await detectFormats(input);
      expect(found[0]?.format, input).toBe('yolo_ultralytics');
      expect(found.length === 1 || found[0].detection.confidence - found[1].detection.confidence >= 0.1, input).toBe(true);
    }
    for (const input of ['samples/cvat_dataset', cocoFolder('person_keypoints'), fixture('voc/labelmap')]) {
      expect((await detectFormats(input)).map((f) => f.format), input).not.toContain('yolo_ultralytics');
    }
  });
});

describe('import: more oddities', () => {
  it('names with gaps, CRLF and BOM, corrupt images, unreadable labels, an empty YAML', async () => {
    const root = temp();
    fs.writeFileSync(path.join(root, 'data.yaml'), '\uFEFFtrain: images/train\r\nnames: {0: a, 2: c}\r\nval: images/val\r\n');
    await makeImage(path.join(root, 'images/train/x.jpg'), 10, 10);
    fs.mkdirSync(path.join(root, 'images/val'), { recursive: true });
    fs.writeFileSync(path.join(root, 'images/val/broken.png'), 'not a png');
    fs.mkdirSync(path.join(root, 'labels/train'), { recursive: true });
    fs.mkdirSync(path.join(root, 'labels/val/broken.txt'), { recursive: true }); // a folder where a label file should be
    fs.writeFileSync(path.join(root, 'labels/train/x.txt'), '\uFEFF2 0.5 0.5 0.2 0.2\r\n1 0.5 0.5 0.2 0.2\r\n');
    const { dataset, items, reporter } = await importFrom(root);
    expect(dataset.categories.map((c) => c.name)).toEqual(['a', 'class_1', 'c']);
    expect(items[0].annotations.map((a) => a.label)).toEqual([2, 1]);
    expect(items[1]).toMatchObject({ id: 'broken', subset: 'val', annotations: [] });
    expect(reporter.messages.map((m) => m.code)).toEqual(expect.arrayContaining(['names-gap', 'unreadable-image', 'unreadable-label']));

    const bom = path.join(root, 'bom.yaml');
    fs.writeFileSync(bom, '\uFEFFtrain: images/train\r\nnames: [a]\r\n');
    expect(await plugin.detect!(bom)).toMatchObject({ confidence: 0.9 });

    fs.writeFileSync(path.join(root, 'data.yaml'), '');
    await expect(importFrom(path.join(root, 'data.yaml'))).rejects.toMatchObject({ diagnostic: { code: 'bad-yaml' } });

    // A repeated key: the last one wins, as PyYAML reads it for Ultralytics.
    fs.writeFileSync(path.join(root, 'data.yaml'), 'train: images/train\nnames: [a]\nval: images/val\nnames: [p, q, r]\n');
    expect((await importFrom(root)).dataset.categories.map((c) => c.name)).toEqual(['p', 'q', 'r']);
  });

  it('a split listing several folders keeps images of the same name from each', async () => {
    const root = temp();
    for (const [dir, cls] of [['a', 0], ['b', 1]] as const) {
      await makeImage(path.join(root, dir, 'images/1.jpg'), 10, 10);
      fs.mkdirSync(path.join(root, dir, 'labels'), { recursive: true });
      fs.writeFileSync(path.join(root, dir, 'labels/1.txt'), `${cls} 0.5 0.5 0.2 0.2\n`);
    }
    fs.writeFileSync(path.join(root, 'data.yaml'), 'train: [a/images, b/images]\nval: a/images\nnames: [x, y]\n');
    const { items, reporter } = await importFrom(root);
    expect(items.map((i) => [i.subset, i.id, i.annotations.map((a) => a.label)])).toEqual([['train', '1', [0]], ['train', 'b/images/1', [1]]]);
    expect(reporter.messages.some((m) => m.code === 'duplicate-item')).toBe(false);
  });

  it('finds labels below the dataset root even when the root itself lies inside an images/ folder', async () => {
    const outer = temp();
    const root = path.join(outer, 'images/ds');
    await makeImage(path.join(root, 'train/x.jpg'), 10, 10);
    fs.writeFileSync(path.join(root, 'train/x.txt'), '0 0.5 0.5 0.2 0.2\n');
    fs.mkdirSync(path.join(outer, 'labels/ds/train'), { recursive: true }); // outside the dataset: never read
    fs.writeFileSync(path.join(outer, 'labels/ds/train/x.txt'), '1 0.5 0.5 0.2 0.2\n');
    fs.writeFileSync(path.join(outer, 'labels/ds/train/stray.txt'), '1 0.5 0.5 0.2 0.2\n');
    fs.writeFileSync(path.join(root, 'data.yaml'), 'train: train\nval: train\nnames: [a, b]\n');
    const { items, reporter } = await importFrom(root);
    expect(items.map((i) => i.annotations.map((a) => a.label))).toEqual([[0]]);
    expect(reporter.messages.filter((m) => m.file?.startsWith(path.join(outer, 'labels')))).toEqual([]);
  });

  it('finds splits given as absolute paths from another machine below the dataset root', async () => {
    const root = temp();
    await makeImage(path.join(root, 'images/train/x.jpg'), 10, 10);
    await makeImage(path.join(root, 'images/val/y.jpg'), 10, 10);
    fs.mkdirSync(path.join(root, 'labels/train'), { recursive: true });
    fs.writeFileSync(path.join(root, 'labels/train/x.txt'), '0 0.5 0.5 0.2 0.2\n');
    fs.writeFileSync(path.join(root, 'val.txt'), './images/val/y.jpg\n');
    fs.writeFileSync(path.join(root, 'data.yaml'), 'train: /no/such/machine/ds/images/train\nval: C:\\Users\\u\\ds\\val.txt\nnames: [a]\n');
    const { items, reporter } = await importFrom(root);
    expect(items.map((i) => [i.subset, i.id, i.annotations.length])).toEqual([['train', 'x', 1], ['val', 'y', 0]]);
    expect(reporter.messages.filter((m) => m.code === 'split-relocated')).toHaveLength(2);
  });

  it('reports orphan labels beside images read from a .txt list', async () => {
    const root = temp();
    await makeImage(path.join(root, 'images/train/a.jpg'), 10, 10);
    fs.mkdirSync(path.join(root, 'labels/train'), { recursive: true });
    fs.writeFileSync(path.join(root, 'labels/train/a.txt'), '0 0.5 0.5 0.2 0.2\n');
    fs.writeFileSync(path.join(root, 'labels/train/ghost.txt'), '0 0.5 0.5 0.2 0.2\n');
    fs.writeFileSync(path.join(root, 'train.txt'), './images/train/a.jpg\n');
    fs.writeFileSync(path.join(root, 'data.yaml'), 'train: train.txt\nval: train.txt\nnames: [a]\n');
    const { items, reporter } = await importFrom(root);
    expect(items.map((i) => [i.id, i.annotations.length])).toEqual([['a', 1]]);
    expect(reporter.messages.filter((m) => m.code === 'label-without-image').map((m) => m.file)).toEqual([path.join(root, 'labels/train/ghost.txt')]);
  });

  it('a huge class index, names key or nc is reported, not expanded into that many class names', async () => {
    const root = temp();
    await makeImage(path.join(root, 'images/train/x.jpg'), 10, 10);
    fs.mkdirSync(path.join(root, 'labels/train'), { recursive: true });
    fs.writeFileSync(path.join(root, 'labels/train/x.txt'), '1 0.5 0.5 0.2 0.2\n1000000000 0.5 0.5 0.2 0.2\n');
    const loose = await importFrom(root); // no YAML: names grow from the labels
    expect(loose.dataset.categories.map((c) => c.name)).toEqual(['class_0', 'class_1']);
    expect(loose.items[0].annotations.map((a) => a.label)).toEqual([1]);
    expect(loose.reporter.messages.find((m) => m.code === 'unknown-class')).toMatchObject({ line: 2 });

    fs.writeFileSync(path.join(root, 'data.yaml'), 'train: images/train\nval: images/train\nnc: 1.0e+12\n');
    const noNames = await importFrom(root);
    expect(noNames.dataset.categories.map((c) => c.name)).toEqual(['class_0', 'class_1']);
    expect(noNames.reporter.messages.map((m) => m.code)).toContain('bad-nc');
    fs.writeFileSync(path.join(root, 'data.yaml'), 'train: images/train\nval: images/train\nnames: {0: a, 4000000000: b}\n');
    await expect(importFrom(root)).rejects.toMatchObject({ diagnostic: { code: 'bad-names' } });
  });
});

describe('export: refusals', () => {
  it('refuses --task pose without keypoint categories, naming the problem', async () => {
    const items: Item[] = [{ id: 'x', subset: 'train', image: { path: '/n/x.jpg', width: 4, height: 4 }, annotations: [{ type: 'points', label: 0, points: [1, 1] }] }];
    await expect(exportTo({ categories: [{ name: 'a' }], items }, { task: 'pose' })).rejects.toMatchObject({ diagnostic: { code: 'no-keypoints' } });
  });
});

describe('contour tracing on random bitmaps', async () => {
  const { traceOuterContours } = await import('../../src/geometry/contour.js');

  /** Pixel centres inside a flat polygon (even-odd; centres never lie on its integer edges). */
  function raster(points: number[], width: number, height: number): Uint8Array {
    const out = new Uint8Array(width * height);
    const n = points.length / 2;
    for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) {
      const px = x + 0.5, py = y + 0.5;
      let inside = false;
      for (let i = 0, j = n - 1; i < n; j = i++) {
        const [xi, yi, xj, yj] = [points[2 * i], points[2 * i + 1], points[2 * j], points[2 * j + 1]];
        if ((yi > py) !== (yj > py) && px < ((xj - xi) * (py - yi)) / (yj - yi) + xi) inside = !inside;
      }
      out[y * width + x] = inside ? 1 : 0;
    }
    return out;
  }

  /** The component's pixels plus every pixel the outside cannot reach without crossing it (its holes). */
  function filled(component: Uint8Array, width: number, height: number): Uint8Array {
    const reached = new Uint8Array(width * height);
    const stack: number[] = [];
    for (let x = 0; x < width; x++) stack.push(x, (height - 1) * width + x);
    for (let y = 0; y < height; y++) stack.push(y * width, y * width + width - 1);
    while (stack.length) {
      const p = stack.pop()!;
      if (reached[p] || component[p]) continue;
      reached[p] = 1;
      const x = p % width, y = (p - x) / width;
      if (x > 0) stack.push(p - 1);
      if (x < width - 1) stack.push(p + 1);
      if (y > 0) stack.push(p - width);
      if (y < height - 1) stack.push(p + width);
    }
    return reached.map((r) => (r ? 0 : 1));
  }

  it('each outline encloses exactly its component and the holes in it', () => {
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    const width = 12, height = 10;
    let components = 0;
    for (let round = 0; round < 200; round++) {
      const data = Uint8Array.from({ length: width * height }, () => (random() < 0.45 ? 1 : 0));
      const contours = traceOuterContours({ width, height, data });
      // Which component each pixel is in, by flood fill with 8-connectivity, in raster order of first pixels.
      const label = new Int32Array(width * height).fill(-1);
      let count = 0;
      for (let s = 0; s < data.length; s++) {
        if (!data[s] || label[s] >= 0) continue;
        const stack = [s];
        label[s] = count;
        while (stack.length) {
          const p = stack.pop()!;
          const x = p % width, y = (p - x) / width;
          for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) {
            const nx = x + dx, ny = y + dy, q = ny * width + nx;
            if (nx >= 0 && ny >= 0 && nx < width && ny < height && data[q] && label[q] < 0) { label[q] = count; stack.push(q); }
          }
        }
        count++;
      }
      expect(contours.length).toBe(count);
      contours.forEach((c, k) => {
        const component = label.map((l) => (l === k ? 1 : 0)) as unknown as Uint8Array;
        expect(c.area).toBe(component.reduce((a, b) => a + b, 0));
        expect(Array.from(raster(c.points, width, height)), `round ${round} component ${k}`).toEqual(Array.from(filled(Uint8Array.from(component), width, height)));
      });
      components += count;
    }
    expect(components).toBeGreaterThan(500);
  });
});

describe('import: DOTA labelTxt', () => {
  it('reads pixel quads with headers, difficulty and class names; a rotated quad stays rotated', async () => {
    const root = temp();
    fs.writeFileSync(path.join(root, 'data.yaml'), 'train: train/images\nnames: [plane, ship]\n');
    await makeImage(path.join(root, 'train/images/p.jpg'), 200, 100);
    fs.mkdirSync(path.join(root, 'train/labelTxt'), { recursive: true });
    // A 20 x 10 box centred at (100, 50), rotated 30 degrees clockwise (corners from the model's own helper).
    const { rotatedBoxCorners } = await import('../../src/geometry/polygon.js');
    const quad = rotatedBoxCorners({ x: 90, y: 45, w: 20, h: 10, rotation: 30 }).map((v) => v.toFixed(4)).join(' ');
    fs.writeFileSync(path.join(root, 'train/labelTxt/p.txt'), `imagesource:GoogleEarth\ngsd:0.5\n${quad} ship 1\n10 10 30 10 30 20 10 20 harbor 0\n1 2 3\n`);
    const { dataset, items, reporter } = await importFrom(root);
    expect(dataset.categories.map((c) => c.name)).toEqual(['plane', 'ship', 'harbor']);
    const [ship, harbor] = items[0].annotations;
    expect(ship).toMatchObject({ type: 'bbox', label: 1, attributes: { difficult: true } });
    if (ship.type !== 'bbox') throw new Error('not a box');
    for (const [k, v] of Object.entries({ x: 90, y: 45, w: 20, h: 10, rotation: 30 })) expect(ship[k as 'x']).toBeCloseTo(v, 3);
    expect(harbor).toEqual({ type: 'bbox', label: 2, x: 10, y: 10, w: 20, h: 10 });
    expect(reporter.messages.filter((m) => m.severity === 'warning').map((m) => `${m.code}:${m.line}`)).toEqual(['new-class:4', 'bad-label-line:5']);
  });
});
