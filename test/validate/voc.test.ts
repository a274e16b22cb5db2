import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Diagnostic } from '../../src/diagnostics.js';
import { plugin } from '../../formats/voc/index.js';
import { conformance, corpus, fixture, tempDir } from '../helpers/corpus.js';
import { structuralFindings } from '../helpers/validate.js';

const validate = (input: string): Promise<Diagnostic[]> => structuralFindings(plugin, input);

/** What a test compares: severity, code, file (relative to the dataset, '/'-separated), line, element. */
async function findings(input: string) {
  return (await validate(input)).map((d) => ({ severity: d.severity, code: d.code, file: d.file && path.relative(input, d.file).split(path.sep).join('/'), line: d.line, element: d.element }));
}

const broken = (name: string) => fixture('validate', 'voc', name);
const errors = (list: Diagnostic[]) => list.filter((d) => d.severity === 'error');

describe('voc validate: one planted defect each', () => {
  it('an <object> without <name>', async () => {
    expect(await findings(broken('no-name'))).toEqual([
      { severity: 'error', code: 'missing-label', file: 'Annotations/a.xml', line: 19, element: '<object> #2' },
    ]);
  });

  it('an <xmin> that is 12px', async () => {
    expect(await findings(broken('bad-xmin'))).toEqual([
      { severity: 'error', code: 'bad-number', file: 'Annotations/a.xml', line: 13, element: "<object> #1 'cat' <bndbox> <xmin>" },
    ]);
    expect((await validate(broken('bad-xmin')))[0].message).toContain("'12px' is not a number");
  });

  it('a file that is not well-formed XML', async () => {
    const found = await validate(broken('malformed'));
    expect(found.map((d) => [d.severity, d.code, path.basename(d.file!), d.line, d.column])).toEqual([['error', 'bad-xml', 'a.xml', 17, 5]]);
  });

  it('an ImageSets line naming no annotation file', async () => {
    expect(await findings(broken('missing-list-id'))).toEqual([
      { severity: 'warning', code: 'listed-without-files', file: 'ImageSets/Main/train.txt', line: 2, element: undefined },
    ]);
  });

  it('a listed id with its image but no annotation file is only a note', async () => {
    const dir = tempDir();
    fs.cpSync(broken('missing-list-id'), dir, { recursive: true });
    fs.mkdirSync(path.join(dir, 'JPEGImages'));
    fs.writeFileSync(path.join(dir, 'JPEGImages', 'b.jpg'), '');
    expect((await findings(dir)).map((f) => [f.severity, f.code, f.line])).toEqual([['info', 'listed-without-annotation', 2]]);
  });

  it('an annotation file in no ImageSets list', async () => {
    const dir = tempDir();
    fs.cpSync(broken('missing-list-id'), dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'ImageSets', 'Main', 'train.txt'), 'a\n');
    fs.copyFileSync(path.join(dir, 'Annotations', 'a.xml'), path.join(dir, 'Annotations', 'c.xml'));
    expect((await findings(dir)).map((f) => [f.severity, f.code, f.file])).toEqual([['warning', 'unlisted-annotation', 'Annotations/c.xml']]);
  });
});

describe('voc validate: reading goes on after a defect', () => {
  it('reports every defect of a file', async () => {
    const file = 'Annotations/a.xml';
    expect(await findings(broken('many'))).toEqual([
      { severity: 'error', code: 'bad-size', file, line: 5, element: '<size> <width>' },
      { severity: 'error', code: 'bad-number', file, line: 15, element: "<object> #1 'cat' <bndbox> <xmax>" },
      { severity: 'warning', code: 'bad-flag', file, line: 11, element: "<object> #1 'cat' <difficult>" },
      { severity: 'error', code: 'missing-label', file, line: 19, element: '<object> #2' },
      { severity: 'error', code: 'missing-element', file, line: 20, element: '<object> #2 <bndbox>' },
      { severity: 'error', code: 'missing-bndbox', file, line: 25, element: "<object> #2 <part> #1 'head'" },
      { severity: 'error', code: 'missing-bndbox', file, line: 29, element: "<object> #3 'dog'" },
    ]);
  });

  it('an inverted box is an error in either box convention; a <filename> outside the folder a warning', async () => {
    const dir = tempDir();
    fs.mkdirSync(path.join(dir, 'Annotations'));
    const xml = fs.readFileSync(path.join(broken('bad-xmin'), 'Annotations', 'a.xml'), 'utf8')
      .replace('<xmin>12px</xmin>', '<xmin>40</xmin>').replace('<xmax>40</xmax>', '<xmax>38</xmax>').replace('a.jpg', '/etc/a.jpg');
    fs.writeFileSync(path.join(dir, 'Annotations', 'a.xml'), xml);
    const expected = [
      { severity: 'warning', code: 'unsafe-path', file: 'Annotations/a.xml', line: 3, element: '<filename>' },
      { severity: 'error', code: 'bad-bbox', file: 'Annotations/a.xml', line: 12, element: "<object> #1 'cat' <bndbox>" },
    ];
    expect(await findings(dir)).toEqual(expected);
    // xmax = xmin - 1 is a zero-width box in VOC's 1-based convention, inverted in Datumaro's.
    fs.writeFileSync(path.join(dir, 'Annotations', 'a.xml'), xml.replace('<xmax>38</xmax>', '<xmax>39</xmax>'));
    expect((await findings(dir)).map((f) => f.code)).toEqual(['unsafe-path']);
    expect((await structuralFindings(plugin, dir, { coords: 'datumaro' })).map((f) => f.code)).toEqual(['unsafe-path', 'bad-bbox']);
  });

  it('labelmap.txt lines, and a name the labelmap does not hold', async () => {
    expect(await findings(broken('labelmap'))).toEqual([
      { severity: 'warning', code: 'duplicate-label', file: 'labelmap.txt', line: 4, element: undefined },
      { severity: 'warning', code: 'bad-color', file: 'labelmap.txt', line: 5, element: undefined },
      { severity: 'error', code: 'bad-labelmap', file: 'labelmap.txt', line: 6, element: undefined },
      { severity: 'error', code: 'unknown-label', file: 'Annotations/a.xml', line: 10, element: '<object> #1 <name>' },
    ]);
  });

  it('a root other than <annotation>, a file and a missing path are findings, not exceptions', async () => {
    const dir = tempDir();
    fs.mkdirSync(path.join(dir, 'Annotations'));
    fs.writeFileSync(path.join(dir, 'Annotations', 'x.xml'), '<?xml version="1.0"?>\n<annotations>\n</annotations>\n');
    expect(await findings(dir)).toEqual([{ severity: 'error', code: 'not-voc-annotation', file: 'Annotations/x.xml', line: 2, element: '<annotations>' }]);
    expect((await findings(path.join(dir, 'Annotations', 'x.xml'))).map((f) => f.code)).toEqual(['not-a-folder']);
    expect((await findings(tempDir())).map((f) => f.code)).toEqual(['no-annotations']);
  });
});

describe('voc validate: sound datasets give no errors', () => {
  for (const dir of ['voc/comments', 'voc/detection', 'voc/labelmap', 'voc/roboflow']) {
    it(dir, async () => { expect(errors(await validate(fixture(dir)))).toEqual([]); });
  }
});

conformance('voc validate on the corpus', () => {
  for (const dir of ['voc_dataset/voc_dataset1', 'voc_dataset/voc_dataset2', 'voc_dataset/voc_dataset3', 'roboflow_dataset/voc']) {
    it(`${dir}: no errors`, async () => { expect(errors(await validate(corpus(dir)))).toEqual([]); });
  }
});
