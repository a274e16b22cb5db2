import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { plugin as darknet } from '../../formats/yolo/index.js';
import { plugin as ultralytics } from '../../formats/yolo_ultralytics/index.js';
import { collect } from '../../src/model.js';
import { DatumError, Reporter } from '../../src/diagnostics.js';
import type { FormatPlugin } from '../../src/plugin.js';
import { createContext } from '../../src/pipeline.js';
import { tempDir } from '../helpers/corpus.js';

// Real exports' shapes the YOLO importers got wrong (issue 7): Darknet's data/ paths, flattened
// uploads, 50 MB text files, deep or aliased YAML, the subset '', symlinks out of the dataset.

const temps: string[] = [];
function temp(): string {
  const dir = tempDir('datum-yolo-real-');
  temps.push(dir);
  return dir;
}
afterAll(() => temps.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

function write(root: string, rel: string, content: string | Buffer): string {
  const file = path.join(root, rel);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, content);
  return file;
}
let tiny: Buffer | undefined;
async function jpeg(root: string, rel: string): Promise<string> {
  tiny ??= await sharp({ create: { width: 100, height: 50, channels: 3, background: { r: 200, g: 30, b: 30 } } }).jpeg().toBuffer();
  return write(root, rel, tiny);
}
async function load(plugin: FormatPlugin, input: string) {
  const reporter = new Reporter();
  const dataset = await collect(await plugin.import!(input, {}, createContext({ reporter })));
  return { dataset, warnings: reporter.messages.filter((m) => m.severity === 'warning') };
}
const failure = (p: Promise<unknown>) => p.then(() => { throw new Error('expected the import to fail'); }, (e: unknown) => e);
const summary = (items: { subset: string; id: string; annotations: unknown[] }[]) => items.map((i) => [i.subset, i.id, i.annotations.length]);

describe('YOLO lists with data/ paths (Darknet, CVAT)', () => {
  it("Darknet's tree: obj.data beside data/, every path starting with data/", async () => {
    const root = temp();
    write(root, 'obj.data', 'classes = 1\ntrain = data/train.txt\nnames = data/obj.names\nbackup = backup/\n');
    write(root, 'data/obj.names', 'cat\n');
    write(root, 'data/train.txt', 'data/obj_train_data/a.jpg\ndata/obj_train_data/sub/b.jpg\n');
    await jpeg(root, 'data/obj_train_data/a.jpg');
    write(root, 'data/obj_train_data/a.txt', '0 0.5 0.5 0.2 0.2\n');
    await jpeg(root, 'data/obj_train_data/sub/b.jpg');
    write(root, 'data/obj_train_data/sub/b.txt', '0 0.25 0.25 0.1 0.1\n0 0.75 0.75 0.1 0.1\n');
    const { dataset, warnings } = await load(darknet, root);
    expect(summary(dataset.items)).toEqual([['train', 'a', 1], ['train', 'sub/b', 2]]);
    expect(dataset.items[0].annotations[0]).toMatchObject({ type: 'bbox', x: 40, y: 20, w: 20, h: 10 });
    expect(warnings).toEqual([]);
  });

  it('the folder above data/ when obj.data is inside data/ (detected and imported)', async () => {
    const root = temp();
    write(root, 'data/obj.data', 'classes = 1\nvalid = data/valid.txt\nnames = data/obj.names\n');
    write(root, 'data/obj.names', 'cat\n');
    write(root, 'data/valid.txt', 'data/obj_valid_data/a.jpg\n');
    await jpeg(root, 'data/obj_valid_data/a.jpg');
    write(root, 'data/obj_valid_data/a.txt', '0 0.5 0.5 0.2 0.2\n');
    expect(await darknet.detect!(root)).toMatchObject({ confidence: 0.95 });
    const { dataset } = await load(darknet, root);
    expect(summary(dataset.items)).toEqual([['valid', 'a', 1]]);
  });

  it('an upload that flattened the folders: image and label found by name, with a warning naming the list line', async () => {
    const root = temp();
    write(root, 'obj.data', 'classes = 1\ntrain = data/train.txt\nnames = data/obj.names\n');
    write(root, 'obj.names', 'cat\n');
    const list = write(root, 'train.txt', 'data/obj_train_data/a.jpg\ndata/obj_train_data/b.jpg\n');
    await jpeg(root, 'a.jpg');
    write(root, 'a.txt', '0 0.5 0.5 0.2 0.2\n');
    await jpeg(root, 'obj_train_data/b.jpg'); // its label was flattened, the image was not
    write(root, 'b.txt', '0 0.5 0.5 0.2 0.2\n0 0.1 0.1 0.1 0.1\n');
    const { dataset, warnings } = await load(darknet, root);
    expect(summary(dataset.items)).toEqual([['train', 'a', 1], ['train', 'b', 2]]);
    expect(dataset.items[0].image?.path).toBe(path.join(root, 'a.jpg'));
    expect(dataset.items[0].image?.width).toBe(100);
    // Line 1: the image moved (its label is beside it, where Darknet looks); line 2: the label moved.
    expect(warnings.map((w) => [w.code, w.file, w.line])).toEqual([['path-relocated', list, 1], ['path-relocated', list, 2]]);
    expect(warnings[0].message).toContain('a.jpg');
  });

  it('YOLO-Ultralytics .txt lists: data/ lines and flattened images are found', async () => {
    const root = temp();
    write(root, 'data.yaml', 'names: [cat]\ntrain: train.txt\n');
    const list = write(root, 'train.txt', 'data/images/train/a.jpg\n./images/train/b.jpg\n');
    await jpeg(root, 'images/train/a.jpg');
    write(root, 'labels/train/a.txt', '0 0.5 0.5 0.2 0.2\n');
    await jpeg(root, 'b.jpg');
    write(root, 'b.txt', '0 0.5 0.5 0.2 0.2\n'); // beside its image, where Ultralytics looks for it there
    const { dataset, warnings } = await load(ultralytics, root);
    expect(summary(dataset.items)).toEqual([['train', 'images/train/a', 1], ['train', 'b', 1]]);
    expect(warnings.filter((w) => w.code === 'path-relocated').map((w) => [w.file, w.line])).toEqual([[list, 2]]);
    expect(warnings.filter((w) => w.code === 'missing-image')).toEqual([]);
  });
});

describe('50 MB label and list files are read in linear time', () => {
  // Before: 10-35 s each alone (regex splitting, Number on every field, a warning per bad line, path work
  // per repeated list line); now 5-9 s alone, more beside the rest of the suite: the timeout catches a
  // return to that, not small slowdowns (figures belong in bench/).
  const MB = 50_000_000;
  const row = '0 0.512345678901 0.412345678901 0.112345678901 0.212345678901\n';

  it('a 50 MB Darknet label file and a 50 MB image list', async () => {
    const root = temp();
    write(root, 'obj.data', 'classes = 1\ntrain = data/train.txt\nnames = data/obj.names\n');
    write(root, 'obj.names', 'cat\n');
    await jpeg(root, 'obj_train_data/a.jpg');
    const rows = Math.floor(MB / row.length);
    write(root, 'obj_train_data/a.txt', row.repeat(rows - 1) + 'x 0.5\n');
    // the list: one image, then its repeats and junk lines (each warned about at most 50 times)
    const line = 'data/obj_train_data/a.jpg\n';
    write(root, 'train.txt', line.repeat(Math.floor(MB / line.length)));
    const { dataset, warnings } = await load(darknet, root);
    expect(dataset.items).toHaveLength(1);
    expect(dataset.items[0].annotations).toHaveLength(rows - 1);
    expect(dataset.items[0].annotations[0]).toMatchObject({ label: 0 });
    expect((dataset.items[0].annotations[0] as { w: number }).w).toBeCloseTo(11.2345678901, 9);
    expect(warnings.filter((w) => w.code === 'duplicate-item')).toHaveLength(50);
    expect(warnings.find((w) => w.code === 'more-bad-lines')?.message).toMatch(/^\d+ more lines/);
    expect(warnings.find((w) => w.code === 'bad-field-count')?.line).toBe(rows);
  }, 60_000);

  it('a 50 MB YOLO-Ultralytics label file and a 50 MB split list', async () => {
    const root = temp();
    write(root, 'data.yaml', 'names: [cat]\ntrain: images/train\nval: val.txt\n');
    await jpeg(root, 'images/train/a.jpg');
    const rows = Math.floor(MB / row.length);
    write(root, 'labels/train/a.txt', row.repeat(rows));
    await jpeg(root, 'images/val/b.jpg');
    const line = './images/val/b.jpg\n';
    write(root, 'val.txt', line.repeat(Math.floor(MB / line.length)));
    const { dataset, warnings } = await load(ultralytics, root);
    expect(summary(dataset.items)).toEqual([['train', 'a', rows], ['val', 'b', 0]]);
    expect(warnings.filter((w) => w.code === 'duplicate-item').length).toBeLessThanOrEqual(51);
  }, 60_000);
});

describe('data.yaml that would exhaust the stack or memory', () => {
  it('deep nesting (block and flow) is refused with an error naming the file', async () => {
    for (const deep of [
      'deep:\n' + Array.from({ length: 5000 }, (_, i) => `${'  '.repeat(i + 1)}k:`).join('\n') + ' 1\n',
      `deep: ${'['.repeat(5000)}${']'.repeat(5000)}\n`,
      `deep:\n${Array.from({ length: 3000 }, (_, i) => `${' '.repeat(i * 2)}- `).join('\n')}x\n`,
    ]) {
      const root = temp();
      const file = write(root, 'data.yaml', `names: [cat]\ntrain: images/train\n${deep}`);
      await jpeg(root, 'images/train/a.jpg');
      const error = await failure(load(ultralytics, root));
      expect(error).toBeInstanceOf(DatumError);
      expect((error as DatumError).diagnostic).toMatchObject({ code: 'yaml-too-deep', file });
      expect((error as Error).message).not.toMatch(/call stack/i);
    }
  });

  it('a "billion laughs" of aliases is refused; a self-referencing alias is reported, not a TypeError', async () => {
    const root = temp();
    const file = write(root, 'data.yaml', 'names: [cat]\ntrain: images/train\na: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n');
    await jpeg(root, 'images/train/a.jpg');
    const error = await failure(load(ultralytics, root));
    expect(error).toBeInstanceOf(DatumError);
    expect((error as DatumError).diagnostic).toMatchObject({ code: 'yaml-aliases', file });

    write(root, 'data.yaml', 'names: [cat]\ntrain: images/train\nval: &x [*x]\nkpt_shape: null\n');
    const { dataset, warnings } = await load(ultralytics, root);
    expect(summary(dataset.items)).toEqual([['train', 'a', 0]]);
    expect(warnings.find((w) => w.code === 'bad-split')?.message).toContain('refers to itself');
  });
});

describe("no item has the subset ''", () => {
  it('Darknet loose layout: items outside subset folders are train', async () => {
    const root = temp();
    write(root, 'obj.names', 'cat\n');
    await jpeg(root, 'images/a.jpg');
    write(root, 'labels/a.txt', '0 0.5 0.5 0.2 0.2\n');
    const { dataset } = await load(darknet, root);
    expect(summary(dataset.items)).toEqual([['train', 'a', 1]]);
  });

  it('YOLO-Ultralytics images/ + labels/ without split folders is the train split', async () => {
    const root = temp();
    await jpeg(root, 'images/a.jpg');
    write(root, 'labels/a.txt', '0 0.5 0.5 0.2 0.2\n');
    const { dataset } = await load(ultralytics, root);
    expect(summary(dataset.items)).toEqual([['train', 'a', 1]]);
  });
});

describe('symlinks out of the dataset are not read', () => {
  const SECRET = 'SECRET_OUTSIDE';
  function outside(): string {
    const dir = temp();
    write(dir, 'list.txt', `data/obj_train_data/${SECRET}.jpg\n./images/${SECRET}.jpg\n`);
    write(dir, 'labels.txt', `0 0.5 0.5 0.1 0.1\n${SECRET} 1 1 1 1\n`);
    return dir;
  }
  const leaks = (warnings: { message: string }[]) => warnings.filter((w) => w.message.includes(SECRET));

  it('Darknet: a list file and a label file that are symlinks outside', async () => {
    const out = outside();
    const root = temp();
    write(root, 'obj.data', 'classes = 1\ntrain = data/train.txt\nvalid = data/valid.txt\nnames = data/obj.names\n');
    write(root, 'obj.names', 'cat\n');
    write(root, 'train.txt', 'data/obj_train_data/a.jpg\n');
    await jpeg(root, 'obj_train_data/a.jpg');
    fs.symlinkSync(path.join(out, 'labels.txt'), path.join(root, 'obj_train_data/a.txt'));
    fs.symlinkSync(path.join(out, 'list.txt'), path.join(root, 'valid.txt'));
    const { dataset, warnings } = await load(darknet, root);
    expect(summary(dataset.items)).toEqual([['train', 'a', 0]]);
    expect(leaks(warnings)).toEqual([]);
    expect(warnings.map((w) => w.code)).toEqual(expect.arrayContaining(['unsafe-path']));
  });

  it('YOLO-Ultralytics: a val.txt and a labels folder that are symlinks outside', async () => {
    const out = outside();
    const root = temp();
    write(root, 'data.yaml', 'names: [cat]\ntrain: images/train\nval: val.txt\n');
    await jpeg(root, 'images/train/a.jpg');
    fs.mkdirSync(path.join(root, 'labels'));
    fs.symlinkSync(out, path.join(root, 'labels/train'));
    fs.symlinkSync(path.join(out, 'list.txt'), path.join(root, 'val.txt'));
    const { dataset, warnings } = await load(ultralytics, root);
    expect(summary(dataset.items)).toEqual([['train', 'a', 0]]);
    expect(leaks(warnings)).toEqual([]);
  });
});
