import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { plugin } from '../../formats/cvat/index.js';
import { convert, createContext } from '../../src/pipeline.js';
import { DatumError, Reporter } from '../../src/diagnostics.js';
import type { Dataset, Item } from '../../src/model.js';
import { probeImageSize } from '../../src/media.js';
import { registerFormat } from '../../src/registry.js';
import { scanTopLevel } from '../../formats/cvat/xml.js';
import { ROOT, fixture, tempDir } from '../helpers/corpus.js';
import { materialize } from '../helpers/compare.js';

const temps: string[] = [];
afterAll(() => { for (const dir of temps) fs.rmSync(dir, { recursive: true, force: true }); });

function temp(): string {
  const dir = tempDir('datum-cvat-');
  temps.push(dir);
  return dir;
}

/** Writes an XML file into a fresh folder and returns the folder. */
function writeXml(xml: string, name = 'annotations.xml'): string {
  const dir = temp();
  fs.writeFileSync(path.join(dir, name), xml);
  return dir;
}

async function load(input: string): Promise<{ dataset: Dataset; items: Item[]; reporter: Reporter }> {
  const ctx = createContext();
  const dataset = await plugin.import!(input, {}, ctx);
  const items: Item[] = [];
  for await (const item of dataset.items) items.push(item);
  return { dataset, items, reporter: ctx.reporter };
}

async function loadError(input: string): Promise<DatumError> {
  const error = await load(input).then(() => null, (e: unknown) => e);
  expect(error).toBeInstanceOf(DatumError);
  return error as DatumError;
}

const META = `<meta><task><mode>annotation</mode><labels>
  <label><name>car</name><color>#ff0000</color><attributes>
    <attribute><name>parked</name><input_type>checkbox</input_type><default_value>false</default_value><values>false\ntrue</values></attribute>
    <attribute><name>speed</name><input_type>number</input_type><default_value>0</default_value><values>0\n100\n1</values></attribute>
    <attribute><name>plate</name><input_type>text</input_type><default_value></default_value><values></values></attribute>
  </attributes></label>
  <label><name>person</name><type>skeleton</type><attributes/>
    <svg>&lt;line x1="1" y1="1" x2="2" y2="2" data-type="edge" data-node-from="1" data-node-to="2"&gt;&lt;/line&gt;&lt;line data-type="edge" data-node-from="2" data-node-to="3"&gt;&lt;/line&gt;&lt;circle r="1.5" data-type="element node" data-element-id="1" data-node-id="1" data-label-name="head"&gt;&lt;/circle&gt;&lt;circle data-node-id="2" data-label-name="neck"&gt;&lt;/circle&gt;&lt;circle data-node-id="3" data-label-name="hip"&gt;&lt;/circle&gt;</svg>
  </label>
  <label><name>head</name><type>points</type><parent>person</parent></label>
  <label><name>neck</name><type>points</type><parent>person</parent></label>
  <label><name>hip</name><type>points</type><parent>person</parent></label>
  <label><name>road</name></label>
</labels></task></meta>`;

/** Our own CVAT exports (test/fixtures/cvat/), with the images they name generated. */
const FIXTURE_IMAGES: Record<string, [string, number, number][]> = {
  export_task: [['images/scene_a.jpg', 12, 9], ['images/scene_b.jpg', 16, 12]],
  export_project: ['Train', 'Validation', 'Test'].flatMap((s): [string, number, number][] => [[`images/${s}/scene_a.jpg`, 12, 9], [`images/${s}/scene_b.jpg`, 16, 12]]),
  for_video: [20, 24, 28].map((f): [string, number, number] => [`images/frame_0000${f}.png`, 30, 20]),
};
const cvatFixture = (name: string) => materialize(fixture('cvat', name), FIXTURE_IMAGES[name]);

describe('CVAT for images 1.1 import: task and project exports', () => {
  test('task export (train.xml): subset from the file name, hand-checked shapes', async () => {
    const dir = await cvatFixture('export_task');
    const { dataset, items, reporter } = await load(dir);
    expect(dataset.categories.map((c) => c.name)).toEqual(['vehicle', 'sign']);
    expect(dataset.categories[0].attributes).toEqual([
      { name: 'parked', inputType: 'checkbox', default: 'false', values: ['false', 'true'] },
      { name: 'colour', inputType: 'radio', default: 'red', values: ['red', 'green', 'blue'] },
      { name: 'plate', inputType: 'text', default: 'none', values: ['none'] },
      { name: 'speed', inputType: 'number', default: '0', values: ['0', '120', '0.5'] },
    ]);
    expect(dataset.categories[0].color).toEqual([0x3d, 0x3d, 0xf5]);
    expect(items.map((i) => [i.subset, i.id, i.image?.width, i.image?.height])).toEqual([['train', 'scene_a', 12, 9], ['train', 'scene_b', 16, 12]]);
    expect(items[0].image!.path).toBe(path.join(dir, 'images/scene_a.jpg'));
    // <box xtl="1" ytl="2" xbr="6" ybr="7.5" occluded="1" z_order="1"> with four typed attributes
    expect(items[0].annotations[0]).toEqual({
      type: 'bbox', label: 0, x: 1, y: 2, w: 5, h: 5.5, occluded: true, zOrder: 1,
      attributes: { parked: true, colour: 'blue', plate: 'XY 77', speed: 30.5 },
    });
    // label="" -> kept without a label, one summary warning
    expect(items[0].annotations[1]).toEqual({ type: 'polyline', points: [0.5, 1, 2, 3, 4, 5.25, 6, 8] });
    expect(items[1].annotations).toEqual([
      { type: 'polygon', points: [2, 1, 9, 2, 5, 10], zOrder: 1 },
      { type: 'points', label: 1, points: [1, 1, 3, 4, 15, 11], zOrder: 2 },
    ]);
    const empty = reporter.messages.filter((m) => m.code === 'empty-label');
    expect(empty).toHaveLength(1);
    expect(empty[0]).toMatchObject({ line: 61, message: expect.stringContaining('2 shape(s)') });
  });

  test('project export: subsets from <image subset>, images/<Subset>/, ids restart per subset', async () => {
    const dir = await cvatFixture('export_project');
    const { items, reporter } = await load(dir);
    expect(items.map((i) => `${i.subset}/${i.id}`)).toEqual(['Train/scene_a', 'Train/scene_b', 'Validation/scene_a', 'Validation/scene_b', 'Test/scene_a', 'Test/scene_b']);
    for (const item of items) {
      expect(item.image!.path).toBe(path.join(dir, `images/${item.subset}/${item.id}.jpg`));
      expect(fs.existsSync(item.image!.path)).toBe(true);
    }
    expect(items.map((i) => i.annotations.length)).toEqual([2, 2, 2, 2, 2, 2]);
    // the same names in each subset hold different shapes
    expect(items[2].annotations[1]).toEqual({ type: 'polyline', label: 1, points: [0.5, 1, 2, 3, 4, 5.25, 7, 8] });
    expect(items[5].annotations[0]).toEqual({ type: 'polygon', label: 0, points: [2, 1, 11, 2, 5, 10], zOrder: 1 });
    expect(reporter.messages).toEqual([]);
  });

  test('the XML file itself is accepted as input', async () => {
    const { items } = await load(path.join(await cvatFixture('export_task'), 'train.xml'));
    expect(items).toHaveLength(2);
  });

  test('detector: 0.9 for version 1.1, nothing for other XML', async () => {
    expect((await plugin.detect!(fixture('cvat/export_project')))?.confidence).toBe(0.9);
    expect((await plugin.detect!(fixture('cvat/export_task/train.xml')))?.confidence).toBe(0.9);
    expect((await plugin.detect!(fixture('cvat/for_video')))?.confidence).toBe(0.9);
    expect(await plugin.detect!(writeXml('<annotation><filename>a.jpg</filename></annotation>', 'a.xml'))).toMatchObject({ confidence: 0 });
    expect((await plugin.detect!(writeXml('<?xml version="1.0"?>\n<!-- x -->\n<annotations><image id="0" name="a"/></annotations>')))?.confidence).toBe(0.7);
  });
});

describe('CVAT for images 1.1 import: every shape kind and messy inputs', () => {
  const xml = `<?xml version="1.0" encoding="utf-8"?>
<annotations>
  <version>1.1</version>
  ${META}
  <!-- a comment between images -->
  <image id="0" name="street/a b.jpg" width="100" height="50">
    <box label="car" xtl="10" ytl="20" xbr="30.5" ybr="45" rotation="359.9" occluded="1" group_id="3" source="manual">
      <attribute name="parked">True</attribute>
      <attribute name="speed">42.5</attribute>
      <attribute name="plate"><![CDATA[<0003> & co]]></attribute>
    </box>
    <ellipse label="road" cx="50" cy="25" rx="10" ry="5" rotation="30"/>
    <mask label="road" rle="2, 3, 1" left="4" top="5" width="3" height="2" z_order="-1"/>
    <skeleton label="person" z_order="2">
      <points label="hip" points="5,6" occluded="1"/>
      <points label="head" points="1,2"/>
      <points label="neck" points="3,4" outside="1"/>
    </skeleton>
    <tag label="road"><attribute name="note">a &amp; b &#x41;</attribute></tag>
  </image>
  <image id="1" name="noext" width="7" height="8"/>
</annotations>
`;

  test('box with rotation, ellipse, mask, skeleton in keypoint order, tag, typed attributes', async () => {
    const { dataset, items, reporter } = await load(writeXml(xml));
    expect(reporter.messages).toEqual([]);
    const person = dataset.categories.find((c) => c.name === 'person')!;
    expect(person.keypoints).toEqual(['head', 'neck', 'hip']);
    expect(person.skeleton).toEqual([[0, 1], [1, 2]]);
    expect(dataset.categories.find((c) => c.name === 'neck')?.parent).toBe('person');
    expect(dataset.categories[0].color).toEqual([255, 0, 0]);
    expect(items.map((i) => i.id)).toEqual(['street/a b', 'noext']);
    expect(items[0].subset).toBe('default');
    expect(items[1].image).toMatchObject({ width: 7, height: 8 });
    expect(items[1].image!.path.endsWith('/images/noext')).toBe(true);
    const [box, ellipse, mask, skeleton, tag] = items[0].annotations;
    expect(box).toEqual({ type: 'bbox', label: 0, x: 10, y: 20, w: 20.5, h: 25, rotation: 359.9, occluded: true, group: 3, attributes: { parked: true, speed: 42.5, plate: '<0003> & co' } });
    expect(ellipse).toEqual({ type: 'ellipse', label: 5, cx: 50, cy: 25, rx: 10, ry: 5, rotation: 30 });
    expect(mask).toEqual({ type: 'mask', label: 5, left: 4, top: 5, width: 3, height: 2, rle: [2, 3, 1], zOrder: -1 });
    expect(skeleton).toEqual({ type: 'skeleton', label: 1, points: [1, 2, 3, 4, 5, 6], visibility: [2, 0, 1], zOrder: 2 });
    expect(tag).toEqual({ type: 'label', label: 5, attributes: { note: 'a & b A' } });
  });

  test('CRLF line endings, no <version>, no <meta>: labels from the shapes, lines still right', async () => {
    const messy = [
      '<annotations>',
      '  <image id="0" name="x.png" width="4" height="4">',
      '    <box label="dog" xtl="0" ytl="0" xbr="1" ybr="1"/>',
      '    <polygon label="cat" points="0,0;1,0;1,1"/>',
      '  </image>',
      '  <image id="1" name="y.png" width="4" height="4">',
      '    <box label="cat" xtl="0" ytl="0" xbr="1" ybr="1"/>',
      '  </image>',
      '</annotations>',
    ].join('\r\n');
    const dir = writeXml(messy);
    const { dataset, items, reporter } = await load(dir);
    expect(dataset.categories).toEqual([{ name: 'dog' }, { name: 'cat' }]);
    expect(items.map((i) => i.annotations.length)).toEqual([2, 1]);
    expect(items[0].annotations[1]).toEqual({ type: 'polygon', label: 1, points: [0, 0, 1, 0, 1, 1] });
    expect(reporter.messages.map((m) => m.code)).toEqual(['no-meta']);
    // a coordinate that is not a number is corrupt input: the import stops, naming file, line and element
    const error = await loadError(writeXml(messy.replace('xtl="0" ytl="0" xbr="1" ybr="1"/>\r\n  </image>\r\n</annotations>', 'xtl="zero" ytl="0" xbr="1" ybr="1"/>\r\n  </image>\r\n</annotations>')));
    expect(error.diagnostic).toMatchObject({
      code: 'bad-coordinate', line: 7, item: 'y', element: '<image id="1" name="y.png"> <box>', message: expect.stringContaining('xtl="zero"'),
    });
  });

  test('labels without <type>, duplicate ids across subsets, duplicate item warns; an undeclared label is an error', async () => {
    const xml = `<annotations><version>1.1</version>
<meta><project><labels><label><name>a</name></label></labels></project></meta>
<image id="0" name="same.jpg" subset="Train" width="2" height="2"><box label="a" xtl="0" ytl="0" xbr="1" ybr="1"/></image>
<image id="0" name="same.jpg" subset="Test" width="2" height="2"><box label="a" xtl="0" ytl="0" xbr="1" ybr="1"/></image>
<image id="1" name="same.jpg" subset="Test" width="2" height="2"/>
</annotations>`;
    const dir = writeXml(xml);
    const { items, reporter } = await load(dir);
    expect(items.map((i) => `${i.subset}/${i.id}/${i.annotations.length}`)).toEqual(['Train/same/1', 'Test/same/1']);
    expect(items[0].image!.path).toBe(path.join(dir, 'images/same.jpg')); // no images/Train folder
    expect(reporter.messages.map((m) => [m.code, m.line])).toEqual([['duplicate-item', undefined]]);
    const error = await loadError(writeXml(xml.replace('subset="Test" width="2" height="2"><box label="a"', 'subset="Test" width="2" height="2"><box label="b"')));
    expect(error.diagnostic).toMatchObject({ code: 'unknown-label', line: 4, item: 'same', message: expect.stringContaining("label 'b' is not declared") });
  });

  test('a large-ish file streams in many chunks with correct line numbers', async () => {
    const images = Array.from({ length: 3000 }, (_, i) =>
      `  <image id="${i}" name="img${i}.jpg" width="640" height="480">\n    <box label="car" xtl="${i % 600}" ytl="1" xbr="${(i % 600) + 10}" ybr="11">\n      <attribute name="plate">${'x'.repeat(300)}</attribute>\n    </box>\n  </image>`);
    images[2999] = '  <image id="2999" name="last.jpg" width="640" height="480">\n    <polygon label="car" points="1,2;3"/>\n  </image>';
    const text = `<annotations>\n${META}\n${images.join('\n')}\n</annotations>\n`;
    expect(text.length).toBeGreaterThan(1 << 20); // more than one read chunk
    const dir = writeXml(text);
    const error = await loadError(dir);
    const metaLines = META.split('\n').length;
    expect(error.diagnostic).toMatchObject({ code: 'bad-coordinate', line: 1 + metaLines + 2999 * 5 + 2, item: 'last' });
    const { items } = await load(writeXml(text.replace('points="1,2;3"', 'points="1,2;3,4;5,6"')));
    expect(items).toHaveLength(3000);
    expect(items[1234].annotations[0]).toMatchObject({ type: 'bbox', x: 34, w: 10 });
  });
});

describe('CVAT import: bad inputs', () => {
  test('mismatched tags: DatumError with file and line', async () => {
    const dir = writeXml('<annotations>\n<version>1.1</version>\n<image id="0" name="a.jpg" width="1" height="1">\n<box label="x">\n</image>\n</annotations>');
    const error = await loadError(dir);
    expect(error.diagnostic).toMatchObject({ code: 'malformed-xml', file: path.join(dir, 'annotations.xml'), line: 5 });
    expect(error.message).toContain('<box> opened on line 4');
  });

  test('truncated file: DatumError naming the unclosed element', async () => {
    const dir = writeXml('<annotations>\n<image id="0" name="a.jpg" width="1" height="1">\n<box label="x" xtl="1');
    const error = await loadError(dir);
    expect(error.diagnostic.code).toBe('malformed-xml');
    expect(error.diagnostic.line).toBe(3);
  });

  test('another root element: not-cvat', async () => {
    const error = await loadError(writeXml('<annotation>\n</annotation>'));
    expect(error.diagnostic).toMatchObject({ code: 'not-cvat', line: 1 });
  });

  test('path traversal in an image name: unsafe-path', async () => {
    const dir = writeXml('<annotations>\n<image id="0" name="../../x.jpg" width="1" height="1"/>\n</annotations>');
    const error = await loadError(dir);
    expect(error.diagnostic).toMatchObject({ code: 'unsafe-path', file: path.join(dir, 'annotations.xml'), line: 2 });
    expect(error.diagnostic.element).toContain('../../x.jpg');
    const bySubset = await loadError(writeXml('<annotations>\n<image id="0" name="x.jpg" subset="../.." width="1" height="1"/>\n</annotations>'));
    expect(bySubset.diagnostic).toMatchObject({ code: 'unsafe-path', line: 2, element: 'subset="../.."' });
  });
});

describe('CVAT for video 1.1 import', () => {
  test('tracks become frame_0000NN items; outside shapes are not annotations', async () => {
    const dir = await cvatFixture('for_video');
    const { dataset, items, reporter } = await load(dir);
    expect(reporter.messages).toEqual([]);
    expect(dataset.categories.map((c) => c.name)).toEqual(['walker', 'lane mark x', 'QQ']);
    expect(dataset.categories[0].attributes).toEqual([{ name: 'pace', inputType: 'select', default: 'slow', values: ['slow', 'fast'], mutable: true }]);
    // start_frame 20, stop_frame 28, step=4
    expect(items.map((i) => i.id)).toEqual(['frame_000020', 'frame_000024', 'frame_000028']);
    for (const item of items) {
      expect(item.image).toEqual({ path: path.join(dir, `images/${item.id}.png`), width: 30, height: 20 });
      expect(fs.existsSync(item.image!.path)).toBe(true);
    }
    expect(items[0].annotations).toEqual([
      { type: 'bbox', label: 2, x: 2, y: 3, w: 10.5, h: 6, occluded: true, track: 0 },
      { type: 'points', label: 0, points: [25.1, 4, 3.45, 17.2, 11.75, 2.8], attributes: { pace: 'fast' }, track: 1 },
    ]);
    expect(items[1].annotations).toEqual([
      { type: 'polyline', label: 2, points: [1.25, 18.5, 9, 9.75, 20.4, 1, 28.6, 6.3], track: 2 },
    ]);
    expect(items[2].annotations).toEqual([]);
  });
});

/** Items sorted by subset and id, annotations in a canonical order, image paths relative to images/. */
function canonical(items: Item[], root: string) {
  return items
    .map((item) => ({
      ...item,
      image: item.image && { ...item.image, path: path.relative(root, item.image.path) },
      annotations: [...item.annotations].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
    }))
    .sort((a, b) => `${a.subset}\0${a.id}`.localeCompare(`${b.subset}\0${b.id}`));
}

async function exportTo(dataset: Dataset, options: Record<string, boolean> = {}) {
  const out = temp();
  const ctx = createContext();
  const summary = await plugin.export!(dataset, out, options, ctx);
  return { out, summary, reporter: ctx.reporter, xml: fs.readFileSync(path.join(out, 'annotations.xml'), 'utf8') };
}

describe('CVAT for images 1.1 export', () => {
  for (const name of ['export_task', 'export_project']) {
    test(`${name}: import -> export (--save-media) -> import gives the same dataset`, async () => {
      const dir = await cvatFixture(name);
      const first = await load(dir);
      const { out, summary, xml } = await exportTo({ ...first.dataset, items: first.items }, { 'save-media': true });
      const second = await load(out);
      expect(second.dataset.categories).toEqual(first.dataset.categories);
      expect(canonical(second.items, path.join(out, 'images'))).toEqual(canonical(first.items, path.join(dir, 'images')));
      expect(second.reporter.messages.filter((m) => m.code !== 'empty-label')).toEqual([]);
      for (const item of second.items) expect(fs.existsSync(item.image!.path)).toBe(true);
      expect(summary.items).toBe(first.items.length);
      expect(summary.dropped).toBeUndefined();
      expect(xml.includes('<project>')).toBe(name === 'export_project');
      expect(fs.readdirSync(path.join(out, 'images')).sort()).toEqual(name === 'export_project' ? ['Test', 'Train', 'Validation'] : ['scene_a.jpg', 'scene_b.jpg']);
    });
  }

  test('every shape kind, attributes and skeleton round-trip; the XML holds what CVAT expects', async () => {
    const dir = writeXml(`<annotations><version>1.1</version>${META}
<image id="0" name="street/a b.jpg" width="100" height="50">
  <box label="car" xtl="10.125" ytl="20" xbr="30.5" ybr="45" rotation="359.9" occluded="1" group_id="3" z_order="4">
    <attribute name="parked">true</attribute><attribute name="speed">42.5</attribute><attribute name="plate">"0003" &lt;&amp;&gt;
second line</attribute>
  </box>
  <ellipse label="road" cx="50" cy="25" rx="10" ry="5" rotation="30"/>
  <mask label="road" rle="2, 3, 1" left="4" top="5" width="3" height="2"/>
  <polyline label="road" points="0.1,0.2;3,4"/>
  <points label="head" points="7,8"/>
  <skeleton label="person"><points label="hip" points="5,6" occluded="1"/><points label="head" points="1,2"/></skeleton>
  <tag label="road"/>
  <polygon label="" points="1,1;2,2;3,1"/>
</image></annotations>`);
    const first = await load(dir);
    const { out, xml, summary } = await exportTo({ ...first.dataset, items: first.items });
    expect(summary.annotations).toEqual({ bbox: 1, ellipse: 1, mask: 1, polyline: 1, points: 1, skeleton: 1, label: 1, polygon: 1 });
    expect(xml).toContain('<box label="car" occluded="1" xtl="10.125" ytl="20" xbr="30.5" ybr="45" rotation="359.9" z_order="4" group_id="3">');
    expect(xml).toContain('<mask label="road" occluded="0" rle="2, 3, 1" left="4" top="5" width="3" height="2" z_order="0"/>');
    expect(xml).toContain('<points label="neck" outside="1" occluded="0" points="0,0"/>');
    expect(xml).toContain('data-node-from="1" stroke-width="0.5" data-node-to="2"');
    expect(xml).toContain('<image id="0" name="street/a b.jpg" width="100" height="50">');
    const second = await load(out);
    expect(second.dataset.categories).toEqual(first.dataset.categories);
    expect(canonical(second.items, out)).toEqual(canonical(first.items, dir));
    expect(second.items[0].annotations[0].attributes).toEqual({ parked: true, speed: 42.5, plate: '"0003" <&>\nsecond line' });
  });

  test('captions and normalized items are counted in dropped and warned about; undeclared attributes get declared', async () => {
    const dataset: Dataset = {
      categories: [{ name: 'cat' }],
      items: (async function* () {
        yield { id: 'a', subset: 'train', image: { path: '/nowhere/a.png', width: 10, height: 10 }, annotations: [
          { type: 'caption', caption: 'a cat' },
          { type: 'bbox', label: 0, x: 1, y: 2, w: 3, h: 4, attributes: { truncated: true, score: 0.5, note: 'x' } },
          { type: 'mask', label: 0, left: 3, top: 3, width: 0, height: 0, rle: [] },
        ] } satisfies Item;
        yield { id: 'b', subset: 'val', normalized: true, annotations: [
          { type: 'bbox', label: 0, x: 0.1, y: 0.2, w: 0.3, h: 0.4 }, { type: 'label', label: 0 },
        ] } satisfies Item;
      })(),
    };
    const { out, summary, reporter, xml } = await exportTo(dataset, { 'save-media': true });
    expect(summary).toEqual({ items: 2, annotations: { bbox: 1, label: 1 }, dropped: { caption: 1, 'empty-mask': 1, 'no-image-size': 1 } });
    expect(reporter.messages.map((m) => [m.code, m.item])).toEqual([
      ['annotation-dropped', 'a'], ['annotation-dropped', 'a'], ['missing-image', 'a'], ['no-image-size', 'b'], ['missing-image', 'b'],
    ]);
    expect(xml).toContain('<subsets>train\nval</subsets>');
    expect(xml).toContain('<image id="0" name="b.jpg" subset="val">');
    const back = await load(out);
    expect(back.dataset.categories[0].attributes).toEqual([
      { name: 'truncated', inputType: 'checkbox', mutable: false, values: ['false', 'true'], default: 'false' },
      { name: 'score', inputType: 'number', mutable: false, default: '' },
      { name: 'note', inputType: 'text', mutable: false, default: '' },
    ]);
    expect(back.items[0].annotations).toEqual([{ type: 'bbox', label: 0, x: 1, y: 2, w: 3, h: 4, attributes: { truncated: true, score: 0.5, note: 'x' } }]);
    expect(back.items[1].annotations).toEqual([{ type: 'label', label: 0 }]);
  });
});

describe('CVAT for video 1.1 import: skeleton tracks, images, background frames', () => {
  const xml = `<?xml version="1.0" encoding="utf-8"?>
<annotations>
  <version>1.1</version>
  <meta><task><size>5</size><mode>interpolation</mode><start_frame>0</start_frame><stop_frame>8</stop_frame><frame_filter>step=2</frame_filter>
    <labels>
      <label><name>car</name><attributes><attribute><name>moving</name><mutable>True</mutable><input_type>checkbox</input_type><default_value>false</default_value><values>false\ntrue</values></attribute></attributes></label>
      <label><name>body</name><type>skeleton</type><attributes/><svg>&lt;line data-type="edge" data-node-from="1" data-node-to="2"&gt;&lt;/line&gt;&lt;circle data-node-id="1" data-label-name="a"&gt;&lt;/circle&gt;&lt;circle data-node-id="2" data-label-name="b"&gt;&lt;/circle&gt;</svg></label>
      <label><name>a</name><type>points</type><parent>body</parent></label>
      <label><name>b</name><type>points</type><parent>body</parent></label>
    </labels>
    <original_size><width>64</width><height>48</height></original_size>
  </task></meta>
  <track id="0" label="car" source="manual" group_id="5">
    <box frame="0" keyframe="1" outside="0" occluded="0" xtl="1.00" ytl="2.00" xbr="11.00" ybr="22.00" z_order="1"><attribute name="moving">true</attribute></box>
    <box frame="2" keyframe="1" outside="1" occluded="0" xtl="1.00" ytl="2.00" xbr="11.00" ybr="22.00" z_order="1"><attribute name="moving">false</attribute></box>
  </track>
  <track id="1" label="body" source="manual">
    <skeleton frame="0" keyframe="1" z_order="0">
      <points label="a" keyframe="1" outside="0" occluded="1" points="3.00,4.00"/>
      <points label="b" keyframe="1" outside="1" occluded="0" points="5.00,6.00"/>
    </skeleton>
    <skeleton frame="2" keyframe="1" z_order="0">
      <points label="a" keyframe="1" outside="1" occluded="0" points="3.00,4.00"/>
      <points label="b" keyframe="1" outside="1" occluded="0" points="5.00,6.00"/>
    </skeleton>
    <skeleton frame="4" keyframe="1" z_order="0">
      <points label="a" keyframe="1" outside="0" occluded="0" points="7.50,8.00"/>
      <points label="b" keyframe="1" outside="0" occluded="0" points="9.00,10.00"/>
    </skeleton>
  </track>
  <image id="6" name="frame_000006" width="64" height="48">
    <tag label="car"/>
    <polygon label="car" points="0,0;4,0;4,4" z_order="0"/>
  </image>
</annotations>
`;

  test('frames from tracks and images, in frame order; outside shapes and all-outside skeletons are not annotations', async () => {
    const dir = writeXml(xml);
    fs.mkdirSync(path.join(dir, 'images'));
    for (const name of ['frame_000000.png', 'frame_000004.png', 'frame_000008.jpg', 'frame_000009.png']) fs.writeFileSync(path.join(dir, 'images', name), '');
    const { dataset, items, reporter } = await load(dir);
    expect(dataset.categories.find((c) => c.name === 'body')).toMatchObject({ keypoints: ['a', 'b'], skeleton: [[0, 1]] });
    // 8 has an image but no shapes: a background frame; 9 is outside the task's frame filter.
    expect(items.map((i) => i.id)).toEqual(['frame_000000', 'frame_000002', 'frame_000004', 'frame_000006', 'frame_000008']);
    expect(items.map((i) => path.basename(i.image!.path))).toEqual(['frame_000000.png', 'frame_000002.png', 'frame_000004.png', 'frame_000006', 'frame_000008.jpg']);
    expect(items[0].image).toMatchObject({ width: 64, height: 48 });
    expect(items[0].annotations).toEqual([
      { type: 'bbox', label: 0, x: 1, y: 2, w: 10, h: 20, zOrder: 1, group: 5, attributes: { moving: true }, track: 0 },
      { type: 'skeleton', label: 1, points: [3, 4, 5, 6], visibility: [1, 0], track: 1 },
    ]);
    expect(items[1].annotations).toEqual([]);
    expect(items[2].annotations).toEqual([{ type: 'skeleton', label: 1, points: [7.5, 8, 9, 10], visibility: [2, 2], track: 1 }]);
    expect(items[3].annotations).toEqual([{ type: 'label', label: 0 }, { type: 'polygon', label: 0, points: [0, 0, 4, 0, 4, 4] }]);
    expect(items[4].annotations).toEqual([]);
    expect(reporter.messages).toEqual([]);
    // a track with a label <meta> does not declare stops the import at its line
    const ghost = await loadError(writeXml(xml.replace('</annotations>', '<track id="2" label="ghost"><box frame="4" outside="0" xtl="0" ytl="0" xbr="1" ybr="1"/></track>\n</annotations>')));
    expect(ghost.diagnostic).toMatchObject({ code: 'unknown-label', element: '<track id="2" label="ghost">' });
  });

  test('video -> CVAT for images export keeps every visible shape (track ids cannot be kept: one warning)', async () => {
    const first = await load(await cvatFixture('for_video'));
    const { out, summary, reporter } = await exportTo({ ...first.dataset, items: first.items });
    expect(summary.annotations).toEqual({ bbox: 1, points: 1, polyline: 1 });
    expect(reporter.messages.map((m) => m.code)).toEqual(['track-not-kept']);
    const second = await load(out);
    const withoutTracks = first.items.map((i) => ({ ...i, attributes: undefined, annotations: i.annotations.map(({ track: _, ...a }) => a) }));
    expect(canonical(second.items.map((i) => ({ ...i, attributes: undefined })), out).map((i) => ({ ...i, image: undefined })))
      .toEqual(canonical(withoutTracks, out).map((i) => ({ ...i, image: undefined })));
  });
});

describe('CVAT import: more edge cases', () => {
  test('several XML files in a folder: one subset per file, unrelated XML ignored with a warning', async () => {
    const dir = writeXml(`<annotations><meta><task><labels><label><name>a</name></label></labels></task></meta>
<image id="0" name="x.jpg" width="2" height="2"><box label="a" xtl="0" ytl="0" xbr="1" ybr="1"/></image></annotations>`, 'train.xml');
    fs.writeFileSync(path.join(dir, 'val.xml'), `<annotations><meta><task><labels><label><name>a</name></label><label><name>b</name></label></labels></task></meta>
<image id="0" name="x.jpg" width="2" height="2"><tag label="b"/></image></annotations>`);
    fs.writeFileSync(path.join(dir, 'x.xml'), '<annotation><object/></annotation>');
    const { dataset, items, reporter } = await load(dir);
    expect(dataset.categories.map((c) => c.name)).toEqual(['a', 'b']);
    expect(items.map((i) => `${i.subset}/${i.id}:${i.annotations.map((a) => a.type)}`)).toEqual(['train/x:bbox', 'val/x:label']);
    expect(reporter.messages.map((m) => [m.severity, m.code, path.basename(m.file!)])).toEqual([['warning', 'not-cvat', 'x.xml']]);
  });

  test('one systematic problem in a big file gives 50 warnings and a count, not one per shape', async () => {
    const shapes = '<cuboid label="car" xtl1="0"/>\n'.repeat(80);
    const { items, reporter } = await load(writeXml(`<annotations>${META}\n<image id="0" name="a.jpg" width="2" height="2">\n${shapes}</image></annotations>`));
    expect(items[0].annotations).toEqual([]);
    expect(reporter.messages).toHaveLength(51);
    expect(reporter.messages[50]).toMatchObject({ code: 'unsupported-shape', message: expect.stringContaining('30 more') });
  });

  test('an empty <annotations/> is an empty dataset; an empty file is an error', async () => {
    const { items } = await load(writeXml('<?xml version="1.0"?>\n<annotations/>\n'));
    expect(items).toEqual([]);
    expect((await loadError(writeXml(''))).diagnostic.code).toBe('malformed-xml');
  });

  test('an unclosed quote is reported at the line of its tag', async () => {
    const error = await loadError(writeXml('<annotations>\n<image id="0" name="a.jpg\n width="1" height="1">\n</image>\n</annotations>\n'));
    expect(error.diagnostic).toMatchObject({ code: 'malformed-xml', line: 2 });
  });

  test('bad mask, skeleton point of another skeleton and an unsupported <cuboid> warn and skip only that shape', async () => {
    const dir = writeXml(`<annotations>${META}
<image id="0" name="a.jpg" width="9" height="9">
<mask label="road" rle="1, 99" left="0" top="0" width="2" height="2"/>
<skeleton label="person"><points label="elbow" points="1,1"/></skeleton>
<cuboid label="car" xtl1="0"/>
<box label="car" xtl="1" ytl="1" xbr="2" ybr="2"/>
</image></annotations>`);
    const { items, reporter } = await load(dir);
    const imageLine = META.split('\n').length + 1;
    expect(items[0].annotations.map((a) => a.type)).toEqual(['bbox']);
    expect(reporter.messages.map((m) => [m.code, m.line, m.element])).toEqual([
      ['bad-mask', imageLine + 1, '<image id="0" name="a.jpg"> <mask>'],
      ['unknown-keypoint', imageLine + 2, '<image id="0" name="a.jpg"> <skeleton>'],
      ['unsupported-shape', imageLine + 3, '<image id="0" name="a.jpg"> <cuboid>'],
    ]);
  });
});

describe('CVAT export: image sizes', () => {
  test('an item without a size gets it from its image file (CVAT needs width and height)', async () => {
    const image = path.join(await cvatFixture('export_task'), 'images/scene_b.jpg');
    const size = await probeImageSize(image);
    expect(size).not.toBeNull();
    const { xml, reporter } = await exportTo({ categories: [], items: [{ id: 'img1', subset: '', image: { path: image }, annotations: [] }] });
    expect(xml).toContain(`<image id="0" name="img1.jpg" width="${size!.width}" height="${size!.height}">`);
    expect(reporter.messages).toEqual([]);
  });
});

describe('CVAT export: escaping', () => {
  test('names with quotes, ampersands, newlines and unicode, and an attribute called __proto__, survive a round trip', async () => {
    const items: Item[] = [
      { id: 'dir/ü "q" & <x>', subset: 'my set', image: { path: '/none/a.png', width: 5, height: 6 }, annotations: [
        { type: 'bbox', label: 0, x: 0.1, y: 0.2, w: 1e-7, h: 3, attributes: { ['__proto__']: 'p', 'multi\nline': 'a\r\nb\tc' } },
      ] },
      { id: 'b', subset: 'other', annotations: [{ type: 'label', label: 0 }] },
    ];
    const dataset: Dataset = { categories: [{ name: 'a "b" & <c>\nd', attributes: [{ name: '__proto__', inputType: 'text' }, { name: 'multi\nline', inputType: 'text' }] }], items };
    const { out } = await exportTo(dataset);
    const back = await load(out);
    expect(back.dataset.categories[0].name).toBe('a "b" & <c>\nd');
    expect(back.items.map((i) => [i.subset, i.id])).toEqual([['my set', 'dir/ü "q" & <x>'], ['other', 'b']]);
    const box = back.items[0].annotations[0];
    expect(box).toMatchObject({ type: 'bbox', label: 0, x: 0.1, y: 0.2, w: expect.closeTo(1e-7, 12), h: 3 });
    expect(Object.getPrototypeOf(box.attributes)).toBe(Object.prototype);
    expect(Object.entries(box.attributes!)).toEqual([['__proto__', 'p'], ['multi\nline', 'a\r\nb\tc']]);
  });
});

describe('CVAT export: characters XML cannot hold', () => {
  test('control characters in label and attribute names become U+FFFD, so CVAT and Datumaro can parse the file', async () => {
    const dataset: Dataset = { categories: [{ name: 'a\u0001b' }], items: [
      { id: 'x', subset: '', image: { path: '/none/x.png', width: 5, height: 5 }, annotations: [{ type: 'bbox', label: 0, x: 1, y: 1, w: 1, h: 1, attributes: { 'q\u0002': 'v\u001b' } }] },
    ] };
    const { out, xml } = await exportTo(dataset);
    expect(xml).not.toMatch(/[\u0000-\u0008\u000B\u000C\u000E-\u001F]/);
    const back = await load(out);
    expect(back.dataset.categories[0].name).toBe('a\uFFFDb');
    expect(back.items[0].annotations).toEqual([{ type: 'bbox', label: 0, x: 1, y: 1, w: 1, h: 1, attributes: { 'q\uFFFD': 'v\uFFFD' } }]);
  });
});

describe('CVAT export: labels with a parent that is not a skeleton', () => {
  test('VOC-style parts keep their parent and do not turn the parent into a skeleton on the way back', async () => {
    const annotations: Item['annotations'] = [{ type: 'bbox', label: 0, x: 1, y: 1, w: 5, h: 5 }, { type: 'bbox', label: 1, x: 2, y: 2, w: 1, h: 1 }];
    const { out } = await exportTo({ categories: [{ name: 'person' }, { name: 'head', parent: 'person' }], items: [
      { id: 'x', subset: '', image: { path: '/none/x.png', width: 9, height: 9 }, annotations },
    ] });
    const back = await load(out);
    expect(back.dataset.categories).toEqual([{ name: 'person' }, { name: 'head', parent: 'person' }]);
    expect(back.items[0].annotations).toEqual(annotations);
  });

  test('an untyped parent (older exports) still gets its sub-labels as keypoints', async () => {
    const dir = writeXml(`<annotations><meta><task><labels><label><name>s</name></label><label><name>p</name><parent>s</parent></label></labels></task></meta></annotations>`);
    const { dataset } = await load(dir);
    expect(dataset.categories[0]).toEqual({ name: 's', keypoints: ['p'] });
  });
});

describe('CVAT import: labels taken from the shapes', () => {
  test('a <meta> without <labels> takes the labels from the shapes instead of skipping every shape', async () => {
    const dir = writeXml(`<annotations><meta><task><name>t</name><mode>annotation</mode></task></meta>
<image id="0" name="a.jpg" width="10" height="10"><box label="c" xtl="1" ytl="2" xbr="3" ybr="5"/></image></annotations>`);
    const { dataset, items, reporter } = await load(dir);
    expect(dataset.categories).toEqual([{ name: 'c' }]);
    expect(items[0].annotations).toEqual([{ type: 'bbox', label: 0, x: 1, y: 2, w: 2, h: 3 }]);
    expect(reporter.messages.map((m) => [m.code, m.element])).toEqual([['no-labels', '<meta>']]);
  });

  test('without <meta>, skeleton keypoints come from the <points> of the skeleton shapes', async () => {
    const dir = writeXml(`<annotations>
<image id="0" name="a.jpg" width="10" height="10"><skeleton label="s"><points label="p2" points="2,2"/><points label="p1" points="1,1" occluded="1"/></skeleton></image>
</annotations>`);
    const { dataset, items, reporter } = await load(dir);
    expect(dataset.categories).toEqual([{ name: 's', keypoints: ['p2', 'p1'] }, { name: 'p2', parent: 's' }, { name: 'p1', parent: 's' }]);
    expect(items[0].annotations).toEqual([{ type: 'skeleton', label: 0, points: [2, 2, 1, 1], visibility: [2, 1] }]);
    expect(reporter.messages.map((m) => m.code)).toEqual(['no-meta']);
  });
});

describe('CVAT import: image names without extension', () => {
  test('<image name="frame_000003"> finds images/frame_000003.png, as CVAT exports the frames of a video task', async () => {
    const dir = writeXml(`<annotations>
<image id="3" name="frame_000003" width="4" height="4"/><image id="4" name="0004" width="4" height="4"/><image id="5" name="sub/0005" width="4" height="4"/>
</annotations>`);
    fs.mkdirSync(path.join(dir, 'images', 'sub'), { recursive: true });
    for (const name of ['frame_000003.png', '0004', 'sub/0005.jpg']) fs.writeFileSync(path.join(dir, 'images', name), '');
    const { items } = await load(dir);
    expect(items.map((i) => [i.id, path.relative(dir, i.image!.path)])).toEqual([
      ['frame_000003', 'images/frame_000003.png'], ['0004', 'images/0004'], ['sub/0005', 'images/sub/0005.jpg'],
    ]);
  });
});

describe('CVAT import: project with a video task', () => {
  test('two tasks of one subset reuse <image id="0">: two items, not one frame with both boxes', async () => {
    const dir = writeXml(`<annotations><version>1.1</version><meta><project><labels><label><name>c</name></label></labels><tasks>
<task><id>1</id><mode>interpolation</mode><subset>Train</subset></task><task><id>2</id><mode>annotation</mode><subset>Train</subset></task></tasks></project></meta>
<image id="0" name="frame_000000" subset="Train" task_id="1" width="10" height="10"><box label="c" xtl="1" ytl="1" xbr="2" ybr="2"/></image>
<image id="0" name="cat.jpg" subset="Train" task_id="2" width="20" height="20"><box label="c" xtl="3" ytl="3" xbr="4" ybr="4"/></image>
</annotations>`);
    const { items } = await load(dir);
    expect(items.map((i) => [i.id, i.image!.width, i.annotations.map((a) => (a.type === 'bbox' ? a.x : -1))])).toEqual([
      ['frame_000000', 10, [1]], ['cat', 20, [3]],
    ]);
  });
});

describe('CVAT import: messy <meta>', () => {
  test('a skeleton-typed label that has a parent itself warns instead of crashing', async () => {
    const dir = writeXml(`<annotations><meta><task><labels>
<label><name>s</name><type>skeleton</type><parent>x</parent><svg>&lt;circle data-node-id="1" data-label-name="a"&gt;&lt;/circle&gt;</svg></label>
<label><name>c</name></label></labels></task></meta>
<image id="0" name="a.jpg" width="4" height="4"><tag label="c"/></image></annotations>`);
    const { dataset, items, reporter } = await load(dir);
    expect(dataset.categories.map((c) => [c.name, c.parent])).toEqual([['s', 'x'], ['c', undefined]]);
    expect(items[0].annotations).toEqual([{ type: 'label', label: 1 }]);
    expect(reporter.messages.map((m) => m.code)).toEqual(['unknown-parent']);
  });
});

describe('CVAT import: unreadable XML', () => {
  test('a folder named *.xml beside the annotations is not read; a read error names the file', async () => {
    const dir = writeXml('<annotations><image id="0" name="a.jpg" width="4" height="4"/></annotations>');
    fs.mkdirSync(path.join(dir, 'backup.xml'));
    const { items } = await load(dir);
    expect(items.map((i) => i.id)).toEqual(['a']);
    // A read error inside the scanner (EISDIR here; EACCES for a file without permission) names the file.
    const error = await (async () => { for await (const _ of scanTopLevel(path.join(dir, 'backup.xml'))) { /* nothing */ } })().then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(DatumError);
    expect((error as DatumError).diagnostic).toMatchObject({ code: 'unreadable', file: path.join(dir, 'backup.xml') });
  });
});

describe('CVAT through the core convert', () => {
  registerFormat(plugin); // only this plugin: other formats' work in progress cannot break this test
  test('the committed sample project converts cvat -> cvat with --save-media: same items, images in images/<Subset>/', async () => {
    const input = path.join(ROOT, 'samples/cvat_dataset');
    const output = path.join(temp(), 'out');
    const ctx = createContext();
    const result = await convert({ input, inputFormat: 'cvat', output, outputFormat: 'cvat', exportOptions: { 'save-media': true } }, ctx);
    expect(result).toMatchObject({ items: 6, annotations: { bbox: 10 }, inputFormat: 'cvat', outputFormat: 'cvat' });
    expect(ctx.reporter.messages).toEqual([]);
    const before = await load(input);
    const after = await load(output);
    expect(after.items.map((i) => `${i.subset}/${i.id}`)).toEqual(before.items.map((i) => `${i.subset}/${i.id}`));
    expect(canonical(after.items, path.join(output, 'images'))).toEqual(canonical(before.items, path.join(input, 'images')));
    for (const item of after.items) expect(fs.statSync(item.image!.path).size).toBe(fs.statSync(path.join(input, 'images', path.relative(path.join(output, 'images'), item.image!.path))).size);
  });
});
