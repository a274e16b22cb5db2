import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Annotation, Category, Dataset, Item } from '../../src/model.js';
import type { Context, Options } from '../../src/plugin.js';
import { DatumError, type Diagnostic } from '../../src/diagnostics.js';
import { resolveInside, stripExtension } from '../../src/paths.js';
import { parseElement, scanTopLevel, type XmlNode } from './xml.js';
import { parseMeta, type CvatMeta, type CvatTask } from './meta.js';
import { LabelTable, parseShape, ShapeProblem, SHAPE_NAMES } from './shapes.js';

const MAX_WARNINGS_PER_CODE = 50;
/** A task range longer than this is not a real video (a typo in stop_frame): its empty frames are not made up. */
const MAX_TASK_FRAMES = 1_000_000;

/** One annotation XML and what its head (<meta> and first element) says about it. */
interface Source {
  file: string;
  meta?: CvatMeta;
  /** Tracks (CVAT for video) need every element read before a frame is complete. */
  video: boolean;
  /** A CVAT for video export (tracks, no <image> elements): every frame of its tasks is an item. */
  videoExport: boolean;
  /** Subset of items whose <image> has no subset attribute; never '' (`default`). */
  subset: string;
}

/** Imports CVAT for images / for video 1.1: a folder with *.xml files (and images/), or one XML file. */
export async function importCvat(input: string, _options: Options, ctx: Context): Promise<Dataset> {
  const files = await findXmlFiles(input);
  const sources: Source[] = [];
  for (const file of files) {
    try {
      sources.push(await readHead(file, ctx));
    } catch (error) {
      // Other XML beside the annotations (a VOC file, a config) is not ours; a lone file must be.
      if (!(error instanceof DatumError && error.diagnostic.code === 'not-cvat' && files.length > 1)) throw error;
      const { severity: _, ...where } = error.diagnostic;
      ctx.reporter.warn({ ...where, message: `${where.message}; file ignored` });
    }
  }
  if (sources.length === 0) throw new DatumError({ code: 'no-annotations', file: input, message: 'no CVAT .xml annotation file (with an <annotations> root) in this folder' });
  const categories: Category[] = [];
  for (const source of sources) {
    // A <meta> that declares no labels at all cannot be right when shapes have labels: take them from the shapes.
    const fromMeta = source.meta && source.meta.kind !== 'none' && source.meta.categories.length > 0;
    const declared = fromMeta ? source.meta!.categories : await collectLabels(source.file);
    if (source.meta && !fromMeta && declared.length > 0) {
      ctx.reporter.warn({ code: 'no-labels', file: source.file, element: '<meta>', message: '<meta> declares no labels: labels are taken from the shapes, without attribute specs' });
    }
    mergeCategories(categories, declared);
  }
  const labels = new LabelTable(categories);
  return { categories, items: readAll(sources, labels, ctx) };
}

async function* readAll(sources: Source[], labels: LabelTable, ctx: Context): AsyncGenerator<Item> {
  const seen = new Set<string>();
  let done = 0;
  for (const source of sources) {
    for await (const item of new FileReader(source, labels, ctx).items()) {
      const key = `${item.subset}\0${item.id}`;
      if (seen.has(key)) {
        ctx.reporter.warn({ code: 'duplicate-item', file: source.file, item: item.id, message: `item '${item.id}' appears twice in subset '${item.subset}'; the second one (${item.annotations.length} annotations) is skipped` });
        continue;
      }
      seen.add(key);
      yield item;
      if (++done % 1000 === 0) ctx.progress('cvat: reading items', done);
    }
  }
}

/** Reads the items of one XML file. */
class FileReader {
  private readonly root: string;
  private readonly imagesDir: string;
  private readonly subsetDirs = new Map<string, string>();
  private readonly frames = new Map<string, Item>();
  /** Frames (subset + id) an <image> element has already filled. */
  private readonly imageFrames = new Set<string>();
  private readonly warned = new Set<string>();
  /** Item-id prefix of tasks whose frames would share frame_NNNNNN ids with another task of their subset. */
  private readonly prefixes = new Map<CvatTask, string>();
  /** Task (1-based position in <meta>) of each prefixed frame item, to keep a task's frames together in the output. */
  private readonly frameGroup = new Map<Item, number>();
  /** File names in an images folder, read once, to find video frames without a stat per frame. */
  private readonly listings = new Map<string, Set<string>>();
  private emptyLabels = 0;
  private firstEmptyLabelLine?: number;
  /** Warnings so far by code: a big file with one systematic problem must not print a million lines. */
  private readonly warnings = new Map<string, number>();

  constructor(private readonly source: Source, private readonly labels: LabelTable, private readonly ctx: Context) {
    this.root = path.dirname(source.file);
    // Through resolveInside: an images/ that is a symlink out of the dataset is refused, not followed.
    this.imagesDir = resolveInside(this.root, 'images', { file: path.join(this.root, 'images') });
    this.namePrefixes();
  }

  /**
   * Several video tasks of one project subset all number their frames frame_000000...: their frames
   * become `<task name>/frame_NNNNNN` (`task_<id>/...` when names are missing or alike) instead of
   * merging different videos into one item. Such ids round-trip: CVAT for images writes them as names.
   */
  private namePrefixes(): void {
    const bySubset = new Map<string, CvatTask[]>();
    for (const task of this.source.meta?.tasks ?? []) {
      if (!this.source.videoExport && !task.interpolation) continue; // images of image tasks have their own names
      const subset = task.subset || this.source.subset;
      bySubset.set(subset, [...(bySubset.get(subset) ?? []), task]);
    }
    for (const [subset, tasks] of bySubset) {
      if (tasks.length < 2) continue;
      const names = tasks.map((t) => (t.name ?? '').replace(/[/\\\x00-\x1f]/g, '_').trim());
      tasks.forEach((task, i) => {
        const name = names[i];
        const usable = name !== '' && !/^\.+$/.test(name) && names.indexOf(name) === names.lastIndexOf(name);
        this.prefixes.set(task, usable ? name : `task_${task.id ?? i}`);
      });
      this.ctx.reporter.info({ code: 'task-frames', file: this.source.file, message: `subset '${subset}' holds ${tasks.length} video tasks numbering their frames alike; their items are named <task>/frame_NNNNNN (${tasks.map((t) => this.prefixes.get(t)).join(', ')})` });
    }
  }

  /** The task an element belongs to: its task_id, else the only task of the file. */
  private taskOf(taskId: string | undefined): CvatTask | undefined {
    const tasks = this.source.meta?.tasks ?? [];
    if (taskId !== undefined && taskId !== '') return tasks.find((t) => t.id === taskId.trim());
    return tasks.length === 1 ? tasks[0] : undefined;
  }

  async *items(): AsyncGenerator<Item> {
    const { file } = this.source;
    for await (const raw of scanTopLevel(file)) {
      if (raw.name === 'version' || raw.name === 'meta') continue;
      const node = parseElement(raw, file);
      if (node.name === 'image') {
        const item = this.imageItem(node);
        if (!item) continue;
        if (this.source.video) this.mergeFrame(item, node);
        else yield item;
      } else if (node.name === 'track') {
        this.addTrack(node);
      } else if (!this.warned.has(node.name)) {
        this.warned.add(node.name);
        this.warn({ code: 'unknown-element', line: node.line, element: `<${node.name}>`, message: `<${node.name}> under <annotations> is not part of CVAT 1.1; ignored` });
      }
    }
    if (this.source.video) this.addUnannotatedFrames();
    const group = (item: Item) => this.frameGroup.get(item) ?? 0;
    yield* [...this.frames.values()].sort((a, b) => group(a) - group(b) || frameOf(a) - frameOf(b) || a.subset.localeCompare(b.subset));
    if (this.emptyLabels > 0) {
      this.ctx.reporter.warn({ code: 'empty-label', file, line: this.firstEmptyLabelLine, message: `${this.emptyLabels} shape(s) have label=""; imported without a label` });
    }
    for (const [code, count] of this.warnings) {
      if (count > MAX_WARNINGS_PER_CODE) this.ctx.reporter.warn({ code, file, message: `${count - MAX_WARNINGS_PER_CODE} more '${code}' warnings in this file were not shown` });
    }
  }

  private warn(d: Omit<Diagnostic, 'severity' | 'file'>): void {
    const count = (this.warnings.get(d.code) ?? 0) + 1;
    this.warnings.set(d.code, count);
    if (count <= MAX_WARNINGS_PER_CODE) this.ctx.reporter.warn({ file: this.source.file, ...d });
  }

  /** An <image> element -> item with its shapes and tags. */
  private imageItem(node: XmlNode): Item | null {
    const where = `<image${node.attrs.id !== undefined ? ` id="${node.attrs.id}"` : ''}${node.attrs.name !== undefined ? ` name="${node.attrs.name}"` : ''}>`;
    let name = (node.attrs.name ?? '').replace(/\\/g, '/');
    if (name === '') {
      const frame = Number(node.attrs.id);
      if (!Number.isInteger(frame)) {
        this.warn({ code: 'bad-image', line: node.line, element: where, message: '<image> has neither a name nor a numeric id; skipped' });
        return null;
      }
      name = frameName(frame);
      this.warn({ code: 'bad-image', line: node.line, element: where, message: `<image> has no name; named ${name}` });
    }
    const subset = node.attrs.subset || this.source.subset;
    const task = this.taskOf(node.attrs.task_id);
    const prefix = task && this.prefixes.get(task);
    const id = (prefix ? `${prefix}/` : '') + stripExtension(name.replace(/^(\.\/)+/, ''));
    let imagePath = this.inside(this.subsetDir(node.attrs.subset, node.line), name, where, node.line);
    // CVAT names the frames of a video task frame_000010 but writes frame_000010.png.
    if (stripExtension(name) === name && !fs.existsSync(imagePath)) imagePath = this.findWithExtension(imagePath) ?? imagePath;
    const item: Item = { id, subset, image: { path: imagePath }, annotations: [] };
    const width = Number(node.attrs.width), height = Number(node.attrs.height);
    if (Number.isInteger(width) && width > 0 && Number.isInteger(height) && height > 0) {
      item.image!.width = width;
      item.image!.height = height;
    } else {
      this.warn({ code: 'bad-size', line: node.line, element: where, item: id, message: `width="${node.attrs.width ?? ''}" height="${node.attrs.height ?? ''}" is not an image size; the size is left unknown` });
    }
    for (const shape of node.children) {
      if (shape.name === 'attribute') continue;
      const annotation = this.shape(shape, shape.attrs, `${where} <${shape.name}>`, id, shape.line ?? node.line);
      if (annotation) item.annotations.push(annotation);
    }
    return item;
  }

  /** A <track>: each visible shape becomes an annotation on its frame's item. */
  private addTrack(track: XmlNode): void {
    const where = `<track id="${track.attrs.id ?? ''}" label="${track.attrs.label ?? ''}">`;
    const trackId = Number(track.attrs.id);
    const labelName = track.attrs.label ?? '';
    const known = labelName === '' || this.labels.find(labelName) !== undefined;
    if (!known) throw new DatumError({ code: 'unknown-label', file: this.source.file, line: track.line, element: where, message: `label '${labelName}' is not declared in <meta>` });
    const task = this.taskOf(track.attrs.task_id);
    const subset = track.attrs.subset || task?.subset || this.source.subset;
    for (const shape of skeletonFrames(track)) {
      if (shape.name === 'attribute') continue;
      const line = shape.line ?? track.line;
      const frame = Number(shape.attrs.frame);
      if (!Number.isInteger(frame) || frame < 0) {
        this.warn({ code: 'bad-frame', line, element: `${where} <${shape.name}>`, message: `frame="${shape.attrs.frame ?? ''}" is not a frame number; shape skipped` });
        continue;
      }
      const item = this.frameItem(frame, subset, task);
      if (shape.attrs.outside === '1') continue;
      const attrs = { ...shape.attrs, label: track.attrs.label ?? '', group_id: track.attrs.group_id ?? '' };
      const annotation = this.shape(shape, attrs, `${where} <${shape.name} frame="${frame}">`, item.id, line);
      if (!annotation) continue;
      // A skeleton track marks its points outside one by one; with all of them outside it is not visible.
      if (annotation.type === 'skeleton' && annotation.visibility.every((v) => v === 0)) continue;
      if (Number.isInteger(trackId)) annotation.track = trackId;
      item.annotations.push(annotation);
    }
  }

  /** The item of a video frame, created on first use; CVAT names frames frame_000010. */
  private frameItem(frame: number, subset: string, task: CvatTask | undefined): Item {
    const prefix = (task && this.prefixes.get(task)) ?? '';
    const key = `${subset}\0${prefix}\0${frame}`;
    let item = this.frames.get(key);
    if (!item) {
      const name = frameName(frame);
      item = { id: prefix ? `${prefix}/${name}` : name, subset, image: { path: this.frameImagePath(name, subset, prefix) }, annotations: [], attributes: { frame } };
      const size = task?.frameSize ?? this.source.meta?.frameSize;
      if (size) Object.assign(item.image!, size);
      this.frames.set(key, item);
      if (prefix) this.frameGroup.set(item, this.source.meta!.tasks.indexOf(task!) + 1);
    }
    return item;
  }

  /** An <image> in a video export: its name and size win over the frame defaults. */
  private mergeFrame(image: Item, node: XmlNode): void {
    const frame = Number(node.attrs.id);
    const task = this.taskOf(node.attrs.task_id);
    const key = `${image.subset}\0${(task && this.prefixes.get(task)) ?? ''}\0${frame}`;
    // A second <image> with the same id is another task of a project export (ids restart per task), not the same frame.
    if (!Number.isInteger(frame) || this.imageFrames.has(key)) { this.frames.set(`${image.subset}\0${image.id}\0image`, image); return; }
    this.imageFrames.add(key);
    const item = this.frameItem(frame, image.subset, task);
    item.id = image.id;
    item.image = image.image;
    item.annotations.unshift(...image.annotations);
  }

  /**
   * Every frame of each task is an item, with shapes or not (CVAT for video lists only the shapes);
   * in a CVAT for images export only video tasks' frames are numbered (image tasks' items are their <image>s).
   */
  private addUnannotatedFrames(): void {
    for (const task of this.source.meta?.tasks ?? []) {
      const range = task.frames;
      if (!range || (!this.source.videoExport && !task.interpolation)) continue;
      if (range.count > MAX_TASK_FRAMES) {
        this.warn({ code: 'bad-frame-range', element: '<meta>', message: `the task${task.name ? ` '${task.name}'` : ''} has ${range.count} frames, more than ${MAX_TASK_FRAMES}; only frames with shapes are imported` });
        continue;
      }
      const subset = task.subset || this.source.subset;
      for (let i = 0; i < range.count; i++) this.frameItem(range.start + i * range.step, subset, task);
    }
  }

  /** images/<subset>/[<task>/]frame_NNNNNN.<ext> where it exists, else the .png CVAT would have written. */
  private frameImagePath(name: string, subset: string, prefix = ''): string {
    const dir = this.subsetDir(subset || undefined, undefined);
    const own = prefix ? this.findWithExtension(this.inside(dir, `${prefix}/${name}`, `<task> '${prefix}'`, undefined)) : undefined;
    return own ?? this.findFrameImage(name, subset) ?? path.join(dir, name + '.png');
  }

  /** The exported image of a frame (CVAT writes .png frames; other tools .jpg), if it exists. */
  private findFrameImage(name: string, subset: string): string | undefined {
    return this.findWithExtension(path.join(this.subsetDir(subset || undefined, undefined), name));
  }

  /** `file` + the first image extension that exists beside it (listing each folder once). */
  private findWithExtension(file: string): string | undefined {
    const dir = path.dirname(file);
    let files = this.listings.get(dir);
    if (!files) {
      files = new Set(fs.existsSync(dir) ? fs.readdirSync(dir) : []);
      this.listings.set(dir, files);
    }
    const base = path.basename(file);
    const ext = ['.png', '.jpg', '.jpeg', '.bmp'].find((e) => files.has(base + e));
    // The file found by listing goes through resolveInside too: a frame that is a symlink out of the dataset is refused.
    return ext ? this.inside(dir, base + ext, `image '${base + ext}'`, undefined) : undefined;
  }

  /** images/<Subset>/ in project exports when that folder exists, else images/. */
  private subsetDir(subset: string | undefined, line: number | undefined): string {
    if (!subset) return this.imagesDir;
    let dir = this.subsetDirs.get(subset);
    if (dir === undefined) {
      const candidate = this.inside(this.imagesDir, subset, `subset="${subset}"`, line);
      dir = fs.existsSync(candidate) ? candidate : this.imagesDir;
      this.subsetDirs.set(subset, dir);
    }
    return dir;
  }

  /** resolveInside, with the line of the offending element in the error. */
  private inside(root: string, relative: string, element: string, line: number | undefined): string {
    try {
      return resolveInside(root, relative, { file: this.source.file, element });
    } catch (error) {
      if (!(error instanceof DatumError)) throw error;
      throw new DatumError({ ...error.diagnostic, line });
    }
  }

  /**
   * One shape element -> annotation, or null after a warning (unsupported kind, broken mask). A label
   * missing from <meta> or a coordinate that is not a number is corrupt input, not mess: an error.
   */
  private shape(node: XmlNode, attrs: Record<string, string>, element: string, item: string, line: number | undefined): Annotation | null {
    if (!SHAPE_NAMES.has(node.name)) {
      this.warn({ code: 'unsupported-shape', line, element, item, message: `<${node.name}> is not supported; skipped` });
      return null;
    }
    const labelName = attrs.label ?? '';
    let label = this.labels.find(labelName);
    if (label === undefined) {
      if (labelName !== '') {
        throw new DatumError({ code: 'unknown-label', file: this.source.file, line, element, item, message: `label '${labelName}' is not declared in <meta>` });
      }
      this.emptyLabels++;
      this.firstEmptyLabelLine ??= line;
    }
    try {
      return parseShape(attrs === node.attrs ? node : { ...node, attrs }, label, this.labels);
    } catch (error) {
      if (!(error instanceof ShapeProblem)) throw error;
      if (FATAL_PROBLEMS.has(error.code)) throw new DatumError({ code: error.code, file: this.source.file, line, element, item, message: error.message });
      this.warn({ code: error.code, line, element, item, message: `${error.message}; shape skipped` });
      return null;
    }
  }
}

const FATAL_PROBLEMS = new Set(['bad-coordinate']);

/**
 * The shapes of a track, with skeleton keypoints in one layout: CVAT writes a skeleton track either
 * as <skeleton frame=".."> elements holding <points label="kp">, or as one nested <track label="kp">
 * per keypoint holding <points frame="..">. The nested form becomes one <skeleton> per frame, merged
 * with a <skeleton> element of the same frame where both are present.
 */
function skeletonFrames(track: XmlNode): XmlNode[] {
  const nested = track.children.filter((c) => c.name === 'track');
  if (nested.length === 0) return track.children;
  const shapes = track.children.filter((c) => c.name !== 'track');
  const byFrame = new Map<string, XmlNode>();
  for (const s of shapes) if (s.name === 'skeleton' && s.attrs.frame !== undefined) byFrame.set(s.attrs.frame.trim(), { ...s, children: [...s.children] });
  for (const keypoint of nested) {
    for (const p of keypoint.children) {
      if (p.name !== 'points') continue;
      const frame = (p.attrs.frame ?? '').trim();
      let skeleton = byFrame.get(frame);
      if (!skeleton) {
        skeleton = { name: 'skeleton', attrs: { frame, z_order: p.attrs.z_order ?? '0' }, children: [], text: '', line: keypoint.line };
        byFrame.set(frame, skeleton);
      }
      const label = keypoint.attrs.label ?? '';
      if (!skeleton.children.some((c) => c.name === 'points' && c.attrs.label === label)) {
        skeleton.children.push({ ...p, attrs: { ...p.attrs, label }, line: p.line ?? keypoint.line });
      }
    }
  }
  const frames = [...byFrame.values()].sort((a, b) => Number(a.attrs.frame) - Number(b.attrs.frame));
  return [...shapes.filter((s) => !(s.name === 'skeleton' && s.attrs.frame !== undefined)), ...frames];
}

function frameName(frame: number): string {
  return `frame_${String(frame).padStart(6, '0')}`;
}

function frameOf(item: Item): number {
  const frame = item.attributes?.frame;
  return typeof frame === 'number' ? frame : Number.MAX_SAFE_INTEGER;
}

/** The XML files of a folder (sorted), or the file itself. */
async function findXmlFiles(input: string): Promise<string[]> {
  const stat = await fsp.stat(input);
  if (!stat.isDirectory()) return [path.resolve(input)];
  // Files only: a folder named *.xml is not an annotation file.
  const names = (await fsp.readdir(input, { withFileTypes: true }))
    .filter((d) => !d.isDirectory() && d.name.toLowerCase().endsWith('.xml')).map((d) => d.name).sort();
  if (names.length === 0) throw new DatumError({ code: 'no-annotations', file: input, message: 'no CVAT .xml annotation file in this folder' });
  // A *.xml symlink that leads out of the folder is refused like ../
  return names.map((n) => resolveInside(input, n, { file: path.resolve(input, n) }));
}

/** Reads <meta> (it comes first) and peeks at the first data element. */
async function readHead(file: string, ctx: Context): Promise<Source> {
  let meta: CvatMeta | undefined;
  let firstElement: string | undefined;
  for await (const raw of scanTopLevel(file)) {
    if (raw.name === 'version') continue;
    if (raw.name === 'meta') {
      meta = parseMeta(parseElement(raw, file), (code, message, line) => ctx.reporter.warn({ code, file, line, element: '<meta>', message }));
      continue;
    }
    firstElement = raw.name;
    break;
  }
  if (!meta) ctx.reporter.warn({ code: 'no-meta', file, message: 'no <meta>: labels are taken from the shapes, without attribute specs' });
  const stem = path.basename(file).replace(/\.xml$/i, '');
  // Datumaro names a task export's subset after its file (train.xml -> train); CVAT always writes
  // annotations.xml, which means no subset: Datumaro's `default`, as for a project task without one.
  const subset = meta?.taskSubset ?? (['annotations', 'default', ''].includes(stem.toLowerCase()) ? 'default' : stem);
  // CVAT for video writes only <track>s: without any <image>, a task's frames still are its items.
  const videoExport = firstElement !== 'image' && (meta?.tasks.some((t) => t.frames) ?? false);
  return { file, meta, video: Boolean(meta?.interpolation) || firstElement === 'track' || videoExport, videoExport: videoExport || firstElement === 'track', subset };
}

/**
 * Without <meta>, labels are the names shapes use, in order of first use; a skeleton's keypoints are
 * the labels of its <points> children (otherwise every skeleton shape would be skipped).
 */
async function collectLabels(file: string): Promise<Category[]> {
  const names: string[] = [];
  const seen = new Set<string>(['']);
  const keypoints = new Map<string, string[]>();
  const visit = (node: XmlNode, track?: string) => {
    const name = node.attrs.label ?? (node.name === 'skeleton' ? track : undefined);
    if ((SHAPE_NAMES.has(node.name) || node.name === 'track') && name !== undefined && !seen.has(name)) {
      seen.add(name);
      names.push(name);
    }
    if (node.name === 'skeleton' && name !== undefined) {
      const list = keypoints.get(name) ?? [];
      keypoints.set(name, list);
      for (const c of node.children) {
        if (c.name === 'points' && c.attrs.label !== undefined && !list.includes(c.attrs.label)) list.push(c.attrs.label);
      }
      return;
    }
    // A skeleton track of the nested layout: one <track label="keypoint"> per keypoint.
    const nested = node.name === 'track' ? node.children.filter((c) => c.name === 'track' && c.attrs.label !== undefined) : [];
    if (nested.length > 0 && name !== undefined) {
      const list = keypoints.get(name) ?? [];
      keypoints.set(name, list);
      for (const c of nested) if (!list.includes(c.attrs.label!)) list.push(c.attrs.label!);
    }
    node.children.forEach((c) => { if (!nested.includes(c)) visit(c, node.name === 'track' ? node.attrs.label : undefined); });
  };
  for await (const raw of scanTopLevel(file)) {
    if (raw.name === 'image' || raw.name === 'track') visit(parseElement(raw, file));
  }
  const categories: Category[] = names.map((name) => (keypoints.has(name) ? { name, keypoints: keypoints.get(name)! } : { name }));
  for (const [parent, list] of keypoints) for (const name of list) categories.push({ name, parent });
  return categories;
}

/** Adds categories not yet present (by name and parent); files of one export declare the same labels. */
function mergeCategories(into: Category[], more: Category[]): void {
  for (const c of more) {
    if (!into.some((e) => e.name === c.name && e.parent === c.parent)) into.push(c);
  }
}
