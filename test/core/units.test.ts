import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { splitArgv } from '../../src/cli/argv.js';
import { parsePluginOptions } from '../../src/options.js';
import { resolveInside, stripExtension } from '../../src/paths.js';
import { writeAtomically, FileWriter } from '../../src/output.js';
import { bitmapToMask, maskToBitmap, maskArea } from '../../src/geometry/mask.js';
import { parseTransform } from '../../src/transforms/index.js';
import { collect, imageFileName, type Dataset } from '../../src/model.js';
import { createContext } from '../../src/pipeline.js';
import { DatumError, UsageError } from '../../src/diagnostics.js';
import { tempDir } from '../helpers/corpus.js';

describe('argv', () => {
  it('accepts -if as Datumaro users type it and splits plugin arguments at --', () => {
    expect(splitArgv(['convert', '-if', 'cvat', '-i', 'a', '--', '--save-media', '-if']))
      .toEqual({ args: ['convert', '--input-format', 'cvat', '-i', 'a'], pluginArgs: ['--save-media', '-if'] });
    expect(splitArgv(['stats', 'x', '-if=coco']).args).toEqual(['stats', 'x', '--input-format=coco']);
  });
});

describe('plugin options', () => {
  const specs = [
    { name: 'save-media', type: 'boolean', description: '' },
    { name: 'task', type: 'string', description: '', choices: ['detect', 'segment'] },
    { name: 'limit', type: 'number', description: '' },
  ] as const;
  it('parses flags, negations, values and inline values', () => {
    expect(parsePluginOptions(['--save-media', '--task', 'segment', '--limit=5'], specs, 'x'))
      .toEqual({ 'save-media': true, task: 'segment', limit: 5 });
    expect(parsePluginOptions(['--no-save-media', '--task=detect'], specs, 'x')).toEqual({ 'save-media': false, task: 'detect' });
  });
  it('rejects unknown options, bad choices, missing values and non-numbers with usage errors', () => {
    expect(() => parsePluginOptions(['--bogus'], specs, 'x')).toThrow(/unknown option '--bogus'.*--save-media/);
    expect(() => parsePluginOptions(['--task', 'pose'], specs, 'x')).toThrow(/one of detect, segment; got 'pose'/);
    expect(() => parsePluginOptions(['--task'], specs, 'x')).toThrow(UsageError);
    expect(() => parsePluginOptions(['--limit', 'ten'], specs, 'x')).toThrow(/needs a number/);
    expect(() => parsePluginOptions(['positional'], specs, 'x')).toThrow(/unexpected argument/);
  });
});

describe('paths', () => {
  it('resolves names inside the root and refuses escapes', () => {
    expect(resolveInside('/data', 'images/a.jpg')).toBe(path.resolve('/data/images/a.jpg'));
    expect(resolveInside('/data', 'a/../b.jpg')).toBe(path.resolve('/data/b.jpg'));
    for (const bad of ['../x.jpg', '../../etc/passwd', '/etc/passwd', 'C:/x.jpg', 'a/../../x', '..\\..\\x.jpg', 'a\0b']) {
      expect(() => resolveInside('/data', bad, { file: 'ann.xml', item: 'i1' }), bad).toThrow(DatumError);
    }
    try { resolveInside('/data', '../x.jpg', { file: 'ann.xml', element: '<image>' }); } catch (e) {
      expect((e as DatumError).diagnostic).toMatchObject({ code: 'unsafe-path', file: 'ann.xml', element: '<image>' });
    }
  });
  it('strips only a real extension', () => {
    expect(stripExtension('a/b/c.jpg')).toBe('a/b/c');
    expect(stripExtension('a.b/c')).toBe('a.b/c');
    expect(stripExtension('.hidden')).toBe('.hidden');
    expect(imageFileName({ id: 'x/y', subset: '', annotations: [], image: { path: '/d/x/y.PNG' } })).toBe('x/y.PNG');
    expect(imageFileName({ id: 'y', subset: '', annotations: [] })).toBe('y.jpg');
  });
});

describe('atomic output', () => {
  it('renames into place on success and leaves nothing on failure', async () => {
    const root = tempDir();
    const out = path.join(root, 'out');
    await writeAtomically(out, false, async (dir) => { fs.writeFileSync(path.join(dir, 'a.txt'), 'a'); });
    expect(fs.readFileSync(path.join(out, 'a.txt'), 'utf8')).toBe('a');

    await expect(writeAtomically(out, false, async () => {})).rejects.toThrow(/not empty; pass --overwrite/);
    await expect(writeAtomically(out, true, async (dir) => {
      fs.writeFileSync(path.join(dir, 'b.txt'), 'b');
      throw new Error('boom');
    })).rejects.toThrow('boom');
    // the old output is untouched and no temporary folder is left beside it
    expect(fs.readdirSync(out)).toEqual(['a.txt']);
    expect(fs.readdirSync(root)).toEqual(['out']);

    await writeAtomically(out, true, async (dir) => { fs.writeFileSync(path.join(dir, 'c.txt'), 'c'); });
    expect(fs.readdirSync(out)).toEqual(['c.txt']);
    expect(fs.readdirSync(root)).toEqual(['out']);
  });

  it('writes many files with bounded concurrency and links or copies media', async () => {
    const root = tempDir();
    const writer = new FileWriter(4);
    for (let i = 0; i < 200; i++) await writer.write(path.join(root, `d${i % 7}`, `${i}.txt`), String(i));
    fs.writeFileSync(path.join(root, 'src.bin'), 'pixels');
    await writer.copy(path.join(root, 'src.bin'), path.join(root, 'media', 'copy.bin'));
    await writer.flush();
    expect(fs.readFileSync(path.join(root, 'd3', '199.txt'), 'utf8')).toBe('199');
    expect(fs.readdirSync(root).filter((d) => d.startsWith('d')).reduce((n, d) => n + fs.readdirSync(path.join(root, d)).length, 0)).toBe(200);
    expect(fs.readFileSync(path.join(root, 'media', 'copy.bin'), 'utf8')).toBe('pixels');
    await writer.copy(path.join(root, 'missing.bin'), path.join(root, 'media', 'x.bin'));
    await expect(writer.flush()).rejects.toThrow(/ENOENT/);
  });
});

describe('masks', () => {
  it('encodes a bitmap as row-major runs cropped to its set pixels, and decodes it back', () => {
    // 4 x 3 image:  . X X .
    //               . X . .
    //               . . . .
    const data = Uint8Array.from([0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
    const mask = bitmapToMask({ width: 4, height: 3, data }, 10, 20);
    // cropped to x 1..2, y 0..1 -> rows "XX", "X." -> runs: 0 bg, 3 fg, 1 bg
    expect(mask).toEqual({ left: 11, top: 20, width: 2, height: 2, rle: [0, 3, 1] });
    expect(maskArea(mask)).toBe(3);
    expect(Array.from(maskToBitmap(mask).data)).toEqual([1, 1, 1, 0]);
    expect(bitmapToMask({ width: 2, height: 2, data: new Uint8Array(4) })).toMatchObject({ width: 0, height: 0, rle: [] });
  });
});

describe('transforms', () => {
  const dataset = (): Dataset => ({
    categories: [{ name: 'cat' }, { name: 'dog' }, { name: 'person' }],
    items: [
      { id: 'a', subset: 'Train', annotations: [{ type: 'label', label: 0 }, { type: 'bbox', label: 2, x: 1, y: 2, w: 3, h: 4 }] },
      { id: 'b', subset: 'Validation', annotations: [{ type: 'label', label: 1 }, { type: 'caption', caption: 'x' }] },
      { id: 'c', subset: 'Other', annotations: [] },
    ],
  });
  it('map_subsets renames the subsets it names and keeps the others', async () => {
    const out = await collect(await parseTransform('map_subsets:Train=train,Validation=val')(dataset(), createContext()));
    expect(out.items.map((i) => i.subset)).toEqual(['train', 'val', 'Other']);
  });
  it('remap_labels merges, renames and drops labels and re-indexes annotations', async () => {
    const ctx = createContext();
    const out = await collect(await parseTransform('remap_labels:cat=animal,dog=animal,person=,bird=x')(dataset(), ctx));
    expect(out.categories.map((c) => c.name)).toEqual(['animal']);
    expect(out.items[0].annotations).toEqual([{ type: 'label', label: 0 }]);
    expect(out.items[1].annotations).toEqual([{ type: 'label', label: 0 }, { type: 'caption', caption: 'x' }]);
    expect(ctx.reporter.messages.map((m) => m.code)).toEqual(['unknown-label', 'remap-labels']);
  });
  it('rejects unknown transforms and malformed arguments', () => {
    expect(() => parseTransform('shuffle:1')).toThrow(/unknown transform 'shuffle'.*map_subsets/);
    expect(() => parseTransform('map_subsets:Train')).toThrow(/not old=new/);
    expect(() => parseTransform('map_subsets')).toThrow(/needs arguments/);
  });
});
