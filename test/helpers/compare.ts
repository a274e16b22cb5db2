import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { expect } from 'vitest';
import type { Annotation, AnnotationType, Category, Item } from '../../src/model.js';
import { bitmapToMask, maskToBitmap } from '../../src/geometry/mask.js';
import { tempDir } from './corpus.js';

/** An annotation reduced to what every format can agree on: kind, label name, numbers, text. */
export interface CanonicalAnnotation { type: AnnotationType; label: string | null; numbers: number[]; text?: string }
export interface CanonicalItem { key: string; annotations: CanonicalAnnotation[] }

export interface CanonicalOptions {
  /** Only these kinds are compared (what both formats of a round trip can express). */
  kinds?: readonly AnnotationType[];
  /** Maps subset names before comparing (e.g. Train -> train when the target renames subsets). */
  subset?: (name: string) => string;
}

function numbersOf(a: Annotation): number[] {
  switch (a.type) {
    case 'label': case 'caption': return [];
    case 'bbox': return [a.x, a.y, a.w, a.h, normalizeAngle(a.rotation ?? 0)];
    case 'polygon': case 'polyline': return a.points;
    case 'points': return a.points;
    case 'ellipse': return [a.cx, a.cy, a.rx, a.ry, normalizeAngle(a.rotation ?? 0)];
    case 'skeleton': return a.points.flatMap((v, i) => (a.visibility[i >> 1] ? [v] : [0])).concat(a.visibility);
    case 'mask': {
      // the same pixels may be stored in a larger rectangle: compare the cropped encoding
      const m = bitmapToMask(maskToBitmap(a), a.left, a.top);
      return [m.left, m.top, m.width, m.height, ...m.rle];
    }
  }
}

function normalizeAngle(deg: number): number {
  const r = ((deg % 360) + 360) % 360;
  return r > 360 - 1e-6 ? 0 : r;
}

export function canonicalize(categories: Category[], items: Item[], options: CanonicalOptions = {}): CanonicalItem[] {
  const kinds = options.kinds ? new Set(options.kinds) : null;
  return items.map((item) => ({
    key: `${options.subset ? options.subset(item.subset) : item.subset}/${item.id}`,
    annotations: item.annotations
      .filter((a) => !kinds || kinds.has(a.type))
      .map((a) => ({
        type: a.type,
        label: a.label === undefined ? null : categories[a.label]?.name ?? `#${a.label}`,
        numbers: numbersOf(a),
        ...(a.type === 'caption' ? { text: a.caption } : {}),
      }))
      .sort(compareAnnotations),
  })).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

function compareAnnotations(a: CanonicalAnnotation, b: CanonicalAnnotation): number {
  const ka = `${a.type}|${a.label}|${a.numbers.map((n) => n.toFixed(1)).join(',')}|${a.text ?? ''}`;
  const kb = `${b.type}|${b.label}|${b.numbers.map((n) => n.toFixed(1)).join(',')}|${b.text ?? ''}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

/** Same items (by subset/id) with the same annotations, numbers equal within `tolerance` pixels. */
export function expectSameItems(actual: CanonicalItem[], expected: CanonicalItem[], tolerance = 1e-6): void {
  expect(actual.map((i) => i.key)).toEqual(expected.map((i) => i.key));
  actual.forEach((item, i) => {
    const want = expected[i];
    const shape = (list: CanonicalAnnotation[]) => list.map((a) => ({ type: a.type, label: a.label, n: a.numbers.length, text: a.text }));
    expect(shape(item.annotations), item.key).toEqual(shape(want.annotations));
    item.annotations.forEach((a, j) => {
      a.numbers.forEach((v, k) => {
        if (Math.abs(v - want.annotations[j].numbers[k]) > tolerance) {
          expect.fail(`${item.key}: ${a.type} '${a.label}' number ${k} is ${v}, expected ${want.annotations[j].numbers[k]} (±${tolerance})`);
        }
      });
    });
  });
}

/**
 * A copy of a fixture folder (`test/fixtures/...`) in a fresh temporary folder, with the images it needs
 * generated (grey, of the given size, encoded after the extension): fixtures hold only text files.
 */
export async function materialize(source: string, images: readonly (readonly [string, number, number])[] = []): Promise<string> {
  const dir = path.join(tempDir('datum-fixture-'), path.basename(source));
  fs.cpSync(source, dir, { recursive: true });
  for (const [name, width, height] of images) {
    const file = path.join(dir, name);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const image = sharp({ create: { width, height, channels: 3, background: '#808080' } });
    await (/\.png$/i.test(name) ? image.png() : image.jpeg()).toFile(file);
  }
  return dir;
}
