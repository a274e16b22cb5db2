/**
 * CVAT exports as CVAT itself writes them (issue 7): CVAT for video of image and video tasks, frame
 * steps, both skeleton track layouts, project exports with several video tasks per subset, text
 * attributes, and XML with a <!DOCTYPE>. Fixtures are written by the tests, in CVAT's shapes.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import '../../formats/index.js';
import { plugin } from '../../formats/cvat/index.js';
import { convert, createContext, detectFormats } from '../../src/pipeline.js';
import { DatumError, Reporter } from '../../src/diagnostics.js';
import type { Dataset, Item } from '../../src/model.js';
import { tempDir } from '../helpers/corpus.js';

const temps: string[] = [];
afterAll(() => { for (const dir of temps) fs.rmSync(dir, { recursive: true, force: true }); });

function temp(): string {
  const dir = tempDir('datum-cvat-real-');
  temps.push(dir);
  return dir;
}

function writeXml(xml: string, images: string[] = []): string {
  const dir = temp();
  fs.writeFileSync(path.join(dir, 'annotations.xml'), xml);
  for (const image of images) {
    fs.mkdirSync(path.dirname(path.join(dir, 'images', image)), { recursive: true });
    fs.writeFileSync(path.join(dir, 'images', image), '');
  }
  return dir;
}

async function load(input: string): Promise<{ dataset: Dataset; items: Item[]; reporter: Reporter }> {
  const ctx = createContext();
  const dataset = await plugin.import!(input, {}, ctx);
  const items: Item[] = [];
  for await (const item of dataset.items) items.push(item);
  return { dataset, items, reporter: ctx.reporter };
}

async function failure(promise: Promise<unknown>): Promise<DatumError> {
  const error = await promise.then(() => null, (e: unknown) => e);
  expect(error).toBeInstanceOf(DatumError);
  return error as DatumError;
}

/** A CVAT for video task export's head, as CVAT's dump_as_cvat_interpolation writes it. */
function videoTask(o: { mode: string; size: number; start: number; stop: number; step?: number; labels?: string }): string {
  return `<?xml version="1.0" encoding="utf-8"?>
<annotations>
  <version>1.1</version>
  <meta>
    <task>
      <id>7</id>
      <name>street</name>
      <size>${o.size}</size>
      <mode>${o.mode}</mode>
      <overlap>0</overlap>
      <start_frame>${o.start}</start_frame>
      <stop_frame>${o.stop}</stop_frame>
      <frame_filter>${o.step ? `step=${o.step}` : ''}</frame_filter>
      <labels>
        ${o.labels ?? '<label><name>car</name><type>rectangle</type><attributes></attributes></label>'}
      </labels>
      <original_size>
        <width>640</width>
        <height>480</height>
      </original_size>
    </task>
    <dumped>2024-01-01 00:00:00.000000+00:00</dumped>
  </meta>
`;
}

const carTrack = (frame: number, next: number) => `  <track id="0" label="car" source="manual">
    <box frame="${frame}" keyframe="1" outside="0" occluded="0" xtl="1.00" ytl="2.00" xbr="11.00" ybr="22.00" z_order="0">
    </box>
    <box frame="${next}" keyframe="1" outside="1" occluded="0" xtl="1.00" ytl="2.00" xbr="11.00" ybr="22.00" z_order="0">
    </box>
  </track>
`;

describe('CVAT for video: every frame of the task is an item', () => {
  test('an image task (mode annotation) exported as CVAT for video: empty frames are items too', async () => {
    const dir = writeXml(videoTask({ mode: 'annotation', size: 5, start: 0, stop: 4 }) + carTrack(1, 2) + carTrack(3, 4) + '</annotations>\n');
    const { items, reporter } = await load(dir);
    expect(reporter.messages).toEqual([]);
    expect(items.map((i) => [i.id, i.subset, i.attributes?.frame, i.image?.width, i.image?.height, i.annotations.length])).toEqual([
      ['frame_000000', 'default', 0, 640, 480, 0],
      ['frame_000001', 'default', 1, 640, 480, 1],
      ['frame_000002', 'default', 2, 640, 480, 0],
      ['frame_000003', 'default', 3, 640, 480, 1],
      ['frame_000004', 'default', 4, 640, 480, 0],
    ]);
    expect(items[1].annotations[0]).toEqual({ type: 'bbox', label: 0, x: 1, y: 2, w: 10, h: 20, track: 0 });
  });

  test('a task without any shape still has all its frames', async () => {
    const { items } = await load(writeXml(videoTask({ mode: 'interpolation', size: 3, start: 0, stop: 2 }) + '</annotations>\n'));
    expect(items.map((i) => i.id)).toEqual(['frame_000000', 'frame_000001', 'frame_000002']);
  });

  test('frame step: start 10, stop 19, step 3 is frames 10, 13, 16 and 19, the last one included', async () => {
    // CVAT exported the images of 10, 13 and 16 only; 19 is still a frame of the task.
    const dir = writeXml(videoTask({ mode: 'interpolation', size: 4, start: 10, stop: 19, step: 3 }) + carTrack(10, 13) + '</annotations>\n',
      ['frame_000010.png', 'frame_000013.png', 'frame_000016.png']);
    const { items, reporter } = await load(dir);
    expect(reporter.messages).toEqual([]);
    expect(items.map((i) => i.id)).toEqual(['frame_000010', 'frame_000013', 'frame_000016', 'frame_000019']);
    expect(items.map((i) => path.relative(dir, i.image!.path))).toEqual(['images/frame_000010.png', 'images/frame_000013.png', 'images/frame_000016.png', 'images/frame_000019.png']);
    expect(items.map((i) => i.annotations.length)).toEqual([1, 0, 0, 0]);
  });

  test('a stop_frame past the last step (stop 20, step 3) gives the same 4 frames', async () => {
    const { items, reporter } = await load(writeXml(videoTask({ mode: 'interpolation', size: 4, start: 10, stop: 20, step: 3 }) + '</annotations>\n'));
    expect(reporter.messages).toEqual([]);
    expect(items.map((i) => i.attributes?.frame)).toEqual([10, 13, 16, 19]);
  });

  test('a <size> that disagrees with the range warns; an absurd range is not made up frame by frame', async () => {
    const odd = await load(writeXml(videoTask({ mode: 'interpolation', size: 9, start: 0, stop: 3 }) + '</annotations>\n'));
    expect(odd.items).toHaveLength(4);
    expect(odd.reporter.messages.map((m) => m.code)).toEqual(['bad-frame-range']);
    const huge = await load(writeXml(videoTask({ mode: 'interpolation', size: 1, start: 0, stop: 999999999999 }) + carTrack(5, 6) + '</annotations>\n'));
    expect(huge.items.map((i) => i.id)).toEqual(['frame_000005', 'frame_000006']);
    expect(huge.reporter.messages.map((m) => m.code)).toEqual(['bad-frame-range', 'bad-frame-range']);
  });
});

const SKELETON_LABELS = `<label><name>triangle</name><type>skeleton</type><attributes></attributes>
          <svg>&lt;line data-type="edge" data-node-from="1" data-node-to="2"&gt;&lt;/line&gt;&lt;circle data-node-id="1" data-label-name="1"&gt;&lt;/circle&gt;&lt;circle data-node-id="2" data-label-name="2"&gt;&lt;/circle&gt;&lt;circle data-node-id="3" data-label-name="3"&gt;&lt;/circle&gt;</svg></label>
        <label><name>1</name><type>points</type><attributes></attributes><parent>triangle</parent></label>
        <label><name>2</name><type>points</type><attributes></attributes><parent>triangle</parent></label>
        <label><name>3</name><type>points</type><attributes></attributes><parent>triangle</parent></label>`;

describe('CVAT for video: skeleton tracks in both layouts', () => {
  // CVAT 2.2 writes one <track> per keypoint inside the skeleton's track (cvat-ai/cvat#5387).
  const nested = `  <track id="0" label="triangle" type="skeleton" source="manual">
    <track id="0" label="1" source="manual">
      <points frame="0" outside="0" occluded="0" keyframe="1" points="91.30,52.60" z_order="0"/>
      <points frame="1" outside="1" occluded="0" keyframe="1" points="91.30,52.60" z_order="0"/>
      <points frame="2" outside="0" occluded="0" keyframe="1" points="10.00,11.00" z_order="0"/>
    </track>
    <track id="1" label="2" source="manual">
      <points frame="0" outside="0" occluded="1" keyframe="1" points="211.09,47.14" z_order="0"/>
      <points frame="1" outside="1" occluded="0" keyframe="1" points="211.09,47.14" z_order="0"/>
      <points frame="2" outside="0" occluded="0" keyframe="1" points="12.00,13.00" z_order="0"/>
    </track>
    <track id="2" label="3" source="manual">
      <points frame="0" outside="0" occluded="0" keyframe="1" points="190.75,158.98" z_order="0"/>
      <points frame="1" outside="1" occluded="0" keyframe="1" points="190.75,158.98" z_order="0"/>
    </track>
  </track>
`;

  test('nested <track> per keypoint: one skeleton per frame, all-outside frames have none, a missing keypoint is absent', async () => {
    const dir = writeXml(videoTask({ mode: 'interpolation', size: 3, start: 0, stop: 2, labels: SKELETON_LABELS }) + nested + '</annotations>\n');
    const { dataset, items, reporter } = await load(dir);
    expect(reporter.messages).toEqual([]);
    expect(dataset.categories[0]).toMatchObject({ name: 'triangle', keypoints: ['1', '2', '3'] });
    expect(items.map((i) => i.id)).toEqual(['frame_000000', 'frame_000001', 'frame_000002']);
    expect(items[0].annotations).toEqual([{ type: 'skeleton', label: 0, points: [91.3, 52.6, 211.09, 47.14, 190.75, 158.98], visibility: [2, 1, 2], track: 0 }]);
    expect(items[1].annotations).toEqual([]);
    expect(items[2].annotations).toEqual([{ type: 'skeleton', label: 0, points: [10, 11, 12, 13, 0, 0], visibility: [2, 2, 0], track: 0 }]);
  });

  test('<skeleton frame> with <points> children (CVAT 2.3+) and both layouts in one track merge by frame', async () => {
    const mixed = `  <track id="4" label="triangle" source="manual">
    <skeleton frame="0" keyframe="1" z_order="0">
      <points label="1" keyframe="1" outside="0" occluded="0" points="1.00,2.00"/>
    </skeleton>
    <track id="5" label="2" source="manual">
      <points frame="0" outside="0" occluded="0" keyframe="1" points="3.00,4.00" z_order="0"/>
    </track>
  </track>
`;
    const { items, reporter } = await load(writeXml(videoTask({ mode: 'interpolation', size: 1, start: 0, stop: 0, labels: SKELETON_LABELS }) + mixed + '</annotations>\n'));
    expect(reporter.messages).toEqual([]);
    expect(items.map((i) => i.annotations)).toEqual([[{ type: 'skeleton', label: 0, points: [1, 2, 3, 4, 0, 0], visibility: [2, 2, 0], track: 4 }]]);
  });

  test('without <meta>, the nested tracks name the keypoints (not top-level labels)', async () => {
    const xml = `<annotations>\n${nested}</annotations>\n`;
    const { dataset, items } = await load(writeXml(xml));
    expect(dataset.categories.map((c) => [c.name, c.parent, c.keypoints])).toEqual([
      ['triangle', undefined, ['1', '2', '3']], ['1', 'triangle', undefined], ['2', 'triangle', undefined], ['3', 'triangle', undefined],
    ]);
    expect(items.flatMap((i) => i.annotations).map((a) => a.type)).toEqual(['skeleton', 'skeleton']);
  });
});

/** A CVAT for video project export: each track names its task and subset. */
function videoProject(tasks: { id: number; name: string; subset: string }[], tracks: string): string {
  return `<?xml version="1.0" encoding="utf-8"?>
<annotations>
  <version>1.1</version>
  <meta>
    <project>
      <id>1</id>
      <name>videos</name>
      <labels>
        <label><name>car</name><type>rectangle</type><attributes></attributes></label>
      </labels>
      <subsets>Train\nValidation</subsets>
      <tasks>
${tasks.map((t) => `        <task>
          <id>${t.id}</id>
          <name>${t.name}</name>
          <size>2</size>
          <mode>interpolation</mode>
          <start_frame>0</start_frame>
          <stop_frame>1</stop_frame>
          <frame_filter></frame_filter>
          <subset>${t.subset}</subset>
          <original_size><width>${100 * t.id}</width><height>50</height></original_size>
        </task>`).join('\n')}
      </tasks>
    </project>
  </meta>
${tracks}</annotations>
`;
}

const projectTrack = (id: number, task: number, subset: string, x: number) => `  <track id="${id}" label="car" source="manual" task_id="${task}" subset="${subset}">
    <box frame="0" keyframe="1" outside="0" occluded="0" xtl="${x}.00" ytl="2.00" xbr="${x + 10}.00" ybr="22.00" z_order="0"></box>
    <box frame="1" keyframe="1" outside="1" occluded="0" xtl="${x}.00" ytl="2.00" xbr="${x + 10}.00" ybr="22.00" z_order="0"></box>
  </track>
`;

describe('CVAT for video project: several video tasks in one subset', () => {
  const tracks = projectTrack(0, 1, 'Train', 1) + projectTrack(1, 2, 'Train', 5) + projectTrack(2, 3, 'Validation', 9);
  const xml = videoProject([{ id: 1, name: 'walk', subset: 'Train' }, { id: 2, name: 'run', subset: 'Train' }, { id: 3, name: 'val video', subset: 'Validation' }], tracks);

  test('frames are <task name>/frame_NNNNNN, each task with its own shapes and frame size; a lone task keeps frame_NNNNNN', async () => {
    const { items, reporter } = await load(writeXml(xml));
    expect(items.map((i) => [i.subset, i.id, i.image?.width, i.annotations.map((a) => (a.type === 'bbox' ? a.x : -1))])).toEqual([
      ['Validation', 'frame_000000', 300, [9]],
      ['Validation', 'frame_000001', 300, []],
      ['Train', 'walk/frame_000000', 100, [1]],
      ['Train', 'walk/frame_000001', 100, []],
      ['Train', 'run/frame_000000', 200, [5]],
      ['Train', 'run/frame_000001', 200, []],
    ]);
    expect(reporter.messages.map((m) => [m.severity, m.code])).toEqual([['info', 'task-frames']]);
  });

  test('tasks without names, or with the same name, are task_<id>', async () => {
    const same = videoProject([{ id: 1, name: 'clip', subset: 'Train' }, { id: 2, name: 'clip', subset: 'Train' }], projectTrack(0, 1, 'Train', 1) + projectTrack(1, 2, 'Train', 5));
    const { items } = await load(writeXml(same));
    expect(items.map((i) => i.id)).toEqual(['task_1/frame_000000', 'task_1/frame_000001', 'task_2/frame_000000', 'task_2/frame_000001']);
  });

  test('the ids round-trip through CVAT for images: same items, same boxes', async () => {
    const first = await load(writeXml(xml));
    expect(first.items).toHaveLength(6);
    const out = temp();
    await plugin.export!({ ...first.dataset, items: first.items }, out, {}, createContext());
    const second = await load(out);
    const key = (items: Item[]) => items.map((i) => [i.subset, i.id, i.annotations.map((a) => (a.type === 'bbox' ? [a.x, a.y, a.w, a.h] : a.type))])
      .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
    expect(key(second.items)).toEqual(key(first.items));
  });

  test('a CVAT for images project export of two video tasks in one subset: <image task_id> keeps them apart too', async () => {
    const images = videoProject([{ id: 1, name: 'walk', subset: 'Train' }, { id: 2, name: 'run', subset: 'Train' }], `  <image id="0" name="frame_000000" subset="Train" task_id="1" width="100" height="50"><box label="car" xtl="1" ytl="1" xbr="2" ybr="2"/></image>
  <image id="1" name="frame_000001" subset="Train" task_id="1" width="100" height="50"></image>
  <image id="0" name="frame_000000" subset="Train" task_id="2" width="200" height="50"><box label="car" xtl="3" ytl="3" xbr="4" ybr="4"/></image>
  <image id="1" name="frame_000001" subset="Train" task_id="2" width="200" height="50"></image>
`);
    const { items, reporter } = await load(writeXml(images));
    expect(reporter.messages.filter((m) => m.severity === 'warning')).toEqual([]);
    expect(items.map((i) => [i.id, i.image?.width, i.annotations.length])).toEqual([
      ['walk/frame_000000', 100, 1], ['walk/frame_000001', 100, 0], ['run/frame_000000', 200, 1], ['run/frame_000001', 200, 0],
    ]);
  });
});

describe('CVAT attributes: only list-typed attributes are lists', () => {
  const xml = `<?xml version="1.0" encoding="utf-8"?>
<annotations>
  <version>1.1</version>
  <meta><task><name>t</name><mode>annotation</mode><labels>
    <label><name>car</name><attributes>
      <attribute><name>note</name><mutable>False</mutable><input_type>text</input_type><default_value>a b c</default_value><values>a b c</values></attribute>
      <attribute><name>color</name><mutable>False</mutable><input_type>select</input_type><default_value>dark red</default_value><values>dark red\nlight blue</values></attribute>
      <attribute><name>size</name><mutable>False</mutable><input_type>radio</input_type><default_value>s</default_value><values>s m l</values></attribute>
    </attributes></label>
  </labels></task></meta>
  <image id="0" name="a.jpg" width="10" height="10">
    <box label="car" occluded="0" xtl="1" ytl="1" xbr="2" ybr="2" z_order="0">
      <attribute name="note">a b c</attribute>
      <attribute name="color">light blue</attribute>
      <attribute name="size">m</attribute>
    </box>
  </image>
</annotations>
`;

  test('a text attribute with spaces stays one string, in the spec and on the shape, and is written back as it was', async () => {
    const { dataset, items } = await load(writeXml(xml));
    expect(dataset.categories[0].attributes).toEqual([
      { name: 'note', inputType: 'text', default: 'a b c', values: ['a b c'], mutable: false },
      { name: 'color', inputType: 'select', default: 'dark red', values: ['dark red', 'light blue'], mutable: false },
      { name: 'size', inputType: 'radio', default: 's', values: ['s', 'm', 'l'], mutable: false },
    ]);
    expect(items[0].annotations[0].attributes).toEqual({ note: 'a b c', color: 'light blue', size: 'm' });
    const out = temp();
    await plugin.export!({ ...dataset, items }, out, {}, createContext());
    const written = fs.readFileSync(path.join(out, 'annotations.xml'), 'utf8');
    expect(written).toContain('<values>a b c</values>');
    expect(written).toContain('<values>dark red\nlight blue</values>');
    expect((await load(out)).dataset.categories[0].attributes).toEqual(dataset.categories[0].attributes);
  });
});

const BILLION_LAUGHS = `<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE annotations [
  <!ENTITY lol "lol">
  <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
]>
<annotations>
  <version>1.1</version>
  <meta><task><labels><label><name>&lol2;</name></label></labels></task></meta>
  <image id="0" name="a.jpg" width="4" height="4"><box label="&lol2;" xtl="0" ytl="0" xbr="1" ybr="1"/></image>
</annotations>
`;

const EXTERNAL = `<?xml version="1.0"?>
<!-- exported by hand -->
<!DOCTYPE annotations [
<!ENTITY xxe SYSTEM "file:///etc/passwd">
]
>
<annotations>
  <version>1.1</version>
  <meta><task><labels><label><name>car</name></label></labels></task></meta>
  <image id="0" name="a.jpg" width="4" height="4"><tag label="car"><attribute name="x">&xxe;</attribute></tag></image>
</annotations>
`;

describe('CVAT XML with a <!DOCTYPE>', () => {
  test('detected as CVAT past the prolog, DOCTYPE internal subset and comments', async () => {
    for (const xml of [BILLION_LAUGHS, EXTERNAL]) {
      const found = await detectFormats(writeXml(xml));
      expect(found.map((f) => f.format)).toContain('cvat');
      expect(found[0].format).toBe('cvat');
    }
  });

  test('a plain <!DOCTYPE annotations> imports normally', async () => {
    const dir = writeXml(`<?xml version="1.0"?>\n<!DOCTYPE annotations>\n<annotations><version>1.1</version><meta><task><labels><label><name>car</name></label></labels></task></meta>
<image id="0" name="a.jpg" width="4" height="4"><tag label="car"/></image></annotations>\n`);
    expect((await detectFormats(dir))[0].format).toBe('cvat');
    const { items } = await load(dir);
    expect(items.map((i) => [i.id, i.annotations])).toEqual([['a', [{ type: 'label', label: 0 }]]]);
  });

  for (const inputFormat of ['cvat', undefined]) {
    test(`entity declarations and external entities are refused with file and line (${inputFormat ? '-if cvat' : 'detected'}); nothing is written`, async () => {
      for (const [xml, code, line] of [[BILLION_LAUGHS, 'xml-entity', 2], [EXTERNAL, 'xml-external-entity', 3]] as const) {
        const dir = writeXml(xml);
        const output = path.join(temp(), 'out');
        const error = await failure(convert({ input: dir, inputFormat, output, outputFormat: 'cvat' }));
        expect(error.diagnostic).toMatchObject({ code, line, file: path.join(dir, 'annotations.xml') });
        expect(error.message).not.toMatch(/lollol/);
        expect(fs.existsSync(output)).toBe(false);
        expect(fs.readdirSync(path.dirname(output))).toEqual([]);
      }
    });
  }

  test('an <!ENTITY> outside a DOCTYPE, or a DOCTYPE inside the root, is malformed XML', async () => {
    const inBody = await failure(load(writeXml('<annotations>\n<!ENTITY x "y">\n</annotations>\n')));
    expect(inBody.diagnostic).toMatchObject({ code: 'malformed-xml', line: 2 });
    const inRoot = await failure(load(writeXml('<annotations>\n<meta/>\n<!DOCTYPE annotations>\n</annotations>\n')));
    expect(inRoot.diagnostic).toMatchObject({ code: 'malformed-xml', line: 3 });
  });
});

describe('CVAT: deeply nested XML', () => {
  test('100000 nested elements are refused with a message, not a stack overflow', async () => {
    const depth = 100000;
    const xml = `<annotations>\n<version>1.1</version>\n<image id="0" name="a.jpg" width="1" height="1">${'<a>'.repeat(depth)}${'</a>'.repeat(depth)}</image>\n</annotations>\n`;
    const error = await failure(load(writeXml(xml)));
    expect(error.diagnostic).toMatchObject({ code: 'malformed-xml', line: 3 });
    expect(error.message).toMatch(/nested more than \d+ elements deep/);
  });

  test('nesting as deep as CVAT writes is fine', async () => {
    const { items } = await load(writeXml(`<annotations><meta><project><tasks><task><segments><segment><url>x</url></segment></segments></task></tasks>
<labels><label><name>car</name><attributes><attribute><name>n</name><values>v</values></attribute></attributes></label></labels></project></meta>
<image id="0" name="a.jpg" width="1" height="1"><skeleton label="car"><attribute name="n">v</attribute></skeleton></image></annotations>`));
    expect(items).toHaveLength(1);
  });
});

describe('CVAT: no item has the subset ""', () => {
  test('a task export without a subset, an <image subset="">, a track subset="" are all `default`', async () => {
    const images = await load(writeXml(`<annotations><meta><task><labels><label><name>car</name></label></labels></task></meta>
<image id="0" name="a.jpg" width="4" height="4"/><image id="1" name="b.jpg" subset="" width="4" height="4"/></annotations>`, ['a.jpg']));
    expect(images.items.map((i) => [i.subset, i.id])).toEqual([['default', 'a'], ['default', 'b']]);
    expect(fs.existsSync(images.items[0].image!.path)).toBe(true);
    const video = await load(writeXml(videoProject([{ id: 1, name: 'walk', subset: '' }], projectTrack(0, 1, '', 1))));
    expect(video.items.map((i) => [i.subset, i.id])).toEqual([['default', 'frame_000000'], ['default', 'frame_000001']]);
  });

  test('`default` items are written without a subset (as CVAT does) and come back as `default`, images in images/', async () => {
    const first = await load(writeXml(`<annotations><meta><task><labels><label><name>car</name></label></labels></task></meta>
<image id="0" name="a.jpg" width="4" height="4"><tag label="car"/></image></annotations>`, ['a.jpg']));
    const out = temp();
    await plugin.export!({ ...first.dataset, items: first.items }, out, { 'save-media': true }, createContext());
    const xml = fs.readFileSync(path.join(out, 'annotations.xml'), 'utf8');
    expect(xml).not.toMatch(/subset/);
    expect(fs.existsSync(path.join(out, 'images', 'a.jpg'))).toBe(true);
    const second = await load(out);
    expect(second.items.map((i) => [i.subset, i.id, i.image?.path])).toEqual([['default', 'a', path.join(out, 'images', 'a.jpg')]]);
  });
});

describe('CVAT: symlinks out of the dataset (fuzz finding)', () => {
  const xml = `<annotations><version>1.1</version><meta><task><labels><label><name>car</name></label></labels></task></meta>
<image id="0" name="a.jpg" width="4" height="4"/></annotations>`;

  test('an images/ folder that is a symlink to outside is refused with unsafe-path, not read', async () => {
    const outside = temp();
    fs.writeFileSync(path.join(outside, 'a.jpg'), 'SECRET');
    const dir = writeXml(xml);
    fs.symlinkSync(outside, path.join(dir, 'images'));
    const error = await failure(load(dir));
    expect(error.diagnostic).toMatchObject({ code: 'unsafe-path', file: path.join(dir, 'images') });
  });

  test('an annotations .xml that is a symlink to outside is refused, and not even read to detect the format', async () => {
    const outside = temp();
    fs.writeFileSync(path.join(outside, 'secret.xml'), xml);
    const dir = temp();
    fs.symlinkSync(path.join(outside, 'secret.xml'), path.join(dir, 'annotations.xml'));
    expect((await detectFormats(dir)).map((f) => f.format)).not.toContain('cvat');
    const error = await failure(load(dir));
    expect(error.diagnostic).toMatchObject({ code: 'unsafe-path', file: path.join(dir, 'annotations.xml') });
  });

  test('a video frame image (found by listing images/) that is a symlink to outside is refused', async () => {
    const outside = temp();
    fs.writeFileSync(path.join(outside, 'secret.png'), 'SECRET');
    const dir = writeXml(videoTask({ mode: 'interpolation', size: 1, start: 0, stop: 0 }) + '</annotations>\n');
    fs.mkdirSync(path.join(dir, 'images'));
    fs.symlinkSync(path.join(outside, 'secret.png'), path.join(dir, 'images', 'frame_000000.png'));
    const error = await failure(load(dir));
    expect(error.diagnostic).toMatchObject({ code: 'unsafe-path', file: path.join(dir, 'annotations.xml') });
  });

  test('symlinks that stay inside the dataset are fine', async () => {
    const dir = writeXml(xml, ['real/a.jpg']);
    fs.symlinkSync(path.join(dir, 'images', 'real'), path.join(dir, 'frames'));
    fs.renameSync(path.join(dir, 'images'), path.join(dir, 'store'));
    fs.symlinkSync(path.join(dir, 'store', 'real'), path.join(dir, 'images'));
    const { items } = await load(dir);
    expect(fs.existsSync(items[0].image!.path)).toBe(true);
  });
});
