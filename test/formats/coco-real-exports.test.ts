/**
 * COCO as real exports write it (issue 7): the COCO `bbox` is kept as the object's box and written back
 * unchanged, annotation files are recognized by content whatever their name, and `background` is
 * never written as a COCO category. Fixtures are written into temp folders by the tests.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { collect, createContext, detectFormats, importDataset, Reporter } from '../../src/index.js';
import type { Annotation, Dataset, MemoryDataset } from '../../src/index.js';
import { plugin } from '../../formats/coco/index.js';
import { tempDir } from '../helpers/corpus.js';

type Json = Record<string, unknown>;

function writeJson(file: string, value: unknown): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, typeof value === 'string' ? value : JSON.stringify(value));
}

function readJson(file: string): Json {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as Json;
}

async function load(input: string, reporter = new Reporter()): Promise<MemoryDataset> {
  const { dataset } = await importDataset(input, 'coco', {}, createContext({ reporter }));
  return collect(dataset);
}

async function exportTo(ds: Dataset, options: Record<string, boolean | string> = {}, reporter = new Reporter()) {
  const out = path.join(tempDir('coco-real-out-'), 'out');
  fs.mkdirSync(out);
  const summary = await plugin.export!(ds, out, options, createContext({ reporter }));
  return { out, summary, reporter };
}

const byId = (list: unknown) => [...(list as Json[])].sort((a, b) => Number(a.id) - Number(b.id));

// Two images; every annotation written exactly as datum's exporter writes it, so the round trip must
// give the same JSON back. Boxes differ on purpose from the shapes' bounds and from the visible keypoints.
const IMAGES = [{ id: 1, width: 40, height: 30, file_name: 'a.jpg' }, { id: 2, width: 20, height: 20, file_name: 'b.jpg' }];
const PERSON = { id: 1, name: 'person', supercategory: 'person', keypoints: ['nose', 'left_eye', 'right_eye'], skeleton: [[1, 2], [1, 3]] };
const CAR = { id: 3, name: 'car', supercategory: 'vehicle' };
const INSTANCES = [
  // one polygon, box larger than its bounds [2, 2, 8, 6]; Datumaro's free-form attributes
  { id: 1, image_id: 1, category_id: 3, segmentation: [[2, 2, 10, 2, 10, 8, 2, 8]], area: 48, bbox: [1.5, 1.75, 9, 7], iscrowd: 0, attributes: { color: 'red', occluded: false } },
  // two polygon parts of one object
  { id: 2, image_id: 1, category_id: 3, segmentation: [[12, 2, 16, 2, 16, 6], [20, 2, 24, 2, 24, 6, 20, 6]], area: 24, bbox: [11.9, 1.9, 12.2, 4.2], iscrowd: 0 },
  // a crowd region as uncompressed RLE: a 2 x 3 block at x 30..31, y 20..22 (pixel bounds [30, 20, 2, 3])
  { id: 3, image_id: 1, category_id: 3, segmentation: { counts: [920, 3, 27, 3, 247], size: [30, 40] }, area: 6, bbox: [29.6, 19.8, 2.8, 3.4], iscrowd: 1 },
  // box only
  { id: 4, image_id: 2, category_id: 3, segmentation: [], area: 30, bbox: [3, 4, 5, 6], iscrowd: 0 },
  // people: also in person_keypoints, as in COCO's own files
  { id: 5, image_id: 1, category_id: 1, segmentation: [[5, 10, 15, 10, 15, 28, 5, 28]], area: 180, bbox: [4, 9, 12, 20], iscrowd: 0 },
  { id: 7, image_id: 2, category_id: 1, segmentation: [], area: 150, bbox: [1, 1, 10, 15], iscrowd: 0 },
];
const KEYPOINTS = [
  // visible keypoints span [8, 12, 4, 2], the polygon [5, 10, 10, 18]: the box is neither
  { ...INSTANCES[4], keypoints: [8, 12, 2, 0, 0, 0, 12, 14, 1], num_keypoints: 2 },
  { ...INSTANCES[5], keypoints: [2, 3, 2, 4, 5, 2, 0, 0, 0], num_keypoints: 2 },
];

function cocoDataset(): string {
  const root = path.join(tempDir('coco-real-'), 'coco');
  const info = { description: 'test' };
  writeJson(path.join(root, 'annotations', 'instances_train.json'), { info, categories: [PERSON, CAR], images: IMAGES, annotations: INSTANCES });
  writeJson(path.join(root, 'annotations', 'person_keypoints_train.json'), { info, categories: [PERSON], images: IMAGES, annotations: KEYPOINTS });
  return root;
}

describe('COCO bbox is the object box', () => {
  test('import: every annotation with a segmentation or keypoints also yields its COCO bbox in the same group', async () => {
    const ds = await load(cocoDataset());
    const a = ds.items.find((i) => i.id === 'a')!;
    const b = ds.items.find((i) => i.id === 'b')!;
    const of = (list: Annotation[], id: number) => list.filter((x) => x.id === id);
    const first = of(a.annotations, 1);
    expect(first.map((x) => x.type).sort()).toEqual(['bbox', 'polygon']);
    expect(first.find((x) => x.type === 'bbox')).toMatchObject({ x: 1.5, y: 1.75, w: 9, h: 7, attributes: { color: 'red', occluded: false } });
    for (const id of [1, 2, 3, 5]) {
      const object = of(a.annotations, id);
      expect(object.filter((x) => x.type === 'bbox'), `annotation ${id}`).toHaveLength(1);
      expect(new Set(object.map((x) => x.group)).size, `annotation ${id}`).toBe(1);
      expect(object[0].group, `annotation ${id}`).toBeGreaterThan(0);
      expect(new Set(object.map((x) => x.label)).size).toBe(1);
    }
    expect(of(a.annotations, 3).find((x) => x.type === 'bbox')?.attributes).toEqual({ is_crowd: true });
    expect(of(a.annotations, 5).map((x) => x.type).sort()).toEqual(['bbox', 'polygon', 'skeleton']);
    // group numbers are unique within the item: one per object
    const groups = a.annotations.map((x) => `${x.id}:${x.group}`);
    expect(new Set(a.annotations.map((x) => x.group)).size).toBe(new Set(groups).size);
    // a box-only annotation stays a plain box
    expect(of(b.annotations, 4)).toEqual([{ type: 'bbox', x: 3, y: 4, w: 5, h: 6, label: 1, id: 4 }]);
    expect(of(b.annotations, 7).map((x) => x.type).sort()).toEqual(['bbox', 'skeleton']);
  });

  test('COCO -> COCO writes the same annotations: count, ids, bbox, segmentation, area, keypoints', async () => {
    const first = await load(cocoDataset());
    const { out, summary, reporter } = await exportTo(first);
    expect(reporter.messages.filter((m) => m.severity === 'warning')).toEqual([]);
    expect(summary.dropped).toEqual({});
    const instances = readJson(path.join(out, 'annotations', 'instances_train.json'));
    const keypoints = readJson(path.join(out, 'annotations', 'person_keypoints_train.json'));
    expect(byId(instances.annotations)).toEqual(byId(INSTANCES));
    expect(byId(keypoints.annotations)).toEqual(byId(KEYPOINTS));
    expect(byId(instances.images)).toEqual(IMAGES);
    expect((keypoints.categories as Json[]).find((c) => c.name === 'person')).toEqual(PERSON);
    expect(fs.readdirSync(path.join(out, 'annotations')).sort()).toEqual(['instances_train.json', 'person_keypoints_train.json']);
    // and again: a second round changes nothing
    const again = await exportTo(await load(out));
    expect(byId(readJson(path.join(again.out, 'annotations', 'instances_train.json')).annotations)).toEqual(byId(INSTANCES));
    expect(byId(readJson(path.join(again.out, 'annotations', 'person_keypoints_train.json')).annotations)).toEqual(byId(KEYPOINTS));
  });

  test('export folds an object (same label and group) into one annotation; a lone or differently labelled box stays its own', async () => {
    const ds: MemoryDataset = {
      categories: [{ name: 'cat' }, { name: 'person', keypoints: ['a', 'b'] }, { name: 'dog' }],
      items: [{ id: 'x', subset: 'train', image: { path: '/nowhere/x.jpg', width: 20, height: 20 }, annotations: [
        { type: 'polygon', points: [2, 2, 6, 2, 6, 6], label: 0, group: 3, id: 11 },
        { type: 'bbox', x: 1, y: 1, w: 7, h: 7, label: 0, group: 3, id: 11 },
        { type: 'mask', left: 10, top: 10, width: 2, height: 2, rle: [0, 4], label: 0, group: 4 },
        { type: 'bbox', x: 9, y: 9, w: 4, h: 4, label: 0, group: 4 },
        // same group, another label: another object
        { type: 'bbox', x: 0, y: 0, w: 3, h: 3, label: 2, group: 4 },
        { type: 'skeleton', points: [5, 5, 6, 6], visibility: [2, 2], label: 1, group: 5 },
        { type: 'bbox', x: 2, y: 2, w: 10, h: 12, label: 1, group: 5 },
        { type: 'bbox', x: 15, y: 15, w: 2, h: 2, label: 0 },
      ] }],
    };
    const { out, summary } = await exportTo(ds);
    expect(summary.dropped).toEqual({});
    const instances = readJson(path.join(out, 'annotations', 'instances_train.json')).annotations as Json[];
    expect(instances.map((a) => [a.category_id, a.bbox, Array.isArray(a.segmentation) ? (a.segmentation as unknown[]).length : 'rle'])).toEqual([
      [1, [1, 1, 7, 7], 1], [1, [9, 9, 4, 4], 'rle'], [3, [0, 0, 3, 3], 0], [2, [2, 2, 10, 12], 0], [1, [15, 15, 2, 2], 0],
    ]);
    const keypoints = readJson(path.join(out, 'annotations', 'person_keypoints_train.json')).annotations as Json[];
    expect(keypoints).toMatchObject([{ bbox: [2, 2, 10, 12], keypoints: [5, 5, 2, 6, 6, 2], num_keypoints: 2 }]);
    // the model counts every annotation written, folded or not
    expect(summary.annotations).toEqual({ polygon: 1, bbox: 5, mask: 1, skeleton: 1 });
    // import gives the same objects back
    const back = (await load(out)).items[0].annotations;
    expect(back.filter((a) => a.type === 'bbox').map((a) => a.type === 'bbox' && [a.x, a.y, a.w, a.h]).sort()).toEqual(
      [[0, 0, 3, 3], [1, 1, 7, 7], [15, 15, 2, 2], [2, 2, 10, 12], [9, 9, 4, 4]]);
  });

  test('a skeleton whose object has a polygon and a box: the box is the bbox, the polygon the segmentation', async () => {
    const ds: MemoryDataset = {
      categories: [{ name: 'person', keypoints: ['a', 'b'] }],
      items: [{ id: 'x', subset: 'train', image: { path: '/nowhere/x.jpg', width: 20, height: 20 }, annotations: [
        { type: 'skeleton', points: [5, 5, 6, 6], visibility: [2, 1], label: 0, group: 2, id: 9 },
        { type: 'polygon', points: [4, 4, 8, 4, 8, 8], label: 0, group: 2, id: 9 },
        { type: 'bbox', x: 1, y: 2, w: 15, h: 16, label: 0, group: 2, id: 9 },
      ] }],
    };
    const { out } = await exportTo(ds);
    const [entry] = readJson(path.join(out, 'annotations', 'person_keypoints_train.json')).annotations as Json[];
    expect(entry).toEqual({ id: 9, image_id: 1, category_id: 1, segmentation: [[4, 4, 8, 4, 8, 8]], area: 8, bbox: [1, 2, 15, 16], iscrowd: 0, keypoints: [5, 5, 2, 6, 6, 1], num_keypoints: 2 });
  });

  test('panoptic: a segment whose object has a box writes that box; the box is not reported as dropped', async () => {
    const ds: MemoryDataset = {
      categories: [{ name: 'cat' }],
      items: [{ id: 'x', subset: 'train', image: { path: '/nowhere/x.jpg', width: 6, height: 4 }, annotations: [
        { type: 'mask', left: 1, top: 1, width: 2, height: 2, rle: [0, 4], label: 0, group: 1, id: 5 },
        { type: 'bbox', x: 0.5, y: 0.5, w: 3, h: 3, label: 0, group: 1, id: 5 },
        { type: 'mask', left: 4, top: 0, width: 1, height: 1, rle: [0, 1], label: 0, id: 6 },
      ] }],
    };
    const { out, summary } = await exportTo(ds, { tasks: 'panoptic' });
    expect(summary.dropped).toEqual({});
    const panoptic = readJson(path.join(out, 'annotations', 'panoptic_train.json')).annotations as Json[];
    expect(panoptic[0].segments_info).toEqual([
      { id: 5, category_id: 1, area: 4, bbox: [0.5, 0.5, 3, 3], iscrowd: 0 },
      { id: 6, category_id: 1, area: 1, bbox: [4, 0, 1, 1], iscrowd: 0 },
    ]);
  });
});

describe('COCO recognized by content', () => {
  const coco = (annotations: Json[] = [{ id: 1, image_id: 1, category_id: 1, bbox: [0, 0, 2, 2], area: 4, iscrowd: 0 }], categories: Json[] = [{ id: 1, name: 'cat' }]) =>
    ({ info: {}, images: [{ id: 1, file_name: 'a.jpg', width: 4, height: 4 }], categories, annotations });

  async function detected(input: string) {
    const found = await detectFormats(input);
    return { best: found[0], coco: await plugin.detect!(input) };
  }

  for (const layout of ['annotations/annotations.json', 'annotations.json', 'instances.json', 'coco.json', 'annotations/export.json']) {
    test(`${layout}: detected and imported as subset default, images found`, async () => {
      const root = path.join(tempDir('coco-named-'), 'ds');
      writeJson(path.join(root, layout), coco());
      const imageDir = layout.startsWith('annotations/') ? path.join(root, 'images') : root;
      fs.mkdirSync(imageDir, { recursive: true });
      fs.writeFileSync(path.join(imageDir, 'a.jpg'), '');
      const { best, coco: detection } = await detected(root);
      expect(best?.format).toBe('coco');
      expect(detection!.confidence).toBeGreaterThanOrEqual(0.9);
      expect(detection!.reason).toContain(path.basename(layout));
      expect(detection!.reason).toMatch(/images/);
      const ds = await load(root);
      expect(ds.items.map((i) => [i.subset, i.id, i.image?.path, i.annotations.length])).toEqual([['default', 'a', path.join(imageDir, 'a.jpg'), 1]]);
    });
  }

  test('one annotation file with any name as input: subset default; <task>_<subset> names keep their subset', async () => {
    const dir = tempDir('coco-file-');
    writeJson(path.join(dir, 'coco.json'), coco());
    writeJson(path.join(dir, 'other', 'instances_val.json'), coco());
    expect((await plugin.detect!(path.join(dir, 'coco.json')))?.confidence).toBeGreaterThanOrEqual(0.9);
    expect((await load(path.join(dir, 'coco.json'))).items.map((i) => i.subset)).toEqual(['default']);
    expect((await load(path.join(dir, 'other', 'instances_val.json'))).items.map((i) => i.subset)).toEqual(['val']);
  });

  test('the task comes from the content when the name does not say it, and the reason says so', async () => {
    const root = tempDir('coco-task-');
    writeJson(path.join(root, 'kp', 'coco.json'), coco([{ id: 1, image_id: 1, category_id: 1, bbox: [0, 0, 2, 2], keypoints: [1, 1, 2], num_keypoints: 1 }], [{ id: 1, name: 'person', keypoints: ['nose'], skeleton: [] }]));
    writeJson(path.join(root, 'cap', 'coco.json'), coco([{ id: 1, image_id: 1, caption: 'a cat' }]));
    writeJson(path.join(root, 'inst', 'coco.json'), coco());
    expect((await plugin.detect!(path.join(root, 'kp')))?.reason).toContain('person_keypoints');
    expect((await plugin.detect!(path.join(root, 'cap')))?.reason).toContain('captions');
    expect((await plugin.detect!(path.join(root, 'inst')))?.reason).toContain('instances');
    const kp = await load(path.join(root, 'kp'));
    expect(kp.items[0].annotations.map((a) => a.type).sort()).toEqual(['bbox', 'skeleton']);
    expect((await load(path.join(root, 'cap'))).items[0].annotations).toEqual([{ type: 'caption', caption: 'a cat', id: 1 }]);
  });

  test('panoptic by content: segments_info, PNGs in the folder named like the file', async () => {
    const root = path.join(tempDir('coco-pan-'), 'ds');
    const sharp = (await import('sharp')).default;
    const rgb = Buffer.alloc(4 * 4 * 3);
    rgb[0] = 7; // pixel (0, 0) is segment 7
    fs.mkdirSync(path.join(root, 'annotations', 'seg'), { recursive: true });
    await sharp(rgb, { raw: { width: 4, height: 4, channels: 3 } }).png().toFile(path.join(root, 'annotations', 'seg', 'a.png'));
    writeJson(path.join(root, 'annotations', 'seg.json'), { images: [{ id: 1, file_name: 'a.jpg', width: 4, height: 4 }], categories: [{ id: 1, name: 'cat', isthing: 1 }],
      annotations: [{ image_id: 1, file_name: 'a.png', segments_info: [{ id: 7, category_id: 1, area: 1, bbox: [0, 0, 1, 1], iscrowd: 0 }] }] });
    expect((await plugin.detect!(root))?.reason).toContain('panoptic');
    const ds = await load(root);
    expect(ds.items.map((i) => [i.subset, i.annotations.map((a) => [a.type, a.id])])).toEqual([['default', [['mask', 7]]]]);
  });

  test('a big file: the detector reads only its start', async () => {
    const root = path.join(tempDir('coco-big-'), 'ds');
    const annotations = Array.from({ length: 20000 }, (_, i) => ({ id: i + 1, image_id: 1, category_id: 1, bbox: [0, 0, 1, 1] }));
    // broken after the first megabyte: a detector that parsed the whole file would fail
    writeJson(path.join(root, 'annotations.json'), JSON.stringify({ images: [{ id: 1, file_name: 'a.jpg' }], categories: [{ id: 1, name: 'a' }], annotations }).slice(0, 1 << 20));
    expect((await plugin.detect!(root))?.confidence).toBeGreaterThanOrEqual(0.9);
  });

  test('JSON that is not COCO is not taken for COCO: package.json, Datumaro json, a list, a LabelMe file', async () => {
    const root = tempDir('coco-not-');
    writeJson(path.join(root, 'npm', 'package.json'), { name: 'x', version: '1.0.0', dependencies: { images: '1' } });
    writeJson(path.join(root, 'datumaro', 'annotations', 'default.json'), { info: {}, categories: { label: { labels: [{ name: 'cat' }] } }, items: [{ id: 'a', annotations: [] }] });
    writeJson(path.join(root, 'list', 'annotations.json'), [{ images: [], annotations: [] }]);
    writeJson(path.join(root, 'labelme', 'a.json'), { version: '5.0', shapes: [{ label: 'cat', points: [[0, 0], [1, 1]] }], imagePath: 'a.jpg' });
    for (const dir of ['npm', 'datumaro', 'list', 'labelme']) {
      expect(await plugin.detect!(path.join(root, dir)), dir).toMatchObject({ confidence: 0 });
      await expect(load(path.join(root, dir)), dir).rejects.toMatchObject({ diagnostic: { code: 'no-coco-files' } });
    }
    expect(await plugin.detect!(path.join(root, 'npm', 'package.json'))).toMatchObject({ confidence: 0 });
  });

  test('a COCO file beside a package.json: only the COCO file is read', async () => {
    const root = path.join(tempDir('coco-mixed-'), 'ds');
    writeJson(path.join(root, 'package.json'), { name: 'x' });
    writeJson(path.join(root, 'annotations.json'), coco());
    const ds = await load(root);
    expect(ds.items.map((i) => [i.subset, i.id])).toEqual([['default', 'a']]);
  });
});

describe('background is never a COCO category', () => {
  test('a category named background (any case) is not written; its annotations are dropped, counted and warned', async () => {
    const ds: MemoryDataset = {
      categories: [{ name: 'Background' }, { name: 'cat' }, { name: 'background', parent: 'cat' }],
      items: [{ id: 'x', subset: 'train', image: { path: '/nowhere/x.jpg', width: 8, height: 8 }, annotations: [
        { type: 'mask', left: 0, top: 0, width: 8, height: 8, rle: [0, 64], label: 0, id: 1 },
        { type: 'bbox', x: 1, y: 1, w: 2, h: 2, label: 1, id: 2 },
        { type: 'label', label: 0, id: 3 },
        { type: 'bbox', x: 1, y: 1, w: 1, h: 1, label: 2, id: 4 },
      ] }],
    };
    const reporter = new Reporter();
    const { out, summary } = await exportTo(ds, { tasks: 'instances,labels,panoptic' }, reporter);
    for (const task of ['instances', 'labels', 'panoptic']) {
      const json = readJson(path.join(out, 'annotations', `${task}_train.json`));
      expect((json.categories as Json[]).map((c) => c.name), task).toEqual(['cat']);
    }
    const instances = readJson(path.join(out, 'annotations', 'instances_train.json')).annotations as Json[];
    expect(instances.map((a) => a.id)).toEqual([2]);
    expect(readJson(path.join(out, 'annotations', 'labels_train.json')).annotations).toEqual([]);
    expect(summary.dropped).toEqual({ background: 3 });
    const warnings = reporter.messages.filter((m) => m.code === 'background');
    expect(warnings.length).toBeGreaterThan(0);
    expect(warnings.every((w) => w.severity === 'warning' && w.item === 'train/x')).toBe(true);
  });

  test('category ids: background takes none, the other categories keep theirs or are numbered from 1', async () => {
    const ds: MemoryDataset = { categories: [{ name: 'background' }, { name: 'cat' }, { name: 'dog' }], items: [] };
    const { out } = await exportTo(ds);
    expect((readJson(path.join(out, 'annotations', 'instances_default.json')).categories as Json[]).map((c) => [c.id, c.name])).toEqual([[1, 'cat'], [2, 'dog']]);
  });
});

describe('COCO dataset names that lead outside through a symlink are refused', () => {
  const canary = { images: [{ id: 1, file_name: 'CANARY_SECRET.jpg', width: 4, height: 4 }], categories: [{ id: 1, name: 'CANARY_SECRET' }], annotations: [] };
  function layout(): { root: string; input: string; outside: string } {
    const root = tempDir('coco-link-');
    const outside = path.join(root, 'outside');
    writeJson(path.join(outside, 'instances_train.json'), canary);
    fs.mkdirSync(path.join(outside, 'pictures'), { recursive: true });
    return { root, input: path.join(root, 'in'), outside };
  }

  test('an annotation file, the annotations folder or the images folder that is a symlink to outside', async () => {
    const cases: [string, (l: ReturnType<typeof layout>) => void][] = [
      ['file', ({ input, outside }) => { fs.mkdirSync(path.join(input, 'annotations'), { recursive: true }); fs.symlinkSync(path.join(outside, 'instances_train.json'), path.join(input, 'annotations', 'instances_train.json')); }],
      ['content-named file', ({ input, outside }) => { fs.mkdirSync(input, { recursive: true }); fs.symlinkSync(path.join(outside, 'instances_train.json'), path.join(input, 'coco.json')); }],
      ['annotations folder', ({ input, outside }) => { fs.mkdirSync(input, { recursive: true }); fs.symlinkSync(outside, path.join(input, 'annotations')); }],
      ['images folder', ({ input, outside }) => {
        writeJson(path.join(input, 'annotations', 'instances_train.json'), { ...canary, categories: [{ id: 1, name: 'a' }] });
        fs.mkdirSync(path.join(input, 'images'), { recursive: true });
        fs.symlinkSync(path.join(outside, 'pictures'), path.join(input, 'images', 'train'));
      }],
    ];
    for (const [name, make] of cases) {
      const l = layout();
      make(l);
      const reporter = new Reporter();
      const error = await load(l.input, reporter).then(() => null, (e: unknown) => e as { diagnostic?: { code: string } });
      expect(error?.diagnostic?.code, name).toBe('unsafe-path');
      expect(JSON.stringify(reporter.messages), name).not.toContain('CANARY_SECRET');
      // the detector answers without throwing
      await plugin.detect!(l.input);
    }
  });

  test('a symlink that stays inside the dataset is followed', async () => {
    const { input } = layout();
    writeJson(path.join(input, 'real', 'coco.json'), { images: [{ id: 1, file_name: 'a.jpg', width: 4, height: 4 }], categories: [{ id: 1, name: 'a' }], annotations: [] });
    fs.symlinkSync(path.join(input, 'real'), path.join(input, 'annotations'));
    expect((await load(input)).items.map((i) => [i.subset, i.id])).toEqual([['default', 'a']]);
  });
});

describe('COCO object groups', () => {
  test('annotations without ids or with a repeated id are different objects: groups unique within the item', async () => {
    const root = path.join(tempDir('coco-groups-'), 'ds');
    const polygon = (x: number) => [[x, 0, x + 2, 0, x + 2, 2]];
    writeJson(path.join(root, 'annotations', 'instances_train.json'), {
      images: [{ id: 1, file_name: 'a.jpg', width: 20, height: 20 }], categories: [{ id: 1, name: 'a' }],
      annotations: [
        { id: 1, image_id: 1, category_id: 1, segmentation: polygon(0), bbox: [0, 0, 2, 2] },
        { id: 1, image_id: 1, category_id: 1, segmentation: polygon(4), bbox: [4, 0, 2, 2] },
        { image_id: 1, category_id: 1, segmentation: polygon(8), bbox: [8, 0, 2, 2] },
        { image_id: 1, category_id: 1, segmentation: polygon(12), bbox: [12, 0, 2, 2] },
      ],
    });
    const [item] = (await load(root)).items;
    const groups = item.annotations.map((a) => a.group);
    expect(groups.every((g) => g !== undefined && g > 0)).toBe(true);
    // two annotations (polygon + bbox) per object, four objects
    expect([...new Set(groups)]).toHaveLength(4);
    for (const g of new Set(groups)) {
      const members = item.annotations.filter((a) => a.group === g);
      expect(members.map((a) => a.type).sort()).toEqual(['bbox', 'polygon']);
      const [p, b] = [members.find((a) => a.type === 'polygon')!, members.find((a) => a.type === 'bbox')!];
      expect(p.type === 'polygon' && b.type === 'bbox' && p.points[0] === b.x).toBe(true);
    }
  });
});
