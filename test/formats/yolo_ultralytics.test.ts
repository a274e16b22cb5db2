import { describe, expect, it, afterAll } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import YAML from 'yaml';
import type { Category, Dataset, Item } from '../../src/model.js';
import { Reporter } from '../../src/diagnostics.js';
import { createContext } from '../../src/pipeline.js';
import { plugin } from '../../formats/yolo_ultralytics/index.js';
import { tempDir } from '../helpers/corpus.js';

const temps: string[] = [];
function temp(): string { const d = tempDir('yu-'); temps.push(d); return d; }
afterAll(() => { for (const d of temps) fs.rmSync(d, { recursive: true, force: true }); });

async function makeImage(file: string, width: number, height: number, orientation?: number): Promise<string> {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  let img = sharp({ create: { width, height, channels: 3, background: { r: 40, g: 90, b: 200 } } });
  if (orientation) img = img.withMetadata({ orientation });
  await img.toFile(file);
  return file;
}

async function exportTo(dataset: Dataset, options: Record<string, string | boolean> = {}) {
  const out = temp();
  const reporter = new Reporter();
  const summary = await plugin.export!(dataset, out, options, createContext({ reporter }));
  return { out, summary, reporter };
}

const read = (file: string) => fs.readFileSync(file, 'utf8');
/** Rows of a label file as numbers. */
const rows = (file: string) => read(file).split('\n').filter(Boolean).map((l) => l.split(' ').map(Number));

describe('export: detect', () => {
  const categories: Category[] = [{ name: 'car' }, { name: 'no' }, { name: '1' }, { name: 'on' }];

  it('writes data.yaml, lists and normalized, clipped box rows', async () => {
    const src = temp();
    const probed = await makeImage(path.join(src, 'probe.png'), 200, 100);
    const items: Item[] = [
      { id: 'a', subset: 'Train', image: { path: '/nowhere/a.jpg', width: 100, height: 50 }, annotations: [
        { type: 'bbox', label: 0, x: 10, y: 5, w: 20, h: 10 },
        { type: 'bbox', label: 1, x: 90, y: 40, w: 20, h: 20 }, // clipped to the image
        { type: 'bbox', label: 2, x: 120, y: 0, w: 5, h: 5 }, // entirely outside: degenerate
        { type: 'bbox', label: 3, x: 40, y: 20, w: 20, h: 10, rotation: 90 }, // hull is 10 x 20
        { type: 'polygon', label: 0, points: [0, 0, 10, 0, 10, 10] },
      ] },
      { id: 'sub/b', subset: 'Validation', image: { path: '/nowhere/b.png', width: 10, height: 10 }, annotations: [] },
      { id: 'c', subset: '', normalized: true, image: { path: '/nowhere/c.jpg' }, annotations: [
        { type: 'bbox', label: 0, x: 0.1, y: 0.2, w: 0.3, h: 0.4 },
      ] },
      { id: 'probe', subset: 'valid', image: { path: probed }, annotations: [{ type: 'bbox', label: 0, x: 0, y: 0, w: 100, h: 100 }] },
      { id: 'lost', subset: 'test', image: { path: '/nowhere/lost.jpg' }, annotations: [{ type: 'bbox', label: 0, x: 0, y: 0, w: 1, h: 1 }] },
      { id: 'odd', subset: 'holdout', image: { path: '/nowhere/odd.jpg', width: 10, height: 10 }, annotations: [] },
    ];
    const { out, summary, reporter } = await exportTo({ categories, items }, { task: 'detect' });

    const yaml = YAML.parse(read(path.join(out, 'data.yaml')));
    expect(yaml).toEqual({ train: 'train.txt', val: 'val.txt', holdout: 'holdout.txt', nc: 4, names: { 0: 'car', 1: 'no', 2: '1', 3: 'on' } });
    const yamlText = read(path.join(out, 'data.yaml'));
    expect(yamlText).toContain('"no"');
    expect(yamlText).toContain('"1"');
    expect(yamlText).not.toMatch(/^path:/m);

    expect(rows(path.join(out, 'labels/train/a.txt'))).toEqual([
      [0, 0.2, 0.2, 0.2, 0.2],
      [1, 0.95, 0.9, 0.1, 0.2],
      [3, 0.5, 0.5, 0.1, 0.4],
    ]);
    expect(rows(path.join(out, 'labels/train/c.txt'))).toEqual([[0, 0.25, 0.4, 0.3, 0.4]]);
    expect(read(path.join(out, 'labels/val/sub/b.txt'))).toBe('');
    expect(rows(path.join(out, 'labels/val/probe.txt'))).toEqual([[0, 0.25, 0.5, 0.5, 1]]);
    expect(fs.existsSync(path.join(out, 'labels/test/lost.txt'))).toBe(false);
    expect(read(path.join(out, 'train.txt'))).toBe('./images/train/a.jpg\n./images/train/c.jpg\n');
    expect(read(path.join(out, 'val.txt'))).toBe('./images/val/sub/b.png\n./images/val/probe.png\n');
    expect(fs.existsSync(path.join(out, 'test.txt'))).toBe(false);
    expect(fs.existsSync(path.join(out, 'images'))).toBe(false);

    expect(summary).toEqual({
      items: 5,
      annotations: { bbox: 5 },
      dropped: { 'degenerate box (empty inside the image)': 1, 'polygon in detect task': 1, 'unknown image size': 1 },
    });
    const codes = reporter.messages.map((m) => `${m.code}:${m.item ?? ''}`);
    expect(codes).toEqual(expect.arrayContaining(['annotation-dropped:Train/a', 'unknown-image-size:test/lost', 'unknown-subset:holdout/odd']));
  });

  it('copies images with --save-media and probes EXIF-rotated sizes', async () => {
    const src = temp();
    const rotated = await makeImage(path.join(src, 'r.jpg'), 40, 20, 6); // displayed 20 x 40
    const items: Item[] = [
      { id: 'r', subset: 'train', image: { path: rotated }, annotations: [{ type: 'bbox', label: 0, x: 0, y: 0, w: 10, h: 10 }] },
      { id: 'gone', subset: 'val', image: { path: path.join(src, 'gone.jpg'), width: 10, height: 10 }, annotations: [] },
    ];
    const { out, reporter } = await exportTo({ categories, items }, { task: 'detect', 'save-media': true });
    expect(fs.statSync(path.join(out, 'images/train/r.jpg')).size).toBe(fs.statSync(rotated).size);
    expect(rows(path.join(out, 'labels/train/r.txt'))).toEqual([[0, 0.25, 0.125, 0.5, 0.25]]);
    expect(reporter.messages.find((m) => m.code === 'missing-image')?.item).toBe('val/gone');
  });

  it('reuses train as val when there is no val subset, and refuses unsafe ids', async () => {
    const items: Item[] = [{ id: 'x', subset: 'train', image: { path: '/n/x.jpg', width: 4, height: 4 }, annotations: [] }];
    const { out, reporter } = await exportTo({ categories, items }, { task: 'detect' });
    expect(YAML.parse(read(path.join(out, 'data.yaml')))).toMatchObject({ train: 'train.txt', val: 'train.txt' });
    expect(reporter.messages.some((m) => m.code === 'missing-split')).toBe(true);
    const bad: Item[] = [{ id: '../../escape', subset: 'train', image: { path: '/n/x.jpg', width: 4, height: 4 }, annotations: [] }];
    await expect(exportTo({ categories, items: bad }, { task: 'detect' })).rejects.toThrow(/unsafe|outside/);
  });

  it('infers detect for boxes and says so', async () => {
    const items: Item[] = [{ id: 'x', subset: 'train', image: { path: '/n/x.jpg', width: 4, height: 4 }, annotations: [{ type: 'bbox', label: 0, x: 0, y: 0, w: 2, h: 2 }] }];
    const { reporter } = await exportTo({ categories, items: (async function* () { yield* items; })() });
    expect(reporter.messages.find((m) => m.code === 'task-chosen')).toMatchObject({ severity: 'info', message: expect.stringContaining('detect') });
  });
});

describe('convert cvat -> yolo_ultralytics (the headline command)', () => {
  it('writes a trainable layout from the sample CVAT project, images included', async () => {
    const { convert } = await import('../../src/pipeline.js');
    await import('../../formats/index.js');
    const out = path.join(temp(), 'out');
    const reporter = new Reporter();
    const result = await convert({ input: 'samples/cvat_dataset', inputFormat: 'cvat', output: out, outputFormat: 'yolo_ultralytics', exportOptions: { 'save-media': true } }, createContext({ reporter }));
    expect(result).toMatchObject({ items: 6, annotations: { bbox: 10 }, dropped: {} });
    expect(YAML.parse(read(path.join(out, 'data.yaml')))).toEqual({
      train: 'train.txt', val: 'val.txt', test: 'test.txt', nc: 3, names: { 0: 'car', 1: 'person', 2: 'traffic light' },
    });
    expect(read(path.join(out, 'train.txt')).split('\n').filter(Boolean).sort()).toEqual(
      ['park_004', 'street_001', 'street_002', 'street_003'].map((n) => `./images/train/${n}.jpg`));
    // street_001: car 20,120-140,190 and person 200,60-240,170 in a 320 x 240 image
    expect(rows(path.join(out, 'labels/train/street_001.txt'))).toEqual([
      [0, 0.25, 0.645833, 0.375, 0.291667],
      [1, 0.6875, 0.479167, 0.125, 0.458333],
    ]);
    expect(read(path.join(out, 'labels/train/park_004.txt'))).toBe('');
    expect(fs.readdirSync(path.join(out, 'images/train')).sort()).toEqual(['park_004.jpg', 'street_001.jpg', 'street_002.jpg', 'street_003.jpg']);
    expect(reporter.messages.filter((m) => m.severity === 'warning')).toEqual([]);
  });
});
