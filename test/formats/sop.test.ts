import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { plugin } from '../../formats/sop/index.js';
import { collect, type Item, type MemoryDataset } from '../../src/model.js';
import { DatumError, Reporter } from '../../src/diagnostics.js';
import { createContext } from '../../src/pipeline.js';
import { fixture, tempDir } from '../helpers/corpus.js';
import { runCli } from '../helpers/cli.js';

const temps: string[] = [];
function temp(): string {
  const dir = tempDir('datum-sop-');
  temps.push(dir);
  return dir;
}
afterAll(() => temps.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

const ROOT = fixture('sop', 'Stanford_Online_Products');
const HEADER = 'image_id class_id super_class_id path';

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

function write(root: string, rel: string, content: string): string {
  const file = path.join(root, rel);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, content);
  return file;
}

const read = (dir: string, name: string) => fs.readFileSync(path.join(dir, name), 'utf8');
/** [subset, id, label name, parent name] per item. */
const summary = (d: MemoryDataset) => d.items.map((i) => {
  const c = d.categories[i.annotations[0].label!];
  return [i.subset, i.id, c.name, c.parent];
});
const where = (warnings: { code: string; file?: string; line?: number }[]) => warnings.map((w) => [w.code, `${path.basename(w.file ?? '')}:${w.line}`]);

describe('sop import', () => {
  it('reads the fixture: subsets from the lists, super-classes by folder then product classes with their parent', async () => {
    const { dataset, reporter } = await load(ROOT);
    expect(reporter.messages).toEqual([]);
    expect(dataset.categories).toEqual([
      { name: 'bicycle', id: 1 }, { name: 'chair', id: 3 }, { name: 'mug', id: 8 },
      { name: '1', parent: 'bicycle', id: 1 }, { name: '2', parent: 'bicycle', id: 2 }, { name: '3', parent: 'chair', id: 3 },
      { name: '11319', parent: 'bicycle', id: 11319 }, { name: '11320', parent: 'mug', id: 11320 }, { name: '11321', parent: 'mug', id: 11321 },
    ]);
    expect(summary(dataset)).toEqual([
      ['train', 'bicycle_final/111_0', '1', 'bicycle'],
      ['train', 'bicycle_final/111_1', '1', 'bicycle'],
      ['train', 'bicycle_final/222_0', '2', 'bicycle'],
      ['train', 'chair_final/333_0', '3', 'chair'],
      ['train', 'chair_final/333_1', '3', 'chair'],
      ['train', 'chair_final/333_2', '3', 'chair'],
      ['test', 'bicycle_final/444_0', '11319', 'bicycle'],
      ['test', 'bicycle_final/444_1', '11319', 'bicycle'],
      ['test', 'mug_final/555_0', '11320', 'mug'],
      ['test', 'mug_final/666_0', '11321', 'mug'],
    ]);
    const first = dataset.items[0];
    expect(first.image?.path).toBe(path.join(ROOT, 'bicycle_final/111_0.JPG'));
    expect(fs.existsSync(first.image!.path)).toBe(true);
    expect(first.annotations).toEqual([{ type: 'label', label: 3 }]);
  });

  it('accepts the folder holding Stanford_Online_Products/', async () => {
    const { dataset } = await load(fixture('sop'));
    expect(dataset.items).toHaveLength(10);
    expect(dataset.items[9].image?.path).toBe(path.join(ROOT, 'mug_final/666_0.JPG'));
  });

  it('Ebay_info.txt alone gives items without a subset; beside the lists it adds only the images they leave out', async () => {
    const dir = temp();
    write(dir, 'Ebay_info.txt', `${HEADER}\n1 1 1 bicycle_final/a.JPG\n2 2 2 cabinet_final/b.JPG\n3 3 2 cabinet_final/c.JPG\n`);
    let { dataset } = await load(dir);
    expect(summary(dataset)).toEqual([['', 'bicycle_final/a', '1', 'bicycle'], ['', 'cabinet_final/b', '2', 'cabinet'], ['', 'cabinet_final/c', '3', 'cabinet']]);

    write(dir, 'Ebay_train.txt', `${HEADER}\n1 1 1 bicycle_final/a.JPG\n`);
    write(dir, 'Ebay_test.txt', `${HEADER}\n1 2 2 cabinet_final/b.JPG\n`);
    const again = await load(dir);
    expect(again.warnings).toEqual([]);
    ({ dataset } = again);
    expect(summary(dataset)).toEqual([['train', 'bicycle_final/a', '1', 'bicycle'], ['test', 'cabinet_final/b', '2', 'cabinet'], ['', 'cabinet_final/c', '3', 'cabinet']]);
  });

  it('a malformed header is skipped, a missing one is not; bad lines are warned about with file:line and skipped', async () => {
    const dir = temp();
    write(dir, 'Ebay_train.txt', [
      'image_id,class_id,super_class_id,path',
      '1 1 1 bicycle_final/a.JPG',
      '2 1 1',
      '3 x 1 bicycle_final/b.JPG',
      '4 1 0 bicycle_final/c.JPG',
      '',
      '5 1 1 bicycle_final/a.JPG',
      '6 1 1 bicycle_final/d.JPG extra',
      '7 2 1 bicycle_final/e.JPG',
    ].join('\r\n'));
    // no header: the first line is data
    write(dir, 'Ebay_test.txt', '1 3 2 chair_final/f.JPG\n2 2 2 bicycle_final/g.JPG\n3 4 1 chair_final/h.JPG\n');
    // a first line of the data shape with a bad id is a bad line, not a header
    write(dir, 'Ebay_info.txt', '0 1 1 bicycle_final/z.JPG\n');
    const { dataset, warnings } = await load(dir);
    expect(where(warnings)).toEqual([
      ['bad-field-count', 'Ebay_train.txt:3'],
      ['not-a-number', 'Ebay_train.txt:4'],
      ['not-a-number', 'Ebay_train.txt:5'],
      ['duplicate-item', 'Ebay_train.txt:7'],
      ['bad-field-count', 'Ebay_train.txt:8'],
      ['not-a-number', 'Ebay_info.txt:1'],
      ['superclass-folder-mismatch', 'Ebay_test.txt:2'],
      ['class-superclass-mismatch', 'Ebay_test.txt:2'],
      ['superclass-folder-mismatch', 'Ebay_test.txt:3'],
    ]);
    expect(warnings[1].message).toContain("class_id 'x' is not a positive integer");
    expect(warnings[7].message).toContain('class_id 2 is in super-class 1 (its first image) but this line says 2');
    expect(summary(dataset)).toEqual([
      ['train', 'bicycle_final/a', '1', 'bicycle'],
      ['train', 'bicycle_final/e', '2', 'bicycle'],
      ['test', 'chair_final/f', '3', 'chair'],
      ['test', 'bicycle_final/g', '2', 'bicycle'], // keeps its first super-class
      ['test', 'chair_final/h', '4', 'bicycle'],
    ]);
  });

  it('refuses paths leading outside the dataset folder (unsafe-path at file:line), reads the rest', async () => {
    const top = temp();
    const dir = path.join(top, 'Stanford_Online_Products');
    write(top, 'secret.JPG', 'not yours');
    write(dir, 'Ebay_test.txt', `${HEADER}\n1 1 1 ../secret.JPG\n2 1 1 /etc/passwd\n3 1 1 ..\\secret.JPG\n4 1 1 bicycle_final/ok.JPG\n`);
    fs.symlinkSync(top, path.join(dir, 'link_final'));
    write(dir, 'Ebay_train.txt', `${HEADER}\n1 2 1 link_final/secret.JPG\n`);
    const { dataset, warnings } = await load(top);
    expect(where(warnings)).toEqual([
      ['unsafe-path', 'Ebay_train.txt:2'],
      ['unsafe-path', 'Ebay_test.txt:2'],
      ['unsafe-path', 'Ebay_test.txt:3'],
      ['unsafe-path', 'Ebay_test.txt:4'],
    ]);
    expect(dataset.items.map((i) => i.id)).toEqual(['bicycle_final/ok']);
  });

  it('a folder without the lists is an error naming it', async () => {
    const dir = temp();
    write(dir, 'notes.txt', 'hello\n');
    const error = await load(dir).catch((e) => e);
    expect(error).toBeInstanceOf(DatumError);
    expect(error.diagnostic).toMatchObject({ code: 'sop-lists-missing', file: dir });
  });
});

describe('sop export', () => {
  it('round trip: the fixture written back is the same files, images copied to the same paths; re-import gives the same dataset', async () => {
    const { dataset } = await load(ROOT);
    const { out, summary: s, reporter } = await save(dataset, { 'save-media': true });
    expect(reporter.messages).toEqual([]);
    expect(s).toEqual({ items: 10, annotations: { label: 10 }, dropped: {} });
    for (const name of ['Ebay_info.txt', 'Ebay_train.txt', 'Ebay_test.txt']) expect(read(out, name), name).toBe(read(ROOT, name));
    for (const item of dataset.items) {
      const copied = path.join(out, item.id + '.JPG');
      expect(fs.readFileSync(copied).equals(fs.readFileSync(item.image!.path)), item.id).toBe(true);
    }
    const again = (await load(out)).dataset;
    expect(again.categories).toEqual(dataset.categories);
    expect(summary(again)).toEqual(summary(dataset));
  });

  it('a reduced export (the test subset only) keeps class and super-class ids and reads as SOP', async () => {
    const { dataset } = await load(ROOT);
    const reduced = { ...dataset, items: dataset.items.filter((i) => i.subset === 'test') };
    const { out } = await save(reduced, { 'save-media': true });
    expect(read(out, 'Ebay_train.txt')).toBe(`${HEADER}\n`);
    const test = `${HEADER}\n1 11319 1 bicycle_final/444_0.JPG\n2 11319 1 bicycle_final/444_1.JPG\n3 11320 8 mug_final/555_0.JPG\n4 11321 8 mug_final/666_0.JPG\n`;
    expect(read(out, 'Ebay_test.txt')).toBe(test);
    expect(read(out, 'Ebay_info.txt')).toBe(test);
    expect(fs.readdirSync(out).sort()).toEqual(['Ebay_info.txt', 'Ebay_test.txt', 'Ebay_train.txt', 'bicycle_final', 'mug_final']);
    const again = await load(out);
    expect(again.warnings).toEqual([]);
    expect(summary(again.dataset)).toEqual(summary(reduced));
    expect(again.dataset.categories.map((c) => [c.name, c.id])).toEqual([['bicycle', 1], ['mug', 8], ['11319', 11319], ['11320', 11320], ['11321', 11321]]);
  });

  it('other data: first label is the class, its parent the super-class (else itself); ids assigned after the kept ones; subsets mapped and warned', async () => {
    const items: Item[] = [
      { id: 'shoes/a', subset: 'train', annotations: [{ type: 'label', label: 2 }, { type: 'bbox', label: 2, x: 0, y: 0, w: 1, h: 1 }] },
      { id: 'shoes/b', subset: 'val', image: { path: '/nowhere/b.png' }, annotations: [{ type: 'label', label: 3 }, { type: 'label', label: 4 }] },
      { id: 'c', subset: '', annotations: [{ type: 'label', label: 4 }] },
      { id: 'd', subset: 'default', annotations: [{ type: 'label', label: 2 }] },
      { id: 'nolabel', subset: 'train', annotations: [{ type: 'bbox', x: 0, y: 0, w: 1, h: 1 }] },
      { id: 'shoes/a', subset: 'test', annotations: [{ type: 'label', label: 3 }] },
      { id: 'has space', subset: 'test', annotations: [{ type: 'label', label: 3 }] },
    ];
    const dataset: MemoryDataset = {
      categories: [
        { name: 'footwear', id: 7 }, { name: 'bags' },
        { name: 'boot', parent: 'footwear', id: 5 }, { name: 'sandal', parent: 'footwear', id: 5 }, { name: 'tote', parent: 'bags' },
      ],
      items,
    };
    const { out, summary: s, warnings, reporter } = await save(dataset);
    expect(read(out, 'Ebay_train.txt')).toBe(`${HEADER}\n1 5 7 shoes/a.jpg\n`);
    expect(read(out, 'Ebay_test.txt')).toBe(`${HEADER}\n1 6 7 shoes/b.png\n`);
    expect(read(out, 'Ebay_info.txt')).toBe(`${HEADER}\n1 5 7 shoes/a.jpg\n2 6 7 shoes/b.png\n3 7 8 c.jpg\n4 5 7 d.jpg\n`);
    expect(s).toEqual({ items: 4, annotations: { label: 4 }, dropped: { bbox: 2, label: 1, 'no label': 1, duplicate: 1, 'unlistable path': 1 } });
    expect(warnings.map((w) => [w.code, w.item])).toEqual([
      ['several-labels', 'val/shoes/b'],
      ['no-label', 'train/nolabel'],
      ['duplicate-item', 'test/shoes/a'],
      ['path-with-space', 'test/has space'],
      ['subset-moved', undefined],
    ]);
    expect(warnings[4].message).toContain("subset 'val' (1 items) written to Ebay_test.txt");
    expect(reporter.messages.find((m) => m.code === 'no-subset')?.message).toContain('2 items without a subset');
  });

  it('--save-media warns about a missing image and writes the lists anyway', async () => {
    const dataset: MemoryDataset = { categories: [{ name: 'x' }], items: [{ id: 'x_final/1', subset: 'train', image: { path: path.join(temp(), 'gone.jpg') }, annotations: [{ type: 'label', label: 0 }] }] };
    const { out, warnings } = await save(dataset, { 'save-media': true });
    expect(warnings.map((w) => [w.code, w.item])).toEqual([['missing-image', 'train/x_final/1']]);
    expect(read(out, 'Ebay_train.txt')).toBe(`${HEADER}\n1 1 1 x_final/1.jpg\n`);
    expect(fs.existsSync(path.join(out, 'x_final'))).toBe(false);
  });

  it('an item id leading outside the output is refused', async () => {
    const dataset: MemoryDataset = { categories: [{ name: 'x' }], items: [{ id: '../escape', subset: 'train', annotations: [{ type: 'label', label: 0 }] }] };
    const error = await save(dataset).catch((e) => e);
    expect(error).toBeInstanceOf(DatumError);
    expect(error.diagnostic.code).toBe('unsafe-path');
  });
});

describe('sop detect and CLI', () => {
  it('datum detect finds the fixture below its folder, with the header as evidence', async () => {
    const r = await runCli('detect', fixture('sop'), '--json');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.out);
    expect(report.root).toBe(ROOT);
    expect(report.candidates).toEqual([{ format: 'sop', confidence: 0.95, reason: `Ebay_info.txt with the header '${HEADER}'` }]);
  });

  it('a malformed header with SOP-shaped lines is likely; lists without such lines are weak; none is a rejection', async () => {
    const dir = temp();
    write(dir, 'Ebay_test.txt', 'id cls\n1 11319 1 bicycle_final/a.JPG\n');
    expect(await plugin.detect!(dir)).toMatchObject({ confidence: 0.8 });
    fs.writeFileSync(path.join(dir, 'Ebay_test.txt'), 'hello\nworld\n');
    expect(await plugin.detect!(dir)).toMatchObject({ confidence: 0.3 });
    fs.rmSync(path.join(dir, 'Ebay_test.txt'));
    expect(await plugin.detect!(dir)).toEqual({ confidence: 0, reason: 'no Ebay_info.txt, Ebay_train.txt or Ebay_test.txt' });
  });

  it('datum convert -f sop writes a dataset datum detects as sop', async () => {
    const out = path.join(temp(), 'reduced');
    const r = await runCli('convert', '-i', fixture('sop'), '-f', 'sop', '-o', out, '--', '--save-media');
    expect(r.code, r.err).toBe(0);
    expect(fs.existsSync(path.join(out, 'mug_final', '666_0.JPG'))).toBe(true);
    const detect = JSON.parse((await runCli('detect', out, '--json')).out);
    expect(detect.candidates[0]).toMatchObject({ format: 'sop', confidence: 0.95 });
  });
});
