/**
 * Reading and writing one VOC annotation XML (`Annotations/<id>.xml`). The reader returns the
 * objects as written (names, raw numbers); the importer turns them into model annotations.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { DatumError, type Reporter } from '../../src/diagnostics.js';
import { escapeXml } from '../../src/xml.js';

/** A box as xmin, ymin, xmax, ymax in the file's own convention. */
export interface VocBox { xmin: number; ymin: number; xmax: number; ymax: number }

export interface VocObject {
  /** 1-based position among the file's <object> elements (the instance index of SegmentationObject). */
  index: number;
  name: string;
  pose?: string;
  truncated: boolean;
  difficult: boolean;
  occluded: boolean;
  box: VocBox;
  parts: { name: string; box: VocBox }[];
  actions: Record<string, boolean>;
  /** VOC Action's reference point on the person. */
  point?: { x: number; y: number };
  /** Datumaro's extension: <attributes><attribute><name/><value/></attribute></attributes>. */
  attributes: Record<string, string>;
}

export interface VocAnnotation {
  filename?: string;
  width?: number;
  height?: number;
  depth?: number;
  objects: VocObject[];
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  // Without this, character references (`&#233;`, `&#x41;`) stay as literal text in names.
  htmlEntities: true,
  isArray: (name) => name === 'object' || name === 'part' || name === 'attribute',
});

type Node = Record<string, unknown>;

/** Text content of an element as fast-xml-parser gives it (string, or an object with #text). */
function text(value: unknown): string | undefined {
  if (Array.isArray(value)) return text(value[0]);
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object') {
    const inner = (value as Node)['#text'];
    return typeof inner === 'string' ? inner : '';
  }
  return undefined;
}

function node(value: unknown): Node | undefined {
  if (Array.isArray(value)) return node(value[0]);
  return value && typeof value === 'object' ? (value as Node) : undefined;
}

/**
 * What comes before the root element: the XML declaration, comments, processing instructions and
 * a `<!DOCTYPE>` (with its internal subset). `root` is the index of the root element's `<`, -1 when
 * the text ends first (a head cut short) or holds something else there.
 */
export function readProlog(text: string): { root: number; doctype?: { start: number; text: string } } {
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let doctype: { start: number; text: string } | undefined;
  for (;;) {
    while (i < text.length && /\s/.test(text[i])) i++;
    if (text.startsWith('<?', i)) {
      const end = text.indexOf('?>', i + 2);
      if (end < 0) return { root: -1, doctype };
      i = end + 2;
    } else if (text.startsWith('<!--', i)) {
      const end = text.indexOf('-->', i + 4);
      if (end < 0) return { root: -1, doctype };
      i = end + 3;
    } else if (text.startsWith('<!DOCTYPE', i)) {
      const end = doctypeEnd(text, i);
      if (end < 0) return { root: -1, doctype: { start: i, text: text.slice(i) } };
      doctype = { start: i, text: text.slice(i, end) };
      i = end;
    } else {
      return { root: text[i] === '<' && /[\p{L}_:]/u.test(text[i + 1] ?? '') ? i : -1, doctype };
    }
  }
}

/** Index after the `>` that closes the DOCTYPE at `start` (quotes, comments and `[...]` skipped), -1 if none. */
function doctypeEnd(text: string, start: number): number {
  let depth = 0;
  for (let i = start + 9; i < text.length; i++) {
    const c = text[i];
    if (c === '"' || c === "'") {
      const close = text.indexOf(c, i + 1);
      if (close < 0) return -1;
      i = close;
    } else if (text.startsWith('<!--', i)) {
      const close = text.indexOf('-->', i + 4);
      if (close < 0) return -1;
      i = close + 2;
    } else if (c === '[') depth++;
    else if (c === ']') depth--;
    else if (c === '>' && depth <= 0) return i + 1;
  }
  return -1;
}

/**
 * A DOCTYPE may declare entities (an external `SYSTEM`/`PUBLIC` one reads another file or URL; nested
 * ones expand to gigabytes) or name an external DTD. A VOC file needs none of it: refused, never expanded.
 */
function refuseDoctype(xml: string, file: string): void {
  const { doctype } = readProlog(xml);
  const found = doctype ?? (/<!DOCTYPE/i.test(xml) ? { start: xml.search(/<!DOCTYPE/i), text: xml.slice(xml.search(/<!DOCTYPE/i)) } : undefined);
  if (!found) return;
  const lineAt = (offset: number) => xml.slice(0, offset).split('\n').length;
  const entity = /<!ENTITY\b/i.exec(found.text);
  if (entity) {
    const external = /<!ENTITY\s+%?\s*[^\s>]+\s+(SYSTEM|PUBLIC)\b/i.exec(found.text.slice(entity.index));
    throw new DatumError({ code: 'xml-entity', file, line: lineAt(found.start + entity.index),
      message: external
        ? `the DOCTYPE declares an external entity (${external[1].toUpperCase()}); datum does not read other files or URLs named by an XML file`
        : 'the DOCTYPE declares entities; datum does not expand XML entities (a file can make them grow to gigabytes)' });
  }
  const external = /^<!DOCTYPE\s+[^\s>[]+\s+(SYSTEM|PUBLIC)\b/i.exec(found.text);
  if (external) {
    throw new DatumError({ code: 'xml-entity', file, line: lineAt(found.start),
      message: `the DOCTYPE names an external DTD (${external[1].toUpperCase()}); datum does not read other files or URLs named by an XML file` });
  }
}

/** Parses the XML text; malformed XML, and XML declaring entities, is fatal (DatumError with file and line). */
export function parseAnnotationXml(xml: string, file: string, reporter: Reporter, item: string): VocAnnotation | null {
  refuseDoctype(xml, file);
  const valid = XMLValidator.validate(xml);
  if (valid !== true) {
    throw new DatumError({ code: 'bad-xml', file, line: valid.err.line, column: valid.err.col, message: `malformed XML: ${valid.err.msg}` });
  }
  let document: Node;
  try {
    document = parser.parse(xml) as Node;
  } catch (error) {
    throw new DatumError({ code: 'bad-xml', file, message: `malformed XML: ${(error as Error).message}` });
  }
  const root = node(document.annotation);
  if (!root) {
    reporter.warn({ code: 'not-voc-annotation', file, item, message: 'the root element is not <annotation>; the file is ignored' });
    return null;
  }
  const result: VocAnnotation = { objects: [] };
  const filename = text(root.filename);
  if (filename) result.filename = filename;

  const size = node(root.size);
  if (size) {
    const number = (tag: string) => {
      const raw = text(size[tag]);
      if (raw === undefined || raw === '') return undefined;
      const value = Number(raw);
      if (Number.isFinite(value) && value > 0) return value;
      reporter.warn({ code: 'bad-size', file, item, element: `<size><${tag}>`, message: `'${raw}' is not a positive number; ignored` });
      return undefined;
    };
    const width = number('width');
    const height = number('height');
    if (width && height) { result.width = width; result.height = height; }
    const depth = number('depth');
    if (depth) result.depth = depth;
  }

  const objects = Array.isArray(root.object) ? root.object : [];
  objects.forEach((value, i) => {
    const element = `<object> #${i + 1}`;
    const obj = node(value);
    const name = obj && text(obj.name);
    if (!obj || !name) {
      reporter.warn({ code: 'missing-label', file, item, element, message: 'object has no <name>; skipped' });
      return;
    }
    const where = `${element} '${name}'`;
    const box = readBox(obj, file, reporter, item, where);
    if (!box) return;
    const flag = (tag: string) => readFlag(obj[tag], file, reporter, item, `${where} <${tag}>`);
    const parsed: VocObject = {
      index: i + 1, name, box,
      truncated: flag('truncated'), difficult: flag('difficult'), occluded: flag('occluded'),
      parts: [], actions: {}, attributes: {},
    };
    const pose = text(obj.pose);
    if (pose !== undefined) parsed.pose = pose;

    const parts = Array.isArray(obj.part) ? obj.part : [];
    parts.forEach((partValue, p) => {
      const part = node(partValue);
      const partName = part && text(part.name);
      const partWhere = `${where} <part> #${p + 1}`;
      if (!part || !partName) {
        reporter.warn({ code: 'missing-label', file, item, element: partWhere, message: 'part has no <name>; skipped' });
        return;
      }
      const partBox = readBox(part, file, reporter, item, `${partWhere} '${partName}'`);
      if (partBox) parsed.parts.push({ name: partName, box: partBox });
    });

    const point = node(obj.point);
    if (point) {
      const x = Number(text(point.x) ?? ''), y = Number(text(point.y) ?? '');
      if (Number.isFinite(x) && Number.isFinite(y) && text(point.x)?.trim() && text(point.y)?.trim()) parsed.point = { x, y };
      else reporter.warn({ code: 'bad-coordinate', file, item, element: `${where} <point>`, message: `'${text(point.x) ?? ''}', '${text(point.y) ?? ''}' are not numbers; the point is skipped` });
    }

    const actions = node(obj.actions);
    if (actions) {
      for (const [action, raw] of Object.entries(actions)) {
        if (action === '#text') continue;
        parsed.actions[action] = readFlag(raw, file, reporter, item, `${where} <actions><${action}>`);
      }
    }

    const attributes = node(obj.attributes);
    const list = attributes && Array.isArray(attributes.attribute) ? attributes.attribute : [];
    for (const attrValue of list) {
      const attr = node(attrValue);
      const attrName = attr && text(attr.name);
      if (attr && attrName) parsed.attributes[attrName] = text(attr.value) ?? '';
    }
    result.objects.push(parsed);
  });
  return result;
}

function readBox(parent: Node, file: string, reporter: Reporter, item: string, element: string): VocBox | null {
  const bndbox = node(parent.bndbox);
  if (!bndbox) {
    reporter.warn({ code: 'missing-bndbox', file, item, element, message: 'no <bndbox>; skipped' });
    return null;
  }
  const box: Partial<VocBox> = {};
  for (const tag of ['xmin', 'ymin', 'xmax', 'ymax'] as const) {
    const raw = text(bndbox[tag]);
    const value = raw === undefined || raw.trim() === '' ? NaN : Number(raw);
    if (!Number.isFinite(value)) {
      reporter.warn({ code: 'bad-coordinate', file, item, element: `${element} <bndbox><${tag}>`, message: `'${raw ?? ''}' is not a number; the box is skipped` });
      return null;
    }
    box[tag] = value;
  }
  return box as VocBox;
}

/** VOC flags are 0/1; `true`/`false` and an empty element are accepted too. */
function readFlag(value: unknown, file: string, reporter: Reporter, item: string, element: string): boolean {
  const raw = text(value);
  if (raw === undefined) return false;
  const normalized = raw.trim().toLowerCase();
  if (normalized === '1' || normalized === 'true') return true;
  if (normalized === '0' || normalized === '-1' || normalized === 'false' || normalized === '') return false;
  reporter.warn({ code: 'bad-flag', file, item, element, message: `'${raw}' is not 0 or 1; read as 0` });
  return false;
}

/** An object ready to write: numbers already in the file's convention, actions and attributes in order. */
export interface VocObjectOut extends Omit<VocObject, 'index' | 'actions' | 'attributes'> {
  actions: [string, boolean][];
  attributes: [string, string][];
}

export interface VocAnnotationOut {
  filename: string;
  size?: { width: number; height: number; depth: number };
  segmented: boolean;
  objects: VocObjectOut[];
}

/** Number text without float noise (0.30000000000000004 -> 0.3); exact for every value a VOC file holds. */
export function formatNumber(n: number): string {
  return String(Number(n.toPrecision(15)));
}

function boxXml(box: VocBox, indent: string): string {
  return `${indent}<bndbox>\n`
    + (['xmin', 'ymin', 'xmax', 'ymax'] as const).map((k) => `${indent}  <${k}>${formatNumber(box[k])}</${k}>\n`).join('')
    + `${indent}</bndbox>\n`;
}

/**
 * Tag names must be XML names; an action like `3d` or `riding bike` is written as Datumaro does (`_3d`, `riding_bike`).
 * Any other character an XML name cannot hold (`?`, `&`, `/`...) becomes `_` too, else the file does not parse.
 */
export function actionTag(name: string): string {
  const tag = name.replace(/[^\p{L}\p{N}_.-]/gu, '_');
  return /^[\p{L}_]/u.test(tag) ? tag : `_${tag}`;
}

export function writeAnnotationXml(a: VocAnnotationOut): string {
  let out = '<annotation>\n  <folder></folder>\n';
  out += `  <filename>${escapeXml(a.filename)}</filename>\n`;
  out += '  <source>\n    <database>Unknown</database>\n    <annotation>Unknown</annotation>\n    <image>Unknown</image>\n  </source>\n';
  if (a.size) {
    out += `  <size>\n    <width>${a.size.width}</width>\n    <height>${a.size.height}</height>\n    <depth>${a.size.depth}</depth>\n  </size>\n`;
  }
  out += `  <segmented>${a.segmented ? 1 : 0}</segmented>\n`;
  for (const o of a.objects) {
    out += '  <object>\n';
    out += `    <name>${escapeXml(o.name)}</name>\n`;
    if (o.pose !== undefined) out += `    <pose>${escapeXml(o.pose)}</pose>\n`;
    out += `    <truncated>${o.truncated ? 1 : 0}</truncated>\n`;
    out += `    <difficult>${o.difficult ? 1 : 0}</difficult>\n`;
    out += `    <occluded>${o.occluded ? 1 : 0}</occluded>\n`;
    out += boxXml(o.box, '    ');
    for (const part of o.parts) {
      out += `    <part>\n      <name>${escapeXml(part.name)}</name>\n${boxXml(part.box, '      ')}    </part>\n`;
    }
    if (o.point) out += `    <point>\n      <x>${formatNumber(o.point.x)}</x>\n      <y>${formatNumber(o.point.y)}</y>\n    </point>\n`;
    if (o.actions.length) {
      out += '    <actions>\n';
      for (const [name, present] of o.actions) out += `      <${actionTag(name)}>${present ? 1 : 0}</${actionTag(name)}>\n`;
      out += '    </actions>\n';
    }
    if (o.attributes.length) {
      out += '    <attributes>\n';
      for (const [name, value] of o.attributes) {
        out += `      <attribute>\n        <name>${escapeXml(name)}</name>\n        <value>${escapeXml(value)}</value>\n      </attribute>\n`;
      }
      out += '    </attributes>\n';
    }
    out += '  </object>\n';
  }
  return out + '</annotation>\n';
}
