import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { plugin } from '../../formats/yolo/index.js';
import { collect, type BboxAnnotation, type Item, type MemoryDataset } from '../../src/model.js';
import { DatumError, Reporter } from '../../src/diagnostics.js';
import { convert, createContext } from '../../src/pipeline.js';
import { findFormat, registerFormat } from '../../src/registry.js';
import { fixture, tempDir } from '../helpers/corpus.js';

const temps: string[] = [];
function temp(): string {
  const dir = tempDir('datum-yolo-');
  temps.push(dir);
  return dir;
}
afterAll(() => temps.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

async function load(input: string) {
  const reporter = new Reporter();
  const dataset = await collect(await plugin.import!(input, {}, createContext({ reporter })));
  return { dataset, reporter, warnings: reporter.messages.filter((m) => m.severity === 'warning') };
}

async function save(dataset: MemoryDataset, options: Record<string, boolean> = {}) {
  const out = temp();
  const reporter = new Reporter();
  const summary = await plugin.export!(dataset, out, options, createContext({ reporter }));
  return { out, summary, reporter, warnings: reporter.messages.filter((m) => m.severity === 'warning') };
}

function write(root: string, rel: string, content: string | Buffer): string {
  const file = path.join(root, rel);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, content);
  return file;
}

async function jpeg(root: string, rel: string, width: number, height: number, orientation?: number): Promise<string> {
  const file = path.join(root, rel);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  let image = sharp({ create: { width, height, channels: 3, background: { r: 90, g: 20, b: 200 } } }).jpeg();
  if (orientation) image = image.withMetadata({ orientation });
  await image.toFile(file);
  return file;
}

const boxes = (item: Item) => item.annotations as BboxAnnotation[];
/** Same boxes in the same order: labels equal, coordinates within 1e-6. */
function expectSameBoxes(after: Item, before: Item) {
  expect(after.annotations).toHaveLength(before.annotations.length);
  boxes(after).forEach((b, j) => {
    const o = boxes(before)[j];
    expect(b.label).toBe(o.label);
    for (const key of ['x', 'y', 'w', 'h'] as const) expect(Math.abs(b[key] - o[key]), `${after.id} box ${j} ${key}`).toBeLessThan(1e-6);
  });
}
const bySubsetId = (items: Item[]) => [...items].sort((a, b) => `${a.subset}/${a.id}`.localeCompare(`${b.subset}/${b.id}`));

/**
 * The fixtures' label file (test/fixtures/yolo/*, on a 12 x 8 image), 6 decimals as Darknet tools write them:
 *   1 0.291667 0.437500 0.250000 0.375000  -> x = (0.291667 - 0.125) * 12 = 2.000004, y = 2, w = 3, h = 3
 *   3 0.708333 0.687500 0.416667 0.125000  -> x = (0.708333 - 0.2083335) * 12 = 5.999994, y = 5, w = 5.000004, h = 1
 */
function expectFixtureBoxes(item: Item) {
  expect(item.image).toMatchObject({ width: 12, height: 8 });
  expect(item.normalized).toBeUndefined();
  const [a, b] = boxes(item);
  expect(boxes(item)).toHaveLength(2);
  expect(a).toMatchObject({ type: 'bbox', label: 1 });
  expect(a.x).toBeCloseTo(2.000004, 9);
  expect(a.y).toBeCloseTo(2, 9);
  expect(a.w).toBeCloseTo(3, 9);
  expect(a.h).toBeCloseTo(3, 9);
  expect(b).toMatchObject({ type: 'bbox', label: 3 });
  expect(b.x).toBeCloseTo(5.999994, 9);
  expect(b.y).toBeCloseTo(5, 9);
  expect(b.w).toBeCloseTo(5.000004, 9);
  expect(b.h).toBeCloseTo(1, 9);
}

/** A copy of test/fixtures/yolo/<name> (text files only) with its 12 x 8 images generated. */
async function yoloFixture(name: string, images: string[]): Promise<string> {
  const root = path.join(temp(), name);
  fs.cpSync(fixture('yolo', name), root, { recursive: true });
  for (const rel of images) await jpeg(root, rel, 12, 8);
  return root;
}
/** obj.data, obj.names, train.txt with data/ prefixes, obj_train_data/. */
const strictFixture = () => yoloFixture('strict', ['obj_train_data/0042.jpg']);
/** Images/ + Annotations/ + obj.names, no subsets. */
const annotationsFixture = () => yoloFixture('annotations', ['Images/0042.jpg']);
/** images/<subset>/ + labels/<subset>/ + obj.names, a README.txt beside them; one id in both subsets. */
const labelsFixture = () => yoloFixture('labels', ['images/train/0042.jpg', 'images/val/0042.jpg']);

describe('yolo layouts (fixtures of our own, test/fixtures/yolo)', () => {
  it('strict: obj.data with data/ prefixes, train.txt, obj_train_data/', async () => {
    const root = await strictFixture();
    const { dataset, warnings } = await load(root);
    expect(warnings).toEqual([]);
    expect(dataset.categories.map((c) => c.name)).toEqual(['bolt', 'nut', 'washer', 'screw']);
    expect(dataset.items.map((i) => [i.subset, i.id])).toEqual([['train', '0042']]);
    expect(dataset.items[0].image!.path).toBe(path.join(root, 'obj_train_data/0042.jpg'));
    expectFixtureBoxes(dataset.items[0]);
  });

  it('strict: the obj.data file itself is accepted as input', async () => {
    const { dataset } = await load(path.join(await strictFixture(), 'obj.data'));
    expect(dataset.items).toHaveLength(1);
  });

  it('annotations: Images/ + Annotations/, no subset', async () => {
    const root = await annotationsFixture();
    const { dataset, warnings } = await load(root);
    expect(warnings).toEqual([]);
    expect(dataset.categories).toHaveLength(4);
    expect(dataset.items.map((i) => [i.subset, i.id])).toEqual([['train', '0042']]);
    expect(dataset.items[0].image!.path).toBe(path.join(root, 'Images/0042.jpg'));
    expectFixtureBoxes(dataset.items[0]);
  });

  it('labels: images/<subset> + labels/<subset>; README.txt is not a label file', async () => {
    const root = await labelsFixture();
    const { dataset, reporter } = await load(root);
    expect(reporter.messages).toEqual([]);
    const items = bySubsetId(dataset.items);
    expect(items.map((i) => [i.subset, i.id])).toEqual([['train', '0042'], ['val', '0042']]);
    expect(items[1].image!.path).toBe(path.join(root, 'images/val/0042.jpg'));
    items.forEach(expectFixtureBoxes);
  });

  it('detects every layout and leaves data.yaml folders to yolo_ultralytics', async () => {
    for (const root of [await strictFixture(), await annotationsFixture(), await labelsFixture()]) {
      const found = await plugin.detect!(root);
      expect(found?.confidence, root).toBeGreaterThanOrEqual(0.8);
    }
    const coco = temp();
    write(coco, 'annotations/instances_train.json', JSON.stringify({ images: [], annotations: [], categories: [{ id: 1, name: 'a' }] }));
    expect(await plugin.detect!(coco)).toMatchObject({ confidence: 0 });
    const dir = temp();
    write(dir, 'obj.names', 'a\n');
    expect((await plugin.detect!(dir))!.confidence).toBeGreaterThan(0);
    write(dir, 'data.yaml', 'names: {0: a}\n');
    expect(await plugin.detect!(dir)).toMatchObject({ confidence: 0 });
  });
});

describe('yolo import: images and sizes', () => {
  it('swaps width and height of an EXIF-rotated JPEG (orientation 6)', async () => {
    const dir = temp();
    write(dir, 'obj.names', 'cat\n');
    await jpeg(dir, 'images/1.jpg', 20, 10, 6);
    write(dir, 'labels/1.txt', '0 0.5 0.5 0.5 0.25\n');
    const { dataset, warnings } = await load(dir);
    expect(warnings).toEqual([]);
    const item = dataset.items[0];
    expect(item.image).toMatchObject({ width: 10, height: 20 });
    expect(boxes(item)[0]).toMatchObject({ x: 2.5, y: 7.5, w: 5, h: 5 });
  });

  it('root layout: labels beside images, subset folders, background images, stray text files ignored', async () => {
    const dir = temp();
    write(dir, 'obj.names', 'a\nb\n\n\n');
    await jpeg(dir, 'x.png', 10, 10);
    write(dir, 'x.txt', '1 0.5 0.5 1 1\n');
    await jpeg(dir, 'val/deep/y.jpg', 8, 4);
    write(dir, 'val/deep/y.txt', '0 0.25 0.5 0.5 0.5\n');
    await jpeg(dir, 'val/empty.jpg', 8, 4);
    write(dir, 'README.txt', 'Some notes about this dataset.\n');
    write(dir, 'train.txt', 'data/x.png\n');
    const { dataset, warnings } = await load(dir);
    expect(warnings).toEqual([]);
    expect(dataset.categories.map((c) => c.name)).toEqual(['a', 'b']);
    const items = bySubsetId(dataset.items);
    expect(items.map((i) => [i.subset, i.id, i.annotations.length])).toEqual([['train', 'x', 1], ['val', 'deep/y', 1], ['val', 'empty', 0]]);
    expect(boxes(items[0])[0]).toMatchObject({ label: 1, x: 0, y: 0, w: 10, h: 10 });
    expect(boxes(items[1])[0]).toMatchObject({ label: 0, x: 0, y: 1, w: 4, h: 2 });
  });

  it('keeps items whose image is missing as normalized, warning once per item', async () => {
    const dir = temp();
    write(dir, 'obj.names', 'a\nb\n');
    write(dir, 'labels/train/lonely.txt', '0 0.5 0.5 0.2 0.4\n1 0.1 0.1 0.1 0.1\n');
    const { dataset, warnings } = await load(dir);
    expect(dataset.items).toHaveLength(1);
    const item = dataset.items[0];
    expect(item).toMatchObject({ id: 'lonely', subset: 'train', normalized: true });
    expect(boxes(item)[0].x).toBeCloseTo(0.4, 12);
    expect(boxes(item)[0].y).toBeCloseTo(0.3, 12);
    expect(boxes(item)[0]).toMatchObject({ w: 0.2, h: 0.4 });
    expect(warnings.map((w) => [w.code, w.item])).toEqual([['missing-image', 'train/lonely']]);
  });

  it('strict: a listed image that is missing stays normalized; a missing label file is a background image; an unreadable one is warned about', async () => {
    const dir = temp();
    write(dir, 'obj.data', 'classes = 1\ntrain = data/train.txt\nnames = data/obj.names\nbackup = backup/\n');
    write(dir, 'obj.names', 'a\n');
    write(dir, 'train.txt', 'data/obj_train_data/gone.jpg\ndata/obj_train_data/bg.jpg\ndata/obj_train_data/odd.jpg\n');
    write(dir, 'obj_train_data/gone.txt', '0 0.5 0.5 1 1\n');
    await jpeg(dir, 'obj_train_data/bg.jpg', 4, 4);
    await jpeg(dir, 'obj_train_data/odd.jpg', 4, 4);
    fs.mkdirSync(path.join(dir, 'obj_train_data/odd.txt'));
    const { dataset, warnings } = await load(dir);
    expect(dataset.items.map((i) => [i.id, i.normalized ?? false, i.annotations.length])).toEqual([['gone', true, 1], ['bg', false, 0], ['odd', false, 0]]);
    expect(boxes(dataset.items[0])[0]).toMatchObject({ x: 0, y: 0, w: 1, h: 1 });
    expect(warnings.map((w) => [w.code, w.item])).toEqual([['label-unreadable', 'train/odd'], ['missing-image', 'train/gone']]);
  });
  it('strict: list lines with backslashes, ./, .. and no data/ prefix resolve as in Datumaro', async () => {
    const dir = temp();
    write(dir, 'obj.data', 'classes = 1\r\ntrain = data\\train.txt\r\nnames = obj.names\r\n');
    write(dir, 'obj.names', 'a\r\n');
    write(dir, 'train.txt', './data/obj_train_data/x/../a.jpg\r\ndata\\obj_train_data\\sub\\b.png\r\n  obj_train_data/c.jpg  \r\n\r\n');
    for (const name of ['a.jpg', 'sub/b.png', 'c.jpg']) await jpeg(dir, `obj_train_data/${name}`, 10, 10);
    write(dir, 'obj_train_data/sub/b.txt', '0 0.5 0.5 0.2 0.2\r\n');
    const { dataset, warnings } = await load(dir);
    expect(warnings).toEqual([]);
    expect(dataset.items.map((i) => [i.id, i.image!.path, i.annotations.length])).toEqual([
      ['a', path.join(dir, 'obj_train_data/a.jpg'), 0],
      ['sub/b', path.join(dir, 'obj_train_data/sub/b.png'), 1],
      ['c', path.join(dir, 'obj_train_data/c.jpg'), 0],
    ]);
  });

  it("strict: voc.data as config, absolute paths of another machine re-rooted, labels/ beside JPEGImages/ found (voc_label.py trees)", async () => {
    const dir = temp();
    write(dir, 'voc.data', 'classes= 2\ntrain  = /home/me/darknet/2007_train.txt\nnames = C:\\darknet\\data\\voc.names\nbackup = backup\n');
    write(dir, 'voc.names', 'aeroplane\nbicycle\n');
    write(dir, '2007_train.txt', '/home/me/darknet/VOCdevkit/VOC2007/JPEGImages/000001.jpg\n/home/me/darknet/VOCdevkit/VOC2007/JPEGImages/000404.jpg\n');
    await jpeg(dir, 'VOCdevkit/VOC2007/JPEGImages/000001.jpg', 50, 40);
    write(dir, 'VOCdevkit/VOC2007/labels/000001.txt', '1 0.5 0.5 0.2 0.5\n');
    expect(await plugin.detect!(dir)).toMatchObject({ confidence: 0.95, reason: 'voc.data with names/classes keys' });
    const { dataset, warnings } = await load(dir);
    expect(dataset.categories.map((c) => c.name)).toEqual(['aeroplane', 'bicycle']);
    expect(dataset.items.map((i) => [i.subset, i.id])).toEqual([['train', 'VOC2007/JPEGImages/000001']]);
    expect(boxes(dataset.items[0])).toEqual([{ type: 'bbox', label: 1, x: 20, y: 10, w: 10, h: 20 }]);
    expect(warnings.map((w) => [w.code, path.basename(w.file!), w.line])).toEqual([
      ['path-rerooted', 'voc.data', 3],
      ['path-rerooted', 'voc.data', 2],
      ['unsafe-path', '2007_train.txt', 2],
      ['path-rerooted', '2007_train.txt', 1],
    ]);
  });
});

describe('yolo import: bad input', () => {
  it('warns about each bad label line with file and line, and imports the rest', async () => {
    const dir = temp();
    write(dir, 'obj.names', 'a\nb\n');
    await jpeg(dir, 'images/1.jpg', 100, 50);
    const label = write(dir, 'labels/1.txt', [
      '0 0.5 0.5 0.2 0.2',
      '0 0.5 0.5 0.2',
      '7 0.5 0.5 0.2 0.2',
      'b 0.5 0.5 0.2 0.2',
      '1 0.5 abc 0.2 0.2',
      '1 0.5 0.5 1.2 0.2',
      '',
      '1 1.005 -0.005 0.2 0.2',
      '0 0.5 0.5 0.2 0.2 7',
      '-1 0.5 0.5 0.2 0.2',
    ].join('\r\n'));
    const { dataset, warnings } = await load(dir);
    expect(warnings.map((w) => [w.code, w.line])).toEqual([
      ['bad-field-count', 2],
      ['unknown-label', 3],
      ['not-a-number', 4],
      ['not-a-number', 5],
      ['coordinate-out-of-range', 6],
      ['bad-field-count', 9],
      ['not-a-number', 10],
    ]);
    expect(warnings.every((w) => w.file === label && w.item === 'train/1')).toBe(true);
    const [first, tolerated] = boxes(dataset.items[0]);
    expect(boxes(dataset.items[0])).toHaveLength(2);
    expect(first).toMatchObject({ label: 0 });
    expect(first.x).toBeCloseTo(40, 9);
    expect(first.w).toBeCloseTo(20, 9);
    expect(tolerated.label).toBe(1);
    expect(tolerated.x).toBeCloseTo(90.5, 9);
  });

  it('warns about a blank line between label names (Darknet counts it) and about repeated names', async () => {
    const dir = temp();
    write(dir, 'obj.names', 'a\n\nb\na\n\n');
    write(dir, 'labels/1.txt', '');
    const { dataset, warnings } = await load(dir);
    expect(dataset.categories.map((c) => c.name)).toEqual(['a', 'b', 'a']);
    expect(warnings.filter((w) => w.file?.endsWith('obj.names')).map((w) => [w.code, w.line])).toEqual([['blank-label-line', 2], ['duplicate-label', 4]]);
  });

  it('strict: unsafe or duplicate list lines and a missing subset list are warnings; a missing names file is an error', async () => {
    const dir = temp();
    write(dir, 'obj.data', 'classes = 3\ntrain = data/train.txt\nvalid = data/valid.txt\nnames = data/obj.names\n');
    write(dir, 'obj.names', 'a\n');
    write(dir, 'train.txt', '../outside/1.jpg\ndata/obj_train_data/a.jpg\ndata/obj_train_data/a.jpg\n/etc/passwd\n');
    await jpeg(dir, 'obj_train_data/a.jpg', 4, 4);
    const { dataset, warnings } = await load(dir);
    expect(dataset.items.map((i) => i.id)).toEqual(['a']);
    expect(warnings.map((w) => [w.code, path.basename(w.file!), w.line])).toEqual([
      ['unsafe-path', 'train.txt', 1],
      ['duplicate-item', 'train.txt', 3],
      ['unsafe-path', 'train.txt', 4],
      ['subset-list-missing', 'obj.data', 3],
      ['class-count-mismatch', 'obj.data', 1],
    ]);

    fs.rmSync(path.join(dir, 'obj.names'));
    const error = await load(dir).catch((e) => e);
    expect(error).toBeInstanceOf(DatumError);
    expect(error.diagnostic).toMatchObject({ code: 'names-missing', line: 4 });
    expect(error.diagnostic.file).toBe(path.join(dir, 'obj.data'));
  });
});

describe('yolo export', () => {
  it('round trip of the labels fixture: files as Darknet expects them, same items after re-import', async () => {
    const root = await labelsFixture();
    const source = await load(root);
    const { out, summary, warnings, reporter } = await save(source.dataset, { 'save-media': true });
    expect(warnings).toEqual([]);
    expect(reporter.messages.map((m) => [m.code, m.message.includes('val')])).toEqual([['darknet-subsets', true]]);
    expect(summary).toEqual({ items: 2, annotations: { bbox: 4 }, dropped: {} });
    const read = (rel: string) => fs.readFileSync(path.join(out, rel), 'utf8');
    expect(read('obj.data')).toBe('classes = 4\ntrain = data/train.txt\nval = data/val.txt\nnames = data/obj.names\nbackup = backup/\n');
    expect(read('obj.names').split('\n')).toHaveLength(5);
    expect(read('train.txt')).toBe('data/obj_train_data/0042.jpg\n');
    expect(read('val.txt')).toBe('data/obj_val_data/0042.jpg\n');
    // The fixture's values survive unchanged at 6 decimals.
    expect(read('obj_val_data/0042.txt')).toBe(fs.readFileSync(path.join(root, 'labels/val/0042.txt'), 'utf8'));
    expect(fs.readFileSync(path.join(out, 'obj_train_data/0042.jpg'))).toEqual(fs.readFileSync(path.join(root, 'images/train/0042.jpg')));

    const again = await load(out);
    expect(again.warnings).toEqual([]);
    expect(again.dataset.categories).toEqual(source.dataset.categories);
    const before = bySubsetId(source.dataset.items);
    const after = bySubsetId(again.dataset.items);
    expect(after.map((i) => [i.subset, i.id, i.image!.width, i.image!.height])).toEqual(before.map((i) => [i.subset, i.id, 12, 8]));
    after.forEach((item, k) => expectSameBoxes(item, before[k]));
  });

  it('round trip of pixel boxes: ids with folders, several subsets, --no-data-prefix', async () => {
    const dir = temp();
    const img = await jpeg(dir, 'src/a.png', 640, 480);
    const dataset: MemoryDataset = {
      categories: [{ name: 'no' }, { name: 'person' }],
      items: [
        { id: 'street/0001', subset: '', image: { path: img, width: 640, height: 480 }, annotations: [
          { type: 'bbox', label: 1, x: 10.25, y: 20.5, w: 100.125, h: 50.75 },
          { type: 'bbox', label: 0, x: 600, y: 400, w: 40, h: 80 },
        ] },
        { id: 'b', subset: 'valid', image: { path: img }, annotations: [{ type: 'bbox', label: 0, x: 0, y: 0, w: 640, h: 480 }] },
      ],
    };
    const { out, summary } = await save(dataset, { 'data-prefix': false });
    expect(summary.annotations).toEqual({ bbox: 3 });
    expect(fs.readFileSync(path.join(out, 'obj.data'), 'utf8')).toContain('valid = valid.txt\nnames = obj.names\n');
    expect(fs.readFileSync(path.join(out, 'train.txt'), 'utf8')).toBe('obj_train_data/street/0001.png\n');
    expect(fs.readFileSync(path.join(out, 'obj_train_data/street/0001.txt'), 'utf8'))
      .toBe('1 0.094238 0.095573 0.156445 0.105729\n0 0.968750 0.916667 0.062500 0.166667\n');
    // The images were not saved: the re-import keeps the boxes normalized and says so.
    const again = await load(out);
    expect(again.warnings.map((w) => w.code)).toEqual(['missing-image', 'missing-image']);
    const [street, b] = [again.dataset.items.find((i) => i.id === 'street/0001')!, again.dataset.items.find((i) => i.id === 'b')!];
    expect(street.subset).toBe('train');
    expect(b.subset).toBe('valid');
    expect(Math.abs(boxes(street)[0].x * 640 - 10.25)).toBeLessThan(640 * 1e-6);
    expect(Math.abs(boxes(street)[0].h * 480 - 50.75)).toBeLessThan(480 * 1e-6);
    expect(boxes(b)[0]).toMatchObject({ x: 0, y: 0, w: 1, h: 1 });
  });

  it('round trip of labels without images: normalized items are written as they are', async () => {
    const dir = temp();
    write(dir, 'obj.names', 'a\nb\nc\n');
    write(dir, 'labels/train/x.y.txt', '2 0.123457 0.654321 0.1 0.2\n0 0.5 0.5 1 1\n');
    write(dir, 'labels/valid/z.txt', '');
    const source = await load(dir);
    const { out, summary, warnings } = await save(source.dataset);
    expect(warnings).toEqual([]);
    expect(summary).toEqual({ items: 2, annotations: { bbox: 2 }, dropped: {} });
    expect(fs.readFileSync(path.join(out, 'obj_train_data/x.y.txt'), 'utf8')).toBe('2 0.123457 0.654321 0.100000 0.200000\n0 0.500000 0.500000 1.000000 1.000000\n');
    expect(fs.readFileSync(path.join(out, 'obj_valid_data/z.txt'), 'utf8')).toBe('');
    const again = await load(out);
    const before = bySubsetId(source.dataset.items);
    const after = bySubsetId(again.dataset.items);
    expect(after.map((i) => [i.subset, i.id, i.normalized])).toEqual([['train', 'x.y', true], ['valid', 'z', true]]);
    after.forEach((item, k) => expectSameBoxes(item, before[k]));
  });

  it('numbers classes without sub-labels (VOC parts, skeleton keypoints), as Ultralytics and Datumaro do', async () => {
    const dataset: MemoryDataset = {
      categories: [{ name: 'person' }, { name: 'head', parent: 'person' }, { name: 'car' }],
      items: [{ id: 'p', subset: 'train', image: { path: '/nowhere/p.jpg', width: 10, height: 10 }, annotations: [
        { type: 'bbox', label: 0, x: 0, y: 0, w: 10, h: 10 },
        { type: 'bbox', label: 1, x: 2, y: 0, w: 4, h: 4 },
        { type: 'bbox', label: 2, x: 5, y: 5, w: 5, h: 5 },
      ] }],
    };
    const { out, summary } = await save(dataset);
    expect(fs.readFileSync(path.join(out, 'obj.names'), 'utf8')).toBe('person\ncar\n');
    expect(fs.readFileSync(path.join(out, 'obj.data'), 'utf8')).toMatch(/^classes = 2$/m);
    expect(fs.readFileSync(path.join(out, 'obj_train_data/p.txt'), 'utf8'))
      .toBe('0 0.500000 0.500000 1.000000 1.000000\n1 0.750000 0.750000 0.500000 0.500000\n');
    expect(summary.dropped).toEqual({ 'bbox labelled with a sub-label': 1 });
  });

  it('writes rotated boxes as their hull, clips to the image, counts and warns about what it drops', async () => {
    const dataset: MemoryDataset = {
      categories: [{ name: 'a' }],
      items: [
        { id: 'p', subset: 'train', image: { path: '/nowhere/p.jpg', width: 100, height: 100 }, annotations: [
          { type: 'bbox', label: 0, x: 40, y: 45, w: 20, h: 10, rotation: 90 },
          { type: 'bbox', label: 0, x: -10, y: 90, w: 30, h: 30 },
          { type: 'bbox', label: 0, x: 200, y: 200, w: 5, h: 5 },
          { type: 'bbox', x: 1, y: 1, w: 5, h: 5 },
          { type: 'bbox', label: 5, x: 1, y: 1, w: 5, h: 5 },
          { type: 'polygon', label: 0, points: [0, 0, 1, 1, 1, 0] },
          { type: 'polygon', label: 0, points: [0, 0, 1, 1, 1, 0] },
          { type: 'caption', caption: 'hello' },
        ] },
        { id: 'n', subset: 'train', normalized: true, annotations: [{ type: 'bbox', label: 0, x: 0.1, y: 0.2, w: 0.3, h: 0.4 }] },
        { id: 'unsized', subset: 'train', image: { path: '/nowhere/u.jpg' }, annotations: [{ type: 'bbox', label: 0, x: 1, y: 1, w: 1, h: 1 }] },
      ],
    };
    const { out, summary, warnings } = await save(dataset, { 'save-media': true });
    expect(summary).toEqual({
      items: 3,
      annotations: { bbox: 3 },
      dropped: { 'bbox outside image': 1, 'bbox without label': 1, 'bbox with unknown label': 1, polygon: 2, caption: 1, 'bbox without image size': 1 },
    });
    expect(fs.readFileSync(path.join(out, 'obj_train_data/p.txt'), 'utf8'))
      .toBe('0 0.500000 0.500000 0.100000 0.200000\n0 0.100000 0.950000 0.200000 0.100000\n');
    expect(fs.readFileSync(path.join(out, 'obj_train_data/n.txt'), 'utf8')).toBe('0 0.250000 0.400000 0.300000 0.400000\n');
    expect(warnings.filter((w) => w.code === 'annotation-dropped').map((w) => w.item)).toEqual(['train/p', 'train/p', 'train/p', 'train/p', 'train/p']);
    expect(warnings.filter((w) => w.code === 'no-image-size').map((w) => w.item)).toEqual(['train/unsized']);
    expect(warnings.filter((w) => w.code === 'missing-image')).toHaveLength(3);
  });

  it('refuses subset names obj.data cannot hold, and ids that leave the output folder', async () => {
    const item = (subset: string, id = 'a'): Item => ({ id, subset, annotations: [] });
    for (const subset of ['names', 'my-val']) {
      const error = await save({ categories: [], items: [item(subset)] }).catch((e) => e);
      expect(error, subset).toBeInstanceOf(DatumError);
      expect(error.diagnostic.code).toBe('bad-subset-name');
    }
    const error = await save({ categories: [], items: [item('train', '../../escape')] }).catch((e) => e);
    expect(error.diagnostic.code).toBe('unsafe-path');
  });

  it('converts through the core pipeline with --save-media into a folder Darknet can train from', async () => {
    if (!findFormat('yolo')) registerFormat(plugin);
    const out = path.join(temp(), 'darknet');
    const reporter = new Reporter();
    const result = await convert({ input: await annotationsFixture(), inputFormat: 'yolo', output: out, outputFormat: 'darknet', exportOptions: { 'save-media': true } },
      createContext({ reporter }));
    expect(result).toMatchObject({ items: 1, annotations: { bbox: 2 }, inputFormat: 'yolo', outputFormat: 'yolo' });
    expect(reporter.messages).toEqual([]);
    expect(fs.readdirSync(out).sort()).toEqual(['obj.data', 'obj.names', 'obj_train_data', 'train.txt']);
    expect(fs.readdirSync(path.join(out, 'obj_train_data')).sort()).toEqual(['0042.jpg', '0042.txt']);
    const again = await load(out);
    expect(again.warnings).toEqual([]);
    expectFixtureBoxes(again.dataset.items[0]);
  });

  it('writes an empty train subset for an empty dataset, and label names PyYAML-safe as plain lines', async () => {
    const { out, summary } = await save({ categories: [{ name: 'yes' }, { name: 'on' }], items: [] });
    expect(summary.items).toBe(0);
    expect(fs.readFileSync(path.join(out, 'obj.names'), 'utf8')).toBe('yes\non\n');
    expect(fs.readFileSync(path.join(out, 'train.txt'), 'utf8')).toBe('');
    expect(fs.readFileSync(path.join(out, 'obj.data'), 'utf8')).toContain('classes = 2\ntrain = data/train.txt\n');
  });
});

describe('YOLO import: unreadable names or config', () => {
  it('a names file or obj.data that is a folder ends with an error naming it, not a bare EISDIR', async () => {
    const root = temp();
    write(root, 'obj.data', 'classes = 1\ntrain = data/train.txt\nnames = data/names\n');
    write(root, 'train.txt', '');
    fs.mkdirSync(path.join(root, 'names'));
    const error = await load(root).then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(DatumError);
    expect((error as DatumError).diagnostic).toMatchObject({ code: 'names-unreadable', file: path.join(root, 'names') });

    const other = temp();
    fs.mkdirSync(path.join(other, 'obj.data'));
    const error2 = await load(other).then(() => null, (e: unknown) => e);
    expect(error2).toBeInstanceOf(DatumError);
    expect((error2 as DatumError).diagnostic).toMatchObject({ code: 'config-unreadable', file: path.join(other, 'obj.data') });
  });
});
