import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { plugin } from '../../formats/yolo/index.js';
import { conformance, corpus, fixture, tempDir } from '../helpers/corpus.js';
import { structuralFindings } from '../helpers/validate.js';

/** A copy of a broken fixture with its (empty) image: validate only checks that it exists. */
function dataset(name: string): string {
  const dir = path.join(tempDir('datum-vy-'), name);
  fs.cpSync(fixture('validate', 'yolo', name), dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'obj_train_data', 'a.jpg'), '');
  return dir;
}

async function validate(dir: string) {
  return (await structuralFindings(plugin, dir)).map((m) => ({ severity: m.severity, code: m.code, file: m.file && path.relative(dir, m.file), line: m.line }));
}

describe('yolo validate: one planted defect each', () => {
  it('a sound dataset has no findings', async () => {
    expect(await validate(dataset('sound'))).toEqual([]);
  });
  it('classes=abc', async () => {
    expect(await validate(dataset('bad-classes'))).toEqual([{ severity: 'error', code: 'bad-classes', file: 'obj.data', line: 1 }]);
  });
  it('a class index past the names', async () => {
    expect(await validate(dataset('class-past-nc'))).toEqual([{ severity: 'error', code: 'label-class-out-of-range', file: 'obj_train_data/a.txt', line: 2 }]);
  });
  it('a listed image that does not exist', async () => {
    const dir = dataset('sound');
    fs.rmSync(path.join(dir, 'obj_train_data', 'a.jpg'));
    expect(await validate(dir)).toEqual([{ severity: 'warning', code: 'listed-image-missing', file: 'train.txt', line: 1 }]);
  });
  it('classes not matching obj.names', async () => {
    const dir = dataset('sound');
    fs.writeFileSync(path.join(dir, 'obj.names'), 'cat\ndog\nbird\n');
    expect(await validate(dir)).toEqual([{ severity: 'warning', code: 'class-count-mismatch', file: 'obj.data', line: 1 }]);
  });
  it('no obj.names', async () => {
    const dir = dataset('sound');
    fs.rmSync(path.join(dir, 'obj.names'));
    expect(await validate(dir)).toEqual([{ severity: 'error', code: 'names-missing', file: 'obj.data', line: 3 }]);
  });
});

describe('yolo validate: the repo fixtures', () => {
  // The fixtures hold no images (the format tests generate them): that is all they are reported for.
  it('strict: its listed image is missing, nothing else', async () => {
    expect(await validate(fixture('yolo', 'strict'))).toEqual([{ severity: 'warning', code: 'listed-image-missing', file: 'train.txt', line: 1 }]);
  });
  it('annotations, labels: label files without images, nothing else', async () => {
    expect(await validate(fixture('yolo', 'annotations'))).toEqual([{ severity: 'warning', code: 'label-without-image', file: 'Annotations/0042.txt', line: undefined }]);
    expect((await validate(fixture('yolo', 'labels'))).map((f) => f.code)).toEqual(['label-without-image', 'label-without-image']);
  });
});

conformance('yolo validate on the corpus', () => {
  for (const name of ['strict', 'annotations', 'labels']) {
    it(`yolo_dataset/${name}: no findings`, async () => {
      expect(await validate(corpus('yolo_dataset', name))).toEqual([]);
    });
  }
});
