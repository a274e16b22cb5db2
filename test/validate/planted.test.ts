import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateDataset } from '../../src/index.js';
import { fixture } from '../helpers/corpus.js';
import { materialize } from '../helpers/compare.js';
import { runCli } from '../helpers/cli.js';

/**
 * The issue's broken files through `datum validate --json`, the whole way (structural layer, import,
 * semantic layer): each gives exactly the error or warning it plants — with its location — and exit 1;
 * infos (labels unused, images absent) are notes and not counted here.
 */
const CASES: [name: string, dir: string, images: [string, number, number][], expected: string[]][] = [
  ['a COCO file without "images"', 'coco/no-images', [], ['error missing-key annotations/instances_default.json /images']],
  ['a COCO bbox of three numbers', 'coco/bbox-3-numbers', [], ['error schema annotations/instances_default.json /annotations/1/bbox']],
  // an annotation with a box and a polygon is one COCO annotation: one finding, an error (its label is lost)
  ['a COCO annotation whose category is not in "categories"', 'coco/unknown-category', [], ['error unknown-category annotations/instances_default.json /annotations']],
  ['an empty subset', 'coco/empty-subset', [], ['warning empty-subset annotations/instances_val.json /images']],
  ['a CVAT <box> without xbr', 'cvat/box-no-xbr', [], ['error missing-attribute annotations.xml:14']],
  ['a VOC <object> without <name>', 'voc/no-name', [], ['error missing-label Annotations/a.xml:19']],
  ['a data.yaml whose names is a string', 'yolo_ultralytics/names-string', [['images/train/a.jpg', 64, 48]], ['error schema data.yaml:4 /names']],
  ['a YOLO line with a class index past nc', 'yolo/class-past-nc', [], ['error label-class-out-of-range obj_train_data/a.txt:2']],
  ['a box 10 px outside its image', 'semantic/coco_defects', [], ['warning box-partly-outside train/a#0']],
];

describe('datum validate: one planted defect, one finding', () => {
  for (const [name, dir, images, expected] of CASES) {
    it(name, async () => {
      const root = images.length ? await materialize(fixture('validate', dir), images) : fixture('validate', dir);
      const r = await runCli('validate', root, '--json');
      const result = JSON.parse(r.out);
      const seen = result.findings.filter((f: { severity: string }) => f.severity !== 'info').map((f: any) => [
        f.severity, f.code,
        f.file ? `${f.file.slice(root.length + 1)}${f.line ? `:${f.line}` : ''}${f.pointer ? ` ${f.pointer}` : ''}` : `${f.item}#${f.annotation}`,
      ].join(' '));
      expect(seen).toEqual(expected);
      expect(r.code).toBe(expected.some((e) => e.startsWith('error')) ? 1 : 0);
      expect(r.err).toBe('');
    });
  }
});

describe('datum validate: which dataset', () => {
  it('refuses a folder holding several datasets, with -if too, naming them', async () => {
    for (const args of [[], ['-if', 'coco']]) {
      const r = await runCli('validate', fixture('validate', 'coco'), ...args);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.err).toMatch(/this folder holds \d+ datasets; name one as the input: bad-json-element \(coco\), bbox-3-numbers \(coco\), .* \[several-datasets\]/);
    }
  });
});

describe('datum validate: missing images when some are present', () => {
  it('each missing image is counted, past the examples kept too', async () => {
    const root = await materialize(fixture('validate', 'yolo', 'sound'), [['obj_train_data/a.jpg', 40, 30]]);
    const names = ['a', 'b', 'c', 'd', 'e'];
    fs.writeFileSync(path.join(root, 'train.txt'), names.map((n) => `data/obj_train_data/${n}.jpg\n`).join(''));
    for (const n of names.slice(1)) fs.copyFileSync(path.join(root, 'obj_train_data', 'a.txt'), path.join(root, 'obj_train_data', `${n}.txt`));
    const all = await validateDataset(root, { format: 'yolo' });
    const few = await validateDataset(root, { format: 'yolo', maxFindings: 1 });
    expect(few.summary).toEqual(all.summary);
    const sorted = (counts: typeof all.counts) => [...counts].sort((x, y) => x.code.localeCompare(y.code));
    expect(sorted(few.counts)).toEqual(sorted(all.counts));
    const missing = all.counts.filter((c) => c.code === 'listed-image-missing');
    expect(missing).toEqual([{ code: 'listed-image-missing', severity: 'warning', count: 4 }]);
    expect(all.findings.filter((f) => f.code === 'listed-image-missing').map((f) => f.line)).toEqual([2, 3, 4, 5]);
    expect(few.findings.length).toBe(1);
  });
});
