import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import sharp from 'sharp';
import { plugin } from '../../formats/voc/index.js';
import { planLabels } from '../../formats/voc/exporter.js';
import { VOC_PALETTE } from '../../formats/voc/layout.js';
import { encodePalettePng } from '../../formats/voc/png.js';
import { collect, type Annotation, type Category, type Item, type MemoryDataset } from '../../src/model.js';
import { convert, createContext } from '../../src/pipeline.js';
import '../../formats/index.js';
import { DatumError, Reporter } from '../../src/diagnostics.js';
import { maskToBitmap } from '../../src/geometry/mask.js';
import type { Options } from '../../src/plugin.js';
import { fixture, tempDir } from '../helpers/corpus.js';

const temps: string[] = [];
afterAll(() => { for (const t of temps) fs.rmSync(t, { recursive: true, force: true }); });
function temp(): string {
  const dir = tempDir('datum-voc-');
  temps.push(dir);
  return dir;
}
function writeFiles(root: string, files: Record<string, string | Buffer>): string {
  for (const [rel, content] of Object.entries(files)) {
    const file = path.join(root, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, content);
  }
  return root;
}

async function load(input: string, options: Options = {}) {
  const ctx = createContext();
  const dataset = await collect(await plugin.import!(input, options, ctx));
  return { dataset, messages: ctx.reporter.messages };
}
async function save(dataset: MemoryDataset, options: Options = {}) {
  const out = path.join(temp(), 'out');
  fs.mkdirSync(out);
  const ctx = createContext();
  const summary = await plugin.export!({ ...dataset, items: dataset.items }, out, options, ctx);
  return { out, summary, messages: ctx.reporter.messages };
}
function item(dataset: MemoryDataset, id: string, subset?: string): Item {
  const found = dataset.items.find((i) => i.id === id && (subset === undefined || i.subset === subset));
  if (!found) throw new Error(`no item ${id}`);
  return found;
}
const names = (d: MemoryDataset) => d.categories.map((c) => c.name);
function labelName(d: MemoryDataset, a: Annotation): string | undefined {
  return a.label === undefined ? undefined : d.categories[a.label].name;
}
function ofType<T extends Annotation['type']>(i: Item, type: T): Extract<Annotation, { type: T }>[] {
  return i.annotations.filter((a) => a.type === type) as Extract<Annotation, { type: T }>[];
}

/** Items and annotations with label names instead of indices, sorted, for comparing two imports. */
function canonical(d: MemoryDataset) {
  return [...d.items].sort((a, b) => `${a.subset}/${a.id}`.localeCompare(`${b.subset}/${b.id}`)).map((i) => ({
    id: i.id,
    subset: i.subset,
    size: [i.image?.width, i.image?.height],
    annotations: i.annotations.map((a) => ({ ...a, label: labelName(d, a) }))
      .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
  }));
}
function expectSameDataset(a: MemoryDataset, b: MemoryDataset) {
  const ca = canonical(a);
  const cb = canonical(b);
  expect(cb.map((i) => `${i.subset}/${i.id}`)).toEqual(ca.map((i) => `${i.subset}/${i.id}`));
  ca.forEach((itemA, k) => {
    const itemB = cb[k];
    if (itemA.size[0] !== undefined) expect(itemB.size).toEqual(itemA.size);
    expect(itemB.annotations.length).toBe(itemA.annotations.length);
    itemA.annotations.forEach((annA, j) => {
      const annB = itemB.annotations[j] as Record<string, unknown>;
      for (const [key, value] of Object.entries(annA)) {
        if (typeof value === 'number') expect(Math.abs((annB[key] as number) - value), `${itemA.id} ${annA.type}.${key}`).toBeLessThan(1e-6);
        else expect(annB[key], `${itemA.id} ${annA.type}.${key}`).toEqual(value);
      }
    });
  });
}

const xml = (objects: string, extra = '') => `<?xml version="1.0" encoding="UTF-8"?>
<annotation>
  <filename>img.jpg</filename>
  ${extra}
  ${objects}
</annotation>
`;
const object = (name: string, [xmin, ymin, xmax, ymax]: (number | string)[], inner = '') =>
  `<object><name>${name}</name>${inner}<bndbox><xmin>${xmin}</xmin><ymin>${ymin}</ymin><xmax>${xmax}</xmax><ymax>${ymax}</ymax></bndbox></object>`;

/** A copy of test/fixtures/voc/<name> (text files only) with its images and masks generated. */
async function vocFixture(name: string, images: Record<string, [number, number]> = {}, files: Record<string, Buffer> = {}): Promise<string> {
  const root = path.join(temp(), name);
  fs.cpSync(fixture('voc', name), root, { recursive: true });
  for (const [rel, [width, height]] of Object.entries(images)) {
    files[rel] = await sharp({ create: { width, height, channels: 3, background: { r: 120, g: 60, b: 30 } } }).jpeg().toBuffer();
  }
  return writeFiles(root, files);
}
/** Detection + segmentation + layout + action lists, no labelmap; the class and object masks cover the whole 24 x 16 image. */
const detectionFixture = () => vocFixture('detection', { 'JPEGImages/000017.jpg': [24, 16], 'JPEGImages/000023.jpg': [24, 16] }, {
  'SegmentationClass/000017.png': encodePalettePng(24, 16, new Uint8Array(24 * 16).fill(4), VOC_PALETTE), // class 4 = boat
  'SegmentationObject/000017.png': encodePalettePng(24, 16, new Uint8Array(24 * 16).fill(1), VOC_PALETTE), // instance 1
});
/** Roboflow's VOC: <subset>/<id>.xml beside <subset>/<id>.jpg, no ImageSets. */
const roboflowFixture = () => vocFixture('roboflow', { 'train/leaf_01.jpg': [16, 8], 'train/leaf_02.jpg': [16, 8], 'val/leaf_03.jpg': [16, 8] });
const commentsFixture = () => vocFixture('comments', { 'JPEGImages/000031.jpg': [24, 16] });
/** labelmap.txt, float coordinates, no <size> and no images, an object-less @.xml, one trainval subset. */
const labelmapFixture = () => vocFixture('labelmap');

describe('imports of the VOC layouts (fixtures of our own, test/fixtures/voc)', () => {
  test('detection: boxes, part, actions, class lists and masks, checked against the XML', async () => {
    const root = await detectionFixture();
    const { dataset, messages } = await load(root);
    expect(messages).toEqual([]);
    // No labelmap: the names the XMLs and class lists use, sorted, then person's parts.
    expect(names(dataset)).toEqual(['boat', 'cow', 'dog', 'ignored', 'person', 'sofa', 'tvmonitor', 'head']);
    expect(dataset.categories.find((c) => c.name === 'head')).toMatchObject({ parent: 'person' });
    expect(dataset.categories.find((c) => c.name === 'dog')?.color).toEqual([64, 0, 128]);
    expect(dataset.items.map((i) => `${i.subset}/${i.id}`).sort()).toEqual(['test/000023', 'train/000017']);

    const train = item(dataset, '000017');
    expect(train.image).toMatchObject({ width: 24, height: 16 });
    expect(train.image!.path).toBe(path.join(root, 'JPEGImages/000017.jpg'));
    const boxes = ofType(train, 'bbox');
    expect(boxes).toHaveLength(3);
    // <xmin>2 <ymin>3 <xmax>6 <ymax>7, 1-based inclusive: pixels 1..5 x 2..6.
    const dog = boxes.find((b) => labelName(dataset, b) === 'dog')!;
    expect(dog).toMatchObject({ x: 1, y: 2, w: 5, h: 5, group: 1, occluded: false });
    expect(dog.attributes).toEqual({ truncated: true, difficult: false, pose: 'Frontal' });
    const person = boxes.find((b) => labelName(dataset, b) === 'person')!;
    expect(person).toMatchObject({ x: 7, y: 3, w: 7, h: 9, group: 2 });
    expect(person.attributes).toMatchObject({ other: false, jumping: true, phoning: false, playinginstrument: true, running: true, usingcomputer: true, walking: false });
    const head = boxes.find((b) => labelName(dataset, b) === 'head')!;
    expect(head).toMatchObject({ x: 8.5, y: 3, w: 4, h: 3.5, group: 2 }); // 9.5..12.5 x 4..6.5

    // Image-level labels come from the <class>_train.txt lists (1 = present, -1 = absent).
    const labels = ofType(train, 'label').map((a) => labelName(dataset, a)).sort();
    expect(labels).toEqual(['boat', 'cow', 'dog', 'ignored', 'person', 'sofa', 'tvmonitor']);

    // SegmentationClass is all class 4 = boat, SegmentationObject all instance 1 (the first object's group).
    const [mask] = ofType(train, 'mask');
    expect(ofType(train, 'mask')).toHaveLength(1);
    expect(labelName(dataset, mask)).toBe('boat');
    expect(mask).toMatchObject({ left: 0, top: 0, width: 24, height: 16, rle: [0, 384], group: 1 });

    // Listed in every task folder but without an XML: an item with no annotations.
    expect(item(dataset, '000023', 'test').annotations).toEqual([]);
  });

  test("--coords datumaro reads xmin..xmax as Datumaro does (x = xmin, w = xmax - xmin)", async () => {
    const { dataset } = await load(await detectionFixture(), { coords: 'datumaro' });
    const boxes = ofType(item(dataset, '000017'), 'bbox');
    expect(boxes.find((b) => labelName(dataset, b) === 'dog')).toMatchObject({ x: 2, y: 3, w: 4, h: 4 });
    expect(boxes.find((b) => labelName(dataset, b) === 'head')).toMatchObject({ x: 9.5, y: 4, w: 3, h: 2.5 });
  });

  test('labelmap: labelmap.txt with a comment line, float coordinates, and the object-less @.xml', async () => {
    const { dataset, messages } = await load(await labelmapFixture());
    expect(messages).toEqual([]);
    expect(names(dataset)).toEqual(['background', 'kettle', 'teapot', 'mug', 'spoon', 'ignored']);
    expect(dataset.categories[5]).toEqual({ name: 'ignored', color: [224, 224, 192] });
    expect(dataset.items.map((i) => i.id)).toEqual(['@', 'p', 'q', 'r', 's']);
    expect(new Set(dataset.items.map((i) => i.subset))).toEqual(new Set(['trainval']));
    expect(item(dataset, '@').annotations).toEqual([]);
    const [p] = item(dataset, 'p').annotations;
    expect(labelName(dataset, p)).toBe('background');
    expect(p).toMatchObject({ type: 'bbox', x: 1, y: 2, w: 4, h: 7, occluded: true }); // 2.0 3.0 5.0 9.0
    expect(item(dataset, 'q').annotations[0]).toMatchObject({ x: 0, y: 0, w: 8, h: 4, occluded: true }); // 1.0 1.0 8.0 4.0
    expect(item(dataset, 'r').annotations[0]).toMatchObject({ x: 3, y: 1, w: 10, h: 4, occluded: false }); // 4.0 2.0 13.0 5.0
    expect(item(dataset, 's').annotations[0]).toMatchObject({ x: 5, y: 5, w: 2, h: 7 });
  });

  test('comments: comment and blank lines in the subset list', async () => {
    const { dataset } = await load(await commentsFixture());
    expect(dataset.items.map((i) => `${i.subset}/${i.id}`)).toEqual(['train/000031']);
    expect(dataset.items[0].annotations).toHaveLength(1);
  });

  test('roboflow voc: <subset>/*.xml beside the images, labels from the files, 0-based boxes', async () => {
    const root = await roboflowFixture();
    const { dataset, messages } = await load(root);
    expect(messages).toEqual([]);
    expect(names(dataset)).toEqual(['stem', 'vein']);
    expect(dataset.items.map((i) => `${i.subset}/${i.id}`)).toEqual(['train/leaf_01', 'train/leaf_02', 'val/leaf_03']);
    const val = item(dataset, 'leaf_03');
    expect(val.image).toEqual({ path: path.join(root, 'val/leaf_03.jpg'), width: 16, height: 8 });
    // Roboflow writes xmin, xmax, ymin, ymax in that order, 0-based.
    expect(val.annotations.map((a) => [labelName(dataset, a), a.type === 'bbox' && [a.x, a.y, a.w, a.h]])).toEqual([
      ['stem', [0, 0, 2, 3]],
      ['vein', [1, 4, 15, 2]],
    ]);
    // An object without truncated/difficult/occluded.
    expect(item(dataset, 'leaf_01').annotations[0]).toMatchObject({ x: 3, y: 2, w: 6, h: 3 });
  });

  test('detector: VOC folders yes, other formats no', async () => {
    for (const root of [await detectionFixture(), await labelmapFixture(), await commentsFixture()]) {
      expect((await plugin.detect!(root))?.confidence, root).toBeGreaterThanOrEqual(0.9);
    }
    expect((await plugin.detect!(await roboflowFixture()))?.confidence).toBe(0.5);
    const coco = writeFiles(temp(), { 'annotations/instances_train.json': JSON.stringify({ images: [], annotations: [], categories: [{ id: 1, name: 'a' }] }) });
    const roboflowCoco = writeFiles(temp(), { 'train/_annotations.coco.json': JSON.stringify({ images: [], annotations: [], categories: [] }) });
    for (const d of ['samples/cvat_dataset', coco, fixture('yolo', 'strict'), roboflowCoco, fixture('yolo', 'roboflow')]) {
      expect(await plugin.detect!(d), d).toMatchObject({ confidence: 0 });
    }
    expect(await plugin.detect!(path.join(await labelmapFixture(), 'labelmap.txt'))).toMatchObject({ confidence: 0 });
  });
});

describe('round trips', () => {
  test('detection fixture -> export -> import is equal, and the files are what VOC tools read', async () => {
    const first = await load(await detectionFixture());
    const { out, summary, messages } = await save(first.dataset);
    expect(messages).toEqual([]);
    expect(summary).toEqual({ items: 2, annotations: { bbox: 3, label: 7, mask: 1 } });
    const second = await load(out);
    expect(second.messages).toEqual([]);
    expect(names(second.dataset)).toEqual(['background', ...names(first.dataset)]); // VOC's class 0, written to labelmap.txt
    expectSameDataset(first.dataset, second.dataset);

    const read = (rel: string) => fs.readFileSync(path.join(out, rel), 'utf8');
    expect(read('ImageSets/Main/train.txt')).toBe('000017\n');
    expect(read('ImageSets/Main/test.txt')).toBe('000023\n');
    expect(read('ImageSets/Main/background_train.txt')).toBe('000017 -1\n');
    expect(read('ImageSets/Main/sofa_train.txt')).toBe('000017  1\n');
    expect(read('ImageSets/Segmentation/train.txt')).toBe('000017\n');
    expect(read('ImageSets/Layout/train.txt')).toBe('000017 2\n');
    expect(read('ImageSets/Action/phoning_train.txt')).toBe('000017 2 -1\n');
    expect(read('ImageSets/Action/jumping_train.txt')).toBe('000017 2  1\n');
    expect(read('labelmap.txt')).toContain('\nperson:192,128,128:head:other,jumping,'); // the parts the XMLs use
    const annotation = read('Annotations/000017.xml');
    expect(annotation).toContain('<xmin>2</xmin>\n      <ymin>3</ymin>\n      <xmax>6</xmax>\n      <ymax>7</ymax>');
    expect(annotation).toContain('<part>\n      <name>head</name>\n      <bndbox>\n        <xmin>9.5</xmin>');
    expect(annotation).toContain('<segmented>1</segmented>');
    // Masks are 8-bit palette PNGs whose indices are class ids / instance ids.
    const classPng = fs.readFileSync(path.join(out, 'SegmentationClass/000017.png'));
    expect(classPng[25]).toBe(3); // IHDR color type: palette
    const meta = await sharp(classPng).metadata();
    expect([meta.width, meta.height]).toEqual([24, 16]);
    const { data } = await sharp(path.join(out, 'SegmentationObject/000017.png')).raw().toBuffer({ resolveWithObject: true });
    expect([...data.subarray(0, 3)]).toEqual(VOC_PALETTE[1]);
  });

  test('labelmap and roboflow fixtures round trip (Roboflow boxes written back 0-based with --coords datumaro)', async () => {
    const first = await load(await labelmapFixture());
    const { out } = await save(first.dataset);
    const second = await load(out);
    expectSameDataset(first.dataset, second.dataset);
    expect(fs.readFileSync(path.join(out, 'Annotations/r.xml'), 'utf8')).toContain('<xmin>4</xmin>');

    const roboflow = await load(await roboflowFixture());
    const exported = await save(roboflow.dataset, { coords: 'datumaro' });
    expect(fs.readFileSync(path.join(exported.out, 'Annotations/leaf_03.xml'), 'utf8')).toContain('<xmin>0</xmin>');
    const again = await load(exported.out, { coords: 'datumaro' });
    expectSameDataset(roboflow.dataset, again.dataset);
    expect(names(again.dataset)).toEqual(['background', 'stem', 'vein']);
  });

  test('a model dataset with float boxes, masks, polygons, parts and custom attributes', async () => {
    const categories: Category[] = [
      { name: 'person', attributes: [{ name: 'waving', inputType: 'checkbox' }] },
      { name: 'car', color: [10, 20, 30] },
      { name: 'head', parent: 'person' },
    ];
    const mask = { left: 2, top: 1, width: 3, height: 2, rle: [1, 4, 1] };
    const dataset: MemoryDataset = {
      categories,
      items: [{
        id: 'dir/frame 1', subset: 'train', image: { path: '/nowhere/frame 1.png', width: 8, height: 6 },
        annotations: [
          { type: 'bbox', label: 0, x: 0.25, y: 1.1, w: 3.3, h: 2.7, group: 5, attributes: { waving: true, color: 'red', difficult: true }, occluded: true },
          { type: 'bbox', label: 2, x: 1, y: 1, w: 1.5, h: 1, group: 5 },
          { type: 'mask', label: 1, ...mask, group: 9 },
          { type: 'polygon', label: 0, points: [1, 3, 4, 3, 4, 5, 1, 5], group: 5 },
        ],
      }],
    };
    const { out, summary, messages } = await save(dataset);
    expect(messages).toEqual([]);
    expect(summary.annotations).toEqual({ bbox: 2, mask: 1, polygon: 1 });
    expect(fs.readFileSync(path.join(out, 'ImageSets/Layout/train.txt'), 'utf8')).toBe('"dir/frame 1" 1\n');
    expect(fs.readFileSync(path.join(out, 'Annotations/dir/frame 1.xml'), 'utf8')).toContain('<filename>dir/frame 1.png</filename>');
    const { dataset: back, messages: warnings } = await load(out);
    expect(warnings).toEqual([]);
    expect(names(back)).toEqual(['background', 'person', 'car', 'head']);
    expect(back.categories[2].color).toEqual([10, 20, 30]);
    const it = back.items[0];
    expect([it.id, it.subset]).toEqual(['dir/frame 1', 'train']);
    const [person, head] = ofType(it, 'bbox');
    expect(person.x).toBeCloseTo(0.25, 9);
    expect(person.y).toBeCloseTo(1.1, 9);
    expect(person.w).toBeCloseTo(3.3, 9);
    expect(person.h).toBeCloseTo(2.7, 9);
    expect(person).toMatchObject({ occluded: true, group: 1, attributes: { waving: true, color: 'red', difficult: true, truncated: false } });
    expect(head).toMatchObject({ x: 1, y: 1, w: 1.5, h: 1, group: 1, label: 3 });
    const masks = ofType(it, 'mask');
    // The polygon (grouped with the person box) is instance 1 = object 1; the car mask is instance 2.
    expect(masks.map((m) => [labelName(back, m), m.group])).toEqual([['person', 1], ['car', 2]]);
    expect(masks[1]).toMatchObject(mask);
    // Polygon 1..4 x 3..5: pixel centres inside are x 1..3, y 3..4.
    expect(masks[0]).toMatchObject({ left: 1, top: 3, width: 3, height: 2 });
    expect([...maskToBitmap(masks[0]).data]).toEqual([1, 1, 1, 1, 1, 1]);
  });
});

describe('export', () => {
  test('datum convert voc -> voc through the core pipeline (atomic output, plugin options)', async () => {
    const output = path.join(temp(), 'converted');
    const ctx = createContext();
    const result = await convert({ input: await detectionFixture(), inputFormat: 'voc', output, outputFormat: 'pascal_voc', exportOptions: { 'save-media': true } }, ctx);
    expect(result).toMatchObject({ items: 2, inputFormat: 'voc', outputFormat: 'voc', annotations: { bbox: 3, label: 7, mask: 1 } });
    expect(fs.readdirSync(output).sort()).toEqual(['Annotations', 'ImageSets', 'JPEGImages', 'SegmentationClass', 'SegmentationObject', 'labelmap.txt']);
    expect(ctx.reporter.messages).toEqual([]);
  });

  test('an id listed in two subsets is written once and listed in both', async () => {
    const { dataset } = await load(await commentsFixture());
    dataset.items.push({ ...dataset.items[0], subset: 'trainval' });
    const { out } = await save(dataset);
    expect(fs.readdirSync(path.join(out, 'Annotations'))).toEqual(['000031.xml']);
    expect(fs.readFileSync(path.join(out, 'ImageSets/Main/trainval.txt'), 'utf8')).toBe('000031\n');
    const back = await load(out);
    expect(back.dataset.items.map((i) => i.subset).sort()).toEqual(['train']); // trainval = train ∪ val
  });

  test('two different items with one id in two subsets (COCO train/0001, val/0001): the second is reported, not silently lost', async () => {
    const box = (x: number): Annotation => ({ type: 'bbox', label: 0, x, y: 1, w: 2, h: 2 });
    const dataset: MemoryDataset = { categories: [{ name: 'cat' }], items: [
      { id: '0001', subset: 'train', image: { path: '/d/train/0001.jpg', width: 9, height: 9 }, annotations: [box(1)] },
      { id: '0001', subset: 'val', image: { path: '/d/val/0001.jpg', width: 9, height: 9 }, annotations: [box(5), box(6)] },
    ] };
    const { out, summary, messages } = await save(dataset);
    expect(fs.readFileSync(path.join(out, 'Annotations/0001.xml'), 'utf8').match(/<object>/g)).toHaveLength(1);
    expect(summary.dropped).toEqual({ 'duplicate-id': 2 });
    expect(messages.filter((m) => m.code === 'duplicate-id' && m.message.includes("subset 'val'"))).toHaveLength(1);
  });

  test('annotations VOC cannot hold are counted in dropped and warned; normalized items warn no-image-size', async () => {
    const dataset: MemoryDataset = {
      categories: [{ name: 'a' }, { name: 'b', keypoints: ['p'] }],
      items: [
        { id: 'x', subset: '', image: { path: '/nowhere/x.jpg', width: 10, height: 10 }, annotations: [
          { type: 'polyline', label: 0, points: [0, 0, 1, 1] },
          { type: 'points', label: 0, points: [1, 1] },
          { type: 'ellipse', label: 0, cx: 3, cy: 3, rx: 1, ry: 1 },
          { type: 'skeleton', label: 1, points: [1, 1], visibility: [2] },
          { type: 'caption', caption: 'hello' },
          { type: 'bbox', label: 0, x: 1, y: 1, w: 2, h: 2, rotation: 30 },
          { type: 'bbox', x: 1, y: 1, w: 2, h: 2 },
          { type: 'bbox', label: 0, x: 1, y: 1, w: 2, h: 2 },
        ] },
        { id: 'y', subset: '', normalized: true, image: { path: '/nowhere/y.jpg' }, annotations: [
          { type: 'bbox', label: 0, x: 0.1, y: 0.1, w: 0.5, h: 0.5 },
          { type: 'label', label: 1 },
        ] },
      ],
    };
    const { out, summary, messages } = await save(dataset);
    expect(summary).toEqual({
      items: 2,
      annotations: { bbox: 1, label: 1 },
      dropped: { 'unsupported-polyline': 1, 'unsupported-points': 1, 'unsupported-ellipse': 1, 'unsupported-skeleton': 1,
        'unsupported-caption': 1, 'rotated-bbox': 1, unlabeled: 1, 'no-image-size': 1 },
    });
    expect(messages.map((m) => m.code).sort()).toEqual(Object.keys(summary.dropped!).sort());
    expect(messages.find((m) => m.code === 'no-image-size')).toMatchObject({ item: 'y', severity: 'warning' });
    expect(fs.readFileSync(path.join(out, 'ImageSets/Main/default.txt'), 'utf8')).toBe('x\ny\n');
    expect(fs.readFileSync(path.join(out, 'ImageSets/Main/b_default.txt'), 'utf8')).toBe('y  1\n');
    expect(fs.readFileSync(path.join(out, 'Annotations/y.xml'), 'utf8')).not.toContain('<object>');
  });

  test('annotations with NaN or Infinity are warned with their id and not written', async () => {
    const dataset: MemoryDataset = {
      categories: [{ name: 'cat' }],
      items: [{ id: 'a', subset: 'train', image: { path: '/nowhere/a.jpg', width: 10, height: 10 }, annotations: [
        { type: 'bbox', label: 0, x: NaN, y: 1, w: 2, h: 2, id: 7 },
        { type: 'bbox', label: 0, x: 1, y: 1, w: 2, h: 2, id: 8 },
        { type: 'polygon', label: 0, points: [0, 0, Infinity, 0, 5, 5], id: 9 },
      ] }],
    };
    const { out, summary, messages } = await save(dataset);
    const text = fs.readFileSync(path.join(out, 'Annotations/a.xml'), 'utf8');
    expect(text).not.toMatch(/NaN|Infinity/);
    expect(text.match(/<object>/g)).toHaveLength(1);
    expect(fs.existsSync(path.join(out, 'SegmentationClass/a.png'))).toBe(false);
    expect(summary.dropped).toMatchObject({ 'non-finite': 2 });
    expect(messages.filter((m) => m.code === 'non-finite' && /annotation (7|9) /.test(m.message))).toHaveLength(2);
  });

  test('actions whose names are not XML names (spaces, ?, &) are written as valid tags and read back under their names', async () => {
    const dataset: MemoryDataset = {
      categories: [{ name: 'person', attributes: ['is occluded?', 'a&b', '3d'].map((name) => ({ name, inputType: 'checkbox' })) }],
      items: [{ id: 'a', subset: 'train', image: { path: '/nowhere/a.jpg', width: 10, height: 10 }, annotations: [
        { type: 'bbox', label: 0, x: 1, y: 1, w: 2, h: 2, attributes: { 'is occluded?': true, 'a&b': false, '3d': true } },
      ] }],
    };
    const { out } = await save(dataset);
    expect(fs.readFileSync(path.join(out, 'Annotations/a.xml'), 'utf8')).toContain('<is_occluded_>1</is_occluded_>\n      <a_b>0</a_b>\n      <_3d>1</_3d>');
    const { dataset: back, messages } = await load(out);
    expect(messages).toEqual([]);
    expect(back.items[0].annotations[0].attributes).toEqual({ truncated: false, difficult: false, 'is occluded?': true, 'a&b': false, '3d': true });
  });

  test('a dataset without items is written with an empty default list and imports back with its labels', async () => {
    const { out } = await save({ categories: [{ name: 'cat' }], items: [] });
    expect(fs.readFileSync(path.join(out, 'ImageSets/Main/default.txt'), 'utf8')).toBe('');
    const { dataset } = await load(out);
    expect(names(dataset)).toEqual(['background', 'cat']);
    expect(dataset.items).toEqual([]);
  });

  test("a label starting with '#' (a comment line in labelmap.txt) is warned about on export", async () => {
    const { out, messages } = await save({ categories: [{ name: '#1' }], items: [] });
    expect(fs.readFileSync(path.join(out, 'labelmap.txt'), 'utf8')).toContain('\n#1:');
    expect(messages.map((m) => [m.code, m.message.includes("'#1'")])).toEqual([['bad-label-name', true]]);
  });

  test('--save-media copies images into JPEGImages; a missing image is a warning', async () => {
    const root = await detectionFixture();
    const { dataset } = await load(root);
    dataset.items.push({ id: 'ghost', subset: 'test', image: { path: '/nowhere/ghost.jpg' }, annotations: [] });
    const { out, messages } = await save(dataset, { 'save-media': true });
    expect(fs.readdirSync(path.join(out, 'JPEGImages')).sort()).toEqual(['000017.jpg', '000023.jpg']);
    expect(fs.readFileSync(path.join(out, 'JPEGImages/000017.jpg')))
      .toEqual(fs.readFileSync(path.join(root, 'JPEGImages/000017.jpg')));
    expect(messages.map((m) => [m.code, m.item])).toEqual([['missing-image', 'ghost']]);
    // The size of an item without one (000023 has no XML) is probed from its image.
    expect(fs.readFileSync(path.join(out, 'Annotations/000023.xml'), 'utf8')).toContain('<width>24</width>');
  });

  test('labelmap plan: background first, palette colors by index, parts under their parent', () => {
    const plan = planLabels([{ name: 'dog' }, { name: 'tail', parent: 'dog' }, { name: 'cat', color: [0, 128, 0] }, { name: 'ignored' }]);
    expect(plan.entries.map((e) => [e.name, e.color?.join(','), e.parts.join(',')])).toEqual([
      ['background', '0,0,0', ''], ['dog', '128,0,0', 'tail'], ['cat', '0,128,0', ''], ['ignored', '128,128,0', ''],
    ]);
    expect([...plan.classIndex]).toEqual([[0, 1], [2, 2], [3, 255]]);
    expect([...plan.partLabels]).toEqual([1]);
  });
});

describe('messy inputs', () => {
  test('UTF-8 names, ids with spaces, empty depth, float coords, .png images, boxes past the border', async () => {
    const root = writeFiles(temp(), {
      'Annotations/фото 1.xml': xml(object('кошка', [1.5, 2.25, 30, 40]) + object('猫', [-5, 0, 200, 9]),
        '<size><width>20</width><height>10</height><depth></depth></size>'),
      'Annotations/b.xml': xml(object('猫', [1, 1, 2, 2])),
      'ImageSets/Main/trainval.txt': '\uFEFFфото 1\r\nb\r\n',
      'JPEGImages/фото 1.png': Buffer.from('not really a png'),
    });
    const { dataset, messages } = await load(root);
    expect(messages).toEqual([]);
    expect(names(dataset).slice(-2)).toEqual(['кошка', '猫']); // sorted by code unit
    const photo = item(dataset, 'фото 1');
    expect(photo.subset).toBe('trainval');
    expect(photo.image).toEqual({ path: path.join(root, 'JPEGImages/фото 1.png'), width: 20, height: 10 });
    expect(photo.annotations.map((a) => a.type === 'bbox' && [labelName(dataset, a), a.x, a.y, a.w, a.h])).toEqual([
      ['кошка', 0.5, 1.25, 29.5, 38.75],
      ['猫', -6, -1, 206, 10],
    ]);
    const { out } = await save(dataset);
    expect(fs.readFileSync(path.join(out, 'labelmap.txt'), 'utf8')).toContain('\nкошка:');
    expect(fs.readFileSync(path.join(out, 'ImageSets/Main/trainval.txt'), 'utf8')).toBe('фото 1\nb\n');
    expectSameDataset(dataset, (await load(out)).dataset);
  });

  test('character references in names are decoded (&#233; &#x41; &amp;) and written back readable', async () => {
    const root = writeFiles(temp(), {
      'Annotations/a.xml': xml(object('caf&#233; &#x41;&amp;b', [1, 1, 4, 4])),
      'ImageSets/Main/train.txt': 'a\n',
    });
    const { dataset, messages } = await load(root);
    expect(messages).toEqual([]);
    expect(labelName(dataset, dataset.items[0].annotations[0])).toBe('café A&b');
    const { out } = await save(dataset);
    expect(fs.readFileSync(path.join(out, 'Annotations/a.xml'), 'utf8')).toContain('<name>café A&amp;b</name>');
    expectSameDataset(dataset, (await load(out)).dataset);
  });

  test('a label with a trailing space (real COCO names have them) survives export and import', async () => {
    const dataset: MemoryDataset = {
      categories: [{ name: 'dog ' }],
      items: [{ id: 'a', subset: 'train', image: { path: '/nowhere/a.jpg', width: 10, height: 10 }, annotations: [
        { type: 'bbox', label: 0, x: 1, y: 1, w: 2, h: 2 },
      ] }],
    };
    const { out } = await save(dataset);
    const { dataset: back, messages } = await load(out);
    expect(messages).toEqual([]);
    expect(back.items[0].annotations.map((a) => labelName(back, a))).toEqual(['dog ']);
  });

  test('no ImageSets: every annotation is an item without a subset; grayscale class masks hold indices', async () => {
    const classIndices = Buffer.from([0, 8, 8, 0, 0, 8, 255, 0]); // 4 x 2, class 8 = cat, 255 = void
    const root = writeFiles(temp(), {
      'Annotations/a.xml': xml(object('dog', [1, 1, 4, 4])),
      'JPEGImages/a.jpg': Buffer.from(''),
      'SegmentationClass/a.png': await sharp(classIndices, { raw: { width: 4, height: 2, channels: 1 } }).toColourspace('b-w').png().toBuffer(),
    });
    expect((await plugin.detect!(root))?.confidence).toBe(0.9);
    const { dataset, messages } = await load(root);
    expect(messages).toEqual([]);
    expect(dataset.items.map((i) => [i.id, i.subset])).toEqual([['a', 'default']]);
    const [mask] = ofType(dataset.items[0], 'mask');
    expect(labelName(dataset, mask)).toBe('cat');
    expect(mask).toMatchObject({ left: 1, top: 0, width: 2, height: 2 });
    expect([...maskToBitmap(mask).data]).toEqual([1, 1, 1, 0]);
    expect(dataset.items[0].image).toMatchObject({ width: 4, height: 2 });
  });

  test('palette masks: two instances with a void border, labels voted from the class mask, grouped with their boxes', async () => {
    // 6 x 3: instance 1 (class 15 = person) in columns 0-1, void column 2, instance 2 (class 8 = cat) in columns 3-5;
    // one pixel of instance 2 is marked dog (12) in the class mask and is outvoted.
    const cls = Uint8Array.from([15, 15, 255, 8, 8, 8, 15, 15, 255, 8, 12, 8, 0, 0, 255, 8, 8, 8]);
    const obj = Uint8Array.from([1, 1, 255, 2, 2, 2, 1, 1, 255, 2, 2, 2, 0, 0, 255, 2, 2, 2]);
    const root = writeFiles(temp(), {
      'Annotations/m.xml': xml(object('person', [1, 1, 2, 2]) + object('cat', [4, 1, 6, 3])),
      'ImageSets/Segmentation/val.txt': 'm\n',
      'SegmentationClass/m.png': encodePalettePng(6, 3, cls, VOC_PALETTE),
      'SegmentationObject/m.png': encodePalettePng(6, 3, obj, VOC_PALETTE),
    });
    const { dataset, messages } = await load(root);
    expect(messages).toEqual([]);
    const it = item(dataset, 'm', 'val');
    const masks = ofType(it, 'mask');
    expect(masks.map((m) => [labelName(dataset, m), m.group, m.left, m.top, m.width, m.height, maskToBitmap(m).data.join('')])).toEqual([
      ['person', 1, 0, 0, 2, 2, '1111'],
      ['cat', 2, 3, 0, 3, 3, '111111111'],
    ]);
    expect(ofType(it, 'bbox').map((b) => [labelName(dataset, b), b.group])).toEqual([['person', 1], ['cat', 2]]);
    // Written back, the instance indices follow the objects and the void border is gone (it is not an annotation).
    const { out } = await save(dataset);
    const { data } = await sharp(path.join(out, 'SegmentationObject/m.png')).raw().toBuffer({ resolveWithObject: true });
    expect([...data.subarray(0, 3)]).toEqual(VOC_PALETTE[1]);
    expect([...data.subarray(9, 12)]).toEqual(VOC_PALETTE[2]);
    expect([...data.subarray(6, 9)]).toEqual(VOC_PALETTE[0]);
    expectSameDataset(dataset, (await load(out)).dataset);
  });

  test('Layout lists with quoted ids; items listed in several task folders are merged; unlisted XML is reported', async () => {
    const root = writeFiles(temp(), {
      'Annotations/my img.xml': xml(object('person', [1, 1, 5, 5], '<point><x>3</x><y>4.5</y></point><part><name>hand</name><bndbox><xmin>2</xmin><ymin>2</ymin><xmax>3</xmax><ymax>3</ymax></bndbox></part>')),
      'Annotations/orphan.xml': xml(''),
      'ImageSets/Layout/val.txt': '"my img" 1\n',
      'ImageSets/Main/val.txt': 'my img\n',
    });
    const { dataset, messages } = await load(root);
    expect(dataset.items.map((i) => `${i.subset}/${i.id}`)).toEqual(['val/my img']);
    expect(ofType(dataset.items[0], 'bbox').map((b) => labelName(dataset, b))).toEqual(['person', 'hand']);
    // VOC Action's <point> is a points annotation in the object's group, written back as <point>.
    expect(ofType(dataset.items[0], 'points')).toEqual([{ type: 'points', label: 0, points: [2, 3.5], group: 1 }]);
    const { out, summary } = await save(dataset);
    expect(summary.annotations).toMatchObject({ points: 1, bbox: 2 });
    expect(fs.readFileSync(path.join(out, 'Annotations/my img.xml'), 'utf8')).toContain('<point>\n      <x>3</x>\n      <y>4.5</y>');
    expectSameDataset(dataset, (await load(out)).dataset);
    expect(messages.map((m) => [m.code, m.item])).toEqual([['unlisted-annotation', 'orphan']]);
  });
});

describe('bad inputs', () => {
  test('malformed XML is a DatumError naming the file and line', async () => {
    const root = writeFiles(temp(), {
      'Annotations/a.xml': '<annotation>\n  <object>\n    <name>cat</name>\n  </objects>\n</annotation>\n',
      'ImageSets/Main/train.txt': 'a\n',
      'labelmap.txt': 'background:0,0,0::\ncat:64,0,0::\n',
    });
    const error = await load(root).catch((e) => e);
    expect(error).toBeInstanceOf(DatumError);
    expect(error.diagnostic).toMatchObject({ code: 'bad-xml', file: path.join(root, 'Annotations/a.xml'), line: 4 });
  });

  test('non-number coordinates and unknown labels are warnings naming file and object; the rest imports', async () => {
    const root = writeFiles(temp(), {
      'Annotations/a.xml': xml(object('cat', [1, 'abc', 3, 4]) + object('cat', [1, 1, 3, 3], '<truncated>maybe</truncated>')
        + object('zebra', [1, 1, 2, 2]) + object('cat', [1, 1, '', 3])),
      'ImageSets/Main/train.txt': 'a\n',
      'labelmap.txt': '# label:color_rgb:parts:actions\nbackground:0,0,0::\ncat:64,0,0::\n',
    });
    const { dataset, messages } = await load(root);
    const file = path.join(root, 'Annotations/a.xml');
    expect(messages.map((m) => [m.code, m.file, m.item, m.element])).toEqual([
      ['bad-coordinate', file, 'a', "<object> #1 'cat' <bndbox><ymin>"],
      ['bad-flag', file, 'a', "<object> #2 'cat' <truncated>"],
      ['bad-coordinate', file, 'a', "<object> #4 'cat' <bndbox><xmax>"],
      ['unknown-label', file, 'a', '<object> #3'],
    ]);
    expect(dataset.items[0].annotations).toEqual([
      { type: 'bbox', label: 1, x: 0, y: 0, w: 3, h: 3, occluded: false, group: 2, id: 2, attributes: { truncated: false, difficult: false } },
    ]);
  });

  test('an inverted box (xmax < xmin) is a warning naming the object and is skipped, not a negative size', async () => {
    const root = writeFiles(temp(), {
      'Annotations/a.xml': xml(object('cat', [10, 1, 3, 4]) + object('cat', [1, 1, 3, 3])),
      'ImageSets/Main/train.txt': 'a\n',
    });
    const { dataset, messages } = await load(root);
    expect(messages.map((m) => [m.code, m.element])).toEqual([['bad-bbox', "<object> #1 'cat' <bndbox>"]]);
    expect(ofType(dataset.items[0], 'bbox').map((b) => [b.x, b.w])).toEqual([[0, 3]]);
    // A zero-width box is written 1-based as xmax = xmin - 1 and still reads back.
    const zero: MemoryDataset = { categories: [{ name: 'cat' }], items: [{ id: 'z', subset: 'train', image: { path: '/nowhere/z.jpg', width: 9, height: 9 }, annotations: [
      { type: 'bbox', label: 0, x: 2, y: 2, w: 0, h: 3 }, { type: 'bbox', label: 0, x: 5, y: 2, w: -1, h: 3 },
    ] }] };
    const { out, summary } = await save(zero);
    // ...while a negative one is not written.
    expect(summary.dropped).toEqual({ 'negative-size': 1 });
    const back = await load(out);
    expect(back.messages).toEqual([]);
    expect(ofType(back.dataset.items[0], 'bbox').map((b) => [b.x, b.y, b.w, b.h])).toEqual([[2, 2, 0, 3]]);
  });

  test('a labelmap line with too many fields is a DatumError with its line; bad list lines are warnings', async () => {
    const root = writeFiles(temp(), {
      'Annotations/a.xml': xml(''),
      'ImageSets/Main/train.txt': 'a\n',
      'labelmap.txt': 'background:0,0,0::\ncat:1:2:3:4\n',
    });
    const error = await load(root).catch((e) => e);
    expect(error).toBeInstanceOf(DatumError);
    expect(error.diagnostic).toMatchObject({ code: 'bad-labelmap', file: path.join(root, 'labelmap.txt'), line: 2 });

    fs.writeFileSync(path.join(root, 'labelmap.txt'), 'background:0,0,0::\ncat:1,2::\n');
    fs.writeFileSync(path.join(root, 'ImageSets/Main/cat_train.txt'), 'a 1\na yes\n');
    fs.writeFileSync(path.join(root, 'ImageSets/Main/zebra_train.txt'), 'a 1\n');
    const { dataset, messages } = await load(root);
    expect(dataset.items.map((i) => i.subset)).toEqual(['train']);
    expect(messages.map((m) => [m.code, m.line])).toEqual([['bad-color', 2], ['bad-list-line', 2], ['unknown-label', undefined]]);
    expect(dataset.items[0].annotations).toEqual([{ type: 'label', label: 1 }]);
  });

  test('ids that point outside the dataset are refused', async () => {
    const root = writeFiles(temp(), { 'Annotations/a.xml': xml(''), 'ImageSets/Main/train.txt': '../../etc/passwd\n' });
    const error = await load(root).catch((e) => e);
    expect(error).toBeInstanceOf(DatumError);
    expect(error.diagnostic.code).toBe('unsafe-path');
    const bad: MemoryDataset = { categories: [], items: [{ id: '../escape', subset: 'x', annotations: [] }] };
    // Even an id that stays inside the output but leaves Annotations/ is refused.
    await expect(save(bad)).rejects.toThrow(/unsafe|outside/);
  });

  test('a <filename> outside the dataset (an absolute path some tools write) is a warning; the image is found by id', async () => {
    const root = writeFiles(temp(), {
      'Annotations/a.xml': xml(object('cat', [1, 1, 3, 3])).replace('<filename>img.jpg</filename>', '<filename>../../../etc/a.jpg</filename>'),
      'Annotations/b.xml': xml(object('cat', [1, 1, 3, 3])).replace('<filename>img.jpg</filename>', '<filename>C:\\data\\b.jpg</filename>'),
      'ImageSets/Main/train.txt': 'a\nb\n',
      'JPEGImages/a.png': Buffer.from(''),
    });
    const { dataset, messages } = await load(root);
    expect(messages.map((m) => [m.code, m.item])).toEqual([['unsafe-path', 'a'], ['unsafe-path', 'b']]);
    expect(dataset.items.map((i) => [i.id, i.image?.path, i.annotations.length])).toEqual([
      ['a', path.join(root, 'JPEGImages/a.png'), 1],
      ['b', path.join(root, 'JPEGImages/b.jpg'), 1],
    ]);
  });

  test('a label name with ../ does not make the importer read a class list outside the dataset', async () => {
    const base = temp();
    writeFiles(base, { 'outside_train.txt': 'a 1\n' });
    const root = writeFiles(path.join(base, 'ds'), {
      'Annotations/a.xml': xml(''),
      'ImageSets/Main/train.txt': 'a\n',
      'labelmap.txt': 'background:0,0,0::\n../../../outside:1,2,3::\n',
    });
    const { dataset } = await load(root);
    expect(dataset.items[0].annotations).toEqual([]);
  });

  test('a listed id with no XML, image or mask (a line with an extension, a typo) is a warning', async () => {
    const root = writeFiles(temp(), {
      'Annotations/a.xml': xml(object('cat', [1, 1, 3, 3])),
      'ImageSets/Main/train.txt': 'a\na.jpg\n',
    });
    const { dataset, messages } = await load(root);
    expect(dataset.items.map((i) => i.id)).toEqual(['a', 'a.jpg']);
    expect(messages.map((m) => [m.code, m.item])).toEqual([['missing-item-files', 'a.jpg']]);
  });

  test('a folder that is not VOC is rejected', async () => {
    const root = writeFiles(temp(), { 'readme.txt': 'hi' });
    expect(await plugin.detect!(root)).toMatchObject({ confidence: 0 });
    await expect(load(root)).rejects.toBeInstanceOf(DatumError);
    expect(new Reporter().count('warning')).toBe(0);
  });
});
