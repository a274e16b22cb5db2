/**
 * `datum merge`: several datasets into one. Label sets are united by name (a sub-label by name and
 * parent), in first-seen order; items are chained source after source, streaming, with colliding
 * ids (same subset and id) renamed, refused or skipped.
 */
import path from 'node:path';
import { uniteAttributeSpecs, type Annotation, type Category, type Dataset, type Item, type SkeletonAnnotation, type Visibility } from './model.js';
import type { Context, ExportSummary, Options, Transform } from './plugin.js';
import { DatumError, UsageError } from './diagnostics.js';
import { getFormat } from './registry.js';
import { categoryKey as categoryKeyOf } from './transforms/labels.js';
import { applyTransforms, assertOutputApart, createContext, exportDataset, importDataset } from './pipeline.js';

export type OnConflict = 'rename' | 'error' | 'skip';
export const ON_CONFLICT: readonly OnConflict[] = ['rename', 'error', 'skip'];

export interface MergeSource {
  dataset: Dataset;
  /** How messages name the source (its path); default `source N`. */
  name?: string;
}

/** What a merge did, filled in while the items flow: final once the merged items are exhausted. */
export interface MergeCounts {
  /** Items the merge yielded (after skips). */
  items: number;
  /** Items whose subset and id an earlier item already had. */
  collisions: number;
  renamed: number;
  skipped: number;
}

export interface MergedLabels {
  categories: Category[];
  /** Per source: its label index -> the merged one. */
  labelMaps: number[][];
}

const itemName = (item: Item) => (item.subset ? `${item.subset}/${item.id}` : item.id);
const categoryKey = (c: Category) => categoryKeyOf(c.name, c.parent);

/**
 * Unites label lists: a category is the same as an earlier one when its name and parent are; the
 * first one's fields are kept (keypoints, skeleton, color, id), attribute specs are united by name
 * (values united, first-seen order).
 */
export function mergeCategories(lists: readonly (readonly Category[])[]): MergedLabels {
  const categories: Category[] = [];
  const index = new Map<string, number>();
  const labelMaps = lists.map((list) => list.map((category) => {
    const key = categoryKey(category);
    const i = index.get(key);
    if (i === undefined) {
      index.set(key, categories.length);
      categories.push({ ...category });
      return categories.length - 1;
    }
    categories[i] = uniteAttributeSpecs(categories[i], category);
    return i;
  }));
  return { categories, labelMaps };
}

/**
 * For a source category whose keypoints differ from the merged category's (the first source's): for
 * each merged keypoint, the source's index of the same name, -1 when it has none.
 */
function keypointOrder(source: Category, merged: Category): number[] | undefined {
  if (!source.keypoints || !merged.keypoints) return undefined;
  if (source.keypoints.length === merged.keypoints.length && source.keypoints.every((k, i) => k === merged.keypoints![i])) return undefined;
  return merged.keypoints.map((k) => source.keypoints!.indexOf(k));
}

function reorderSkeleton(a: SkeletonAnnotation, order: number[]): SkeletonAnnotation {
  const points: number[] = [];
  const visibility: Visibility[] = [];
  for (const from of order) {
    const known = from >= 0 && from < a.visibility.length;
    points.push(known ? a.points[2 * from] : 0, known ? a.points[2 * from + 1] : 0);
    visibility.push(known ? a.visibility[from] : 0);
  }
  return { ...a, points, visibility };
}

/**
 * The union of `sources`: merged categories (see `mergeCategories`), then every source's items in
 * order, annotations re-indexed to the merged labels. An item whose subset and id an earlier item
 * had is, by `onConflict`: `rename` (default) given the id `<id>-<N>`, N the source's 1-based
 * position (then `<id>-<N>-2`, `-3`... while that is taken too; its image file name follows, as
 * exporters name images by id); `error`: a DatumError naming both sources, thrown when the item is
 * reached (an export in progress is then discarded); `skip`: left out with a warning. The first
 * occurrence always keeps its id. Streams: only the `subset/id` keys seen are held.
 */
export function mergeDatasets(sources: readonly MergeSource[], options: { onConflict?: OnConflict } = {}, ctx: Context = createContext()): { dataset: Dataset; counts: MergeCounts } {
  const onConflict = options.onConflict ?? 'rename';
  if (!ON_CONFLICT.includes(onConflict)) throw new UsageError(`--on-conflict must be one of ${ON_CONFLICT.join(', ')}, not '${onConflict}'`);
  const names = sources.map((s, i) => s.name ?? `source ${i + 1}`);
  const { categories, labelMaps } = mergeCategories(sources.map((s) => s.dataset.categories));
  const counts: MergeCounts = { items: 0, collisions: 0, renamed: 0, skipped: 0 };

  // Per source: skeleton labels whose keypoints must be put in the merged order.
  const reorders = sources.map((s, i) => {
    const map = new Map<number, number[]>();
    s.dataset.categories.forEach((c, label) => {
      const order = keypointOrder(c, categories[labelMaps[i][label]]);
      if (!order) return;
      map.set(label, order);
      const lost = c.keypoints!.filter((k) => !categories[labelMaps[i][label]].keypoints!.includes(k));
      ctx.reporter.warn({
        code: 'keypoints-differ', file: names[i],
        message: `merge: label '${c.name}' has other keypoints than in ${names[firstWith(labelMaps, labelMaps[i][label])]}; its skeletons are put in that order${lost.length ? `, without ${lost.join(', ')}` : ''}`,
      });
    });
    return map;
  });

  // A source whose labels keep their indices (the first, usually) passes its items through as they are.
  const unchanged = labelMaps.map((map, s) => !reorders[s].size && map.every((to, from) => to === from));
  const relabel = (item: Item, s: number): Item => {
    const map = labelMaps[s];
    const known = (a: Annotation) => a.label === undefined || map[a.label] !== undefined;
    if (unchanged[s] && item.annotations.every(known)) return item;
    const annotations: Annotation[] = [];
    for (const a of item.annotations) {
      if (a.label === undefined) { annotations.push(a); continue; }
      const label = map[a.label];
      if (label === undefined) {
        // Its index would name another source's label in the merged list.
        ctx.reporter.warn({ code: 'unknown-label', file: names[s], item: itemName(item), message: `merge: ${a.type} annotation dropped: its label index ${a.label} is not one of the source's ${map.length} labels` });
        continue;
      }
      const order = a.type === 'skeleton' ? reorders[s].get(a.label) : undefined;
      const moved = order ? reorderSkeleton(a as SkeletonAnnotation, order) : a;
      annotations.push(label === a.label ? moved : { ...moved, label });
    }
    return { ...item, annotations };
  };

  const firstSource = new Map<string, number>();
  async function* items(): AsyncGenerator<Item> {
    for (const [s, source] of sources.entries()) {
      for await (const item of source.dataset.items) {
        const key = `${item.subset}\0${item.id}`;
        const first = firstSource.get(key);
        if (first === undefined) {
          firstSource.set(key, s);
          counts.items++;
          yield relabel(item, s);
          continue;
        }
        counts.collisions++;
        const shown = itemName(item);
        const also = first === s ? `another item of ${names[s]}` : `an item of ${names[first]}`;
        if (onConflict === 'error') {
          throw new DatumError({
            code: 'duplicate-item', file: names[s], item: shown,
            message: `item '${shown}' of ${names[s]} has the same subset and id as ${also}; nothing written (--on-conflict rename or skip merges them anyway)`,
          });
        }
        if (onConflict === 'skip') {
          counts.skipped++;
          ctx.reporter.warn({ code: 'duplicate-item-skipped', file: names[s], item: shown, message: `merge: skipped, ${also} has the same subset and id` });
          continue;
        }
        let id = `${item.id}-${s + 1}`;
        for (let n = 2; firstSource.has(`${item.subset}\0${id}`); n++) id = `${item.id}-${s + 1}-${n}`;
        firstSource.set(`${item.subset}\0${id}`, s);
        counts.renamed++;
        counts.items++;
        ctx.reporter.info({ code: 'item-renamed', file: names[s], item: shown, message: `merge: renamed to '${id}', ${also} has the same subset and id` });
        yield relabel({ ...item, id }, s);
      }
    }
    if (counts.collisions) {
      const what = onConflict === 'skip' ? `${counts.skipped} skipped` : `${counts.renamed} renamed`;
      ctx.reporter.info({ code: 'merge-collisions', message: `merge: ${counts.collisions} item id${counts.collisions === 1 ? '' : 's'} collided (same subset and id): ${what}` });
    }
  }

  const info = sources.find((s) => s.dataset.info)?.dataset.info;
  return { dataset: { categories, items: items(), ...(info ? { info } : {}) }, counts };
}

/** The first source whose label map yields `merged` (the source the merged category came from). */
function firstWith(labelMaps: number[][], merged: number): number {
  return labelMaps.findIndex((map) => map.includes(merged));
}

export interface MergeInput {
  path: string;
  /** Default: detected for this source on its own. */
  format?: string;
}

export interface MergeRequest {
  inputs: readonly (MergeInput | string)[];
  output: string;
  outputFormat: string;
  onConflict?: OnConflict;
  overwrite?: boolean;
  /** Applied to the merged dataset, in order. */
  transforms?: Transform[];
  importOptions?: Options;
  exportOptions?: Options;
}

export interface MergeResult extends ExportSummary {
  inputs: string[];
  inputFormats: string[];
  outputFormat: string;
  output: string;
  onConflict: OnConflict;
  collisions: number;
  renamed: number;
  skipped: number;
}

/** Imports every input (each in its own or its detected format), merges them, exports atomically into `output`. */
export async function merge(request: MergeRequest, ctx: Context = createContext()): Promise<MergeResult> {
  const exporter = getFormat(request.outputFormat, 'export'); // fail before reading
  const onConflict = request.onConflict ?? 'rename';
  if (!ON_CONFLICT.includes(onConflict)) throw new UsageError(`--on-conflict must be one of ${ON_CONFLICT.join(', ')}, not '${onConflict}'`);
  if (!request.inputs.length) throw new UsageError('merge needs at least one source');
  const inputs = request.inputs.map((i) => (typeof i === 'string' ? { path: i } : i));
  for (const i of inputs) if (i.format !== undefined) getFormat(i.format, 'import');
  const output = path.resolve(request.output);
  await assertOutputApart(inputs.map((i) => i.path), output, request.output);
  // One import after another is sound: importDataset's forgetPaths() only empties the cache of what
  // the file system said (real paths, symlinks per folder), which the items of an earlier source,
  // read later, fill again.
  const sources: MergeSource[] = [];
  const formats: string[] = [];
  for (const input of inputs) {
    const { format, dataset } = await importDataset(path.resolve(input.path), input.format, request.importOptions, ctx);
    sources.push({ dataset, name: input.path });
    formats.push(format.name);
  }
  const { dataset, counts } = mergeDatasets(sources, { onConflict }, ctx);
  const transformed = await applyTransforms(dataset, request.transforms ?? [], ctx);
  const summary = await exportDataset(transformed, output, exporter, { overwrite: request.overwrite, options: request.exportOptions }, ctx);
  return {
    ...summary, inputs: inputs.map((i) => i.path), inputFormats: formats, outputFormat: exporter.name, output,
    onConflict, collisions: counts.collisions, renamed: counts.renamed, skipped: counts.skipped,
  };
}
