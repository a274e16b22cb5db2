import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { plugin } from '../../formats/cub/index.js';
import { collect, type BboxAnnotation, type MemoryDataset } from '../../src/model.js';
import { DatumError, Reporter } from '../../src/diagnostics.js';
import { createContext } from '../../src/pipeline.js';
import { fixture, tempDir } from '../helpers/corpus.js';
import { runCli } from '../helpers/cli.js';

const temps: string[] = [];
function temp(): string {
  const dir = tempDir('datum-cub-');
  temps.push(dir);
  return dir;
}
afterAll(() => temps.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

const ROOT = fixture('cub', 'CUB_200_2011');

async function load(input: string) {
  const reporter = new Reporter();
  const dataset = await collect(await plugin.import!(input, {}, createContext({ reporter })));
  return { dataset, reporter, warnings: reporter.messages.filter((m) => m.severity === 'warning') };
}

function write(root: string, rel: string, content: string): string {
  const file = path.join(root, rel);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, content);
  return file;
}

/** A CUB folder of the given files (name -> lines). */
function cub(files: Record<string, string[]>): string {
  const dir = temp();
  for (const [name, lines] of Object.entries(files)) write(dir, name, lines.map((l) => l + '\n').join(''));
  return dir;
}

const where = (warnings: { code: string; file?: string; line?: number }[]) => warnings.map((w) => [w.code, `${path.basename(w.file ?? '')}:${w.line}`]);

describe('cub import', () => {
  it('reads the fixture: classes by id without their number, one label and one box of that label per image, train/test', async () => {
    const { dataset, reporter } = await load(ROOT);
    expect(reporter.messages).toEqual([]);
    expect(dataset.categories).toEqual([
      { name: 'Black_footed_Albatross', id: 1 }, { name: 'Laysan_Albatross', id: 2 }, { name: 'Sooty_Albatross', id: 3 },
    ]);
    expect(dataset.items.map((i) => [i.subset, i.id, i.attributes?.image_id])).toEqual([
      ['train', '001.Black_footed_Albatross/Black_Footed_Albatross_0046_18', 1],
      ['test', '001.Black_footed_Albatross/Black_Footed_Albatross_0009_34', 2],
      ['train', '002.Laysan_Albatross/Laysan_Albatross_0002_1027', 3],
      ['test', '002.Laysan_Albatross/Laysan_Albatross_0003_1033', 4],
      ['train', '003.Sooty_Albatross/Sooty_Albatross_0001_1071', 5],
    ]);
    const second = dataset.items[1];
    expect(second.image?.path).toBe(path.join(ROOT, 'images', '001.Black_footed_Albatross/Black_Footed_Albatross_0009_34.jpg'));
    expect(fs.existsSync(second.image!.path)).toBe(true);
    expect(second.annotations).toEqual([{ type: 'label', label: 0 }, { type: 'bbox', label: 0, x: 0.5, y: 0.5, w: 6.5, h: 5 }]);
    expect(dataset.items.map((i) => (i.annotations[1] as BboxAnnotation).label)).toEqual([0, 0, 1, 1, 2]);
  });

  it('accepts the folder holding CUB_200_2011/', async () => {
    const { dataset } = await load(fixture('cub'));
    expect(dataset.items).toHaveLength(5);
  });

  it('bad lines are warned about with file:line and skipped; lines about unknown images too', async () => {
    const dir = cub({
      'classes.txt': ['1 001.A', '2', 'x 002.B', '1 001.Again', '3 003.C d'],
      'images.txt': ['1 001.A/a.jpg', '2 001.A/b.jpg', '3', '1 001.A/c.jpg', '4 001.A/a.jpg', '5 003.C/e.jpg'],
      'image_class_labels.txt': ['1 1', '2 7', '9 1', '5 3'],
      'train_test_split.txt': ['1 1', '2 2', '5 0'],
      'bounding_boxes.txt': ['1 1 2 3 4', '2 1 2 abc 4', '5 1 1 -1 2', '9 1 1 1 1', '5 0 0 1 1', '5 1 1 1'],
    });
    const { dataset, warnings } = await load(dir);
    expect(where(warnings)).toEqual([
      ['bad-field-count', 'classes.txt:2'],
      ['not-a-number', 'classes.txt:3'],
      ['duplicate-label', 'classes.txt:4'],
      ['bad-field-count', 'images.txt:3'],
      ['duplicate-item', 'images.txt:4'],
      ['duplicate-item', 'images.txt:5'],
      ['unknown-label', 'image_class_labels.txt:2'],
      ['unknown-image', 'image_class_labels.txt:3'],
      ['bad-value', 'train_test_split.txt:2'],
      ['not-a-number', 'bounding_boxes.txt:2'],
      ['coordinate-out-of-range', 'bounding_boxes.txt:3'],
      ['unknown-image', 'bounding_boxes.txt:4'],
      ['bad-field-count', 'bounding_boxes.txt:6'],
      ['no-class', 'images.txt:undefined'],
      ['no-subset', 'images.txt:undefined'],
    ]);
    expect(warnings.slice(-2).map((w) => w.item)).toEqual(['001.A/b', '001.A/b']);
    expect(dataset.categories).toEqual([{ name: 'A', id: 1 }, { name: 'C d', id: 3 }]);
    expect(dataset.items.map((i) => [i.id, i.subset, i.annotations])).toEqual([
      ['001.A/a', 'train', [{ type: 'label', label: 0 }, { type: 'bbox', label: 0, x: 1, y: 2, w: 3, h: 4 }]],
      ['001.A/b', '', []],
      ['003.C/e', 'test', [{ type: 'label', label: 1 }, { type: 'bbox', label: 1, x: 0, y: 0, w: 1, h: 1 }]],
    ]);
  });

  it('without train_test_split.txt the items have no subset (one warning); without bounding_boxes.txt labels only', async () => {
    const dir = cub({ 'classes.txt': ['1 001.A'], 'images.txt': ['1 001.A/a.jpg'], 'image_class_labels.txt': ['1 1'] });
    const { dataset, warnings, reporter } = await load(dir);
    expect(warnings.map((w) => w.code)).toEqual(['split-missing']);
    expect(reporter.messages.map((m) => m.code)).toContain('boxes-missing');
    expect(dataset.items).toEqual([{ id: '001.A/a', subset: '', image: { path: path.join(dir, 'images', '001.A/a.jpg') }, attributes: { image_id: 1 }, annotations: [{ type: 'label', label: 0 }] }]);
  });

  it('refuses image paths leading outside images/ (unsafe-path at file:line)', async () => {
    const dir = cub({
      'classes.txt': ['1 001.A'],
      'images.txt': ['1 ../../secret.jpg', '2 /etc/passwd', '3 001.A/ok.jpg'],
      'image_class_labels.txt': ['1 1', '2 1', '3 1'],
    });
    const { dataset, warnings } = await load(dir);
    expect(where(warnings.filter((w) => w.code === 'unsafe-path'))).toEqual([['unsafe-path', 'images.txt:1'], ['unsafe-path', 'images.txt:2']]);
    expect(dataset.items.map((i) => i.id)).toEqual(['001.A/ok']);
  });

  it('a missing classes.txt or image_class_labels.txt is an error naming it', async () => {
    const dir = cub({ 'images.txt': ['1 001.A/a.jpg'], 'classes.txt': ['1 001.A'] });
    const error = await load(dir).catch((e) => e);
    expect(error).toBeInstanceOf(DatumError);
    expect(error.diagnostic).toMatchObject({ code: 'cub-lists-missing', file: dir });
    expect(error.diagnostic.message).toContain('image_class_labels.txt not found');
  });
});

async function save(dataset: MemoryDataset, options: Record<string, boolean> = {}) {
  const out = temp();
  const reporter = new Reporter();
  const summary = await plugin.export!(dataset, out, options, createContext({ reporter }));
  return { out, summary, reporter, warnings: reporter.messages.filter((m) => m.severity === 'warning') };
}
const read = (dir: string, name: string) => fs.readFileSync(path.join(dir, name), 'utf8');
const LISTS = ['classes.txt', 'images.txt', 'image_class_labels.txt', 'train_test_split.txt', 'bounding_boxes.txt'];

describe('cub export', () => {
  it('round trip: the fixture written back is the same five files and images; re-import gives the same dataset', async () => {
    const { dataset } = await load(ROOT);
    const { out, summary, reporter } = await save(dataset, { 'save-media': true });
    expect(reporter.messages).toEqual([]);
    expect(summary).toEqual({ items: 5, annotations: { label: 5, bbox: 5 }, dropped: {} });
    for (const name of LISTS) expect(read(out, name), name).toBe(read(ROOT, name));
    for (const item of dataset.items) {
      expect(fs.readFileSync(path.join(out, 'images', item.id + '.jpg')).equals(fs.readFileSync(item.image!.path)), item.id).toBe(true);
    }
    const again = (await load(out)).dataset;
    expect(again.categories).toEqual(dataset.categories);
    expect(again.items.map(({ image, ...rest }) => rest)).toEqual(dataset.items.map(({ image, ...rest }) => rest));
  });

  it('detection data: the class from the first label or labelled box, the box of that class; other subsets are is_training 0, warned', async () => {
    const dataset: MemoryDataset = {
      categories: [{ name: 'gull', id: 4 }, { name: 'tern tern' }, { name: 'auk', id: 4 }],
      items: [
        { id: 'a', subset: 'train', image: { path: '/nowhere/a.png' }, annotations: [{ type: 'bbox', label: 1, x: 1, y: 2, w: 3, h: 4 }, { type: 'bbox', label: 0, x: 0.25, y: 0, w: 1, h: 1 }] },
        { id: 'b', subset: 'val', annotations: [{ type: 'label', label: 2 }, { type: 'bbox', label: 0, x: 0, y: 0, w: 1, h: 1 }] },
        { id: 'c', subset: '', annotations: [{ type: 'label', label: 0 }, { type: 'bbox', label: 0, x: 0.5, y: 1.5, w: 2, h: 3 }] },
        { id: 'd', subset: 'test', annotations: [{ type: 'polygon', points: [0, 0, 1, 0, 1, 1] }] },
      ],
    };
    const { out, summary, warnings } = await save(dataset);
    expect(read(out, 'classes.txt')).toBe('4 004.gull\n5 005.tern_tern\n6 006.auk\n');
    expect(read(out, 'images.txt')).toBe('1 a.png\n2 b.jpg\n3 c.jpg\n');
    expect(read(out, 'image_class_labels.txt')).toBe('1 5\n2 6\n3 4\n');
    expect(read(out, 'train_test_split.txt')).toBe('1 1\n2 0\n3 0\n');
    expect(read(out, 'bounding_boxes.txt')).toBe('1 1.0 2.0 3.0 4.0\n3 0.5 1.5 2.0 3.0\n');
    expect(summary).toEqual({ items: 3, annotations: { label: 3, bbox: 2 }, dropped: { bbox: 2, 'no label': 1 } });
    expect(warnings.map((w) => [w.code, w.item ?? w.element])).toEqual([
      ['no-box', 'val/b'], ['no-label', 'test/d'], ['label-renamed', 'category 1'], ['subset-moved', undefined], ['subset-moved', undefined],
    ]);
    expect(warnings.slice(3).map((w) => w.message)).toEqual([
      "subset 'val' (1 items) written as is_training 0 (test): CUB splits train and test only",
      'no subset (1 items) written as is_training 0 (test): CUB splits train and test only',
    ]);
    const again = await load(out);
    expect(again.dataset.categories.map((c) => c.name)).toEqual(['gull', 'tern_tern', 'auk']);
    expect(again.dataset.items.map((i) => [i.id, i.subset])).toEqual([['a', 'train'], ['b', 'test'], ['c', 'test']]);
  });
});

describe('cub detect', () => {
  it('datum detect finds the fixture below its folder; without the split and boxes it is less sure', async () => {
    const r = await runCli('detect', fixture('cub'), '--json');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.out);
    expect(report.root).toBe(ROOT);
    expect(report.candidates).toEqual([{ format: 'cub', confidence: 0.95, reason: 'images.txt, classes.txt, image_class_labels.txt, train_test_split.txt, bounding_boxes.txt' }]);

    const dir = cub({ 'classes.txt': ['1 001.A'], 'images.txt': ['1 001.A/a.jpg'], 'image_class_labels.txt': ['1 1'] });
    expect(await plugin.detect!(dir)).toMatchObject({ confidence: 0.8 });
    fs.writeFileSync(path.join(dir, 'images.txt'), 'not a list\n');
    expect(await plugin.detect!(dir)).toMatchObject({ confidence: 0.3 });
    fs.rmSync(path.join(dir, 'classes.txt'));
    expect(await plugin.detect!(dir)).toEqual({ confidence: 0, reason: 'no classes.txt' });
  });

  it('datum convert reads CUB into COCO with its boxes', async () => {
    const out = path.join(temp(), 'coco');
    const r = await runCli('convert', '-i', fixture('cub'), '-f', 'coco', '-o', out);
    expect(r.code, r.err).toBe(0);
    const train = JSON.parse(fs.readFileSync(path.join(out, 'annotations', 'instances_train.json'), 'utf8'));
    expect(train.images).toHaveLength(3);
    expect(train.annotations.map((a: { bbox: number[] }) => a.bbox)).toEqual([[1, 2, 5, 4], [2, 1, 3, 3], [3, 2, 2, 2]]);
    expect(train.categories.map((c: { name: string }) => c.name)).toEqual(['Black_footed_Albatross', 'Laysan_Albatross', 'Sooty_Albatross']);
  });
});
