import { describe, expect, it } from 'vitest';
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
