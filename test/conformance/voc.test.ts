// Conformance: the VOC importer and exporter on Datumaro's own test assets (read in place from the corpus,
// skipped without it). test/formats/voc.test.ts covers the same behaviours on fixtures of our own.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import sharp from 'sharp';
import { plugin } from '../../formats/voc/index.js';
import { VOC_PALETTE } from '../../formats/voc/layout.js';
import { collect, type Annotation, type Item, type MemoryDataset } from '../../src/model.js';
import { convert, createContext } from '../../src/pipeline.js';
import '../../formats/index.js';
import type { Options } from '../../src/plugin.js';
import { conformance, corpus, tempDir } from '../helpers/corpus.js';
const temps: string[] = [];
afterAll(() => { for (const t of temps) fs.rmSync(t, { recursive: true, force: true }); });
function temp(): string {
  const dir = tempDir('datum-voc-');
  temps.push(dir);
  return dir;
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

conformance('voc on the Datumaro assets', () => {
  describe('corpus imports', () => {
    test('voc_dataset1: boxes, part, actions, class lists and masks, checked against the XML', async () => {
      const { dataset, messages } = await load(corpus('voc_dataset/voc_dataset1'));
      expect(messages).toEqual([]);
      // No labelmap: the names the XMLs and class lists use (sorted) and the Pascal classes the masks use, then person's parts.
      expect(names(dataset)).toEqual(['aeroplane', 'bicycle', 'bird', 'bottle', 'car', 'cat', 'chair', 'diningtable', 'horse', 'ignored', 'person', 'sheep', 'train', 'head']);
      expect(dataset.categories.find((c) => c.name === 'head')).toMatchObject({ parent: 'person' });
      expect(dataset.categories.find((c) => c.name === 'cat')?.color).toEqual([64, 0, 0]);
      expect(dataset.items.map((i) => `${i.subset}/${i.id}`).sort()).toEqual(['test/2007_000002', 'train/2007_000001']);

      const train = item(dataset, '2007_000001');
      expect(train.image).toMatchObject({ width: 20, height: 10 });
      expect(train.image!.path).toBe(corpus('voc_dataset/voc_dataset1/JPEGImages/2007_000001.jpg'));
      const boxes = ofType(train, 'bbox');
      expect(boxes).toHaveLength(3);
      // <xmin>1 <ymin>2 <xmax>3 <ymax>4, 1-based inclusive: pixels 0..2 x 1..3.
      const cat = boxes.find((b) => labelName(dataset, b) === 'cat')!;
      expect(cat).toMatchObject({ x: 0, y: 1, w: 3, h: 3, group: 1, occluded: false });
      expect(cat.attributes).toEqual({ truncated: true, difficult: false, pose: 'Unspecified' });
      const person = boxes.find((b) => labelName(dataset, b) === 'person')!;
      expect(person).toMatchObject({ x: 3, y: 4, w: 3, h: 3, group: 2 });
      expect(person.attributes).toMatchObject({ other: true, jumping: false, phoning: true, walking: true, usingcomputer: false });
      const head = boxes.find((b) => labelName(dataset, b) === 'head')!;
      expect(head).toMatchObject({ x: 4.5, y: 5, w: 3, h: 3, group: 2 }); // 5.5..7.5 x 6..8

      const labels = ofType(train, 'label').map((a) => labelName(dataset, a)).sort();
      expect(labels).toEqual(['aeroplane', 'bird', 'bottle', 'car', 'chair', 'diningtable', 'horse', 'ignored', 'person', 'sheep', 'train']);

      // SegmentationClass is all (0,128,0) = bicycle, SegmentationObject all (128,0,0) = instance 1.
      const [mask] = ofType(train, 'mask');
      expect(ofType(train, 'mask')).toHaveLength(1);
      expect(labelName(dataset, mask)).toBe('bicycle');
      expect(mask).toMatchObject({ left: 0, top: 0, width: 20, height: 10, rle: [0, 200], group: 1 });

      expect(item(dataset, '2007_000002', 'test').annotations).toEqual([]);
    });

    test("--coords datumaro reads xmin..xmax as Datumaro does (x = xmin, w = xmax - xmin)", async () => {
      const { dataset } = await load(corpus('voc_dataset/voc_dataset1'), { coords: 'datumaro' });
      const boxes = ofType(item(dataset, '2007_000001'), 'bbox');
      expect(boxes.find((b) => labelName(dataset, b) === 'cat')).toMatchObject({ x: 1, y: 2, w: 2, h: 2 });
      expect(boxes.find((b) => labelName(dataset, b) === 'head')).toMatchObject({ x: 5.5, y: 6, w: 2, h: 2 });
    });

    test('voc_dataset2: labelmap.txt, float coordinates, and the object-less @.xml', async () => {
      const { dataset, messages } = await load(corpus('voc_dataset/voc_dataset2'));
      expect(messages).toEqual([]);
      expect(names(dataset)).toHaveLength(22);
      expect(dataset.categories[21]).toEqual({ name: 'ignored', color: [224, 224, 192] });
      expect(dataset.items.map((i) => i.id)).toEqual(['@', 'a', 'b', 'c', 'd']);
      expect(new Set(dataset.items.map((i) => i.subset))).toEqual(new Set(['trainval']));
      expect(item(dataset, '@').annotations).toEqual([]);
      const [a] = item(dataset, 'a').annotations;
      expect(labelName(dataset, a)).toBe('background');
      expect(a).toMatchObject({ type: 'bbox', x: 0, y: 1, w: 4, h: 5, occluded: true }); // 1.0 2.0 4.0 6.0
      expect(item(dataset, 'c').annotations[0]).toMatchObject({ x: 2, y: 0, w: 9, h: 6 }); // 3.0 1.0 11.0 6.0
      expect(item(dataset, 'd').annotations[0]).toMatchObject({ x: 3, y: 3, w: 5, h: 5 });
    });

    test('voc_dataset3: comment and blank lines in the subset list', async () => {
      const { dataset } = await load(corpus('voc_dataset/voc_dataset3'));
      expect(dataset.items.map((i) => `${i.subset}/${i.id}`)).toEqual(['train/2007_000001']);
      expect(dataset.items[0].annotations).toHaveLength(1);
    });

    test('roboflow voc: <subset>/*.xml beside the images, labels from the files, 0-based boxes', async () => {
      const { dataset, messages } = await load(corpus('roboflow_dataset/voc'));
      expect(messages).toEqual([]);
      expect(names(dataset)).toEqual(['label_0', 'label_1']);
      expect(dataset.items.map((i) => `${i.subset}/${i.id}`)).toEqual(['train/train_001', 'train/train_002', 'val/val_001']);
      const val = item(dataset, 'val_001');
      expect(val.image).toEqual({ path: corpus('roboflow_dataset/voc/val/val_001.jpg'), width: 10, height: 5 });
      expect(val.annotations.map((a) => [labelName(dataset, a), a.type === 'bbox' && [a.x, a.y, a.w, a.h]])).toEqual([
        ['label_0', [0, 0, 1, 2]],
        ['label_1', [0, 0, 9, 1]],
      ]);
      expect(item(dataset, 'train_001').annotations[0]).toMatchObject({ x: 2, y: 1, w: 3, h: 1 });
    });

    test('detector: VOC folders yes, other corpus formats no', async () => {
      for (const d of ['voc_dataset/voc_dataset1', 'voc_dataset/voc_dataset2', 'voc_dataset/voc_dataset3']) {
        expect((await plugin.detect!(corpus(d)))?.confidence).toBeGreaterThanOrEqual(0.9);
      }
      expect((await plugin.detect!(corpus('roboflow_dataset/voc')))?.confidence).toBe(0.5);
      for (const d of ['cvat_dataset/for_images', 'coco_dataset', 'yolo_dataset/strict', 'roboflow_dataset/coco', 'roboflow_dataset/yolo']) {
        if (fs.existsSync(corpus(d))) expect(await plugin.detect!(corpus(d)), d).toMatchObject({ confidence: 0 });
      }
      expect(await plugin.detect!(corpus('voc_dataset/voc_dataset1/labelmap.txt'))).toMatchObject({ confidence: 0 });
    });
  });


  describe('round trips', () => {
    test('voc_dataset1 -> export -> import is equal, and the files are what VOC tools read', async () => {
      const first = await load(corpus('voc_dataset/voc_dataset1'));
      const { out, summary, messages } = await save(first.dataset);
      expect(messages).toEqual([]);
      expect(summary).toEqual({ items: 2, annotations: { bbox: 3, label: 11, mask: 1 } });
      const second = await load(out);
      expect(second.messages).toEqual([]);
      expect(names(second.dataset)).toEqual(['background', ...names(first.dataset)]); // VOC's class 0, written to labelmap.txt
      expectSameDataset(first.dataset, second.dataset);

      const read = (rel: string) => fs.readFileSync(path.join(out, rel), 'utf8');
      expect(read('ImageSets/Main/train.txt')).toBe('2007_000001\n');
      expect(read('ImageSets/Main/test.txt')).toBe('2007_000002\n');
      expect(read('ImageSets/Main/cat_train.txt')).toBe('2007_000001 -1\n');
      expect(read('ImageSets/Main/horse_train.txt')).toBe('2007_000001  1\n');
      expect(read('ImageSets/Segmentation/train.txt')).toBe('2007_000001\n');
      expect(read('ImageSets/Layout/train.txt')).toBe('2007_000001 2\n');
      expect(read('ImageSets/Action/jumping_train.txt')).toBe('2007_000001 2 -1\n');
      expect(read('labelmap.txt')).toContain('\nperson:192,128,128:head:other,jumping,'); // the parts the XMLs use
      const annotation = read('Annotations/2007_000001.xml');
      expect(annotation).toContain('<xmin>1</xmin>\n      <ymin>2</ymin>\n      <xmax>3</xmax>\n      <ymax>4</ymax>');
      expect(annotation).toContain('<part>\n      <name>head</name>\n      <bndbox>\n        <xmin>5.5</xmin>');
      expect(annotation).toContain('<segmented>1</segmented>');
      // Masks are 8-bit palette PNGs whose indices are class ids / instance ids.
      const classPng = fs.readFileSync(path.join(out, 'SegmentationClass/2007_000001.png'));
      expect(classPng[25]).toBe(3); // IHDR color type: palette
      const meta = await sharp(classPng).metadata();
      expect([meta.width, meta.height]).toEqual([20, 10]);
      const { data } = await sharp(path.join(out, 'SegmentationObject/2007_000001.png')).raw().toBuffer({ resolveWithObject: true });
      expect([...data.subarray(0, 3)]).toEqual(VOC_PALETTE[1]);
    });

    test('voc_dataset2 and roboflow round trip (Roboflow boxes written back 0-based with --coords datumaro)', async () => {
      const first = await load(corpus('voc_dataset/voc_dataset2'));
      const { out } = await save(first.dataset);
      const second = await load(out);
      expectSameDataset(first.dataset, second.dataset);
      expect(fs.readFileSync(path.join(out, 'Annotations/c.xml'), 'utf8')).toContain('<xmin>3</xmin>');

      const roboflow = await load(corpus('roboflow_dataset/voc'));
      const exported = await save(roboflow.dataset, { coords: 'datumaro' });
      expect(fs.readFileSync(path.join(exported.out, 'Annotations/val_001.xml'), 'utf8')).toContain('<xmin>0</xmin>');
      const again = await load(exported.out, { coords: 'datumaro' });
      expectSameDataset(roboflow.dataset, again.dataset);
      expect(names(again.dataset)).toEqual(['background', 'label_0', 'label_1']);
    });
  });

  describe('export', () => {
    test('datum convert voc -> voc through the core pipeline (atomic output, plugin options)', async () => {
      const output = path.join(temp(), 'converted');
      const ctx = createContext();
      const result = await convert({ input: corpus('voc_dataset/voc_dataset1'), inputFormat: 'voc', output, outputFormat: 'pascal_voc', exportOptions: { 'save-media': true } }, ctx);
      expect(result).toMatchObject({ items: 2, inputFormat: 'voc', outputFormat: 'voc', annotations: { bbox: 3, label: 11, mask: 1 } });
      expect(fs.readdirSync(output).sort()).toEqual(['Annotations', 'ImageSets', 'JPEGImages', 'SegmentationClass', 'SegmentationObject', 'labelmap.txt']);
      expect(ctx.reporter.messages).toEqual([]);
    });

    test('an id listed in two subsets is written once and listed in both', async () => {
      const { dataset } = await load(corpus('voc_dataset/voc_dataset3'));
      dataset.items.push({ ...dataset.items[0], subset: 'trainval' });
      const { out } = await save(dataset);
      expect(fs.readdirSync(path.join(out, 'Annotations'))).toEqual(['2007_000001.xml']);
      expect(fs.readFileSync(path.join(out, 'ImageSets/Main/trainval.txt'), 'utf8')).toBe('2007_000001\n');
      const back = await load(out);
      expect(back.dataset.items.map((i) => i.subset).sort()).toEqual(['train']); // trainval = train ∪ val
    });

    test('--save-media copies images into JPEGImages; a missing image is a warning', async () => {
      const { dataset } = await load(corpus('voc_dataset/voc_dataset1'));
      dataset.items.push({ id: 'ghost', subset: 'test', image: { path: '/nowhere/ghost.jpg' }, annotations: [] });
      const { out, messages } = await save(dataset, { 'save-media': true });
      expect(fs.readdirSync(path.join(out, 'JPEGImages')).sort()).toEqual(['2007_000001.jpg', '2007_000002.jpg']);
      expect(fs.readFileSync(path.join(out, 'JPEGImages/2007_000001.jpg')))
        .toEqual(fs.readFileSync(corpus('voc_dataset/voc_dataset1/JPEGImages/2007_000001.jpg')));
      expect(messages.map((m) => [m.code, m.item])).toEqual([['missing-image', 'ghost']]);
      // The size of an item without one is probed from its image.
      expect(fs.readFileSync(path.join(out, 'Annotations/2007_000002.xml'), 'utf8')).toContain('<width>20</width>');
    });
  });
});
