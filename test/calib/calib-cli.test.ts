import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import YAML from 'yaml';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readNpy } from '../../src/npy.js';
import { registerFormat } from '../../src/registry.js';
import { jsonPlugin } from '../helpers/json-plugin.js';
import { ROOT, tempDir } from '../helpers/corpus.js';
import { runCli } from '../helpers/cli.js';
// @ts-expect-error: a plain .mjs script without types
import { makeSopFixture } from '../../scripts/make-sop-fixture.mjs';

interface FixtureClass { classId: number; superId: number; superName: string; subset: string; paths: string[] }

const temps: string[] = [];
function temp(): string {
  const dir = tempDir('datum-calib-cli-');
  temps.push(dir);
  return dir;
}
afterAll(() => temps.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

const schema = JSON.parse(fs.readFileSync(path.join(ROOT, 'schemas', 'calib-manifest.schema.json'), 'utf8'));
const validateManifest = new Ajv2020({ allErrors: true, strict: true }).compile(schema);
const readJson = (file: string) => JSON.parse(fs.readFileSync(file, 'utf8'));
const lines = (file: string) => fs.readFileSync(file, 'utf8').split('\n').filter(Boolean);
/** Nothing at `out` and no temporary folder beside it. */
function expectNothingAt(out: string): void {
  expect(fs.existsSync(out)).toBe(false);
  expect(fs.readdirSync(path.dirname(out)).filter((n) => n.includes('datum-tmp'))).toEqual([]);
}

describe('datum calib on an SOP-shaped fixture', () => {
  // 3 super-classes with 8, 6, 4 classes (4, 3, 2 train); class k has 2 + k % 3 images: train 11, 9, 7
  let root: string;
  let classes: FixtureClass[];
  let work: string;
  beforeAll(async () => {
    work = temp();
    ({ root, classes } = await makeSopFixture(path.join(work, 'src'), { classesPerSuper: [8, 6, 4], imagesPerClass: (k: number) => 2 + (k % 3) }));
  });
  const superOf = (image: string) => path.basename(path.dirname(image)).replace(/_final$/, '');
  const testImages = () => new Set(classes.filter((c) => c.subset === 'test').flatMap((c) => c.paths.map((p) => path.join(root, p))));

  it('writes 10 train images, 4/3/3 over the parents, interleaved, and a manifest the schema accepts', async () => {
    const out = path.join(work, 'parent10');
    const { code, out: stdout, err } = await runCli('calib', '-i', root, '-o', out, '--size', '10', '--stratify', 'parent');
    expect(err).toBe('');
    expect(code).toBe(0);
    const images = lines(path.join(out, 'calibration.txt'));
    expect(images).toHaveLength(10);
    for (const image of images) {
      expect(path.isAbsolute(image)).toBe(true);
      expect(fs.existsSync(image)).toBe(true);
      expect(testImages().has(image)).toBe(false);
    }
    expect(images.map(superOf)).toEqual(['bicycle', 'cabinet', 'chair', 'bicycle', 'cabinet', 'chair', 'bicycle', 'cabinet', 'chair', 'bicycle']);
    const manifest = readJson(path.join(out, 'manifest.json'));
    expect(validateManifest(manifest), JSON.stringify(validateManifest.errors)).toBe(true);
    expect(manifest).toMatchObject({ version: 1, source: root, format: 'sop', seed: 0, size: 10, count: 10, pool: { subsets: ['train'], items: 27, excluded: ['test'] }, stratify: 'parent', spread_classes: true, images: { copied: false, missing: 0 } });
    expect(manifest.strata.map((s: { name: string; dataset: number; chosen: number }) => [s.name, s.dataset, s.chosen])).toEqual([['bicycle', 11, 4], ['cabinet', 9, 3], ['chair', 7, 3]]);
    expect(manifest.items.map((i: { image: string }) => i.image)).toEqual(images);
    expect(manifest.max_deviation_pp).toBeCloseTo((3 / 10 - 7 / 27) * 100, 10);
    // the table and the deviation
    expect(stdout).toContain('chose 10 of 27 items (stratified by parent, spread over classes, seed 0) from train (left out: test) and wrote calibration.txt, manifest.json: ');
    expect(stdout).toMatch(/^bicycle\s+11\s+4\s+40\.7%\s+40\.0%$/m);
    expect(stdout).toMatch(/^chair\s+7\s+3\s+25\.9%\s+30\.0%$/m);
    expect(stdout).toContain('largest deviation: 4.07 pp (chair)');

    // the schema refuses a broken manifest
    for (const broken of [{ ...manifest, count: undefined }, { ...manifest, stratify: 'random' }, { ...manifest, strata: [{ name: 'x', dataset: 1, chosen: 1, share_dataset: 2, share_set: 0 }] }, { ...manifest, extra: 1 }]) {
      expect(validateManifest(JSON.parse(JSON.stringify(broken)))).toBe(false);
    }
  });

  it('is the same list twice, and after the lists are shuffled; another seed gives another list', async () => {
    const run = async (name: string, ...extra: string[]) => {
      const out = path.join(work, name);
      const { code } = await runCli('calib', '-i', root, '-o', out, '--size', '8', ...extra);
      expect(code).toBe(0);
      return fs.readFileSync(path.join(out, 'calibration.txt'), 'utf8');
    };
    const first = await run('det-a', '--seed', '5');
    expect(await run('det-b', '--seed', '5')).toBe(first);
    const otherSeed = await run('det-c', '--seed', '6');
    expect(new Set(otherSeed.split('\n'))).not.toEqual(new Set(first.split('\n')));
    // the same items listed in another order (and with other image ids)
    const copy = path.join(work, 'shuffled', 'Stanford_Online_Products');
    fs.cpSync(root, copy, { recursive: true });
    for (const name of ['Ebay_train.txt', 'Ebay_test.txt', 'Ebay_info.txt']) {
      const [header, ...rows] = lines(path.join(copy, name));
      const reordered = rows.reverse().map((r, k) => r.replace(/^\d+/, String(k + 1)));
      fs.writeFileSync(path.join(copy, name), [header, ...reordered].join('\n') + '\n');
    }
    const out = path.join(work, 'det-shuffled');
    expect((await runCli('calib', '-i', copy, '-o', out, '--size', '8', '--seed', '5')).code).toBe(0);
    expect(fs.readFileSync(path.join(out, 'calibration.txt'), 'utf8')).toBe(first.split(root).join(copy));
  });

  it('--copy-images: copies under images/ listed relative to the output folder, same bytes as the sources', async () => {
    const out = path.join(work, 'copies');
    const { code } = await runCli('calib', '-i', root, '-o', out, '--size', '5', '--copy-images');
    expect(code).toBe(0);
    const listed = lines(path.join(out, 'calibration.txt'));
    const manifest = readJson(path.join(out, 'manifest.json'));
    expect(validateManifest(manifest), JSON.stringify(validateManifest.errors)).toBe(true);
    expect(manifest.images.copied).toBe(true);
    expect(listed).toHaveLength(5);
    expect(fs.readdirSync(path.join(out, 'images'))).toHaveLength(5);
    manifest.items.forEach((item: { id: string; subset: string; image: string }, k: number) => {
      expect(item.image).toBe(listed[k]);
      expect(listed[k]).toBe(`images/${item.subset}_${item.id.replace(/\//g, '_')}.JPG`);
      const source = path.join(root, `${item.id}.JPG`);
      expect(fs.readFileSync(path.join(out, listed[k]))).toEqual(fs.readFileSync(source));
    });
  });

  it('--json prints one object: the manifest without its items, with the output path', async () => {
    const out = path.join(work, 'json');
    const { code, out: stdout } = await runCli('calib', '-i', root, '-o', out, '--size', '100', '--json');
    expect(code).toBe(0);
    const result = JSON.parse(stdout);
    expect(stdout.trim().split('\n')).toHaveLength(1);
    expect(result.output).toBe(out);
    expect(result.items).toBeUndefined();
    expect(result.count).toBe(27);
    expect(result.warnings).toBe(1);
    expect(result.messages[0]).toMatchObject({ code: 'size-exceeds-pool' });
    expect(lines(path.join(out, 'calibration.txt'))).toHaveLength(27);
  });

  it('--subset test chooses from test only; unknown subsets, an empty pool and a bad --size fail and leave nothing', async () => {
    const fromTest = path.join(work, 'from-test');
    expect((await runCli('calib', '-i', root, '-o', fromTest, '--size', '4', '--subset', 'test')).code).toBe(0);
    for (const image of lines(path.join(fromTest, 'calibration.txt'))) expect(testImages().has(image)).toBe(true);

    const out = path.join(work, 'fails');
    let r = await runCli('calib', '-i', root, '-o', out, '--subset', 'val');
    expect(r.code).toBe(1);
    expect(r.err).toContain(`error: ${root}: the dataset has no subset 'val'; its subsets: test, train [unknown-subset]`);
    r = await runCli('calib', '-i', root, '-o', out, '--subset', 'train', '--exclude-subset', 'train');
    expect(r.code).toBe(1);
    expect(r.err).toContain("no item to choose from: subsets train minus train leaves none; the dataset's subsets: test, train [empty-pool]");
    for (const size of ['0', '-3', 'ten', '2.5']) {
      r = await runCli('calib', '-i', root, '-o', out, '--size', size);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/calib: --size must be (a positive integer|an integer); got/);
    }
    r = await runCli('calib', '-i', root, '-o', out, '--tensor', '0x5');
    expect(r.code).toBe(2);
    expect(r.err).toContain("--tensor '0x5': expected WIDTHxHEIGHT");
    r = await runCli('calib', '-i', root, '-o', out, '--tensor', '8x8', '--crop', 'center');
    expect(r.code).toBe(2);
    expect(r.err).toContain('--crop center needs --resize short-side');
    r = await runCli('calib', '-i', root, '-o', out, '--mean', '0.5,0.5,0.5');
    expect(r.code).toBe(2);
    expect(r.err).toContain('calib: --mean only go with --tensor WxH');
    r = await runCli('calib', '-i', root, '-o', path.join(root, 'inside'));
    expect(r.code).toBe(1);
    expect(r.err).toContain('[output-overlaps-input]');
    expectNothingAt(out);
    expect(fs.existsSync(path.join(root, 'inside'))).toBe(false);
    for (const r2 of [r]) expect(r2.err).not.toMatch(/TypeError|ENOENT|at .*\.ts/);
  });

  it('a missing image is warned about and counted; with --copy-images it is an error naming the item and file, and nothing is written', async () => {
    const src = path.join(work, 'missing', 'Stanford_Online_Products');
    fs.cpSync(root, src, { recursive: true });
    const first = path.join(work, 'missing-out');
    expect((await runCli('calib', '-i', src, '-o', first, '--size', '6')).code).toBe(0);
    const gone = lines(path.join(first, 'calibration.txt'))[2];
    fs.rmSync(gone);
    const warned = path.join(work, 'missing-warned');
    let r = await runCli('calib', '-i', src, '-o', warned, '--size', '6');
    expect(r.code).toBe(0);
    expect(r.err).toContain(`warning: ${gone}: image file not found; listed anyway`);
    expect(readJson(path.join(warned, 'manifest.json')).images.missing).toBe(1);
    expect(lines(path.join(warned, 'calibration.txt'))).toContain(gone);
    expect(r.out).toContain('1 image not found (listed anyway)');

    const copied = path.join(work, 'missing-copied');
    r = await runCli('calib', '-i', src, '-o', copied, '--size', '6', '--copy-images');
    expect(r.code).toBe(1);
    const id = path.relative(src, gone).replace(/\.JPG$/, '');
    expect(r.err).toContain(`error: ${gone}: image file not found; a calibration set with --copy-images or --tensor needs every image (item 'train/${id}') [missing-image]`);
    expectNothingAt(copied);
  });

  it('--tensor writes calibration.npy in calibration.txt order and records it in the manifest', async () => {
    const out = path.join(work, 'tensor');
    const r = await runCli('calib', '-i', root, '-o', out, '--size', '4', '--tensor', '8x6', '--layout', 'nchw');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const manifest = readJson(path.join(out, 'manifest.json'));
    expect(validateManifest(manifest), JSON.stringify(validateManifest.errors)).toBe(true);
    expect(manifest.tensor).toMatchObject({ file: 'calibration.npy', width: 8, height: 6, layout: 'nchw', shape: [4, 3, 6, 8] });
    const npy = await readNpy(path.join(out, 'calibration.npy'));
    expect(npy.shape).toEqual([4, 3, 6, 8]);
    // the fixture's images are solid colours: each row's first red value is its image's red, normalized
    const images = lines(path.join(out, 'calibration.txt'));
    for (let k = 0; k < 4; k++) {
      const { data } = await sharp(images[k]).raw().toBuffer({ resolveWithObject: true });
      expect(npy.data[k * 3 * 48]).toBeCloseTo((data[0] / 255 - 0.485) / 0.229, 1);
    }
  });
});

describe('datum calib on detection data (COCO) with -f yolo_ultralytics', () => {
  const names = ['car', 'person', 'moose'];
  let input: string;
  let work: string;
  /** image -> boxes (category index per box): cars everywhere, persons in every third image, one moose. */
  const boxes = new Map<string, number[]>();
  beforeAll(async () => {
    work = temp();
    input = path.join(work, 'coco');
    const jpeg = await sharp({ create: { width: 16, height: 12, channels: 3, background: { r: 200, g: 30, b: 30 } } }).jpeg().toBuffer();
    for (const subset of ['train', 'test']) {
      const count = subset === 'train' ? 40 : 10;
      const images: object[] = [];
      const annotations: object[] = [];
      fs.mkdirSync(path.join(input, 'images', subset), { recursive: true });
      for (let k = 0; k < count; k++) {
        const file = `${subset}_${String(k).padStart(2, '0')}.jpg`;
        fs.writeFileSync(path.join(input, 'images', subset, file), jpeg);
        images.push({ id: k + 1, file_name: file, width: 16, height: 12 });
        const labels = [0, ...(k % 3 === 0 ? [1, 1] : []), ...(subset === 'train' && k === 29 ? [2] : []), ...(k % 2 ? [0] : [])];
        boxes.set(file.replace(/\.jpg$/, ''), labels);
        labels.forEach((l, j) => annotations.push({ id: annotations.length + 1, image_id: k + 1, category_id: l + 1, bbox: [1 + j, 1, 4, 3], area: 12, iscrowd: 0 }));
      }
      fs.mkdirSync(path.join(input, 'annotations'), { recursive: true });
      fs.writeFileSync(path.join(input, 'annotations', `instances_${subset}.json`), JSON.stringify({ images, annotations, categories: names.map((name, i) => ({ id: i + 1, name })) }));
    }
  });

  it('covers the rare label, balances label shares, and exports the set as val: data.yaml, images and label files', async () => {
    const out = path.join(work, 'calib');
    const r = await runCli('calib', '-i', input, '-o', out, '--size', '6', '--seed', '2', '-f', 'yolo_ultralytics', '--', '--save-media');
    expect(r.code).toBe(0);
    expect(r.err).not.toContain('missing-split');
    expect(r.err).not.toContain('warning');
    const manifest = readJson(path.join(out, 'manifest.json'));
    expect(validateManifest(manifest), JSON.stringify(validateManifest.errors)).toBe(true);
    expect(manifest).toMatchObject({ stratify: 'detection', count: 6, pool: { subsets: ['train'], items: 40 }, dataset: { format: 'yolo_ultralytics', path: 'dataset', subset: 'val', items: 6 } });
    const ids: string[] = manifest.items.map((i: { id: string }) => i.id);
    expect(ids).toContain('train_29'); // the only moose
    expect(ids.every((id) => id.startsWith('train_'))).toBe(true);
    expect(manifest.labels.map((l: { name: string }) => l.name)).toEqual(['car', 'moose', 'person']);
    const chosenBoxes = ids.flatMap((id) => boxes.get(id)!);
    for (const l of manifest.labels) expect(l.chosen).toBe(chosenBoxes.filter((b) => names[b] === l.name).length);
    expect(r.out).toContain('chose 6 of 40 items (label coverage, seed 2) from train (left out: test)');
    expect(r.out).toMatch(/^moose\s+1\s+1\s/m);

    const dataDir = path.join(out, 'dataset');
    const yaml = YAML.parse(fs.readFileSync(path.join(dataDir, 'data.yaml'), 'utf8'));
    expect(yaml.val).toBe('val.txt');
    expect(yaml.train).toBe('val.txt');
    expect(yaml.names).toEqual({ 0: 'car', 1: 'person', 2: 'moose' });
    const listed = lines(path.join(dataDir, yaml.val));
    expect(listed.map((l) => path.basename(l, '.jpg')).sort()).toEqual([...ids].sort());
    for (const line of listed) {
      const image = path.resolve(dataDir, line);
      expect(fs.existsSync(image)).toBe(true);
      const label = image.replace(`${path.sep}images${path.sep}`, `${path.sep}labels${path.sep}`).replace(/\.jpg$/, '.txt');
      const rows = lines(label);
      expect(rows.map((row) => Number(row.split(' ')[0]))).toEqual(boxes.get(path.basename(line, '.jpg')));
      for (const row of rows) expect(row.split(' ')).toHaveLength(5);
    }
  });

  it('--stratify parent on detection data is a usage error, and nothing is written', async () => {
    const out = path.join(work, 'refused');
    const r = await runCli('calib', '-i', input, '-o', out, '--stratify', 'parent');
    expect(r.code).toBe(2);
    expect(r.err).toContain('calib: --stratify parent needs one class per image');
    expectNothingAt(out);
  });
});

describe('datum calib on the bundled CVAT sample (subsets Train, Validation, Test)', () => {
  const sample = path.join(ROOT, 'samples', 'cvat_dataset');

  it('leaves Test out by default: its one image is never listed', async () => {
    const out = path.join(temp(), 'calib');
    const r = await runCli('calib', '-i', sample, '-o', out, '--size', '10');
    expect(r.code).toBe(0);
    const manifest = readJson(path.join(out, 'manifest.json'));
    expect(manifest.pool).toEqual({ subsets: ['Train', 'Validation'], items: 5, excluded: ['Test'] });
    expect(manifest.items.map((i: { subset: string }) => i.subset).sort()).toEqual(['Train', 'Train', 'Train', 'Train', 'Validation']);
    const listed = lines(path.join(out, 'calibration.txt'));
    expect(listed).toHaveLength(5);
    expect(listed.some((l) => l.includes(`${path.sep}Test${path.sep}`))).toBe(false);
    expect(r.out).toContain('from Train, Validation (left out: Test)');
  });
});

describe('datum calib with the test_json format', () => {
  let input: string;
  let work: string;
  beforeAll(() => {
    registerFormat(jsonPlugin);
    work = temp();
    input = path.join(work, 'json');
    fs.mkdirSync(input);
    const items = Array.from({ length: 8 }, (_, k) => {
      const image = path.join(input, `i${k}.png`);
      if (k < 6) fs.writeFileSync(image, 'not really a png');
      return { id: `i${k}`, subset: 'train', ...(k < 6 ? { image: { path: image } } : {}), annotations: [{ type: 'label', label: k % 2 }] };
    });
    fs.writeFileSync(path.join(input, 'dataset.json'), JSON.stringify({ categories: [{ name: 'a' }, { name: 'b' }], items }));
  });

  it('leaves items without an image out of the pool, with a warning (-if names the format)', async () => {
    const out = path.join(work, 'out');
    const r = await runCli('calib', '-if', 'test_json', '-i', input, '-o', out, '--size', '4');
    expect(r.code).toBe(0);
    expect(r.err).toContain('2 items of the pool have no image; left out [no-image]');
    const manifest = readJson(path.join(out, 'manifest.json'));
    expect(manifest.pool.items).toBe(6);
    expect(manifest.strata.map((s: { name: string; chosen: number }) => [s.name, s.chosen])).toEqual([['a', 2], ['b', 2]]);
    expect(lines(path.join(out, 'calibration.txt')).every((l) => /i[0-5]\.png$/.test(l))).toBe(true);
  });

  it('an exporter that fails half-way leaves nothing at the output', async () => {
    const out = path.join(work, 'failed');
    const r = await runCli('calib', '-i', input, '-o', out, '--size', '4', '-f', 'test_json', '--', '--fail-after', '2');
    expect(r.code).toBe(1);
    expect(r.err).toContain('failing on purpose');
    expectNothingAt(out);
  });

  it('warns when no test subset is there to leave out and the pool has several subsets (COCO: train, val)', async () => {
    const split = path.join(work, 'train-val');
    fs.mkdirSync(split);
    const items = Array.from({ length: 6 }, (_, k) => {
      const image = path.join(split, `i${k}.png`);
      fs.writeFileSync(image, 'x');
      return { id: `i${k}`, subset: k < 4 ? 'train' : 'val', image: { path: image }, annotations: [{ type: 'label', label: k % 2 }] };
    });
    fs.writeFileSync(path.join(split, 'dataset.json'), JSON.stringify({ categories: [{ name: 'a' }, { name: 'b' }], items }));
    const r = await runCli('calib', '-i', split, '-o', path.join(work, 'tv'), '--size', '4', '--json');
    expect(r.code).toBe(0);
    expect(r.err).toContain("no subset named test to leave out, so the set is drawn from every subset (train, val); if you evaluate on one of them, name it with --exclude-subset [no-test-subset]");
    expect(JSON.parse(r.out).warnings).toBe(1);
    // named subsets, or only one subset: nothing to warn about
    for (const args of [['--exclude-subset', 'val'], ['--subset', 'train,val']]) {
      const named = await runCli('calib', '-i', split, '-o', path.join(work, `tv${args[0]}`), '--size', '4', ...args);
      expect(named.code).toBe(0);
      expect(named.err).not.toContain('no-test-subset');
    }
    const one = await runCli('calib', '-i', input, '-o', path.join(work, 'one'), '--size', '4');
    expect(one.err).not.toContain('no-test-subset');
  });

  it('an image that a test item shows too is never chosen (the set stays disjoint from test by image, not only by item)', async () => {
    const dir = path.join(work, 'shared');
    fs.mkdirSync(dir);
    const image = (k: number) => path.join(dir, `i${k}.png`);
    for (let k = 0; k < 4; k++) fs.writeFileSync(image(k), 'x');
    const items = [
      ...[0, 1, 2, 3].map((k) => ({ id: `t${k}`, subset: 'train', image: { path: image(k) }, annotations: [{ type: 'label', label: 0 }] })),
      { id: 'e0', subset: 'test', image: { path: path.join(dir, '.', 'i0.png') }, annotations: [{ type: 'label', label: 0 }] },
    ];
    fs.writeFileSync(path.join(dir, 'dataset.json'), JSON.stringify({ categories: [{ name: 'a' }], items }));
    const out = path.join(work, 'shared-out');
    const r = await runCli('calib', '-i', dir, '-o', out, '--size', '10');
    expect(r.code).toBe(0);
    expect(r.err).toContain('1 item of the pool shows an image that subset test has too; left out [image-in-excluded-subset]');
    expect(lines(path.join(out, 'calibration.txt')).sort()).toEqual([image(1), image(2), image(3)]);
    expect(readJson(path.join(out, 'manifest.json')).pool.items).toBe(3);
  });

  it('options after -- without -f are refused', async () => {
    const r = await runCli('calib', '-i', input, '-o', path.join(work, 'x'), '--', '--save-media');
    expect(r.code).toBe(2);
    expect(r.err).toContain('calib: options after -- are for the output format; give it with -f');
  });
});
