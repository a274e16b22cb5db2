import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script without types
import { makeSopFixture } from '../../scripts/make-sop-fixture.mjs';
import { csvField } from '../../src/eval/retrieval-split.js';
import { allocate as allocatePlaces } from '../../src/calib/select.js';
import { importDataset } from '../../src/pipeline.js';
import { collect } from '../../src/model.js';
import { toPosixRelative } from '../../src/paths.js';
import { unitHash } from '../../src/transforms/split/hash.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/corpus.js';
import { jsonPlugin } from '../helpers/json-plugin.js';
import { registerFormat } from '../../src/registry.js';

const temps: string[] = [];
function temp(): string {
  const dir = tempDir('datum-retrieval-');
  temps.push(dir);
  return dir;
}
afterAll(() => temps.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

/**
 * Class sizes by the fixture's class index (train classes first: bicycle 0-2, cabinet 3-4, chair 5;
 * then test: bicycle 6-8, cabinet 9-10, chair 11). Eligible (2+ images): bicycle 5, cabinet 3,
 * chair 1; single-image classes 1, 5 and 9 (class ids 2, 6, 10) are dropped.
 */
const SIZES = [2, 1, 3, 2, 2, 1, 4, 2, 3, 1, 2, 3];
const SHAPE = { seed: 4, superClasses: ['bicycle', 'cabinet', 'chair'], classesPerSuper: [6, 4, 2], imagesPerClass: (k: number) => SIZES[k] };

interface Fixture { dir: string; root: string; classes: { classId: number; superId: number; superName: string; subset: string; paths: string[] }[] }
async function sop(): Promise<Fixture> {
  const dir = temp();
  return { dir, ...(await makeSopFixture(dir, SHAPE)) };
}

/** A small RFC 4180 reader: quoted fields with doubled quotes, commas inside quotes. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [], field = '', quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i++; } else if (c === '"') quoted = false; else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { row.push(field); field = ''; }
    else if (c === '\n') { row.push(field); rows.push(row); row = []; field = ''; }
    else field += c;
  }
  expect(field === '' && row.length === 0).toBe(true); // the file ends with a line break
  return rows;
}

const read = (dir: string, name: string) => fs.readFileSync(path.join(dir, name), 'utf8');
const lines = (dir: string, name: string) => read(dir, name).split('\n').filter(Boolean);

async function retrieval(...args: string[]) {
  const result = await runCli('split', '--task', 'retrieval', '--json', ...args);
  expect(result.err).not.toMatch(/internal|TypeError/);
  return { ...result, json: result.code === 0 ? JSON.parse(result.out) : undefined };
}

/** Every file of the output, relative path -> content, for comparing two runs. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, e.name);
      if (e.isDirectory()) walk(full);
      else out[toPosixRelative(dir, full)] = fs.readFileSync(full, 'latin1');
    }
  };
  walk(dir);
  return out;
}

/** Classes per parent as the retrieval split allocates them: calib's allocation (one sampler for both). */
function allocate(sizes: readonly number[], n: number): number[] {
  const places = allocatePlaces(sizes.map((size, k) => ({ name: `p${k}`, size })), n, 0);
  return sizes.map((_, k) => places.get(`p${k}`)!);
}

describe('allocate: classes per parent', () => {
  it('is proportional by largest remainder, at least 1 per parent while n allows', () => {
    // quotas of 4 over [5, 3, 1]: 2.22, 1.33, 0.44 -> chair raised to 1, 3 over [5, 3]: 1.88, 1.13 -> 1, 1 + bicycle (.88)
    expect(allocate([5, 3, 1], 4)).toEqual([2, 1, 1]);
    // 7: 3.89, 2.33, 0.78 -> chair 1 -> 6 over [5, 3]: 3.75, 2.25 -> 3, 2 + bicycle (.75)
    expect(allocate([5, 3, 1], 7)).toEqual([4, 2, 1]);
    // 2 < 3 parents: one each to the two largest
    expect(allocate([5, 3, 1], 2)).toEqual([1, 1, 0]);
    // [8, 1, 1] into 3: 2.4, .3, .3 -> the two under 1 get 1 each, and the one place left goes to the 8
    expect(allocate([8, 1, 1], 3)).toEqual([1, 1, 1]);
    expect(allocate([5, 3, 1], 9)).toEqual([5, 3, 1]);
    expect(allocate([5, 3, 1], 1)).toEqual([1, 0, 0]);
    expect(allocate([10], 3)).toEqual([3]);
  });

  it('always gives n seats, none above a parent\'s classes, at least 1 each when n >= parents', () => {
    for (let s = 0; s < 300; s++) {
      const parents = 1 + Math.floor(unitHash(`p${s}`, 1) * 6);
      const sizes = Array.from({ length: parents }, (_, k) => 1 + Math.floor(unitHash(`${s}/${k}`, 2) * 20));
      const total = sizes.reduce((a, b) => a + b, 0);
      const n = 1 + Math.floor(unitHash(`n${s}`, 3) * total);
      const seats = allocate(sizes, n);
      expect(seats.reduce((a, b) => a + b, 0)).toBe(n);
      seats.forEach((seat, k) => {
        expect(seat).toBeLessThanOrEqual(sizes[k]);
        expect(seat).toBeGreaterThanOrEqual(n >= parents ? 1 : 0);
        // never further than 1 from the quota, but for the minimum of 1 and what it takes back
        if (n >= parents * 2) expect(Math.abs(seat - (n * sizes[k]) / total)).toBeLessThan(2);
      });
    }
  });
});

describe('csvField', () => {
  it('quotes what needs it', () => {
    expect([csvField('a'), csvField('a,b'), csvField('say "hi"'), csvField('two\nlines')]).toEqual(['a', '"a,b"', '"say ""hi"""', '"two\nlines"']);
  });
});

describe('datum split --task retrieval on an SOP dataset', () => {
  it('takes whole classes per parent as computed by hand, and writes the CSV, lists, order and SOP layout that agree', async () => {
    const fx = await sop();
    const out = path.join(temp(), 'eval');
    const { code, json, err } = await retrieval('-i', fx.dir, '-o', out, '--', '--classes', '4', '--seed', '1');
    expect(code, err).toBe(0);
    expect(json.task).toBe('retrieval');
    expect(json.seed).toBe(1);
    expect(json.classes).toEqual({ eligible: 9, chosen: 4, dropped: 3 });
    expect(json.parents).toEqual([
      { name: 'bicycle', eligible: 5, chosen: 2 }, { name: 'cabinet', eligible: 3, chosen: 1 }, { name: 'chair', eligible: 1, chosen: 1 },
    ]);
    expect(json.output).toBe(out);
    // the single-image classes are reported by name (the SOP importer names a product class by its class id)
    const small = json.messages.find((m: { code: string }) => m.code === 'class-too-small');
    expect(small.message).toContain('3 classes');
    for (const id of ['2', '6', '10']) expect(small.message).toContain(`'${id}'`);

    // retrieval.csv: header, one row per image of the chosen classes, all of each class
    const [header, ...rows] = parseCsv(read(out, 'retrieval.csv'));
    expect(header).toEqual(['label', 'path', 'split', 'is_query', 'is_gallery']);
    expect(rows.length).toBe(json.items);
    const sopRoot = path.join(out, 'Stanford_Online_Products');
    for (const [, p, split, q, g] of rows) {
      expect([split, q, g]).toEqual(['test', 'true', 'true']);
      expect(fs.statSync(path.join(sopRoot, p)).size).toBeGreaterThan(0); // the image is there
    }
    const byLabel = new Map<string, string[]>();
    for (const [label, p] of rows) byLabel.set(label, [...(byLabel.get(label) ?? []), p]);
    expect(byLabel.size).toBe(4);
    for (const [label, paths] of byLabel) {
      const source = fx.classes.find((c) => String(c.classId) === label)!;
      expect(paths.sort()).toEqual([...source.paths].sort()); // the whole class, no image more or less
    }
    // which classes: the first of each parent in unitHash(class name, seed) order, among those of 2+ images
    const expected = (parent: string, n: number) => fx.classes.filter((c) => c.superName === parent && c.paths.length >= 2)
      .map((c) => String(c.classId)).sort((a, b) => unitHash(a, 1) - unitHash(b, 1)).slice(0, n);
    expect([...byLabel.keys()].sort()).toEqual([...expected('bicycle', 2), ...expected('cabinet', 1), ...expected('chair', 1)].sort());
    expect(json.items).toBe([...byLabel.values()].reduce((n, p) => n + p.length, 0));

    // query and gallery lists: every image, with Ebay_test.txt's class_id; Ebay_train.txt is empty
    const ebayTest = new Map(lines(sopRoot, 'Ebay_test.txt').slice(1).map((l) => { const f = l.split(' '); return [f[3], f[1]]; }));
    expect(ebayTest.size).toBe(json.items);
    expect(lines(sopRoot, 'Ebay_train.txt')).toEqual(['image_id class_id super_class_id path']);
    const queries = lines(out, 'queries/list.txt');
    expect(lines(out, 'gallery/list.txt')).toEqual(queries);
    expect(queries.length).toBe(json.items);
    for (const l of queries) {
      const [p, id] = l.split(' ');
      expect(id).toBe(ebayTest.get(p));
    }
    // an SOP dataset keeps its class ids: the CSV label (class name) is the class_id here
    for (const [label, p] of rows) expect(ebayTest.get(p)).toBe(label);

    // order.txt: the sop importer's order of the test subset, as `datum eval recall` reads it
    const { dataset } = await importDataset(out, undefined);
    const back = (await collect(dataset)).items.filter((i) => i.subset === 'test').map((i) => toPosixRelative(sopRoot, i.image!.path));
    expect(lines(out, 'order.txt')).toEqual(back);
    expect(rows.map((r) => r[1])).toEqual(back);
    expect(queries.map((l) => l.split(' ')[0])).toEqual(back);
  });

  it('prints a table of classes per parent without --json', async () => {
    const fx = await sop();
    const out = path.join(temp(), 'eval');
    const { code, out: stdout, err } = await runCli('split', '--task', 'retrieval', '-i', fx.dir, '-o', out, '--classes', '4', '--seed', '1');
    expect(code, err).toBe(0);
    const text = stdout.split('\n');
    expect(text[0]).toMatch(/^split \d+ items of 4 whole classes into an evaluation subset \(retrieval, seed 1\): /);
    expect(text.slice(1, 6).map((l) => l.split(/\s+/))).toEqual([
      ['parent', 'eligible', 'chosen'], ['bicycle', '5', '2'], ['cabinet', '3', '1'], ['chair', '1', '1'], ['total', '9', '4'],
    ]);
    expect(text[6]).toBe('3 classes with fewer than 2 images left out');
    expect(err).toContain('[class-too-small]');
  });

  it('is the same across runs and whatever the order of the input lists; another seed picks other classes', async () => {
    const fx = await sop();
    const first = path.join(temp(), 'a');
    const second = path.join(temp(), 'b');
    expect((await retrieval('-i', fx.dir, '-o', first, '--classes', '5', '--seed', '3')).code).toBe(0);
    expect((await retrieval('-i', fx.dir, '-o', second, '--classes', '5', '--seed', '3')).code).toBe(0);
    expect(snapshot(second)).toEqual(snapshot(first));

    // the same dataset with every list's lines in another order (and image ids renumbered)
    const shuffled = path.join(temp(), 'shuffled');
    fs.cpSync(fx.dir, shuffled, { recursive: true });
    for (const name of ['Ebay_info.txt', 'Ebay_train.txt', 'Ebay_test.txt']) {
      const file = path.join(shuffled, 'Stanford_Online_Products', name);
      const [head, ...body] = fs.readFileSync(file, 'utf8').split('\n').filter(Boolean);
      const mixed = body.map((l, k) => ({ l, h: unitHash(String(k), 99) })).sort((a, b) => a.h - b.h).map((x, k) => x.l.replace(/^\d+/, String(k + 1)));
      expect(mixed).not.toEqual(body);
      fs.writeFileSync(file, [head, ...mixed].join('\n') + '\n');
    }
    const third = path.join(temp(), 'c');
    expect((await retrieval('-i', shuffled, '-o', third, '--classes', '5', '--seed', '3')).code).toBe(0);
    expect(snapshot(third)).toEqual(snapshot(first));

    const picks = new Set<string>();
    for (const seed of ['3', '4', '5', '6']) {
      const o = path.join(temp(), `s${seed}`);
      expect((await retrieval('-i', fx.dir, '-o', o, '--classes', '5', '--seed', seed)).code).toBe(0);
      picks.add([...new Set(parseCsv(read(o, 'retrieval.csv')).slice(1).map((r) => r[0]))].sort().join(' '));
    }
    expect(picks.size).toBeGreaterThan(1);
  });

  it('--fraction rounds the share of eligible classes, at least 1; no count takes all; too many takes all with a warning', async () => {
    const fx = await sop();
    const chosen = async (...args: string[]) => {
      const { code, json, err } = await retrieval('-i', fx.dir, '-o', path.join(temp(), 'o'), ...args);
      expect(code, err).toBe(0);
      return json;
    };
    // 0.5 of 9 = 4.5 -> 5 classes: quotas 2.78, 1.67, 0.56 -> 2, 1, 0 -> chair 1 -> bicycle's .78 gets the 5th
    expect((await chosen('--fraction', '0.5')).parents.map((p: { chosen: number }) => p.chosen)).toEqual([3, 1, 1]);
    // 0.01 of 9 rounds to 0: at least 1, to the largest quota
    expect((await chosen('--', '--fraction=0.01')).parents.map((p: { chosen: number }) => p.chosen)).toEqual([1, 0, 0]);
    const all = await chosen();
    expect(all.classes).toEqual({ eligible: 9, chosen: 9, dropped: 3 });
    expect(all.items).toBe(SIZES.filter((n) => n >= 2).reduce((a, b) => a + b, 0));
    const many = await chosen('--classes', '100');
    expect(many.classes.chosen).toBe(9);
    expect(many.messages.filter((m: { code: string }) => m.code === 'too-few-classes').length).toBe(1);
    expect(many.warnings).toBe(1);
  });

  it('--subset takes the pool from one subset', async () => {
    const fx = await sop();
    const out = path.join(temp(), 'o');
    const { code, json, err } = await retrieval('-i', fx.dir, '-o', out, '--subset', 'test');
    expect(code, err).toBe(0);
    // test classes: bicycle 4, 2, 3 images; cabinet 1 (dropped), 2; chair 3
    expect(json.classes).toEqual({ eligible: 5, chosen: 5, dropped: 1 });
    expect(json.parents).toEqual([
      { name: 'bicycle', eligible: 3, chosen: 3 }, { name: 'cabinet', eligible: 1, chosen: 1 }, { name: 'chair', eligible: 1, chosen: 1 },
    ]);
    const testPaths = fx.classes.filter((c) => c.subset === 'test' && c.paths.length >= 2).flatMap((c) => c.paths).sort();
    expect(lines(out, 'order.txt').sort()).toEqual(testPaths);

    expect(json.messages.some((m: { code: string }) => m.code === 'pool-spans-subsets')).toBe(false);
    // without --subset the pool is train and test together, which is said (a model trained on train would be evaluated on its own classes)
    const both = await retrieval('-i', fx.dir, '-o', path.join(temp(), 'o'));
    const said = both.json.messages.find((m: { code: string }) => m.code === 'pool-spans-subsets');
    expect(said).toMatchObject({ severity: 'info', message: 'split: the classes are drawn from every subset (test, train); to evaluate on unseen classes only, add --subset test' });
    expect(both.json.warnings).toBe(0);

    const missing = await retrieval('-i', fx.dir, '-o', path.join(temp(), 'o'), '--subset', 'val');
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/no subset 'val' \(it has train \d+, test \d+\)/);
  });

  it('-- --no-save-media writes the lists without the images', async () => {
    const fx = await sop();
    const out = path.join(temp(), 'o');
    const { code, json, err } = await retrieval('-i', fx.dir, '-o', out, '--', '--no-save-media', '--classes', '3');
    expect(code, err).toBe(0);
    const files = Object.keys(snapshot(out)).sort();
    expect(files).toEqual(['Stanford_Online_Products/Ebay_info.txt', 'Stanford_Online_Products/Ebay_test.txt', 'Stanford_Online_Products/Ebay_train.txt',
      'gallery/list.txt', 'order.txt', 'queries/list.txt', 'retrieval.csv']);
    expect(lines(out, 'order.txt').length).toBe(json.items);
  });

  it('refuses bad options with a usage error and writes nothing', async () => {
    const fx = await sop();
    const out = path.join(temp(), 'o');
    const cases: [string[], RegExp][] = [
      [['--task', 'classification', '--classes', '3'], /--classes go(es)? with --task retrieval only/],
      [['--', '--classes', '3'], /--classes go(es)? with --task retrieval only/],
      [['--by-parent'], /--by-parent go(es)? with --task retrieval only/],
      [['--task', 'retrieval', '--classes', '3', '--fraction', '0.5'], /--classes or --fraction, not both/],
      [['--task', 'retrieval', '--classes', '0'], /--classes must be a whole number/],
      [['--task', 'retrieval', '--classes', '2.5'], /--classes must be a whole number/],
      [['--task', 'retrieval', '--fraction', '1.5'], /--fraction must be a number in \(0, 1\]/],
      [['--task', 'retrieval', '--fraction', 'half'], /--fraction needs a number; got 'half'/],
      [['--task', 'retrieval', '--ratios', 'train=0.5,test=0.5'], /--ratios is not for --task retrieval/],
      [['--task', 'retrieval', '-f', 'coco'], /-f takes no other format/],
      [['--task', 'retrieval', '--classes', '3', '--', '--classes', '4'], /--classes is given both before and after --/],
    ];
    for (const [args, message] of cases) {
      const { code, err } = await runCli('split', '-i', fx.dir, '-o', out, ...args);
      expect(code, args.join(' ')).toBe(2);
      expect(err).toMatch(message);
      expect(fs.existsSync(out)).toBe(false);
    }
  });

  it('refuses an output inside the input, and an existing output without --overwrite', async () => {
    const fx = await sop();
    const inside = await retrieval('-i', fx.dir, '-o', path.join(fx.dir, 'eval'));
    expect(inside.code).toBe(1);
    expect(inside.err).toContain('[output-overlaps-input]');
    expect(fs.existsSync(path.join(fx.dir, 'eval'))).toBe(false);

    const out = path.join(temp(), 'o');
    fs.mkdirSync(out);
    fs.writeFileSync(path.join(out, 'keep.txt'), 'mine');
    const exists = await retrieval('-i', fx.dir, '-o', out);
    expect(exists.code).toBe(1);
    expect(exists.err).toContain('[output-exists]');
    expect(fs.readdirSync(out)).toEqual(['keep.txt']);
    expect((await retrieval('-i', fx.dir, '-o', out, '--overwrite')).code).toBe(0);
    expect(fs.existsSync(path.join(out, 'keep.txt'))).toBe(false);
    expect(lines(out, 'order.txt').length).toBeGreaterThan(0);
  });
});

describe('datum split --task retrieval on a dataset without parent categories', () => {
  /** COCO labels (annotations without bbox or segmentation), no images on disk; supercategory is no parent. */
  function coco(): string {
    const dir = temp();
    const images = ['a 1.jpg', 'b.jpg', 'c.jpg', 'd.jpg', 'e,"x".jpg', 'f.jpg', 'g.jpg', 'h.jpg', 'i.jpg', 'j.jpg']
      .map((file_name, k) => ({ id: k + 1, file_name, width: 8, height: 8 }));
    const label = (id: number, image: number, category: number) => ({ id, image_id: image, category_id: category });
    const annotations = [
      label(1, 1, 1), label(2, 2, 1), label(3, 3, 1), label(4, 3, 2), // c: two classes
      label(5, 4, 2), label(6, 5, 2), // dog, big: d, e
      { ...label(7, 6, 1), bbox: [0, 0, 2, 2] }, // f: a box, no class
      label(8, 7, 3), label(9, 8, 3), label(10, 9, 3), label(11, 10, 4), // bird: g, h, i; fish: j alone
    ];
    const categories = [
      { id: 1, name: 'cat', supercategory: 'animal' }, { id: 2, name: 'dog, big', supercategory: 'animal' },
      { id: 3, name: 'bird', supercategory: 'animal' }, { id: 4, name: 'fish', supercategory: 'animal' },
    ];
    fs.mkdirSync(path.join(dir, 'annotations'));
    fs.writeFileSync(path.join(dir, 'annotations', 'instances_val.json'), JSON.stringify({ images, categories, annotations }));
    return dir;
  }

  it('takes one stratum; items without exactly one class, unlistable paths and single-image classes are left out and counted', async () => {
    const input = coco();
    const out = path.join(temp(), 'o');
    const { code, json, err } = await retrieval('-i', input, '-o', out);
    expect(code, err).toBe(0);
    // cat keeps only b (a's path holds a space, c has two classes, f none): cat and fish are single-image classes
    expect(json.classes).toEqual({ eligible: 2, chosen: 2, dropped: 2 });
    expect(json.parents).toEqual([{ name: null, eligible: 2, chosen: 2 }]);
    const codes = json.messages.map((m: { code: string }) => m.code);
    expect(codes).toContain('item-class');
    expect(codes).toContain('unlistable-path');
    expect(json.messages.find((m: { code: string }) => m.code === 'item-class').message).toMatch(/2 items .*'val\/c', 'val\/f'/);
    const [header, ...rows] = parseCsv(read(out, 'retrieval.csv'));
    expect(header).toEqual(['label', 'path', 'split', 'is_query', 'is_gallery']);
    // class order follows the categories; a name with a comma and a path with quotes survive the CSV
    expect(rows.map((r) => [r[0], r[1]])).toEqual([['dog, big', 'd.jpg'], ['dog, big', 'e,"x".jpg'], ['bird', 'g.jpg'], ['bird', 'h.jpg'], ['bird', 'i.jpg']]);
    expect(read(out, 'retrieval.csv')).toContain('"dog, big","e,""x"".jpg",test,true,true\n');
    // COCO category ids become the SOP class ids
    expect(lines(out, 'queries/list.txt')).toEqual(['d.jpg 2', 'e,"x".jpg 2', 'g.jpg 3', 'h.jpg 3', 'i.jpg 3']);
    // the images are not on disk: warned, and the labels written all the same
    expect(codes.filter((c: string) => c === 'missing-image').length).toBe(5);
  });

  it('--by-parent refuses classes without parents, naming the input', async () => {
    const input = coco();
    const out = path.join(temp(), 'o');
    const { code, err } = await runCli('split', '--task', 'retrieval', '-i', input, '-o', out, '--by-parent');
    expect(code).toBe(1);
    expect(err).toContain(`${input}: --by-parent needs every class to have a parent category; 2 classes of 2 have none: 'dog, big', 'bird' [no-parent]`);
    expect(fs.existsSync(out)).toBe(false);
  });

  it('an id in several subsets gets its subset as a folder, so both images stay', async () => {
    const dir = temp();
    fs.mkdirSync(path.join(dir, 'annotations'));
    for (const subset of ['train', 'val']) {
      const images = ['x.jpg', 'y.jpg'].map((file_name, k) => ({ id: k + 1, file_name, width: 8, height: 8 }));
      const annotations = images.map((im) => ({ id: im.id, image_id: im.id, category_id: 1 }));
      fs.writeFileSync(path.join(dir, 'annotations', `instances_${subset}.json`), JSON.stringify({ images, categories: [{ id: 1, name: 'cat' }], annotations }));
    }
    const out = path.join(temp(), 'o');
    const { code, json, err } = await retrieval('-i', dir, '-o', out);
    expect(code, err).toBe(0);
    expect(json.items).toBe(4);
    expect(lines(out, 'order.txt').sort()).toEqual(['train/x.jpg', 'train/y.jpg', 'val/x.jpg', 'val/y.jpg']);
    expect(json.messages.some((m: { code: string }) => m.code === 'id-in-several-subsets')).toBe(true);
  });

  it('ids that are paths written loosely (a\\b, ./x, d//e, f/./g) are written and listed as the SOP importer reads them back', async () => {
    registerFormat(jsonPlugin);
    const input = temp();
    const ids = ['a\\b', './x', 'd//e', 'f/./g'];
    const items = ids.map((id, k) => {
      const image = path.join(input, `i${k}.png`);
      fs.writeFileSync(image, `image ${k}`);
      return { id, subset: 'test', image: { path: image }, annotations: [{ type: 'label', label: k % 2 }] };
    });
    fs.writeFileSync(path.join(input, 'dataset.json'), JSON.stringify({ categories: [{ name: 'c0' }, { name: 'c1' }], items }));
    const out = path.join(temp(), 'o');
    const { code, json, err } = await retrieval('-i', input, '-o', out);
    expect(code, err).toBe(0);
    expect(json.items).toBe(4);
    // classes in category order (c0: ids 0 and 2, c1: 1 and 3), paths sorted inside each
    expect(lines(out, 'order.txt')).toEqual(['a/b.png', 'd/e.png', 'f/g.png', 'x.png']);
    expect(lines(out, 'queries/list.txt')).toEqual(['a/b.png 1', 'd/e.png 1', 'f/g.png 2', 'x.png 2']);
    expect(read(path.join(out, 'Stanford_Online_Products', 'a'), 'b.png')).toBe('image 0');
    expect(read(out, path.join('Stanford_Online_Products', 'x.png'))).toBe('image 1');
  });
});
