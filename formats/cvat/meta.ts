import type { AttributeSpec, Category } from '../../src/model.js';
import { child, childText, decodeEntities, type XmlNode } from './xml.js';

/** What <meta> tells the importer. */
export interface CvatMeta {
  categories: Category[];
  /** `project` exports hold several subsets; `task`/`job` exports one. */
  kind: 'project' | 'task' | 'job' | 'none';
  /** <mode>interpolation</mode>: a CVAT for video export. */
  interpolation: boolean;
  /** The task's own <subset>, for task exports. */
  taskSubset?: string;
  /** <original_size>: the frame size of a video task. */
  frameSize?: { width: number; height: number };
  /** The task of a task export, the job of a job export, each task of a project export. */
  tasks: CvatTask[];
}

/** One task (or job) as <meta> describes it. */
export interface CvatTask {
  id?: string;
  name?: string;
  /** <subset>, '' when the task has none. */
  subset: string;
  interpolation: boolean;
  frameSize?: { width: number; height: number };
  /** The frames: CVAT numbers them start, start + step, ... (`count` of them, up to stop). */
  frames?: FrameRange;
}

export interface FrameRange { start: number; step: number; count: number }

/** Reads categories and export facts from <meta>; `warn` reports oddities without stopping. */
export function parseMeta(meta: XmlNode, warn: (code: string, message: string, line?: number) => void): CvatMeta {
  const project = child(meta, 'project');
  const task = child(meta, 'task');
  const job = child(meta, 'job');
  const owner = project ?? task ?? job;
  const kind = project ? 'project' : task ? 'task' : job ? 'job' : 'none';
  const labels = child(owner, 'labels') ?? findFirst(owner ?? meta, 'labels');
  const categories = labels ? parseLabels(labels, warn) : [];
  const mode = findFirst(meta, 'mode')?.text.trim();
  const size = findFirst(meta, 'original_size');
  let frameSize: CvatMeta['frameSize'];
  if (size) {
    const width = Number(childText(size, 'width'));
    const height = Number(childText(size, 'height'));
    if (width > 0 && height > 0) frameSize = { width, height };
    else warn('bad-size', '<original_size> has no usable width and height; frame sizes are unknown', size.line);
  }
  const taskSubset = task ? childText(task, 'subset')?.trim() || undefined : undefined;
  const taskNodes = project ? child(project, 'tasks')?.children.filter((c) => c.name === 'task') ?? [] : task ? [task] : job ? [job] : [];
  const tasks = taskNodes.map((t): CvatTask => {
    const own = child(t, 'original_size');
    const ownSize = own && { width: Number(childText(own, 'width')), height: Number(childText(own, 'height')) };
    return {
      id: childText(t, 'id')?.trim() || undefined,
      name: childText(t, 'name')?.trim() || undefined,
      subset: childText(t, 'subset')?.trim() ?? '',
      interpolation: (childText(t, 'mode')?.trim() ?? mode) === 'interpolation',
      frameSize: ownSize && ownSize.width > 0 && ownSize.height > 0 ? ownSize : frameSize,
      frames: frameRange(t, (message) => warn('bad-frame-range', message, t.line)),
    };
  });
  return { categories, kind, interpolation: mode === 'interpolation', taskSubset, frameSize, tasks };
}

/**
 * start_frame..stop_frame every `step` of frame_filter; without a stop, <size> frames. A <size>
 * that disagrees with the range is reported, and the range wins: it names the frames themselves.
 */
function frameRange(task: XmlNode, warn: (message: string) => void): FrameRange | undefined {
  const start = integer(childText(task, 'start_frame')) ?? 0;
  const stop = integer(childText(task, 'stop_frame'));
  const size = integer(childText(task, 'size'));
  const step = Number(/step\s*=\s*(\d+)/.exec(childText(task, 'frame_filter') ?? '')?.[1] ?? 1);
  if (start < 0 || !(step >= 1) || (stop !== undefined && stop < start)) {
    warn(`start_frame ${start}, stop_frame ${stop}, step ${step} is not a frame range; frames without shapes are not imported`);
    return undefined;
  }
  if (stop === undefined) return size !== undefined && size > 0 ? { start, step, count: size } : undefined;
  const count = Math.floor((stop - start) / step) + 1;
  if (size !== undefined && size !== count) warn(`<size> ${size} does not match frames ${start}..${stop} step ${step} (${count} frames); the range is used`);
  return { start, step, count };
}

function integer(text: string | undefined): number | undefined {
  const n = text?.trim() ? Number(text) : NaN;
  return Number.isInteger(n) ? n : undefined;
}

function parseLabels(labels: XmlNode, warn: (code: string, message: string, line?: number) => void): Category[] {
  const categories: Category[] = [];
  const svgs = new Map<string, string>();
  /** <type> of each top-level label, where it has one. */
  const types = new Map<string, string>();
  for (const label of labels.children.filter((c) => c.name === 'label')) {
    const name = childText(label, 'name') ?? '';
    if (categories.some((c) => c.name === name && c.parent === (childText(label, 'parent') || undefined))) {
      warn('duplicate-label', `label '${name}' is declared twice in <meta>; the second is ignored`, label.line);
      continue;
    }
    const category: Category = { name };
    const parent = childText(label, 'parent');
    if (parent) category.parent = parent;
    const color = parseColor(childText(label, 'color'));
    if (color) category.color = color;
    const attributes = child(label, 'attributes')?.children.filter((c) => c.name === 'attribute').map(parseAttributeSpec) ?? [];
    if (attributes.length > 0) category.attributes = attributes;
    const type = childText(label, 'type')?.trim();
    if (type && !parent) types.set(name, type);
    if (type === 'skeleton') {
      category.keypoints = [];
      const svg = childText(label, 'svg');
      if (svg) svgs.set(name, svg);
    }
    categories.push(category);
  }
  // Sub-labels list their skeleton as <parent>; the skeleton's keypoints are its sub-labels in order.
  for (const sub of categories) {
    if (sub.parent === undefined) continue;
    const skeleton = categories.find((c) => c.name === sub.parent && c.parent === undefined);
    if (!skeleton) { warn('unknown-parent', `label '${sub.name}' names an unknown parent '${sub.parent}'`); continue; }
    // A parent typed as something else (Datumaro's VOC parts, <type>any</type>) keeps its sub-labels as
    // plain labels; only skeletons, or untyped parents of older exports, have keypoints.
    const parentType = types.get(skeleton.name);
    if (parentType !== undefined && parentType !== 'skeleton') continue;
    (skeleton.keypoints ??= []).push(sub.name);
  }
  for (const [name, svg] of svgs) {
    // A sub-label typed skeleton (messy meta) has no top-level category to hold the edges.
    const skeleton = categories.find((c) => c.name === name && c.parent === undefined);
    if (!skeleton) continue;
    const edges = parseSkeletonSvg(svg, skeleton.keypoints ?? []);
    if (edges.length > 0) skeleton.skeleton = edges;
  }
  return categories;
}

/** CVAT draws a skeleton as SVG: circles name their sub-label, lines join node ids. */
function parseSkeletonSvg(svg: string, keypoints: string[]): [number, number][] {
  const text = decodeEntities(svg);
  const nodeLabel = new Map<string, string>();
  for (const m of text.matchAll(/<circle\b[^>]*>/g)) {
    const id = /data-node-id="([^"]*)"/.exec(m[0])?.[1];
    const label = /data-label-name="([^"]*)"/.exec(m[0])?.[1];
    if (id !== undefined && label !== undefined) nodeLabel.set(id, decodeEntities(label));
  }
  const edges: [number, number][] = [];
  for (const m of text.matchAll(/<line\b[^>]*>/g)) {
    const from = /data-node-from="([^"]*)"/.exec(m[0])?.[1];
    const to = /data-node-to="([^"]*)"/.exec(m[0])?.[1];
    const a = keypoints.indexOf(nodeLabel.get(from ?? '') ?? '\0');
    const b = keypoints.indexOf(nodeLabel.get(to ?? '') ?? '\0');
    if (a >= 0 && b >= 0) edges.push([a, b]);
  }
  return edges;
}

function parseAttributeSpec(node: XmlNode): AttributeSpec {
  const spec: AttributeSpec = { name: childText(node, 'name') ?? '' };
  const inputType = childText(node, 'input_type')?.trim();
  if (inputType) spec.inputType = inputType;
  const values = childText(node, 'values');
  // Only select/radio/checkbox (and number's min/max/step) hold a list; a text attribute's <values> is one text.
  if (values !== undefined && values.trim() !== '') spec.values = inputType === 'text' ? [values] : splitValues(values);
  const def = childText(node, 'default_value');
  if (def !== undefined) spec.default = def;
  const mutable = childText(node, 'mutable')?.trim().toLowerCase();
  if (mutable) spec.mutable = mutable === 'true' || mutable === '1';
  return spec;
}

/** CVAT writes one value per line; older exports separate them with spaces. */
function splitValues(text: string): string[] {
  const separator = /\r?\n/.test(text.trim()) ? /\r?\n/ : /\s+/;
  return text.trim().split(separator).map((v) => v.trim()).filter((v) => v !== '');
}

function parseColor(text: string | undefined): [number, number, number] | undefined {
  const m = /^#([0-9a-fA-F]{6})$/.exec(text?.trim() ?? '');
  if (!m) return undefined;
  const n = parseInt(m[1], 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

function findFirst(node: XmlNode, name: string): XmlNode | undefined {
  for (const c of node.children) {
    if (c.name === name) return c;
    const found = findFirst(c, name);
    if (found) return found;
  }
  return undefined;
}
