import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import '../../formats/index.js';
import { DatumError } from '../../src/diagnostics.js';
import type { Annotation, Category, Dataset, Item } from '../../src/model.js';
import type { FormatPlugin } from '../../src/plugin.js';
import { createContext } from '../../src/pipeline.js';
import { registerFormat } from '../../src/registry.js';
import { labelColours } from '../../src/report/colours.js';
import { chooseItems, CONTACT_SHEET, previewDataset, renderPreview, type PreviewRequest } from '../../src/report/preview.js';
import { FlatNames } from '../../src/paths.js';
import { unitHash } from '../../src/transforms/split/hash.js';
import { runCli } from '../helpers/cli.js';
import { conformance, corpus, CORPUS_DATASETS, fixture, ROOT, tempDir } from '../helpers/corpus.js';

/** A format whose import hands over the dataset a test built (its input folder is only read for existence). */
let current: Dataset = { categories: [], items: [] };
const memoryPlugin: FormatPlugin = { name: 'test_preview_memory', description: 'the dataset a preview test built', import: async () => current };
beforeAll(() => registerFormat(memoryPlugin));

let dir: string;
beforeAll(() => { dir = tempDir('datum-preview-'); });

type Rgb = [number, number, number];
interface Pixels { width: number; height: number; at: (x: number, y: number) => Rgb }

async function pixels(png: Buffer | string): Promise<Pixels> {
  const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return {
    width: info.width, height: info.height,
    at: (x, y) => { const i = (y * info.width + x) * info.channels; return [data[i], data[i + 1], data[i + 2]]; },
  };
}

const near = (a: Rgb, b: Rgb, tolerance: number) => a.every((v, k) => Math.abs(v - b[k]) <= tolerance);

/** A solid image `background` with an optional solid rectangle, as PNG (exact pixels) unless `jpeg`. */
async function image(name: string, width: number, height: number, background: Rgb, patch?: { x: number; y: number; w: number; h: number; colour: Rgb }): Promise<string> {
  const file = path.join(dir, name);
  const layers = patch ? [{ input: await sharp({ create: { width: patch.w, height: patch.h, channels: 3, background: rgb(patch.colour) } }).png().toBuffer(), left: patch.x, top: patch.y }] : [];
  await sharp({ create: { width, height, channels: 3, background: rgb(background) } }).composite(layers).png().toFile(file);
  return file;
}
const rgb = ([r, g, b]: Rgb) => ({ r, g, b });

const RED: Rgb = [255, 0, 0];
const SOURCE: Rgb = [32, 64, 96];
/** `box` has its own colour (as CVAT gives), `area` and `kp` the palette's. */
const CATS: Category[] = [
  { name: 'box', color: RED },
  { name: 'area' },
  { name: 'kp', keypoints: ['a', 'b', 'c'], skeleton: [[0, 1], [1, 2]] },
];
const PALETTE = labelColours(CATS);
const tinted = (source: Rgb, colour: Rgb): Rgb => source.map((v, k) => Math.round(v * 0.65 + colour[k] * 0.35)) as Rgb;

describe('renderPreview: what is drawn where', () => {
  it('a box edge has its label colour at its scaled coordinates, inside a filled polygon is tinted, elsewhere the source is untouched', async () => {
    const file = await image('shapes.png', 200, 100, SOURCE);
    const item: Item = {
      id: 'shapes', subset: 'train', image: { path: file, width: 200, height: 100 }, annotations: [
        { type: 'bbox', label: 0, x: 20, y: 30, w: 60, h: 40 },
        { type: 'polygon', label: 1, points: [120, 20, 180, 20, 180, 80, 120, 80] },
      ],
    };
    for (const [size, s] of [[200, 1], [400, 2]] as const) {
      const preview = (await renderPreview(item, CATS, { size }))!;
      expect(preview).toMatchObject({ width: 200 * s, height: 100 * s, placeholder: false });
      const p = await pixels(preview.png);
      expect([p.width, p.height]).toEqual([200 * s, 100 * s]);
      // the left edge x = 20 is a 2 px line centred on it: output pixels 20s - 1 and 20s
      expect(p.at(20 * s, 50 * s), `size ${size}`).toEqual(RED);
      expect(p.at(20 * s - 1, 50 * s)).toEqual(RED);
      expect(p.at(80 * s - 1, 50 * s)).toEqual(RED); // right edge
      expect(p.at(50 * s, 70 * s - 1)).toEqual(RED); // bottom edge
      expect(p.at(50 * s, 50 * s)).toEqual(SOURCE); // a box is not filled
      expect(near(p.at(150 * s, 50 * s), tinted(SOURCE, PALETTE[1]), 2)).toBe(true);
      expect(p.at(120 * s, 50 * s)).toEqual(PALETTE[1]); // the polygon's outline
      expect(p.at(100 * s, 90 * s)).toEqual(SOURCE); // outside every shape and name chip
      expect(p.at(5 * s, 5 * s)).toEqual(SOURCE);
    }
  });

  it('a dark label colour (VOC\'s cat, 64 0 0) on a dark image has a light rim; a light one (yellow) on a light image a dark rim', async () => {
    const cats: Category[] = [{ name: 'cat', color: [64, 0, 0] }, { name: 'sun', color: [255, 230, 0] }];
    const luma = ([r, g, b]: Rgb) => 0.2126 * r + 0.7152 * g + 0.0722 * b;
    for (const [label, background, lighter] of [[0, [20, 20, 20], true], [1, [235, 235, 235], false]] as const) {
      const file = await image(`rim-${label}.png`, 100, 100, [...background]);
      const item: Item = { id: 'rim', subset: '', image: { path: file }, annotations: [{ type: 'bbox', label, x: 20, y: 30, w: 60, h: 40 }] };
      const p = await pixels((await renderPreview(item, cats, { size: 100 }))!.png);
      expect(p.at(20, 50)).toEqual(cats[label].color); // the 2 px line: pixels 19 and 20
      // the 1 px halo either side of it stands out from the image
      for (const x of [18, 21]) {
        const rim = luma(p.at(x, 50)) - luma([...background]);
        expect(lighter ? rim : -rim, `label ${label} x ${x}`).toBeGreaterThan(60);
      }
    }
  });

  it('at one z order a mask listed after a box (VOC: the segmentation last) is drawn under it: the box edge keeps its colour', async () => {
    const file = await image('under.png', 100, 100, SOURCE);
    const item: Item = {
      id: 'under', subset: '', image: { path: file }, annotations: [
        { type: 'bbox', label: 0, x: 20, y: 30, w: 60, h: 40 },
        { type: 'mask', label: 1, left: 0, top: 0, width: 100, height: 100, rle: [0, 10000] },
      ],
    };
    const p = await pixels((await renderPreview(item, CATS, { size: 100 }))!.png);
    expect(p.at(20, 50)).toEqual(RED);
    expect(near(p.at(50, 50), tinted(SOURCE, PALETTE[1]), 2)).toBe(true); // the mask is there, under it
    // a higher z order still goes on top
    item.annotations[1].zOrder = 1;
    const q = await pixels((await renderPreview(item, CATS, { size: 100 }))!.png);
    expect(near(q.at(20, 50), tinted(RED, PALETTE[1]), 2)).toBe(true);
  });

  it('one name per object: shapes of one group and label share a chip, others get their own beside it', async () => {
    const file = await image('chips.png', 200, 100, SOURCE);
    const at = async (group: number | undefined) => {
      const shapes: Annotation[] = [
        { type: 'bbox', label: 0, x: 20, y: 40, w: 100, h: 40, group },
        { type: 'polygon', label: 0, points: [20, 40, 120, 40, 70, 80], group },
      ];
      const p = await pixels((await renderPreview({ id: 'c', subset: '', image: { path: file }, annotations: shapes }, CATS, { size: 200 }))!.png);
      return [p.at(22, 26), p.at(55, 26)]; // in the first chip ('box': 3 x 7.2 + 6 px wide from x = 20), and right of it
    };
    const [first, beside] = await at(1);
    expect(first).not.toEqual(SOURCE);
    expect(beside).toEqual(SOURCE);
    const [, second] = await at(undefined);
    expect(second).not.toEqual(SOURCE);
  });

  it('an occluded box is dashed: its edge has gaps where a plain one has none', async () => {
    const file = await image('occluded.png', 200, 100, SOURCE);
    const edge = async (occluded: boolean) => {
      const item: Item = { id: 'o', subset: '', image: { path: file }, annotations: [{ type: 'bbox', label: 0, x: 20, y: 20, w: 160, h: 60, occluded }] };
      const p = await pixels((await renderPreview(item, CATS, { size: 200 }))!.png);
      let red = 0;
      for (let x = 30; x < 170; x++) if (near(p.at(x, 80), RED, 0)) red++; // the bottom edge
      return red;
    };
    expect(await edge(false)).toBe(140);
    const dashed = await edge(true);
    expect(dashed).toBeGreaterThan(40); // 6 on, 4 off
    expect(dashed).toBeLessThan(100);
  });

  it('a rotated box turns clockwise about its centre', async () => {
    const file = await image('rotated.png', 200, 100, SOURCE);
    // centre (100, 50), 80 x 20, 30 degrees clockwise (y down): the top-left corner (-40, -10) goes to
    // (-40 cos30 + 10 sin30, -40 sin30 - 10 cos30) = (-29.64, -28.66) from the centre
    const item: Item = { id: 'r', subset: '', image: { path: file }, annotations: [{ type: 'bbox', label: 0, x: 60, y: 40, w: 80, h: 20, rotation: 30 }] };
    const p = await pixels((await renderPreview(item, CATS, { size: 200 }))!.png);
    expect(near(p.at(70, 21), RED, 60)).toBe(true); // the rotated corner (70.36, 21.34)
    expect(p.at(60, 61)).toEqual(SOURCE); // where a counter-clockwise turn would put it
    expect(p.at(80, 60)).toEqual(SOURCE); // on the unrotated box's bottom edge, 8.7 px outside the rotated one
    // the middle of the rotated top edge: centre + (0, -10) turned by 30 degrees = (105, 41.34)
    expect(near(p.at(105, 41), RED, 60)).toBe(true);
  });

  it('masks (holes stay clear), ellipses, polylines, points and skeletons: filled, hollow or absent as the model marks them', async () => {
    const file = await image('kinds.png', 200, 100, SOURCE);
    // a 10 x 10 mask at (10, 30) with a 4 x 4 hole in its middle, as CVAT runs (background first)
    const runs: number[] = [0, 0]; // no background first, then the current (set) run
    let set = true;
    for (let y = 0; y < 10; y++) {
      const row = y >= 3 && y < 7 ? [[3, true], [4, false], [3, true]] as const : [[10, true]] as const;
      for (const [len, on] of row) {
        if (on === set) runs[runs.length - 1] += len;
        else { runs.push(len); set = on; }
      }
    }
    const annotations: Annotation[] = [
      { type: 'mask', label: 1, left: 10, top: 30, width: 10, height: 10, rle: runs },
      { type: 'ellipse', label: 1, cx: 60, cy: 50, rx: 15, ry: 8 },
      { type: 'polyline', label: 0, points: [100, 40, 140, 40] },
      { type: 'skeleton', label: 2, points: [150, 60, 170, 60, 190, 60], visibility: [2, 2, 1] },
      { type: 'points', label: 0, points: [100, 90, 120, 90], visibility: [2, 0] },
    ];
    expect(runs).toEqual([0, 33, 4, 6, 4, 6, 4, 6, 4, 33]);
    const item: Item = { id: 'k', subset: '', image: { path: file, width: 200, height: 100 }, annotations };
    const p = await pixels((await renderPreview(item, CATS, { size: 200 }))!.png);
    expect(near(p.at(12, 35), tinted(SOURCE, PALETTE[1]), 3)).toBe(true); // set mask pixel, inside the outline
    expect(p.at(15, 35)).toEqual(SOURCE); // the hole
    expect(p.at(10, 35)).toEqual(PALETTE[1]); // the outline
    expect(near(p.at(60, 50), tinted(SOURCE, PALETTE[1]), 3)).toBe(true); // inside the ellipse
    expect(p.at(60, 62)).toEqual(SOURCE); // below it (ry 8)
    expect(p.at(120, 40)).toEqual(RED); // on the polyline
    expect(p.at(120, 50)).toEqual(SOURCE); // a polyline is not closed nor filled
    expect(p.at(150, 60)).toEqual(PALETTE[2]); // a visible keypoint is a filled dot
    expect(p.at(160, 60)).toEqual(PALETTE[2]); // the edge between two visible points
    expect(p.at(190, 60)).toEqual(SOURCE); // a hidden point is hollow: its centre is the image
    expect(near(p.at(190, 57), PALETTE[2], 90)).toBe(true); // ... and its ring is drawn
    expect(p.at(100, 90)).toEqual(RED); // visible point
    expect(p.at(120, 90)).toEqual(SOURCE); // absent point (visibility 0) is not drawn
  });

  it('a mask larger than its place in the picture is sampled down: still filled where set, clear where not', async () => {
    const file = await image('bigmask.png', 800, 400, SOURCE);
    // an image-sized mask: the left half set, with a 200 x 200 hole at (100, 100)
    const runs: number[] = [0];
    for (let y = 0; y < 400; y++) {
      const hole = y >= 100 && y < 300;
      const row = hole ? [100, 200, 100, 400] : [400, 400]; // set, clear, set, clear (or set, clear)
      for (let k = 0; k < row.length; k++) {
        const on = k % 2 === 0;
        if (runs.length % 2 === (on ? 0 : 1)) runs[runs.length - 1] += row[k]; // same kind as the last run
        else runs.push(row[k]);
      }
    }
    const item: Item = { id: 'b', subset: '', image: { path: file }, annotations: [{ type: 'mask', label: 1, left: 0, top: 0, width: 800, height: 400, rle: runs }, { type: 'mask', label: 1, left: 0, top: 0, width: 2, height: 2, rle: [NaN, 4] }] };
    const preview = (await renderPreview(item, CATS, { size: 200 }))!;
    const p = await pixels(preview.png);
    expect(p.width).toBe(200);
    expect(near(p.at(10, 50), tinted(SOURCE, PALETTE[1]), 3)).toBe(true); // set (image 40, 200)
    expect(p.at(50, 50)).toEqual(SOURCE); // the hole (image 200, 200)
    expect(p.at(150, 50)).toEqual(SOURCE); // the clear right half
    expect(p.at(100, 50)).toEqual(PALETTE[1]); // the outline at x = 400 in the image
    expect(p.height).toBeGreaterThan(100); // the unusable mask is noted in the strip, not drawn
  });

  it('tags and captions go to a legend strip under the image; the image part is unchanged', async () => {
    const file = await image('tags.png', 200, 100, SOURCE);
    const item: Item = { id: 't', subset: '', image: { path: file }, annotations: [{ type: 'label', label: 1 }, { type: 'caption', caption: 'a long caption '.repeat(20) }] };
    const preview = (await renderPreview(item, CATS, { size: 200 }))!;
    const p = await pixels(preview.png);
    expect(p.width).toBe(200);
    expect(p.height).toBeGreaterThan(100 + 18 * 2); // a tag line and a wrapped caption
    expect(preview.height).toBe(p.height);
    for (const [x, y] of [[0, 0], [199, 99], [100, 50]]) expect(p.at(x, y)).toEqual(SOURCE);
    // the tag's chip, in the label colour, on the first strip line
    let chipPixels = 0;
    for (let x = 0; x < 200; x++) for (let y = 100; y < 122; y++) if (near(p.at(x, y), PALETTE[1], 1)) chipPixels++;
    expect(chipPixels).toBeGreaterThan(100);
  });

  it('an EXIF orientation 6 image comes out upright, the box where the annotation tool saw it', async () => {
    // stored 60 x 40, left half red, right half blue; orientation 6 shows it turned 90 degrees
    // clockwise: 40 x 60 with the stored left (red) on top and the right (blue) below
    const file = path.join(dir, 'exif6.jpg');
    const left = await sharp({ create: { width: 30, height: 40, channels: 3, background: rgb([255, 0, 0]) } }).png().toBuffer();
    await sharp({ create: { width: 60, height: 40, channels: 3, background: rgb([0, 0, 255]) } })
      .composite([{ input: left, left: 0, top: 0 }]).jpeg({ quality: 95 }).withMetadata({ orientation: 6 }).toFile(file);
    const cats: Category[] = [{ name: 'green', color: [0, 255, 0] }];
    const item: Item = { id: 'e', subset: '', image: { path: file, width: 40, height: 60 }, annotations: [{ type: 'bbox', label: 0, x: 5, y: 35, w: 30, h: 20 }] };
    const preview = (await renderPreview(item, cats, { size: 60 }))!;
    const p = await pixels(preview.png);
    expect([p.width, p.height]).toEqual([40, 60]);
    expect(near(p.at(20, 10), [255, 0, 0], 30)).toBe(true);
    expect(near(p.at(20, 45), [0, 0, 255], 30)).toBe(true);
    expect(p.at(5, 45)).toEqual([0, 255, 0]); // the box's left edge, in the blue (lower) half
    expect(p.at(20, 55)).toEqual([0, 255, 0]); // its bottom edge
  });

  it('a missing image gives a grey placeholder of the annotated size with the shapes drawn', async () => {
    const item: Item = { id: 'm', subset: 'val', image: { path: path.join(dir, 'nope.jpg'), width: 300, height: 150 }, annotations: [{ type: 'bbox', label: 0, x: 30, y: 30, w: 60, h: 60 }] };
    const preview = (await renderPreview(item, CATS, { size: 600 }))!;
    expect(preview.placeholder).toBe(true);
    expect(preview.width).toBe(600);
    const p = await pixels(preview.png);
    expect(p.height).toBeGreaterThan(300); // 300 px of image plus the note in the strip
    expect(p.at(60, 120)).toEqual(RED); // left edge x = 30 at scale 2
    expect(p.at(500, 20)).toEqual([128, 128, 128]);
  });

  it('normalized coordinates without an image cannot be drawn; with an image they are fractions of it', async () => {
    const box: Annotation = { type: 'bbox', label: 0, x: 0.25, y: 0.25, w: 0.5, h: 0.5 };
    expect(await renderPreview({ id: 'n', subset: '', normalized: true, image: { path: path.join(dir, 'none.jpg') }, annotations: [box] }, CATS)).toBeNull();
    expect(await renderPreview({ id: 'n', subset: '', annotations: [box] }, CATS)).toBeNull();
    expect(await renderPreview({ id: 'n', subset: '', image: { path: path.join(dir, 'none.jpg'), width: -5, height: 10 }, annotations: [box] }, CATS)).toBeNull();
    const file = await image('norm.png', 200, 100, SOURCE);
    const p = await pixels((await renderPreview({ id: 'n', subset: '', normalized: true, image: { path: file }, annotations: [box] }, CATS, { size: 200 }))!.png);
    expect(p.at(50, 50)).toEqual(RED); // x = 0.25 of 200
    expect(p.at(100, 74)).toEqual(RED); // bottom edge y = 0.75 of 100
  });
});

describe('choosing items', () => {
  const items = (n: number): Item[] => Array.from({ length: n }, (_, k) => ({
    id: `img${k}`, subset: k % 3 ? 'train' : 'val', annotations: k % 4 ? [{ type: 'bbox', label: 0, x: 1, y: 1, w: 5, h: 5 }] : [{ type: 'label', label: 1 }],
  }));
  const ids = (chosen: Item[]) => chosen.map((i) => `${i.subset}/${i.id}`);
  const lowest = (pool: Item[], n: number, seed: number) => ids(pool).sort((a, b) => unitHash(a, seed) - unitHash(b, seed)).slice(0, n);

  it('the n lowest hashes of subset/id, the same in any item order, streamed', async () => {
    const pool = items(5000);
    async function* stream(list: Item[]) { for (const item of list) yield item; }
    const forward = await chooseItems(stream(pool), CATS, { input: 'x', count: 7, seed: 3 });
    const backward = await chooseItems(stream([...pool].reverse()), CATS, { input: 'x', count: 7, seed: 3 });
    expect(ids(forward)).toEqual(lowest(pool, 7, 3));
    expect(ids(backward)).toEqual(ids(forward));
    expect(ids(await chooseItems(pool, CATS, { input: 'x', count: 7, seed: 4 }))).toEqual(lowest(pool, 7, 4));
    expect(ids(await chooseItems(pool, CATS, { input: 'x', count: 7, seed: 4 }))).not.toEqual(ids(forward));
  });

  it('--subset and --label filter the pool; unknown ones are errors naming what exists', async () => {
    const pool = items(40);
    const val = await chooseItems(pool, CATS, { input: 'x', count: 100, subset: 'val' });
    expect(val.length).toBe(14);
    expect(val.every((i) => i.subset === 'val')).toBe(true);
    const tagged = await chooseItems(pool, CATS, { input: 'x', count: 100, label: 'area' });
    expect(ids(tagged).sort()).toEqual(ids(pool.filter((_, k) => k % 4 === 0)).sort());
    await expect(chooseItems(pool, CATS, { input: 'x', subset: 'test' })).rejects.toThrow(/no subset 'test'; the subsets are 'val', 'train'/);
    await expect(chooseItems(pool, CATS, { input: 'x', label: 'dog' })).rejects.toThrow(/no label 'dog'.*'box', 'area', 'kp'/);
  });

  it('--items in the order given; an unknown id is an error listing some that exist', async () => {
    const pool = items(40);
    expect(ids(await chooseItems(pool, CATS, { input: 'x', items: ['img7', 'img3'] }))).toEqual(['train/img7', 'val/img3']);
    const error = await chooseItems(pool, CATS, { input: 'data', items: ['img7', 'img99'] }).catch((e) => e);
    expect(error).toBeInstanceOf(DatumError);
    expect(error.diagnostic).toMatchObject({ code: 'unknown-item', file: 'data' });
    expect(error.message).toMatch(/no item 'img99'; items there include 'img0', 'img1', 'img2'/);
  });

  it('file names are safe, single and distinct', () => {
    const names = new FlatNames([CONTACT_SHEET]);
    const made = [
      { id: 'a/b', subset: 'train' }, { id: 'A/B', subset: 'train' }, { id: '../../etc/passwd', subset: '' },
      { id: 'contact-sheet', subset: '' }, { id: 'x:y?*', subset: 'val' }, { id: '.hidden', subset: '' },
    ].map((i) => names.next(i, '.png'));
    expect(made).toEqual(['train_a_b.png', 'train_A_B_2.png', '_._.._etc_passwd.png', 'contact-sheet_2.png', 'val_x_y__.png', '_hidden.png']);
    for (const name of made) expect(path.basename(name)).toBe(name);
  });
});

describe('datum preview: the command', () => {
  /** A dataset of `n` items whose images are missing (placeholders: fast) plus one real image. */
  async function dataset(n: number): Promise<Dataset> {
    const file = await image('real.png', 120, 80, SOURCE);
    const items: Item[] = [{ id: 'real', subset: 'train', image: { path: file }, annotations: [{ type: 'bbox', label: 0, x: 10, y: 10, w: 50, h: 30 }] }];
    for (let k = 0; k < n; k++) items.push({ id: `f/${k}`, subset: k % 2 ? 'train' : 'val', image: { path: path.join(dir, `missing${k}.jpg`), width: 100, height: 50 }, annotations: [{ type: 'polygon', label: 1, points: [10, 10, 40, 10, 25, 40] }] });
    return { categories: CATS, items };
  }
  const input = () => { const d = path.join(dir, 'input'); fs.mkdirSync(d, { recursive: true }); return d; };

  it('writes one PNG per chosen item and a contact sheet of the grid size, --json is one object', async () => {
    current = await dataset(12);
    const out = path.join(tempDir(), 'previews');
    const r = await runCli('preview', '-i', input(), '-if', 'test_preview_memory', '-o', out, '--n', '5', '--seed', '2', '--size', '200', '--json');
    expect(r.code).toBe(0);
    const result = JSON.parse(r.out);
    expect(result.items).toHaveLength(5);
    expect(result.contact_sheet).toBe('contact-sheet.png');
    expect(result.output).toBe(out);
    expect(fs.readdirSync(out).sort()).toEqual([...result.items.map((e: { file: string }) => e.file), 'contact-sheet.png'].sort());
    const all = ['real', ...Array.from({ length: 12 }, (_, k) => `f/${k}`)].map((id, k) => `${k === 0 ? 'train' : (k - 1) % 2 ? 'train' : 'val'}/${id}`);
    const expected = all.sort((a, b) => unitHash(a, 2) - unitHash(b, 2)).slice(0, 5);
    expect(result.items.map((e: { subset: string; id: string }) => `${e.subset}/${e.id}`)).toEqual(expected);
    for (const e of result.items) {
      expect(e.placeholder).toBe(e.id !== 'real');
      expect(e.annotations).toBe(1);
      expect(e.file).toBe(`${e.subset}_${e.id.replace('/', '_')}.png`);
      expect((await sharp(path.join(out, e.file)).metadata()).width).toBe(200);
    }
    // 5 thumbnails: ceil(sqrt(5)) = 3 columns, 2 rows of 200 px cells, 18 px captions, 8 px gaps
    const sheet = await sharp(path.join(out, 'contact-sheet.png')).metadata();
    expect([sheet.width, sheet.height]).toEqual([3 * 208 + 8, 2 * (200 + 18 + 8) + 8]);

    // the same command again gives the same files, byte for byte
    const again = path.join(tempDir(), 'previews');
    expect((await runCli('preview', '-i', input(), '-if', 'test_preview_memory', '-o', again, '--n', '5', '--seed', '2', '--size', '200')).code).toBe(0);
    for (const name of fs.readdirSync(out)) expect(fs.readFileSync(path.join(again, name)).equals(fs.readFileSync(path.join(out, name))), name).toBe(true);
  });

  it('--items draws those; an unknown id, an existing output or bad flags leave nothing', async () => {
    current = await dataset(4);
    const parent = tempDir();
    const out = path.join(parent, 'p');
    const r = await runCli('preview', '-i', input(), '-if', 'test_preview_memory', '-o', out, '--items', 'f/3,real', '--size', '100');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/drew 2 items and contact-sheet.png/);
    expect(fs.readdirSync(out).sort()).toEqual(['contact-sheet.png', 'train_f_3.png', 'train_real.png']);
    const sheet = await sharp(path.join(out, 'contact-sheet.png')).metadata();
    expect([sheet.width, sheet.height]).toEqual([2 * 208 + 8, 226 + 8]);

    const bad = await runCli('preview', '-i', input(), '-if', 'test_preview_memory', '-o', path.join(parent, 'q'), '--items', 'f/3,nope');
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/no item 'nope'; items there include 'real', 'f\/0'/);
    expect(bad.err).not.toMatch(/TypeError|at .*\.ts/);
    expect(fs.readdirSync(parent)).toEqual(['p']);

    const exists = await runCli('preview', '-i', input(), '-if', 'test_preview_memory', '-o', out, '--items', 'real');
    expect(exists.code).toBe(1);
    expect(exists.err).toMatch(/output-exists/);
    expect(fs.readdirSync(out)).toHaveLength(3);
    expect((await runCli('preview', '-i', input(), '-if', 'test_preview_memory', '-o', out, '--items', 'real', '--overwrite')).code).toBe(0);
    expect(fs.readdirSync(out).sort()).toEqual(['contact-sheet.png', 'train_real.png']);

    for (const flags of [['--n', '0'], ['--n', 'x'], ['--size', '5'], ['--seed', '1.5'], ['--items', 'real', '--n', '3']]) {
      const u = await runCli('preview', '-i', input(), '-if', 'test_preview_memory', '-o', path.join(parent, 'u'), ...flags);
      expect(u.code, flags.join(' ')).toBe(2);
      expect(u.err).toMatch(/^datum: preview: /);
    }
    const inside = await runCli('preview', '-i', input(), '-if', 'test_preview_memory', '-o', path.join(input(), 'out'));
    expect(inside.code).toBe(1);
    expect(inside.err).toMatch(/output-overlaps-input/);
    expect(fs.readdirSync(parent)).toEqual(['p']);
  });

  it('YOLO labels without their image are reported by item, not drawn; none drawable is an error', async () => {
    const out = path.join(tempDir(), 'y');
    const r = await runCli('preview', '-i', fixture('yolo/strict'), '-o', out, '--json');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/warning: .*not drawn: coordinates are normalized .*item '(train\/)?0042'.*\[no-image-size\]/);
    expect(JSON.parse(r.out).error.code).toBe('nothing-to-draw');
    expect(fs.existsSync(out)).toBe(false);

    // beside an item that can be drawn, it is listed as skipped
    const file = await image('yolo-ok.png', 60, 60, SOURCE);
    const box: Annotation = { type: 'bbox', label: 0, x: 0.1, y: 0.1, w: 0.5, h: 0.5 };
    current = { categories: CATS, items: [{ id: 'ok', subset: '', normalized: true, image: { path: file }, annotations: [box] }, { id: 'lost', subset: '', normalized: true, image: { path: path.join(dir, 'lost.jpg') }, annotations: [box] }] };
    const ctx = createContext();
    const request: PreviewRequest = { input: input(), inputFormat: 'test_preview_memory', output: path.join(tempDir(), 'z'), count: 5 };
    const result = await previewDataset(request, ctx);
    expect(result.items.map((e) => e.id)).toEqual(['ok']);
    expect(result.skipped.map((e) => e.id)).toEqual(['lost']);
    expect(ctx.reporter.messages.map((m) => [m.code, m.item])).toEqual([['no-image-size', 'lost']]);
  });

  it('the bundled CVAT sample: every item drawn, boxes in the colours CVAT gave the labels', async () => {
    const out = path.join(tempDir(), 'sample');
    const r = await runCli('preview', '-i', path.join(ROOT, 'samples/cvat_dataset'), '-o', out, '--json');
    expect(r.code).toBe(0);
    const result = JSON.parse(r.out);
    expect(result.items.map((e: { file: string }) => e.file).sort()).toEqual(['Test_street_006.png', 'Train_park_004.png', 'Train_street_001.png', 'Train_street_002.png', 'Train_street_003.png', 'Validation_street_005.png']);
    // street_001 (320 x 240, drawn at 640): car 20,120-140,190 in #c03030, person 200,60-240,170 in #3060c0
    const p = await pixels(path.join(out, 'Train_street_001.png'));
    expect([p.width, p.height]).toEqual([640, 480]);
    expect(p.at(40, 310)).toEqual([0xc0, 0x30, 0x30]);
    expect(p.at(279, 310)).toEqual([0xc0, 0x30, 0x30]);
    expect(p.at(400, 230)).toEqual([0x30, 0x60, 0xc0]);
  });
});

/** Every corpus dataset: each chosen item gives a PNG (or, normalized without image, a warning), no error. */
conformance('preview: corpus datasets', () => {
  for (const [format, d] of CORPUS_DATASETS) {
    it(`${d} (${format})`, async () => {
      if (!fs.existsSync(corpus(d))) return;
      const ctx = createContext();
      const result = await previewDataset({ input: corpus(d), inputFormat: format, output: path.join(tempDir(), 'p'), count: 6, size: 320 }, ctx)
        .catch((e: DatumError) => e);
      if (result instanceof Error) {
        // only a dataset where nothing has a size may fail, and then with the reason
        expect(result.message).toMatch(/nothing-to-draw/);
        return;
      }
      for (const e of result.items) {
        const meta = await sharp(path.join(result.output, e.file)).metadata();
        expect(Math.max(meta.width!, meta.height!)).toBeGreaterThanOrEqual(320);
      }
      expect(result.skipped.length).toBe(ctx.reporter.messages.filter((m) => m.code === 'no-image-size').length);
      expect(fs.existsSync(path.join(result.output, 'contact-sheet.png'))).toBe(true);
    });
  }
});
