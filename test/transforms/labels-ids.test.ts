/** The label, subset and id transforms, the transform registry, and `datum transform` / `datum transforms`. */
import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { collect, type Dataset, type Item } from '../../src/model.js';
import { createContext, importDataset } from '../../src/pipeline.js';
import { parseTransform } from '../../src/transforms/index.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/corpus.js';

const FIXTURE = path.resolve('test/fixtures/cvat/export_project');

function dataset(): Dataset {
  return {
    categories: [
      { name: 'cat', attributes: [{ name: 'color', values: ['black'] }] },
      { name: 'dog', attributes: [{ name: 'color', values: ['brown'] }, { name: 'size' }] },
      { name: 'person' },
      { name: 'person.head', parent: 'person' },
    ],
    items: [
      { id: 'frame_0001', subset: 'Train', image: { path: '/d/images/a/0001.jpg' }, annotations: [{ type: 'label', label: 0 }, { type: 'bbox', label: 2, x: 1, y: 2, w: 3, h: 4 }, { type: 'points', label: 3, points: [1, 1] }] },
      { id: 'frame_0002', subset: 'Validation', image: { path: '/d/images/b/0001.png' }, annotations: [{ type: 'label', label: 1 }, { type: 'caption', caption: 'x' }] },
      { id: 'frame_0010', subset: 'Train', annotations: [] },
    ],
  };
}

async function run(spec: string, input: Dataset = dataset()) {
  const ctx = createContext();
  const out = await collect(await parseTransform(spec)(input, ctx));
  return { out, messages: ctx.reporter.messages };
}

describe('label transforms', () => {
  it('map_subsets merges two subsets into one', async () => {
    const { out } = await run('map_subsets:Train=trainval,Validation=trainval');
    expect(out.items.map((i) => i.subset)).toEqual(['trainval', 'trainval', 'trainval']);
  });

  it('remap_labels merges attribute specs and keeps sub-labels with a renamed parent', async () => {
    const { out } = await run('remap_labels:cat=animal,dog=animal,person=human');
    expect(out.categories.map((c) => [c.name, c.parent])).toEqual([['animal', undefined], ['human', undefined], ['person.head', 'human']]);
    expect(out.categories[0].attributes).toEqual([{ name: 'color', values: ['black', 'brown'] }, { name: 'size' }]);
    expect(out.items[0].annotations.map((a) => a.label)).toEqual([0, 1, 2]);
    expect(out.items[1].annotations.map((a) => a.label)).toEqual([0, undefined]);
  });

  it('remap_labels default=delete keeps only the labels named (and their sub-labels), counting what it dropped', async () => {
    const { out, messages } = await run('remap_labels:person=human;default=delete');
    expect(out.categories.map((c) => c.name)).toEqual(['human', 'person.head']);
    expect(out.items[0].annotations).toEqual([{ type: 'bbox', label: 0, x: 1, y: 2, w: 3, h: 4 }, { type: 'points', label: 1, points: [1, 1] }]);
    expect(out.items[1].annotations).toEqual([{ type: 'caption', caption: 'x' }]);
    expect(messages).toEqual([expect.objectContaining({ severity: 'info', message: expect.stringContaining('dropped 2 annotations') })]);
    // deleting a parent deletes its sub-labels
    const { out: noPerson } = await run('remap_labels:person=');
    expect(noPerson.categories.map((c) => c.name)).toEqual(['cat', 'dog']);
    expect(noPerson.items[0].annotations.map((a) => a.type)).toEqual(['label']);
  });

  it('remap_labels refuses a bad default', () => {
    expect(() => parseTransform('remap_labels:a=b;default=drop')).toThrow(/default must be one of keep, delete/);
    expect(() => parseTransform('remap_labels:a=b;defualt=keep')).toThrow(/unknown parameter 'defualt'/);
  });

  it('project_labels gives exactly the listed labels in their order, adding missing ones', async () => {
    const { out, messages } = await run('project_labels:dog,bird,person');
    expect(out.categories.map((c) => c.name)).toEqual(['dog', 'bird', 'person', 'person.head']);
    expect(out.categories[0].attributes).toEqual([{ name: 'color', values: ['brown'] }, { name: 'size' }]);
    expect(out.items[0].annotations.map((a) => [a.type, a.label])).toEqual([['bbox', 2], ['points', 3]]);
    expect(out.items[1].annotations.map((a) => [a.type, a.label])).toEqual([['label', 0], ['caption', undefined]]);
    expect(messages[0].message).toMatch(/dropped 1 annotation of labels not listed; added labels the dataset lacks: bird/);
    expect(() => parseTransform('project_labels:a,,b')).toThrow(/empty entry/);
    expect(() => parseTransform('project_labels:a,b,a')).toThrow(/'a' is listed twice/);
  });
});

describe('labels with sub-labels of one name under two parents', () => {
  const skeletons = (): Dataset => ({
    categories: [
      { name: 'person', keypoints: ['head', 'hand'], skeleton: [[0, 1]] },
      { name: 'head', parent: 'person' }, { name: 'hand', parent: 'person' },
      { name: 'dog', keypoints: ['head'] }, { name: 'head', parent: 'dog' },
      { name: 'hat' },
    ],
    items: [{ id: 'a', subset: '', annotations: [
      { type: 'skeleton', label: 0, points: [1, 1, 2, 2], visibility: [2, 2] },
      { type: 'points', label: 1, points: [1, 1] },
      { type: 'points', label: 4, points: [5, 5] },
      { type: 'bbox', label: 5, x: 0, y: 0, w: 1, h: 1 },
    ] }],
  });

  it("dropping one parent keeps the other's sub-label of the same name", async () => {
    const { out } = await run('remap_labels:dog=', skeletons());
    expect(out.categories.map((c) => [c.name, c.parent])).toEqual([['person', undefined], ['head', 'person'], ['hand', 'person'], ['hat', undefined]]);
    expect(out.items[0].annotations.map((a) => [a.type, a.label])).toEqual([['skeleton', 0], ['points', 1], ['bbox', 3]]);
  });

  it('project_labels keeps each sub-label under its own parent, and numbers the listed labels 1..N', async () => {
    const { out } = await run('project_labels:dog,person', skeletons());
    expect(out.categories.map((c) => [c.name, c.parent, c.id])).toEqual([
      ['dog', undefined, 1], ['person', undefined, 2], ['head', 'person', undefined], ['hand', 'person', undefined], ['head', 'dog', undefined],
    ]);
    const labels = out.items[0].annotations.map((a) => out.categories[a.label!]);
    expect(labels.map((c) => `${c.parent ?? ''}/${c.name}`)).toEqual(['/person', 'person/head', 'dog/head']);
  });

  it('a top-level label renamed to a sub-label name stays top-level; a renamed keypoint is renamed in its skeleton', async () => {
    const { out } = await run('remap_labels:hat=head,hand=paw', skeletons());
    const hat = out.categories.find((c) => c.name === 'head' && c.parent === undefined);
    expect(hat).toBeDefined();
    expect(out.categories.filter((c) => c.name === 'head')).toHaveLength(3);
    expect(out.categories[0].keypoints).toEqual(['head', 'paw']);
    expect(out.categories[3].keypoints).toEqual(['head']);
  });
});

describe('transform arguments', () => {
  it('a leading parameter needs no ;, a repeated one is refused, remap_labels may remap a label named default', async () => {
    expect(() => parseTransform('remove_images:a;subset=x;subset=y')).toThrow(/parameter 'subset' is given twice/);
    const { out } = await run('remap_labels:default=background', { categories: [{ name: 'default' }], items: [] });
    expect(out.categories.map((c) => c.name)).toEqual(['background']);
  });

  it('map_subsets names a subset the dataset lacks and counts what it moved', async () => {
    const { messages } = await run('map_subsets:Train=train,Tset=test');
    expect(messages.map((m) => m.message)).toEqual([
      expect.stringMatching(/no subset 'Tset' \(its subsets: 'Train', 'Validation'\)/),
      'map_subsets: 2 items moved to another subset, 0 renamed to keep ids unique',
    ]);
  });
});

describe('id transforms', () => {
  it('reindex numbers items from the start across subsets, afresh each run', async () => {
    const transform = parseTransform('reindex:5');
    for (let run = 0; run < 2; run++) {
      const out = await collect(await transform(dataset(), createContext()));
      expect(out.items.map((i) => [i.subset, i.id])).toEqual([['Train', '5'], ['Validation', '6'], ['Train', '7']]);
    }
    expect((await run('reindex')).out.items.map((i) => i.id)).toEqual(['1', '2', '3']);
    expect(() => parseTransform('reindex:-1')).toThrow(/whole number/);
    expect(() => parseTransform('reindex:x')).toThrow(/whole number/);
  });

  it('id_from_image_name takes the file name, keeps ids unique per subset and items without image', async () => {
    const input = dataset();
    (input.items as Item[]).push({ id: 'z', subset: 'Train', image: { path: '/d/images/c/0001.jpeg' }, annotations: [] });
    const { out, messages } = await run('id_from_image_name', input);
    expect(out.items.map((i) => i.id)).toEqual(['0001', '0001', 'frame_0010', '0001_2']);
    expect(messages.map((m) => m.code).sort()).toEqual(['duplicate-id', 'id-from-image-name', 'no-image']);
    expect(messages.find((m) => m.code === 'id-from-image-name')?.message).toMatch(/3 item ids changed/);
    expect(messages.find((m) => m.code === 'duplicate-id')).toMatchObject({ item: 'z', message: expect.stringContaining("named '0001_2'") });
    expect(() => parseTransform('id_from_image_name:x')).toThrow(/takes no arguments/);
  });

  it("rename rewrites ids with Datumaro's |pattern|replacement| syntax, \\1 and $1 alike", async () => {
    expect((await run('rename:|^frame_0*(\\d+)$|\\1|')).out.items.map((i) => i.id)).toEqual(['1', '2', '10']);
    expect((await run('rename:|_|-|', { categories: [], items: [{ id: 'a_b_c', subset: '', annotations: [] }] })).out.items[0].id).toBe('a-b-c');
    expect((await run('rename:#^frame_(.*)$#video/$1#')).out.items.map((i) => i.id)).toEqual(['video/0001', 'video/0002', 'video/0010']);
    const { out, messages } = await run('rename:|\\d+$|x|');
    expect(out.items.map((i) => i.id)).toEqual(['frame_x', 'frame_x', 'frame_x_2']); // Train has two
    expect(messages.filter((m) => m.code === 'duplicate-id')).toHaveLength(1);
    expect(() => parseTransform('rename:^a$=b')).toThrow(/needs \|PATTERN\|REPLACEMENT\|/);
    expect(() => parseTransform('rename:|(|x|')).toThrow(/not a valid regular expression/);
  });
});

describe('datum transform and datum transforms', () => {
  it('datum transform writes the input format by default, applying -t in order', async () => {
    const root = tempDir();
    const out = path.join(root, 'out');
    const r = await runCli('transform', '-i', FIXTURE, '-o', out, '-t', 'map_subsets:Train=train,Validation=train', '-t', 'rename:|^scene_|s_|', '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ inputFormat: 'cvat', outputFormat: 'cvat', items: 6 });
    const { format, dataset: back } = await importDataset(out, undefined);
    expect(format.name).toBe('cvat');
    const items = (await collect(back)).items;
    expect(items.map((i) => `${i.subset}/${i.id}`).sort()).toEqual(['Test/s_a', 'Test/s_b', 'train/s_a', 'train/s_a_2', 'train/s_b', 'train/s_b_2']);
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('datum transform needs a transform, and an unknown one is a usage error naming the known ones', async () => {
    const root = tempDir();
    const none = await runCli('transform', '-i', FIXTURE, '-o', path.join(root, 'out'));
    expect(none.code).toBe(2);
    expect(none.err).toMatch(/needs at least one -t/);
    const unknown = await runCli('transform', '-i', FIXTURE, '-o', path.join(root, 'out'), '-t', 'shuffle');
    expect(unknown.code).toBe(2);
    expect(unknown.err).toMatch(/unknown transform 'shuffle'; known transforms: .*map_subsets.*remap_labels/);
    expect(fs.existsSync(path.join(root, 'out'))).toBe(false);
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('datum transforms lists every transform with its arguments and an example; --json too', async () => {
    const text = await runCli('transforms');
    expect(text.code).toBe(0);
    expect(text.out).toContain('remap_labels:OLD=NEW,...[;default=keep|delete]');
    expect(text.out).toContain('e.g. -t map_subsets:Train=train,Validation=val,Test=test');
    const json = JSON.parse((await runCli('transforms', '--json')).out) as { name: string; example: string; holdsDataset: boolean }[];
    expect(json.map((t) => t.name)).toEqual(expect.arrayContaining(['map_subsets', 'remap_labels', 'project_labels', 'reindex', 'rename', 'filter', 'split']));
    // every listed example parses
    for (const t of json) expect(() => parseTransform(t.example), t.name).not.toThrow();
  });

  it('--plugin loads a third-party transform module', async () => {
    const root = tempDir();
    const module = path.join(root, 'upper.mjs');
    fs.writeFileSync(module, `export default {
      name: 'upper_ids', description: 'upper-case ids', args: '', example: 'upper_ids',
      create: () => (dataset) => ({ ...dataset, items: (async function* () { for await (const i of dataset.items) yield { ...i, id: i.id.toUpperCase() }; })() }),
    };`);
    const out = path.join(root, 'out');
    const r = await runCli('--plugin', module, 'transform', '-i', FIXTURE, '-o', out, '-t', 'upper_ids');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const items = (await collect((await importDataset(out, 'cvat')).dataset)).items;
    expect(items.map((i) => i.id)).toContain('SCENE_A');
    const listed = await runCli('--plugin', module, 'transforms');
    expect(listed.out).toContain('upper_ids');
    fs.rmSync(root, { recursive: true, force: true });
  });
});

describe('transform plugins from --plugin', () => {
  it('refuses a transform without its description, arguments or example, and names the module on a name clash', async () => {
    const root = tempDir();
    const bare = path.join(root, 'bare.mjs');
    fs.writeFileSync(bare, `export default { name: 'bare', create: () => (d) => d };`);
    const r = await runCli('--plugin', bare, 'transforms');
    expect(r.code).toBe(2);
    expect(r.err).toContain(`plugin module '${bare}': transform 'bare' has no description, args, example`);
    const clash = path.join(root, 'clash.mjs');
    fs.writeFileSync(clash, `export default { name: 'filter', description: 'x', args: '', example: 'filter', create: () => (d) => d };`);
    const c = await runCli('--plugin', clash, 'transforms');
    expect(c.code).toBe(2);
    expect(c.err).toContain(`plugin module '${clash}': transform name 'filter' is already registered by 'filter'`);
    fs.rmSync(root, { recursive: true, force: true });
  });
});
