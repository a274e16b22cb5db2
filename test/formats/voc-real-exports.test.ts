/**
 * Pascal VOC as other tools export it (issue 7): no labelmap.txt, trainval beside train/val, a DOCTYPE
 * before <annotation>, objects whose box and polygon share a group, symlinks out of the dataset.
 * Every fixture is written into a temp dir here.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import sharp from 'sharp';
import { plugin } from '../../formats/voc/index.js';
import { VOC_PALETTE } from '../../formats/voc/layout.js';
import { encodePalettePng } from '../../formats/voc/png.js';
import { collect, type Annotation, type MemoryDataset } from '../../src/model.js';
import { convert, createContext, detectFormat, importDataset } from '../../src/pipeline.js';
import { DatumError } from '../../src/diagnostics.js';
import type { Options } from '../../src/plugin.js';
import '../../formats/index.js';

const temps: string[] = [];
afterAll(() => { for (const t of temps) fs.rmSync(t, { recursive: true, force: true }); });
function temp(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'datum-voc-real-'));
  temps.push(dir);
  return dir;
}
function writeFiles(root: string, files: Record<string, string | Buffer>): string {
  for (const [rel, content] of Object.entries(files)) {
    const file = path.join(root, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, content);
  }
  return root;
}
async function load(input: string, options: Options = {}) {
  const ctx = createContext();
  const dataset = await collect(await plugin.import!(input, options, ctx));
  return { dataset, messages: ctx.reporter.messages };
}
const names = (d: MemoryDataset) => d.categories.map((c) => c.name);
const labelName = (d: MemoryDataset, a: Annotation) => (a.label === undefined ? undefined : d.categories[a.label].name);
const box = ([xmin, ymin, xmax, ymax]: number[]) => `<bndbox><xmin>${xmin}</xmin><ymin>${ymin}</ymin><xmax>${xmax}</xmax><ymax>${ymax}</ymax></bndbox>`;
const object = (name: string, b: number[], inner = '') => `<object><name>${name}</name>${inner}${box(b)}</object>`;
const part = (name: string, b: number[]) => `<part><name>${name}</name>${box(b)}</part>`;
const xml = (objects: string, prolog = '<?xml version="1.0"?>\n') =>
  `${prolog}<annotation>\n  <filename>img.jpg</filename>\n  <size><width>20</width><height>10</height><depth>3</depth></size>\n  ${objects}\n</annotation>\n`;

describe('VOC without labelmap.txt: the labels are the ones the dataset uses', () => {
  test('XML names sorted, parts as sub-labels of their object, no Pascal defaults; the same on every run', async () => {
    const root = writeFiles(temp(), {
      // z.xml is read last but holds the name that sorts first
      'Annotations/a.xml': xml(object('truck', [1, 1, 5, 5], part('wheel', [1, 4, 2, 5])) + object('car', [6, 1, 9, 4])),
      'Annotations/z.xml': xml(object('bicycle', [2, 2, 4, 4])),
      'ImageSets/Main/train.txt': 'a\nz\n',
    });
    const { dataset, messages } = await load(root);
    expect(messages).toEqual([]);
    expect(dataset.categories).toEqual([{ name: 'bicycle', color: VOC_PALETTE[2] }, { name: 'car', color: VOC_PALETTE[7] }, { name: 'truck' }, { name: 'wheel', parent: 'truck' }]);
    expect((await load(root)).dataset.categories).toEqual(dataset.categories);
    const a = dataset.items.find((i) => i.id === 'a')!;
    expect(a.annotations.map((x) => [labelName(dataset, x), x.group])).toEqual([['truck', 1], ['wheel', 1], ['car', 2]]);

    // To YOLO-Ultralytics the classes are these three (parts are not classes), numbered from 0.
    const out = path.join(temp(), 'yolo');
    await convert({ input: root, inputFormat: 'voc', output: out, outputFormat: 'yolo_ultralytics' }, createContext());
    const yaml = fs.readFileSync(path.join(out, 'data.yaml'), 'utf8');
    expect(yaml).toMatch(/nc: 3\nnames:\n  0: "bicycle"\n  1: "car"\n  2: "truck"\n/);
    expect(yaml).not.toMatch(/aeroplane|background|ignored|head|wheel/);
  });

  test('an XML that no ImageSets list names is not imported, and neither are its labels', async () => {
    const root = writeFiles(temp(), {
      'Annotations/a.xml': xml(object('dog', [1, 1, 5, 5])),
      'Annotations/orphan.xml': xml(object('unicorn', [1, 1, 5, 5])),
      'ImageSets/Main/train.txt': 'a\n',
    });
    const { dataset, messages } = await load(root);
    expect(names(dataset)).toEqual(['dog']);
    expect(messages.map((m) => m.code)).toEqual(['unlisted-annotation']);
  });

  test('Main class lists with a positive line add their class; lists with only -1 do not', async () => {
    const root = writeFiles(temp(), {
      'Annotations/a.xml': xml(object('dog', [1, 1, 5, 5])),
      'ImageSets/Main/train.txt': 'a\n',
      'ImageSets/Main/cat_train.txt': 'a  1\n',
      'ImageSets/Main/aeroplane_train.txt': 'a -1\n',
      'ImageSets/Main/dog_train.txt': 'a  1\n',
      // positive only for an id that train.txt does not list: no item has it
      'ImageSets/Main/horse_train.txt': 'ghost  1\na -1\n',
    });
    const { dataset, messages } = await load(root);
    expect(messages).toEqual([]);
    expect(names(dataset)).toEqual(['cat', 'dog']);
    const labels = dataset.items[0].annotations.filter((x) => x.type === 'label').map((x) => labelName(dataset, x)).sort();
    expect(labels).toEqual(['cat', 'dog']);
  });

  test('segmentation only (palette class masks, no XML): only the Pascal classes the masks use, with Pascal colors', async () => {
    // 4 x 2: cat (8) and person (15), a void pixel, background
    const a = Uint8Array.from([8, 8, 0, 255, 15, 15, 0, 0]);
    const b = Uint8Array.from([15, 15, 15, 15, 0, 0, 0, 0]);
    const root = writeFiles(temp(), {
      'ImageSets/Segmentation/train.txt': 'a\nb\n',
      'SegmentationClass/a.png': encodePalettePng(4, 2, a, VOC_PALETTE),
      'SegmentationClass/b.png': encodePalettePng(4, 2, b, VOC_PALETTE),
      // a mask that is not listed does not add its classes
      'SegmentationClass/c.png': encodePalettePng(4, 2, Uint8Array.from([1, 1, 1, 1, 1, 1, 1, 1]), VOC_PALETTE),
    });
    expect((await detectFormat(root)).name).toBe('voc');
    const { dataset, messages } = await load(root);
    expect(messages).toEqual([]);
    expect(dataset.categories).toEqual([{ name: 'cat', color: [64, 0, 0] }, { name: 'person', color: [192, 128, 128] }]);
    const masks = dataset.items.find((i) => i.id === 'a')!.annotations.filter((x) => x.type === 'mask');
    expect(masks.map((m) => labelName(dataset, m))).toEqual(['cat', 'person']);
  });

  test('grayscale class masks hold Pascal indices: index 8 is cat even though cat is label 0', async () => {
    const root = writeFiles(temp(), {
      'ImageSets/Segmentation/val.txt': 'g\n',
      'SegmentationClass/g.png': await sharp(Buffer.from([8, 8, 0, 12]), { raw: { width: 2, height: 2, channels: 1 } }).toColourspace('b-w').png().toBuffer(),
    });
    const { dataset, messages } = await load(root);
    expect(messages).toEqual([]);
    expect(names(dataset)).toEqual(['cat', 'dog']);
    const masks = dataset.items[0].annotations.filter((x) => x.type === 'mask');
    expect(masks.map((m) => [labelName(dataset, m), m.type === 'mask' && m.left, m.type === 'mask' && m.top])).toEqual([['cat', 0, 0], ['dog', 1, 1]]);
  });

  test('a labelmap.txt still decides the labels, background included, and VOC output keeps background', async () => {
    const root = writeFiles(temp(), {
      'Annotations/a.xml': xml(object('dog', [1, 1, 5, 5])),
      'ImageSets/Main/train.txt': 'a\n',
      'labelmap.txt': '# label:color_rgb:parts:actions\nbackground:0,0,0::\ndog:1,2,3::\ncat:4,5,6::\n',
    });
    const { dataset } = await load(root);
    expect(names(dataset)).toEqual(['background', 'dog', 'cat']);
    const out = path.join(temp(), 'out');
    await convert({ input: root, inputFormat: 'voc', output: out, outputFormat: 'voc' }, createContext());
    expect(fs.readFileSync(path.join(out, 'labelmap.txt'), 'utf8').split('\n').slice(1, 4)).toEqual(['background:0,0,0::', 'dog:1,2,3::', 'cat:4,5,6::']);
  });
});

describe('trainval = train ∪ val', () => {
  test('items of trainval that are in train or val are imported once; the others stay under trainval with a warning', async () => {
    const root = writeFiles(temp(), {
      'Annotations/a.xml': xml(object('dog', [1, 1, 5, 5])),
      'Annotations/b.xml': xml(object('dog', [1, 1, 5, 5])),
      'Annotations/c.xml': xml(object('cat', [1, 1, 5, 5])),
      'Annotations/d.xml': xml(object('cat', [1, 1, 5, 5])),
      'ImageSets/Main/train.txt': 'a\nb\n',
      'ImageSets/Main/val.txt': 'c\n',
      'ImageSets/Main/trainval.txt': 'a\nb\nc\nd\n',
      // a class list only for trainval still labels the train item
      'ImageSets/Main/person_trainval.txt': 'a  1\nb -1\nc -1\nd -1\n',
      // Segmentation's trainval lists b, which only Main's train holds: still not imported twice
      'ImageSets/Segmentation/train.txt': 'a\n',
      'ImageSets/Segmentation/trainval.txt': 'a\nb\n',
    });
    const { dataset, messages } = await load(root);
    expect(dataset.items.map((i) => `${i.subset}/${i.id}`)).toEqual(['train/a', 'train/b', 'trainval/d', 'val/c']);
    expect(dataset.items.flatMap((i) => i.annotations.filter((x) => x.type === 'bbox'))).toHaveLength(4);
    const a = dataset.items.find((i) => i.id === 'a')!;
    expect(a.annotations.filter((x) => x.type === 'label').map((x) => labelName(dataset, x))).toEqual(['person']);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatchObject({ code: 'trainval-not-in-train-or-val', item: 'd', file: path.join(root, 'ImageSets/Main/trainval.txt') });
    expect(messages[0].message).toMatch(/1 item/);
  });

  test('every task folder: Segmentation, Layout and Action trainval lists fold into train/val too', async () => {
    for (const task of ['Segmentation', 'Layout', 'Action']) {
      const root = writeFiles(temp(), {
        'Annotations/a.xml': xml(object('person', [1, 1, 5, 5])),
        'Annotations/b.xml': xml(object('person', [1, 1, 5, 5])),
        [`ImageSets/${task}/train.txt`]: 'a\n',
        [`ImageSets/${task}/val.txt`]: 'b\n',
        [`ImageSets/${task}/trainval.txt`]: 'a\nb\n',
      });
      const { dataset, messages } = await load(root);
      expect(messages, task).toEqual([]);
      expect(dataset.items.map((i) => `${i.subset}/${i.id}`), task).toEqual(['train/a', 'val/b']);
    }
  });

  test('a dataset with only trainval keeps it as its subset, without a warning', async () => {
    const root = writeFiles(temp(), {
      'Annotations/a.xml': xml(object('dog', [1, 1, 5, 5])),
      'ImageSets/Main/trainval.txt': 'a\n',
    });
    const { dataset, messages } = await load(root);
    expect(messages).toEqual([]);
    expect(dataset.items.map((i) => `${i.subset}/${i.id}`)).toEqual(['trainval/a']);
  });
});

describe('no subset is empty', () => {
  test("no ImageSets (devkit) and XMLs at the root (flat layout) are the subset 'default'", async () => {
    const devkit = writeFiles(temp(), { 'Annotations/a.xml': xml(object('dog', [1, 1, 5, 5])), 'JPEGImages/a.jpg': '' });
    expect((await load(devkit)).dataset.items.map((i) => i.subset)).toEqual(['default']);
    const flat = writeFiles(temp(), { 'a.xml': xml(object('dog', [1, 1, 5, 5])), 'a.jpg': '' });
    expect((await load(flat)).dataset.items.map((i) => i.subset)).toEqual(['default']);
  });
});

describe('export: the object box is its grouped bbox', () => {
  test('a bbox and polygons in one group are one <object> with that bbox; each object paints its own instance', async () => {
    // As the COCO importer yields them: each annotation's bbox beside its polygon, same label, same group.
    // The dog's polygon reaches past its COCO bbox (COCO boxes are often tighter than the outline).
    const dataset: MemoryDataset = {
      categories: [{ name: 'person' }, { name: 'dog' }],
      items: [{ id: 'p', subset: 'train', image: { path: '/nowhere/p.jpg', width: 8, height: 4 }, annotations: [
        { type: 'bbox', label: 0, x: 0, y: 0, w: 2, h: 4, group: 1, id: 1 },
        { type: 'polygon', label: 0, points: [0, 0, 2, 0, 2, 4, 0, 4], group: 1, id: 1 },
        // another label in the same group (CVAT groups bundle labels): its own object and instance
        { type: 'bbox', label: 1, x: 4, y: 1, w: 2, h: 2, group: 1, id: 2 },
        { type: 'polygon', label: 1, points: [3, 0, 8, 0, 8, 4, 3, 4], group: 1, id: 2 },
      ] }],
    };
    const out = path.join(temp(), 'out');
    fs.mkdirSync(out);
    const ctx = createContext();
    await plugin.export!({ ...dataset, items: dataset.items }, out, {}, ctx);
    const written = fs.readFileSync(path.join(out, 'Annotations/p.xml'), 'utf8');
    expect(written.match(/<object>/g)).toHaveLength(2);
    expect(written).toContain('<name>dog</name>\n    <truncated>0</truncated>\n    <difficult>0</difficult>\n    <occluded>0</occluded>\n    <bndbox>\n      <xmin>5</xmin>\n      <ymin>2</ymin>\n      <xmax>6</xmax>\n      <ymax>3</ymax>');
    const { data, info } = await sharp(path.join(out, 'SegmentationObject/p.png')).raw().toBuffer({ resolveWithObject: true });
    const instanceAt = (x: number, y: number) => VOC_PALETTE.findIndex((c) => c.every((v, k) => v === data[(y * info.width + x) * info.channels + k]));
    expect([instanceAt(0, 0), instanceAt(1, 3), instanceAt(3, 0), instanceAt(7, 3)]).toEqual([1, 1, 2, 2]);
    // read back: the dog's mask is grouped with the dog's box
    const back = await load(out);
    const item = back.dataset.items[0];
    const dogMask = item.annotations.find((x) => x.type === 'mask' && labelName(back.dataset, x) === 'dog')!;
    const dogBox = item.annotations.find((x) => x.type === 'bbox' && labelName(back.dataset, x) === 'dog')!;
    expect(dogMask.group).toBe(dogBox.group);
  });

  test('a polygon without a box is written to the masks only (VOC objects are boxes), as before', async () => {
    const dataset: MemoryDataset = {
      categories: [{ name: 'cat' }],
      items: [{ id: 'q', subset: 'train', image: { path: '/nowhere/q.jpg', width: 4, height: 4 }, annotations: [
        { type: 'polygon', label: 0, points: [0, 0, 4, 0, 4, 4, 0, 4] },
      ] }],
    };
    const out = path.join(temp(), 'out');
    fs.mkdirSync(out);
    const summary = await plugin.export!({ ...dataset, items: dataset.items }, out, {}, createContext());
    expect(summary.annotations).toEqual({ polygon: 1 });
    expect(fs.readFileSync(path.join(out, 'Annotations/q.xml'), 'utf8')).not.toContain('<object>');
    expect(fs.readFileSync(path.join(out, 'ImageSets/Segmentation/train.txt'), 'utf8')).toBe('q\n');
  });
});

describe('XML with a DOCTYPE', () => {
  const SECRET = 'CANARY_VOC_SECRET_1b2c';
  const laughs = '<!DOCTYPE annotation [<!ENTITY a "xxxxxxxxxx"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>\n';
  function dataset(prolog: string, name = '&c;', layout: 'devkit' | 'flat' = 'devkit'): { root: string; file: string } {
    const base = temp();
    fs.writeFileSync(path.join(base, 'secret.txt'), SECRET);
    const root = path.join(base, 'in');
    const rel = layout === 'devkit' ? 'Annotations/a.xml' : 'train/a.xml';
    writeFiles(root, {
      [rel]: xml(object(name, [1, 1, 5, 5]), `<?xml version="1.0"?>\n<!-- exported by some tool -->\n${prolog}`),
      ...(layout === 'devkit' ? { 'ImageSets/Main/train.txt': 'a\n' } : { 'train/a.jpg': '' }),
    });
    return { root, file: path.join(root, rel) };
  }
  async function refused(root: string, inputFormat: string | undefined): Promise<DatumError> {
    const error = await convert({ input: root, inputFormat, output: path.join(path.dirname(root), 'out'), outputFormat: 'coco' }, createContext()).then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(DatumError);
    return error as DatumError;
  }

  test('detected as VOC past the declaration, comments and a DOCTYPE with entities (flat layout reads the file)', async () => {
    const { root } = dataset(laughs + '<!-- ' + 'padding '.repeat(400) + '-->\n', '&c;', 'flat');
    expect((await plugin.detect!(root))?.confidence).toBe(0.5);
    expect((await detectFormat(root)).name).toBe('voc');
  });

  test.each([
    ['billion laughs', laughs, '&c;', /declares entities/],
    ['an internal entity', '<!DOCTYPE annotation [<!ENTITY d "dog">]>\n', '&d;', /declares entities/],
    ['an external SYSTEM entity', '<!DOCTYPE annotation [<!ENTITY ext SYSTEM "../../secret.txt">]>\n', '&ext;', /external entity \(SYSTEM\)/],
    ['an external PUBLIC entity', '<!DOCTYPE annotation [<!ENTITY ext PUBLIC "-//x//EN" "../../secret.txt">]>\n', '&ext;', /external entity \(PUBLIC\)/],
    ['an external DTD', '<!DOCTYPE annotation SYSTEM "../../secret.txt">\n', 'dog', /external DTD \(SYSTEM\)/],
  ])('%s is refused with a DatumError naming the file and line, with -if voc and with detection', async (_, prolog, name, message) => {
    for (const layout of ['devkit', 'flat'] as const) {
      const { root, file } = dataset(prolog, name, layout);
      for (const inputFormat of ['voc', undefined]) {
        const error = await refused(root, inputFormat);
        expect(error.diagnostic).toMatchObject({ code: 'xml-entity', file, line: 3 });
        expect(error.message).toMatch(message);
        expect(error.message).not.toContain(SECRET);
        expect(error.message).not.toMatch(/xxxxxxxxxxxxxxxxxxxx/);
      }
    }
  });

  test('a DOCTYPE without entities or external ids is read as usual; &amp; and character references still decode', async () => {
    const { root } = dataset('<!DOCTYPE annotation>\n', 'cat &amp; dog &#233;');
    const { dataset: d, messages } = await load(root);
    expect(messages).toEqual([]);
    expect(names(d)).toEqual(['cat & dog é']);
  });
});

describe('symlinks out of the dataset', () => {
  const FILE_LINKS: Record<string, string> = { 'labelmap.txt': 'labelmap.txt', 'ImageSets/Main/car_train.txt': 'train.txt', 'ImageSets/Main/val.txt': 'train.txt', 'Annotations/a.xml': 'a.xml' };
  test.each(['ImageSets/Main', 'ImageSets', 'Annotations', 'JPEGImages', 'SegmentationClass', ...Object.keys(FILE_LINKS)])('%s linked outside is refused, its content never read', async (link) => {
    const base = temp();
    const outside = writeFiles(path.join(base, 'outside'), {
      'train.txt': 'CANARY_LINE\n', 'Main/train.txt': 'CANARY_LINE\n', 'a.xml': xml(object('CANARY_LABEL', [1, 1, 2, 2])),
      'a.jpg': 'CANARY', 'a.png': 'CANARY', 'labelmap.txt': 'CANARY_LABEL:1,2,3::\n',
    });
    const root = writeFiles(path.join(base, 'in'), { 'Annotations/a.xml': xml(object('dog', [1, 1, 5, 5])), 'ImageSets/Main/train.txt': 'a\n' });
    fs.rmSync(path.join(root, link), { recursive: true, force: true });
    fs.mkdirSync(path.dirname(path.join(root, link)), { recursive: true });
    fs.symlinkSync(FILE_LINKS[link] ? path.join(outside, FILE_LINKS[link]) : outside, path.join(root, link));
    const ctx = createContext();
    const error = await importDataset(root, 'voc', {}, ctx).then(({ dataset }) => collect(dataset)).then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(DatumError);
    expect((error as DatumError).diagnostic.code).toBe('unsafe-path');
    expect(JSON.stringify(ctx.reporter.messages)).not.toContain('CANARY');
  });

  test('a symlink that stays inside the dataset is fine', async () => {
    const root = writeFiles(temp(), { 'Annotations/a.xml': xml(object('dog', [1, 1, 5, 5])), 'lists/train.txt': 'a\n' });
    fs.mkdirSync(path.join(root, 'ImageSets'));
    fs.symlinkSync(path.join(root, 'lists'), path.join(root, 'ImageSets/Main'));
    const { dataset, messages } = await load(root);
    expect(messages).toEqual([]);
    expect(dataset.items.map((i) => `${i.subset}/${i.id}`)).toEqual(['train/a']);
  });
});

describe('an image name that is a folder', () => {
  test.each([['<filename> naming a folder', 'sub.jpg'], ['the id-named image being a folder', 'a.jpg']])('%s: a warning, and the item has no image (exporters would copy a folder)', async (_, folder) => {
    const root = writeFiles(temp(), {
      'Annotations/a.xml': xml(object('dog', [1, 1, 5, 5])).replace('<filename>img.jpg</filename>', folder === 'sub.jpg' ? '<filename>sub.jpg</filename>' : ''),
      'ImageSets/Main/train.txt': 'a\n',
    });
    fs.mkdirSync(path.join(root, 'JPEGImages', folder), { recursive: true });
    const ctx = createContext();
    const out = path.join(temp(), 'out');
    const summary = await convert({ input: root, inputFormat: 'voc', output: out, outputFormat: 'coco', exportOptions: { 'save-media': true } }, ctx);
    expect(summary.items).toBe(1);
    expect(ctx.reporter.messages.find((m) => m.code === 'image-not-a-file')).toMatchObject({ item: 'a', file: path.join(root, 'JPEGImages', folder) });
  });
});
