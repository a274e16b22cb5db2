import { UsageError } from '../diagnostics.js';
import { annotationBounds, isShape } from '../geometry/bounds.js';
import { maskArea } from '../geometry/mask.js';
import { polygonArea } from '../geometry/polygon.js';
import { ANNOTATION_TYPES, type Annotation, type Item } from '../model.js';
import type { TransformPlugin } from '../plugin.js';
import { choiceParam, parseArgs } from './args.js';
import { parseExpression, type FieldTable, type Value } from './expression.js';
import { plural } from '../text.js';
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
    'annotation fields: label, type, area, width, height (labels and captions have none), occluded, group, track, attr.NAME (the annotation\'s, else its item\'s). ' +
    'An expression with an annotation field keeps annotations (items stay unless drop_empty=true), otherwise it keeps items',
  args: 'EXPRESSION[;drop_empty=true][;level=item|annotation]',
  example: 'filter:"label in (car,bus) and area >= 100"',
  create(given) {
    const text = unquote(given.trim());
    // The expression may hold a quoted ';', so the parameters start at the first ';' outside quotes.
    // Parameters alone (`filter:level=item`) are parameters, as for every transform: no expression.
    const cut = /^\s*(drop_empty|level)\s*=(?!=)/.test(text) ? 0 : paramStart(text);
    const args = parseArgs(text.slice(cut), 'filter', ['drop_empty', 'level']);
    // `"label == car";drop_empty=true`: the quotes enclose the expression only.
    const source = unquote(text.slice(0, cut).trim());
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
    const attributes = expression.fields.filter((f) => f.startsWith('attr.')).map((f) => f.slice('attr.'.length));
    const measures = expression.fields.some((f) => f === 'area' || f === 'width' || f === 'height');

    return (dataset, ctx) => {
      const names = new Set(dataset.categories.map((c) => c.name));
      for (const name of new Set(expression.values.get('label') ?? [])) {
        if (name && !names.has(name)) ctx.reporter.warn({ code: 'unknown-label', message: `filter: the dataset has no label '${name}'` });
      }
      let items = 0, keptItems = 0, annotations = 0, keptAnnotations = 0, normalized = 0, sizeless = 0;
      // Which of the attributes named are on some item, on some annotation: a misspelt or misplaced one matches nothing.
      const onItems = new Set<string>(), onAnnotations = new Set<string>();
      const noteAttributes = (item: Item) => {
        for (const name of attributes) {
          if (!onItems.has(name) && item.attributes && Object.hasOwn(item.attributes, name)) onItems.add(name);
          if (!onAnnotations.has(name) && item.annotations.some((a) => a.attributes && Object.hasOwn(a.attributes, name))) onAnnotations.add(name);
        }
      };
      return mapItems(dataset, (item) => {
        items++;
        annotations += item.annotations.length;
        if (attributes.length) noteAttributes(item);
        const ofItem = (field: string) => itemField(item, field);
        if (level === 'item') {
          if (!expression.test(ofItem)) return null;
          keptItems++;
          keptAnnotations += item.annotations.length;
          return item;
        }
        if (measures && item.normalized && item.annotations.length) normalized++;
        // attr.NAME is the annotation's attribute, or the item's when the annotation has none of that name.
        const kept = item.annotations.filter((a) => expression.test((field) =>
          field in ANNOTATION_FIELDS ? annotationField(a, field, dataset.categories)
            : field.startsWith('attr.') ? a.attributes?.[field.slice('attr.'.length)] ?? ofItem(field) : ofItem(field)));
        if (measures) sizeless += countSizeless(item.annotations) - countSizeless(kept);
        if (dropEmpty && kept.length === 0 && item.annotations.length > 0) return null;
        keptItems++;
        keptAnnotations += kept.length;
        return kept.length === item.annotations.length ? item : { ...item, annotations: kept };
      }, () => {
        for (const name of attributes) {
          if (level === 'item' && !onItems.has(name) && onAnnotations.has(name)) {
            ctx.reporter.warn({ code: 'unknown-attribute', message: `filter: no item has an attribute '${name}', but annotations do: an expression of item fields only keeps or drops items; add ;level=annotation to filter the annotations by attr.${name}` });
          } else if (!onItems.has(name) && !onAnnotations.has(name)) {
            ctx.reporter.warn({ code: 'unknown-attribute', message: `filter: no item or annotation has an attribute '${name}'` });
          }
        }
        // YOLO labels read without their images: sizes there are fractions of the image, not pixels.
        if (normalized) ctx.reporter.warn({ code: 'normalized-coordinates', message: `filter: ${plural(normalized, 'item')} ${normalized === 1 ? 'has' : 'have'} no image size (normalized coordinates): area, width and height were compared as fractions of the image there` });
        if (sizeless) {
          ctx.reporter.warn({ code: 'no-size', message: `filter: ${plural(sizeless, 'label or caption annotation', 'label and caption annotations')} dropped: labels and captions have no area, width or height, and every comparison of those is false for them; write "type in (label, caption) or (...)" to keep them` });
        }
        const droppedAnnotations = annotations - keptAnnotations;
        ctx.reporter.info({
          code: 'filter',
          message: `filter: kept ${keptItems} of ${plural(items, 'item')} (${items - keptItems} dropped), ${keptAnnotations} of ${plural(annotations, 'annotation')} (${droppedAnnotations} dropped${sizeless ? `, including ${plural(sizeless, 'label or caption', 'labels or captions')} without a size` : ''})`,
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
    case 'width': return size(a)?.[0];
    case 'height': return size(a)?.[1];
    case 'occluded': return a.occluded ?? false;
    // An absent group is no group, as 0 is; an annotation outside a track has no track.
    case 'group': return a.group ?? 0;
    case 'track': return a.track;
    default: return a.attributes?.[field.slice('attr.'.length)];
  }
}

const countSizeless = (annotations: readonly Annotation[]) => annotations.reduce((n, a) => n + (isShape(a) ? 0 : 1), 0);

/** Box w*h, polygon shoelace area, mask pixel count, ellipse pi*rx*ry; 0 for lines and points; none for labels and captions. */
export function area(a: Annotation): number | undefined {
  switch (a.type) {
    case 'bbox': return Math.abs(a.w * a.h);
    case 'polygon': return polygonArea(a.points);
    case 'mask': return maskArea(a);
    case 'ellipse': return Math.PI * Math.abs(a.rx * a.ry);
    case 'polyline': case 'points': case 'skeleton': return 0;
    case 'label': case 'caption': return undefined;
  }
}

/** Width and height of the shape's axis-aligned bounds (annotationBounds); 0 x 0 for a shape with nothing to bound, none for labels and captions. */
export function size(a: Annotation): [number, number] | undefined {
  if (!isShape(a)) return undefined;
  const b = annotationBounds(a);
  return b ? [b.x1 - b.x0, b.y1 - b.y0] : [0, 0];
}
