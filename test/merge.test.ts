import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { runCli } from './helpers/cli.js';
import { tempDir } from './helpers/corpus.js';
import { createContext } from '../src/pipeline.js';
import { merge as mergeLib, mergeCategories, mergeDatasets, type MergeSource } from '../src/merge.js';
import { parseSource } from '../src/cli/merge.js';
import { DatumError, Reporter, UsageError } from '../src/diagnostics.js';
import type { Category, Item } from '../src/model.js';

const temps: string[] = [];
afterAll(() => { for (const dir of temps) fs.rmSync(dir, { recursive: true, force: true }); });
function temp(): string {
  const dir = tempDir('datum-merge-');
  temps.push(dir);
  return dir;
}

/**
 * Source A, COCO: labels car, person; train/img1 (car, person), train/img2 (person).
 * Source B, CVAT (train.xml: subset train): labels bus, person, car (car with an attribute);
 * train/img1 (bus, car) collides with A's, train/img3 (person).
 */
function writeSources(root: string): { a: string; b: string } {
  const a = path.join(root, 'a');
  fs.mkdirSync(path.join(a, 'annotations'), { recursive: true });
  fs.writeFileSync(path.join(a, 'annotations', 'instances_train.json'), JSON.stringify({
    images: [{ id: 1, file_name: 'img1.jpg', width: 100, height: 80 }, { id: 2, file_name: 'img2.jpg', width: 100, height: 80 }],
    categories: [{ id: 1, name: 'car' }, { id: 2, name: 'person' }],
    annotations: [
      { id: 1, image_id: 1, category_id: 1, bbox: [10, 10, 20, 20], area: 400, iscrowd: 0 },
      { id: 2, image_id: 1, category_id: 2, bbox: [30, 30, 5, 5], area: 25, iscrowd: 0 },
      { id: 3, image_id: 2, category_id: 2, bbox: [1, 2, 3, 4], area: 12, iscrowd: 0 },
    ],
  }));
  const b = path.join(root, 'b');
  fs.mkdirSync(b);
  fs.writeFileSync(path.join(b, 'train.xml'), `<?xml version="1.0"?>
<annotations><version>1.1</version><meta><task><labels>
  <label><name>bus</name></label>
  <label><name>person</name></label>
  <label><name>car</name><attributes><attribute><name>parked</name><input_type>checkbox</input_type><default_value>false</default_value><values>false
true</values></attribute></attributes></label>
</labels></task></meta>
<image id="0" name="img1.jpg" width="50" height="40">
  <box label="bus" xtl="1" ytl="1" xbr="11" ybr="21"/>
  <box label="car" xtl="2" ytl="3" xbr="6" ybr="9"><attribute name="parked">true</attribute></box>
</image>
<image id="1" name="img3.jpg" width="50" height="40">
  <box label="person" xtl="5" ytl="5" xbr="9" ybr="15"/>
</image>
</annotations>`);
  return { a, b };
}

interface CocoOut {
  images: { id: number; file_name: string; width: number }[];
  categories: { id: number; name: string }[];
  annotations: { image_id: number; category_id: number; bbox: number[] }[];
}

/** The written COCO file as image file name -> sorted `label:x,y,w,h` of its boxes, plus the label list. */
function readCoco(out: string): { labels: string[]; boxes: Record<string, string[]>; widths: Record<string, number> } {
  const coco = JSON.parse(fs.readFileSync(path.join(out, 'annotations', 'instances_train.json'), 'utf8')) as CocoOut;
  const nameOf = new Map(coco.categories.map((c) => [c.id, c.name]));
  const fileOf = new Map(coco.images.map((i) => [i.id, i.file_name]));
  const boxes: Record<string, string[]> = Object.fromEntries(coco.images.map((i) => [i.file_name, [] as string[]]));
  for (const a of coco.annotations) boxes[fileOf.get(a.image_id)!].push(`${nameOf.get(a.category_id)}:${a.bbox.join(',')}`);
  for (const list of Object.values(boxes)) list.sort();
  return { labels: coco.categories.map((c) => c.name), boxes, widths: Object.fromEntries(coco.images.map((i) => [i.file_name, i.width])) };
}

const A_IMG1 = ['car:10,10,20,20', 'person:30,30,5,5'];
const B_IMG1 = ['bus:1,1,10,20', 'car:2,3,4,6'];

describe('datum merge', () => {
  test('rename (default): labels united by name in first-seen order, the colliding id renamed <id>-2, boxes keep their labels by name', async () => {
    const root = temp();
    const { a, b } = writeSources(root);
    const out = path.join(root, 'out');
    const r = await runCli('merge', a, b, '-o', out, '-f', 'coco');
    expect(r.code).toBe(0);
    expect(r.out).toContain(`merged 4 items from 2 sources (coco, cvat) into coco: ${out}`);
    expect(r.out).toContain('1 colliding item id: 1 renamed');
    expect(r.err).toMatch(/renamed to 'img1-2'.*\(item 'train\/img1'\) \[item-renamed\]/);
    const written = readCoco(out);
    expect(written.labels).toEqual(['car', 'person', 'bus']);
    expect(written.boxes).toEqual({
      'img1.jpg': A_IMG1,
      'img2.jpg': ['person:1,2,3,4'],
      'img1-2.jpg': B_IMG1,
      'img3.jpg': ['person:5,5,4,10'],
    });
    // The renamed item is B's (its image size), the kept one A's.
    expect(written.widths).toMatchObject({ 'img1.jpg': 100, 'img1-2.jpg': 50 });
  });

  test('skip: the first source\'s item is kept, the later one counted and warned', async () => {
    const root = temp();
    const { a, b } = writeSources(root);
    const out = path.join(root, 'out');
    const r = await runCli('merge', a, b, '-o', out, '-f', 'coco', '--on-conflict', 'skip', '--json');
    expect(r.code).toBe(0);
    const result = JSON.parse(r.out);
    expect(result).toMatchObject({ items: 3, inputFormats: ['coco', 'cvat'], outputFormat: 'coco', onConflict: 'skip', collisions: 1, skipped: 1, renamed: 0, warnings: 1 });
    expect(result.messages.find((m: { code: string }) => m.code === 'duplicate-item-skipped')).toMatchObject({ item: 'train/img1', file: b });
    const written = readCoco(out);
    expect(written.labels).toEqual(['car', 'person', 'bus']);
    expect(Object.keys(written.boxes).sort()).toEqual(['img1.jpg', 'img2.jpg', 'img3.jpg']);
    expect(written.boxes['img1.jpg']).toEqual(A_IMG1);
  });

  test('error: exit 1 naming both sources and the id, nothing written; an existing output is kept', async () => {
    const root = temp();
    const { a, b } = writeSources(root);
    const out = path.join(root, 'out');
    const r = await runCli('merge', a, b, '-o', out, '-f', 'coco', '--on-conflict', 'error');
    expect(r.code).toBe(1);
    expect(r.err).toContain(`item 'train/img1' of ${b} has the same subset and id as an item of ${a}`);
    expect(r.err).toContain('[duplicate-item]');
    expect(fs.existsSync(out)).toBe(false);
    expect(fs.readdirSync(root).sort()).toEqual(['a', 'b']); // no temporary left beside it

    fs.mkdirSync(out);
    fs.writeFileSync(path.join(out, 'keep.txt'), 'x');
    const again = await runCli('merge', a, b, '-o', out, '-f', 'coco', '--on-conflict', 'error', '--overwrite', '--json');
    expect(again.code).toBe(1);
    expect(JSON.parse(again.out).error).toMatchObject({ code: 'duplicate-item', item: 'train/img1', file: b });
    expect(fs.readdirSync(out)).toEqual(['keep.txt']);
  });

  test('sources in the other order: B\'s labels first, A\'s img1 renamed; PATH@FORMAT, transforms and exporter options', async () => {
    const root = temp();
    const { a, b } = writeSources(root);
    const out = path.join(root, 'out');
    const r = await runCli('merge', `${b}@cvat`, `${a}@coco`, '-o', out, '-f', 'cvat', '-t', 'map_subsets:train=val', '--', '--save-media');
    expect(r.err).not.toMatch(/error/);
    expect(r.code).toBe(0);
    expect(r.out).toContain('merged 4 items from 2 sources (cvat, coco) into cvat');
    const xml = fs.readdirSync(out).filter((f) => f.endsWith('.xml')).map((f) => fs.readFileSync(path.join(out, f), 'utf8')).join('');
    const labelNames = [...xml.matchAll(/<label>\s*<name>([^<]*)<\/name>/g)].map((m) => m[1]);
    expect(labelNames).toEqual(['bus', 'person', 'car']);
    const images = [...xml.matchAll(/<image [^>]*name="([^"]*)"[^>]*subset="([^"]*)"|<image [^>]*subset="([^"]*)"[^>]*name="([^"]*)"/g)]
      .map((m) => m[1] ?? m[4]);
    expect(images.sort()).toEqual(['img1-2.jpg', 'img1.jpg', 'img2.jpg', 'img3.jpg']);
    expect(xml).toMatch(/subset="val"/);
    expect(xml).not.toMatch(/subset="train"/);
    // A's img1 (100 wide) is the renamed one this time
    expect(xml).toMatch(/<image [^>]*name="img1-2\.jpg"[^>]*width="100"/);
    // the car's attribute spec survived the union
    expect(xml).toMatch(/<name>parked<\/name>/);
  });

  test('usage errors exit 2 and write nothing: one source, unknown mode, unknown @format; an input inside the output exits 1', async () => {
    const root = temp();
    const { a, b } = writeSources(root);
    const out = path.join(root, 'out');
    const one = await runCli('merge', a, '-o', out, '-f', 'coco');
    expect(one.code).toBe(2);
    expect(one.err).toContain('at least two sources');
    expect((await runCli('merge', a, b, '-o', out, '-f', 'coco', '--on-conflict', 'merge')).code).toBe(2);
    const badFormat = await runCli('merge', a, `${b}@nope`, '-o', out, '-f', 'coco');
    expect(badFormat.code).toBe(2);
    expect(badFormat.err).toMatch(/unknown format 'nope'/);
    expect(fs.existsSync(out)).toBe(false);
    const overlap = await runCli('merge', a, b, '-o', root, '-f', 'coco', '--overwrite');
    expect(overlap.code).toBe(1);
    expect(overlap.err).toContain('[output-overlaps-input]');
    expect(fs.readdirSync(root).sort()).toEqual(['a', 'b']);
  });

  test('a source read after the next one was imported is still checked for symlinks leading outside (importDataset forgets cached paths)', async () => {
    const root = temp();
    const { a, b } = writeSources(root);
    fs.mkdirSync(path.join(root, 'elsewhere'));
    fs.writeFileSync(path.join(root, 'elsewhere', 'img1.jpg'), 'x');
    fs.symlinkSync(path.join(root, 'elsewhere'), path.join(b, 'images'));
    // b is imported first, a second (its import empties the path cache); b's items stream after that
    const r = await runCli('merge', b, a, '-o', path.join(root, 'out'), '-f', 'coco', '--', '--save-media');
    expect(r.code).toBe(1);
    expect(r.err).toContain(`${path.join(b, 'images')}: path 'images' leads outside the dataset folder through a symlink`);
    expect(fs.existsSync(path.join(root, 'out'))).toBe(false);
  });

  test('the library merge() gives the same result as the CLI', async () => {
    const root = temp();
    const { a, b } = writeSources(root);
    const out = path.join(root, 'out');
    const reporter = new Reporter();
    const result = await mergeLib({ inputs: [a, { path: b, format: 'cvat' }], output: out, outputFormat: 'coco' }, createContext({ reporter }));
    expect(result).toMatchObject({ items: 4, inputFormats: ['coco', 'cvat'], collisions: 1, renamed: 1, skipped: 0, output: out });
    expect(readCoco(out).boxes['img1-2.jpg']).toEqual(B_IMG1);
    expect(reporter.messages.filter((m) => m.code === 'merge-collisions')).toHaveLength(1);
  });
});

function source(categories: Category[], items: Item[], name?: string): MergeSource {
  return { dataset: { categories, items }, name };
}

async function all(items: AsyncIterable<Item> | Iterable<Item>): Promise<Item[]> {
  const list: Item[] = [];
  for await (const item of items) list.push(item);
  return list;
}

describe('mergeDatasets', () => {
  test('labels by name and parent, attribute values united, annotations re-indexed, inputs untouched', async () => {
    const catsA: Category[] = [
      { name: 'car', attributes: [{ name: 'colour', values: ['red'] }] },
      { name: 'person', keypoints: ['head', 'hip'] },
      { name: 'head', parent: 'person' },
      { name: 'hip', parent: 'person' },
    ];
    const catsB: Category[] = [
      { name: 'head' }, // a label of its own, not the sub-label
      { name: 'car', attributes: [{ name: 'colour', values: ['blue', 'red'] }, { name: 'parked' }] },
      { name: 'hip', parent: 'person' },
    ];
    const { categories, labelMaps } = mergeCategories([catsA, catsB]);
    expect(categories.map((c) => `${c.parent ? c.parent + '/' : ''}${c.name}`)).toEqual(['car', 'person', 'person/head', 'person/hip', 'head']);
    expect(labelMaps).toEqual([[0, 1, 2, 3], [4, 0, 3]]);
    expect(categories[0].attributes).toEqual([{ name: 'colour', values: ['red', 'blue'] }, { name: 'parked' }]);
    expect(catsA[0].attributes).toEqual([{ name: 'colour', values: ['red'] }]);

    const itemB: Item = { id: 'x', subset: 'train', annotations: [{ type: 'label', label: 0 }, { type: 'bbox', label: 1, x: 1, y: 2, w: 3, h: 4 }, { type: 'caption', caption: 'hi' }] };
    const { dataset } = mergeDatasets([source(catsA, []), source(catsB, [itemB])]);
    const [merged] = await all(dataset.items);
    expect(merged.annotations.map((a) => (a.label === undefined ? a.type : categories[a.label].name))).toEqual(['head', 'car', 'caption']);
    expect(merged.annotations[1]).toMatchObject({ x: 1, y: 2, w: 3, h: 4, label: 0 });
    expect(itemB.annotations.map((a) => a.label)).toEqual([0, 1, undefined]);
  });

  test('skeletons of a source with other keypoints are put in the first source\'s order, unknown points dropped with a warning', async () => {
    const catsA: Category[] = [{ name: 'person', keypoints: ['head', 'neck', 'hip'] }];
    const catsB: Category[] = [{ name: 'person', keypoints: ['hip', 'head', 'tail'] }];
    const itemB: Item = { id: 'p', subset: '', annotations: [{ type: 'skeleton', label: 0, points: [5, 6, 1, 2, 9, 9], visibility: [2, 1, 2] }] };
    const reporter = new Reporter();
    const { dataset } = mergeDatasets([source(catsA, [], 'A'), source(catsB, [itemB], 'B')], {}, createContext({ reporter }));
    const [merged] = await all(dataset.items);
    expect(merged.annotations[0]).toMatchObject({ points: [1, 2, 0, 0, 5, 6], visibility: [1, 0, 2] });
    expect(reporter.messages.map((m) => [m.code, m.file])).toEqual([['keypoints-differ', 'B']]);
    expect(reporter.messages[0].message).toContain('without tail');
  });

  test('an annotation whose label index is outside its source\'s labels is dropped with a warning, never given another source\'s label', async () => {
    const reporter = new Reporter();
    const itemA: Item = { id: 'a', subset: '', annotations: [{ type: 'label', label: 1 }, { type: 'label', label: 0 }] };
    const itemB: Item = { id: 'b', subset: '', annotations: [{ type: 'label', label: 7 }, { type: 'label', label: 0 }] };
    const { dataset } = mergeDatasets([source([{ name: 'x' }], [itemA], 'A'), source([{ name: 'y' }], [itemB], 'B')], {}, createContext({ reporter }));
    const [a, b] = await all(dataset.items);
    expect(dataset.categories.map((c) => c.name)).toEqual(['x', 'y']);
    expect(a.annotations).toEqual([{ type: 'label', label: 0 }]);
    expect(b.annotations).toEqual([{ type: 'label', label: 1 }]);
    expect(reporter.messages.map((m) => [m.code, m.file, m.item])).toEqual([['unknown-label', 'A', 'a'], ['unknown-label', 'B', 'b']]);
    expect(itemA.annotations).toHaveLength(2);
  });

  test('rename is deterministic: first keeps its id, <id>-<N> by source position, -2 when that is taken too; subsets apart never collide', async () => {
    const it = (id: string, subset = 'train'): Item => ({ id, subset, annotations: [] });
    const reporter = new Reporter();
    const { dataset, counts } = mergeDatasets([
      source([], [it('a'), it('a', 'val'), it('a-3')]),
      source([], [it('b')]),
      source([], [it('a'), it('a'), it('b')]),
    ], {}, createContext({ reporter }));
    const ids = (await all(dataset.items)).map((i) => `${i.subset}/${i.id}`);
    // a-3 was taken by the first source: the third source's a becomes a-3-2, its second a a-3-3
    expect(ids).toEqual(['train/a', 'val/a', 'train/a-3', 'train/b', 'train/a-3-2', 'train/a-3-3', 'train/b-3']);
    expect(counts).toEqual({ items: 7, collisions: 3, renamed: 3, skipped: 0 });
    expect(reporter.messages.filter((m) => m.code === 'item-renamed')).toHaveLength(3);
  });

  test('error throws a DatumError naming both sources when the colliding item is reached; skip counts', async () => {
    const it = (id: string): Item => ({ id, subset: 's', annotations: [] });
    const error = await all(mergeDatasets([source([], [it('a')], 'one'), source([], [it('b'), it('a')], 'two')], { onConflict: 'error' }).dataset.items)
      .then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(DatumError);
    expect((error as DatumError).diagnostic).toMatchObject({ code: 'duplicate-item', file: 'two', item: 's/a' });
    expect((error as DatumError).message).toContain('an item of one');

    const { dataset, counts } = mergeDatasets([source([], [it('a')]), source([], [it('a'), it('c')])], { onConflict: 'skip' });
    expect((await all(dataset.items)).map((i) => i.id)).toEqual(['a', 'c']);
    expect(counts).toMatchObject({ items: 2, collisions: 1, skipped: 1 });
    expect(() => mergeDatasets([], { onConflict: 'x' as 'skip' })).toThrow(UsageError);
  });
});

describe('parseSource', () => {
  test('PATH@FORMAT, a default format, and an existing path with @ taken whole', () => {
    const root = temp();
    expect(parseSource('data/x@cvat')).toEqual({ path: 'data/x', format: 'cvat' });
    expect(parseSource('data/x@yolo-ultralytics')).toEqual({ path: 'data/x', format: 'yolo_ultralytics' });
    expect(parseSource('data/x', 'coco')).toEqual({ path: 'data/x', format: 'coco' });
    const odd = path.join(root, 'photos@2x');
    fs.mkdirSync(odd);
    expect(parseSource(odd)).toEqual({ path: odd });
    expect(parseSource('a@b/c')).toEqual({ path: 'a@b/c' });
    expect(() => parseSource('data/x@nope')).toThrow(UsageError);
  });
});
