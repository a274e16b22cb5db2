/**
 * The SVG drawn over an item's picture: every annotation in output pixels (so strokes keep one width
 * whatever the scale), the label name beside each shape, and a legend strip below the image for what
 * has no place in it (tags, captions, notes such as "image missing").
 */
import sharp from 'sharp';
import { hasFiniteNumbers, type Annotation, type Category, type Item, type Visibility } from '../model.js';
import { annotationBounds, isShape, objectKey, type Shape } from '../geometry/bounds.js';
import { traceOuterContours } from '../geometry/contour.js';
import { maskToBitmap, type Bitmap } from '../geometry/mask.js';
import { rotatedBoxCorners } from '../geometry/polygon.js';
import { MAX_RASTER_PIXELS } from '../geometry/raster.js';
import { hex, labelColours, textOn, UNLABELED, type Rgb } from './colours.js';

/** Output pixels: line width, point radius, fill opacity, font. */
export const STROKE = 2;
const POINT_RADIUS = 3.5;
export const FILL_OPACITY = 0.35;
const FONT_SIZE = 12;
const FONT = 'DejaVu Sans, Liberation Sans, sans-serif';
const CHIP_HEIGHT = 16;
const LINE_HEIGHT = 18;
const STRIP_PADDING = 4;
export const STRIP_BACKGROUND = '#202020';
/** A generous width per character of FONT at FONT_SIZE (no text measuring without a layout engine). */
const CHAR_WIDTH = 7.2;

/** Where the annotations go: the image's size in output pixels and the factors from annotation coordinates. */
export interface Frame { width: number; height: number; sx: number; sy: number }

export interface Overlay {
  svg: Buffer;
  /** Height of the legend strip below the image (0 when there is nothing to list). */
  stripHeight: number;
}

/**
 * The overlay for `item` in `frame`: shapes in z order, then the name chips on top, then the strip
 * listing tags, captions and `notes`; `centreNote` is written across the middle of the image.
 */
export async function drawOverlay(item: Item, categories: readonly Category[], frame: Frame, notes: readonly string[] = [], centreNote?: string): Promise<Overlay> {
  const colours = labelColours(categories);
  const colourOf = (a: Annotation): Rgb => (a.label !== undefined && colours[a.label]) || UNLABELED;
  const nameOf = (a: Annotation): string | undefined => (a.label !== undefined ? categories[a.label]?.name : undefined);
  // a tag of a sub-category is named with its parent: SOP's product classes are numbers under a super-class
  const tagName = (a: Annotation): string | undefined => {
    const c = a.label !== undefined ? categories[a.label] : undefined;
    return c && (c.parent !== undefined ? `${c.parent}/${c.name}` : c.name);
  };
  // in z order; at one z, filled areas under lines and points, so a translucent mask over the whole
  // image (VOC's segmentation) does not dim the boxes drawn before it
  const layer = (a: Annotation) => (a.type === 'mask' ? 0 : a.type === 'polygon' || a.type === 'ellipse' ? 1 : 2);
  const ordered = item.annotations.map((a, i) => ({ a, i })).sort((p, q) => (p.a.zOrder ?? 0) - (q.a.zOrder ?? 0) || layer(p.a) - layer(q.a) || p.i - q.i).map((p) => p.a);

  const shapes: string[] = [];
  // one name per object (COCO's box and polygon of one annotation share a group), at its top-left
  const objects = new Map<string | Annotation, { name: string; colour: Rgb; x: number; y: number }>();
  let unusable = 0;
  for (const a of ordered) {
    if (!isShape(a)) continue;
    if (!hasFiniteNumbers(a) || (a.type === 'mask' && a.width * a.height > MAX_RASTER_PIXELS)) { unusable++; continue; }
    const colour = colourOf(a);
    shapes.push(await drawShape(a, hex(colour), frame, categories[a.label ?? -1]));
    const name = nameOf(a);
    const bounds = annotationBounds(a);
    if (name === undefined || !bounds) continue;
    const key = a.group ? objectKey(a) : a;
    const seen = objects.get(key);
    if (seen) { seen.x = Math.min(seen.x, bounds.x0); seen.y = Math.min(seen.y, bounds.y0); } else objects.set(key, { name, colour, x: bounds.x0, y: bounds.y0 });
  }
  const placed: Rect[] = [];
  const chips = [...objects.values()].map((o) => chip(o.name, o.colour, o.x * frame.sx, o.y * frame.sy, frame, placed));

  const allNotes = unusable ? [...notes, `${unusable} shape${unusable > 1 ? 's' : ''} not drawn (coordinates that are not finite numbers, or a mask too large to expand)`] : notes;
  const lines = legendLines(item, colourOf, tagName, allNotes, frame.width);
  const stripHeight = lines.length ? lines.length * LINE_HEIGHT + 2 * STRIP_PADDING : 0;
  const strip = lines.length ? drawStrip(lines, frame.height, frame.width, stripHeight) : '';
  const centre = centreNote
    ? `<text x="${n(frame.width / 2)}" y="${n(frame.height / 2)}" text-anchor="middle" font-family="${FONT}" font-size="${FONT_SIZE + 4}" fill="#ffffff" stroke="#000000" stroke-width="0.6">${xmlText(centreNote)}</text>`
    : '';
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${frame.width}" height="${frame.height + stripHeight}">`
    + shapes.join('') + chips.join('') + centre + strip + '</svg>';
  return { svg: Buffer.from(svg), stripHeight };
}

async function drawShape(a: Shape, colour: string, f: Frame, category: Category | undefined): Promise<string> {
  // occluded shapes are dashed, as CVAT draws them
  const outlined = (open: string, c: string, filled: boolean) => outline(a.occluded ? `${open} stroke-dasharray="6 4"` : open, c, filled);
  switch (a.type) {
    case 'bbox': return outlined(`<polygon points="${pointList(rotatedBoxCorners(a), f)}"`, colour, false);
    case 'polygon': return a.points.length >= 6 ? outlined(`<polygon points="${pointList(a.points, f)}"`, colour, true) : '';
    case 'polyline': return a.points.length >= 4 ? outlined(`<polyline points="${pointList(a.points, f)}" stroke-linecap="round"`, colour, false) : '';
    case 'ellipse': {
      const cx = a.cx * f.sx, cy = a.cy * f.sy;
      // the model's rotation is degrees clockwise on screen, as SVG's rotate() is with y pointing down
      return outlined(`<ellipse cx="${n(cx)}" cy="${n(cy)}" rx="${n(a.rx * f.sx)}" ry="${n(a.ry * f.sy)}" transform="rotate(${n(a.rotation ?? 0)} ${n(cx)} ${n(cy)})"`, colour, true);
    }
    case 'points': return drawPoints(a.points, a.visibility, colour, f);
    case 'skeleton': return drawSkeleton(a.points, a.visibility, category?.skeleton ?? [], colour, f);
    case 'mask': return drawMask(a, colour, f);
  }
}

/**
 * An element (`open`: its tag and geometry) stroked in the label colour over a thin halo of the
 * colour's contrast (dark under light colours, light under dark ones such as VOC's maroon), so the
 * line shows on any background, and filled translucent when `filled`.
 */
function outline(open: string, colour: string, filled: boolean): string {
  const fill = filled ? `fill="${colour}" fill-opacity="${FILL_OPACITY}"` : 'fill="none"';
  const halo = textOn([1, 3, 5].map((i) => parseInt(colour.slice(i, i + 2), 16)) as Rgb);
  return `${open} fill="none" stroke="${halo}" stroke-opacity="0.45" stroke-width="${STROKE + 2}" stroke-linejoin="round"/>`
    + `${open} ${fill} stroke="${colour}" stroke-width="${STROKE}" stroke-linejoin="round"/>`;
}

/** Visible points filled, hidden ones (visibility 1) hollow, absent ones (0) not drawn. */
function drawPoints(points: readonly number[], visibility: readonly Visibility[] | undefined, colour: string, f: Frame): string {
  let out = '';
  for (let k = 0; 2 * k + 1 < points.length; k++) {
    const v = visibility?.[k] ?? 2;
    if (v === 0) continue;
    const x = n(points[2 * k] * f.sx), y = n(points[2 * k + 1] * f.sy);
    out += v === 1
      ? `<circle cx="${x}" cy="${y}" r="${POINT_RADIUS}" fill="none" stroke="${colour}" stroke-width="1.5"/>`
      : `<circle cx="${x}" cy="${y}" r="${POINT_RADIUS}" fill="${colour}" stroke="#000000" stroke-width="1"/>`;
  }
  return out;
}

/** The category's edges between points that are present (dashed when one end is hidden), then the points. */
function drawSkeleton(points: readonly number[], visibility: readonly Visibility[], edges: readonly [number, number][], colour: string, f: Frame): string {
  let out = '';
  for (const [p, q] of edges) {
    const vp = visibility[p] ?? 0, vq = visibility[q] ?? 0;
    if (vp === 0 || vq === 0 || 2 * Math.max(p, q) + 1 >= points.length) continue;
    const dash = vp === 1 || vq === 1 ? ' stroke-dasharray="4 3"' : '';
    out += `<line x1="${n(points[2 * p] * f.sx)}" y1="${n(points[2 * p + 1] * f.sy)}" x2="${n(points[2 * q] * f.sx)}" y2="${n(points[2 * q + 1] * f.sy)}" stroke="${colour}" stroke-width="${STROKE}"${dash}/>`;
  }
  return out + drawPoints(points, visibility, colour, f);
}

/**
 * A mask as a small PNG of its own rectangle (the label colour where set, clear elsewhere), stretched
 * over the rectangle's place, with the outlines of its parts on top. A mask larger than its place in
 * the output is sampled down to it first (nearest pixel), so the PNG and the outline tracing cost what
 * the picture shows, not what the source holds.
 */
async function drawMask(a: Extract<Shape, { type: 'mask' }>, colour: string, f: Frame): Promise<string> {
  if (a.width <= 0 || a.height <= 0) return '';
  const bitmap = downsample(maskToBitmap(a), Math.ceil(a.width * f.sx), Math.ceil(a.height * f.sy));
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(colour.slice(i, i + 2), 16));
  const rgba = Buffer.alloc(bitmap.data.length * 4);
  for (let i = 0; i < bitmap.data.length; i++) {
    if (!bitmap.data[i]) continue;
    rgba[4 * i] = r; rgba[4 * i + 1] = g; rgba[4 * i + 2] = b; rgba[4 * i + 3] = 255;
  }
  const png = await sharp(rgba, { raw: { width: bitmap.width, height: bitmap.height, channels: 4 } }).png({ compressionLevel: 1 }).toBuffer();
  // contour corners are in the (sampled) bitmap's pixels: back to image coordinates
  const kx = a.width / bitmap.width, ky = a.height / bitmap.height;
  const outlines = traceOuterContours(bitmap).map((c) => {
    const points = c.points.map((v, i) => (i % 2 === 0 ? a.left + v * kx : a.top + v * ky));
    return outline(`<polygon points="${pointList(points, f)}"`, colour, false);
  });
  return `<image x="${n(a.left * f.sx)}" y="${n(a.top * f.sy)}" width="${n(a.width * f.sx)}" height="${n(a.height * f.sy)}" preserveAspectRatio="none" opacity="${FILL_OPACITY}" href="data:image/png;base64,${png.toString('base64')}"/>`
    + outlines.join('');
}

/** `bitmap` sampled at the nearest pixel down to at most `width` x `height` (at least 1 x 1); as it is when already that small. */
function downsample(bitmap: Bitmap, width: number, height: number): Bitmap {
  const w = Math.max(1, Math.min(bitmap.width, width)), h = Math.max(1, Math.min(bitmap.height, height));
  if (w === bitmap.width && h === bitmap.height) return bitmap;
  const data = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) {
    const row = Math.floor(((y + 0.5) * bitmap.height) / h) * bitmap.width;
    for (let x = 0; x < w; x++) data[y * w + x] = bitmap.data[row + Math.floor(((x + 0.5) * bitmap.width) / w)];
  }
  return { width: w, height: h, data };
}

interface Rect { x: number; y: number; w: number; h: number }
const overlaps = (a: Rect, b: Rect) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;

/**
 * A label-coloured chip with the name, just above (x, y) where there is room, else just below; kept in
 * the frame, and moved right (then down a line) past chips already `placed`, so names of shapes that
 * start at one corner stay readable.
 */
function chip(name: string, colour: Rgb, x: number, y: number, f: Frame, placed: Rect[]): string {
  const text = clip(name, Math.max(4, Math.floor((f.width - 6) / CHAR_WIDTH)));
  const width = text.length * CHAR_WIDTH + 6;
  const start = Math.max(0, Math.min(x, f.width - width));
  const at: Rect = { x: start, y: y - CHIP_HEIGHT >= 0 ? y - CHIP_HEIGHT : Math.max(0, Math.min(y, f.height - CHIP_HEIGHT)), w: width, h: CHIP_HEIGHT };
  for (let tries = 0; tries < 32; tries++) {
    const hit = placed.find((p) => overlaps(at, p));
    if (!hit) break;
    at.x = hit.x + hit.w + 1;
    if (at.x + width > f.width) { at.x = start; at.y = Math.min(at.y + CHIP_HEIGHT + 1, Math.max(0, f.height - CHIP_HEIGHT)); }
  }
  placed.push(at);
  return `<rect x="${n(at.x)}" y="${n(at.y)}" width="${n(width)}" height="${CHIP_HEIGHT}" fill="${hex(colour)}" fill-opacity="0.85"/>`
    + `<text x="${n(at.x + 3)}" y="${n(at.y + FONT_SIZE)}" font-family="${FONT}" font-size="${FONT_SIZE}" fill="${textOn(colour)}">${xmlText(text)}</text>`;
}

/** A run of legend text: a coloured chip for a tag, plain text otherwise. */
interface Segment { text: string; colour?: Rgb }

/** Tags as chips (as many per line as fit), each caption wrapped, then the notes. */
function legendLines(item: Item, colourOf: (a: Annotation) => Rgb, nameOf: (a: Annotation) => string | undefined, notes: readonly string[], width: number): Segment[][] {
  const perLine = Math.max(8, Math.floor((width - 2 * STRIP_PADDING) / CHAR_WIDTH));
  const lines: Segment[][] = [];
  const tags = item.annotations.filter((a) => a.type === 'label');
  if (tags.length) {
    let line: Segment[] = [{ text: 'tags:' }];
    let used = 6;
    for (const t of tags) {
      const text = clip(nameOf(t) ?? '(no label)', perLine - 2);
      if (used + text.length + 2 > perLine && line.length) { lines.push(line); line = []; used = 0; }
      line.push({ text, colour: colourOf(t) });
      used += text.length + 2;
    }
    lines.push(line);
  }
  for (const a of item.annotations) {
    if (a.type !== 'caption') continue;
    const name = nameOf(a);
    for (const text of wrap(`caption${name ? ` (${name})` : ''}: ${a.caption}`, perLine, 4)) lines.push([{ text }]);
  }
  for (const note of notes) for (const text of wrap(note, perLine, 2)) lines.push([{ text }]);
  return lines;
}

function drawStrip(lines: Segment[][], top: number, width: number, height: number): string {
  let out = `<rect x="0" y="${top}" width="${width}" height="${height}" fill="${STRIP_BACKGROUND}"/>`;
  lines.forEach((line, k) => {
    const y = top + STRIP_PADDING + k * LINE_HEIGHT;
    let x = STRIP_PADDING;
    for (const s of line) {
      const w = s.text.length * CHAR_WIDTH + (s.colour ? 6 : 0);
      if (s.colour) out += `<rect x="${n(x)}" y="${y + 1}" width="${n(w)}" height="${CHIP_HEIGHT}" fill="${hex(s.colour)}"/>`;
      out += `<text x="${n(x + (s.colour ? 3 : 0))}" y="${y + 1 + FONT_SIZE}" font-family="${FONT}" font-size="${FONT_SIZE}" fill="${s.colour ? textOn(s.colour) : '#ffffff'}">${xmlText(s.text)}</text>`;
      x += w + CHAR_WIDTH;
    }
  });
  return out;
}

/** `text` in lines of at most `width` characters, broken at spaces where it can be; at most `max` lines. */
function wrap(text: string, width: number, max: number): string[] {
  const lines: string[] = [];
  let rest = text.replace(/\s+/g, ' ').trim();
  while (rest && lines.length < max) {
    if (rest.length <= width) { lines.push(rest); rest = ''; break; }
    const space = rest.lastIndexOf(' ', width);
    const cut = space > width / 2 ? space : width;
    lines.push(rest.slice(0, cut));
    rest = rest.slice(cut).trimStart();
  }
  if (rest) lines[lines.length - 1] = clip(lines[lines.length - 1] + ' ' + rest, width);
  return lines;
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : text.slice(0, Math.max(1, max - 1)) + '…';
}

function pointList(points: readonly number[], f: Frame): string {
  const out: string[] = [];
  for (let i = 0; i + 1 < points.length; i += 2) out.push(`${n(points[i] * f.sx)},${n(points[i + 1] * f.sy)}`);
  return out.join(' ');
}

/** A coordinate for SVG: two decimals are a hundredth of an output pixel. */
function n(v: number): string {
  return String(Math.round(v * 100) / 100);
}

/** Text as XML character data: markup escaped, characters XML cannot hold (controls, lone surrogates) dropped. */
export function xmlText(text: string): string {
  return text
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '')
    .replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
