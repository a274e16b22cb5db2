import { describe, expect, it } from 'vitest';
import { collect, type Dataset, type Item } from '../../src/model.js';
import { createContext } from '../../src/pipeline.js';
import { parseTransform } from '../../src/transforms/index.js';

function dataset(): Dataset {
  const items: Item[] = [
    {
      id: 'a', subset: 'train', attributes: { id: 7, weather: 'rain' },
      annotations: [
        { type: 'bbox', label: 0, x: 0, y: 0, w: 1, h: 1, id: 1, attributes: { is_crowd: false, color: 'red' } },
        { type: 'polygon', label: 0, points: [0, 0, 1, 0, 1, 1], id: 1, attributes: { color: 'blue' } },
        { type: 'bbox', label: 1, x: 2, y: 2, w: 1, h: 1, id: 2 },
      ],
    },
    { id: 'a', subset: 'val', annotations: [{ type: 'label', label: 1, id: 3, attributes: { color: 'green' } }] },
    { id: 'street/0001', subset: 'val', attributes: { weather: 'sun' }, annotations: [{ type: 'bbox', label: 1, x: 0, y: 0, w: 3, h: 3, id: 5 }] },
  ];
  return {
    categories: [
      { name: 'car', attributes: [{ name: 'color', inputType: 'select', values: ['red', 'blue'] }, { name: 'is_crowd', inputType: 'checkbox' }] },
      { name: 'bus', attributes: [{ name: 'color', inputType: 'text' }] },
    ],
    items,
  };
}

async function run(spec: string) {
  const ctx = createContext();
  const source = dataset();
  const input = structuredClone({ ...source, items: [...(source.items as Item[])] });
  const out = await collect(await parseTransform(spec)(input, ctx));
  expect(input).toEqual({ ...source, items: source.items }); // nothing changed in place
  return {
    items: out.items,
    categories: out.categories,
    warnings: ctx.reporter.messages.filter((m) => m.severity === 'warning').map((m) => (m.item ? `${m.message} (${m.item})` : m.message)),
    info: ctx.reporter.messages.filter((m) => m.severity === 'info').map((m) => m.message),
  };
}

const keys = (items: Item[]) => items.map((i) => `${i.subset}/${i.id}:${i.annotations.length}`);

describe('remove_images', () => {
  it('drops the listed ids in every subset, and warns once per id not found', async () => {
    const r = await run('remove_images:a,nope,street/0001');
    expect(keys(r.items)).toEqual([]);
    expect(r.warnings).toEqual(['remove_images: no such item (nope)']);
    expect(r.info).toEqual(['remove_images: removed 3 items']);
  });

  it('drops only in the subset given', async () => {
    const r = await run('remove_images:a;subset=val');
    expect(keys(r.items)).toEqual(['train/a:3', 'val/street/0001:1']);
    expect(r.info).toEqual(['remove_images: removed 1 item']);
    expect((await run('remove_images:street/0001;subset=train')).warnings).toEqual(["remove_images: no such item in subset 'train' (street/0001)"]);
  });

  it('refuses an empty list and unknown parameters', () => {
    expect(() => parseTransform('remove_images')).toThrow(/needs a list of item ids/);
    expect(() => parseTransform('remove_images:a,,b')).toThrow(/an empty entry/);
    expect(() => parseTransform('remove_images:a;subsets=x')).toThrow(/unknown parameter 'subsets'/);
  });
});

describe('remove_annotations', () => {
  it('removes every annotation of the listed items and keeps the items', async () => {
    const r = await run('remove_annotations:a');
    expect(keys(r.items)).toEqual(['train/a:0', 'val/a:0', 'val/street/0001:1']);
    expect(r.info).toEqual(['remove_annotations: removed 4 annotations from 2 items']);
    expect(r.warnings).toEqual([]);
  });

  it('removes every annotation of every item without ids; of one subset with subset=', async () => {
    expect(keys((await run('remove_annotations')).items)).toEqual(['train/a:0', 'val/a:0', 'val/street/0001:0']);
    expect(keys((await run('remove_annotations:;subset=val')).items)).toEqual(['train/a:3', 'val/a:0', 'val/street/0001:0']);
  });

  it('removes only the annotations with the given ids (both shapes of one source annotation)', async () => {
    const r = await run('remove_annotations:a;ids=1,5,9');
    expect(r.items[0].annotations.map((a) => a.id)).toEqual([2]);
    expect(keys(r.items)).toEqual(['train/a:1', 'val/a:1', 'val/street/0001:1']);
    expect(r.warnings).toEqual(['remove_annotations: no annotation with id 5 in the items listed', 'remove_annotations: no annotation with id 9 in the items listed']);
    const everywhere = await run('remove_annotations:;ids=3,5');
    expect(keys(everywhere.items)).toEqual(['train/a:3', 'val/a:0', 'val/street/0001:0']);
    expect(everywhere.info).toEqual(['remove_annotations: removed 2 annotations from 2 items']);
  });

  it('reads ids= and subset= written without the leading ";" as parameters, not as item ids', async () => {
    const r = await run('remove_annotations:ids=3,5');
    expect(keys(r.items)).toEqual(['train/a:3', 'val/a:0', 'val/street/0001:0']);
    expect(r.warnings).toEqual([]);
    expect(r.info).toEqual(['remove_annotations: removed 2 annotations from 2 items']);
    expect(keys((await run('remove_annotations:subset=val')).items)).toEqual(['train/a:3', 'val/a:0', 'val/street/0001:0']);
    const images = await run('remove_images:a;subset=val');
    expect(keys(images.items)).toEqual(['train/a:3', 'val/street/0001:1']);
    // subset= alone leaves no ids to remove: a usage error, not a warning about an item 'subset=val'.
    expect(() => parseTransform('remove_images:subset=val')).toThrow(/needs a list of item ids/);
  });

  it('warns about listed items not found and refuses ids that are not integers', async () => {
    expect((await run('remove_annotations:b')).warnings).toEqual(['remove_annotations: no such item (b)']);
    expect(() => parseTransform('remove_annotations:;ids=x')).toThrow(/annotation ids are integers; got 'x'/);
  });
});

describe('remove_attributes', () => {
  it('removes the named attributes from items, annotations and label specs', async () => {
    const r = await run('remove_attributes:color,weather');
    expect(r.items.map((i) => i.attributes)).toEqual([{ id: 7 }, undefined, undefined]);
    expect(r.items.flatMap((i) => i.annotations.map((a) => a.attributes))).toEqual([{ is_crowd: false }, undefined, undefined, undefined, undefined]);
    // No empty attributes object is left behind.
    expect('attributes' in r.items[1].annotations[0]).toBe(false);
    expect('attributes' in r.items[2]).toBe(false);
    expect(r.categories).toEqual([{ name: 'car', attributes: [{ name: 'is_crowd', inputType: 'checkbox' }] }, { name: 'bus' }]);
    expect(r.info).toEqual(['remove_attributes: removed 2 item attribute values, 3 annotation attribute values and 2 label attribute specs']);
    expect(r.warnings).toEqual([]);
  });

  it('removes every attribute when none is named', async () => {
    const r = await run('remove_attributes');
    expect(r.items.every((i) => i.attributes === undefined && i.annotations.every((a) => a.attributes === undefined))).toBe(true);
    expect(r.categories).toEqual([{ name: 'car' }, { name: 'bus' }]);
    expect(r.info).toEqual(['remove_attributes: removed 3 item attribute values, 4 annotation attribute values and 3 label attribute specs']);
  });

  it('warns about a name nothing has', async () => {
    const r = await run('remove_attributes:colour');
    expect(r.warnings).toEqual(["remove_attributes: no item, annotation or label has an attribute 'colour'"]);
    expect(r.items).toEqual(dataset().items);
  });
});
