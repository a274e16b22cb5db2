import { beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { runCli } from '../helpers/cli.js';
import { registerFormat } from '../../src/registry.js';
import { jsonPlugin } from '../helpers/json-plugin.js';
import { ROOT, tempDir } from '../helpers/corpus.js';


function writeDataset(dir: string) {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'dataset.json'), JSON.stringify({
    categories: [{ name: 'no' }, { name: 'car' }],
    items: [
      { id: 'a', subset: 'Train', annotations: [{ type: 'bbox', label: 1, x: 1, y: 2, w: 3, h: 4 }, { type: 'polygon', label: 0, points: [0, 0, 1, 0, 1, 1] }] },
      { id: 'b', subset: 'Validation', annotations: [] },
      { id: 'c', subset: 'Train', annotations: [{ type: 'label', label: 0 }] },
    ],
  }));
}

beforeAll(() => registerFormat(jsonPlugin));

describe('datum convert', () => {
  it('converts with -if, applies transforms and passes options after -- to the exporter', async () => {
    const root = tempDir();
    writeDataset(path.join(root, 'in'));
    const r = await runCli('convert', '-if', 'test_json', '-i', path.join(root, 'in'), '-f', 'test_json', '-o', path.join(root, 'out'),
      '-t', 'map_subsets:Train=train,Validation=val', '--json', '--', '--pretty');
    expect(r.err).toBe('info: map_subsets: 3 items moved to another subset, 0 renamed to keep ids unique [map-subsets]\n');
    expect(r.code).toBe(0);
    const result = JSON.parse(r.out);
    expect(result).toMatchObject({ inputFormat: 'test_json', outputFormat: 'test_json', items: 3, warnings: 0 });
    const written = fs.readFileSync(path.join(root, 'out', 'dataset.json'), 'utf8');
    expect(written).toContain('\n  "categories"');
    expect(JSON.parse(written).items.map((i: { subset: string }) => i.subset)).toEqual(['train', 'val', 'train']);
  });

  it('detects the input format when -if is absent', async () => {
    const root = tempDir();
    writeDataset(path.join(root, 'in'));
    const r = await runCli('convert', '-i', path.join(root, 'in'), '-f', 'test_json', '-o', path.join(root, 'out'));
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/converted 3 items from test_json to test_json/);
  });

  it('exits 2 on usage errors: missing options, unknown format, unknown exporter option, bad transform', async () => {
    const root = tempDir();
    writeDataset(path.join(root, 'in'));
    const base = ['convert', '-if', 'test_json', '-i', path.join(root, 'in'), '-o', path.join(root, 'out')];
    expect((await runCli(...base)).code).toBe(2);
    const unknown = await runCli(...base, '-f', 'nope');
    expect(unknown.code).toBe(2);
    expect(unknown.err).toMatch(/unknown format 'nope'; known formats: .*test_json/);
    const badOption = await runCli(...base, '-f', 'test_json', '--', '--save-everything');
    expect(badOption.code).toBe(2);
    expect(badOption.err).toMatch(/unknown option '--save-everything' for exporter 'test_json'/);
    expect((await runCli(...base, '-f', 'test_json', '-t', 'explode')).code).toBe(2);
    expect(fs.existsSync(path.join(root, 'out'))).toBe(false);
  });

  it('exits 1 with the file named for a missing input or bad input, without a stack trace', async () => {
    const root = tempDir();
    const missing = await runCli('convert', '-if', 'test_json', '-i', path.join(root, 'nope'), '-f', 'test_json', '-o', path.join(root, 'out'));
    expect(missing.code).toBe(1);
    expect(missing.err).toContain(path.join(root, 'nope'));
    expect(missing.err).not.toMatch(/\n\s+at /);
    fs.mkdirSync(path.join(root, 'bad'));
    fs.writeFileSync(path.join(root, 'bad', 'dataset.json'), '{"items": [');
    const bad = await runCli('convert', '-if', 'test_json', '-i', path.join(root, 'bad'), '-f', 'test_json', '-o', path.join(root, 'out'), '--json');
    expect(bad.code).toBe(1);
    expect(bad.err).toContain(path.join(root, 'bad', 'dataset.json'));
    expect(JSON.parse(bad.out).error).toMatchObject({ code: 'bad-json', severity: 'error' });
  });

  it('leaves nothing at the output when the export fails, and keeps an existing output', async () => {
    const root = tempDir();
    writeDataset(path.join(root, 'in'));
    const out = path.join(root, 'out');
    const failed = await runCli('convert', '-if', 'test_json', '-i', path.join(root, 'in'), '-f', 'test_json', '-o', out, '--', '--fail-after', '2');
    expect(failed.code).toBe(1);
    expect(failed.err).toMatch(/failing on purpose.*item 'c'/);
    expect(fs.readdirSync(root)).toEqual(['in']);

    fs.mkdirSync(out);
    fs.writeFileSync(path.join(out, 'keep.txt'), 'mine');
    const refused = await runCli('convert', '-if', 'test_json', '-i', path.join(root, 'in'), '-f', 'test_json', '-o', out);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/--overwrite/);
    const failedOverwrite = await runCli('convert', '-if', 'test_json', '-i', path.join(root, 'in'), '-f', 'test_json', '-o', out, '--overwrite', '--', '--fail-after=1');
    expect(failedOverwrite.code).toBe(1);
    expect(fs.readdirSync(out)).toEqual(['keep.txt']);
    expect(fs.readdirSync(root).sort()).toEqual(['in', 'out']);
  });

  it('refuses an output folder that is or contains the input', async () => {
    const root = tempDir();
    writeDataset(path.join(root, 'in'));
    const r = await runCli('convert', '-if', 'test_json', '-i', path.join(root, 'in'), '-f', 'test_json', '-o', root, '--overwrite');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/must not be, contain or lie inside the input/);
    expect(fs.existsSync(path.join(root, 'in', 'dataset.json'))).toBe(true);
  });
});

describe('datum stats', () => {
  it('prints exactly one JSON object with the documented keys', async () => {
    const root = tempDir();
    writeDataset(root);
    const r = await runCli('stats', root, '-if', 'test_json', '--json');
    expect(r.code).toBe(0);
    expect(r.out.trim().split('\n')).toHaveLength(1);
    const stats = JSON.parse(r.out);
    expect(Object.keys(stats)).toEqual(['format', 'items', 'subsets', 'annotations', 'labels']);
    expect(stats).toMatchObject({
      format: 'test_json', items: 3, subsets: { Train: 2, Validation: 1 }, labels: ['no', 'car'],
      annotations: { label: 1, bbox: 1, polygon: 1, polyline: 0, points: 0, mask: 0, ellipse: 0, skeleton: 0, caption: 0 },
    });
    const text = await runCli('stats', root, '-if', 'test_json');
    expect(text.out).toMatch(/items: 3\nsubsets: Train 2, Validation 1\nannotations: label 1, bbox 1, polygon 1\nlabels \(2\): no, car/);
  });

  it('explains an unrecognized folder', async () => {
    const r = await runCli('stats', tempDir());
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/no known dataset format recognized here or 2 folders below; name one with -if/);
  });
});

describe('the installed bin', () => {
  it('runs the built CLI (`npm run build` first)', () => {
    expect(fs.existsSync(path.join(ROOT, 'dist/src/cli/main.js')), 'dist/ is missing: run npm run build').toBe(true);
    const r = spawnSync(process.execPath, [path.join(ROOT, 'bin/datum.js'), 'convert', '--help'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/--input-format <format>.*also written -if/s);
    expect(r.stdout).toMatch(/map_subsets:Train=train/);
    const usage = spawnSync(process.execPath, [path.join(ROOT, 'bin/datum.js'), 'convert', '-if', 'cvat'], { encoding: 'utf8' });
    expect(usage.status).toBe(2);
  });
});
