import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { detectDataset } from '../../src/index.js';
import { fixture, tempDir } from '../helpers/corpus.js';
import { runCli } from '../helpers/cli.js';

const FORMATS = ['coco', 'cub', 'cvat', 'sop', 'voc', 'yolo', 'yolo_ultralytics'];

/** A copy of a fixture dataset at `parts` under a fresh folder; returns that folder. */
function nest(source: string, ...parts: string[]): string {
  const top = tempDir('datum-detect-');
  fs.cpSync(source, path.join(top, ...parts), { recursive: true });
  return top;
}

async function detectJson(...args: string[]): Promise<{ code: number; report: any }> {
  const r = await runCli('detect', ...args, '--json');
  return { code: r.code, report: JSON.parse(r.out) };
}

describe('datum detect: nothing there', () => {
  it('a folder of random files, an empty folder, a folder of empty subfolders and a single image are nothing: exit 1, every format says why', async () => {
    const random = tempDir();
    fs.writeFileSync(path.join(random, 'notes.txt'), 'hello\n');
    fs.writeFileSync(path.join(random, 'data.json'), '[1, 2, 3]');
    fs.writeFileSync(path.join(random, 'page.xml'), '<html><body/></html>');
    fs.writeFileSync(path.join(random, 'blob.bin'), Buffer.from([0, 1, 2, 255]));
    const empty = tempDir();
    const emptySubfolders = tempDir();
    for (const d of ['train', 'val', 'a/b']) fs.mkdirSync(path.join(emptySubfolders, d), { recursive: true });
    const image = path.join(tempDir(), 'photo.jpg');
    await sharp({ create: { width: 8, height: 8, channels: 3, background: '#888' } }).jpeg().toFile(image);

    for (const input of [random, empty, emptySubfolders, image]) {
      const { code, report } = await detectJson(input);
      expect(code, input).toBe(1);
      expect(report.candidates, input).toEqual([]);
      expect(report.datasets, input).toEqual([]);
      expect(report.root).toBe(input);
      expect(report.rejected.map((r: { format: string }) => r.format).sort()).toEqual(FORMATS);
      for (const r of report.rejected) expect(r.reason, `${input} ${r.format}`).toMatch(/\w/);
    }
    const text = await runCli('detect', random);
    expect(text.code).toBe(1);
    expect(text.out).toMatch(/^no known dataset format recognized in .* or 2 folder levels below; rejected:\n/);
    expect(text.out).toContain('  cvat\tpage.xml has no <annotations> root');
  });

  it('a folder of class folders of images without train/ is not a classification dataset (a temp folder looked like one)', async () => {
    const top = tempDir();
    for (const d of ['job1/x', 'job2/y']) {
      fs.mkdirSync(path.join(top, d), { recursive: true });
      await sharp({ create: { width: 4, height: 4, channels: 3, background: '#000' } }).png().toFile(path.join(top, d, 'a.png'));
    }
    expect((await detectJson(top)).code).toBe(1);
    fs.renameSync(path.join(top, 'job1'), path.join(top, 'train'));
    const { code, report } = await detectJson(top);
    expect(code).toBe(0);
    expect(report.candidates[0]).toMatchObject({ format: 'yolo_ultralytics', reason: expect.stringContaining('train') });
  });
});

describe('datum detect: the root of a dataset', () => {
  it('finds a dataset one and two levels down and reports its root; --depth limits the search', async () => {
    const one = nest(fixture('cvat', 'export_task'), 'cvat_dataset');
    let { code, report } = await detectJson(one);
    expect(code).toBe(0);
    expect(report.root).toBe(path.join(one, 'cvat_dataset'));
    expect(report.candidates[0]).toMatchObject({ format: 'cvat', confidence: 0.9 });
    expect(report.rejected.map((r: { format: string }) => r.format)).not.toContain('cvat');

    // a zip extracted into a folder of its own name, under a downloads folder
    const two = nest(fixture('voc', 'detection'), 'VOC2012', 'VOC2012');
    ({ code, report } = await detectJson(two));
    expect(code).toBe(0);
    expect(report.root).toBe(path.join(two, 'VOC2012', 'VOC2012'));
    expect(report.candidates[0].format).toBe('voc');

    ({ code, report } = await detectJson(two, '--depth', '1'));
    expect(code).toBe(1);
    ({ code, report } = await detectJson(one, '--depth', '0'));
    expect(code).toBe(1);
    expect(report.root).toBe(one);
    expect((await runCli('detect', one, '--depth', '-1')).code).toBe(2);

    const text = await runCli('detect', two);
    expect(text.out.split('\n')[0]).toBe(`root: ${path.relative('.', path.join(two, 'VOC2012', 'VOC2012'))}`);
    expect(text.out).toMatch(/^voc\t0\.90\tAnnotations\/\S+\.xml beside ImageSets\/$/m);
  });

  it('a folder holding two datasets names both and exits 3; a folder that is a dataset is not searched below', async () => {
    const top = nest(fixture('coco'), 'coco');
    fs.cpSync(fixture('yolo', 'strict'), path.join(top, 'more', 'yolo'), { recursive: true });
    const { code, report } = await detectJson(top);
    expect(code).toBe(3);
    expect(report.candidates).toEqual([]);
    expect(report.datasets.map((d: { root: string; format: string }) => [path.relative(top, d.root), d.format]))
      .toEqual([['coco', 'coco'], [path.join('more', 'yolo'), 'yolo']]);
    const text = await runCli('detect', top);
    expect(text.code).toBe(3);
    expect(text.out).toMatch(/is not a dataset; it holds 2:\n/);
    expect(text.out).toContain('name one of them as the input');

    // the CVAT dataset at the top is the answer, though a COCO dataset sits below it
    const cvat = nest(fixture('cvat', 'export_task'), '.');
    fs.cpSync(fixture('coco'), path.join(cvat, 'extra'), { recursive: true });
    const r = await detectDataset(cvat);
    expect([r.root, r.candidates.map((c) => c.format), r.datasets]).toEqual([cvat, ['cvat'], []]);
  });

  it('an ambiguous folder exits 3 and names the -if that settles it', async () => {
    // a CVAT file and a COCO file side by side: both detectors are sure
    const dir = nest(fixture('cvat', 'export_task'), '.');
    fs.cpSync(fixture('coco', 'annotations'), path.join(dir, 'annotations'), { recursive: true });
    const { code, report } = await detectJson(dir);
    expect(report.candidates.map((c: { format: string }) => c.format)).toEqual(['coco', 'cvat']);
    expect(code).toBe(3);
    const text = await runCli('detect', dir);
    expect(text.out).toMatch(/^ambiguous: -if coco or -if cvat settles it$/m);
    const stats = await runCli('stats', dir);
    expect(stats.code).toBe(1);
    expect(stats.err).toMatch(/the format is ambiguous: coco .*; -if coco or -if cvat settles it \[ambiguous-format\]/);
    expect((await runCli('stats', dir, '-if', 'cvat', '--json')).code).toBe(0);
  });

  it('a missing path is an error that names it, exit 1', async () => {
    const missing = path.join(tempDir(), 'nope');
    const r = await runCli('detect', missing);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`${missing}: input path does not exist or cannot be read [input-missing]`);
  });

  it('a symlink leading outside the folder is not followed in the search', async () => {
    const outside = nest(fixture('cvat', 'export_task'), 'cvat');
    const top = tempDir();
    fs.symlinkSync(path.join(outside, 'cvat'), path.join(top, 'link'));
    expect((await detectJson(top)).code).toBe(1);
  });
});

describe('stats and convert without -if use the root detect finds', () => {
  it('read a dataset one folder down, and refuse a parent of two datasets', async () => {
    const top = nest(fixture('cvat', 'export_task'), 'download', 'cvat_dataset');
    const stats = await runCli('stats', top, '--json');
    expect(stats.code).toBe(0);
    const direct = await runCli('stats', path.join(top, 'download', 'cvat_dataset'), '--json');
    expect(JSON.parse(stats.out)).toEqual(JSON.parse(direct.out));
    expect(JSON.parse(stats.out).format).toBe('cvat');

    const out = path.join(tempDir(), 'coco');
    const converted = await runCli('convert', '-i', top, '-f', 'coco', '-o', out, '--json');
    expect(converted.code).toBe(0);
    expect(JSON.parse(converted.out)).toMatchObject({ inputFormat: 'cvat', items: JSON.parse(direct.out).items });
    expect(fs.readdirSync(path.join(out, 'annotations')).length).toBeGreaterThan(0);

    fs.cpSync(fixture('yolo', 'strict'), path.join(top, 'yolo'), { recursive: true });
    const refused = await runCli('stats', top);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/this folder holds 2 datasets; name one as the input: download\/cvat_dataset \(cvat\), yolo \(yolo\) \[several-datasets\]/);
    const refusedConvert = await runCli('convert', '-i', top, '-f', 'coco', '-o', path.join(tempDir(), 'x'));
    expect(refusedConvert.code).toBe(1);
    expect(refusedConvert.err).toContain('[several-datasets]');
  });

  it('with -if, the one folder below that the format recognizes', async () => {
    const top = nest(fixture('voc', 'detection'), 'voc');
    const r = await runCli('stats', top, '-if', 'voc', '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).items).toBeGreaterThan(0);
  });
});
