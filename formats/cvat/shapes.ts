import type { Annotation, Attributes, AttributeSpec, Category, Visibility } from '../../src/model.js';
import type { XmlNode } from './xml.js';

/** A problem with one annotation: the importer warns with file, line and element, and skips it. */
export class ShapeProblem extends Error {
  constructor(readonly code: string, message: string) { super(message); }
}

/** Label lookups built once from the categories. */
export class LabelTable {
  private readonly index = new Map<string, number>();
  private readonly specs = new Map<number, Map<string, AttributeSpec>>();
  /** Attribute specs by name over all labels, for attributes a label does not declare itself. */
  private readonly anySpec = new Map<string, AttributeSpec>();

  constructor(readonly categories: Category[]) {
    categories.forEach((c, i) => {
      if (c.parent === undefined || !this.index.has(c.name)) this.index.set(c.name, i);
      const own = new Map((c.attributes ?? []).map((a) => [a.name, a]));
      this.specs.set(i, own);
      for (const a of c.attributes ?? []) if (!this.anySpec.has(a.name)) this.anySpec.set(a.name, a);
    });
  }

  find(name: string): number | undefined { return this.index.get(name); }

  /** CVAT attribute text -> model value by the label's spec: checkbox -> boolean, number -> number. */
  convert(label: number | undefined, name: string, text: string): string | number | boolean {
    const spec = (label !== undefined ? this.specs.get(label)?.get(name) : undefined) ?? this.anySpec.get(name);
    if (spec?.inputType === 'checkbox') {
      const lower = text.trim().toLowerCase();
      if (lower === 'true') return true;
      if (lower === 'false') return false;
    } else if (spec?.inputType === 'number') {
      const n = toNumber(text);
      if (n !== undefined) return n;
    }
    return text;
  }
}

export const SHAPE_NAMES = new Set(['box', 'polygon', 'polyline', 'points', 'mask', 'ellipse', 'skeleton', 'tag']);

/**
 * One CVAT shape element -> model annotation. `label` is the resolved label index (undefined for
 * label="" shapes). Throws ShapeProblem for bad values.
 */
export function parseShape(node: XmlNode, label: number | undefined, labels: LabelTable): Annotation {
  const a = node.attrs;
  const annotation = parseGeometry(node, label, labels);
  if (label !== undefined) annotation.label = label;
  if (a.occluded === '1' || a.occluded?.toLowerCase() === 'true') annotation.occluded = true;
  const zOrder = optionalNum(a, 'z_order');
  if (zOrder) annotation.zOrder = zOrder;
  const group = optionalNum(a, 'group_id');
  if (group) annotation.group = group;
  const attributes = parseAttributes(node, label, labels);
  if (attributes) annotation.attributes = attributes;
  return annotation;
}

function parseGeometry(node: XmlNode, label: number | undefined, labels: LabelTable): Annotation {
  const a = node.attrs;
  switch (node.name) {
    case 'tag':
      return { type: 'label' };
    case 'box': {
      const x = num(a, 'xtl'), y = num(a, 'ytl');
      const box: Annotation = { type: 'bbox', x, y, w: num(a, 'xbr') - x, h: num(a, 'ybr') - y };
      const rotation = optionalNum(a, 'rotation');
      if (rotation) box.rotation = rotation;
      return box;
    }
    case 'polygon':
    case 'polyline':
      return { type: node.name, points: parsePoints(a.points) };
    case 'points':
      return { type: 'points', points: parsePoints(a.points) };
    case 'ellipse': {
      const ellipse: Annotation = { type: 'ellipse', cx: num(a, 'cx'), cy: num(a, 'cy'), rx: num(a, 'rx'), ry: num(a, 'ry') };
      const rotation = optionalNum(a, 'rotation');
      if (rotation) ellipse.rotation = rotation;
      return ellipse;
    }
    case 'mask':
      return { type: 'mask', ...parseMask(a) };
    case 'skeleton':
      return { type: 'skeleton', ...parseSkeleton(node, label, labels) };
    default:
      throw new ShapeProblem('unsupported-shape', `<${node.name}> is not supported; skipped`);
  }
}

/** Nested <attribute name="...">value</attribute> elements. */
export function parseAttributes(node: XmlNode, label: number | undefined, labels: LabelTable): Attributes | undefined {
  let attributes: Attributes | undefined;
  for (const c of node.children) {
    if (c.name !== 'attribute' || c.attrs.name === undefined) continue;
    // defineProperty: a name like `__proto__` is data here, not the object's prototype.
    Object.defineProperty(attributes ??= {}, c.attrs.name, { value: labels.convert(label, c.attrs.name, c.text), enumerable: true, writable: true, configurable: true });
  }
  return attributes;
}

function parseMask(a: Record<string, string>) {
  const left = int(a, 'left'), top = int(a, 'top'), width = int(a, 'width'), height = int(a, 'height');
  if (a.rle === undefined) throw new ShapeProblem('bad-mask', '<mask> has no rle attribute');
  const rle = a.rle.split(',').map((s) => {
    const n = toNumber(s);
    if (n === undefined || !Number.isInteger(n) || n < 0) throw new ShapeProblem('bad-mask', `rle holds '${s.trim()}', not a run length`);
    return n;
  });
  const total = rle.reduce((sum, n) => sum + n, 0);
  if (total > width * height) throw new ShapeProblem('bad-mask', `rle covers ${total} pixels, more than its ${width}x${height} rectangle`);
  return { left, top, width, height, rle };
}

/** Child <points label="keypoint"> in any order -> points and visibility in the category's keypoint order. */
function parseSkeleton(node: XmlNode, label: number | undefined, labels: LabelTable) {
  const keypoints = label !== undefined ? labels.categories[label].keypoints ?? [] : [];
  const points = new Array<number>(keypoints.length * 2).fill(0);
  const visibility = new Array<Visibility>(keypoints.length).fill(0);
  for (const c of node.children) {
    if (c.name !== 'points') continue;
    const k = keypoints.indexOf(c.attrs.label ?? '');
    if (k < 0) throw new ShapeProblem('unknown-keypoint', `skeleton point label '${c.attrs.label ?? ''}' is not a keypoint of '${label !== undefined ? labels.categories[label].name : ''}'`);
    const xy = parsePoints(c.attrs.points);
    if (xy.length !== 2) throw new ShapeProblem('bad-coordinate', `skeleton point '${c.attrs.label}' must have exactly one x,y pair`);
    points[2 * k] = xy[0];
    points[2 * k + 1] = xy[1];
    visibility[k] = c.attrs.outside === '1' ? 0 : c.attrs.occluded === '1' ? 1 : 2;
  }
  return { points, visibility };
}

/** "x0,y0;x1,y1;..." -> flat numbers. */
export function parsePoints(text: string | undefined): number[] {
  if (text === undefined) throw new ShapeProblem('bad-coordinate', 'the points attribute is missing');
  const out: number[] = [];
  for (const pair of text.split(';')) {
    if (pair.trim() === '') continue;
    const xy = pair.split(',');
    if (xy.length !== 2) throw new ShapeProblem('bad-coordinate', `points holds '${pair.trim()}', not an x,y pair`);
    for (const v of xy) {
      const n = toNumber(v);
      if (n === undefined) throw new ShapeProblem('bad-coordinate', `points holds '${v.trim()}', not a number`);
      out.push(n);
    }
  }
  if (out.length === 0) throw new ShapeProblem('bad-coordinate', 'points is empty');
  return out;
}

function num(a: Record<string, string>, name: string): number {
  const text = a[name];
  if (text === undefined) throw new ShapeProblem('bad-coordinate', `the ${name} attribute is missing`);
  const n = toNumber(text);
  if (n === undefined) throw new ShapeProblem('bad-coordinate', `${name}="${text}" is not a number`);
  return n;
}

function int(a: Record<string, string>, name: string): number {
  const n = num(a, name);
  if (!Number.isInteger(n)) throw new ShapeProblem('bad-coordinate', `${name}="${a[name]}" is not an integer`);
  return n;
}

function optionalNum(a: Record<string, string>, name: string): number | undefined {
  return a[name] === undefined || a[name].trim() === '' ? undefined : num(a, name);
}

export function toNumber(text: string): number | undefined {
  if (text.trim() === '') return undefined;
  const n = Number(text);
  return Number.isFinite(n) ? n : undefined;
}
