import { afterAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli } from '../helpers/cli.js';
import { collect, type Annotation, type Category, type Item, type MaskAnnotation } from '../../src/model.js';
import { Reporter, UsageError, type Diagnostic } from '../../src/diagnostics.js';
import { createContext } from '../../src/pipeline.js';
import { parseTransform } from '../../src/transforms/index.js';
import { maskToBitmap } from '../../src/geometry/mask.js';
import { polygonArea } from '../../src/geometry/polygon.js';

const CATEGORIES: Category[] = [{ name: 'car' }, { name: 'bus' }];

async function run(spec: string, items: Item[], categories = CATEGORIES): Promise<{ items: Item[]; messages: Diagnostic[] }> {
  const reporter = new Reporter();
  const out = await parseTransform(spec)({ categories, items }, createContext({ reporter }));
  return { items: (await collect(out)).items, messages: reporter.messages };
}

const item = (annotations: Annotation[], extra: Partial<Item> = {}): Item => ({ id: 'img', subset: 'train', annotations, ...extra });
const sized = (annotations: Annotation[], width = 10, height = 10): Item => item(annotations, { image: { path: '/x/img.jpg', width, height } });

/** The set pixels of a mask as image coordinates "x,y". */
function pixels(m: Pick<MaskAnnotation, 'left' | 'top' | 'width' | 'height' | 'rle'>): string[] {
  const b = maskToBitmap(m);
  const out: string[] = [];
  for (let y = 0; y < b.height; y++) for (let x = 0; x < b.width; x++) if (b.data[y * b.width + x]) out.push(`${m.left + x},${m.top + y}`);
  return out;
}

/** Vertices of a flat polygon as sorted "x,y" strings (the clip may start anywhere on the ring). */
const vertices = (points: number[]) => Array.from({ length: points.length / 2 }, (_, i) => `${points[2 * i]},${points[2 * i + 1]}`).sort();

function info(messages: Diagnostic[], code: string): string {
  const found = messages.find((m) => m.severity === 'info' && m.code === code);
  expect(found, `info ${code}`).toBeDefined();
  return found!.message;
}

describe('shapes_to_boxes', () => {
  it('boxes every kind of shape by its bounds, keeping the fields, leaving labels, captions and axis-aligned boxes', async () => {
    const fields = { label: 1, attributes: { color: 'red' }, occluded: true, zOrder: 2, id: 7 };
    const { items, messages } = await run('shapes_to_boxes', [item([
      { type: 'polygon', points: [1, 2, 5, 1, 4, 7], ...fields },
      { type: 'polyline', points: [0, 0, 3, 4] },
      { type: 'points', points: [2, 2, 100, 100, 6, 3], visibility: [2, 0, 1] },
      // 4 x 3 at (10, 20): rows ..x. / .xx. / .... -> pixels (12,20) (11,21) (12,21)
      { type: 'mask', left: 10, top: 20, width: 4, height: 3, rle: [2, 1, 2, 2, 5] },
      { type: 'ellipse', cx: 10, cy: 10, rx: 4, ry: 2, rotation: 90 },
      { type: 'bbox', x: 0, y: 0, w: 4, h: 2, rotation: 90, label: 0 },
      { type: 'skeleton', points: [1, 1, 50, 50, 3, 9], visibility: [2, 0, 2], label: 0 },
      { type: 'bbox', x: 1, y: 1, w: 2, h: 2 },
      { type: 'label', label: 0 },
      { type: 'caption', caption: 'a car' },
    ])]);
    const out = items[0].annotations;
    expect(out.map((a) => a.type)).toEqual(['bbox', 'bbox', 'bbox', 'bbox', 'bbox', 'bbox', 'bbox', 'bbox', 'label', 'caption']);
    expect(out[0]).toEqual({ type: 'bbox', x: 1, y: 1, w: 4, h: 6, ...fields });
    expect(out[1]).toEqual({ type: 'bbox', x: 0, y: 0, w: 3, h: 4 });
    expect(out[2]).toEqual({ type: 'bbox', x: 2, y: 2, w: 4, h: 1 }); // the absent point is not counted
    expect(out[3]).toEqual({ type: 'bbox', x: 11, y: 20, w: 2, h: 2 });
    const ellipse = out[4] as { x: number; y: number; w: number; h: number };
    expect([ellipse.x, ellipse.y, ellipse.w, ellipse.h].map((v) => +v.toFixed(9))).toEqual([8, 6, 4, 8]);
    const rotated = out[5] as { x: number; y: number; w: number; h: number; rotation?: number };
    expect([rotated.x, rotated.y, rotated.w, rotated.h].map((v) => +v.toFixed(9))).toEqual([1, -1, 2, 4]);
    expect(rotated.rotation).toBeUndefined();
    expect(out[6]).toEqual({ type: 'bbox', x: 1, y: 1, w: 2, h: 8, label: 0 });
    expect(out[7]).toBe(items[0].annotations[7]);
    expect(info(messages, 'shapes-to-boxes')).toMatch(/^shapes_to_boxes: 7 shapes converted .*polygon 1.*; 0 of them merged into their object's box; 0 empty shapes dropped$/);
  });

  it('gives one box per object: an object that has a box keeps it, the shapes of one without merge', async () => {
    const { items } = await run('shapes_to_boxes', [item([
      { type: 'polygon', points: [2, 2, 10, 2, 10, 8], label: 0, group: 1, id: 1 },
      { type: 'bbox', x: 2, y: 2, w: 8, h: 6, label: 0, group: 1, id: 1 },
      { type: 'polygon', points: [0, 0, 2, 0, 2, 2], label: 1, group: 2 },
      { type: 'polygon', points: [5, 5, 9, 5, 9, 6], label: 1, group: 2 },
      // same group, other label: another object
      { type: 'polygon', points: [20, 20, 21, 20, 21, 21], label: 0, group: 2 },
    ])]);
    expect(items[0].annotations).toEqual([
      { type: 'bbox', x: 2, y: 2, w: 8, h: 6, label: 0, group: 1, id: 1 },
      { type: 'bbox', x: 0, y: 0, w: 9, h: 6, label: 1, group: 2 },
      { type: 'bbox', x: 20, y: 20, w: 1, h: 1, label: 0, group: 2 },
    ]);
  });

  it('types= restricts the kinds converted; empty shapes are dropped with a warning; bad arguments are usage errors', async () => {
    const { items, messages } = await run('shapes_to_boxes:types=mask', [item([
      { type: 'polygon', points: [1, 2, 5, 1, 4, 7] },
      { type: 'mask', left: 0, top: 0, width: 2, height: 2, rle: [4] },
      { type: 'mask', left: 3, top: 3, width: 2, height: 1, rle: [0, 2] },
      // 3 wide: ..x / x.. / ... : one run across the row break
      { type: 'mask', left: 0, top: 0, width: 3, height: 3, rle: [2, 2, 5] },
    ])]);
    expect(items[0].annotations).toEqual([
      { type: 'polygon', points: [1, 2, 5, 1, 4, 7] },
      { type: 'bbox', x: 3, y: 3, w: 2, h: 1 },
      { type: 'bbox', x: 0, y: 0, w: 3, h: 2 },
    ]);
    expect(messages.filter((m) => m.code === 'empty-shape')).toMatchObject([{ severity: 'warning', item: 'img' }]);
    expect(() => parseTransform('shapes_to_boxes:types=circle')).toThrow(UsageError);
    expect(() => parseTransform('shapes_to_boxes:types=circle')).toThrow(/'circle' is not a kind/);
    expect(() => parseTransform('shapes_to_boxes:polygon')).toThrow(UsageError);
    expect(() => parseTransform('shapes_to_boxes:;colour=red')).toThrow(/unknown parameter 'colour'/);
  });

  it('does not change its input items', async () => {
    const polygon: Annotation = { type: 'polygon', points: [1, 2, 5, 1, 4, 7], group: 1, label: 0 };
    const other: Annotation = { type: 'polygon', points: [0, 0, 1, 0, 1, 1], group: 1, label: 0 };
    const input = item([polygon, other]);
    const snapshot = JSON.stringify(input);
    const { items } = await run('shapes_to_boxes', [input]);
    expect(items[0].annotations).toEqual([{ type: 'bbox', x: 0, y: 0, w: 5, h: 7, group: 1, label: 0 }]);
    expect(JSON.stringify(input)).toBe(snapshot);
  });
});

describe('boxes_to_polygons', () => {
  it('gives the four corners, clockwise from the top-left, of plain and rotated boxes', async () => {
    const { items, messages } = await run('boxes_to_polygons', [item([
      { type: 'bbox', x: 1, y: 2, w: 3, h: 4, label: 1, group: 3, id: 9, attributes: { a: 1 } },
      { type: 'bbox', x: 0, y: 0, w: 4, h: 2, rotation: 90 },
      { type: 'label', label: 0 },
    ])]);
    const [plain, rotated, label] = items[0].annotations;
    expect(plain).toEqual({ type: 'polygon', points: [1, 2, 4, 2, 4, 6, 1, 6], label: 1, group: 3, id: 9, attributes: { a: 1 } });
    expect(rotated.type).toBe('polygon');
    // centre (2, 1); turned a quarter clockwise the top-left corner goes to the top-right
    expect((rotated as { points: number[] }).points.map((v) => +v.toFixed(9))).toEqual([3, -1, 3, 3, 1, 3, 1, -1]);
    expect('rotation' in rotated).toBe(false);
    expect(label).toEqual({ type: 'label', label: 0 });
    expect(info(messages, 'boxes-to-polygons')).toBe('boxes_to_polygons: 2 boxes converted to polygons; 0 boxes of objects that have a polygon or mask kept as boxes');
    expect(() => parseTransform('boxes_to_polygons:x')).toThrow(UsageError);
  });

  it('keeps the box of an object that has a polygon or mask (COCO gives both) as its box', async () => {
    const box: Annotation = { type: 'bbox', x: 2, y: 2, w: 8, h: 6, label: 0, group: 1 };
    const { items, messages } = await run('boxes_to_polygons', [item([
      box,
      { type: 'polygon', points: [2, 2, 10, 2, 10, 8], label: 0, group: 1 },
      { type: 'bbox', x: 0, y: 0, w: 1, h: 1, label: 1, group: 1 }, // another label: its own object
    ])]);
    expect(items[0].annotations[0]).toBe(box);
    expect(items[0].annotations[2]).toEqual({ type: 'polygon', points: [0, 0, 1, 0, 1, 1, 0, 1], label: 1, group: 1 });
    expect(info(messages, 'boxes-to-polygons')).toBe('boxes_to_polygons: 1 box converted to polygons; 1 box of objects that have a polygon or mask kept as boxes');
  });
});

describe('polygons_to_masks and masks_to_polygons', () => {
  it('paints the pixels whose centre the polygon encloses, into a mask of those pixels only', async () => {
    const { items, messages } = await run('polygons_to_masks', [item([
      { type: 'polygon', points: [0, 0, 4, 0, 0, 4], label: 0, group: 2, attributes: { x: true } },
      { type: 'polygon', points: [0.1, 0.1, 0.4, 0.1, 0.4, 0.4] }, // covers no pixel centre
      { type: 'bbox', x: 0, y: 0, w: 1, h: 1 },
    ])]);
    // rows: x+y+1 < 4 -> 3, 2, 1 pixels
    expect(items[0].annotations).toEqual([
      { type: 'mask', left: 0, top: 0, width: 3, height: 3, rle: [0, 5, 1, 1, 2], label: 0, group: 2, attributes: { x: true } },
      { type: 'bbox', x: 0, y: 0, w: 1, h: 1 },
    ]);
    expect(pixels(items[0].annotations[0] as MaskAnnotation)).toEqual(['0,0', '1,0', '2,0', '0,1', '1,1', '0,2']);
    expect(messages.find((m) => m.code === 'empty-polygon')).toMatchObject({ severity: 'warning', item: 'img' });
    expect(info(messages, 'polygons-to-masks')).toBe('polygons_to_masks: 1 polygon converted into 1 mask; 1 dropped (no pixel centre inside)');
  });

  it('gives one mask for the polygon parts of one object (same label and group)', async () => {
    const { items, messages } = await run('polygons_to_masks', [item([
      { type: 'bbox', x: 0, y: 0, w: 6, h: 2, label: 0, group: 1 },
      { type: 'polygon', points: [0, 0, 2, 0, 2, 2, 0, 2], label: 0, group: 1, id: 5 },
      { type: 'polygon', points: [4, 1, 6, 1, 6, 2, 4, 2], label: 0, group: 1, id: 5 },
      { type: 'polygon', points: [8, 0, 9, 0, 9, 1, 8, 1], label: 1, group: 1 },
    ])]);
    expect(items[0].annotations).toEqual([
      { type: 'bbox', x: 0, y: 0, w: 6, h: 2, label: 0, group: 1 },
      // rows: xx.... / xx..xx
      { type: 'mask', left: 0, top: 0, width: 6, height: 2, rle: [0, 2, 4, 2, 2, 2], label: 0, group: 1, id: 5 },
      { type: 'mask', left: 8, top: 0, width: 1, height: 1, rle: [0, 1], label: 1, group: 1 },
    ]);
    expect(info(messages, 'polygons-to-masks')).toBe('polygons_to_masks: 3 polygons converted into 2 masks; 0 dropped (no pixel centre inside)');
  });

  it('leaves items with normalized coordinates alone and says so', async () => {
    const polygon: Annotation = { type: 'polygon', points: [0.1, 0.1, 0.9, 0.1, 0.9, 0.9] };
    const { items, messages } = await run('polygons_to_masks', [item([polygon], { normalized: true })]);
    expect(items[0].annotations).toEqual([polygon]);
    expect(messages.find((m) => m.code === 'normalized-coordinates')?.message).toBe('polygons_to_masks: 1 item with normalized coordinates left alone (their polygons have no pixels)');
  });

  it('round-trips a rectangle and an L shape on pixel corners exactly', async () => {
    const rectangle = [2, 3, 7, 3, 7, 8, 2, 8];
    const lShape = [0, 0, 2, 0, 2, 3, 4, 3, 4, 5, 0, 5];
    const masks = await run('polygons_to_masks', [item([
      { type: 'polygon', points: rectangle, label: 0 },
      { type: 'polygon', points: lShape, label: 1 },
    ])]);
    expect(masks.items[0].annotations[0]).toEqual({ type: 'mask', left: 2, top: 3, width: 5, height: 5, rle: [0, 25], label: 0 });
    const l = masks.items[0].annotations[1] as MaskAnnotation;
    expect([l.left, l.top, l.width, l.height]).toEqual([0, 0, 4, 5]);
    expect(pixels(l).length).toBe(2 * 3 + 4 * 2);
    const back = await run('masks_to_polygons', masks.items);
    expect(back.items[0].annotations).toEqual([
      { type: 'polygon', points: rectangle, label: 0 },
      { type: 'polygon', points: lShape, label: 1 },
    ]);
  });

  it('gives one polygon per 8-connected component, in one group, dropping those under min_area', async () => {
    // 7 x 3:  x...x.. / .x..x.. / ......x : A = (0,0)+(1,1) diagonal, B = (4,0)-(4,1), C = (6,2)
    const bits = [1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1];
    const rle: number[] = [];
    let current = 0, length = 0;
    for (const b of bits) { if (b !== current) { rle.push(length); length = 0; current = b; } length++; }
    rle.push(length);
    const mask: MaskAnnotation = { type: 'mask', left: 10, top: 20, width: 7, height: 3, rle, label: 1, id: 4, attributes: { kind: 'x' } };
    const all = await run('masks_to_polygons', [item([{ type: 'bbox', x: 0, y: 0, w: 1, h: 1, group: 3 }, mask])]);
    const polygons = all.items[0].annotations.slice(1);
    expect(polygons.map((p) => (p as { points: number[] }).points)).toEqual([
      [10, 20, 11, 20, 11, 21, 12, 21, 12, 22, 11, 22, 11, 21, 10, 21], // through the shared corner (11, 21)
      [14, 20, 15, 20, 15, 22, 14, 22],
      [16, 22, 17, 22, 17, 23, 16, 23],
    ]);
    // no group before: a new one, unique in the item (3 is taken)
    for (const p of polygons) expect(p).toMatchObject({ type: 'polygon', label: 1, id: 4, attributes: { kind: 'x' }, group: 4 });
    expect(info(all.messages, 'masks-to-polygons')).toMatch(/^masks_to_polygons: 1 mask gave 3 polygons; 0 components under 1 pixel dropped, 0 masks left/);

    const big = await run('masks_to_polygons:min_area=2', [item([{ ...mask, group: 8 }])]);
    expect(big.items[0].annotations.map((p) => [(p as { points: number[] }).points.length, p.group])).toEqual([[16, 8], [8, 8]]);
    expect(info(big.messages, 'masks-to-polygons')).toMatch(/1 component under 2 pixels dropped/);

    const none = await run('masks_to_polygons:;min_area=5', [item([mask])]);
    expect(none.items[0].annotations).toEqual([]);
    expect(none.messages.find((m) => m.code === 'empty-mask')).toMatchObject({ severity: 'warning', item: 'img' });
    expect(() => parseTransform('masks_to_polygons:min_area=big')).toThrow(/min_area must be a number; got 'big'/);
    expect(() => parseTransform('masks_to_polygons:min_area=-1')).toThrow(UsageError);
  });

  it('works in the bounds of a mask\'s pixels and leaves shapes too large to paint as they are, with a warning', async () => {
    // A 1e6 x 1e6 rectangle holding one pixel at (5, 0): traced without a bitmap of the rectangle.
    const sparse: MaskAnnotation = { type: 'mask', left: 0, top: 0, width: 1e6, height: 1e6, rle: [5, 1, 1e12 - 6] };
    const traced = await run('masks_to_polygons', [item([sparse])]);
    expect(traced.items[0].annotations).toEqual([{ type: 'polygon', points: [5, 0, 6, 0, 6, 1, 5, 1] }]);
    const huge: Annotation = { type: 'polygon', points: [0, 0, 1e6, 0, 1e6, 1e6] };
    const painted = await run('polygons_to_masks', [item([huge])]);
    expect(painted.items[0].annotations).toEqual([huge]);
    expect(painted.messages.find((m) => m.code === 'shape-too-large')).toMatchObject({ severity: 'warning', item: 'img' });
    const merged = await run('merge_instance_segments:include_polygons=true', [item([{ ...huge, group: 1 }, { ...sparse, group: 1 }])]);
    expect(merged.items[0].annotations).toEqual([{ ...huge, group: 1 }, { ...sparse, group: 1 }]);
    expect(merged.messages.find((m) => m.code === 'shape-too-large')).toMatchObject({ severity: 'warning', item: 'img' });
  });

  it('counts and warns about the holes it fills in; a single polygon keeps no group', async () => {
    // 3 x 3 ring with a one-pixel hole
    const ring: MaskAnnotation = { type: 'mask', left: 0, top: 0, width: 3, height: 3, rle: [0, 4, 1, 4] };
    const { items, messages } = await run('masks_to_polygons', [item([ring])]);
    expect(items[0].annotations).toEqual([{ type: 'polygon', points: [0, 0, 3, 0, 3, 3, 0, 3] }]);
    expect(messages.find((m) => m.code === 'mask-holes-filled')).toMatchObject({ severity: 'warning', item: 'img' });
    expect(info(messages, 'masks-to-polygons')).toBe('masks_to_polygons: 1 mask gave 1 polygon; 0 components under 1 pixel dropped, 0 masks left with none dropped; 1 mask had holes (1 pixel filled in)');
  });
});

describe('merge_instance_segments', () => {
  const a: MaskAnnotation = { type: 'mask', left: 0, top: 0, width: 2, height: 1, rle: [0, 2], label: 0, group: 1, id: 1 };
  const b: MaskAnnotation = { type: 'mask', left: 3, top: 1, width: 1, height: 1, rle: [0, 1], label: 0, group: 1, id: 2, attributes: { small: true } };
  const otherLabel: MaskAnnotation = { type: 'mask', left: 5, top: 5, width: 1, height: 1, rle: [0, 1], label: 1, group: 1 };
  const polygon: Annotation = { type: 'polygon', points: [0, 2, 1, 2, 1, 3, 0, 3], label: 0, group: 1, id: 3 };
  const loose: Annotation = { type: 'polygon', points: [6, 0, 7, 0, 7, 1, 6, 1], label: 1 };

  it('unites the masks of one instance into one mask with the largest one\'s fields; polygons stay by default', async () => {
    const { items, messages } = await run('merge_instance_segments', [item([{ type: 'label', label: 0 }, b, polygon, otherLabel, a, loose])]);
    expect(items[0].annotations).toEqual([
      { type: 'label', label: 0 },
      // rows: xx.. / ...x ; in the place of the instance's first segment, fields of the larger (a)
      { type: 'mask', left: 0, top: 0, width: 4, height: 2, rle: [0, 2, 5, 1], label: 0, group: 1, id: 1 },
      polygon, otherLabel, loose,
    ]);
    expect(info(messages, 'merge-instance-segments')).toBe('merge_instance_segments: 1 instance merged from 2 segments; 0 polygons painted into masks; 0 empty instances dropped');
  });

  it('include_polygons=true paints the instance\'s polygons in, and turns lone polygons into masks', async () => {
    const { items, messages } = await run('merge_instance_segments:include_polygons=true', [item([b, polygon, a, loose])]);
    const [merged, lone] = items[0].annotations as MaskAnnotation[];
    expect(items[0].annotations).toHaveLength(2);
    expect(merged).toMatchObject({ type: 'mask', label: 0, group: 1, id: 1, left: 0, top: 0, width: 4, height: 3 });
    expect(pixels(merged)).toEqual(['0,0', '1,0', '3,1', '0,2']);
    expect(lone).toEqual({ type: 'mask', left: 6, top: 0, width: 1, height: 1, rle: [0, 1], label: 1 });
    expect(info(messages, 'merge-instance-segments')).toBe('merge_instance_segments: 1 instance merged from 3 segments; 2 polygons painted into masks; 0 empty instances dropped');
    expect(() => parseTransform('merge_instance_segments:include_polygons=yes')).toThrow(/include_polygons must be one of false, true/);
  });
});

describe('crop_to_image', () => {
  it('clips every kind of shape to a 10 x 10 image and drops what falls outside', async () => {
    const { items, messages } = await run('crop_to_image', [sized([
      { type: 'bbox', x: -2, y: 3, w: 5, h: 20, label: 0, id: 1 },
      { type: 'bbox', x: 12, y: 0, w: 3, h: 3 }, // outside
      { type: 'bbox', x: 10, y: 0, w: 5, h: 5 }, // only its left edge touches: zero area
      { type: 'bbox', x: 1, y: 1, w: 2, h: 2 }, // inside
      { type: 'polygon', points: [-2, -2, 4, -2, 4, 4, -2, 4], label: 1 },
      { type: 'polygon', points: [5, 5, 15, 5, 5, 15] },
      { type: 'polygon', points: [11, 11, 15, 11, 15, 15] }, // outside
      { type: 'polyline', points: [-5, 5, 5, 5, 5, 15] },
      { type: 'polyline', points: [2, 2, 2, 15, 8, 15, 8, 2] }, // leaves and comes back
      { type: 'points', points: [5, 5, 12, 5, 3, 3] },
      { type: 'skeleton', points: [11, 1, 12, 2], visibility: [2, 1] }, // all outside
      { type: 'skeleton', points: [1, 1, 12, 2], visibility: [2, 1] },
      { type: 'mask', left: 8, top: 8, width: 4, height: 4, rle: [0, 16] },
      { type: 'mask', left: 10, top: 0, width: 2, height: 2, rle: [0, 4] }, // outside
      // 3 x 2 at (-1, -1): .xx / x.x -> (0,-1) (1,-1) (-1,0) (1,0); inside: (1, 0) only
      { type: 'mask', left: -1, top: -1, width: 3, height: 2, rle: [1, 3, 1, 1] },
      { type: 'ellipse', cx: 9, cy: 5, rx: 3, ry: 1 }, // crosses, centre inside
      { type: 'ellipse', cx: 11, cy: 5, rx: 3, ry: 1 }, // centre outside
      { type: 'bbox', x: 7, y: 4, w: 4, h: 2, rotation: 30 }, // crosses, centre inside
      { type: 'label', label: 1 },
    ])]);
    const out = items[0].annotations;
    expect(out[0]).toEqual({ type: 'bbox', x: 0, y: 3, w: 3, h: 7, label: 0, id: 1 });
    expect(out[1]).toEqual({ type: 'bbox', x: 1, y: 1, w: 2, h: 2 });
    const square = out[2] as { type: string; points: number[]; label: number };
    expect([square.type, square.label]).toEqual(['polygon', 1]);
    expect(vertices(square.points)).toEqual(['0,0', '0,4', '4,0', '4,4']);
    const corner = out[3] as { points: number[] };
    expect(vertices(corner.points)).toEqual(['10,10', '10,5', '5,10', '5,5']);
    expect(polygonArea(corner.points)).toBe(25);
    expect(out[4]).toEqual({ type: 'polyline', points: [0, 5, 5, 5, 5, 10] });
    expect(out[5]).toEqual({ type: 'polyline', points: [2, 2, 2, 10], group: 1 });
    expect(out[6]).toEqual({ type: 'polyline', points: [8, 10, 8, 2], group: 1 });
    expect(out[7]).toEqual({ type: 'points', points: [5, 5, 12, 5, 3, 3], visibility: [2, 0, 2] });
    expect(out[8]).toEqual({ type: 'skeleton', points: [1, 1, 12, 2], visibility: [2, 0] });
    expect(out[9]).toEqual({ type: 'mask', left: 8, top: 8, width: 2, height: 2, rle: [0, 4] });
    expect(out[10]).toEqual({ type: 'mask', left: 1, top: 0, width: 1, height: 1, rle: [0, 1] });
    expect(out[11]).toEqual({ type: 'ellipse', cx: 9, cy: 5, rx: 3, ry: 1 });
    expect(out[12]).toMatchObject({ type: 'bbox', rotation: 30 });
    expect(out[13]).toEqual({ type: 'label', label: 1 });
    expect(out).toHaveLength(14);
    expect(info(messages, 'crop-to-image')).toBe('crop_to_image: 9 shapes clipped, 6 dropped (outside the image or left empty); '
      + '2 ellipses or rotated boxes crossing the border kept whole; 0 items without an image size left alone');
  });

  it('uses [0, 1] for normalized items, leaves items without a size alone and warns once with their count', async () => {
    const inside = sized([{ type: 'bbox', x: 1, y: 1, w: 2, h: 2 }]);
    const { items, messages } = await run('crop_to_image', [
      item([{ type: 'bbox', x: 0.5, y: -0.25, w: 1, h: 0.5 }], { normalized: true }),
      item([{ type: 'bbox', x: -5, y: -5, w: 50, h: 50 }], { id: 'nosize1' }),
      item([{ type: 'polygon', points: [-1, -1, 5, -1, 5, 5] }], { id: 'nosize2', image: { path: '/x/b.jpg' } }),
      inside,
    ]);
    expect(items[0].annotations).toEqual([{ type: 'bbox', x: 0.5, y: 0, w: 0.5, h: 0.25 }]);
    expect(items[1].annotations).toEqual([{ type: 'bbox', x: -5, y: -5, w: 50, h: 50 }]);
    expect(items[2].annotations).toEqual([{ type: 'polygon', points: [-1, -1, 5, -1, 5, 5] }]);
    expect(items[3]).toBe(inside);
    const warnings = messages.filter((m) => m.code === 'no-image-size');
    expect(warnings).toHaveLength(1);
    expect(warnings[0].message).toBe('crop_to_image: 2 items have no image width and height; their shapes were not clipped');
    expect(info(messages, 'crop-to-image')).toBe('crop_to_image: 1 shape clipped, 0 dropped (outside the image or left empty); 0 ellipses or rotated boxes crossing the border kept whole; 2 items without an image size left alone');
  });
});

describe('review fixes', () => {
  const dirs: string[] = [];
  afterAll(() => { for (const d of dirs) fs.rmSync(d, { recursive: true, force: true }); });

  it('polygons_to_masks paints only the image\'s pixels when its size is known', async () => {
    const { items, messages } = await run('polygons_to_masks', [sized([
      { type: 'polygon', points: [-3, -3, 5, -3, 5, 5, -3, 5], label: 0 },
      { type: 'polygon', points: [12, 12, 15, 12, 15, 15], label: 1 }, // wholly outside
      // a huge polygon is painted within the image only, not refused as too large
      { type: 'polygon', points: [8, 8, 1e6, 8, 1e6, 1e6, 8, 1e6], label: 1 },
    ])]);
    expect(items[0].annotations).toEqual([
      { type: 'mask', left: 0, top: 0, width: 5, height: 5, rle: [0, 25], label: 0 },
      { type: 'mask', left: 8, top: 8, width: 2, height: 2, rle: [0, 4], label: 1 },
    ]);
    expect(messages.filter((m) => m.severity === 'warning').map((m) => m.message)).toEqual(['polygons_to_masks: 1 polygon enclosing no pixel centre of the image dropped']);
    // Without a size, the mask is the polygon's pixels, wherever they are.
    const unsized = await run('polygons_to_masks', [item([{ type: 'polygon', points: [-3, -3, 5, -3, 5, 5, -3, 5] }])]);
    expect(unsized.items[0].annotations).toEqual([{ type: 'mask', left: -3, top: -3, width: 8, height: 8, rle: [0, 64] }]);
  });

  it('merge_instance_segments unites within the image when its size is known', async () => {
    const { items, messages } = await run('merge_instance_segments:include_polygons=true', [sized([
      { type: 'mask', left: -2, top: 8, width: 4, height: 4, rle: [0, 16], label: 0, group: 1 },
      { type: 'polygon', points: [8, -5, 12, -5, 12, 1, 8, 1], label: 0, group: 1 },
      { type: 'mask', left: 20, top: 20, width: 2, height: 2, rle: [0, 4], label: 1, group: 2 },
      { type: 'polygon', points: [30, 30, 31, 30, 31, 31], label: 1, group: 2 },
    ])]);
    const [merged] = items[0].annotations as MaskAnnotation[];
    expect(items[0].annotations).toHaveLength(1);
    expect([merged.left, merged.top, merged.width, merged.height]).toEqual([0, 0, 10, 10]);
    expect(pixels(merged)).toEqual(['8,0', '9,0', '0,8', '1,8', '0,9', '1,9']);
    expect(messages.filter((m) => m.severity === 'warning').map((m) => m.message)).toEqual(['merge_instance_segments: 1 instance covering no pixel of the image dropped']);
  });

  it('a COCO export of a polygon crossing the border gets a bbox and area of the pixels it holds', async () => {
    const { applyTransforms, exportDataset, getFormat } = await import('../../src/index.js');
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'datum-geometry-'));
    dirs.push(root);
    const ctx = createContext();
    const dataset = await applyTransforms({ categories: [{ name: 'car' }], items: [{
      id: 'a', subset: 'train', image: { path: '/nonexistent/a.jpg', width: 10, height: 10 },
      annotations: [{ type: 'polygon', label: 0, points: [-3, -3, 5, -3, 5, 5, -3, 5] }],
    }] }, [parseTransform('polygons_to_masks')], ctx);
    await exportDataset(dataset, path.join(root, 'coco'), getFormat('coco'), {}, ctx);
    const written = JSON.parse(fs.readFileSync(path.join(root, 'coco', 'annotations', 'instances_train.json'), 'utf8'));
    expect(written.annotations.map((a: { bbox: number[]; area: number }) => [a.bbox, a.area])).toEqual([[[0, 0, 5, 5], 25]]);
  });

  it('leaves shapes with coordinates that are not finite as they are, and says how many', async () => {
    const nanBox: Annotation = { type: 'bbox', x: Number.NaN, y: 0, w: 4, h: 4, label: 0 };
    const nanRotated: Annotation = { type: 'bbox', x: 0, y: 0, w: 4, h: Number.NaN, rotation: 30, label: 0 };
    const infPolygon: Annotation = { type: 'polygon', points: [0, 0, Infinity, 0, 4, 4], label: 0 };
    const nanPoints: Annotation = { type: 'points', points: [1, Number.NaN, 20, 20] };
    const good: Annotation = { type: 'bbox', x: 1, y: 1, w: 20, h: 2 };

    const cropped = await run('crop_to_image', [sized([nanBox, infPolygon, nanPoints, good])]);
    expect(cropped.items[0].annotations).toEqual([nanBox, infPolygon, nanPoints, { type: 'bbox', x: 1, y: 1, w: 9, h: 2 }]);
    expect(cropped.items[0].annotations[1]).toBe(infPolygon);
    expect(info(cropped.messages, 'crop-to-image')).toBe('crop_to_image: 1 shape clipped, 0 dropped (outside the image or left empty); 0 ellipses or rotated boxes crossing the border kept whole; '
      + '0 items without an image size left alone; 3 shapes with coordinates not finite left as they were');

    const boxed = await run('shapes_to_boxes', [item([nanRotated, infPolygon, nanPoints])]);
    expect(boxed.items[0].annotations).toEqual([nanRotated, infPolygon, nanPoints]);
    expect(info(boxed.messages, 'shapes-to-boxes')).toBe("shapes_to_boxes: 0 shapes converted; 0 of them merged into their object's box; 0 empty shapes dropped; 3 shapes with coordinates not finite left as they were");

    const polygons = await run('boxes_to_polygons', [item([nanBox, good])]);
    expect(polygons.items[0].annotations).toEqual([nanBox, { type: 'polygon', points: [1, 1, 21, 1, 21, 3, 1, 3] }]);
    expect(info(polygons.messages, 'boxes-to-polygons')).toBe('boxes_to_polygons: 1 box converted to polygons; 0 boxes of objects that have a polygon or mask kept as boxes; 1 box with coordinates not finite left as it was');
  });

  it('takes its parameter with or without the leading ";"', async () => {
    const shapes = [item([{ type: 'polygon', points: [1, 2, 5, 1, 4, 7] }, { type: 'mask', left: 3, top: 3, width: 2, height: 1, rle: [0, 2] }])];
    for (const spec of ['shapes_to_boxes:types=polygon', 'shapes_to_boxes:;types=polygon']) {
      expect((await run(spec, shapes)).items[0].annotations.map((a) => a.type)).toEqual(['bbox', 'mask']);
    }
    const mask: MaskAnnotation = { type: 'mask', left: 0, top: 0, width: 4, height: 1, rle: [0, 1, 1, 2] };
    for (const spec of ['masks_to_polygons:min_area=2', 'masks_to_polygons:;min_area=2']) {
      expect((await run(spec, [item([mask])])).items[0].annotations).toEqual([{ type: 'polygon', points: [2, 0, 4, 0, 4, 1, 2, 1] }]);
    }
    const polygon: Annotation = { type: 'polygon', points: [0, 0, 1, 0, 1, 1, 0, 1] };
    for (const spec of ['merge_instance_segments:include_polygons=true', 'merge_instance_segments:;include_polygons=true']) {
      expect((await run(spec, [item([polygon])])).items[0].annotations).toEqual([{ type: 'mask', left: 0, top: 0, width: 1, height: 1, rle: [0, 1] }]);
    }
    expect(() => parseTransform('shapes_to_boxes:types=polygon;types=mask')).toThrow(/given twice/);
    expect(() => parseTransform('masks_to_polygons:4')).toThrow(/takes only ;min_area=N; got '4'/);
  });
});

describe('datum transform with a geometry transform', () => {
  const dirs: string[] = [];
  afterAll(() => { for (const d of dirs) fs.rmSync(d, { recursive: true, force: true }); });

  it('shapes_to_boxes on a COCO dataset writes one box per object', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'datum-geometry-'));
    dirs.push(root);
    fs.mkdirSync(path.join(root, 'in', 'annotations'), { recursive: true });
    fs.writeFileSync(path.join(root, 'in', 'annotations', 'instances_default.json'), JSON.stringify({
      images: [{ id: 1, file_name: 'a.jpg', width: 20, height: 20 }],
      categories: [{ id: 1, name: 'car' }, { id: 2, name: 'bus' }],
      annotations: [
        // polygon and its bbox: one object, its box kept
        { id: 1, image_id: 1, category_id: 1, segmentation: [[2, 2, 10, 2, 10, 8]], bbox: [2, 2, 8, 6], area: 24, iscrowd: 0 },
        // a segmentation without a bbox, crossing the right border: boxed by its bounds
        { id: 2, image_id: 1, category_id: 2, segmentation: [[1, 11, 25, 11, 25, 19, 1, 19]], area: 192, iscrowd: 0 },
      ],
    }));
    const out = path.join(root, 'out');
    const r = await runCli('transform', '-i', path.join(root, 'in'), '-f', 'coco', '-o', out, '-t', 'shapes_to_boxes', '--json');
    expect(r.code, r.err).toBe(0);
    const result = JSON.parse(r.out);
    expect(result.items).toBe(1);
    expect(result.messages.find((m: Diagnostic) => m.code === 'shapes-to-boxes').message).toMatch(/2 shapes converted \(polygon 2\); 1 of them merged/);
    const written = JSON.parse(fs.readFileSync(path.join(out, 'annotations', 'instances_default.json'), 'utf8'));
    const anns = written.annotations as { category_id: number; bbox: number[]; segmentation?: unknown }[];
    const name = (id: number) => written.categories.find((c: { id: number }) => c.id === id).name;
    expect(anns.map((a) => [name(a.category_id), a.bbox])).toEqual([['car', [2, 2, 8, 6]], ['bus', [1, 11, 24, 8]]]);
    // boxes only: no polygon was written
    for (const a of anns) expect(Array.isArray(a.segmentation) ? a.segmentation.flat() : []).toEqual([]);

    // crop then boxes_to_polygons: each object once, its polygon clipped to the 20 x 20 image
    const cropped = path.join(root, 'cropped');
    const c = await runCli('transform', '-i', path.join(root, 'in'), '-o', cropped, '-t', 'crop_to_image', '-t', 'boxes_to_polygons', '--json');
    expect(c.code, c.err).toBe(0);
    const quads = JSON.parse(fs.readFileSync(path.join(cropped, 'annotations', 'instances_default.json'), 'utf8')).annotations as { bbox: number[]; segmentation: number[][] }[];
    expect(quads.map((a) => [a.bbox, a.segmentation])).toEqual([
      [[2, 2, 8, 6], [[2, 2, 10, 2, 10, 8]]],
      [[1, 11, 19, 8], [[1, 11, 20, 11, 20, 19, 1, 19]]],
    ]);
  });
});
