import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import YAML from 'yaml';
import { ROOT, fixture, tempDir } from './helpers/corpus.js';

const DATUM = path.join(ROOT, 'bin/datum.js');
const SAMPLE = path.join(ROOT, 'samples/cvat_dataset');

function datum(...args: string[]) {
  return spawnSync(process.execPath, [DATUM, ...args], { encoding: 'utf8' });
}

/** Label file rows as numbers. */
function rows(file: string): number[][] {
  return fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => l.split(' ').map(Number));
}

describe('the README main job: CVAT project export -> YOLO-Ultralytics', () => {
  it('writes a dataset Ultralytics reads, with boxes worked out by hand from the XML', () => {
    const out = path.join(tempDir(), 'yolo_dataset');
    const r = datum('convert', '-if', 'cvat', '-i', SAMPLE, '-f', 'yolo_ultralytics', '-o', out, '--', '--save-media');
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.status).toBe(0);

    const data = YAML.parse(fs.readFileSync(path.join(out, 'data.yaml'), 'utf8'));
    expect(data.names).toEqual({ 0: 'car', 1: 'person', 2: 'traffic light' });
    expect(data.path).toBeUndefined(); // a relative path would resolve against the working directory
    for (const subset of ['train', 'val', 'test']) expect(data[subset], subset).toBeTruthy();

    // Train/Validation/Test are mapped to Ultralytics' names; each image has a label file, even without objects
    expect(fs.readdirSync(path.join(out, 'images/train')).sort()).toEqual(['park_004.jpg', 'street_001.jpg', 'street_002.jpg', 'street_003.jpg']);
    expect(fs.readdirSync(path.join(out, 'labels/train')).sort()).toEqual(['park_004.txt', 'street_001.txt', 'street_002.txt', 'street_003.txt']);
    expect(fs.readdirSync(path.join(out, 'images/val'))).toEqual(['street_005.jpg']);
    expect(fs.readdirSync(path.join(out, 'images/test'))).toEqual(['street_006.jpg']);
    expect(fs.readFileSync(path.join(out, 'labels/train/park_004.txt'), 'utf8')).toBe('');

    // car 20,120-140,190 and person 200,60-240,170 on a 320 x 240 image
    const street1 = rows(path.join(out, 'labels/train/street_001.txt'));
    expect(street1).toHaveLength(2);
    const expected1 = [[0, 80 / 320, 155 / 240, 120 / 320, 70 / 240], [1, 220 / 320, 115 / 240, 40 / 320, 110 / 240]];
    street1.forEach((row, i) => row.forEach((v, j) => expect(v).toBeCloseTo(expected1[i][j], 6)));
    // car 0,150-100,240 touches the bottom edge
    const street6 = rows(path.join(out, 'labels/test/street_006.txt'));
    expect(street6[1][0]).toBe(0);
    [50 / 320, 195 / 240, 100 / 320, 90 / 240].forEach((v, j) => expect(street6[1][j + 1]).toBeCloseTo(v, 6));
    // every value has at most 6 decimals
    expect(fs.readFileSync(path.join(out, 'labels/test/street_006.txt'), 'utf8')).not.toMatch(/\.\d{7}/);

    // subset lists point at the copied images relative to the list's folder
    const trainList = fs.readFileSync(path.join(out, 'train.txt'), 'utf8').split('\n').filter(Boolean);
    expect(trainList).toHaveLength(4);
    for (const line of trainList) {
      expect(line.startsWith('./')).toBe(true);
      expect(fs.existsSync(path.join(out, line))).toBe(true);
    }
  });

  it('stats --json on the sample gives the counts in the XML', () => {
    const r = datum('stats', SAMPLE, '-if', 'cvat', '--json');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      format: 'cvat', items: 6, subsets: { Train: 4, Validation: 1, Test: 1 },
      annotations: { label: 0, bbox: 10, polygon: 0, polyline: 0, points: 0, mask: 0, ellipse: 0, skeleton: 0, caption: 0 },
      labels: ['car', 'person', 'traffic light'],
    });
  });

  it('stats --json on CVAT project and task exports gives the counts in their XML', () => {
    const none = { label: 0, bbox: 0, polygon: 0, polyline: 0, points: 0, mask: 0, ellipse: 0, skeleton: 0, caption: 0 };
    // each subset of the project holds scene_a (box + polyline) and scene_b (polygon + points)
    const project = datum('stats', fixture('cvat/export_project'), '--json');
    expect(project.status).toBe(0);
    expect(JSON.parse(project.stdout)).toEqual({
      format: 'cvat', items: 6, subsets: { Train: 2, Validation: 2, Test: 2 },
      annotations: { ...none, bbox: 3, polyline: 3, polygon: 3, points: 3 }, labels: ['vehicle', 'sign'],
    });
    // the task export is named train.xml: one subset 'train'
    const task = datum('stats', fixture('cvat/export_task'), '-if', 'cvat', '--json');
    expect(task.status).toBe(0);
    expect(JSON.parse(task.stdout)).toEqual({
      format: 'cvat', items: 2, subsets: { train: 2 },
      annotations: { ...none, bbox: 1, polyline: 1, polygon: 1, points: 1 }, labels: ['vehicle', 'sign'],
    });
  });

  it('detects CVAT without -if', () => {
    const r = datum('stats', SAMPLE, '--json');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).format).toBe('cvat');
  });

  it('a name that leads outside the dataset is refused and nothing is written', () => {
    const root = tempDir();
    const input = path.join(root, 'in');
    fs.mkdirSync(input);
    const xml = fs.readFileSync(path.join(SAMPLE, 'annotations.xml'), 'utf8').replace('name="street_001.jpg"', 'name="../../../escape.jpg"');
    fs.writeFileSync(path.join(input, 'annotations.xml'), xml);
    const r = datum('convert', '-if', 'cvat', '-i', input, '-f', 'yolo_ultralytics', '-o', path.join(root, 'out'), '--', '--save-media');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/\.\.\/\.\.\/\.\.\/escape\.jpg.*outside/);
    expect(r.stderr).toContain('annotations.xml');
    expect(fs.readdirSync(root)).toEqual(['in']);
  });
});
