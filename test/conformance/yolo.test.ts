// Conformance: the YOLO (Darknet) and YOLO-Ultralytics plugins on Datumaro's own test assets (read in place from
// the corpus, skipped without it). test/formats/yolo.test.ts and yolo_ultralytics.test.ts cover the same
// behaviours on fixtures of our own (test/fixtures/yolo).
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { plugin } from '../../formats/yolo/index.js';
import { plugin as ultralytics } from '../../formats/yolo_ultralytics/index.js';
import { collect, type BboxAnnotation, type Dataset, type Item, type MemoryDataset } from '../../src/model.js';
import { Reporter } from '../../src/diagnostics.js';
import { convert, createContext } from '../../src/pipeline.js';
import { findFormat, registerFormat } from '../../src/registry.js';
import { CORPUS, conformance, corpus, tempDir } from '../helpers/corpus.js';

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
 * The corpus label file (on a 15 x 10 image):
 *   2 0.133333 0.300000 0.266667 0.200000  -> x = (0.133333 - 0.1333335) * 15, y = 2, w = 4.000005, h = 2
 *   4 0.266667 0.450000 0.133333 0.300000  -> x = 3.0000075, y = 3, w = 1.999995, h = 3
 */
function expectCorpusBoxes(item: Item) {
  expect(item.image).toMatchObject({ width: 15, height: 10 });
  expect(item.normalized).toBeUndefined();
  const [a, b] = boxes(item);
  expect(boxes(item)).toHaveLength(2);
  expect(a).toMatchObject({ type: 'bbox', label: 2 });
  expect(a.x).toBeCloseTo(-7.5e-6, 9);
  expect(a.y).toBeCloseTo(2, 9);
  expect(a.w).toBeCloseTo(4.000005, 9);
  expect(a.h).toBeCloseTo(2, 9);
  expect(b).toMatchObject({ type: 'bbox', label: 4 });
  expect(b.x).toBeCloseTo(3.0000075, 9);
  expect(b.y).toBeCloseTo(3, 9);
  expect(b.w).toBeCloseTo(1.999995, 9);
  expect(b.h).toBeCloseTo(3, 9);
}

async function importUltralytics(input: string, options: Record<string, string> = {}) {
  const reporter = new Reporter();
  const dataset = await ultralytics.import!(input, options, createContext({ reporter }));
  return { dataset, items: dataset.items as Item[], reporter };
}
async function exportUltralytics(dataset: Dataset, options: Record<string, string | boolean> = {}) {
  const out = temp();
  const reporter = new Reporter();
  const summary = await ultralytics.export!(dataset, out, options, createContext({ reporter }));
  return { out, summary, reporter };
}

conformance('yolo and yolo_ultralytics on the Datumaro assets', () => {
  describe('yolo corpus layouts', () => {
    it('strict: obj.data with data/ prefixes, train.txt, obj_train_data/', async () => {
      const { dataset, warnings } = await load(corpus('yolo_dataset/strict'));
      expect(warnings).toEqual([]);
      expect(dataset.categories.map((c) => c.name)).toEqual(Array.from({ length: 10 }, (_, i) => `label_${i}`));
      expect(dataset.items.map((i) => [i.subset, i.id])).toEqual([['train', '1']]);
      expect(dataset.items[0].image!.path).toBe(corpus('yolo_dataset/strict/obj_train_data/1.jpg'));
      expectCorpusBoxes(dataset.items[0]);
    });

    it('strict: the obj.data file itself is accepted as input', async () => {
      const { dataset } = await load(corpus('yolo_dataset/strict/obj.data'));
      expect(dataset.items).toHaveLength(1);
    });

    it('annotations: Images/ + Annotations/, no subset', async () => {
      const { dataset, warnings } = await load(corpus('yolo_dataset/annotations'));
      expect(warnings).toEqual([]);
      expect(dataset.categories).toHaveLength(10);
      expect(dataset.items.map((i) => [i.subset, i.id])).toEqual([['train', '1']]);
      expect(dataset.items[0].image!.path).toBe(corpus('yolo_dataset/annotations/Images/1.jpg'));
      expectCorpusBoxes(dataset.items[0]);
    });

    it('labels: images/<subset> + labels/<subset>; README.txt is not a label file', async () => {
      const { dataset, reporter } = await load(corpus('yolo_dataset/labels'));
      expect(reporter.messages).toEqual([]);
      const items = bySubsetId(dataset.items);
      expect(items.map((i) => [i.subset, i.id])).toEqual([['train', '1'], ['val', '1']]);
      expect(items[1].image!.path).toBe(corpus('yolo_dataset/labels/images/val/1.jpg'));
      items.forEach(expectCorpusBoxes);
    });

    it('detects every corpus layout and leaves data.yaml folders to yolo_ultralytics', async () => {
      for (const layout of ['strict', 'annotations', 'labels']) {
        const found = await plugin.detect!(corpus('yolo_dataset', layout));
        expect(found?.confidence, layout).toBeGreaterThanOrEqual(0.8);
      }
      expect(await plugin.detect!(corpus('coco_dataset'))).toMatchObject({ confidence: 0 });
      const dir = temp();
      write(dir, 'obj.names', 'a\n');
      expect((await plugin.detect!(dir))!.confidence).toBeGreaterThan(0);
      write(dir, 'data.yaml', 'names: {0: a}\n');
      expect(await plugin.detect!(dir)).toMatchObject({ confidence: 0 });
    });
  });

  describe('yolo export', () => {
    it('round trip of the corpus: files as Darknet expects them, same items after re-import', async () => {
      const source = await load(corpus('yolo_dataset/labels'));
      const { out, summary, warnings, reporter } = await save(source.dataset, { 'save-media': true });
      expect(warnings).toEqual([]);
      expect(reporter.messages.map((m) => [m.code, m.message.includes('val')])).toEqual([['darknet-subsets', true]]);
      expect(summary).toEqual({ items: 2, annotations: { bbox: 4 }, dropped: {} });
      const read = (rel: string) => fs.readFileSync(path.join(out, rel), 'utf8');
      expect(read('obj.data')).toBe('classes = 10\ntrain = data/train.txt\nval = data/val.txt\nnames = data/obj.names\nbackup = backup/\n');
      expect(read('obj.names').split('\n')).toHaveLength(11);
      expect(read('train.txt')).toBe('data/obj_train_data/1.jpg\n');
      expect(read('val.txt')).toBe('data/obj_val_data/1.jpg\n');
      // The corpus values survive unchanged at 6 decimals.
      expect(read('obj_val_data/1.txt')).toBe(fs.readFileSync(corpus('yolo_dataset/labels/labels/val/1.txt'), 'utf8'));
      expect(fs.statSync(path.join(out, 'obj_train_data/1.jpg')).size).toBe(fs.statSync(corpus('yolo_dataset/labels/images/train/1.jpg')).size);

      const again = await load(out);
      expect(again.warnings).toEqual([]);
      expect(again.dataset.categories).toEqual(source.dataset.categories);
      const before = bySubsetId(source.dataset.items);
      const after = bySubsetId(again.dataset.items);
      expect(after.map((i) => [i.subset, i.id, i.image!.width, i.image!.height])).toEqual(before.map((i) => [i.subset, i.id, 15, 10]));
      after.forEach((item, k) => expectSameBoxes(item, before[k]));
    });

    it('converts through the core pipeline with --save-media into a folder Darknet can train from', async () => {
      if (!findFormat('yolo')) registerFormat(plugin);
      const out = path.join(temp(), 'darknet');
      const reporter = new Reporter();
      const result = await convert({ input: corpus('yolo_dataset/annotations'), inputFormat: 'yolo', output: out, outputFormat: 'darknet', exportOptions: { 'save-media': true } },
        createContext({ reporter }));
      expect(result).toMatchObject({ items: 1, annotations: { bbox: 2 }, inputFormat: 'yolo', outputFormat: 'yolo' });
      expect(reporter.messages).toEqual([]);
      expect(fs.readdirSync(out).sort()).toEqual(['obj.data', 'obj.names', 'obj_train_data', 'train.txt']);
      expect(fs.readdirSync(path.join(out, 'obj_train_data')).sort()).toEqual(['1.jpg', '1.txt']);
      const again = await load(out);
      expect(again.warnings).toEqual([]);
      expectCorpusBoxes(again.dataset.items[0]);
    });
  });

  describe('import: corpus', () => {
    it('reads Roboflow YOLO (../train/images, valid -> val fallbacks) in pixels', async () => {
      const input = path.join(CORPUS, 'roboflow_dataset/yolo');
      expect(await ultralytics.detect!(input)).toMatchObject({ confidence: 0.9 });
      const { dataset, items, reporter } = await importUltralytics(input);
      expect(dataset.categories).toEqual([{ name: 'label_0' }, { name: 'label_1' }]);
      expect(items.map((i) => `${i.subset}/${i.id} ${i.image?.width}x${i.image?.height}`)).toEqual(['train/train_001 10x5', 'train/train_002 10x5', 'val/val_001 10x5']);
      const boxes = items.flatMap((i) => i.annotations.map((a) => a.type === 'bbox' ? [a.label, a.x, a.y, a.w, a.h].map((v) => +v!.toFixed(9)) : a.type));
      expect(boxes).toEqual([[0, 2, 1, 3, 1], [1, 0, 0, 2, 4], [0, 0, 0, 1, 2], [1, 0, 0, 9, 1]]);
      expect(reporter.messages.filter((m) => m.severity === 'warning')).toEqual([]);
    });

    it('reads Roboflow YOLO-OBB (DOTA lines in labelTxt/, pixels, class names); right-angle quads become plain boxes', async () => {
      const { items } = await importUltralytics(path.join(CORPUS, 'roboflow_dataset/yolo_obb'));
      const boxes = items.flatMap((i) => i.annotations.map((a) => a.type === 'bbox' ? [a.label, a.x, a.y, a.w, a.h, a.rotation ?? 0].map((v) => +v!.toFixed(9)) : a.type));
      expect(boxes).toEqual([[0, 0, 0, 2, 2, 0], [1, 1, 1, 4, 4, 0], [0, 0, 0, 1, 1, 0], [1, 1, 2, 9, 3, 0]]);
    });

    it('leaves Darknet YOLO and other formats to their plugins, but reads the loose layout when asked', async () => {
      for (const d of ['yolo_dataset/labels', 'yolo_dataset/strict', 'voc_dataset/voc_dataset1', 'coco_dataset/coco_instances', 'cvat_dataset/for_images']) {
        expect(await ultralytics.detect!(path.join(CORPUS, d)), d).toMatchObject({ confidence: 0 });
      }
      const { dataset, items } = await importUltralytics(path.join(CORPUS, 'yolo_dataset/labels'));
      expect(dataset.categories.length).toBe(10); // names from obj.names
      expect(items.map((i) => `${i.subset}/${i.id}:${i.annotations.length}`)).toEqual(['train/1:2', 'val/1:2']);
    });
  });

  describe('detection among all formats', () => {
    it('is the single confident match for its own layouts and silent elsewhere', async () => {
      const { detectFormats } = await import('../../src/pipeline.js');
      await import('../../formats/index.js');
      const items: Item[] = [{ id: 'x', subset: 'train', image: { path: '/n/x.jpg', width: 4, height: 4 }, annotations: [{ type: 'bbox', label: 0, x: 0, y: 0, w: 2, h: 2 }] }];
      const { out } = await exportUltralytics({ categories: [{ name: 'a' }], items }, { task: 'detect' });
      for (const input of [out, path.join(out, 'data.yaml'), path.join(CORPUS, 'roboflow_dataset/yolo'), path.join(CORPUS, 'roboflow_dataset/yolo_obb')]) {
        const found = await detectFormats(input);
        expect(found[0]?.format, input).toBe('yolo_ultralytics');
        expect(found.length === 1 || found[0].detection.confidence - found[1].detection.confidence >= 0.1, input).toBe(true);
      }
      for (const input of ['samples/cvat_dataset', path.join(CORPUS, 'coco_dataset/coco_person_keypoints'), path.join(CORPUS, 'voc_dataset/voc_dataset2')]) {
        expect((await detectFormats(input)).map((f) => f.format), input).not.toContain('yolo_ultralytics');
      }
    });
  });
});
