import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import YAML from 'yaml';
import { afterAll, describe, expect, test } from 'vitest';
import '../formats/index.js';
import { runCli } from './helpers/cli.js';
import { ROOT, tempDir } from './helpers/corpus.js';
import { importDataset } from '../src/pipeline.js';
import { collect, type Item } from '../src/model.js';
import { keepShard, parseShard, shardOf } from '../src/shard.js';
import { UsageError } from '../src/diagnostics.js';
// @ts-expect-error: a plain .mjs script without types
import { makeSopFixture } from '../scripts/make-sop-fixture.mjs';

const DATUM = path.join(ROOT, 'bin/datum.js');
const temps: string[] = [];
afterAll(() => { for (const dir of temps) fs.rmSync(dir, { recursive: true, force: true }); });
function temp(): string {
  const dir = tempDir('datum-shard-');
  temps.push(dir);
  return dir;
}

/** Runs the built CLI as its own process; resolves with its exit code and output. */
function datum(...args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return run(process.execPath, [DATUM, ...args]);
}

function run(command: string, args: string[], env?: NodeJS.ProcessEnv): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

/**
 * A COCO dataset of 40 images (train: ids 1-30, val: 31-40) of three sizes with 0-3 boxes each, and
 * a fourth category that no box uses (shards must keep it). Box numbers have fractions (9.5, 7.25).
 */
function writeCoco(root: string): string {
  const dir = path.join(root, 'coco_in');
  fs.mkdirSync(path.join(dir, 'annotations'), { recursive: true });
  const categories = [
    { id: 1, name: 'car', supercategory: 'vehicle' }, { id: 3, name: 'person', supercategory: 'human' },
    { id: 7, name: 'bus', supercategory: 'vehicle' }, { id: 9, name: 'unused', supercategory: 'none' },
  ];
  let annotationId = 100;
  for (const [subset, count, first] of [['train', 30, 1], ['val', 10, 31]] as const) {
    const images = [];
    const annotations = [];
    for (let i = 0; i < count; i++) {
      const id = first + i;
      const width = 320 + (id % 3) * 160;
      const height = 240 + (id % 2) * 120;
      images.push({ id, file_name: `img_${String(id).padStart(3, '0')}.jpg`, width, height });
      for (let b = 0; b < id % 4; b++) {
        const w = 10 + ((id + b) % 5) * 9.5;
        const h = 12 + ((id * b) % 4) * 7.25;
        const bbox = [(id * 13 + b * 29) % (width - 60), (id * 7 + b * 17) % (height - 50), w, h];
        annotations.push({ id: annotationId++, image_id: id, category_id: [1, 3, 7][(id + b) % 3], bbox, area: w * h, iscrowd: 0, segmentation: [] });
      }
    }
    fs.writeFileSync(path.join(dir, 'annotations', `instances_${subset}.json`), JSON.stringify({ images, annotations, categories }));
  }
  return dir;
}

const keyOf = (item: Pick<Item, 'subset' | 'id'>) => `${item.subset}/${item.id}`;

/** A dataset's content as plain data, items in key order: what a merge of shards must give back. */
async function content(dir: string, format: string) {
  const { dataset } = await importDataset(dir, format);
  const { categories, items } = await collect(dataset);
  return {
    labels: categories.map((c) => c.name),
    items: items.map((item) => ({
      key: keyOf(item),
      width: item.image?.width,
      height: item.image?.height,
      attributes: item.attributes,
      annotations: item.annotations.map(({ label, ...a }) => ({ ...a, label: label === undefined ? undefined : categories[label].name })),
    })).sort((a, b) => (a.key < b.key ? -1 : 1)),
  };
}

/** Every file below `dir`, as relative path -> contents. */
function files(dir: string): Map<string, string> {
  const found = new Map<string, string>();
  for (const entry of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    found.set(path.relative(dir, file), fs.readFileSync(file, 'utf8'));
  }
  return found;
}

describe('parseShard', () => {
  test('takes K/N with 1 <= K <= N', () => {
    expect(parseShard('3/8')).toEqual({ index: 3, count: 8 });
    expect(parseShard('1/1')).toEqual({ index: 1, count: 1 });
    expect(parseShard(' 2 / 4 ')).toEqual({ index: 2, count: 4 });
  });

  test.each(['0/3', '4/3', '1/0', '0/0', '-1/3', '1.5/3', '2/2.0', 'a/3', '3', '1/3/4', '', '/'])('refuses %j with a UsageError naming it', (text) => {
    expect(() => parseShard(text)).toThrow(UsageError);
    expect(() => parseShard(text)).toThrow(`got '${text}'`);
  });
});

describe('shardOf', () => {
  const items = Array.from({ length: 4000 }, (_, i) => ({ subset: ['train', 'val'][i % 2], id: `frame_${String(i).padStart(6, '0')}` }));

  test('puts items in shards 1..N about evenly, the same way on every call', () => {
    for (const count of [1, 2, 3, 8]) {
      const sizes = new Array(count + 1).fill(0);
      for (const item of items) sizes[shardOf(item, count)]++;
      expect(sizes[0]).toBe(0);
      // 4000 / 8 = 500 each, binomial standard deviation ~21: 400..600 is ~5 of them
      for (let k = 1; k <= count; k++) expect(Math.abs(sizes[k] - items.length / count), `shard ${k}/${count}`).toBeLessThan(100);
    }
    expect(items.map((item) => shardOf(item, 8))).toEqual(items.map((item) => shardOf({ ...item }, 8)));
  });

  test('depends on the subset as well as the id', () => {
    const differing = items.filter((item) => shardOf(item, 4) !== shardOf({ subset: 'other', id: item.id }, 4));
    expect(differing.length).toBeGreaterThan(items.length / 2);
  });

  test('keepShard: the N shards are disjoint, cover every item, keep every category', async () => {
    const categories = [{ name: 'a' }, { name: 'b' }];
    const seen = new Map<string, number>();
    for (let k = 1; k <= 4; k++) {
      const shard = await collect(keepShard({ categories, items: items.map((i) => ({ ...i, annotations: [] })) }, { index: k, count: 4 }));
      expect(shard.categories).toEqual(categories);
      for (const item of shard.items) seen.set(keyOf(item), (seen.get(keyOf(item)) ?? 0) + 1);
    }
    expect(seen.size).toBe(items.length);
    expect([...seen.values()].every((n) => n === 1)).toBe(true);
  });
});

describe('datum convert --shard', () => {
  test('a bad K/N is a usage error (exit 2) and nothing is written', async () => {
    const root = temp();
    const input = writeCoco(root);
    for (const [text, command] of [['5/4', 'convert'], ['x', 'transform']]) {
      const out = path.join(root, `out_${command}`);
      const args = command === 'convert' ? ['-f', 'coco'] : ['-t', 'reindex:1'];
      const r = await runCli(command, '-i', input, '-o', out, ...args, '--shard', text);
      expect(r.code).toBe(2);
      expect(r.err).toContain(`--shard needs K/N`);
      expect(r.err).toContain(`got '${text}'`);
      expect(fs.existsSync(out)).toBe(false);
    }
    const r = await runCli('stats', input, '--shard', '1/0');
    expect(r.code).toBe(2);
    expect(r.err).toContain(`got '1/0'`);
  });

  test('--help says what a shard is and that the input is still read whole', async () => {
    for (const command of ['convert', 'transform']) {
      const r = await runCli(command, '--help');
      expect(r.code).toBe(0);
      expect(r.out).toContain('--shard <K/N>');
      expect(r.out).toMatch(/Each run\s+still reads the whole input/);
    }
  });

  test('stats --shard counts the shard\'s items only, with every label', async () => {
    const input = writeCoco(temp());
    let total = 0;
    for (let k = 1; k <= 3; k++) {
      const r = await runCli('stats', input, '--shard', `${k}/3`, '--json');
      expect(r.code).toBe(0);
      const stats = JSON.parse(r.out);
      expect(stats.shard).toBe(`${k}/3`);
      expect(stats.labels).toEqual(['car', 'person', 'bus', 'unused']);
      total += stats.items;
    }
    expect(total).toBe(40);
  });

  test('transform --shard applies the transforms to the shard\'s items', async () => {
    const root = temp();
    const input = writeCoco(root);
    const out = path.join(root, 'filtered');
    const r = await runCli('transform', '-i', input, '-o', out, '--shard', '2/2', '-t', 'filter:label == car', '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).shard).toBe('2/2');
    const { items, labels } = await content(out, 'coco');
    expect(labels).toEqual(['car', 'person', 'bus', 'unused']);
    const whole = await content(input, 'coco');
    const expected = whole.items.filter((i) => shardOf({ subset: i.key.split('/')[0], id: i.key.split('/')[1] }, 2) === 2);
    expect(items.map((i) => i.key)).toEqual(expected.map((i) => i.key));
    for (const [i, item] of items.entries()) {
      expect(item.annotations).toEqual(expected[i].annotations.filter((a) => a.label === 'car'));
    }
  });

  // Four shards as four processes at once, merged, against one process over the whole input.
  describe.each(['coco', 'yolo_ultralytics', 'cvat', 'voc', 'yolo'])('4 shards -> %s, merged', (format) => {
    const root = temp();
    const input = writeCoco(root);
    const single = path.join(root, 'single');
    const shards = [1, 2, 3, 4].map((k) => path.join(root, `shard_${k}`));
    const merged = path.join(root, 'merged');
    let counts: number[] = [];

    test('each shard is a complete dataset; together they hold every item exactly once', async () => {
      const runs = await Promise.all([
        datum('convert', '-i', input, '-f', format, '-o', single),
        ...shards.map((out, i) => datum('convert', '-i', input, '-f', format, '-o', out, '--shard', `${i + 1}/4`, '--json')),
      ]);
      for (const r of runs) expect(r.code, r.err).toBe(0);
      counts = runs.slice(1).map((r) => JSON.parse(r.out).items);
      expect(runs.slice(1).map((r) => JSON.parse(r.out).shard)).toEqual(['1/4', '2/4', '3/4', '4/4']);

      const whole = await content(single, format);
      const seen = new Map<string, number>();
      for (const [i, dir] of shards.entries()) {
        const shard = await content(dir, format);
        expect(shard.labels, dir).toEqual(whole.labels);
        expect(shard.items).toHaveLength(counts[i]);
        for (const item of shard.items) seen.set(item.key, (seen.get(item.key) ?? 0) + 1);
      }
      expect([...seen.keys()].sort()).toEqual(whole.items.map((i) => i.key));
      expect([...seen.values()].every((n) => n === 1)).toBe(true);
      expect(counts.every((n) => n > 0 && n < 40)).toBe(true);
    });

    test('the merge of the shards holds what the single run wrote', async () => {
      const r = await datum('merge', ...shards, '-o', merged, '-f', format, '--on-conflict', 'error');
      expect(r.code, r.err).toBe(0);
      const [got, want] = [await content(merged, format), await content(single, format)];
      expect(got.items).toHaveLength(40);
      expect(got.items.reduce((n, i) => n + i.annotations.length, 0)).toBe(60);
      expect(got).toEqual(want);
    });

    test('the merged files differ from the single run\'s only in the order of items', () => {
      const [got, want] = [files(merged), files(single)];
      expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
      const lines = (text: string) => text.split('\n').sort();
      for (const [name, text] of want) {
        const other = got.get(name)!;
        if (format === 'coco') expect(JSON.parse(other).images.sort(byId), name).toEqual(JSON.parse(text).images.sort(byId)); // source ids kept
        else if (format === 'cvat') expect(other.match(/<image /g)?.length, name).toBe(text.match(/<image /g)?.length); // CVAT numbers images in order
        else if (/^(train|val)\.txt$|^ImageSets\//.test(name)) expect(lines(other), name).toEqual(lines(text)); // lists of the items
        else expect(other, name).toBe(text); // a file per image, data.yaml, obj.names, labelmap.txt
      }
    });
  });

  test('SOP with its images: 3 shards merged hold every image once, the same bytes, in the same classes', async () => {
    const root = temp();
    const { root: sop } = await makeSopFixture(path.join(root, 'in'), { seed: 5 });
    const single = path.join(root, 'single');
    const merged = path.join(root, 'merged');
    const shards = [1, 2, 3].map((k) => path.join(root, `shard_${k}`));
    const runs = await Promise.all([
      datum('convert', '-i', sop, '-f', 'sop', '-o', single, '--', '--save-media'),
      ...shards.map((out, i) => datum('convert', '-i', sop, '-f', 'sop', '-o', out, '--shard', `${i + 1}/3`, '--', '--save-media')),
    ]);
    for (const r of runs) expect(r.code, r.err).toBe(0);
    const m = await datum('merge', ...shards, '-o', merged, '-f', 'sop', '--on-conflict', 'error', '--', '--save-media');
    expect(m.code, m.err).toBe(0);
    const [got, want] = [files(merged), files(single)];
    expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
    // list rows `image_id class_id super_class_id path`: image ids number the rows in order, the rest must match
    const rows = (text: string) => text.split('\n').slice(1).filter(Boolean).map((row) => row.split(' ').slice(1).join(' ')).sort();
    for (const [name, text] of want) {
      if (name.endsWith('.txt')) expect(rows(got.get(name)!), name).toEqual(rows(text));
      else expect(fs.readFileSync(path.join(merged, name)).equals(fs.readFileSync(path.join(single, name))), name).toBe(true);
    }
    expect([...want.keys()].filter((n) => n.endsWith('.JPG')).length).toBeGreaterThan(20);
    expect(await content(merged, 'sop')).toEqual(await content(single, 'sop'));
  });
});

describe('docs/scale-out.md', () => {
  test('the Indexed Job\'s script, run once per completion index, writes shards that merge into the whole input', async () => {
    const doc = fs.readFileSync(path.join(ROOT, 'docs/scale-out.md'), 'utf8');
    const job = YAML.parse(/```yaml\n([\s\S]*?)```/.exec(doc)![1]);
    expect(job.kind).toBe('Job');
    expect(job.spec.completionMode).toBe('Indexed');
    const container = job.spec.template.spec.containers[0];
    const shards = Number(container.env.find((e: { name: string }) => e.name === 'SHARDS').value);
    expect(shards).toBe(job.spec.completions);

    // The pod's paths moved into a temporary folder; datum and rclone (`copy SRC store:DST`) as shims.
    const root = temp();
    const input = writeCoco(root);
    const bin = path.join(root, 'bin');
    const store = path.join(root, 'store');
    fs.mkdirSync(bin);
    fs.writeFileSync(path.join(bin, 'datum'), `#!/bin/sh\nexec "${process.execPath}" "${DATUM}" "$@"\n`, { mode: 0o755 });
    fs.writeFileSync(path.join(bin, 'rclone'), `#!/bin/sh\n[ "$1" = copy ] || exit 9\nmkdir -p "${store}/\${3#store:}" && cp -R "$2/." "${store}/\${3#store:}"\n`, { mode: 0o755 });
    const runs = await Promise.all(Array.from({ length: shards }, (_, index) => {
      const script = (container.args[0] as string).replaceAll('/input/coco', input).replaceAll('/work/', path.join(root, `pod-${index}`) + '/');
      return run('sh', ['-c', script], { ...process.env, PATH: `${bin}:${process.env.PATH}`, JOB_COMPLETION_INDEX: String(index), SHARDS: String(shards) });
    }));
    for (const r of runs) expect(r.code, r.err).toBe(0);
    const results = runs.map((r) => JSON.parse(r.out));
    expect(results.map((r) => r.shard)).toEqual(Array.from({ length: shards }, (_, i) => `${i + 1}/${shards}`));
    expect(results.reduce((n, r) => n + r.items, 0)).toBe(40);

    const uploaded = results.map((_, i) => path.join(store, `my-bucket/yolo-shards/shard-${i + 1}`)).filter((_, i) => results[i].items > 0);
    const merged = path.join(root, 'merged');
    const m = await datum('merge', ...uploaded, '-o', merged, '-f', 'yolo_ultralytics', '--on-conflict', 'error');
    expect(m.code, m.err).toBe(0);
    const whole = path.join(root, 'whole');
    expect((await datum('convert', '-i', input, '-f', 'yolo_ultralytics', '-o', whole)).code).toBe(0);
    expect(await content(merged, 'yolo_ultralytics')).toEqual(await content(whole, 'yolo_ultralytics'));
  });
});

const byId = (a: { id: number }, b: { id: number }) => a.id - b.id;
