import { UsageError } from '../diagnostics.js';
import { maskArea } from '../geometry/mask.js';
import { boxBounds, pointBounds, polygonArea } from '../geometry/polygon.js';
import { ANNOTATION_TYPES, type Annotation, type Item } from '../model.js';
import type { TransformPlugin } from '../plugin.js';
import { choiceParam, parseArgs } from './args.js';
import { parseExpression, type FieldTable, type Value } from './expression.js';
import { mapItems } from './items.js';

const ITEM_FIELDS: FieldTable = {
  id: { type: 'string' }, subset: { type: 'string' }, annotations: { type: 'number' }, empty: { type: 'boolean' },
  image_width: { type: 'number' }, image_height: { type: 'number' }, 'attr.': { type: 'any' },
};
const ANNOTATION_FIELDS: FieldTable = {
  label: { type: 'string' }, type: { type: 'string', values: ANNOTATION_TYPES }, area: { type: 'number' },
  width: { type: 'number' }, height: { type: 'number' }, occluded: { type: 'boolean' }, group: { type: 'number' }, track: { type: 'number' },
};

export const transform: TransformPlugin = {
  name: 'filter',
  description: 'keep the items, or the annotations, an expression matches (write not (...) to drop them); ' +
    'item fields: id, subset, annotations (count), empty, image_width, image_height, attr.NAME; ' +
    'annotation fields: label, type, area, width, height, occluded, group, track, attr.NAME. ' +
    'An expression with an annotation field keeps annotations (items stay unless drop_empty=true), otherwise it keeps items',
  args: 'EXPRESSION[;drop_empty=true][;level=item|annotation]',
  example: 'filter:"label in (car,bus) and area >= 100"',
  create(given) {
    const text = unquote(given.trim());
    // The expression may hold a quoted ';', so the parameters start at the first ';' outside quotes.
    const cut = paramStart(text);
    const args = parseArgs(text.slice(cut), 'filter', ['drop_empty', 'level']);
    const source = text.slice(0, cut);
    if (!source.trim()) throw new UsageError(`transform 'filter' needs an expression, e.g. filter:"label in (car,bus) and area >= 100" or filter:"not empty"`);
    const expression = parseExpression(source, { ...ITEM_FIELDS, ...ANNOTATION_FIELDS });
    const mentionsAnnotations = expression.fields.some((f) => f in ANNOTATION_FIELDS);
    const level = choiceParam(args, 'level', ['item', 'annotation'] as const, mentionsAnnotations ? 'annotation' : 'item', 'filter');
    if (level === 'item' && mentionsAnnotations) {
      const fields = expression.fields.filter((f) => f in ANNOTATION_FIELDS).join(', ');
      throw new UsageError(`transform 'filter': level=item cannot use the annotation field${fields.includes(',') ? 's' : ''} ${fields}`);
    }
    const dropEmpty = choiceParam(args, 'drop_empty', ['true', 'false'] as const, 'false', 'filter') === 'true';
    if (dropEmpty && level === 'item') throw new UsageError(`transform 'filter': drop_empty=true applies to annotation filters only (an expression with label, type, area, ...); to drop items without annotations use filter:"not empty"`);

    return (dataset, ctx) => {
      const names = new Set(dataset.categories.map((c) => c.name));
      for (const name of new Set(expression.values.get('label') ?? [])) {
        if (name && !names.has(name)) ctx.reporter.warn({ code: 'unknown-label', message: `filter: the dataset has no label '${name}'` });
      }
      let items = 0, keptItems = 0, annotations = 0, keptAnnotations = 0, normalized = 0;
      const measures = expression.fields.some((f) => f === 'area' || f === 'width' || f === 'height');
      return mapItems(dataset, (item) => {
        items++;
        annotations += item.annotations.length;
        const ofItem = (field: string) => itemField(item, field);
        if (level === 'item') {
          if (!expression.test(ofItem)) return null;
          keptItems++;
          keptAnnotations += item.annotations.length;
          return item;
        }
        if (measures && item.normalized && item.annotations.length) normalized++;
        const kept = item.annotations.filter((a) => expression.test((field) =>
          field in ANNOTATION_FIELDS || field.startsWith('attr.') ? annotationField(a, field, dataset.categories) : ofItem(field)));
        if (dropEmpty && kept.length === 0 && item.annotations.length > 0) return null;
        keptItems++;
        keptAnnotations += kept.length;
        return kept.length === item.annotations.length ? item : { ...item, annotations: kept };
      }, () => {
        // YOLO labels read without their images: sizes there are fractions of the image, not pixels.
        if (normalized) ctx.reporter.warn({ code: 'normalized-coordinates', message: `filter: ${normalized} item${normalized === 1 ? ' has' : 's have'} no image size (normalized coordinates): area, width and height were compared as fractions of the image there` });
        ctx.reporter.info({
          code: 'filter',
          message: `filter: kept ${keptItems} of ${items} items (${items - keptItems} dropped), ${keptAnnotations} of ${annotations} annotations (${annotations - keptAnnotations} dropped)`,
        });
      });
    };
  },
};

/**
 * `"EXPRESSION;param=value"` as written in a README or a shell line, when the quotes reach the library
 * unremoved: the text inside, if the quotes enclose it all.
 */
function unquote(text: string): string {
  const q = text[0];
  if ((q !== '"' && q !== "'") || text.length < 2) return text;
  for (let i = 1; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === q) return i === text.length - 1 ? text.slice(1, -1) : text;
  }
  return text;
}

/** The index of the first ';' outside quotes (text.length when there is none). */
function paramStart(text: string): number {
  let quote = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = '';
    } else if (c === '"' || c === "'") quote = c;
    else if (c === ';') return i;
  }
  return text.length;
}

function itemField(item: Item, field: string): Value | undefined {
  switch (field) {
    case 'id': return item.id;
    case 'subset': return item.subset;
    case 'annotations': return item.annotations.length;
    case 'empty': return item.annotations.length === 0;
    case 'image_width': return item.image?.width;
    case 'image_height': return item.image?.height;
    default: return item.attributes?.[field.slice('attr.'.length)];
  }
}

function annotationField(a: Annotation, field: string, categories: readonly { name: string }[]): Value | undefined {
  switch (field) {
    case 'label': return a.label === undefined ? '' : categories[a.label]?.name ?? '';
    case 'type': return a.type;
    case 'area': return area(a);
    case 'width': return size(a)[0];
    case 'height': return size(a)[1];
    case 'occluded': return a.occluded ?? false;
    // An absent group is no group, as 0 is; an annotation outside a track has no track.
    case 'group': return a.group ?? 0;
    case 'track': return a.track;
    default: return a.attributes?.[field.slice('attr.'.length)];
  }
}

/** Box w*h, polygon shoelace area, mask pixel count, ellipse pi*rx*ry; 0 for the other kinds. */
export function area(a: Annotation): number {
  switch (a.type) {
    case 'bbox': return Math.abs(a.w * a.h);
    case 'polygon': return polygonArea(a.points);
    case 'mask': return maskArea(a);
    case 'ellipse': return Math.PI * Math.abs(a.rx * a.ry);
    default: return 0;
  }
}

/** Width and height of the shape's axis-aligned bounds (a mask's set pixels); 0 x 0 for labels and captions. */
export function size(a: Annotation): [number, number] {
  switch (a.type) {
    case 'bbox': return extent(boxBounds(a));
    case 'polygon': case 'polyline': case 'points': return extent(pointBounds(a.points));
    case 'skeleton': return extent(pointBounds(a.points.filter((_, i) => a.visibility[i >> 1] !== 0)));
    case 'ellipse': {
      const t = ((a.rotation ?? 0) * Math.PI) / 180;
      return [2 * Math.hypot(a.rx * Math.cos(t), a.ry * Math.sin(t)), 2 * Math.hypot(a.rx * Math.sin(t), a.ry * Math.cos(t))];
    }
    case 'mask': return maskExtent(a.width, a.rle);
    default: return [0, 0];
  }
}

function extent(b: { x0: number; y0: number; x1: number; y1: number }): [number, number] {
  return b.x1 >= b.x0 ? [b.x1 - b.x0, b.y1 - b.y0] : [0, 0];
}

/** Bounds of a mask's set pixels, in whole pixels (a one-pixel mask is 1 x 1). */
function maskExtent(width: number, rle: readonly number[]): [number, number] {
  let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
  let pos = 0;
  for (let i = 0; i < rle.length && width > 0; pos += rle[i], i++) {
    if (i % 2 === 0 || rle[i] <= 0) continue;
    const first = pos, last = pos + rle[i] - 1;
    const r0 = Math.floor(first / width), r1 = Math.floor(last / width);
    y0 = Math.min(y0, r0); y1 = Math.max(y1, r1);
    // A run over a row end covers that row's last column and the next row's first.
    if (r0 === r1) { x0 = Math.min(x0, first % width); x1 = Math.max(x1, last % width); } else { x0 = 0; x1 = width - 1; }
  }
  return x1 >= x0 ? [x1 - x0 + 1, y1 - y0 + 1] : [0, 0];
}
