import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conformance, corpus, fixture, ROOT, tempDir } from '../helpers/corpus.js';
import { runCli } from '../helpers/cli.js';
// @ts-expect-error: a plain .mjs script without types
import { makeSopFixture } from '../../scripts/make-sop-fixture.mjs';

const CVAT = path.join(ROOT, 'samples', 'cvat_dataset');
const COCO = fixture('coco');

const temps: string[] = [];
function temp(): string {
  const dir = tempDir('datum-report-');
  temps.push(dir);
  return dir;
}
afterAll(() => temps.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

// A tiny reader of the page: sections and tables by id, cells by data- attribute.
const decode = (s: string) => s.replace(/<[^>]+>/g, '').replace(/&#(\d+);/g, (_, n) => String.fromCharCode(Number(n))).replace(/&amp;/g, '&').trim();
const num = (s: string) => Number(decode(s).replace(/,/g, ''));
function block(html: string, tag: string, id: string): string {
  const start = html.indexOf(`<${tag} id="${id}"`);
  if (start < 0) return '';
  return html.slice(start, html.indexOf(`</${tag}>`, start) + tag.length + 3);
}
/** The rows of a table: each row's opening-tag attributes and its cells by data- attribute name (or position). */
function rows(table: string): { attrs: Record<string, string>; cells: { attrs: Record<string, string>; text: string }[] }[] {
  const attrsOf = (s: string) => Object.fromEntries([...s.matchAll(/([\w-]+)(?:="([^"]*)")?/g)].map((m) => [m[1], decode(m[2] ?? '')]));
  return [...table.matchAll(/<tr([^>]*)>(.*?)<\/tr>/g)].map((r) => ({
    attrs: attrsOf(r[1]),
    cells: [...r[2].matchAll(/<t[dh]([^>]*)>(.*?)<\/t[dh]>/g)].map((c) => ({ attrs: attrsOf(c[1]), text: c[2] })),
  }));
}
const cell = (row: ReturnType<typeof rows>[number], attr: string, value = '') => row.cells.find((c) => attr in c.attrs && (!value || c.attrs[attr] === value));

async function report(...args: string[]): Promise<{ html: string; summary: any; out: string }> {
  const out = path.join(temp(), 'report.html');
  const r = await runCli('report', ...args, '-o', out, '--json');
  expect(r.code, r.err + r.out).toBe(0);
  expect(r.out.trim().split('\n')).toHaveLength(1);
  return { html: fs.readFileSync(out, 'utf8'), summary: JSON.parse(r.out), out };
}

async function statsOf(input: string): Promise<any> {
  const r = await runCli('stats', input, '--json');
  expect(r.code, r.err).toBe(0);
  return JSON.parse(r.out);
}

/** The page's numbers against `datum stats --json` and `datum validate --json` of the same dataset. */
async function expectAgreesWithStats(input: string): Promise<string> {
  const { html, summary } = await report('-i', input);
  const stats = await statsOf(input);
  const totalAnnotations = Object.values(stats.annotations as Record<string, number>).reduce((a, b) => a + b, 0);
  const summarySection = block(html, 'section', 'summary');
  const stat = (key: string) => num(summarySection.match(new RegExp(`data-stat="${key}">([^<]*)<`))![1]);
  expect(stat('items')).toBe(stats.items);
  expect(stat('subsets')).toBe(Object.keys(stats.subsets).length);
  expect(stat('labels')).toBe(stats.labels.length);
  expect(stat('annotations')).toBe(totalAnnotations);

  const kindRows = rows(block(html, 'table', 'kinds'));
  const perSubset = kindRows.filter((r) => 'data-subset' in r.attrs);
  expect(Object.fromEntries(perSubset.map((r) => [r.attrs['data-subset'], num(cell(r, 'data-items')!.text)]))).toEqual(stats.subsets);
  const all = kindRows.find((r) => 'data-subset-total' in r.attrs)!;
  for (const [kind, n] of Object.entries(stats.annotations as Record<string, number>)) {
    const total = cell(all, 'data-kind', kind);
    if (n === 0) { expect(total).toBeUndefined(); continue; }
    expect(num(total!.text)).toBe(n);
    // the subsets' cells add up to the total
    expect(perSubset.reduce((a, r) => a + num(cell(r, 'data-kind', kind)!.text), 0)).toBe(n);
  }

  // every label is a row (and '(no label)' for unlabeled shapes); the rows hold every annotation
  const labelRows = rows(block(html, 'table', 'label-table')).filter((r) => 'data-label' in r.attrs);
  if (stats.labels.length <= 100) {
    const names = labelRows.map((r) => r.attrs['data-label']).filter((n) => n !== '(no label)');
    expect(names.sort()).toEqual([...stats.labels].sort());
    expect(labelRows.reduce((a, r) => a + num(cell(r, 'data-total')!.text), 0)).toBe(totalAnnotations);
  }

  const validate = await runCli('validate', input, '--json');
  const v = JSON.parse(validate.out).summary;
  expect(html).toContain(`data-findings="${v.errors},${v.warnings},${v.infos}"`);
  expect(summary).toMatchObject({ items: stats.items, annotations: totalAnnotations, labels: stats.labels.length, subsets: stats.subsets, findings: v });
  expectSelfContained(html);
  return html;
}

/** No script, no stylesheet link, and every src/href inside the page or a data: URI. */
function expectSelfContained(html: string): void {
  expect(html).not.toMatch(/<script|<link|<iframe|@import|url\(/i);
  const refs = [...html.matchAll(/\s(?:src|href)="([^"]*)"/gi)].map((m) => m[1]);
  for (const ref of refs) expect(ref).toMatch(/^(#|data:image\/(jpeg|png);base64,)/);
  expect(html).not.toMatch(/(src|href)\s*=\s*["']?\s*(https?:)?\/\//i);
}

describe('datum report: the numbers agree with datum stats and validate', () => {
  it('on the bundled CVAT sample, down to the label table and the missing labels', async () => {
    const html = await expectAgreesWithStats(CVAT);
    const labels = Object.fromEntries(rows(block(html, 'table', 'label-table')).filter((r) => r.attrs['data-label']).map((r) => [r.attrs['data-label'], ['Train', 'Validation', 'Test', ''].map((s) => num((s ? cell(r, 'data-subset', s) : cell(r, 'data-total'))!.text))]));
    expect(labels).toEqual({ car: [2, 1, 1, 4], person: [3, 0, 1, 4], 'traffic light': [1, 1, 0, 2] });
    const missing = block(html, 'ul', 'missing-labels');
    expect(missing).toContain('data-missing-subset="Validation" data-count="1"><b>Validation</b>: person<');
    expect(missing).toContain('data-missing-subset="Test" data-count="1"><b>Test</b>: traffic light<');
    expect(block(html, 'table', 'findings-table')).toMatch(/data-code="label-missing-in-subset" data-severity="warning">.*?<td data-count>2<\/td>/);
    // 10 boxes: 10 bars' worth in the histograms, 10 centres in the heatmap
    const geometry = block(html, 'section', 'geometry');
    expect(geometry).toContain('(10)');
    const heatCells = [...geometry.matchAll(/<rect class="cell"[^>]*><title>(\d+)<\/title>/g)].map((m) => Number(m[1]));
    expect(heatCells.reduce((a, b) => a + b, 0)).toBe(10);
    expect(geometry).toMatch(/<title>320x240 · items: 6<\/title>/);
  });

  it('on the COCO fixture (every kind, unlabeled captions)', async () => {
    const html = await expectAgreesWithStats(COCO);
    expect(rows(block(html, 'table', 'label-table')).some((r) => r.attrs['data-label'] === '(no label)')).toBe(true);
  });
});

conformance('datum report agrees with datum stats on the corpus', () => {
  for (const dir of ['coco_dataset/coco', 'coco_dataset/coco_person_keypoints', 'cvat_dataset/for_video', 'voc_dataset/voc_dataset1', 'voc_dataset/voc_dataset2', 'yolo_dataset/labels', 'roboflow_dataset/yolo_obb']) {
    it(dir, async () => { await expectAgreesWithStats(corpus(dir)); });
  }
});

describe('datum report --compare', () => {
  let work: string;
  beforeAll(() => { work = temp(); });
  const convert = async (input: string, name: string, ...extra: string[]) => {
    const out = path.join(work, name);
    const r = await runCli('convert', '-i', input, '-f', 'yolo_ultralytics', '-o', out, '--json', ...extra);
    expect(r.code, r.err).toBe(0);
    return { out, result: JSON.parse(r.out) };
  };
  /** A copy of the CVAT sample with its annotations.xml edited. */
  const editedCvat = (name: string, edit: (xml: string) => string) => {
    const dir = path.join(work, name);
    fs.cpSync(CVAT, dir, { recursive: true });
    const file = path.join(dir, 'annotations.xml');
    const xml = fs.readFileSync(file, 'utf8');
    const changed = edit(xml);
    expect(changed).not.toBe(xml);
    fs.writeFileSync(file, changed);
    return dir;
  };

  it('of a dataset with itself reports no difference', async () => {
    const { html, summary } = await report('-i', CVAT, '--compare', CVAT);
    expect(summary.compare).toMatchObject({ identical: true, matched: 6, onlySource: 0, onlyOther: 0, dropped: 0, added: 0, movedBoxes: 0, relabelled: 0, attributeChanges: 0 });
    const section = block(html, 'section', 'compare');
    expect(section).toContain('data-identical="true"');
    expect(section).toContain('data-boxes="10,0"');
    expect(section).toContain('id="compare-counts">Every subset');
    expectSelfContained(html);
  });

  it('of the CVAT sample with its YOLO conversion: subsets renamed, boxes in place, attributes and occlusion lost', async () => {
    const { out: yolo } = await convert(CVAT, 'cvat-yolo');
    const { html, summary } = await report('-i', CVAT, '--compare', yolo);
    // normalized YOLO boxes are scaled by the CVAT image sizes: none moved
    expect(summary.compare).toMatchObject({ identical: false, matched: 6, onlySource: 0, onlyOther: 0, dropped: 0, added: 0, movedBoxes: 0, relabelled: 0, attributeChanges: 5 });
    const section = block(html, 'section', 'compare');
    expect(section).toContain('data-compare="by-id">6<');
    expect(rows(block(section, 'table', 'compare-subsets')).slice(1).map((r) => r.cells.map((c) => decode(c.text)))).toEqual([['Train', 'train', '4'], ['Validation', 'val', '1'], ['Test', 'test', '1']]);
    expect(section).toContain('data-boxes="10,0"');
    expect(section).toContain('data-lost-attribute="parked" data-count="4"');
    expect(section).toContain('data-lost-attribute="occluded" data-count="2"');
  });

  it('the other way round (the YOLO conversion against the CVAT sample): attributes only there are a difference', async () => {
    const { out: yolo } = await convert(CVAT, 'cvat-yolo-reverse');
    const { html, summary } = await report('-i', yolo, '--compare', CVAT);
    expect(summary.compare).toMatchObject({ identical: false, matched: 6, dropped: 0, added: 0, movedBoxes: 0, attributeChanges: 0 });
    expect(summary.compare.attributesOnlyOther.sort()).toEqual(['occluded', 'parked']);
    const section = block(html, 'section', 'compare');
    expect(section).toContain('data-identical="false"');
    expect(section).toMatch(/Differences found: [^<]*attributes only there: (parked, occluded|occluded, parked)/);
  });

  it('two YOLO label folders without images: boxes compared as fractions of the image, a shift of a fifth found', async () => {
    const { out: yolo } = await convert(CVAT, 'cvat-yolo-a');
    const shifted = path.join(work, 'cvat-yolo-b');
    fs.cpSync(yolo, shifted, { recursive: true });
    const file = path.join(shifted, 'labels', 'train', 'street_001.txt');
    const lines = fs.readFileSync(file, 'utf8').trim().split('\n');
    const [cls, cx, ...rest] = lines[0].split(' ');
    lines[0] = [cls, (Number(cx) + 0.2).toFixed(6), ...rest].join(' ');
    fs.writeFileSync(file, lines.join('\n') + '\n');

    const same = await report('-i', yolo, '--compare', yolo);
    expect(same.summary.compare).toMatchObject({ identical: true, movedBoxes: 0 });
    const { html, summary } = await report('-i', yolo, '--compare', shifted);
    expect(summary.compare).toMatchObject({ identical: false, matched: 6, movedBoxes: 1, dropped: 0, added: 0 });
    const moved = rows(block(html, 'table', 'compare-moved')).filter((r) => r.attrs['data-moved-item']);
    expect(moved.map((r) => r.attrs['data-moved-item'])).toEqual(['train/street_001']);
    expect(decode(cell(moved[0], 'data-shift')!.text)).toBe('0.2000 of the image');
    expect(block(html, 'section', 'compare')).toContain('data-boxes="10,1"');
  });

  it('pixels without an image size (CUB) against normalized labels without images (its YOLO conversion): not measured, not moved', async () => {
    const cub = fixture('cub', 'CUB_200_2011');
    const { out: yolo } = await convert(cub, 'cub-yolo');
    const { html, summary } = await report('-i', cub, '--compare', yolo);
    expect(summary.compare).toMatchObject({ matched: 5, movedBoxes: 0, relabelled: 0 });
    const section = block(html, 'section', 'compare');
    expect(section).toContain('data-boxes="5,0"');
    expect(section).toContain('5 not measured: normalized coordinates on one side');
    expect(section).not.toContain('id="compare-moved"');
  });

  it('of the COCO fixture with its YOLO pose conversion lists what the export dropped', async () => {
    const { out: yolo, result } = await convert(COCO, 'coco-yolo');
    const { html, summary } = await report('-i', COCO, '--compare', yolo);
    const exportDropped = Object.values(result.dropped as Record<string, number>).reduce((a, b) => a + b, 0);
    expect(exportDropped).toBe(12);
    expect(summary.compare).toMatchObject({ identical: false, matched: 2, dropped: exportDropped, added: 0 });
    const counts = rows(block(html, 'table', 'compare-counts')).filter((r) => r.attrs['data-kind']);
    const byKind = (kind: string) => counts.filter((r) => r.attrs['data-kind'] === kind).reduce((a, r) => a + num(cell(r, 'data-source')!.text) - num(cell(r, 'data-other')!.text), 0);
    expect(byKind('caption')).toBe(result.dropped['caption in pose task']);
    expect(byKind('label')).toBe(result.dropped['label in pose task']);
    expect(byKind('polygon')).toBe(result.dropped['polygon in pose task']);
    const polygon = counts.find((r) => r.attrs['data-kind'] === 'polygon')!;
    expect(polygon.attrs).toMatchObject({ 'data-subset': 'val', 'data-label': 'ant' });
    expect(decode(cell(polygon, 'data-diff')!.text)).toBe('-1');
  });

  it('of the SOP fixture with its CUB conversion: the super-classes are lost', async () => {
    const work2 = temp();
    const { root } = await makeSopFixture(path.join(work2, 'sop'), { classesPerSuper: [3, 2], imagesPerClass: () => 2 });
    const cub = path.join(work2, 'cub');
    expect((await runCli('convert', '-i', root, '-f', 'cub', '-o', cub)).code).toBe(0);
    const { html, summary } = await report('-i', root, '--compare', cub);
    expect(summary.compare).toMatchObject({ identical: false, matched: 10, dropped: 0, added: 0, attributeChanges: 0, labelsOnlySource: 2, labelsOnlyOther: 0, parentChanged: 5 });
    const labels = block(html, 'ul', 'compare-labels');
    expect(labels).toMatch(/data-labels-only="source" data-count="2">only here: \w+, \w+</);
    expect(labels).toContain('data-parent-changed="5"');
    // CUB numbers its images: an attribute only there is noted, not a loss
    expect(block(html, 'section', 'compare')).toContain('Attributes only there: <code>image_id</code> (10)');
  });

  it('escapes label names: markup in a name stays text', async () => {
    const name = '<i>"tl" & \'x\'</i>';
    const xmlName = name.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
    const dir = editedCvat('markup', (xml) => xml.replaceAll('traffic light', xmlName));
    const { html } = await report('-i', dir, '--compare', CVAT);
    expect(html).not.toContain('<i>');
    expect(rows(block(html, 'table', 'label-table')).map((r) => r.attrs['data-label'])).toContain(name);
    expect(block(html, 'ul', 'compare-labels')).toContain('only there: traffic light');
    expectSelfContained(html);
  });

  it('finds a box moved by 3 px, a relabelled box and a dropped item', async () => {
    const moved = editedCvat('moved', (xml) => xml.replace('xtl="20.00" ytl="120.00" xbr="140.00"', 'xtl="23.00" ytl="120.00" xbr="143.00"'));
    const a = await report('-i', CVAT, '--compare', moved);
    expect(a.summary.compare).toMatchObject({ identical: false, movedBoxes: 1, dropped: 0, added: 0, relabelled: 0 });
    const movedRows = rows(block(a.html, 'table', 'compare-moved')).filter((r) => r.attrs['data-moved-item']);
    expect(movedRows).toHaveLength(1);
    expect(movedRows[0].attrs['data-moved-item']).toBe('Train/street_001');
    expect(decode(movedRows[0].cells[1].text)).toBe('car');
    expect(num(cell(movedRows[0], 'data-shift')!.text)).toBeCloseTo(3, 6);
    expect(block(a.html, 'section', 'compare')).toContain('1 box moved by more than a pixel');
    // the picture of the box here and there: cropped around the boxes, enlarged
    const picture = movedRows[0].cells.at(-1)!.text.match(/<img src="data:image\/jpeg;base64,([^"]+)" width="(\d+)" height="(\d+)"/);
    if (a.summary.thumbnails > 0) {
      expect(picture).not.toBeNull();
      const meta = await sharp(Buffer.from(picture![1], 'base64')).metadata();
      expect([meta.width, meta.height]).toEqual([Number(picture![2]), Number(picture![3])]);
      expect(Math.max(meta.width!, meta.height!)).toBe(240);
      // both outlines are drawn: pixels of the blue (here) and orange (there) colours
      const { data } = await sharp(Buffer.from(picture![1], 'base64')).removeAlpha().raw().toBuffer({ resolveWithObject: true });
      const near = ([r, g, b]: number[]) => { let n = 0; for (let k = 0; k < data.length; k += 3) if (Math.abs(data[k] - r) + Math.abs(data[k + 1] - g) + Math.abs(data[k + 2] - b) < 60) n++; return n; };
      expect(near([0, 114, 178])).toBeGreaterThan(50);
      expect(near([213, 94, 0])).toBeGreaterThan(50);
    }

    // a rotation gained moves the corners (10 degrees about the centre of a 120 x 70 box: the top-right
    // corner (60, -35) goes down by 60 sin 10 + 35 (1 - cos 10) = 10.95 px);
    // the person's 40 x 110 box written as 110 x 40 turned by 90 degrees is the same rectangle
    const turned = editedCvat('turned', (xml) => xml
      .replace('xtl="20.00" ytl="120.00" xbr="140.00" ybr="190.00"', 'xtl="20.00" ytl="120.00" xbr="140.00" ybr="190.00" rotation="10"')
      .replace('xtl="200.00" ytl="60.00" xbr="240.00" ybr="170.00"', 'xtl="165.00" ytl="95.00" xbr="275.00" ybr="135.00" rotation="90"'));
    const t = await report('-i', CVAT, '--compare', turned);
    expect(t.summary.compare).toMatchObject({ identical: false, movedBoxes: 1, dropped: 0, added: 0 });
    const turnedRows = rows(block(t.html, 'table', 'compare-moved')).filter((r) => r.attrs['data-moved-item']);
    expect(turnedRows.map((r) => decode(r.cells[1].text))).toEqual(['car']);
    expect(num(cell(turnedRows[0], 'data-shift')!.text)).toBeCloseTo(60 * Math.sin(Math.PI / 18) + 35 * (1 - Math.cos(Math.PI / 18)), 1);
    expect(decode(turnedRows[0].cells[4].text)).toBe('20, 120, 140, 190 ↻10°');

    // moved by one pixel: not a moved box
    const nudged = editedCvat('nudged', (xml) => xml.replace('xtl="20.00" ytl="120.00" xbr="140.00"', 'xtl="21.00" ytl="120.00" xbr="141.00"'));
    expect((await report('-i', CVAT, '--compare', nudged)).summary.compare).toMatchObject({ identical: true, movedBoxes: 0 });

    const relabelled = editedCvat('relabelled', (xml) => xml.replace('<box label="person" source="manual" occluded="0" xtl="200.00"', '<box label="car" source="manual" occluded="0" xtl="200.00"'));
    const b = await report('-i', CVAT, '--compare', relabelled);
    expect(b.summary.compare).toMatchObject({ relabelled: 1, movedBoxes: 0, dropped: 1, added: 1 });
    expect(block(b.html, 'table', 'compare-relabelled')).toContain('data-from="person" data-to="car"><td>person</td><td>car</td><td>1</td>');

    const droppedItem = editedCvat('dropped', (xml) => xml.replace(/<image id="2"[\s\S]*?<\/image>/, ''));
    const c = await report('-i', CVAT, '--compare', droppedItem);
    expect(c.summary.compare).toMatchObject({ matched: 5, onlySource: 1, onlyOther: 0, dropped: 2, added: 0 });
    expect(block(c.html, 'section', 'compare')).toContain('Only here: Train/street_003');
  });
});

describe('datum report of a calibration set', () => {
  let root: string;
  let calib: string;
  let classes: { superName: string; subset: string; paths: string[] }[];
  beforeAll(async () => {
    const work = temp();
    ({ root, classes } = await makeSopFixture(path.join(work, 'src'), { classesPerSuper: [8, 6, 4], imagesPerClass: (k: number) => 2 + (k % 3) }));
    calib = path.join(work, 'calib');
    const r = await runCli('calib', '-i', root, '-o', calib, '--size', '10', '--stratify', 'parent', '-f', 'sop');
    expect(r.code, r.err).toBe(0);
  });
  const strataOf = (html: string) => rows(block(html, 'table', 'strata')).filter((r) => r.attrs['data-stratum']).map((r) => [r.attrs['data-stratum'], num(cell(r, 'data-dataset')!.text), num(cell(r, 'data-chosen')!.text)]);

  it('the SOP dataset: annotations per super-class and subset as the fixture made them; no box charts', async () => {
    const html = await expectAgreesWithStats(root);
    const expected: Record<string, Record<string, number>> = {};
    for (const c of classes) {
      expected[c.superName] ??= { train: 0, test: 0 };
      expected[c.superName][c.subset] += c.paths.length;
    }
    const parents = rows(block(html, 'table', 'parent-table')).filter((r) => r.attrs['data-parent']);
    expect(Object.fromEntries(parents.map((r) => [r.attrs['data-parent'], { train: num(cell(r, 'data-subset', 'train')!.text), test: num(cell(r, 'data-subset', 'test')!.text) }]))).toEqual(expected);
    expect(parents.map((r) => num(cell(r, 'data-children')!.text))).toEqual(expect.arrayContaining([8, 6, 4]));
    // the label chart names each product class with its super-class (the class ids alone say nothing)
    const chartNames = new Set([...block(html, 'section', 'labels').split('</svg>')[0].matchAll(/<title>([^<]*) · /g)].map((m) => decode(m[1])));
    expect(chartNames.size).toBeGreaterThan(0);
    for (const name of chartNames) expect(Object.keys(expected)).toContain(name.split('/')[0]);
    const geometry = block(html, 'section', 'geometry');
    expect(geometry).toContain('No box, polygon, mask or ellipse');
    expect(geometry.match(/data-chart="histogram"/g)).toHaveLength(1); // objects per image
    // SOP lists no image sizes: they are read from the image files
    const expectedSizes: Record<string, number> = {};
    for (const c of classes) {
      for (const p of c.paths) {
        const { width, height } = await sharp(path.join(root, p)).metadata();
        expectedSizes[`${width}x${height}`] = (expectedSizes[`${width}x${height}`] ?? 0) + 1;
      }
    }
    const items = classes.reduce((a, c) => a + c.paths.length, 0);
    expect(geometry).toContain(`data-probed="${items}" data-probe-failed="0"`);
    const probed = Object.fromEntries([...geometry.matchAll(/<title>(\d+x\d+) · read from the image file: (\d+)<\/title>/g)].map((m) => [m[1], Number(m[2])]));
    expect(probed).toEqual(expectedSizes);
    expect(geometry).toContain(`<title>no size given · in the annotations: ${items}</title>`);
  });

  it('a calib folder: the manifest\'s strata against the pool, and its dataset/ reported', async () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(calib, 'manifest.json'), 'utf8'));
    const { html, summary } = await report('-i', calib);
    expect(strataOf(html)).toEqual(manifest.strata.map((s: any) => [s.name, s.dataset, s.chosen]));
    expect(strataOf(html)).toEqual([['bicycle', 11, 4], ['cabinet', 9, 3], ['chair', 7, 3]]);
    expect(summary).toMatchObject({ format: 'sop', items: 10, calibration: { count: 10, strata: 3 } });
    expect(block(html, 'section', 'calibration')).toMatch(/<svg class="chart" data-chart="bars"/);
  });

  it('the source dataset with --manifest: every chosen item found in it', async () => {
    const { html, summary } = await report('-i', root, '--manifest', path.join(calib, 'manifest.json'));
    expect(summary.calibration).toMatchObject({ count: 10, found: 10 });
    expect(html).toContain('data-manifest-found="10"');
    expect(summary.items).toBe((await statsOf(root)).items);
  });

  it('a calib folder without dataset/ is refused with what to do', async () => {
    const bare = path.join(temp(), 'bare');
    expect((await runCli('calib', '-i', root, '-o', bare, '--size', '4')).code).toBe(0);
    const out = path.join(temp(), 'r.html');
    const r = await runCli('report', '-i', bare, '-o', out);
    expect(r.code).toBe(1);
    expect(r.err).toContain('[calib-without-dataset]');
    expect(r.err).toContain('--manifest');
    expect(fs.existsSync(out)).toBe(false);
  });
});

describe('datum report writes one file atomically', () => {
  /** Nothing at `out` and no temporary file beside it. */
  const expectNothingAt = (out: string) => {
    expect(fs.existsSync(out)).toBe(false);
    expect(fs.readdirSync(path.dirname(out)).filter((n) => n.includes('datum-tmp'))).toEqual([]);
  };

  it('refuses an existing file without --overwrite and replaces it with it', async () => {
    const out = path.join(temp(), 'report.html');
    fs.writeFileSync(out, 'mine');
    const r = await runCli('report', '-i', CVAT, '-o', out);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`${out}: output file exists; pass --overwrite to replace it [output-exists]`);
    expect(fs.readFileSync(out, 'utf8')).toBe('mine');
    const again = await runCli('report', '-i', CVAT, '-o', out, '--overwrite');
    expect(again.code, again.err).toBe(0);
    expect(again.out).toMatch(/^wrote .*report\.html \(\d+ KB\): 6 items, 10 annotations, 3 labels/);
    expect(fs.readFileSync(out, 'utf8')).toMatch(/^<!doctype html>[\s\S]*<\/html>\n$/);
    expect(fs.readdirSync(path.dirname(out))).toEqual(['report.html']);
  });

  it('bad input, a bad --compare or manifest, an output inside the input or a folder: exit 1, named, nothing written', async () => {
    const dir = temp();
    const out = path.join(dir, 'report.html');
    const broken = path.join(temp(), 'broken');
    fs.mkdirSync(path.join(broken, 'annotations'), { recursive: true });
    fs.writeFileSync(path.join(broken, 'annotations', 'instances_train.json'), '{"images":[{"id":1,"file_name":"a.jpg"}],"annotations":[{"id":1,"image_id":1,"category_id":1,"bbox":[1,2');
    const cases: [string[], string][] = [
      [['-i', path.join(dir, 'nope')], '[input-missing]'],
      [['-i', broken], `${path.join(broken, 'annotations', 'instances_train.json')}:1: malformed JSON`],
      [['-i', CVAT, '--compare', broken], '[bad-json]'],
      [['-i', CVAT, '--compare', path.join(dir, 'nope')], '[input-missing]'],
      [['-i', CVAT, '--manifest', path.join(dir, 'nope.json')], '[file-not-found]'],
      [['-i', CVAT, '--manifest', path.join(CVAT, 'annotations.xml')], '[bad-manifest]'],
    ];
    for (const [args, code] of cases) {
      const r = await runCli('report', ...args, '-o', out);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.err).toContain(code);
      expect(r.err).not.toMatch(/TypeError|at .*\.ts:\d+/);
      expectNothingAt(out);
    }
    const inside = await runCli('report', '-i', CVAT, '-o', path.join(CVAT, 'report.html'));
    expect(inside.code).toBe(1);
    expect(inside.err).toContain('[output-overlaps-input]');
    expect(fs.existsSync(path.join(CVAT, 'report.html'))).toBe(false);
    const folder = await runCli('report', '-i', CVAT, '-o', dir);
    expect(folder.code).toBe(1);
    expect(folder.err).toContain('[output-is-folder]');
  });
});

describe('datum report geometry', () => {
  it('counts objects, not annotations: a COCO object\'s polygon and bbox are one object and one box', async () => {
    const root = path.join(temp(), 'coco');
    fs.mkdirSync(path.join(root, 'annotations'), { recursive: true });
    const object = (id: number, image: number, x: number, w: number) => ({ id, image_id: image, category_id: 1, iscrowd: 0, area: w * 10, bbox: [x, 5, w, 10], segmentation: [[x, 5, x + w, 5, x + w, 15, x, 15]] });
    fs.writeFileSync(path.join(root, 'annotations', 'instances_val.json'), JSON.stringify({
      images: [{ id: 1, file_name: 'a.jpg', width: 100, height: 50 }, { id: 2, file_name: 'b.jpg', width: 100, height: 50 }],
      categories: [{ id: 1, name: 'thing' }],
      // three objects 20 px wide on a, one 40 px wide on b
      annotations: [object(1, 1, 0, 20), object(2, 1, 30, 20), object(3, 1, 60, 20), object(4, 2, 10, 40)],
    }));
    const { html } = await report('-i', root);
    const chart = (name: string) => Object.fromEntries([...html.match(new RegExp(`<svg[^>]*aria-label="${name}"[\\s\\S]*?</svg>`))![0].matchAll(/<title>([^<:]+): (\d+)<\/title>/g)].map((m) => [decode(m[1]), Number(m[2])]));
    const objects = chart('Objects per image');
    expect(objects['1']).toBe(1);
    expect(objects['3']).toBe(1);
    expect(Object.values(objects).reduce((a, b) => a + b, 0)).toBe(2);
    const widths = chart('Box width \\(px\\)');
    expect(widths['<32']).toBe(3);
    expect(widths['<64']).toBe(1);
    expect(Object.values(widths).reduce((a, b) => a + b, 0)).toBe(4);
    // 20 x 10 and 40 x 10: aspect ratios 2 and 4, in [2, 4) and [4, 8); the bins below 1 are fractions
    expect(chart('Aspect ratio \\(width / height\\)')).toEqual({ '<1/16': 0, '<1/8': 0, '<1/4': 0, '<1/2': 0, '<1': 0, '<2': 0, '<4': 3, '<8': 1, '<16': 0, '16+': 0 });
    // the annotations are still counted one by one, as datum stats counts them
    expect(block(html, 'section', 'summary')).toContain('<td data-kind="bbox">4</td><td data-kind="polygon">4</td>');
  });
});

describe('datum report gallery', () => {
  it('thumbnails are small inline JPEGs of the items, or the page says why there are none', async () => {
    const { html, summary } = await report('-i', CVAT);
    const section = block(html, 'section', 'gallery');
    const images = [...section.matchAll(/<img src="data:image\/jpeg;base64,([^"]+)" width="(\d+)" height="(\d+)" alt="([^"]+)"/g)];
    if (summary.thumbnails === 0) {
      // src/report/preview.ts not landed yet: its stub throws, the page says so
      expect(section).toContain('No thumbnail could be drawn (preview: not written yet)');
      return;
    }
    // car, person, traffic light: up to 3 items each (park_004 has no annotation)
    expect(images.length).toBe(summary.thumbnails);
    expect(images.length).toBeGreaterThanOrEqual(3);
    expect(section.match(/<h3>/g)).toHaveLength(3);
    for (const [, data, w, h, alt] of images) {
      const meta = await sharp(Buffer.from(data, 'base64')).metadata();
      expect(meta.format).toBe('jpeg');
      expect([meta.width, meta.height]).toEqual([Number(w), Number(h)]);
      expect(Math.max(meta.width!, meta.height!)).toBeLessThanOrEqual(160);
      expect(alt).toMatch(/^(Train|Validation|Test)\/street_00\d$/);
    }
  });
});
