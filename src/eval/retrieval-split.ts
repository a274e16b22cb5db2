/**
 * `datum split --task retrieval`: an evaluation subset of whole classes for image retrieval (the
 * Stanford Online Products protocol: every image of the subset is a query against all the others).
 * Classes are chosen, never items: a class is in with all its images or not at all, stratified over
 * the parent categories (SOP's super-classes) and ordered inside each by unitHash(class name, seed),
 * so the same seed gives the same classes whatever the input order.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Category, Image, Item } from '../model.js';
import { categoryIndex, collect, imageFileName } from '../model.js';
import type { Context } from '../plugin.js';
import { DatumError, Reporter, UsageError } from '../diagnostics.js';
import { assertOutputApart, importDataset } from '../pipeline.js';
import { writeAtomically } from '../output.js';
import { getFormat } from '../registry.js';
import { toPosixRelative } from '../paths.js';
import { byHash } from '../transforms/split/hash.js';
import { allocate, isTestSubset } from '../calib/select.js';
import { SOP_DIR } from '../../formats/sop/format.js';
import { plural } from '../text.js';

export interface RetrievalSplitRequest {
  input: string;
  inputFormat?: string;
  output: string;
  overwrite?: boolean;
  /** How many classes; at most one of `classes` and `fraction`; neither: every eligible class. */
  classes?: number;
  /** The share (0 < F <= 1) of the eligible classes, rounded to nearest, at least 1. */
  fraction?: number;
  /** Stratification over parents required: an error when an eligible class has no parent. */
  byParent?: boolean;
  seed?: number;
  /** Only the items of this subset make the pool (default: every item). */
  subset?: string;
  /** Copy the images into the SOP layout (default true; eval needs only the labels). */
  saveMedia?: boolean;
}

export interface RetrievalReport {
  task: 'retrieval';
  seed: number;
  classes: { eligible: number; chosen: number; dropped: number };
  items: number;
  /** Per parent (null: classes without one), in the parents' category order. */
  parents: { name: string | null; eligible: number; chosen: number }[];
  output: string;
}

/** The files written beside the SOP layout. */
export const RETRIEVAL_FILES = { csv: 'retrieval.csv', queries: 'queries/list.txt', gallery: 'gallery/list.txt', order: 'order.txt' } as const;
const CSV_HEADER = 'label,path,split,is_query,is_gallery';
/** How many names a message lists before it only counts. */
const EXAMPLES = 5;

/** An item of the pool: its one class and the path it gets in the SOP layout. */
interface PoolItem { id: string; subset: string; image?: Image; label: number; path: string }

/** A class that can be chosen, with the stratum it belongs to. */
export interface ClassEntry { name: string; parent: string | undefined }

export function checkRetrievalOptions(o: Pick<RetrievalSplitRequest, 'classes' | 'fraction' | 'seed'>): void {
  if (o.classes !== undefined && o.fraction !== undefined) throw new UsageError('split: give --classes or --fraction, not both');
  if (o.classes !== undefined && !(Number.isSafeInteger(o.classes) && o.classes >= 1)) throw new UsageError(`split: --classes must be a whole number of at least 1; got '${o.classes}'`);
  if (o.fraction !== undefined && !(o.fraction > 0 && o.fraction <= 1)) throw new UsageError(`split: --fraction must be a number in (0, 1]; got '${o.fraction}'`);
  if (o.seed !== undefined && !Number.isSafeInteger(o.seed)) throw new UsageError(`split: --seed must be an integer; got '${o.seed}'`);
}

/** The classes to keep per stratum (indices into `classes`), `seats[k]` of stratum k, by unitHash order. */
export function pickClasses(classes: readonly ClassEntry[], strata: readonly (string | undefined)[], seats: readonly number[], seed: number): Set<number> {
  const members = new Map(strata.map((p) => [p, [] as { i: number; name: string }[]]));
  classes.forEach((c, i) => members.get(c.parent)?.push({ i, name: c.name }));
  const order = byHash(seed);
  const chosen = new Set<number>();
  strata.forEach((parent, k) => {
    const list = members.get(parent)!.sort((a, b) => order(a.name, b.name));
    for (const m of list.slice(0, seats[k])) chosen.add(m.i);
  });
  return chosen;
}

/** A CSV field, quoted when it holds a comma, a quote or a line break (RFC 4180). */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** Import, choose whole classes, write the SOP layout, retrieval.csv, the query/gallery lists and order.txt. */
export async function retrievalSplit(request: RetrievalSplitRequest, ctx: Context): Promise<RetrievalReport> {
  checkRetrievalOptions(request);
  const seed = request.seed ?? 0;
  const output = path.resolve(request.output);
  await assertOutputApart([request.input], output, request.output);
  const { dataset } = await importDataset(request.input, request.inputFormat, {}, ctx);
  const { categories } = dataset;
  const pool = await readPool(dataset.items, categories, request, ctx);

  const byClass = new Map<number, PoolItem[]>();
  for (const item of pool) {
    const members = byClass.get(item.label);
    if (members) members.push(item); else byClass.set(item.label, [item]);
  }
  const labels = [...byClass.keys()].sort((a, b) => a - b);
  const eligible = labels.filter((l) => byClass.get(l)!.length >= 2);
  const small = labels.filter((l) => byClass.get(l)!.length < 2);
  if (small.length) {
    const names = small.slice(0, EXAMPLES).map((l) => `'${categories[l].name}'`).join(', ');
    ctx.reporter.info({ code: 'class-too-small', file: request.input, message: `split: ${plural(small.length, 'class', 'classes')} with a single image left out (one-vs-rest needs another image of the class): ${names}${small.length > EXAMPLES ? ', ...' : ''}` });
  }
  if (!eligible.length) throw new DatumError({ code: 'no-eligible-class', file: request.input, message: `no class has 2 or more images${request.subset !== undefined ? ` in subset '${request.subset}'` : ''}; nothing to evaluate retrieval on` });

  const classes: ClassEntry[] = eligible.map((l) => ({ name: categories[l].name, parent: categories[l].parent }));
  if (request.byParent) {
    const orphans = classes.filter((c) => c.parent === undefined);
    if (orphans.length) throw new DatumError({ code: 'no-parent', file: request.input, message: `--by-parent needs every class to have a parent category; ${plural(orphans.length, 'class', 'classes')} of ${classes.length} ${orphans.length === 1 ? 'has' : 'have'} none: ${orphans.slice(0, EXAMPLES).map((c) => `'${c.name}'`).join(', ')}${orphans.length > EXAMPLES ? ', ...' : ''}` });
  }
  const index = categoryIndex(categories);
  const strata = [...new Set(classes.map((c) => c.parent))].sort((a, b) => rank(a, index) - rank(b, index) || compare(a ?? '', b ?? ''));
  const sizes = strata.map((p) => classes.filter((c) => c.parent === p).length);
  let wanted = request.fraction !== undefined ? Math.max(1, Math.round(request.fraction * classes.length)) : request.classes ?? classes.length;
  if (wanted > classes.length) {
    ctx.reporter.warn({ code: 'too-few-classes', file: request.input, message: `split: --classes ${wanted} asked, but only ${plural(classes.length, 'class has', 'classes have')} 2 or more images; all of them are taken` });
    wanted = classes.length;
  }
  // calib's allocation (one sampler): names keyed by position, so a parent named like none cannot meet the parentless
  const keys = strata.map((p, k) => `${k}:${p ?? ''}`);
  const places = allocate(keys.map((name, k) => ({ name, size: sizes[k] })), wanted, seed);
  const seats = keys.map((key) => places.get(key)!);
  const picked = pickClasses(classes, strata, seats, seed);

  // classes in category order, items by path: the same files whatever the input order
  const chosen = eligible.filter((_, i) => picked.has(i)).flatMap((l) => byClass.get(l)!.sort((a, b) => compare(a.path, b.path)));
  const nameOf = new Map(chosen.map((item) => [item.path, categories[item.label].name]));
  await writeAtomically(output, request.overwrite ?? false, (dir) => writeOutput(dir, chosen, categories, nameOf, request.saveMedia ?? true, ctx));

  return {
    task: 'retrieval', seed,
    classes: { eligible: eligible.length, chosen: picked.size, dropped: small.length },
    items: chosen.length,
    parents: strata.map((p, k) => ({ name: p ?? null, eligible: sizes[k], chosen: seats[k] })),
    output,
  };
}

/** Plain code-unit order: the same on every machine and locale. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A parent's place: its category's index, then parents that are no category, then classes without a parent. */
function rank(parent: string | undefined, index: Map<string, number>): number {
  return parent === undefined ? index.size + 1 : index.get(parent) ?? index.size;
}

/**
 * The items with exactly one class, of `subset` when given. Ids that occur in several subsets of the
 * pool get their subset as a folder (`val/1`), so no two items share an image path in the SOP layout.
 */
async function readPool(items: AsyncIterable<Item> | Iterable<Item>, categories: Category[], request: RetrievalSplitRequest, ctx: Context): Promise<PoolItem[]> {
  const pool: Omit<PoolItem, 'path'>[] = [];
  const unclassed: string[] = [];
  const subsets = new Map<string, number>();
  let read = 0;
  for await (const item of items) {
    ctx.progress('split: reading items', ++read);
    subsets.set(item.subset, (subsets.get(item.subset) ?? 0) + 1);
    if (request.subset !== undefined && item.subset !== request.subset) continue;
    const labels = item.annotations.filter((a) => a.type === 'label');
    const label = labels[0]?.label;
    if (labels.length !== 1 || label === undefined || label >= categories.length) { unclassed.push(item.subset ? `${item.subset}/${item.id}` : item.id); continue; }
    pool.push({ id: item.id, subset: item.subset, image: item.image, label });
  }
  if (request.subset !== undefined && !subsets.has(request.subset)) {
    const list = [...subsets].map(([s, n]) => `${s || '(none)'} ${n}`).join(', ') || 'no items';
    throw new DatumError({ code: 'subset-missing', file: request.input, message: `the dataset has no subset '${request.subset}' (it has ${list})` });
  }
  const test = [...subsets.keys()].sort().find(isTestSubset);
  if (request.subset === undefined && subsets.size > 1 && test !== undefined) {
    const names = [...subsets.keys()].sort().map((s) => s || '(none)').join(', ');
    ctx.reporter.info({ code: 'pool-spans-subsets', file: request.input, message: `split: the classes are drawn from every subset (${names}); to evaluate on unseen classes only, add --subset ${test}` });
  }
  if (unclassed.length) {
    ctx.reporter.warn({ code: 'item-class', file: request.input, message: `split: ${plural(unclassed.length, 'item')} without exactly one class (label annotation) left out: ${unclassed.slice(0, EXAMPLES).map((id) => `'${id}'`).join(', ')}${unclassed.length > EXAMPLES ? ', ...' : ''}` });
  }

  const firstSubset = new Map<string, string>();
  const shared = new Set<string>();
  for (const p of pool) {
    const first = firstSubset.get(p.id);
    if (first === undefined) firstSubset.set(p.id, p.subset);
    else if (first !== p.subset) shared.add(p.id);
  }
  let renamed = 0;
  const withPaths = pool.map((p) => {
    const rename = shared.has(p.id);
    if (rename) renamed++;
    // the SOP lists hold the path as the importer reads it back: `/` only, no `.` or empty segments
    const id = normalizeId(rename ? `${p.subset || 'none'}/${p.id}` : p.id);
    return { ...p, id, path: imageFileName({ id, subset: p.subset, image: p.image, annotations: [] }) };
  });
  if (renamed) ctx.reporter.info({ code: 'id-in-several-subsets', file: request.input, message: `split: ${plural(renamed, 'item')} whose id is in several subsets got the subset as a folder (val/1) in the output` });

  // the SOP lists split on whitespace, and one path can hold one image
  const count = new Map<string, number>();
  for (const p of withPaths) count.set(p.path, (count.get(p.path) ?? 0) + 1);
  const refused = new Set(withPaths.filter((p) => /\s/.test(p.path) || count.get(p.path)! > 1));
  if (refused.size) {
    ctx.reporter.warn({ code: 'unlistable-path', file: request.input, message: `split: ${plural(refused.size, 'item')} left out whose image path holds whitespace or is another item's too (SOP lists cannot hold them): ${[...refused].slice(0, EXAMPLES).map((p) => `'${p.path}'`).join(', ')}${refused.size > EXAMPLES ? ', ...' : ''}` });
  }
  return withPaths.filter((p) => !refused.has(p));
}

/** `a\\b`, `./x`, `d//e` as `a/b`, `x`, `d/e`; a `..` that leads out stays, for the exporter to refuse. */
function normalizeId(id: string): string {
  return path.posix.normalize(id.replace(/\\/g, '/')).replace(/^(\.\/)+/, '');
}

/**
 * The SOP layout first, then everything else from what the sop importer reads back of it, so that
 * retrieval.csv, the lists and order.txt agree with what `datum eval recall` will read.
 */
async function writeOutput(dir: string, chosen: PoolItem[], categories: Category[], nameOf: Map<string, string>, saveMedia: boolean, ctx: Context): Promise<void> {
  const sop = getFormat('sop', 'export');
  const root = path.join(dir, SOP_DIR);
  await fsp.mkdir(root);
  const items: Item[] = chosen.map((p) => ({ id: p.id, subset: 'test', image: p.image, annotations: [{ type: 'label', label: p.label }] }));
  await sop.export!({ categories, items }, root, { 'save-media': saveMedia }, ctx);

  // its own reporter: what it says of super-class folders (a class without a parent in several) is no news
  const back = await collect(await sop.import!(root, {}, { reporter: new Reporter(), progress: () => {} }));
  const test = back.items.filter((i) => i.subset === 'test');
  const rows = test.map((i) => ({ path: toPosixRelative(root, i.image!.path), classId: back.categories[i.annotations[0].label!].id! }));
  if (rows.length !== chosen.length || rows.some((r) => !nameOf.has(r.path))) {
    throw new Error(`retrieval split: the SOP layout written reads back as ${rows.length} test items, not the ${chosen.length} chosen`);
  }
  const csv = [CSV_HEADER, ...rows.map((r) => [nameOf.get(r.path)!, r.path, 'test', 'true', 'true'].map(csvField).join(','))];
  const list = rows.map((r) => `${r.path} ${r.classId}`);
  const write = async (name: string, lines: string[]) => {
    await fsp.mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await fsp.writeFile(path.join(dir, name), lines.map((l) => l + '\n').join(''));
  };
  await write(RETRIEVAL_FILES.csv, csv);
  await write(RETRIEVAL_FILES.queries, list);
  await write(RETRIEVAL_FILES.gallery, list);
  await write(RETRIEVAL_FILES.order, rows.map((r) => r.path));
}
