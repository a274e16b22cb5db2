/**
 * CVAT conformance: the Datumaro corpus's CVAT exports (task, project, video), read in place. Skipped
 * without the corpus; test/formats/cvat.test.ts checks the same behaviours on fixtures of our own.
 */
import fs from 'node:fs';
import path from 'node:path';
import { expect, test } from 'vitest';
import { plugin } from '../../formats/cvat/index.js';
import { createContext } from '../../src/pipeline.js';
import type { Reporter } from '../../src/diagnostics.js';
import type { Dataset, Item } from '../../src/model.js';
import { probeImageSize } from '../../src/media.js';
import { conformance, corpus, tempDir } from '../helpers/corpus.js';

async function load(input: string): Promise<{ dataset: Dataset; items: Item[]; reporter: Reporter }> {
  const ctx = createContext();
  const dataset = await plugin.import!(input, {}, ctx);
  const items: Item[] = [];
  for await (const item of dataset.items) items.push(item);
  return { dataset, items, reporter: ctx.reporter };
}

/** Items sorted by subset and id, annotations in a canonical order, image paths relative to images/. */
function canonical(items: Item[], root: string) {
  return items
    .map((item) => ({
      ...item,
      image: item.image && { ...item.image, path: path.relative(root, item.image.path) },
      annotations: [...item.annotations].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
    }))
    .sort((a, b) => `${a.subset}\0${a.id}`.localeCompare(`${b.subset}\0${b.id}`));
}

async function exportTo(dataset: Dataset, options: Record<string, boolean> = {}) {
  const out = tempDir('datum-cvat-');
  const ctx = createContext();
  const summary = await plugin.export!(dataset, out, options, ctx);
  return { out, summary, reporter: ctx.reporter, xml: fs.readFileSync(path.join(out, 'annotations.xml'), 'utf8') };
}

conformance('CVAT for images 1.1 import: corpus', () => {
  test('task export (train.xml): subset from the file name, hand-checked shapes', async () => {
    const { dataset, items, reporter } = await load(corpus('cvat_dataset/for_images/export_task'));
    expect(dataset.categories.map((c) => c.name)).toEqual(['label1', 'label2']);
    expect(dataset.categories[0].attributes).toEqual([
      { name: 'a1', inputType: 'checkbox', default: 'false', values: ['false', 'true'] },
      { name: 'a2', inputType: 'radio', default: 'v1', values: ['v1', 'v2', 'v3'] },
      { name: 'a3', inputType: 'text', default: '0000', values: ['0001 0002 0003'] },
      { name: 'a4', inputType: 'number', default: '0', values: ['2.4', '1', '-5.6'] },
    ]);
    expect(items.map((i) => [i.subset, i.id, i.image?.width, i.image?.height])).toEqual([['train', 'img0', 8, 8], ['train', 'img1', 10, 10]]);
    expect(items[0].image!.path).toBe(corpus('cvat_dataset/for_images/export_task/images/img0.jpg'));
    // <box xtl="0" ytl="2" xbr="4" ybr="4" occluded="1" z_order="1"> with four typed attributes
    expect(items[0].annotations[0]).toEqual({
      type: 'bbox', label: 0, x: 0, y: 2, w: 4, h: 2, occluded: true, zOrder: 1,
      attributes: { a1: true, a2: 'v3', a3: '0003', a4: 2.4 },
    });
    // label="" -> kept without a label, one summary warning
    expect(items[0].annotations[1]).toEqual({ type: 'polyline', points: [1, 2, 3, 4, 5, 6, 7, 8] });
    expect(items[1].annotations).toEqual([
      { type: 'polygon', points: [1, 2, 3, 4, 6, 5], zOrder: 1 },
      { type: 'points', label: 1, points: [1, 2, 3, 4, 5, 6], zOrder: 2 },
    ]);
    const empty = reporter.messages.filter((m) => m.code === 'empty-label');
    expect(empty).toHaveLength(1);
    expect(empty[0]).toMatchObject({ line: 50, message: expect.stringContaining('2 shape(s)') });
  });

  test('project export: subsets from <image subset>, images/<Subset>/, ids restart per subset', async () => {
    const { items, reporter } = await load(corpus('cvat_dataset/for_images/export_project'));
    expect(items.map((i) => `${i.subset}/${i.id}`)).toEqual(['Test/img0', 'Test/img1', 'Train/img0', 'Train/img1', 'Validation/img0', 'Validation/img1']);
    for (const item of items) {
      expect(item.image!.path).toBe(corpus(`cvat_dataset/for_images/export_project/images/${item.subset}/${item.id}.jpg`));
      expect(fs.existsSync(item.image!.path)).toBe(true);
    }
    expect(items.map((i) => i.annotations.length)).toEqual([2, 2, 2, 2, 2, 2]);
    expect(items[2].annotations[1]).toEqual({ type: 'polyline', label: 1, points: [1, 2, 3, 4, 5, 6, 7, 8] });
    expect(items[5].annotations[0]).toEqual({ type: 'polygon', label: 0, points: [1, 2, 3, 4, 6, 5], zOrder: 1 });
    expect(reporter.messages).toEqual([]);
  });

  test('the XML file itself is accepted as input', async () => {
    const { items } = await load(corpus('cvat_dataset/for_images/export_task/train.xml'));
    expect(items).toHaveLength(2);
  });

  test('detector: 0.9 for version 1.1', async () => {
    expect((await plugin.detect!(corpus('cvat_dataset/for_images/export_project')))?.confidence).toBe(0.9);
    expect((await plugin.detect!(corpus('cvat_dataset/for_images/export_task/train.xml')))?.confidence).toBe(0.9);
  });
});

conformance('CVAT for video 1.1 import: corpus', () => {
  test('corpus: tracks become frame_0000NN items; outside shapes are not annotations', async () => {
    const { dataset, items, reporter } = await load(corpus('cvat_dataset/for_video'));
    expect(reporter.messages).toEqual([]);
    expect(dataset.categories.map((c) => c.name)).toEqual(['klhg', 'z U k', 'II']);
    expect(dataset.categories[0].attributes).toEqual([{ name: 'hgl', inputType: 'select', default: 'jk', values: ['jk', 'hgkf'], mutable: true }]);
    expect(items.map((i) => i.id)).toEqual(['frame_000010', 'frame_000013', 'frame_000016', 'frame_000019']);
    for (const item of items) {
      expect(item.image).toEqual({ path: corpus(`cvat_dataset/for_video/images/${item.id}.png`), width: 25, height: 20 });
      expect(fs.existsSync(item.image!.path)).toBe(item.id !== 'frame_000019');
    }
    expect(items[0].annotations).toEqual([
      { type: 'bbox', label: 2, x: 3, y: 4, w: 7, h: 1, occluded: true, track: 0 },
      { type: 'points', label: 0, points: [21.95, 8, 2.55, 15.09, 2.23, 3.16], attributes: { hgl: 'hgkf' }, track: 1 },
    ]);
    expect(items[1].annotations).toEqual([
      { type: 'polyline', label: 2, points: [7.85, 13.88, 3.5, 6.67, 15.9, 2, 13.31, 7.21], track: 2 },
    ]);
    expect(items[2].annotations).toEqual([]);
  });
});

conformance('CVAT for images 1.1 export: corpus', () => {
  for (const [name, dir] of [['task', 'cvat_dataset/for_images/export_task'], ['project', 'cvat_dataset/for_images/export_project']]) {
    test(`corpus ${name} export: import -> export (--save-media) -> import gives the same dataset`, async () => {
      const first = await load(corpus(dir));
      const { out, summary, xml } = await exportTo({ ...first.dataset, items: first.items }, { 'save-media': true });
      const second = await load(out);
      expect(second.dataset.categories).toEqual(first.dataset.categories);
      expect(canonical(second.items, path.join(out, 'images'))).toEqual(canonical(first.items, path.join(corpus(dir), 'images')));
      expect(second.reporter.messages.filter((m) => m.code !== 'empty-label')).toEqual([]);
      for (const item of second.items) expect(fs.existsSync(item.image!.path)).toBe(true);
      expect(summary.items).toBe(first.items.length);
      expect(summary.dropped).toBeUndefined();
      expect(xml.includes('<project>')).toBe(name === 'project');
      expect(fs.readdirSync(path.join(out, 'images')).sort()).toEqual(name === 'project' ? ['Test', 'Train', 'Validation'] : ['img0.jpg', 'img1.jpg']);
    });
  }

  test('video -> CVAT for images export keeps every visible shape (track ids cannot be kept: one warning)', async () => {
    const first = await load(corpus('cvat_dataset/for_video'));
    const { out, summary, reporter } = await exportTo({ ...first.dataset, items: first.items });
    expect(summary.annotations).toEqual({ bbox: 1, points: 1, polyline: 1 });
    expect(reporter.messages.map((m) => m.code)).toEqual(['track-not-kept']);
    const second = await load(out);
    const withoutTracks = first.items.map((i) => ({ ...i, attributes: undefined, annotations: i.annotations.map(({ track: _, ...a }) => a) }));
    expect(canonical(second.items.map((i) => ({ ...i, attributes: undefined })), out).map((i) => ({ ...i, image: undefined })))
      .toEqual(canonical(withoutTracks, out).map((i) => ({ ...i, image: undefined })));
  });
});

conformance('CVAT export: image sizes from a corpus image', () => {
  test('an item without a size gets it from its image file (CVAT needs width and height)', async () => {
    const image = corpus('cvat_dataset/for_images/export_task/images/img1.jpg');
    const size = await probeImageSize(image);
    expect(size).not.toBeNull();
    const { xml, reporter } = await exportTo({ categories: [], items: [{ id: 'img1', subset: '', image: { path: image }, annotations: [] }] });
    expect(xml).toContain(`<image id="0" name="img1.jpg" width="${size!.width}" height="${size!.height}">`);
    expect(reporter.messages).toEqual([]);
  });
});
