import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import '../../formats/index.js';
import { DatumError, type Diagnostic } from '../../src/diagnostics.js';
import type { Category, Dataset, Item } from '../../src/model.js';
import type { FormatPlugin } from '../../src/plugin.js';
import { registerFormat } from '../../src/registry.js';
import { validateDataset, type ValidateOptions } from '../../src/validate/index.js';
import { materialize } from '../helpers/compare.js';
import { conformance, corpus, CORPUS_DATASETS, fixture, tempDir } from '../helpers/corpus.js';

/**
 * A plugin whose import hands over the Dataset the test built (coordinates JSON cannot hold, NaN),
 * optionally with structural findings and importer messages, or an import that throws.
 */
let current: { dataset?: Dataset; structural?: Diagnostic[]; importer?: Diagnostic[]; fail?: DatumError } = {};
const memoryPlugin: FormatPlugin = {
  name: 'test_validate_memory',
  description: 'the dataset a validate test built',
  async validate(_input, _options, ctx) {
    for (const d of current.structural ?? []) ctx.reporter.report(d);
  },
  async import(_input, _options, ctx) {
    for (const d of current.importer ?? []) ctx.reporter.report(d);
    if (current.fail) throw current.fail;
    return current.dataset!;
  },
};
beforeAll(() => registerFormat(memoryPlugin));

let dir: string;
beforeAll(() => { dir = tempDir('datum-validate-'); });

/** Writes a grey image of the given stored size (with an EXIF orientation when given). */
async function image(name: string, width: number, height: number, orientation?: number): Promise<string> {
  const file = path.join(dir, name);
  let img = sharp({ create: { width, height, channels: 3, background: '#808080' } }).jpeg();
  if (orientation) img = img.withMetadata({ orientation });
  await img.toFile(file);
  return file;
}

async function run(dataset: Dataset, options: ValidateOptions = {}, extra: Omit<typeof current, 'dataset'> = {}) {
  current = { dataset, ...extra };
  return validateDataset(dir, { format: 'test_validate_memory', ...options });
}

/** What a test compares: the location and code of each finding, sorted. */
const brief = (findings: Diagnostic[]) => findings
  .map((f) => [f.severity, f.code, f.item ?? f.file ?? '', f.annotation ?? ''].join(' ').trim())
  .sort();

const CATS: Category[] = [{ name: 'cat' }, { name: 'dog' }];
const box = (label: number, x = 10, y = 10, w = 20, h = 20) => ({ type: 'bbox' as const, label, x, y, w, h });

/** A sound dataset: train and val, both labels in both, images present at their annotated size. */
async function cleanItems(): Promise<Item[]> {
  const items: Item[] = [];
  for (const [subset, n] of [['train', 3], ['val', 2]] as const) {
    for (let i = 0; i < n; i++) {
      const file = await image(`${subset}_${i}.jpg`, 100, 80);
      items.push({ id: `${subset}_${i}`, subset, image: { path: file, width: 100, height: 80 }, annotations: [box(0), box(1, 30, 30, 40, 40)] });
    }
  }
  return items;
}

describe('validate: semantic layer', () => {
  it('a sound dataset gives no finding', async () => {
    const result = await run({ categories: CATS, items: await cleanItems() });
    expect(result.findings).toEqual([]);
    expect(result.summary).toEqual({ errors: 0, warnings: 0, infos: 0 });
    expect(result.format).toBe('test_validate_memory');
  });

  it('each planted defect yields exactly its finding, with item and annotation', async () => {
    const categories: Category[] = [...CATS, { name: 'person', keypoints: ['a', 'b', 'c'] }, { name: 'nose', parent: 'person' }];
    const ok = await image('ok.jpg', 100, 80);
    const small = await image('small.jpg', 50, 40);
    // stored 100 x 80 with EXIF orientation 6 (rotated 90 degrees): 80 x 100 as consumers see it
    const rotated = await image('rotated.jpg', 100, 80, 6);
    const at = (id: string, annotations: Item['annotations'], subset = 'train', file = ok, size: [number, number] | null = [100, 80]): Item =>
      ({ id, subset, image: { path: file, ...(size ? { width: size[0], height: size[1] } : {}) }, annotations });
    const items: Item[] = [
      at('ok', [box(0), box(1)]),
      at('zero', [box(0), box(0, 10, 10, 0, 5)]),
      at('outside', [box(0, -50, 10, 20, 10)]),
      at('partly', [box(0, 95, 10, 15, 20)]),
      at('nan', [box(0, NaN, 10, 20, 20)]),
      at('few', [{ type: 'polygon', label: 1, points: [0, 0, 10, 10] }]),
      at('flat', [{ type: 'polygon', label: 1, points: [0, 0, 10, 10, 20, 20] }]),
      at('keypoints', [
        { ...box(2, 0, 0, 10, 10), group: 1 },
        // (50, 50) is visible and outside the box; (60, 60) is absent (visibility 0), not counted
        { type: 'skeleton', label: 2, group: 1, points: [5, 5, 50, 50, 60, 60], visibility: [2, 2, 0] },
      ]),
      at('short-skeleton', [{ type: 'skeleton', label: 2, points: [5, 5, 6, 6], visibility: [2, 2] }]),
      at('unknown', [box(7)]),
      at('empty', []),
      { id: 'no-size', subset: 'train', annotations: [box(0)] },
      at('missing', [box(0)], 'train', path.join(dir, 'absent.jpg')),
      at('mismatch', [box(0)], 'train', small),
      at('rotated', [box(0)], 'train', rotated, [80, 100]),
      at('ok', [box(1)], 'train', small, [50, 40]),
      at('val-ok', [box(0), box(1), box(2)], 'val', await image('val.jpg', 100, 80)),
      at('leak', [box(0), box(1)], 'val', ok),
    ];
    const result = await run({ categories: [...categories, { name: 'bird' }], items });
    expect(brief(result.findings)).toEqual([
      'error box-outside-image train/outside 0',
      'error duplicate-item-id train/ok',
      'error empty-box train/zero 1',
      'error image-size-mismatch train/mismatch',
      'error non-finite-coordinate train/nan 0',
      'error polygon-too-few-points train/few 0',
      'error polygon-zero-area train/flat 0',
      'error skeleton-point-count train/short-skeleton 0',
      'error unknown-label train/unknown 0',
      'info label-unused',
      'info no-annotations train/empty',
      'warning box-partly-outside train/partly 0',
      'warning image-missing train/missing',
      'warning keypoint-outside-box train/keypoints 1',
      'warning no-image-size train/no-size',
      'warning subset-leakage val/leak',
    ]);
    const message = (code: string) => result.findings.find((f) => f.code === code)!.message;
    expect(message('box-partly-outside')).toBe('box extends 10 px outside the 100 x 80 image');
    expect(message('box-outside-image')).toMatch(/entirely outside the 100 x 80 image \(by 50 px\)/);
    expect(message('image-size-mismatch')).toMatch(/annotations say 100 x 80, the image is 50 x 40/);
    expect(message('keypoint-outside-box')).toBe("1 keypoint lies outside the object's box");
    expect(message('label-unused')).toMatch(/'bird'/);
    expect(message('subset-leakage')).toMatch(/subsets 'train' and 'val'/);
    expect(result.findings.find((f) => f.code === 'image-missing')!.file).toBe(path.join(dir, 'absent.jpg'));
    expect(result.summary).toEqual({ errors: 9, warnings: 5, infos: 2 });
  });

  it('a parent used through its children (SOP super-classes) is not unused; a parent with none is', async () => {
    const categories: Category[] = [{ name: 'bicycle' }, { name: 'chair' }, { name: '1', parent: 'bicycle' }, { name: '2', parent: 'bicycle' }];
    const items: Item[] = [0, 1, 2, 3].map((i) => ({ id: `p${i}`, subset: 'train', annotations: [{ type: 'label' as const, label: 2 + (i % 2) }] }));
    const result = await run({ categories, items });
    expect(result.findings.filter((f) => f.code === 'label-unused').map((f) => f.message)).toEqual(["label 'chair' is defined but no annotation uses it"]);
  });

  it('class imbalance over 10 and a label absent from a subset', async () => {
    const items: Item[] = [
      { id: 'a', subset: 'train', annotations: Array.from({ length: 11 }, () => box(0)).concat([box(1)]) },
      { id: 'b', subset: 'val', annotations: [box(0)] },
      { id: 'c', subset: 'test', annotations: [] }, // unannotated split: not compared
    ].map((i) => ({ ...i, image: { path: path.join(dir, `nowhere_${i.id}.jpg`), width: 100, height: 80 } }));
    const result = await run({ categories: CATS, items });
    expect(brief(result.findings)).toEqual([
      'info images-absent', 'info no-annotations test/c', 'warning class-imbalance', 'warning label-missing-in-subset',
    ]);
    const message = (code: string) => result.findings.find((f) => f.code === code)!.message;
    expect(message('class-imbalance')).toBe("label 'cat' has 12 annotations, 'dog' 1: ratio 12 is over 10");
    expect(message('label-missing-in-subset')).toBe("label 'dog' has annotations in 'train' but none in subset 'val'");
    expect(message('images-absent')).toMatch(/none of the 3 images is present/);
    // the same subset twice: not leakage
    expect(result.findings.some((f) => f.code === 'subset-leakage')).toBe(false);
  });

  it('a ratio of exactly 10 is not imbalance', async () => {
    const items: Item[] = [{ id: 'a', subset: '', normalized: true, annotations: [...Array.from({ length: 10 }, () => box(0, 0.1, 0.1, 0.2, 0.2)), box(1, 0.1, 0.1, 0.2, 0.2)] }];
    expect((await run({ categories: CATS, items })).findings).toEqual([]);
  });

  it('normalized items: overshoot is a fraction of the image, no image size is needed', async () => {
    const items: Item[] = [{ id: 'n', subset: '', normalized: true, annotations: [box(0, 0.9, 0.1, 0.2, 0.2), box(1, 0.1, 0.1, 0.2, 0.2)] }];
    const result = await run({ categories: CATS, items });
    expect(brief(result.findings)).toEqual(['warning box-partly-outside n 0']);
    expect(result.findings[0].message).toBe('box extends 0.1 (normalized) outside the 1 x 1 image');
  });

  it('--task counts only the annotations of its kind, and names items without one', async () => {
    const items: Item[] = [
      { id: 'boxes', subset: '', normalized: true, annotations: [box(0, 0.1, 0.1, 0.2, 0.2)] },
      { id: 'label', subset: '', normalized: true, annotations: [{ type: 'label', label: 1 }, box(7, 0.5, 0.5, 0, 0)] },
    ];
    const result = await run({ categories: CATS, items }, { task: 'classification' });
    // the broken box is not the task's: no empty-box nor unknown-label; 'cat' has no label annotation
    expect(brief(result.findings)).toEqual(['info label-unused', 'warning no-task-annotations boxes']);
    expect(result.findings.find((f) => f.code === 'no-task-annotations')!.message).toBe('item has no label annotation for task classification');
  });

  it('keeps at most --max-findings, shared between codes, and counts all', async () => {
    const items: Item[] = Array.from({ length: 50 }, (_, i) => ({ id: `i${i}`, subset: '', normalized: true, annotations: [box(0, 0.1, 0.1, 0, 0.1), box(1, 0.1, 0.1, 0.1, 0.1)] }));
    items.push({ id: 'last', subset: '', normalized: true, annotations: [box(5, 0.1, 0.1, 0.1, 0.1)] });
    const result = await run({ categories: CATS, items }, { maxFindings: 10 });
    expect(result.summary).toEqual({ errors: 51, warnings: 0, infos: 0 });
    expect(result.findings).toHaveLength(10);
    expect(brief(result.findings).filter((f) => f.includes('unknown-label'))).toEqual(['error unknown-label last 0']);
    expect(result.findings.filter((f) => f.code === 'empty-box').map((f) => f.item)).toEqual(['i0', 'i1', 'i2', 'i3', 'i4', 'i5', 'i6', 'i7', 'i8']);
    expect(result.counts).toEqual([{ code: 'empty-box', severity: 'error', count: 50 }, { code: 'unknown-label', severity: 'error', count: 1 }]);
  });

  it('an importer message where the structural layer already reported is dropped', async () => {
    const file = path.join(dir, 'x.json');
    const structural: Diagnostic[] = [
      { severity: 'error', code: 'schema', file, pointer: '/annotations/17/bbox', message: 'bbox must have 4 items' },
      { severity: 'error', code: 'bad-line', file: 'labels.txt', line: 3, message: 'bad line' },
      { severity: 'error', code: 'bad-xml', file: 'a.xml', element: '<image id="1"> <box>', message: 'no xbr' },
      { severity: 'error', code: 'no-images', file: 'b.json', message: 'no "images" key' },
    ];
    const importer: Diagnostic[] = [
      { severity: 'warning', code: 'bad-bbox', file, pointer: '/annotations/17', message: 'skipped' },
      { severity: 'warning', code: 'bad-bbox', file, pointer: '/annotations/18', message: 'skipped' },
      { severity: 'warning', code: 'label-field-count', file: 'labels.txt', line: 3, message: 'skipped' },
      { severity: 'warning', code: 'label-field-count', file: 'labels.txt', line: 4, message: 'skipped' },
      { severity: 'warning', code: 'bad-coordinate', file: 'a.xml', element: '<image id="1"> <box>', message: 'skipped' },
      { severity: 'error', code: 'no-images', file: 'b.json', message: 'no images key' },
      { severity: 'error', code: 'bad-json', file: 'b.json', message: 'other defect of the file' },
    ];
    const result = await run({ categories: [], items: [] }, {}, { structural, importer });
    expect(result.findings.map((f) => `${f.code} ${f.pointer ?? f.line ?? f.element}`)).toEqual([
      'schema /annotations/17/bbox', 'bad-line 3', 'bad-xml <image id="1"> <box>', 'no-images undefined', 'bad-bbox /annotations/18', 'label-field-count 4',
      'bad-json undefined',
    ]);
  });

  it('an import that throws a DatumError is one error finding; the semantic layer is skipped', async () => {
    const fail = new DatumError({ code: 'bad-json', file: 'x.json', message: 'unexpected end' });
    const result = await run({ categories: [], items: [] }, {}, { fail });
    expect(result.findings).toEqual([{ severity: 'error', code: 'bad-json', file: 'x.json', message: 'unexpected end' }]);
  });

  it('an error while items stream is a finding too', async () => {
    async function* items(): AsyncIterable<Item> {
      yield { id: 'a', subset: '', normalized: true, annotations: [box(0, 0.1, 0.1, 0.1, 0.1)] };
      throw new DatumError({ code: 'bad-json', file: 'x.json', offset: 120, message: 'unexpected end' });
    }
    const result = await run({ categories: CATS, items: items() });
    expect(brief(result.findings)).toEqual(['error bad-json x.json']);
  });

  it('a missing input is the usual input-missing error', async () => {
    await expect(validateDataset(path.join(dir, 'nope'), { format: 'coco' })).rejects.toMatchObject({ diagnostic: { code: 'input-missing' } });
  });
});

describe('validate: a COCO file with a box 10 px outside and the same image in train and val', () => {
  it('with its images: exactly those two findings', async () => {
    const root = await materialize(fixture('validate/semantic/coco_defects'), [['images/a.jpg', 100, 80], ['images/b.jpg', 100, 80], ['images/shared.jpg', 100, 80]]);
    const result = await validateDataset(root, { format: 'coco' });
    expect(brief(result.findings)).toEqual(['warning box-partly-outside train/a 0', 'warning subset-leakage val/shared']);
    expect(result.findings.find((f) => f.code === 'subset-leakage')!.file).toBe(path.join(root, 'images', 'shared.jpg'));
    expect(result.summary).toEqual({ errors: 0, warnings: 2, infos: 0 });
  });

  it('with a copy of the image in each subset folder (images/train/, images/val/): the same leakage', async () => {
    const root = await materialize(fixture('validate/semantic/coco_defects'), [['images/train/a.jpg', 100, 80], ['images/val/b.jpg', 100, 80],
      ['images/train/shared.jpg', 100, 80], ['images/val/shared.jpg', 100, 80]]);
    const result = await validateDataset(root, { format: 'coco' });
    // which copy is seen first depends on the order concurrent probes finish
    expect(brief(result.findings).map((b) => b.replace(/(train|val)\/shared/, '<subset>/shared'))).toEqual(['warning box-partly-outside train/a 0', 'warning subset-leakage <subset>/shared']);
    const leak = result.findings.find((f) => f.code === 'subset-leakage')!;
    expect(leak.message).toMatch(/^the same image \(file name and size\) is in subsets '(train|val)' \(.*shared\.jpg\) and '(train|val)' \(leakage between them\)$/);
    for (const s of ['train', 'val']) expect(`${leak.file} ${leak.message}`).toContain(path.join(root, 'images', s, 'shared.jpg'));
  });

  it('without images: one images-absent note instead of one per image', async () => {
    const result = await validateDataset(fixture('validate/semantic/coco_defects'), { format: 'coco' });
    // without the files, images/train/ and images/val/ do not resolve to one folder: no leakage is seen
    expect(brief(result.findings)).toEqual(['info images-absent', 'warning box-partly-outside train/a 0']);
  });
});

/**
 * Every corpus dataset validates without errors; the format is named (detection is not under test).
 * The warnings and infos are the corpus's true oddities (see the README's codes table), not checked here.
 */
conformance('validate: corpus datasets have no errors', () => {
  for (const [format, d] of CORPUS_DATASETS) {
    it(`${d} (${format})`, async () => {
      if (!fs.existsSync(corpus(d))) return;
      const result = await validateDataset(corpus(d), { format });
      expect(result.findings.filter((f) => f.severity === 'error')).toEqual([]);
    });
  }
  it('the keypoints the corpus places outside their boxes are found', async () => {
    const result = await validateDataset(corpus('coco_dataset/coco_person_keypoints'), { format: 'coco' });
    expect(brief(result.findings).filter((f) => f.includes('keypoint-outside-box'))).toEqual([
      'warning keypoint-outside-box train/a 1', 'warning keypoint-outside-box val/b 2', 'warning keypoint-outside-box val/b 5',
    ]);
  });
});

describe('validate: missing images past the kept ones', () => {
  it('are counted, one example each, never repeated', async () => {
    const present = await image('present.jpg', 100, 80);
    const items: Item[] = [{ id: 'p', subset: '', image: { path: present, width: 100, height: 80 }, annotations: [box(0), box(1)] }];
    for (let i = 0; i < 5; i++) items.push({ id: `m${i}`, subset: '', image: { path: path.join(dir, `gone${i}.jpg`), width: 100, height: 80 }, annotations: [box(0), box(1)] });
    const result = await run({ categories: CATS, items }, { maxFindings: 3 });
    expect(result.summary).toEqual({ errors: 0, warnings: 5, infos: 0 });
    // which three are kept depends on the order the concurrent probes finish: three distinct ones
    const kept = result.findings.map((f) => f.item!);
    expect(new Set(kept).size).toBe(3);
    for (const id of kept) expect(['m0', 'm1', 'm2', 'm3', 'm4']).toContain(id);
    expect(result.counts).toEqual([{ code: 'image-missing', severity: 'warning', count: 5 }]);
  });
});
