/**
 * Pascal VOC folder layout, the VOC palette and Datumaro's `labelmap.txt`
 * (`# label:color_rgb:parts:actions`), shared by the importer and the exporter.
 */
import fsp from 'node:fs/promises';
import type { AttributeSpec, Category } from '../../src/model.js';
import { DatumError, type Reporter } from '../../src/diagnostics.js';

export const ANNOTATIONS_DIR = 'Annotations';
export const IMAGES_DIR = 'JPEGImages';
export const SETS_DIR = 'ImageSets';
export const CLASS_MASK_DIR = 'SegmentationClass';
export const OBJECT_MASK_DIR = 'SegmentationObject';
export const LABELMAP_FILE = 'labelmap.txt';
/** ImageSets sub-folders, one per VOC task. */
export const TASK_DIRS = ['Main', 'Segmentation', 'Layout', 'Action'] as const;
/** The subset name written for items whose subset is '' (Datumaro's default subset). */
export const DEFAULT_SUBSET = 'default';
/** Palette index of "void" (object borders, unlabeled pixels) in VOC masks. */
export const VOID_INDEX = 255;
export const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp']);

export type Rgb = [number, number, number];

/** The standard VOC palette (bit-interleaved, as in the devkit's `VOClabelcolormap.m`): index -> RGB. */
export const VOC_PALETTE: Rgb[] = Array.from({ length: 256 }, (_, index) => {
  const color: Rgb = [0, 0, 0];
  let bits = index;
  for (let shift = 7; shift >= 0; shift--) {
    for (let c = 0; c < 3; c++) color[c] |= ((bits >> c) & 1) << shift;
    bits >>= 3;
  }
  return color;
});

/** Pascal's classes by palette index (the class index in SegmentationClass when there is no labelmap.txt). */
export const VOC_CLASSES = [
  'background', 'aeroplane', 'bicycle', 'bird', 'boat', 'bottle', 'bus', 'car', 'cat', 'chair', 'cow',
  'diningtable', 'dog', 'horse', 'motorbike', 'person', 'pottedplant', 'sheep', 'sofa', 'train', 'tvmonitor',
];

/** One labelmap line: a label with its mask color, its part labels and its actions (boolean attributes). */
export interface LabelmapEntry { name: string; color?: Rgb; parts: string[]; actions: string[] }

/** Reads labelmap.txt; a malformed line is fatal (the label indices of every mask depend on it). */
export async function readLabelmap(file: string, reporter: Reporter): Promise<LabelmapEntry[]> {
  const text = await fsp.readFile(file, 'utf8');
  const entries: LabelmapEntry[] = [];
  const seen = new Set<string>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const fields = line.split(':');
    if (fields.length > 4) {
      throw new DatumError({ code: 'bad-labelmap', file, line: i + 1, message: `expected 'name:r,g,b:parts:actions' (4 ':'-separated fields), got ${fields.length} fields` });
    }
    const [name, colorText = '', partsText = '', actionsText = ''] = fields;
    if (seen.has(name)) {
      reporter.warn({ code: 'duplicate-label', file, line: i + 1, message: `label '${name}' is defined twice; the first definition is kept` });
      return;
    }
    seen.add(name);
    let color: Rgb | undefined;
    if (colorText.trim()) {
      const parts = colorText.split(',').map((c) => Number(c.trim()));
      if (parts.length === 3 && parts.every((c) => Number.isInteger(c) && c >= 0 && c <= 255)) color = parts as Rgb;
      else reporter.warn({ code: 'bad-color', file, line: i + 1, message: `label '${name}' has color '${colorText}', expected 'r,g,b' in 0..255; using none` });
    }
    const list = (s: string) => s.split(',').map((p) => p.trim()).filter(Boolean);
    entries.push({ name, color, parts: list(partsText), actions: list(actionsText) });
  });
  return entries;
}

export function formatLabelmap(entries: LabelmapEntry[]): string {
  const lines = entries.map((e) => [e.name, e.color?.join(',') ?? '', e.parts.join(','), e.actions.join(',')].join(':'));
  return ['# label:color_rgb:parts:actions', ...lines].join('\n') + '\n';
}

/** Model categories of a labelmap: its labels in order, then each part label once (parent = first owner). */
export function labelmapToCategories(entries: LabelmapEntry[]): Category[] {
  const categories: Category[] = entries.map((e) => {
    const category: Category = { name: e.name };
    if (e.color) category.color = [...e.color];
    if (e.actions.length) category.attributes = e.actions.map(actionSpec);
    return category;
  });
  const names = new Set(entries.map((e) => e.name));
  for (const entry of entries) {
    for (const part of entry.parts) {
      if (names.has(part)) continue;
      names.add(part);
      categories.push({ name: part, parent: entry.name });
    }
  }
  return categories;
}

export function actionSpec(name: string): AttributeSpec {
  return { name, inputType: 'checkbox', values: ['false', 'true'], default: 'false' };
}

/** Actions of a category: its boolean (checkbox) attributes. */
export function categoryActions(category: Category | undefined): string[] {
  return (category?.attributes ?? []).filter((a) => a.inputType === 'checkbox').map((a) => a.name);
}

export function packRgb(r: number, g: number, b: number): number {
  return (r << 16) | (g << 8) | b;
}
