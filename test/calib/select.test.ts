import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { plugin as sop } from '../../formats/sop/index.js';
import { allocate, resolveStratify, selectCalibration, selectPool, DETECTION_WINDOW } from '../../src/calib/select.js';
import { classOf } from '../../src/transforms/split/algorithm.js';
import { collect, type Category, type Item, type MemoryDataset } from '../../src/model.js';
import { DatumError, UsageError } from '../../src/diagnostics.js';
import { createContext } from '../../src/pipeline.js';
import { unitHash } from '../../src/transforms/split/hash.js';
import { tempDir } from '../helpers/corpus.js';
// @ts-expect-error: a plain .mjs script without types
import { makeSopFixture } from '../../scripts/make-sop-fixture.mjs';

interface FixtureClass { classId: number; superId: number; superName: string; subset: string; paths: string[] }

const temps: string[] = [];
afterAll(() => temps.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

async function sopDataset(options: Record<string, unknown>): Promise<{ dataset: MemoryDataset; classes: FixtureClass[] }> {
  const dir = tempDir('datum-calib-select-');
  temps.push(dir);
  const { root, classes } = await makeSopFixture(dir, options);
  return { dataset: await collect(await sop.import!(root, {}, createContext())), classes };
}

const parentOf = (d: MemoryDataset, item: Item) => d.categories[classOf(item)!].parent;
const classNameOf = (d: MemoryDataset, item: Item) => d.categories[classOf(item)!].name;
const tally = (values: readonly (string | undefined)[]) => values.reduce<Record<string, number>>((t, v) => ({ ...t, [String(v)]: (t[String(v)] ?? 0) + 1 }), {});
/** A reordering that is not the input's: by a hash of the id under another seed. */
const shuffled = (items: readonly Item[]) => [...items].sort((a, b) => unitHash(a.id, 99) - unitHash(b.id, 99));

describe('allocate (largest remainder, at least one per stratum)', () => {
  it('gives 10 places over sizes 1..5 as 1,1,2,3,3 (a quota under 1 is raised to 1, the rest re-apportioned)', () => {
    // quotas 0.67 1.33 2 2.67 3.33: 'a' gets 1; 9 places over 14 items: 1.29 1.93 2.57 3.21 -> 1 1 2 3 + the two largest remainders (c .93, d .57)
    const places = allocate([{ name: 'a', size: 1 }, { name: 'b', size: 2 }, { name: 'c', size: 3 }, { name: 'd', size: 4 }, { name: 'e', size: 5 }], 10, 0);
    expect(Object.fromEntries(places)).toEqual({ a: 1, b: 1, c: 2, d: 3, e: 3 });
  });

  it('with fewer places than strata gives one each to the largest, a tie decided by the hash of the name', () => {
    const strata = [{ name: 'a', size: 5 }, { name: 'b', size: 3 }, { name: 'c', size: 3 }, { name: 'd', size: 1 }];
    for (const seed of [0, 1, 2, 3]) {
      const places = allocate(strata, 2, seed);
      const tieWinner = unitHash('b', seed) < unitHash('c', seed) ? 'b' : 'c';
      expect(Object.fromEntries(places)).toEqual({ a: 1, b: tieWinner === 'b' ? 1 : 0, c: tieWinner === 'c' ? 1 : 0, d: 0 });
    }
  });

  it('breaks equal remainders by the hash of the name: 10 places over three strata of 10 are 4, 3, 3', () => {
    for (const seed of [0, 1, 2]) {
      const places = allocate([{ name: 'x', size: 10 }, { name: 'y', size: 10 }, { name: 'z', size: 10 }], 10, seed);
      const winner = ['x', 'y', 'z'].sort((a, b) => unitHash(a, seed) - unitHash(b, seed))[0];
      expect(Object.fromEntries(places)).toEqual(Object.fromEntries(['x', 'y', 'z'].map((n) => [n, n === winner ? 4 : 3])));
    }
  });

  it('gives an exact tie of remainders to the larger stratum, whatever the seed: 5 places over 5, 3, 1 are 3, 1, 1', () => {
    // 1 is raised to 1; 4 over 5 and 3 are 2.5 and 1.5: the 5 has the larger claim (2.78 of the first quotas)
    for (let seed = 0; seed < 20; seed++) {
      const places = allocate([{ name: 'a', size: 5 }, { name: 'b', size: 3 }, { name: 'c', size: 1 }], 5, seed);
      expect([...places.values()]).toEqual([3, 1, 1]);
    }
  });

  it('sums to the total and never exceeds a stratum', () => {
    const strata = Array.from({ length: 30 }, (_, k) => ({ name: `s${k}`, size: 1 + ((k * 37) % 11) }));
    const all = strata.reduce((n, s) => n + s.size, 0);
    for (const total of [30, 31, 77, all - 1, all]) {
      const places = allocate(strata, total, 5);
      expect([...places.values()].reduce((a, b) => a + b, 0)).toBe(total);
      for (const s of strata) expect(places.get(s.name)).toBeGreaterThanOrEqual(1);
      for (const s of strata) expect(places.get(s.name)).toBeLessThanOrEqual(s.size);
    }
  });
});

describe('the pool', () => {
  let data: MemoryDataset;
  beforeAll(async () => { ({ dataset: data } = await sopDataset({})); });

  it('leaves out test by default, takes named subsets, and names the subsets there are when one is unknown or none is left', () => {
    const train = data.items.filter((i) => i.subset === 'train').length;
    expect(selectPool(data.items).items).toHaveLength(train);
    expect(selectPool(data.items).subsets).toEqual(['train']);
    expect(selectPool(data.items).excluded).toEqual(['test']);
    expect(selectPool(data.items, { subsets: ['test'] }).excluded).toEqual(['train']);
    expect(selectPool(data.items, { subsets: ['test'] }).items).toHaveLength(data.items.length - train);
    expect(() => selectPool(data.items, { subsets: ['val'] }, '/data/sop')).toThrow(/dataset has no subset 'val'; its subsets: test, train/);
    try {
      selectPool(data.items, { subsets: ['train'], exclude: ['train'] }, '/data/sop');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(DatumError);
      expect((error as DatumError).diagnostic).toMatchObject({ code: 'empty-pool', file: '/data/sop' });
      expect((error as DatumError).message).toMatch(/subsets train minus train leaves none; the dataset's subsets: test, train/);
    }
  });

  it('leaves out test by default whatever its case or suffix (CVAT\'s Test, COCO\'s test2017)', () => {
    for (const name of ['Test', 'TEST', 'test2017', 'test-dev']) {
      const items = data.items.map((i) => ({ ...i, subset: i.subset === 'test' ? name : i.subset }));
      const pool = selectPool(items);
      expect(pool.subsets).toEqual(['train']);
      expect(pool.excluded).toEqual([name]);
      expect(pool.items.every((i) => i.subset === 'train')).toBe(true);
    }
    // named, a subset called Test is taken
    const items = data.items.map((i) => ({ ...i, subset: i.subset === 'test' ? 'Test' : i.subset }));
    expect(selectPool(items, { subsets: ['Test'] }).subsets).toEqual(['Test']);
  });

  it('is everything when there is no test subset', () => {
    const items = data.items.map((i) => ({ ...i, subset: i.subset === 'test' ? 'val' : i.subset }));
    expect(selectPool(items).items).toHaveLength(data.items.length);
  });
});

describe('classification strata on an SOP-shaped fixture', () => {
  // 3 super-classes with 8, 6, 4 classes of which 4, 3, 2 are train; class k (train first) has 2 + k % 3 images:
  // train pool bicycle 2+3+4+2 = 11, cabinet 3+4+2 = 9, chair 3+4 = 7 (27 items, 9 classes)
  let data: MemoryDataset;
  let classes: FixtureClass[];
  beforeAll(async () => {
    ({ dataset: data, classes } = await sopDataset({ superClasses: ['bicycle', 'cabinet', 'chair'], classesPerSuper: [8, 6, 4], imagesPerClass: (k: number) => 2 + (k % 3) }));
  });

  it('the fixture is as computed by hand', () => {
    const train = classes.filter((c) => c.subset === 'train');
    expect(tally(train.flatMap((c) => c.paths.map(() => c.superName)))).toEqual({ bicycle: 11, cabinet: 9, chair: 7 });
    expect(selectPool(data.items).items).toHaveLength(27);
  });

  it('parent: 10 places over 11, 9, 7 are 4, 3, 3 (quotas 4.07, 3.33, 2.59), each parent spread over distinct classes, interleaved', () => {
    const pool = selectPool(data.items).items;
    const s = selectCalibration(pool, data.categories, { size: 10, stratify: 'parent', seed: 0 });
    expect(s.stratify).toBe('parent');
    expect(s.spread).toBe(true);
    expect(s.chosen).toHaveLength(10);
    expect(tally(s.chosen.map((c) => parentOf(data, c.item)))).toEqual({ bicycle: 4, cabinet: 3, chair: 3 });
    expect(s.strata.map((r) => [r.name, r.dataset, r.chosen])).toEqual([['bicycle', 11, 4], ['cabinet', 9, 3], ['chair', 7, 3]]);
    // bicycle's 4 places go to its 4 train classes, cabinet's 3 to its 3; chair has 2 classes: 2 + 1
    const classesIn = (parent: string) => s.chosen.filter((c) => c.stratum === parent).map((c) => classNameOf(data, c.item));
    expect(new Set(classesIn('bicycle')).size).toBe(4);
    expect(new Set(classesIn('cabinet')).size).toBe(3);
    expect(Object.values(tally(classesIn('chair'))).sort()).toEqual([1, 2]);
    expect(s.chosen.map((c) => c.stratum)).toEqual(['bicycle', 'cabinet', 'chair', 'bicycle', 'cabinet', 'chair', 'bicycle', 'cabinet', 'chair', 'bicycle']);
    expect(s.chosen.every((c) => c.item.subset === 'train')).toBe(true);
    // largest deviation: chair 3/10 - 7/27 = 4.07 pp, bicycle 4/10 - 11/27 = -0.74, cabinet 3/10 - 9/27 = -3.33
    expect(s.maxDeviationOf).toBe('chair');
    expect(s.maxDeviationPp).toBeCloseTo((3 / 10 - 7 / 27) * 100, 10);
  });

  it('auto: label when every class can have a place (9 classes, 10 places), parent when not (6 places)', () => {
    const pool = selectPool(data.items).items;
    const byLabel = selectCalibration(pool, data.categories, { size: 10 });
    expect(byLabel.stratify).toBe('label');
    expect(byLabel.strata).toHaveLength(9);
    expect(byLabel.strata.every((r) => r.chosen >= 1)).toBe(true);
    expect(byLabel.strata.reduce((n, r) => n + r.chosen, 0)).toBe(10);
    expect(resolveStratify('auto', pool, data.categories, 6)).toEqual({ stratify: 'parent', spread: true });
    // 6 places over 11, 9, 7: quotas 2.44, 2, 1.56 -> 2, 2, 1 and the largest remainder (chair .56) -> 2, 2, 2
    const byParent = selectCalibration(pool, data.categories, { size: 6 });
    expect(byParent.strata.map((r) => r.chosen)).toEqual([2, 2, 2]);
    // without parents and with more classes than places: one stratum spread over the classes
    const flat: Category[] = data.categories.map(({ parent: _parent, ...c }) => c);
    const spread = selectCalibration(pool, flat, { size: 6 });
    expect(spread.stratify).toBe('none');
    expect(spread.spread).toBe(true);
    expect(new Set(spread.chosen.map((c) => classNameOf(data, c.item))).size).toBe(6);
  });

  it('is the same set in the same order whatever the input order; another seed gives another set', () => {
    const pool = selectPool(data.items).items;
    const ids = (items: readonly Item[], seed: number) => selectCalibration(items, data.categories, { size: 10, seed }).chosen.map((c) => `${c.item.subset}/${c.item.id}`);
    const first = ids(pool, 3);
    expect(ids(pool, 3)).toEqual(first);
    expect(ids(shuffled(pool), 3)).toEqual(first);
    expect(ids([...pool].reverse(), 3)).toEqual(first);
    expect(new Set(ids(pool, 4))).not.toEqual(new Set(first));
  });

  it('orders the set so that every prefix holds each stratum in proportion, not round robin (NNCF reads the first subset_size lines)', () => {
    // 16, 2, 2 places: the j-th of a stratum's n sits at (j + 1/2) / n, so b and c come at 1/4 and 3/4
    const categories: Category[] = [{ name: 'a' }, { name: 'b' }, { name: 'c' }];
    const items: Item[] = [...Array(20).keys()].map((k) => ({ id: `i${k}`, subset: 'train', annotations: [{ type: 'label', label: k < 16 ? 0 : k < 18 ? 1 : 2 }] }));
    const s = selectCalibration(items, categories, { size: 20, stratify: 'label' });
    expect(s.chosen.map((c) => c.stratum).join('')).toBe('aaaabcaaaaaaaabcaaaa');
    // the first half is 8, 1, 1: half of each stratum (round robin would give 6, 2, 2)
    expect(tally(s.chosen.slice(0, 10).map((c) => c.stratum))).toEqual({ a: 8, b: 1, c: 1 });
  });

  it('takes the whole pool when the size is larger', () => {
    const pool = selectPool(data.items).items;
    const s = selectCalibration(pool, data.categories, { size: 1000 });
    expect(s.chosen).toHaveLength(27);
    expect(s.maxDeviationPp).toBe(0);
  });
});

it('parent strata spread places over distinct classes: 30 places over 3 parents of 20 train classes of 6 images', async () => {
  const { dataset } = await sopDataset({ superClasses: ['lamp', 'mug', 'sofa'], classesPerSuper: [40, 40, 40], imagesPerClass: () => 6 });
  const pool = selectPool(dataset.items).items;
  expect(pool).toHaveLength(360);
  const s = selectCalibration(pool, dataset.categories, { size: 30, seed: 1 });
  expect(s.stratify).toBe('parent');
  for (const parent of ['lamp', 'mug', 'sofa']) {
    const inParent = s.chosen.filter((c) => c.stratum === parent);
    expect(inParent).toHaveLength(10);
    // a plain hash-ordered sample of 10 of these 120 images would almost surely repeat a class
    expect(new Set(inParent.map((c) => classNameOf(dataset, c.item))).size).toBe(10);
  }
});

describe('detection: label coverage, then label shares', () => {
  const categories: Category[] = [{ name: 'car' }, { name: 'person' }, { name: 'bike' }, { name: 'moose' }];
  const box = (label: number) => ({ type: 'bbox' as const, label, x: 0, y: 0, w: 4, h: 4 });
  // 400 images: cars in all (1-3 each), persons in every 4th, bikes in every 10th, one moose; a few backgrounds
  const items: Item[] = Array.from({ length: 400 }, (_, k) => ({
    id: `img${String(k).padStart(3, '0')}`,
    subset: k % 5 === 0 ? 'val' : 'train',
    image: { path: `/data/img${k}.jpg`, width: 8, height: 8 },
    annotations: k % 97 === 1 ? [] : [
      ...Array.from({ length: 1 + (k % 3) }, () => box(0)),
      ...(k % 4 === 0 ? [box(1), box(1)] : []),
      ...(k % 10 === 3 ? [box(2)] : []),
      ...(k === 222 ? [box(3)] : []),
    ],
  }));

  it('covers the rare label and keeps every label share close to the pool\'s', () => {
    const s = selectCalibration(items, categories, { size: 20, seed: 0 });
    expect(s.stratify).toBe('detection');
    expect(s.chosen).toHaveLength(20);
    expect(s.chosen.some((c) => c.item.id === 'img222')).toBe(true);
    const names = s.labels.map((l) => l.name);
    expect(names).toEqual(['bike', 'car', 'moose', 'person']);
    // the report's counts are the set's annotations
    const set = tally(s.chosen.flatMap((c) => c.item.annotations.map((a) => categories[a.label!].name)));
    for (const l of s.labels) expect(l.chosen).toBe(set[l.name] ?? 0);
    const pool = tally(items.flatMap((i) => i.annotations.map((a) => categories[a.label!].name)));
    for (const l of s.labels) expect(l.dataset).toBe(pool[l.name]);
    // the one moose weighs 1/N of 20 images' annotations: the largest deviation; the others within 1.5 pp
    expect(s.maxDeviationOf).toBe('moose');
    for (const l of s.labels.filter((x) => x.name !== 'moose')) expect(Math.abs(l.share_set - l.share_dataset) * 100).toBeLessThan(1.5);
    expect(DETECTION_WINDOW).toBe(64);
  });

  it('is deterministic across input orders, and another seed gives another set', () => {
    const ids = (list: readonly Item[], seed: number) => selectCalibration(list, categories, { size: 20, seed }).chosen.map((c) => c.item.id);
    expect(ids(shuffled(items), 2)).toEqual(ids(items, 2));
    expect(new Set(ids(items, 3))).not.toEqual(new Set(ids(items, 2)));
  });

  it('refuses class strata, and none is a plain hash-ordered sample', () => {
    expect(() => selectCalibration(items, categories, { size: 5, stratify: 'parent' })).toThrow(UsageError);
    const s = selectCalibration(items, categories, { size: 5, stratify: 'none', seed: 0 });
    const byHash = [...items].sort((a, b) => unitHash(`${a.subset}/${a.id}`, 0) - unitHash(`${b.subset}/${b.id}`, 0)).slice(0, 5).map((i) => i.id);
    expect(s.chosen.map((c) => c.item.id)).toEqual(byHash);
  });

  it('reports label shares without strata too, where the balancing shows: no person in a plain sample of 20 (seed 1)', () => {
    const plain = selectCalibration(items, categories, { size: 20, stratify: 'none', seed: 1 });
    const person = plain.labels.find((l) => l.name === 'person')!;
    expect(person.chosen).toBe(0);
    expect(plain.maxDeviationOf).toBe('person');
    expect(plain.maxDeviationPp).toBeCloseTo(person.share_dataset * 100, 10);
    const balanced = selectCalibration(items, categories, { size: 20, seed: 1 });
    const b = balanced.labels.find((l) => l.name === 'person')!;
    expect(Math.abs(b.share_set - b.share_dataset) * 100).toBeLessThan(1.5);
  });
});
