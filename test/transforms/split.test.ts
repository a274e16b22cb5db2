import { afterEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { main } from '../../src/cli/main.js';
import { PassThrough } from 'node:stream';
import { UsageError } from '../../src/diagnostics.js';
import type { Annotation, Dataset, Item } from '../../src/model.js';
import { applyTransforms, createContext, importDataset } from '../../src/pipeline.js';
import { parseTransform } from '../../src/transforms/index.js';
import { splitDataset } from '../../src/transforms/split.js';
import { unitHash } from '../../src/transforms/split/hash.js';

/** mulberry32: the test's own seeded generator. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const LABELS = 20;
/** 1-10 boxes per image; label k drawn with weight 1/(k+1)^1.2 (label 0 ~36x label 19); half of an image's boxes share one theme label, as in photos. */
function detectionSet(count: number, seed: number, prefix = 'img'): Item[] {
  const rnd = random(seed);
  const weights = Array.from({ length: LABELS }, (_, k) => 1 / (k + 1) ** 1.2);
  const sum = weights.reduce((a, b) => a + b, 0);
  const draw = () => { let x = rnd() * sum; for (let k = 0; k < LABELS; k++) { x -= weights[k]; if (x < 0) return k; } return LABELS - 1; };
  return Array.from({ length: count }, (_, i) => {
    const theme = draw();
    const boxes = 1 + Math.floor(rnd() * 10);
    const annotations: Annotation[] = Array.from({ length: boxes }, () => ({ type: 'bbox', label: rnd() < 0.5 ? theme : draw(), x: 1, y: 2, w: 10, h: 10 }));
    return { id: `${prefix}${i}`, subset: 'default', annotations };
  });
}

function shuffled<T>(list: readonly T[], seed: number): T[] {
  const rnd = random(seed), out = [...list];
  for (let i = out.length - 1; i > 0; i--) { const j = Math.floor(rnd() * (i + 1)); [out[i], out[j]] = [out[j], out[i]]; }
  return out;
}

function bySubset(items: readonly Item[]): Map<string, Item[]> {
  const out = new Map<string, Item[]>();
  for (const item of items) { const list = out.get(item.subset) ?? []; list.push(item); out.set(item.subset, list); }
  return out;
}

/** Each label's share of the annotations of `items`, measured on the output. */
function shares(items: readonly Item[]): number[] {
  const n = new Array(LABELS).fill(0);
  for (const item of items) for (const a of item.annotations) n[a.label!]++;
  const all = n.reduce((a, b) => a + b, 0);
  return n.map((x) => x / all);
}

const RATIOS = { train: 0.8, val: 0.1, test: 0.1 };
const subsetOf = (items: readonly Item[]) => new Map(items.map((i) => [i.id, i.subset]));

describe('splitDataset: detection, 10,000 images, 80/10/10', () => {
  const items = detectionSet(10_000, 1);
  const first = splitDataset(items, { ratios: RATIOS, seed: 3 });

  it('keeps every label share of annotations within 1 pp and every subset within 1% of its ratio', () => {
    const whole = shares(items);
    const subsets = bySubset(first.items);
    expect([...subsets.keys()].sort()).toEqual(['test', 'train', 'val']);
    for (const [name, list] of subsets) {
      const expected = RATIOS[name as keyof typeof RATIOS] * items.length;
      expect(Math.abs(list.length - expected)).toBeLessThanOrEqual(expected * 0.01);
      const worst = Math.max(...shares(list).map((s, l) => Math.abs(s - whole[l]) * 100));
      expect(worst).toBeLessThan(1);
      // The report says the same as the measurement.
      const reported = first.report.subsets.find((s) => s.name === name)!;
      expect(reported.items).toBe(list.length);
      expect(reported.maxDeviation).toBeCloseTo(worst, 9);
    }
    expect(first.report).toMatchObject({ task: 'detection', items: 10_000, units: 10_000, changed: 10_000 });
    expect(first.items.every((item, i) => item.annotations === items[i].annotations && items[i].subset === 'default')).toBe(true);
  });

  it('gives the same split for the same seed after shuffling the input, another one for another seed', () => {
    const again = subsetOf(splitDataset(shuffled(items, 9), { ratios: RATIOS, seed: 3 }).items);
    expect(first.items.filter((i) => again.get(i.id) !== i.subset)).toEqual([]);
    const other = subsetOf(splitDataset(items, { ratios: RATIOS, seed: 4 }).items);
    expect(first.items.filter((i) => other.get(i.id) !== i.subset).length).toBeGreaterThan(1_000);
  });

  it('splitting its own output again changes nothing', () => {
    const again = splitDataset(first.items, { ratios: RATIOS, seed: 3 });
    expect(again.report.changed).toBe(0);
    expect(again.items.every((item, i) => item === first.items[i])).toBe(true);
  });

  it('moves under 2% of the old items when the dataset grows by 10%', () => {
    const grown = subsetOf(splitDataset([...items, ...detectionSet(1_000, 2, 'new')], { ratios: RATIOS, seed: 3 }).items);
    const moved = first.items.filter((i) => grown.get(i.id) !== i.subset).length;
    expect(moved / items.length).toBeLessThan(0.02);
  });
});

describe('splitDataset', () => {
  it('hashes the same on every machine: pinned values', () => {
    expect(unitHash('i:img0', 0)).toBe(unitHash('i:img0', 0));
    expect([unitHash('i:img0', 0), unitHash('i:img0', 1), unitHash('g:video7', 42)].map((u) => u.toFixed(12)))
      .toEqual(PINNED);
  });

  it('classification: each class divided by the ratios exact to ±1 item, unlabeled items as a class of their own', () => {
    const sizes = [503, 211, 97, 12, 5, 1];
    const items: Item[] = [];
    sizes.forEach((n, c) => { for (let i = 0; i < n; i++) items.push({ id: `c${c}_${i}`, subset: 'x', annotations: [{ type: 'label', label: c }] }); });
    for (let i = 0; i < 40; i++) items.push({ id: `none${i}`, subset: 'x', annotations: [] });
    const { items: out, report } = splitDataset(shuffled(items, 1), { ratios: [['train', 0.7], ['val', 0.2], ['test', 0.1]], seed: 5 });
    expect(report.task).toBe('classification');
    const ratios: Record<string, number> = { train: 0.7, val: 0.2, test: 0.1 };
    const classOf = (item: Item) => (item.annotations[0]?.label ?? -1);
    for (const c of [...sizes.keys(), -1]) {
      const members = out.filter((i) => classOf(i) === c);
      for (const [subset, r] of Object.entries(ratios)) {
        expect(Math.abs(members.filter((i) => i.subset === subset).length - r * members.length)).toBeLessThanOrEqual(1);
      }
    }
    for (const [subset, r] of Object.entries(ratios)) {
      expect(Math.abs(out.filter((i) => i.subset === subset).length - r * out.length)).toBeLessThanOrEqual(1);
    }
  });

  it('keeps the items of a group (an attribute, or an id regex) in one subset', () => {
    const items = detectionSet(2_000, 7).map((item, i): Item => ({ ...item, id: `video${i % 150}_frame${i}`, attributes: i % 7 === 6 ? {} : { video: i % 150 } }));
    const { items: out, report } = splitDataset(items, { ratios: RATIOS, group: 'video' });
    const subsetsOf = new Map<unknown, Set<string>>();
    out.forEach((item) => { const v = item.attributes?.video; if (v !== undefined) subsetsOf.set(v, (subsetsOf.get(v) ?? new Set()).add(item.subset)); });
    expect(subsetsOf.size).toBe(150);
    expect([...subsetsOf.values()].every((s) => s.size === 1)).toBe(true);
    expect(report).toMatchObject({ ungrouped: 285, groups: 150, units: 435 });
    for (const s of report.subsets) expect(Math.abs(s.items - s.ratio! * 2_000)).toBeLessThan(60);

    const byRegex = splitDataset(items, { ratios: RATIOS, groupRegex: '^(video\\d+)_' }).items;
    const videoOf = (id: string) => id.split('_')[0];
    const regexSubsets = new Map<string, Set<string>>();
    byRegex.forEach((item) => regexSubsets.set(videoOf(item.id), (regexSubsets.get(videoOf(item.id)) ?? new Set()).add(item.subset)));
    expect(regexSubsets.size).toBe(150);
    expect([...regexSubsets.values()].every((s) => s.size === 1)).toBe(true);
    expect(new Set(byRegex.map((i) => i.subset))).toEqual(new Set(['train', 'val', 'test']));
  });

  it('keep leaves that subset alone and splits the rest', () => {
    const items = detectionSet(1_000, 3).map((item, i) => ({ ...item, subset: i < 100 ? 'test' : 'old' }));
    const { items: out, report } = splitDataset(items, { ratios: { train: 0.75, val: 0.25 }, keep: 'test' });
    expect(out.slice(0, 100).every((item, i) => item === items[i])).toBe(true);
    const counts = Object.fromEntries([...bySubset(out)].map(([s, l]) => [s, l.length]));
    expect(counts).toEqual({ test: 100, train: 675, val: 225 });
    expect(report.subsets.map((s) => [s.name, s.items, s.kept ?? false])).toEqual([['train', 675, false], ['val', 225, false], ['test', 100, true]]);
    expect(() => splitDataset(items, { ratios: { train: 0.9, test: 0.1 }, keep: 'test' })).toThrow(/ratios name the kept subset 'test'/);
  });

  it('infers the task and counts only segments for segmentation', () => {
    const items: Item[] = Array.from({ length: 40 }, (_, i) => ({
      id: `p${i}`, subset: '', annotations: [
        { type: 'polygon', label: i % 2, points: [0, 0, 1, 0, 1, 1] },
        { type: 'bbox', label: 2, x: 0, y: 0, w: 1, h: 1 },
      ],
    }));
    const detection = splitDataset(items, { ratios: { a: 0.5, b: 0.5 }, categories: [{ name: 'cat' }, { name: 'dog' }, { name: 'box' }] });
    expect(detection.report.task).toBe('detection');
    const segmentation = splitDataset(items, { ratios: { a: 0.5, b: 0.5 }, task: 'segmentation' });
    // Only polygons count: each subset has its half of cats and dogs exactly.
    for (const name of ['a', 'b']) {
      const list = segmentation.items.filter((i) => i.subset === name);
      expect(list.filter((i) => i.annotations[0].label === 0).length).toBe(10);
    }
    expect(segmentation.report.subsets.every((s) => s.maxDeviation === 0)).toBe(true);
  });

  it('refuses bad ratios and options with a usage error', () => {
    const items = detectionSet(10, 1);
    const bad: [Record<string, number> | [string, number][], RegExp][] = [
      [{ train: 0.8, val: 0.1 }, /must add up to 1; train=0.8,val=0.1 add up to 0.9/],
      [{ train: 1.1, val: -0.1 }, /ratio of 'val' must be a number > 0/],
      [[['a', 0.5], ['a', 0.5]], /'a' is named twice/],
      [{}, /no ratios/],
    ];
    for (const [ratios, message] of bad) {
      expect(() => splitDataset(items, { ratios })).toThrow(UsageError);
      expect(() => splitDataset(items, { ratios })).toThrow(message);
    }
    expect(() => splitDataset(items, { ratios: RATIOS, seed: 1.5 })).toThrow(/seed must be an integer/);
    expect(() => splitDataset(items, { ratios: RATIOS, group: 'a', groupRegex: 'b' })).toThrow(/not both/);
    expect(() => splitDataset(items, { ratios: RATIOS, groupRegex: '(' })).toThrow(/not a valid regular expression/);
  });
});

describe('split transform', () => {
  it('runs from -t syntax and reports its counts', async () => {
    const ctx = createContext();
    const dataset: Dataset = { categories: Array.from({ length: LABELS }, (_, k) => ({ name: `l${k}` })), items: detectionSet(500, 4) };
    const out = await applyTransforms(dataset, [parseTransform('split:train=0.6,val=0.4;seed=7;task=detection')], ctx);
    const items: Item[] = [];
    for await (const item of out.items) items.push(item);
    expect(items.map((i) => i.id)).toEqual(detectionSet(500, 4).map((i) => i.id));
    expect(Object.fromEntries([...bySubset(items)].map(([s, l]) => [s, l.length]))).toEqual({ train: 300, val: 200 });
    const direct = splitDataset(detectionSet(500, 4), { ratios: { train: 0.6, val: 0.4 }, seed: 7 });
    expect(items.map((i) => i.subset)).toEqual(direct.items.map((i) => i.subset));
    const info = ctx.reporter.messages.find((m) => m.code === 'split')!;
    expect(info.message).toMatch(/^split: 500 items \(detection, seed 7; 500 moved to another subset\): train 300 \(max label deviation \d\.\d\d pp, l\d+\), val 200/);
  });

  it('keeps items sharing an id together, renaming the second so that no exported file overwrites another', async () => {
    const ctx = createContext();
    const items: Item[] = [...detectionSet(50, 5), { ...detectionSet(1, 6)[0], id: 'img3', subset: 'other' }];
    const out = await applyTransforms({ categories: [], items }, [parseTransform('split:a=0.5,b=0.5')], ctx);
    const written: Item[] = [];
    for await (const item of out.items) written.push(item);
    expect(written).toHaveLength(51);
    const pair = written.filter((i) => i.id === 'img3' || i.id === 'img3_2');
    expect(pair.map((i) => i.id).sort()).toEqual(['img3', 'img3_2']);
    expect(new Set(pair.map((i) => i.subset)).size).toBe(1);
    expect(ctx.reporter.messages.filter((m) => m.code === 'duplicate-id')).toHaveLength(1);
  });

  it('warns when the kept subset has no item', async () => {
    const ctx = createContext();
    const out = await applyTransforms({ categories: [], items: detectionSet(20, 3) }, [parseTransform('split:train=0.5,val=0.5;keep=tset')], ctx);
    for await (const item of out.items) void item;
    expect(ctx.reporter.messages.find((m) => m.code === 'unknown-subset')?.message).toBe("split: no item is in the kept subset 'tset'; every item was split");
  });

  it('warns when groups have items in the kept subset and others split elsewhere', async () => {
    const ctx = createContext();
    const items: Item[] = detectionSet(40, 8).map((item, i) => ({ ...item, subset: i < 4 ? 'test' : '', attributes: { video: i % 10 } }));
    const out = await applyTransforms({ categories: [], items }, [parseTransform('split:train=0.5,val=0.5;group=video;keep=test')], ctx);
    for await (const item of out.items) void item;
    expect(ctx.reporter.messages.find((m) => m.code === 'split-group-straddles')?.message).toMatch(/^split: 4 groups have items in the kept subset 'test'/);
  });

  it('refuses bad arguments when created', () => {
    for (const [args, message] of [
      ['train=0.5,val=0.6', /add up to 1/], ['train=half', /'train=half' is not subset=ratio/], ['train=1;seed=x', /seed must be an integer/],
      ['train=1;task=pose', /task must be one of classification, detection, segmentation/], ['train=1;colour=red', /unknown parameter 'colour'/],
      ['train=0.9,test=0.1;keep=test', /ratios name the kept subset/], ['train=1;group_regex=(', /not a valid regular expression/],
    ] as const) {
      expect(() => parseTransform(`split:${args}`)).toThrow(UsageError);
      expect(() => parseTransform(`split:${args}`)).toThrow(message);
    }
    expect(() => parseTransform('split')).not.toThrow(); // default 0.8/0.1/0.1
  });

  it('takes the default ratios when only parameters are given', async () => {
    const out = await applyTransforms({ categories: [], items: detectionSet(100, 8) }, [parseTransform('split:seed=7')], createContext());
    const items: Item[] = [];
    for await (const item of out.items) items.push(item);
    expect(items.map((i) => i.subset)).toEqual(splitDataset(detectionSet(100, 8), { ratios: RATIOS, seed: 7 }).items.map((i) => i.subset));
    expect(Object.fromEntries([...bySubset(items)].map(([s, l]) => [s, l.length]))).toEqual({ train: 80, val: 10, test: 10 });
  });
});

describe('datum split', () => {
  const dirs: string[] = [];
  afterEach(() => { for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true }); });

  async function run(...argv: string[]) {
    const stdout = new PassThrough(), stderr = new PassThrough();
    let out = '', err = '';
    stdout.on('data', (d) => { out += d; });
    stderr.on('data', (d) => { err += d; });
    const code = await main(argv, { stdout, stderr });
    return { code, out, err };
  }

  /** A COCO instances file of 60 images, 1-3 boxes each, labels car (often) and bus (rarely), written by hand. */
  function cocoDataset(): { root: string; input: string } {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'datum-split-'));
    dirs.push(root);
    const input = path.join(root, 'in');
    fs.mkdirSync(path.join(input, 'annotations'), { recursive: true });
    const images = Array.from({ length: 60 }, (_, i) => ({ id: i + 1, file_name: `img${i}.jpg`, width: 100, height: 80 }));
    const annotations: object[] = [];
    images.forEach((image, i) => {
      for (let k = 0; k <= i % 3; k++) {
        annotations.push({ id: annotations.length + 1, image_id: image.id, category_id: (i + k) % 5 === 0 ? 2 : 1, bbox: [10, 10, 20, 30], area: 600, iscrowd: 0, segmentation: [] });
      }
    });
    fs.writeFileSync(path.join(input, 'annotations', 'instances_default.json'), JSON.stringify({
      images, annotations, categories: [{ id: 1, name: 'car', supercategory: '' }, { id: 2, name: 'bus', supercategory: '' }],
    }));
    return { root, input };
  }

  it('splits a COCO dataset, writes COCO by default, prints the table; the output re-imports with those subsets', async () => {
    const { root, input } = cocoDataset();
    const output = path.join(root, 'out');
    const r = await run('split', '-i', input, '-o', output, '--ratios', 'train=0.5,val=0.25,test=0.25', '--seed', '11');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^split 60 items \(detection, seed 11\) and wrote 60 items as coco: /);
    expect(r.out).toMatch(/\ntrain\s+30\s+50\.0%\s+50\.0%\s+\d+\.\d\d pp \((car|bus)\)\n/);
    expect(r.out).toMatch(/\nval\s+15\s+25\.0%\s+25\.0%/);
    expect(fs.readdirSync(path.join(output, 'annotations')).sort()).toEqual(['instances_test.json', 'instances_train.json', 'instances_val.json']);
    const { dataset } = await importDataset(output, undefined);
    const items: Item[] = [];
    for await (const item of dataset.items) items.push(item);
    const counts = Object.fromEntries([...bySubset(items)].map(([s, l]) => [s, l.length]));
    expect(counts).toEqual({ train: 30, val: 15, test: 15 });
    expect(items.reduce((n, i) => n + i.annotations.length, 0)).toBe(120);
    expect(dataset.categories.map((c) => c.name)).toEqual(['car', 'bus']);
  });

  it('takes split options after -- too, mixed with the exporter options, and --json holds the report', async () => {
    const { root, input } = cocoDataset();
    const before = await run('split', '-i', input, '-o', path.join(root, 'a'), '--ratios', 'train=0.75,val=0.25', '--seed', '2', '--json');
    const after = await run('split', '-i', input, '-o', path.join(root, 'b'), '--json', '--', '--ratios=train=0.75,val=0.25', '--seed', '2', '--task', 'detection', '--tasks', 'instances');
    expect(before.code).toBe(0);
    expect(after.code).toBe(0);
    const [a, b] = [JSON.parse(before.out), JSON.parse(after.out)];
    expect(a.split).toMatchObject({ task: 'detection', seed: 2, items: 60, subsets: [{ name: 'train', items: 45, ratio: 0.75 }, { name: 'val', items: 15, ratio: 0.25 }] });
    expect(b.split.subsets).toEqual(a.split.subsets);
    expect(fs.readFileSync(path.join(root, 'b', 'annotations', 'instances_val.json'), 'utf8'))
      .toBe(fs.readFileSync(path.join(root, 'a', 'annotations', 'instances_val.json'), 'utf8'));
    // yolo_ultralytics has a --task of its own: each goes where its value belongs.
    const yolo = await run('split', '-i', input, '-o', path.join(root, 'y'), '-f', 'yolo_ultralytics', '--json', '--', '--task', 'segmentation', '--task', 'detect', '--ratios', 'train=0.5,val=0.5');
    expect(yolo.code).toBe(0);
    expect(JSON.parse(yolo.out)).toMatchObject({ outputFormat: 'yolo_ultralytics', split: { task: 'segmentation' } });
    expect(fs.readdirSync(path.join(root, 'y', 'labels')).sort()).toEqual(['train', 'val']);
    const twice = await run('split', '-i', input, '-o', path.join(root, 'c'), '--seed', '1', '--', '--seed', '2');
    expect(twice.code).toBe(2);
    expect(twice.err).toMatch(/--seed is given both before and after --/);
    const unknown = await run('split', '-i', input, '-o', path.join(root, 'c'), '--', '--colour', 'red');
    expect(unknown.code).toBe(2);
    expect(unknown.err).toMatch(/unknown option '--colour' after --; split takes --ratios, .*exporter 'coco' takes --save-media, --tasks/);
  });

  it('exits 2 on bad ratios and writes nothing', async () => {
    const { root, input } = cocoDataset();
    const output = path.join(root, 'out');
    for (const ratios of ['train=0.8,val=0.3', 'train=0.8,val=x', 'train=1.2,val=-0.2']) {
      const r = await run('split', '-i', input, '-o', output, '--ratios', ratios);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/^datum: split: /);
    }
    expect((await run('split', '-i', input, '-o', output, '--', '--ratios', 'a=0.5')).code).toBe(2);
    expect((await run('split', '-i', input, '-o', output, '--seed', 'soon')).code).toBe(2);
    expect(fs.existsSync(output)).toBe(false);
  });
});

const PINNED = ['0.099619821302', '0.461874619990', '0.533550988606'];
