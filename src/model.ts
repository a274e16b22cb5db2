/**
 * The common annotation model: the one contract between formats (like Pandoc's AST).
 * Importers translate a format into these shapes, exporters translate them out; nothing else
 * knows a format. Coordinates are pixels unless an item has no known size (see `Item.image`).
 */

export type AttributeValue = string | number | boolean;
export type Attributes = Record<string, AttributeValue>;

/** How a label's attribute is edited in an annotation tool (CVAT's spec); only `name` is required. */
export interface AttributeSpec {
  name: string;
  /** CVAT input types: checkbox, radio, select, number, text */
  inputType?: string;
  values?: string[];
  default?: string;
  mutable?: boolean;
}

export interface Category {
  name: string;
  /** Name of the parent category (CVAT skeleton sub-labels, VOC parts). */
  parent?: string;
  attributes?: AttributeSpec[];
  /** Keypoint names, in the order `skeleton` annotations store their points. */
  keypoints?: string[];
  /** Skeleton edges as 0-based index pairs into `keypoints`. */
  skeleton?: [number, number][];
  /** Original numeric id in the source format (e.g. sparse COCO category ids), kept for round trips. */
  id?: number;
  /** RGB color, where the source format has one (VOC labelmap, CVAT). */
  color?: [number, number, number];
  /** Anything else a format wants to carry through a round trip of itself (e.g. COCO supercategory). */
  extra?: Attributes;
}

/** Fields every annotation carries. */
export interface AnnotationBase {
  /** Index into `Dataset.categories`; absent for unlabeled shapes and captions. */
  label?: number;
  /** Free-form name/value attributes (CVAT attributes, VOC pose/truncated/difficult, COCO iscrowd...). */
  attributes?: Attributes;
  occluded?: boolean;
  zOrder?: number;
  /** Annotations with the same non-zero group belong together (CVAT group_id). */
  group?: number;
  /** Track id, for video annotations. */
  track?: number;
  /** Original annotation id in the source, where it has one (COCO annotation id). */
  id?: number;
}

export interface LabelAnnotation extends AnnotationBase { type: 'label' }
/** Axis-aligned box at (x, y) of size w x h, rotated by `rotation` degrees clockwise about its centre. */
export interface BboxAnnotation extends AnnotationBase { type: 'bbox'; x: number; y: number; w: number; h: number; rotation?: number }
/** `points` is flat: [x0, y0, x1, y1, ...]. */
export interface PolygonAnnotation extends AnnotationBase { type: 'polygon'; points: number[] }
export interface PolylineAnnotation extends AnnotationBase { type: 'polyline'; points: number[] }
/** Visibility per point follows COCO: 0 absent, 1 present but hidden, 2 visible. */
export type Visibility = 0 | 1 | 2;
export interface PointsAnnotation extends AnnotationBase { type: 'points'; points: number[]; visibility?: Visibility[] }
/**
 * A binary mask as run lengths over the rectangle left/top/width/height, row by row, alternating
 * starting with background (0) runs: CVAT's encoding. `src/geometry/mask.ts` converts to and from bitmaps.
 */
export interface MaskAnnotation extends AnnotationBase { type: 'mask'; left: number; top: number; width: number; height: number; rle: number[] }
export interface EllipseAnnotation extends AnnotationBase { type: 'ellipse'; cx: number; cy: number; rx: number; ry: number; rotation?: number }
/**
 * Keypoints of a category with `keypoints` names: `points` holds one x, y pair per keypoint in the
 * category's order, `visibility` one entry per keypoint (0 = absent, its x, y are meaningless).
 */
export interface SkeletonAnnotation extends AnnotationBase { type: 'skeleton'; points: number[]; visibility: Visibility[] }
export interface CaptionAnnotation extends AnnotationBase { type: 'caption'; caption: string }

export type Annotation =
  | LabelAnnotation | BboxAnnotation | PolygonAnnotation | PolylineAnnotation | PointsAnnotation
  | MaskAnnotation | EllipseAnnotation | SkeletonAnnotation | CaptionAnnotation;
export type AnnotationType = Annotation['type'];
export const ANNOTATION_TYPES: readonly AnnotationType[] =
  ['label', 'bbox', 'polygon', 'polyline', 'points', 'mask', 'ellipse', 'skeleton', 'caption'];

export interface Image {
  /** Absolute path of the image file; it may not exist (annotations exported without media). */
  path: string;
  width?: number;
  height?: number;
}

export interface Item {
  /** Path-like id, '/'-separated, without extension: `img0`, `frame_000010`, `street/0001`. */
  id: string;
  /** Subset name as the source wrote it ('' when the source has none). */
  subset: string;
  image?: Image;
  /**
   * True when coordinates are normalized to [0, 1] because the image size is unknown
   * (YOLO labels without their images); exporters to pixel formats must report such items.
   */
  normalized?: boolean;
  attributes?: Attributes;
  annotations: Annotation[];
}

export type ItemStream = AsyncIterable<Item> | Iterable<Item>;

/** A dataset: categories up front, items handed over one at a time so big files can stream. */
export interface Dataset {
  categories: Category[];
  items: ItemStream;
  /** Free-form information about the source (e.g. COCO `info`), for formats that round-trip it. */
  info?: Attributes;
}

/** A dataset whose items are all in memory; transforms that need every item (split, sort) use it. */
export interface MemoryDataset extends Dataset { items: Item[] }

export async function collect(dataset: Dataset): Promise<MemoryDataset> {
  if (Array.isArray(dataset.items)) return dataset as MemoryDataset;
  const items: Item[] = [];
  for await (const item of dataset.items) items.push(item);
  return { ...dataset, items };
}

/**
 * The categories that are classes of their own, as YOLO formats number them: those without a parent,
 * in order. Sub-labels (a skeleton's keypoints, a VOC part) are not classes, as in Datumaro's YOLO
 * exporters, nor is `background` (VOC's class 0: the absence of an object, which YOLO does not label);
 * `of` gives a category's class index, undefined for those and unknown indices.
 */
export class ClassList {
  readonly categories: Category[] = [];
  private readonly index = new Map<number, number>();
  private readonly background = new Set<number>();

  constructor(categories: readonly Category[]) {
    categories.forEach((c, i) => {
      if (c.parent !== undefined) return;
      if (c.name.trim().toLowerCase() === 'background') { this.background.add(i); return; }
      this.index.set(i, this.categories.length);
      this.categories.push(c);
    });
  }

  of(label: number): number | undefined {
    return this.index.get(label);
  }

  /** Whether a label is a `background` category (left out of the classes; its annotations are dropped). */
  isBackground(label: number): boolean {
    return this.background.has(label);
  }
}

/** Whether every coordinate of an annotation is a finite number (imports may carry NaN or Infinity). */
export function hasFiniteNumbers(a: Annotation): boolean {
  switch (a.type) {
    case 'bbox': return [a.x, a.y, a.w, a.h, a.rotation ?? 0].every(Number.isFinite);
    case 'polygon': case 'polyline': case 'points': case 'skeleton': return a.points.every(Number.isFinite);
    case 'mask': return [a.left, a.top, a.width, a.height, ...a.rle].every(Number.isFinite);
    case 'ellipse': return [a.cx, a.cy, a.rx, a.ry, a.rotation ?? 0].every(Number.isFinite);
    case 'label': case 'caption': return true;
  }
}

/**
 * `into` with `from`'s attribute specs added: specs of one name are one, their values united in
 * first-seen order. Used where two categories become one (merge, remap_labels).
 */
export function uniteAttributeSpecs(into: Category, from: Category): Category {
  if (!from.attributes?.length) return into;
  const attributes: AttributeSpec[] = [...(into.attributes ?? [])];
  for (const spec of from.attributes) {
    const same = attributes.findIndex((a) => a.name === spec.name);
    if (same < 0) attributes.push(spec);
    else if (spec.values) attributes[same] = { ...attributes[same], values: [...new Set([...(attributes[same].values ?? []), ...spec.values])] };
  }
  return { ...into, attributes };
}

export function categoryIndex(categories: Category[]): Map<string, number> {
  return new Map(categories.map((c, i) => [c.name, i]));
}

/** The file name an exporter writes an item's image under: its id plus the source's extension. */
export function imageFileName(item: Item, fallbackExt = '.jpg'): string {
  const ext = item.image ? extOf(item.image.path) : '';
  return item.id + (ext || fallbackExt);
}

function extOf(path: string): string {
  const base = path.slice(path.lastIndexOf('/') + 1);
  const dot = base.lastIndexOf('.');
  return dot > 0 ? base.slice(dot) : '';
}
