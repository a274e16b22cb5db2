import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Category } from '../../src/model.js';
import type { Context, Options } from '../../src/plugin.js';
import { DatumError, type Diagnostic, type Severity } from '../../src/diagnostics.js';
import { isSafeRelative } from '../../src/paths.js';
import { parseElement, scanTopLevel, type XmlNode } from './xml.js';
import { parseMeta } from './meta.js';
import { parsePoints, ShapeProblem, SHAPE_NAMES, toNumber } from './shapes.js';

/**
 * Structural checks of CVAT for images / for video 1.1 XML: every .xml file the importer reads (a
 * folder's *.xml, or the file given), streamed one top-level element at a time (scanTopLevel), each
 * defect reported with file, line and element path, and the reading goes on after it (the importer
 * stops at the first corrupt shape). Malformed XML ends the file's checks: nothing after it can be read.
 */
export async function validateCvat(input: string, _options: Options, ctx: Context): Promise<void> {
  let files: string[];
  try {
    files = await xmlFiles(input);
  } catch (error) {
    ctx.reporter.report({ severity: 'error', code: 'unreadable', file: input, message: `cannot read the dataset (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})` });
    return;
  }
  if (files.length === 0) {
    ctx.reporter.report({ severity: 'error', code: 'no-annotations', file: input, message: 'no CVAT .xml annotation file in this folder' });
    return;
  }
  for (const file of files) await new FileCheck(file, files.length > 1, ctx).run();
}

async function xmlFiles(input: string): Promise<string[]> {
  const stat = await fsp.stat(input);
  if (!stat.isDirectory()) return [path.resolve(input)];
  const names = (await fsp.readdir(input, { withFileTypes: true }))
    .filter((d) => !d.isDirectory() && d.name.toLowerCase().endsWith('.xml')).map((d) => d.name).sort();
  return names.map((n) => path.resolve(input, n));
}

const FLAGS = ['occluded', 'outside', 'keyframe'];
/** Required numeric attributes of each shape (points-like shapes have `points` instead). */
const NUMBERS: Record<string, string[]> = {
  box: ['xtl', 'ytl', 'xbr', 'ybr'],
  ellipse: ['cx', 'cy', 'rx', 'ry'],
  mask: ['left', 'top', 'width', 'height'],
};
const POINT_SHAPES = new Set(['polygon', 'polyline', 'points']);
const OPTIONAL_NUMBERS = ['rotation', 'z_order', 'group_id'];

class FileCheck {
  /** Declared label names, and skeleton keypoints by label; null when <meta> declares none (no label checks). */
  private labels: Set<string> | null = null;
  private keypoints = new Map<string, string[]>();
  private unknownElements = new Set<string>();

  constructor(private readonly file: string, private readonly oneOfMany: boolean, private readonly ctx: Context) {}

  private report(severity: Severity, code: string, line: number | undefined, element: string | undefined, message: string): void {
    const d: Diagnostic = { severity, code, file: this.file, message };
    if (line !== undefined) d.line = line;
    if (element !== undefined) d.element = element;
    this.ctx.reporter.report(d);
  }

  async run(): Promise<void> {
    let sawMeta = false;
    try {
      for await (const raw of scanTopLevel(this.file)) {
        if (raw.name === 'version') continue;
        let node: XmlNode;
        try {
          node = parseElement(raw, this.file);
        } catch (error) {
          if (!(error instanceof DatumError)) throw error;
          this.report('error', error.diagnostic.code, raw.line, `<${raw.name}>`, error.diagnostic.message);
          continue;
        }
        if (node.name === 'meta') { sawMeta = true; this.meta(node); }
        else if (node.name === 'image') this.image(node);
        else if (node.name === 'track') this.track(node);
        else if (node.name === 'tag' || SHAPE_NAMES.has(node.name)) {
          this.report('error', 'misplaced-shape', node.line, `<${node.name}>`, `<${node.name}> directly under <annotations> belongs in an <image> or <track>; it is not read`);
        } else if (!this.unknownElements.has(node.name)) {
          this.unknownElements.add(node.name);
          this.report('warning', 'unknown-element', node.line, `<${node.name}>`, `<${node.name}> under <annotations> is not part of CVAT 1.1; ignored`);
        }
      }
    } catch (error) {
      if (!(error instanceof DatumError)) throw error;
      const d = error.diagnostic;
      // Other XML beside the annotations is skipped by the importer; a lone file must be CVAT.
      const severity: Severity = d.code === 'not-cvat' && this.oneOfMany ? 'info' : 'error';
      const message = d.code === 'not-cvat' && this.oneOfMany ? `${d.message}; the file is ignored` : d.message;
      this.report(severity, d.code, d.line, d.element, message);
      return;
    }
    if (!sawMeta) this.report('warning', 'no-meta', undefined, undefined, 'no <meta>: labels are taken from the shapes, without attribute specs');
  }

  private meta(node: XmlNode): void {
    const meta = parseMeta(node, (code, message, line) => this.report('warning', code, line, '<meta>', message));
    if (meta.kind === 'none' || meta.categories.length === 0) {
      this.report('warning', 'no-labels', node.line, '<meta>', '<meta> declares no labels: labels are taken from the shapes, without attribute specs');
      return;
    }
    this.labels = new Set(meta.categories.map((c: Category) => c.name));
    for (const c of meta.categories) if (c.keypoints && c.parent === undefined) this.keypoints.set(c.name, c.keypoints);
  }

  private image(node: XmlNode): void {
    const a = node.attrs;
    const where = `<image${a.id !== undefined ? ` id="${a.id}"` : ''}${a.name !== undefined ? ` name="${a.name}"` : ''}>`;
    if (a.id === undefined) this.report('error', 'missing-attribute', node.line, where, '<image> has no id attribute');
    else if (!/^\s*\d+\s*$/.test(a.id)) this.report('error', 'bad-number', node.line, where, `<image> id="${a.id}" is not a frame number (a non-negative integer)`);
    if (a.name === undefined || a.name === '') this.report('error', 'missing-attribute', node.line, where, '<image> has no name attribute');
    else if (!isSafeRelative(a.name)) this.report('error', 'unsafe-path', node.line, where, `name="${clip(a.name)}" points outside the dataset folder; the importer refuses it`);
    for (const dim of ['width', 'height']) {
      const value = a[dim];
      if (value === undefined) this.report('error', 'missing-attribute', node.line, where, `<image> has no ${dim} attribute`);
      else if (!isPositiveInteger(value)) this.report('error', 'bad-size', node.line, where, `<image> ${dim}="${value}" is not an image size (a positive integer)`);
    }
    for (const shape of node.children) {
      if (shape.name === 'attribute') continue;
      this.shape(shape, shape.attrs.label, `${where} <${shape.name}>`, shape.line ?? node.line, false);
    }
  }

  private track(node: XmlNode): void {
    const a = node.attrs;
    const where = `<track id="${a.id ?? ''}" label="${a.label ?? ''}">`;
    if (a.id === undefined) this.report('error', 'missing-attribute', node.line, where, '<track> has no id attribute');
    else if (!/^\s*\d+\s*$/.test(a.id)) this.report('error', 'bad-number', node.line, where, `<track> id="${a.id}" is not a track number (a non-negative integer)`);
    if (a.label === undefined) this.report('error', 'missing-attribute', node.line, where, '<track> has no label attribute');
    else this.label(a.label, node.line, where);
    for (const shape of node.children) {
      if (shape.name === 'attribute') continue;
      const line = shape.line ?? node.line;
      if (shape.name === 'track') {
        // A skeleton track's nested form: one <track label="keypoint"> per keypoint, holding <points frame="..">.
        this.nestedKeypointTrack(shape, a.label ?? '', `${where} <track label="${shape.attrs.label ?? ''}">`, line);
        continue;
      }
      const shapeWhere = `${where} <${shape.name}${shape.attrs.frame !== undefined ? ` frame="${shape.attrs.frame}"` : ''}>`;
      this.frame(shape, line, shapeWhere);
      // Shapes of a track take the track's label; their own is ignored.
      this.shape(shape, a.label, shapeWhere, line, true);
    }
  }

  private nestedKeypointTrack(node: XmlNode, skeleton: string, where: string, line: number | undefined): void {
    const keypoint = node.attrs.label;
    if (keypoint === undefined) this.report('error', 'missing-attribute', line, where, '<track> has no label attribute');
    else this.keypoint(skeleton, keypoint, line, where);
    for (const p of node.children) {
      if (p.name !== 'points') continue;
      const pWhere = `${where} <points${p.attrs.frame !== undefined ? ` frame="${p.attrs.frame}"` : ''}>`;
      this.frame(p, line, pWhere);
      this.flags(p, line, pWhere);
      this.points(p, line, pWhere, true);
    }
  }

  private frame(node: XmlNode, line: number | undefined, where: string): void {
    const frame = node.attrs.frame;
    if (frame === undefined) this.report('error', 'missing-attribute', line, where, `<${node.name}> in a <track> has no frame attribute; the shape is lost`);
    else if (!/^\s*\d+\s*$/.test(frame)) this.report('error', 'bad-number', line, where, `frame="${frame}" is not a frame number (a non-negative integer); the shape is lost`);
  }

  private label(name: string, line: number | undefined, where: string): void {
    if (name === '') this.report('warning', 'empty-label', line, where, 'label="": imported without a label');
    else if (this.labels && !this.labels.has(name)) this.report('error', 'unknown-label', line, where, `label '${name}' is not declared in <meta>`);
  }

  private keypoint(skeleton: string, name: string, line: number | undefined, where: string): void {
    const list = this.keypoints.get(skeleton);
    if (this.labels && list && !list.includes(name)) {
      this.report('error', 'unknown-keypoint', line, where, `skeleton point label '${name}' is not a keypoint of '${skeleton}'; the skeleton is lost`);
    }
  }

  private shape(node: XmlNode, label: string | undefined, where: string, line: number | undefined, inTrack: boolean): void {
    if (!SHAPE_NAMES.has(node.name)) {
      this.report('warning', 'unsupported-shape', line, where, `<${node.name}> is not read by datum; skipped`);
      return;
    }
    if (!inTrack) {
      if (label === undefined) this.report('error', 'missing-attribute', line, where, `<${node.name}> has no label attribute`);
      else this.label(label, line, where);
    }
    this.flags(node, line, where);
    for (const name of NUMBERS[node.name] ?? []) this.number(node, name, line, where, true);
    for (const name of OPTIONAL_NUMBERS) this.number(node, name, line, where, false);
    if (POINT_SHAPES.has(node.name)) this.points(node, line, where, false);
    if (node.name === 'mask') this.mask(node, line, where);
    if (node.name === 'skeleton') {
      for (const p of node.children) {
        if (p.name !== 'points') continue;
        const pWhere = `${where} <points label="${p.attrs.label ?? ''}">`;
        if (p.attrs.label === undefined) this.report('error', 'missing-attribute', line, pWhere, 'skeleton <points> has no label attribute');
        else if (label !== undefined) this.keypoint(label, p.attrs.label, line, pWhere);
        this.flags(p, line, pWhere);
        this.points(p, line, pWhere, true);
      }
    }
  }

  private flags(node: XmlNode, line: number | undefined, where: string): void {
    for (const flag of FLAGS) {
      const v = node.attrs[flag];
      if (v !== undefined && v !== '0' && v !== '1') this.report('warning', 'bad-flag', line, where, `${flag}="${v}" is not 0 or 1; read as ${v.toLowerCase() === 'true' && flag === 'occluded' ? 1 : 0}`);
    }
  }

  private number(node: XmlNode, name: string, line: number | undefined, where: string, required: boolean): void {
    const v = node.attrs[name];
    if (v === undefined || (!required && v.trim() === '')) {
      if (required) this.report('error', 'missing-attribute', line, where, `<${node.name}> has no ${name} attribute`);
      return;
    }
    const n = toNumber(v);
    if (n === undefined) this.report('error', 'bad-number', line, where, `${name}="${v}" is not a number`);
    else if (node.name === 'mask' && !Number.isInteger(n)) this.report('error', 'bad-number', line, where, `${name}="${v}" is not an integer`);
  }

  private points(node: XmlNode, line: number | undefined, where: string, single: boolean): void {
    if (node.attrs.points === undefined) {
      this.report('error', 'missing-attribute', line, where, `<${node.name}> has no points attribute`);
      return;
    }
    try {
      const xy = parsePoints(node.attrs.points);
      if (single && xy.length !== 2) this.report('error', 'bad-points', line, where, `points="${node.attrs.points}" must be exactly one x,y pair`);
    } catch (error) {
      if (!(error instanceof ShapeProblem)) throw error;
      this.report('error', 'bad-points', line, where, `points="${clip(node.attrs.points)}": ${error.message}; expected x,y pairs separated by ';'`);
    }
  }

  private mask(node: XmlNode, line: number | undefined, where: string): void {
    const rle = node.attrs.rle;
    if (rle === undefined) { this.report('error', 'missing-attribute', line, where, '<mask> has no rle attribute'); return; }
    let total = 0;
    for (const s of rle.split(',')) {
      const n = toNumber(s);
      if (n === undefined || !Number.isInteger(n) || n < 0) {
        this.report('error', 'bad-mask', line, where, `rle holds '${clip(s.trim())}', not a run length`);
        return;
      }
      total += n;
    }
    const width = Number(node.attrs.width), height = Number(node.attrs.height);
    if (Number.isInteger(width) && Number.isInteger(height) && total > width * height) {
      this.report('error', 'bad-mask', line, where, `rle covers ${total} pixels, more than its ${width}x${height} rectangle`);
    }
  }
}

function isPositiveInteger(text: string): boolean {
  const n = toNumber(text);
  return n !== undefined && Number.isInteger(n) && n > 0;
}

/** A value quoted in a message stays one line long. */
function clip(s: string): string {
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}
