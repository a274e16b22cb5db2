/**
 * One CVAT project export converted to YOLO-Ultralytics with each task: the label rows are checked
 * number by number against values worked out by hand from the XML, and what a task cannot hold is
 * counted in the summary.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import YAML from 'yaml';
import '../formats/index.js';
import { convert, createContext } from '../src/pipeline.js';
import { tempDir } from './helpers/corpus.js';

const XML = `<?xml version="1.0" encoding="utf-8"?>
<annotations>
  <version>1.1</version>
  <meta><project><name>p</name><labels>
    <label><name>car</name><type>rectangle</type><attributes/></label>
    <label><name>road</name><type>polygon</type><attributes/></label>
    <label><name>face</name><type>skeleton</type><attributes/>
      <svg>&lt;line data-type="edge" data-node-from="1" data-node-to="3"&gt;&lt;/line&gt;&lt;line data-type="edge" data-node-from="2" data-node-to="3"&gt;&lt;/line&gt;&lt;circle data-node-id="1" data-label-name="left_eye"&gt;&lt;/circle&gt;&lt;circle data-node-id="2" data-label-name="right_eye"&gt;&lt;/circle&gt;&lt;circle data-node-id="3" data-label-name="nose"&gt;&lt;/circle&gt;</svg>
    </label>
    <label><name>left_eye</name><type>points</type><parent>face</parent></label>
    <label><name>right_eye</name><type>points</type><parent>face</parent></label>
    <label><name>nose</name><type>points</type><parent>face</parent></label>
    <label><name>day</name><type>tag</type><attributes/></label>
    <label><name>night</name><type>tag</type><attributes/></label>
  </labels></project></meta>
  <image id="0" name="a.jpg" subset="Train" width="100" height="50">
    <box label="car" xtl="10" ytl="20" xbr="30" ybr="45" occluded="0"/>
    <polygon label="road" points="0,0;20,0;20,10"/>
    <tag label="day"/>
  </image>
  <image id="1" name="b.jpg" subset="Train" width="200" height="100">
    <box label="car" xtl="40" ytl="10" xbr="60" ybr="20" rotation="90"/>
    <skeleton label="face">
      <points label="left_eye" points="50,20"/>
      <points label="right_eye" points="70,20" occluded="1"/>
      <points label="nose" points="60,30"/>
    </skeleton>
    <tag label="night"/>
  </image>
  <image id="0" name="c.jpg" subset="Validation" width="100" height="100">
    <tag label="day"/>
  </image>
</annotations>
`;

let input: string;
beforeAll(async () => {
  input = tempDir();
  fs.writeFileSync(path.join(input, 'annotations.xml'), XML);
  const images: [string, number, number][] = [['Train/a.jpg', 100, 50], ['Train/b.jpg', 200, 100], ['Validation/c.jpg', 100, 100]];
  for (const [name, width, height] of images) {
    fs.mkdirSync(path.dirname(path.join(input, 'images', name)), { recursive: true });
    await sharp({ create: { width, height, channels: 3, background: '#808080' } }).jpeg().toFile(path.join(input, 'images', name));
  }
});

async function toTask(task: string) {
  const output = path.join(tempDir(), 'out');
  const ctx = createContext();
  const summary = await convert({ input, inputFormat: 'cvat', output, outputFormat: 'yolo_ultralytics', exportOptions: { task, 'save-media': true } }, ctx);
  const rows = (split: string, name: string) => fs.readFileSync(path.join(output, 'labels', split, `${name}.txt`), 'utf8')
    .split('\n').filter(Boolean).map((line) => line.split(' ').map(Number));
  const data = fs.existsSync(path.join(output, 'data.yaml')) ? YAML.parse(fs.readFileSync(path.join(output, 'data.yaml'), 'utf8')) : null;
  return { output, summary, rows, data };
}

/** Rows compared within the 6 decimals written; each row's class first. */
function expectRows(actual: number[][], expected: number[][]): void {
  expect(actual.map((r) => r.length)).toEqual(expected.map((r) => r.length));
  actual.forEach((row, i) => row.forEach((v, k) => expect(v, `row ${i} value ${k}`).toBeCloseTo(expected[i][k], 6)));
}

/** The corner points of a polygon row, as a sorted list, so that the start corner does not matter. */
function corners(row: number[]): string[] {
  const points: string[] = [];
  for (let i = 1; i + 1 < row.length; i += 2) points.push(`${row[i].toFixed(4)},${row[i + 1].toFixed(4)}`);
  return points.sort();
}

describe('CVAT project -> YOLO-Ultralytics, each task', () => {
  it('detect: boxes (a rotated box as its hull), a polygon as its box; skeleton and tags reported', async () => {
    const { rows, data, summary } = await toTask('detect');
    expect(data.names).toEqual({ 0: 'car', 1: 'road', 2: 'face', 3: 'day', 4: 'night' });
    // car 10,20-30,45 on 100 x 50; road 0,0-20,10
    expectRows(rows('train', 'a'), [[0, 0.2, 0.65, 0.2, 0.5], [1, 0.1, 0.1, 0.2, 0.2]]);
    // 20 x 10 box centred on 50,15 turned by 90 degrees: 10 x 20, x 45..55, y 5..25 on 200 x 100
    expectRows(rows('train', 'b'), [[0, 0.25, 0.15, 0.05, 0.2]]);
    expect(rows('val', 'c')).toEqual([]);
    expect(summary.annotations).toEqual({ bbox: 2, 'polygon (as its box)': 1 });
    expect(Object.values(summary.dropped ?? {}).reduce((a, b) => a + b, 0)).toBe(4); // skeleton + 3 tags
  });

  it('segment: the polygon, boxes as 4-corner polygons', async () => {
    const { rows } = await toTask('segment');
    const a = rows('train', 'a').sort((x, y) => x[0] - y[0]);
    expect(a.map((r) => r[0])).toEqual([0, 1]);
    expect(corners(a[0])).toEqual(corners([0, 0.1, 0.4, 0.3, 0.4, 0.3, 0.9, 0.1, 0.9]));
    expectRows([a[1]], [[1, 0, 0, 0.2, 0, 0.2, 0.2]]);
    const b = rows('train', 'b');
    expect(corners(b[0])).toEqual(corners([0, 0.225, 0.05, 0.275, 0.05, 0.275, 0.25, 0.225, 0.25]));
  });

  it('pose: the skeleton with the box of its points, visibility 2/1, kpt_shape and flip_idx', async () => {
    const { rows, data, summary } = await toTask('pose');
    expect(data.kpt_shape).toEqual([3, 3]);
    expect(data.flip_idx).toEqual([1, 0, 2]);
    expect(rows('train', 'a')).toEqual([]);
    // points 50,20 70,20 (occluded) 60,30 on 200 x 100: box x 50..70, y 20..30
    expectRows(rows('train', 'b'), [[2, 0.3, 0.25, 0.1, 0.1, 0.25, 0.2, 2, 0.35, 0.2, 1, 0.3, 0.3, 2]]);
    expect(summary.annotations).toEqual({ skeleton: 1 });
  });

  it('obb: normalized corners of each box, turned by its rotation', async () => {
    const { rows } = await toTask('obb');
    const [a] = rows('train', 'a');
    expect(corners(a)).toEqual(corners([0, 0.1, 0.4, 0.3, 0.4, 0.3, 0.9, 0.1, 0.9]));
    const [b] = rows('train', 'b');
    expect(b[0]).toBe(0);
    expect(corners(b)).toEqual(corners([0, 0.225, 0.05, 0.275, 0.05, 0.275, 0.25, 0.225, 0.25]));
  });

  it('classify: <split>/<class>/<image> from the tags', async () => {
    const { output, data } = await toTask('classify');
    expect(data).toBeNull();
    const files = (dir: string): string[] => fs.readdirSync(dir, { withFileTypes: true })
      .flatMap((e) => (e.isDirectory() ? files(path.join(dir, e.name)).map((f) => `${e.name}/${f}`) : [e.name]));
    expect(files(output).sort()).toEqual(['train/day/a.jpg', 'train/night/b.jpg', 'val/day/c.jpg']);
    // a folder for every class (the keypoint sub-labels are not classes), so class indices agree across splits
    expect(fs.readdirSync(path.join(output, 'val')).sort()).toEqual(['car', 'day', 'face', 'night', 'road']);
  });
});
