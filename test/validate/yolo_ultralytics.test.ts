import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { plugin } from '../../formats/yolo_ultralytics/index.js';
import { conformance, corpus, fixture, tempDir } from '../helpers/corpus.js';
import { structuralFindings } from '../helpers/validate.js';

/** A copy of a broken fixture with an (empty) image for each label file: validate only checks the image exists. */
function dataset(name: string): string {
  const dir = path.join(tempDir('datum-vyu-'), name);
  fs.cpSync(fixture('validate', 'yolo_ultralytics', name), dir, { recursive: true });
  fs.mkdirSync(path.join(dir, 'images', 'train'), { recursive: true });
  for (const f of fs.readdirSync(path.join(dir, 'labels', 'train'))) fs.writeFileSync(path.join(dir, 'images', 'train', f.replace(/\.txt$/, '.jpg')), '');
  return dir;
}

async function validate(dir: string, options = {}) {
  return (await structuralFindings(plugin, dir, options)).map((m) => ({ severity: m.severity, code: m.code, file: m.file && path.relative(dir, m.file), line: m.line, pointer: m.pointer }));
}

describe('yolo_ultralytics validate: one planted defect each', () => {
  it('a sound dataset has no findings', async () => {
    expect(await validate(dataset('sound'))).toEqual([]);
  });
  it('names as a string', async () => {
    expect(await validate(dataset('names-string'))).toEqual([{ severity: 'error', code: 'schema', file: 'data.yaml', line: 4, pointer: '/names' }]);
  });
  it('a data.yaml that is not a mapping is checked, though detection passes over it', async () => {
    const dir = dataset('sound');
    fs.writeFileSync(path.join(dir, 'data.yaml'), '- a\n- b\n');
    expect(await validate(dir)).toEqual([{ severity: 'error', code: 'bad-yaml', file: 'data.yaml', line: undefined, pointer: undefined }]);
  });
  it('nc not matching names', async () => {
    expect(await validate(dataset('nc-mismatch'))).toEqual([{ severity: 'error', code: 'nc-mismatch', file: 'data.yaml', line: 4, pointer: '/nc' }]);
  });
  it('a class index past nc', async () => {
    expect(await validate(dataset('class-past-nc'))).toEqual([{ severity: 'error', code: 'label-class-out-of-range', file: 'labels/train/a.txt', line: 2, pointer: undefined }]);
  });
  it('a line of 4 values', async () => {
    const dir = dataset('four-values');
    expect(await validate(dir)).toEqual([{ severity: 'error', code: 'label-field-count', file: 'labels/train/a.txt', line: 2, pointer: undefined }]);
    expect((await structuralFindings(plugin, dir, { task: 'detection' }))[0].message).toMatch(/^expected 5 values \(class x y w h\) for the detect task, found 4/);
  });
  it('a coordinate of 1.3', async () => {
    expect(await validate(dataset('coordinate'))).toEqual([{ severity: 'error', code: 'label-coordinate-out-of-range', file: 'labels/train/a.txt', line: 2, pointer: undefined }]);
  });
  it('x not a number', async () => {
    expect(await validate(dataset('not-a-number'))).toEqual([{ severity: 'error', code: 'label-not-a-number', file: 'labels/train/a.txt', line: 1, pointer: undefined }]);
  });
  it('a repeated line', async () => {
    expect(await validate(dataset('duplicate'))).toEqual([{ severity: 'warning', code: 'label-duplicate-line', file: 'labels/train/a.txt', line: 2, pointer: undefined }]);
  });
  it('--task segmentation wants polygons', async () => {
    const found = await validate(dataset('sound'), { task: 'segmentation' });
    expect(found).toEqual([1, 2].map((line) => ({ severity: 'error', code: 'label-field-count', file: 'labels/train/a.txt', line, pointer: undefined })));
  });
  it('box and polygon lines in one file', async () => {
    const dir = dataset('sound');
    fs.appendFileSync(path.join(dir, 'labels', 'train', 'a.txt'), '1 0.1 0.2 0.3 0.4 0.5 0.6\n');
    expect(await validate(dir)).toEqual([{ severity: 'warning', code: 'label-mixed-rows', file: 'labels/train/a.txt', line: undefined, pointer: undefined }]);
  });
  it('a label file without an image', async () => {
    const dir = dataset('sound');
    fs.rmSync(path.join(dir, 'images', 'train', 'a.jpg'));
    expect(await validate(dir)).toEqual([{ severity: 'warning', code: 'label-without-image', file: 'labels/train/a.txt', line: undefined, pointer: undefined }]);
  });
});

describe('yolo_ultralytics validate: the repo fixtures', () => {
  // No images in these fixtures (the format tests generate them): each label file is reported as having none, nothing else.
  it('roboflow: only label-without-image warnings', async () => {
    const found = await validate(fixture('yolo', 'roboflow'));
    expect(found.map((f) => `${f.severity} ${f.code} ${f.file}`)).toEqual([
      'warning label-without-image train/labels/r1.txt', 'warning label-without-image train/labels/r2.txt', 'warning label-without-image val/labels/r3.txt',
    ]);
  });
  it('roboflow_obb (DOTA labelTxt, left to the importer): nothing', async () => {
    expect(await validate(fixture('yolo', 'roboflow_obb'))).toEqual([]);
  });
});

conformance('yolo_ultralytics validate on the corpus', () => {
  for (const name of ['yolo', 'yolo_obb']) {
    it(`roboflow_dataset/${name}: no findings`, async () => {
      expect(await validate(corpus('roboflow_dataset', name))).toEqual([]);
    });
  }
});

describe('yolo_ultralytics validate: malformed YAML is a finding, not a crash', () => {
  const write = (yaml: string) => { const dir = dataset('sound'); fs.writeFileSync(path.join(dir, 'data.yaml'), yaml); return dir; };
  it('not YAML', async () => {
    expect((await validate(write('train: [a\nval: b\nnames: {'))).map((f) => `${f.severity} ${f.code}`)).toEqual(['error bad-yaml']);
  });
  it('a names map with a gap', async () => {
    expect(await validate(write('train: images/train\nval: images/train\nnames:\n  0: cat\n  2: dog\n'))).toEqual([{ severity: 'error', code: 'names-gap', file: 'data.yaml', line: 3, pointer: '/names' }]);
  });
  it('no val and no names', async () => {
    expect((await validate(write('train: images/train\nnc: 2\n'))).map((f) => `${f.severity} ${f.code} ${f.pointer}`)).toEqual(['error schema /']);
  });
});
