/** Transforms on the corpus: a CVAT project export (Train/Validation/Test) through map_subsets to YOLO-Ultralytics. */
import { expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { conformance, corpus, tempDir } from '../helpers/corpus.js';
import { runCli } from '../helpers/cli.js';

const PROJECT = () => corpus('cvat_dataset/for_images/export_project');

conformance('transforms on the CVAT project export', () => {
  it('map_subsets gives YOLO-Ultralytics train/val/test keys, each with its images and labels', async () => {
    const out = path.join(tempDir(), 'yolo');
    const r = await runCli('convert', '-if', 'cvat', '-i', PROJECT(), '-f', 'yolo_ultralytics', '-o', out,
      '-t', 'map_subsets:Train=train,Validation=val,Test=test', '--', '--save-media');
    expect(r.code, r.err).toBe(0);
    const data = parse(fs.readFileSync(path.join(out, 'data.yaml'), 'utf8'));
    expect(data.names).toEqual({ 0: 'label1', 1: 'label2' });
    for (const subset of ['train', 'val', 'test']) {
      expect(fs.existsSync(path.join(out, data[subset])), `${subset}: ${data[subset]}`).toBe(true);
      expect(fs.readdirSync(path.join(out, 'images', subset)).sort()).toEqual(['img0.jpg', 'img1.jpg']);
      expect(fs.readdirSync(path.join(out, 'labels', subset)).sort()).toEqual(['img0.txt', 'img1.txt']);
    }
  });

  it('map_subsets merging Train and Validation keeps both halves: colliding ids are renamed, not overwritten', async () => {
    const out = path.join(tempDir(), 'yolo');
    const r = await runCli('convert', '-if', 'cvat', '-i', PROJECT(), '-f', 'yolo_ultralytics', '-o', out,
      '-t', 'map_subsets:Train=train,Validation=train,Test=val', '--', '--save-media');
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/id 'img0' is taken in subset 'train'; the item is named 'img0_2'.*\[duplicate-id\]/);
    const data = parse(fs.readFileSync(path.join(out, 'data.yaml'), 'utf8'));
    expect(Object.keys(data)).not.toContain('test');
    expect(fs.readdirSync(path.join(out, 'labels', 'train')).sort()).toEqual(['img0.txt', 'img0_2.txt', 'img1.txt', 'img1_2.txt']);
    expect(fs.readdirSync(path.join(out, 'images', 'train'))).toHaveLength(4);
  });

  it('split writes every item of the project export, though its three subsets share the ids img0 and img1', async () => {
    const out = path.join(tempDir(), 'yolo');
    const r = await runCli('split', '-if', 'cvat', '-i', PROJECT(), '-f', 'yolo_ultralytics', '-o', out, '--ratios', 'train=0.5,val=0.5', '--json');
    expect(r.code, r.err).toBe(0);
    const labels = ['train', 'val'].flatMap((s) => fs.existsSync(path.join(out, 'labels', s)) ? fs.readdirSync(path.join(out, 'labels', s)) : []);
    expect(labels).toHaveLength(6);
    expect(JSON.parse(r.out).items).toBe(6);
  });
});
