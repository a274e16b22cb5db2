import { afterEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { UsageError } from '../../src/diagnostics.js';
import { collect, type Annotation, type Dataset, type Item } from '../../src/model.js';
import { createContext, importDataset } from '../../src/pipeline.js';
import { parseTransform } from '../../src/transforms/index.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/corpus.js';

const CATEGORIES = [{ name: 'car' }, { name: 'bus' }, { name: 'person' }];
const [CAR, BUS, PERSON] = [0, 1, 2];

function dataset(): Dataset {
  const items: Item[] = [
    {
      id: 'a', subset: 'train', image: { path: '/x/a.jpg', width: 640, height: 480 }, attributes: { weather: 'rain', frame: 3 },
      annotations: [
        { type: 'bbox', label: CAR, x: 0, y: 0, w: 20, h: 10, id: 1 }, // area 200
        { type: 'bbox', label: BUS, x: 0, y: 0, w: 5, h: 4, id: 2, occluded: true }, // area 20
        { type: 'polygon', label: PERSON, points: [0, 0, 10, 0, 10, 10, 0, 10], id: 3, attributes: { pose: 'left' } }, // area 100
      ],
    },
    {
      id: 'b', subset: 'val', image: { path: '/x/b.jpg', width: 100, height: 50 }, attributes: { weather: 'sun', frame: 12 },
      annotations: [{ type: 'bbox', label: PERSON, x: 1, y: 1, w: 2, h: 3, id: 4, attributes: { pose: 'right', truncated: true } }],
    },
    { id: 'c', subset: 'train', annotations: [] },
    { id: 'd', subset: 'val', annotations: [{ type: 'label', label: CAR }, { type: 'caption', caption: 'a car' }] },
  ];
  return { categories: CATEGORIES, items };
}

async function run(spec: string, source: Dataset = dataset()) {
  const ctx = createContext();
  const input = structuredClone({ ...source, items: [...(source.items as Item[])] });
  const out = await collect(await parseTransform(spec)(input, ctx));
  // The input items are never changed in place.
  expect(input.items).toEqual(source.items);
  return { items: out.items, categories: out.categories, messages: ctx.reporter.messages };
}

const ids = (items: Item[]) => items.map((i) => i.id);
const annotationIds = (items: Item[]) => Object.fromEntries(items.map((i) => [i.id, i.annotations.map((a) => a.id ?? a.type)]));

describe('filter: item-level expressions', () => {
  it('keeps the items by subset, empty, annotation count, image size and item attributes', async () => {
    expect(ids((await run('filter:subset == train')).items)).toEqual(['a', 'c']);
    expect(ids((await run('filter:not empty')).items)).toEqual(['a', 'b', 'd']);
    expect(ids((await run('filter:empty')).items)).toEqual(['c']);
    expect(ids((await run('filter:annotations >= 2')).items)).toEqual(['a', 'd']);
    expect(ids((await run('filter:image_width > 200')).items)).toEqual(['a']);
    // An item without a known size fails every comparison of it, != too.
    expect(ids((await run('filter:image_height != 50')).items)).toEqual(['a']);
    expect(ids((await run('filter:attr.weather == sun')).items)).toEqual(['b']);
    expect(ids((await run('filter:attr.frame > 5')).items)).toEqual(['b']);
    expect(ids((await run('filter:id in (a, d)')).items)).toEqual(['a', 'd']);
    expect(ids((await run('filter:not (subset == val and not empty)')).items)).toEqual(['a', 'c']);
  });

  it('keeps a kept item whole and reports the counts', async () => {
    const r = await run('filter:"subset == val"');
    expect(r.items.map((i) => i.annotations.length)).toEqual([1, 2]);
    expect(r.messages).toEqual([expect.objectContaining({ severity: 'info', code: 'filter', message: 'filter: kept 2 of 4 items (2 dropped), 3 of 6 annotations (3 dropped)' })]);
  });
});

describe('filter: annotation-level expressions', () => {
  it('keeps the matching annotations and every item', async () => {
    const r = await run('filter:"label in (car,bus) and area >= 100"');
    expect(annotationIds(r.items)).toEqual({ a: [1], b: [], c: [], d: [] });
    expect(r.messages.at(-1)?.message).toBe('filter: kept 4 of 4 items (0 dropped), 1 of 6 annotations (5 dropped, including 2 labels or captions without a size)');
  });

  it('drops the items whose annotations were all filtered out with drop_empty=true; items empty before stay', async () => {
    const r = await run('filter:type == bbox and width >= 10 and height >= 10;drop_empty=true');
    expect(annotationIds(r.items)).toEqual({ a: [1], c: [] });
    expect(r.messages.at(-1)?.message).toBe('filter: kept 2 of 4 items (2 dropped), 1 of 6 annotations (5 dropped, including 2 labels or captions without a size)');
    expect(ids((await run('filter:type == bbox and width >= 10;drop_empty=false')).items)).toEqual(['a', 'b', 'c', 'd']);
  });

  it('filters by type, occluded, group, track, annotation attributes and item fields together', async () => {
    expect(annotationIds((await run('filter:type != bbox')).items)).toEqual({ a: [3], b: [], c: [], d: ['label', 'caption'] });
    expect(annotationIds((await run('filter:occluded')).items)).toEqual({ a: [2], b: [], c: [], d: [] });
    expect(annotationIds((await run('filter:not occluded and subset == train')).items)).toEqual({ a: [1, 3], b: [], c: [], d: [] });
    // attr.NAME alone is an item-level expression (no item has a pose); level=annotation makes it the annotations'.
    expect(ids((await run('filter:attr.pose == right')).items)).toEqual([]);
    expect(annotationIds((await run('filter:attr.pose == right;level=annotation')).items)).toEqual({ a: [], b: [4], c: [], d: [] });
    // attr.NAME is the annotation's attribute in an annotation-level expression; missing is false for != too.
    expect(annotationIds((await run('filter:attr.pose != left and label == person')).items)).toEqual({ a: [], b: [4], c: [], d: [] });
    expect(annotationIds((await run('filter:attr.truncated == true;level=annotation')).items)).toEqual({ a: [], b: [4], c: [], d: [] });
    // label of an unlabeled annotation is ''.
    const unlabeled = await run("filter:label == ''");
    expect(annotationIds(unlabeled.items)).toEqual({ a: [], b: [], c: [], d: ['caption'] });
    expect(unlabeled.messages.filter((m) => m.severity === 'warning')).toEqual([]); // '' is no label to warn about
  });

  it('drops with not (...)', async () => {
    const r = await run('filter:"not (label == person or area < 50)"');
    // A label or caption has no area: area < 50 is false for it, so not (...) keeps it.
    expect(annotationIds(r.items)).toEqual({ a: [1], b: [], c: [], d: ['label', 'caption'] });
    expect(annotationIds((await run('filter:not (label == person)')).items)).toEqual({ a: [1, 2], b: [], c: [], d: ['label', 'caption'] });
  });

  it('computes the area and size of each shape kind', async () => {
    const shapes: Annotation[] = [
      { type: 'bbox', x: 5, y: 5, w: 4, h: 3, id: 1 }, // 12, 4 x 3
      { type: 'bbox', x: 0, y: 0, w: 4, h: 2, rotation: 90, id: 2 }, // 8, bounds 2 x 4
      { type: 'polygon', points: [0, 0, 4, 0, 0, 3], id: 3 }, // triangle 6, 4 x 3
      // 3 x 2 rectangle, mask 4 wide: rows 1 and 2, columns 1..3 -> 6 pixels, 3 x 2
      { type: 'mask', left: 10, top: 10, width: 4, height: 3, rle: [5, 3, 1, 3], id: 4 },
      { type: 'ellipse', cx: 0, cy: 0, rx: 2, ry: 1, id: 5 }, // 2 pi, 4 x 2
      { type: 'ellipse', cx: 0, cy: 0, rx: 2, ry: 1, rotation: 90, id: 6 }, // 2 x 4
      { type: 'polyline', points: [0, 0, 7, 1], id: 7 }, // 0, 7 x 1
      { type: 'points', points: [1, 1, 3, 6], id: 8 }, // 0, 2 x 5
      { type: 'skeleton', points: [0, 0, 2, 2, 100, 100], visibility: [2, 1, 0], id: 9 }, // invisible point ignored: 2 x 2
      { type: 'label', id: 10 },
      { type: 'points', points: [2, 2, 100, 100, 6, 3], visibility: [2, 0, 1], id: 11 }, // 4 x 1 without the absent point
    ];
    const source: Dataset = { categories: [], items: [{ id: 'x', subset: '', annotations: shapes }] };
    const pick = async (expression: string) => (await run(`filter:${expression}`, source)).items[0].annotations.map((a) => a.id);
    expect(await pick('area == 12')).toEqual([1]);
    expect(await pick('area == 8')).toEqual([2]);
    expect(await pick('area == 6')).toEqual([3, 4]);
    expect(await pick(`area > 6.28 and area < 6.29`)).toEqual([5, 6]);
    // Lines and points have no area; a label has none at all (missing: every comparison is false).
    expect(await pick('area == 0')).toEqual([7, 8, 9, 11]);
    expect(await pick('not (area > 0)')).toEqual([7, 8, 9, 10, 11]);
    expect(await pick('width == 4 and height == 3')).toEqual([1, 3]);
    expect(await pick('width > 1.999 and width < 2.001 and height > 3.999 and height < 4.001')).toEqual([2, 6]);
    expect(await pick('width == 3 and height == 2')).toEqual([4]);
    expect(await pick('width == 4 and height == 2')).toEqual([5]);
    expect(await pick('width == 7 and height == 1')).toEqual([7]);
    expect(await pick('width == 2 and height == 5')).toEqual([8]);
    expect(await pick('type == skeleton and width == 2 and height == 2')).toEqual([9]);
    // Only the points not absent count, for points as for skeletons (shapes_to_boxes boxes the same).
    expect(await pick('type == points and width == 4 and height == 1')).toEqual([11]);
    expect(await pick('width == 0 or height == 0')).toEqual([]);
    expect(await pick('width >= 0')).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 11]);
  });

  it('warns when sizes are compared on items with normalized coordinates', async () => {
    const source: Dataset = { categories: [], items: [
      { id: 'n', subset: '', normalized: true, annotations: [{ type: 'bbox', x: 0.1, y: 0.1, w: 0.5, h: 0.5 }] },
      { id: 'p', subset: '', annotations: [{ type: 'bbox', x: 1, y: 1, w: 50, h: 50 }] },
    ] };
    const r = await run('filter:width >= 10', source);
    expect(r.items.map((i) => i.annotations.length)).toEqual([0, 1]);
    expect(r.messages.filter((m) => m.severity === 'warning').map((m) => m.message)).toEqual(['filter: 1 item has no image size (normalized coordinates): area, width and height were compared as fractions of the image there']);
    expect((await run('filter:type == bbox', source)).messages.filter((m) => m.severity === 'warning')).toEqual([]);
  });

  it('warns about a label the dataset lacks', async () => {
    const r = await run('filter:label in (car, truck)');
    expect(r.messages.filter((m) => m.severity === 'warning')).toEqual([expect.objectContaining({ code: 'unknown-label', message: "filter: the dataset has no label 'truck'" })]);
  });
});

describe('filter: review fixes', () => {
  const warnings = (messages: { severity: string; code: string; message: string }[]) =>
    messages.filter((m) => m.severity === 'warning').map((m) => `${m.code}: ${m.message}`);

  it('attr.NAME at annotation level falls back to the item\'s attribute when the annotation lacks it', async () => {
    const r = await run('filter:attr.weather == rain and label == car');
    expect(annotationIds(r.items)).toEqual({ a: [1], b: [], c: [], d: [] });
    expect(warnings(r.messages)).toEqual([]);
    // The annotation's own attribute comes first: b's person has pose right, its item has none.
    const both: Dataset = { categories: CATEGORIES, items: [{ id: 'x', subset: '', attributes: { pose: 'left' }, annotations: [
      { type: 'bbox', label: PERSON, x: 0, y: 0, w: 1, h: 1, id: 1, attributes: { pose: 'right' } },
      { type: 'bbox', label: PERSON, x: 0, y: 0, w: 1, h: 1, id: 2 },
    ] }] };
    expect(annotationIds((await run('filter:attr.pose == left;level=annotation', both)).items)).toEqual({ x: [2] });
  });

  it('warns about an attr. field no item has (annotations may) or that nothing has', async () => {
    const onAnnotations = await run('filter:attr.pose == right');
    expect(ids(onAnnotations.items)).toEqual([]);
    expect(warnings(onAnnotations.messages)).toEqual(["unknown-attribute: filter: no item has an attribute 'pose', but annotations do: an expression of item fields only keeps or drops items; add ;level=annotation to filter the annotations by attr.pose"]);
    const nowhere = await run('filter:attr.colour == red and label == car');
    expect(warnings(nowhere.messages)).toEqual(["unknown-attribute: filter: no item or annotation has an attribute 'colour'"]);
    expect(warnings((await run('filter:attr.colour == red')).messages)).toEqual(["unknown-attribute: filter: no item or annotation has an attribute 'colour'"]);
    expect(warnings((await run('filter:attr.weather == sun')).messages)).toEqual([]);
    expect(warnings((await run('filter:attr.pose == right;level=annotation')).messages)).toEqual([]);
  });

  it('reads a quoted expression followed by parameters', async () => {
    expect(annotationIds((await run('filter:"label == car";drop_empty=true')).items)).toEqual({ a: [1], c: [], d: ['label'] });
    expect(annotationIds((await run("filter:'label == car' ; drop_empty=true")).items)).toEqual({ a: [1], c: [], d: ['label'] });
    expect(annotationIds((await run(`filter:"attr.pose == 'a;b'";level=annotation`)).items)).toEqual({ a: [], b: [], c: [], d: [] });
  });

  it('parameters alone are parameters: the expression is missing', () => {
    expect(() => parseTransform('filter:level=annotation')).toThrow(/needs an expression/);
    expect(() => parseTransform('filter:drop_empty=true')).toThrow(/needs an expression/);
  });

  it('labels and captions have no size: comparing one drops them, counted and warned with the way to keep them', async () => {
    const r = await run('filter:area >= 100');
    expect(annotationIds(r.items)).toEqual({ a: [1, 3], b: [], c: [], d: [] });
    expect(warnings(r.messages)).toEqual(['no-size: filter: 2 label and caption annotations dropped: labels and captions have no area, width or height, and every comparison of those is false for them; write "type in (label, caption) or (...)" to keep them']);
    const kept = await run('filter:type in (label, caption) or area >= 100');
    expect(annotationIds(kept.items)).toEqual({ a: [1, 3], b: [], c: [], d: ['label', 'caption'] });
    expect(warnings(kept.messages)).toEqual([]);
    expect(kept.messages.at(-1)?.message).toBe('filter: kept 4 of 4 items (0 dropped), 4 of 6 annotations (2 dropped)');
    // Without a size field, dropping labels is what was asked: no count, no warning.
    const byLabel = await run('filter:label == person');
    expect(byLabel.messages.at(-1)?.message).toBe('filter: kept 4 of 4 items (0 dropped), 2 of 6 annotations (4 dropped)');
    const one: Dataset = { categories: CATEGORIES, items: [{ id: 'x', subset: '', annotations: [{ type: 'caption', caption: 'c' }] }] };
    const single = await run('filter:width > 1', one);
    expect(warnings(single.messages)[0]).toMatch(/^no-size: filter: 1 label or caption annotation dropped/);
    expect(single.messages.at(-1)?.message).toBe('filter: kept 1 of 1 item (0 dropped), 0 of 1 annotation (1 dropped, including 1 label or caption without a size)');
  });
});

describe('filter: arguments', () => {
  it('refuses bad arguments with usage errors', () => {
    expect(() => parseTransform('filter')).toThrow(/needs an expression/);
    expect(() => parseTransform('filter:subset == train;drop_empty=true')).toThrow(/drop_empty=true applies to annotation filters only/);
    expect(() => parseTransform('filter:area > 1;level=item')).toThrow(/level=item cannot use the annotation field area/);
    expect(() => parseTransform('filter:area > 1;drop_empty=yes')).toThrow(/drop_empty must be one of true, false; got 'yes'/);
    expect(() => parseTransform('filter:area > 1;bogus=1')).toThrow(/unknown parameter 'bogus'/);
    expect(() => parseTransform('filter:area >')).toThrow(UsageError);
    expect(() => parseTransform('filter:lable == car')).toThrow(/unknown field 'lable' at column 1; the fields are id, subset, annotations, empty, image_width, image_height, attr\.NAME, label, type, area, width, height, occluded, group, track/);
  });

  it('reads a quoted ";" as part of the expression', async () => {
    const source: Dataset = { categories: [{ name: 'a;b' }], items: [{ id: 'x', subset: '', annotations: [{ type: 'label', label: 0 }, { type: 'caption', caption: '' }] }] };
    const r = await run("filter:label == 'a;b';drop_empty=true", source);
    expect(r.items[0].annotations).toEqual([{ type: 'label', label: 0 }]);
  });
});

describe('filter: CLI', () => {
  let root = '';
  afterEach(() => { if (root) fs.rmSync(root, { recursive: true, force: true }); });

  it('datum transform -t filter on a COCO file keeps the matching annotations, re-imported', async () => {
    root = tempDir();
    fs.mkdirSync(path.join(root, 'in', 'annotations'), { recursive: true });
    fs.writeFileSync(path.join(root, 'in', 'annotations', 'instances_train.json'), JSON.stringify({
      images: [{ id: 1, file_name: 'a.jpg', width: 100, height: 100 }, { id: 2, file_name: 'b.jpg', width: 100, height: 100 }],
      categories: [{ id: 1, name: 'car' }, { id: 2, name: 'bus' }, { id: 3, name: 'person' }],
      annotations: [
        { id: 10, image_id: 1, category_id: 1, bbox: [0, 0, 20, 10], area: 200, iscrowd: 0 },
        { id: 11, image_id: 1, category_id: 2, bbox: [0, 0, 5, 5], area: 25, iscrowd: 0 },
        { id: 12, image_id: 1, category_id: 3, bbox: [10, 10, 30, 30], area: 900, iscrowd: 0 },
        { id: 13, image_id: 2, category_id: 3, bbox: [1, 1, 4, 4], area: 16, iscrowd: 0 },
      ],
    }));
    const out = path.join(root, 'out');
    const r = await runCli('transform', '-i', path.join(root, 'in'), '-o', out, '-t', 'filter:label in (car,bus) and area >= 100;drop_empty=true');
    expect(r.code).toBe(0);
    expect(r.err).toContain('filter: kept 1 of 2 items (1 dropped), 1 of 4 annotations (3 dropped)');
    const written = JSON.parse(fs.readFileSync(path.join(out, 'annotations', 'instances_train.json'), 'utf8'));
    expect(written.images.map((i: { file_name: string }) => i.file_name)).toEqual(['a.jpg']);
    expect(written.annotations.map((a: { bbox: number[] }) => a.bbox)).toEqual([[0, 0, 20, 10]]);
    const back = await collect((await importDataset(out, 'coco')).dataset);
    expect(back.items.map((i) => [i.id, i.annotations.map((a) => [back.categories[a.label!].name, a.type])])).toEqual([['a', [['car', 'bbox']]]]);
  });

  it('prints a syntax error with its column and exits 2', async () => {
    root = tempDir();
    fs.mkdirSync(path.join(root, 'in', 'annotations'), { recursive: true });
    fs.writeFileSync(path.join(root, 'in', 'annotations', 'instances_train.json'), JSON.stringify({ images: [], categories: [], annotations: [] }));
    const r = await runCli('transform', '-i', path.join(root, 'in'), '-o', path.join(root, 'out'), '-t', 'filter:label in (car,bus) and area >=');
    expect(r.code).toBe(2);
    expect(r.err).toBe("datum: filter: expected a value after '>=' at column 31\n  label in (car,bus) and area >=\n                                ^\n");
    expect(fs.existsSync(path.join(root, 'out'))).toBe(false);
  });
});
