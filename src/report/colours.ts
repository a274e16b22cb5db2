/** Label colours for pictures of a dataset: the dataset's own where it has them, else a fixed palette. */
import type { Category } from '../model.js';

export type Rgb = [number, number, number];

/** Shapes without a label (or with an index no category has). */
export const UNLABELED: Rgb = [200, 200, 200];

/**
 * The colour of each category, by index: its `color` when the source has one, else hue steps of the
 * golden angle by index (neighbouring labels get far-apart hues; no chance involved), at a saturation
 * and lightness that stand out on photos.
 */
export function labelColours(categories: readonly Category[]): Rgb[] {
  return categories.map((c, i) => c.color ?? hsl((i * 137.508) % 360, 0.8, 0.55));
}

export function hex([r, g, b]: Rgb): string {
  return '#' + [r, g, b].map((v) => Math.round(v).toString(16).padStart(2, '0')).join('');
}

/** Black or white, whichever reads better on `background` (relative luminance, sRGB weights). */
export function textOn([r, g, b]: Rgb): string {
  return 0.2126 * r + 0.7152 * g + 0.0722 * b > 140 ? '#000000' : '#ffffff';
}

function hsl(h: number, s: number, l: number): Rgb {
  const a = s * Math.min(l, 1 - l);
  const f = (n: number) => {
    const k = (n + h / 30) % 12;
    return Math.round(255 * (l - a * Math.max(-1, Math.min(k - 3, 9 - k, 1))));
  };
  return [f(0), f(8), f(4)];
}
