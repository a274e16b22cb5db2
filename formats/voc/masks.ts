/**
 * VOC segmentation masks <-> model mask annotations.
 * SegmentationClass holds a class index per pixel, SegmentationObject an instance index per pixel
 * (instance k = the k-th <object> of the annotation XML); 0 is background, 255 void (borders).
 * sharp decodes palette PNGs to RGB, so colors are mapped back to indices: class colors through the
 * labelmap, instance colors through the VOC palette. Single-channel masks hold the indices themselves.
 */
import sharp from 'sharp';
import type { MaskAnnotation } from '../../src/model.js';
import type { Reporter } from '../../src/diagnostics.js';
import { bitmapToMask } from '../../src/geometry/mask.js';
// The painters live in the core (transforms rasterize polygons too); the exporter imports them from here.
export { paintMask, paintPolygon } from '../../src/geometry/raster.js';
import { VOC_PALETTE, VOID_INDEX, packRgb } from './layout.js';

/** A decoded mask: one index per pixel; `unknown` counts pixels whose color maps to no index. */
export interface IndexMap { width: number; height: number; data: Uint16Array }

const NO_INDEX = 0xffff;
const INSTANCE_COLORS = new Map(VOC_PALETTE.map((rgb, i) => [packRgb(...rgb), i]));

/**
 * Reads a mask PNG into indices. `colors` maps a packed RGB color to its index; pixels of other
 * colors get NO_INDEX and are reported once per file.
 */
export async function readIndexMask(file: string, colors: Map<number, number>, reporter: Reporter, item: string): Promise<IndexMap> {
  const image = sharp(file);
  // Grayscale masks hold the indices themselves; keep them one channel (raw() would expand to RGB).
  const gray = (await image.metadata()).space === 'b-w';
  const { data, info } = await (gray ? image.extractChannel(0) : image).raw().toBuffer({ resolveWithObject: true });
  const { width, height, channels } = info;
  const out = new Uint16Array(width * height);
  let unknown = 0;
  // Masks are long runs of one color: look a color up only when it changes.
  let lastColor = -1;
  let lastIndex = NO_INDEX;
  for (let p = 0, i = 0; p < out.length; p++, i += channels) {
    if (channels <= 2) { out[p] = data[i]; continue; }
    const color = packRgb(data[i], data[i + 1], data[i + 2]);
    if (color !== lastColor) { lastColor = color; lastIndex = colors.get(color) ?? NO_INDEX; }
    if (lastIndex === NO_INDEX) unknown++;
    out[p] = lastIndex;
  }
  if (unknown) {
    reporter.warn({ code: 'unknown-mask-color', file, item, message: `${unknown} pixel(s) have colors that match no label or instance; they are left unlabeled` });
  }
  return { width, height, data: out };
}

/**
 * The class indices a class mask uses (raw values of a grayscale mask, else its colors mapped through
 * `colors`); empty when the file cannot be decoded (reading the item later says why).
 */
export async function classIndicesOf(file: string, colors: Map<number, number>): Promise<Set<number>> {
  const used = new Set<number>();
  try {
    const image = sharp(file);
    const gray = (await image.metadata()).space === 'b-w';
    const { data, info } = await (gray ? image.extractChannel(0) : image).raw().toBuffer({ resolveWithObject: true });
    let lastColor = -1;
    for (let i = 0; i < data.length; i += info.channels) {
      if (info.channels <= 2) { used.add(data[i]); continue; }
      const color = packRgb(data[i], data[i + 1], data[i + 2]);
      if (color === lastColor) continue;
      lastColor = color;
      const index = colors.get(color);
      if (index !== undefined) used.add(index);
    }
  } catch {
    // reported when the item is read
  }
  return used;
}

export function instanceColors(): Map<number, number> {
  return INSTANCE_COLORS;
}

/**
 * Mask annotations of one item. With an instance mask: one mask per instance (group = instance
 * index, label = the class most of its pixels have). With only a class mask: one mask per class.
 * `labelOf` maps a class index to its model label (undefined: the mask has no label).
 */
export function masksFromIndexMaps(classMap: IndexMap | null, instanceMap: IndexMap | null, labelOf: (classIndex: number) => number | undefined): MaskAnnotation[] {
  const regions = instanceMap ?? classMap;
  if (!regions) return [];
  const byInstance = instanceMap !== null;
  const { width, height, data } = regions;
  const classes = byInstance && classMap && classMap.width === width && classMap.height === height ? classMap.data : null;
  // Per region: its bounding box and, for instances, a vote per class index (8-bit masks: < 256).
  const boxes = new Map<number, { x0: number; y0: number; x1: number; y1: number; votes: Uint32Array }>();
  let lastId = -1;
  let box: { x0: number; y0: number; x1: number; y1: number; votes: Uint32Array } | undefined;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = y * width + x;
      const id = data[p];
      if (id === 0 || id === VOID_INDEX || id === NO_INDEX) continue;
      if (id !== lastId) {
        lastId = id;
        box = boxes.get(id);
        if (!box) boxes.set(id, box = { x0: x, y0: y, x1: x, y1: y, votes: new Uint32Array(256) });
      }
      if (x < box!.x0) box!.x0 = x;
      if (x > box!.x1) box!.x1 = x;
      box!.y1 = y;
      if (classes && classes[p] < VOID_INDEX) box!.votes[classes[p]]++;
    }
  }
  const masks: MaskAnnotation[] = [];
  for (const id of [...boxes.keys()].sort((a, b) => a - b)) {
    const box = boxes.get(id)!;
    const w = box.x1 - box.x0 + 1;
    const h = box.y1 - box.y0 + 1;
    const bits = new Uint8Array(w * h);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) bits[y * w + x] = data[(box.y0 + y) * width + box.x0 + x] === id ? 1 : 0;
    }
    const mask: MaskAnnotation = { type: 'mask', ...bitmapToMask({ width: w, height: h, data: bits }, box.x0, box.y0) };
    if (byInstance) {
      mask.group = id;
      const index = majority(box.votes);
      const label = index === undefined ? undefined : labelOf(index);
      if (label !== undefined) mask.label = label;
    } else {
      const label = labelOf(id);
      if (label !== undefined) mask.label = label;
    }
    masks.push(mask);
  }
  return masks;
}

function majority(votes: Uint32Array): number | undefined {
  let best: number | undefined;
  let bestCount = 0;
  votes.forEach((count, label) => { if (count > bestCount) { best = label; bestCount = count; } });
  return best;
}
