import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Diagnostic } from '../../src/diagnostics.js';
import { plugin } from '../../formats/cvat/index.js';
import { conformance, corpus, fixture, ROOT, tempDir } from '../helpers/corpus.js';
import { structuralFindings } from '../helpers/validate.js';

const validate = (input: string): Promise<Diagnostic[]> => structuralFindings(plugin, input);

/** What a test compares: severity, code, file (relative to the dataset), line, element. */
async function findings(input: string) {
  return (await validate(input)).map((d) => ({ severity: d.severity, code: d.code, file: d.file && path.relative(input, d.file), line: d.line, element: d.element }));
}

const broken = (name: string) => fixture('validate', 'cvat', name);
const errors = (list: Diagnostic[]) => list.filter((d) => d.severity === 'error');

describe('cvat validate: one planted defect each', () => {
  it('a <box> without xbr', async () => {
    expect(await findings(broken('box-no-xbr'))).toEqual([
      { severity: 'error', code: 'missing-attribute', file: 'annotations.xml', line: 14, element: '<image id="0" name="a.jpg"> <box>' },
    ]);
    expect((await validate(broken('box-no-xbr')))[0].message).toBe('<box> has no xbr attribute');
  });

  it('an <image> whose width is abc', async () => {
    expect(await findings(broken('bad-width'))).toEqual([
      { severity: 'error', code: 'bad-size', file: 'annotations.xml', line: 16, element: '<image id="1" name="b.jpg">' },
    ]);
    expect((await validate(broken('bad-width')))[0].message).toContain('width="abc"');
  });

  it('a polygon with points 1,2;3', async () => {
    expect(await findings(broken('bad-points'))).toEqual([
      { severity: 'error', code: 'bad-points', file: 'annotations.xml', line: 15, element: '<image id="0" name="a.jpg"> <polygon>' },
    ]);
  });

  it('a label not declared in <meta>', async () => {
    expect(await findings(broken('unknown-label'))).toEqual([
      { severity: 'error', code: 'unknown-label', file: 'annotations.xml', line: 17, element: '<image id="1" name="b.jpg"> <box>' },
    ]);
    expect((await validate(broken('unknown-label')))[0].message).toBe("label 'truck' is not declared in <meta>");
  });

  it('malformed XML: one error at the mismatched tag, nothing after it', async () => {
    expect(await findings(broken('malformed'))).toEqual([
      { severity: 'error', code: 'malformed-xml', file: 'annotations.xml', line: 15, element: undefined },
    ]);
  });
});

describe('cvat validate: reading goes on after a defect', () => {
  it('reports every defect of a file, in document order', async () => {
    const where0 = '<image id="0" name="a.jpg">';
    expect(await findings(broken('many'))).toEqual([
      { severity: 'warning', code: 'bad-flag', file: 'annotations.xml', line: 14, element: `${where0} <box>` },
      { severity: 'error', code: 'bad-number', file: 'annotations.xml', line: 14, element: `${where0} <box>` },
      { severity: 'error', code: 'bad-mask', file: 'annotations.xml', line: 15, element: `${where0} <mask>` },
      { severity: 'error', code: 'missing-attribute', file: 'annotations.xml', line: 16, element: `${where0} <ellipse>` },
      { severity: 'error', code: 'missing-attribute', file: 'annotations.xml', line: 18, element: '<image name="b.jpg">' },
      { severity: 'error', code: 'unknown-label', file: 'annotations.xml', line: 19, element: '<image name="b.jpg"> <tag>' },
      { severity: 'error', code: 'missing-attribute', file: 'annotations.xml', line: 22, element: '<track id="0" label="car"> <box>' },
      { severity: 'error', code: 'bad-number', file: 'annotations.xml', line: 23, element: '<track id="0" label="car"> <box frame="1">' },
    ]);
  });

  it('a file that is not CVAT beside the annotations is an info; a lone one an error', async () => {
    const dir = tempDir();
    fs.copyFileSync(path.join(ROOT, 'samples/cvat_dataset/annotations.xml'), path.join(dir, 'annotations.xml'));
    fs.writeFileSync(path.join(dir, 'other.xml'), '<config>\n</config>\n');
    expect(await findings(dir)).toEqual([{ severity: 'info', code: 'not-cvat', file: 'other.xml', line: 1, element: undefined }]);
    expect((await findings(path.join(dir, 'other.xml'))).map((f) => [f.severity, f.code])).toEqual([['error', 'not-cvat']]);
  });

  it('a folder without XML, and a path that does not exist, are findings, not exceptions', async () => {
    expect((await findings(tempDir())).map((f) => f.code)).toEqual(['no-annotations']);
    expect((await findings(path.join(tempDir(), 'missing'))).map((f) => f.code)).toEqual(['unreadable']);
  });
});

describe('cvat validate: skeletons, tracks and paths', () => {
  const META = `<annotations>
<meta><task><labels>
<label><name>body</name><type>skeleton</type></label>
<label><name>head</name><type>points</type><parent>body</parent></label>
<label><name>tail</name><type>points</type><parent>body</parent></label>
</labels></task></meta>
`;
  const write = (body: string) => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'annotations.xml'), `${META}${body}</annotations>\n`);
    return dir;
  };

  it('a skeleton point that is not a keypoint, a point with two pairs, an image name outside the folder', async () => {
    // META is 6 lines: the <image> is on line 7; points inside a skeleton have their skeleton's line.
    const dir = write(`<image id="0" name="../a.jpg" width="10" height="10">
<skeleton label="body">
<points label="head" points="1,2"></points>
<points label="wing" points="1,2"></points>
<points label="tail" points="1,2;3,4"></points>
</skeleton>
</image>
`);
    const sk = '<image id="0" name="../a.jpg"> <skeleton>';
    expect(await findings(dir)).toEqual([
      { severity: 'error', code: 'unsafe-path', file: 'annotations.xml', line: 7, element: '<image id="0" name="../a.jpg">' },
      { severity: 'error', code: 'unknown-keypoint', file: 'annotations.xml', line: 8, element: `${sk} <points label="wing">` },
      { severity: 'error', code: 'bad-points', file: 'annotations.xml', line: 8, element: `${sk} <points label="tail">` },
    ]);
  });

  it('a skeleton track in the nested layout: keypoint tracks and their frames', async () => {
    const dir = write(`<track id="0" label="body">
<skeleton frame="0" keyframe="1" outside="0"><points label="head" points="1,2"></points></skeleton>
<track label="nose"><points frame="0" outside="0" points="1,2"></points></track>
<track label="tail"><points frame="x" outside="0" points="1,2"></points></track>
</track>
<track id="t" label="dog">
<box frame="0" outside="0" keyframe="1" xtl="1" ytl="2" xbr="3" ybr="4"></box>
</track>
`);
    expect((await findings(dir)).map((f) => [f.code, f.line, f.element])).toEqual([
      ['unknown-keypoint', 9, '<track id="0" label="body"> <track label="nose">'],
      ['bad-number', 10, '<track id="0" label="body"> <track label="tail"> <points frame="x">'],
      ['bad-number', 12, '<track id="t" label="dog">'],
      ['unknown-label', 12, '<track id="t" label="dog">'],
    ]);
  });

  it('without labels in <meta>, labels are not checked (the importer takes them from the shapes)', async () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'annotations.xml'), '<annotations>\n<image id="0" name="a.jpg" width="4" height="4">\n<tag label="any"></tag>\n</image>\n</annotations>\n');
    expect((await findings(dir)).map((f) => [f.severity, f.code])).toEqual([['warning', 'no-meta']]);
  });
});

describe('cvat validate: sound datasets give no errors', () => {
  for (const dir of ['cvat/export_project', 'cvat/export_task', 'cvat/for_video']) {
    it(dir, async () => { expect(errors(await validate(fixture(dir)))).toEqual([]); });
  }
  it('samples/cvat_dataset', async () => {
    expect(await validate(path.join(ROOT, 'samples/cvat_dataset'))).toEqual([]);
  });
});

conformance('cvat validate on the corpus', () => {
  for (const dir of ['cvat_dataset/for_images/export_project', 'cvat_dataset/for_images/export_task', 'cvat_dataset/for_video']) {
    it(`${dir}: no errors`, async () => { expect(errors(await validate(corpus(dir)))).toEqual([]); });
  }
});
