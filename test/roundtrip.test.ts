/**
 * Round trips over the conformance corpus, the test of record for the formats: every dataset is
 * imported, exported to its own format and to every other format that can express its kinds, imported
 * again, and compared: same items, same labels, same annotations of the kinds the target can hold
 * (coordinates within a tolerance: 1e-6 px for pixel formats, a rounding step for normalized ones).
 */
import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import '../formats/index.js';
import { collect, type Annotation, type AnnotationType, type Item } from '../src/model.js';
import { maskToBitmap } from '../src/geometry/mask.js';
import { convert, createContext, importDataset } from '../src/pipeline.js';
import { canonicalize, expectSameItems } from './helpers/compare.js';
import { HAS_CORPUS, conformance, corpus, fixture, tempDir } from './helpers/corpus.js';

interface Target {
  format: string;
  kinds: readonly AnnotationType[];
  options?: Record<string, string | boolean>;
  /** How the target renames subsets, where it does. */
  subset?: (name: string) => string;
  /** Largest coordinate error the target's number format allows, in pixels. */
  tolerance: number;
  /** The target stores no rotation: compare only unrotated boxes. */
  noRotation?: boolean;
  /** The target cannot store a shape without a label. */
  needsLabel?: boolean;
  /** The target stores normalized coordinates: items of unknown image size cannot be written. */
  normalized?: boolean;
  /**
   * The target writes polygons, masks and ellipses as their boxes unless their object (label + group)
   * has a box, as Ultralytics derives boxes from segments.
   */
  boxesFromShapes?: boolean;
  /** Every COCO annotation has a bbox, imported beside its polygons/mask/keypoints: objects without a box gain one. */
  objectBoxes?: boolean;
  /** A category named `background` (any case) is no class of the target: its annotations are dropped. */
  noBackground?: boolean;
  /** Sub-labels (skeleton keypoints, VOC parts) are not classes of the target: their shapes are dropped. */
  noSubLabels?: boolean;
  /** Crowd regions (`is_crowd`) are not objects of the target: skipped, as Ultralytics' convert_coco does. */
  noCrowd?: boolean;
}

const ULTRALYTICS_SUBSETS: Record<string, string> = { '': 'train', default: 'train', train: 'train', validation: 'val', valid: 'val', val: 'val', test: 'test' };
/** A dataset without subsets is written as Datumaro's `default` subset (COCO, VOC) or as `train` (YOLO). */
const unnamedIs = (name: string) => (s: string) => (s === '' || s === 'default' ? name : s);
const TARGETS: Target[] = [
  { format: 'cvat', kinds: ['label', 'bbox', 'polygon', 'polyline', 'points', 'mask', 'ellipse', 'skeleton'], tolerance: 1e-6, subset: unnamedIs('default') },
  { format: 'coco', kinds: ['label', 'bbox', 'polygon', 'mask', 'skeleton', 'caption'], tolerance: 1e-6, noRotation: true, needsLabel: true,
    objectBoxes: true, noBackground: true, subset: unnamedIs('default') },
  { format: 'voc', kinds: ['label', 'bbox'], tolerance: 1e-6, noRotation: true, needsLabel: true, subset: unnamedIs('default') },
  // normalized to 6 decimals: up to 0.5e-6 of the image side, doubled for w/h -> x/y conversions
  { format: 'yolo', kinds: ['bbox'], tolerance: 2e-3, noRotation: true, needsLabel: true, normalized: true, noSubLabels: true, noCrowd: true, subset: unnamedIs('train') },
  { format: 'yolo_ultralytics', kinds: ['bbox'], options: { task: 'detect' }, tolerance: 2e-3, noRotation: true, needsLabel: true, normalized: true,
    boxesFromShapes: true, noSubLabels: true, noCrowd: true, subset: (s) => ULTRALYTICS_SUBSETS[s.toLowerCase()] ?? s },
];

const SOURCES: { format: string; dir: string }[] = [
  { format: 'cvat', dir: 'cvat_dataset/for_images/export_project' },
  { format: 'cvat', dir: 'cvat_dataset/for_images/export_task' },
  { format: 'cvat', dir: 'cvat_dataset/for_video' },
  ...(HAS_CORPUS ? fs.readdirSync(corpus('coco_dataset')).sort() : []).map((d) => ({ format: 'coco', dir: `coco_dataset/${d}` })),
  { format: 'coco', dir: 'roboflow_dataset/coco' },
  { format: 'voc', dir: 'voc_dataset/voc_dataset1' },
  { format: 'voc', dir: 'voc_dataset/voc_dataset2' },
  { format: 'voc', dir: 'voc_dataset/voc_dataset3' },
  { format: 'voc', dir: 'roboflow_dataset/voc' },
  { format: 'yolo', dir: 'yolo_dataset/strict' },
  { format: 'yolo', dir: 'yolo_dataset/annotations' },
  { format: 'yolo', dir: 'yolo_dataset/labels' },
  { format: 'yolo_ultralytics', dir: 'roboflow_dataset/yolo' },
];

async function load(dir: string, format: string) {
  const ctx = createContext();
  return collect((await importDataset(dir, format, {}, ctx)).dataset);
}

/**
 * The suite's own datasets (test/fixtures), round-tripped like the corpus. Their images are not in the
 * repo, so they go to the pixel formats only (a normalized target cannot be read back to pixels without
 * the image sizes); the corpus runs every pair. The CVAT project repeats file names across subsets, which
 * VOC keeps in one folder (the second is dropped with a warning), so it does not go to VOC.
 */
const FIXTURE_SOURCES: { format: string; dir: string; targets: string[] }[] = [
  { format: 'cvat', dir: 'cvat/export_project', targets: ['cvat', 'coco'] },
  { format: 'cvat', dir: 'cvat/export_task', targets: ['cvat', 'coco', 'voc'] },
  { format: 'cvat', dir: 'cvat/for_video', targets: ['cvat', 'coco', 'voc'] },
  { format: 'coco', dir: 'coco', targets: ['cvat', 'coco', 'voc'] },
  { format: 'coco', dir: 'coco/roboflow', targets: ['cvat', 'coco', 'voc'] },
  { format: 'voc', dir: 'voc/detection', targets: ['cvat', 'coco', 'voc'] },
  { format: 'voc', dir: 'voc/labelmap', targets: ['cvat', 'coco', 'voc'] },
  { format: 'voc', dir: 'voc/roboflow', targets: ['cvat', 'coco', 'voc'] },
];

describe('round trips of the fixtures', () => describe.each(FIXTURE_SOURCES)('$dir ($format)', ({ format, dir, targets }) => {
  it.each(TARGETS.filter((t) => targets.includes(t.format)))('-> $format -> import keeps every annotation the target can hold', (target) => roundTrip(fixture(dir), format, target));
}));

conformance('round trips of the corpus', () => describe.each(SOURCES)('$dir ($format)', ({ format, dir }) => {
  it.each(TARGETS)('-> $format -> import keeps every annotation the target can hold', (target) => roundTrip(corpus(dir), format, target));
}));

async function roundTrip(input: string, format: string, target: Target): Promise<void> {
  {
    const source = await load(input, format);
    const kinds = target.kinds.filter((k) => source.items.some((i) => i.annotations.some((a) => a.type === k)));
    const out = path.join(tempDir(), 'out');
    const ctx = createContext();
    const summary = await convert({ input, inputFormat: format, output: out, outputFormat: target.format, exportOptions: { 'save-media': true, ...target.options } }, ctx);
    // exporters to normalized formats read the size from the image file when the annotations lack it
    const sized = (item: (typeof source.items)[number]) =>
      Boolean(item.normalized || (item.image?.width && item.image?.height) || (item.image && fs.existsSync(item.image.path)));
    const expressible = target.normalized ? source.items.filter(sized) : source.items;
    if (!target.normalized) expect(summary.items).toBe(source.items.length);
    if (expressible.length < source.items.length) {
      expect(ctx.reporter.messages.some((m) => /image-size/.test(m.code)), 'items without a size are reported').toBe(true);
    }
    const back = await load(out, target.format);
    const backItems = target.normalized ? back.items.filter((i) => expressible.some((e) => e.id === i.id)) : back.items;

    const keep = (items: typeof source.items) => items.map((i) => (target.noCrowd ? { ...i, annotations: i.annotations.filter((a) => a.attributes?.is_crowd !== true) } : i)).map((i) => ({
      ...i,
      annotations: (target.boxesFromShapes ? withShapeBoxes(i) : target.objectBoxes ? withObjectBoxes(i) : i.annotations).filter((a) => !(target.noRotation && a.type === 'bbox' && a.rotation)
        && !(target.needsLabel && a.label === undefined && a.type !== 'caption')
        && !(target.noSubLabels && a.label !== undefined && source.categories[a.label]?.parent !== undefined)
        && !(target.noBackground && a.label !== undefined && source.categories[a.label]?.name.toLowerCase() === 'background')),
    }));
    const expected = canonicalize(source.categories, keep(expressible), { kinds, subset: target.subset });
    const actual = canonicalize(back.categories, backItems, { kinds });
    expectSameItems(actual, expected, target.tolerance);
    // every label the source annotated with these kinds is still known by name
    const used = new Set(expected.flatMap((i) => i.annotations.map((a) => a.label)).filter((l) => l !== null));
    for (const label of used) expect(back.categories.map((c) => c.name)).toContain(label);
  }
}

/** The item's annotations plus the box of every polygon, mask and ellipse whose object has no box. */
function withShapeBoxes(item: Item): Annotation[] {
  const boxed = new Set(item.annotations.filter((a) => a.type === 'bbox' && a.group).map((a) => `${a.label}/${a.group}`));
  const derived: Annotation[] = [];
  for (const a of item.annotations) {
    if (a.group && boxed.has(`${a.label}/${a.group}`)) continue;
    const b = bounds(a);
    if (b) derived.push({ type: 'bbox', label: a.label, x: b[0], y: b[1], w: b[2] - b[0], h: b[3] - b[1], attributes: {} });
  }
  return [...item.annotations, ...derived];
}

/**
 * The item's annotations plus the bbox the COCO exporter writes for each object (label + group, or one
 * ungrouped shape) that has no unrotated box: its polygons' bounds, else its first mask's rectangle
 * (other masks are written on their own), else its skeleton's visible points.
 */
function withObjectBoxes(item: Item): Annotation[] {
  const key = (a: Annotation) => `${a.label}/${a.group}`;
  const grouped = item.annotations.filter((a) => a.group);
  const boxed = new Set(grouped.filter((a) => a.type === 'bbox' && !a.rotation).map(key));
  const withPolygons = new Set(grouped.filter((a) => a.type === 'polygon' && a.points.length >= 6).map(key));
  const leadMask = new Map<string, Annotation>();
  for (const a of grouped) if (a.type === 'mask' && !withPolygons.has(key(a)) && !leadMask.has(key(a))) leadMask.set(key(a), a);
  const box = (label: number | undefined, [x0, y0, x1, y1]: number[]): Annotation => ({ type: 'bbox', label, x: x0, y: y0, w: x1 - x0, h: y1 - y0 });
  const union = new Map<string, number[]>();
  const derived: Annotation[] = [];
  for (const a of item.annotations) {
    const lead = a.group !== undefined && a.group !== 0 && (a.type !== 'mask' || leadMask.get(key(a)) === a);
    if (lead && boxed.has(key(a))) continue;
    if (a.type === 'polygon' && a.points.length >= 6) {
      const b = bounds(a)!;
      if (!lead) { derived.push(box(a.label, b)); continue; }
      const u = union.get(key(a));
      union.set(key(a), u ? [Math.min(u[0], b[0]), Math.min(u[1], b[1]), Math.max(u[2], b[2]), Math.max(u[3], b[3])] : b);
    } else if (a.type === 'mask') {
      derived.push(box(a.label, [a.left, a.top, a.left + a.width, a.top + a.height]));
    } else if (a.type === 'skeleton' && !(lead && (withPolygons.has(key(a)) || leadMask.has(key(a))))) {
      const xs = a.points.filter((_, i) => i % 2 === 0 && a.visibility[i >> 1]), ys = a.points.filter((_, i) => i % 2 === 1 && a.visibility[i >> 1]);
      derived.push(box(a.label, xs.length ? [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)] : [0, 0, 0, 0]));
    }
  }
  for (const [k, b] of union) derived.push(box(grouped.find((a) => key(a) === k)!.label, b));
  return [...item.annotations, ...derived];
}

/** x0 y0 x1 y1 of a shape with an area, worked out pixel by pixel for masks. */
function bounds(a: Annotation): number[] | null {
  if (a.type === 'polygon' && a.points.length >= 6) {
    const xs = a.points.filter((_, i) => i % 2 === 0), ys = a.points.filter((_, i) => i % 2 === 1);
    return [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)];
  }
  if (a.type === 'ellipse') {
    const t = ((a.rotation ?? 0) * Math.PI) / 180;
    const hw = Math.sqrt((a.rx * Math.cos(t)) ** 2 + (a.ry * Math.sin(t)) ** 2);
    const hh = Math.sqrt((a.rx * Math.sin(t)) ** 2 + (a.ry * Math.cos(t)) ** 2);
    return [a.cx - hw, a.cy - hh, a.cx + hw, a.cy + hh];
  }
  if (a.type === 'mask') {
    const bitmap = maskToBitmap(a);
    let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
    for (let y = 0; y < bitmap.height; y++) {
      for (let x = 0; x < bitmap.width; x++) {
        if (!bitmap.data[y * bitmap.width + x]) continue;
        x0 = Math.min(x0, x); y0 = Math.min(y0, y); x1 = Math.max(x1, x + 1); y1 = Math.max(y1, y + 1);
      }
    }
    return x0 <= x1 ? [a.left + x0, a.top + y0, a.left + x1, a.top + y1] : null;
  }
  return null;
}
