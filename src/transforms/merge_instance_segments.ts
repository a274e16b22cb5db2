import { UsageError } from '../diagnostics.js';
import type { Annotation, AnnotationBase, MaskAnnotation, PolygonAnnotation } from '../model.js';
import type { TransformPlugin } from '../plugin.js';
import { maskArea } from '../geometry/mask.js';
import { polygonArea } from '../geometry/polygon.js';
import { applyReplacements, groupObjects, imagePixels, replaceObject } from '../geometry/bounds.js';
import { MAX_RASTER_PIXELS, unionMask } from '../geometry/raster.js';
import { plural } from '../text.js';
import { choiceParam, parseArgs } from './args.js';
import { mapItems } from './items.js';

type Segment = MaskAnnotation | PolygonAnnotation;

export const transform: TransformPlugin = {
  name: 'merge_instance_segments',
  description: 'the masks of one instance (same label and non-zero group; an ungrouped segment is an instance of its own) become one mask, their union, '
    + 'with the fields of the largest, within the image when its size is known; include_polygons=true merges its polygons in too (every polygon then becomes a mask)',
  args: '[include_polygons=false|true]',
  example: 'merge_instance_segments:include_polygons=true',
  create(text) {
    const args = parseArgs(text, 'merge_instance_segments', ['include_polygons']);
    if (args.main) throw new UsageError(`transform 'merge_instance_segments' takes only ;include_polygons=true|false; got '${args.main}'`);
    const includePolygons = choiceParam(args, 'include_polygons', ['false', 'true'] as const, 'false', 'merge_instance_segments') === 'true';
    return (dataset, ctx) => {
      let merged = 0, parts = 0, converted = 0, dropped = 0, normalized = 0;
      return mapItems(dataset, (item) => {
        const isSegment = (a: Annotation): a is Segment => a.type === 'mask' || (includePolygons && a.type === 'polygon');
        if (!item.annotations.some(isSegment)) return item;
        // Polygons in [0, 1] have no pixels: such items keep their polygons.
        if (item.normalized && includePolygons && item.annotations.some((a) => a.type === 'polygon')) { normalized++; return item; }
        // A mask holds image pixels: what lies outside the image is not painted.
        const clip = imagePixels(item);
        // Each instance's mask takes the place of its first segment; the others go.
        const replacement = new Map<Annotation, Annotation | null>();
        let empty = 0, tooLarge = 0;
        for (const segments of groupObjects(item.annotations.filter(isSegment))) {
          if (segments.length === 1 && segments[0].type === 'mask') continue;
          const masks = segments.filter((s): s is MaskAnnotation => s.type === 'mask');
          const polygons = segments.filter((s): s is PolygonAnnotation => s.type === 'polygon');
          const union = unionMask(masks, polygons.map((p) => p.points), clip);
          if (!union) { tooLarge++; continue; }
          if (union.width === 0) { empty++; replaceObject(replacement, segments, null); continue; }
          if (segments.length > 1) { merged++; parts += segments.length; }
          converted += polygons.length;
          const mask: MaskAnnotation = { ...fieldsOf(leader(segments)), type: 'mask', ...union };
          replaceObject(replacement, segments, mask);
        }
        if (empty) {
          dropped += empty;
          ctx.reporter.warn({ code: 'empty-instance', item: item.id, message: `merge_instance_segments: ${plural(empty, 'instance')} covering no pixel${clip ? ' of the image' : ''} dropped` });
        }
        if (tooLarge) {
          ctx.reporter.warn({ code: 'shape-too-large', item: item.id, message: `merge_instance_segments: ${plural(tooLarge, 'instance')} spanning over ${MAX_RASTER_PIXELS} pixels (or with coordinates not finite) left unmerged` });
        }
        return { ...item, annotations: applyReplacements(item.annotations, replacement) };
      }, () => {
        ctx.reporter.info({
          code: 'merge-instance-segments',
          message: `merge_instance_segments: ${plural(merged, 'instance')} merged from ${plural(parts, 'segment')}; ${plural(converted, 'polygon')} painted into masks; ${plural(dropped, 'empty instance')} dropped`,
        });
        if (normalized) ctx.reporter.warn({ code: 'normalized-coordinates', message: `merge_instance_segments: ${plural(normalized, 'item')} with normalized coordinates left alone (their polygons have no pixels)` });
      });
    };
  },
};

/** A segment's fields other than its geometry. */
function fieldsOf(s: Segment): AnnotationBase {
  if (s.type === 'polygon') { const { type: _t, points: _p, ...base } = s; return base; }
  const { type: _t, left: _l, top: _to, width: _w, height: _h, rle: _r, ...base } = s;
  return base;
}

/** The largest segment (pixels for masks, area for polygons), the first of equals: the instance's fields come from it. */
function leader(segments: Segment[]): Segment {
  const area = (s: Segment) => (s.type === 'mask' ? maskArea(s) : polygonArea(s.points));
  return segments.reduce((best, s) => (area(s) > area(best) ? s : best));
}
