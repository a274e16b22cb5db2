import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { once } from 'node:events';
import { imageFileName, type Annotation, type AttributeSpec, type AttributeValue, type Category, type Dataset, type Item } from '../../src/model.js';
import type { Context, ExportSummary, OptionSpec, Options } from '../../src/plugin.js';
import { resolveInside } from '../../src/paths.js';
import { FileWriter } from '../../src/output.js';
import { probeItemSizes } from '../../src/media.js';
import { escapeAttr, escapeXml } from '../../src/xml.js';

export const exportOptions: readonly OptionSpec[] = [
  { name: 'save-media', type: 'boolean', description: 'copy (hard-link where possible) the images into images/ (images/<Subset>/ for several subsets)' },
];

export const ANNOTATIONS_FILE = 'annotations.xml';
/** Items whose unknown image sizes are probed together. */
const BATCH = 128;

/**
 * Writes CVAT for images 1.1. <meta> comes first in the file but depends on every item (the
 * subsets decide task or project layout; attributes the labels do not declare must be added), so
 * the <image> elements stream into a temporary file that is appended after the header at the end.
 */
export async function exportCvat(dataset: Dataset, output: string, options: Options, ctx: Context): Promise<ExportSummary> {
  const writer = new CvatWriter(dataset.categories, output, options['save-media'] === true, ctx);
  let batch: Item[] = [];
  const flush = async () => {
    // CVAT needs every image's size; read it from the image where the source did not give it.
    await probeItemSizes(batch.filter((i) => !i.normalized));
    for (const item of batch) await writer.add(item);
    batch = [];
  };
  for await (const item of dataset.items) {
    batch.push(item);
    if (batch.length >= BATCH) await flush();
  }
  await flush();
  return writer.finish();
}

class CvatWriter {
  private readonly bodyFile: string;
  private readonly body: fs.WriteStream;
  private readonly media = new FileWriter();
  private readonly imagesDir: string;
  /** Items per subset, in order of first appearance; also the next <image id> in that subset. */
  private readonly subsets = new Map<string, number>();
  /** Attributes annotations use that their label does not declare, by label index. */
  private readonly extraSpecs = new Map<number, Map<string, AttributeSpec>>();
  private readonly declared: Set<string>[];
  private readonly annotations: Record<string, number> = {};
  private readonly dropped: Record<string, number> = {};
  private items = 0;
  private warnedTrack = false;

  constructor(private readonly categories: Category[], private readonly output: string, private readonly saveMedia: boolean, private readonly ctx: Context) {
    this.bodyFile = path.join(output, '.annotations.body.xml');
    this.imagesDir = path.join(output, 'images');
    this.declared = categories.map((c) => new Set((c.attributes ?? []).map((a) => a.name)));
    this.body = fs.createWriteStream(this.bodyFile, { encoding: 'utf8' });
  }

  async add(item: Item): Promise<void> {
    const subsetId = this.subsets.get(item.subset) ?? 0;
    this.subsets.set(item.subset, subsetId + 1);
    this.items++;
    const name = imageFileName(item);
    const attrs: [string, string | number][] = [['id', subsetId], ['name', name]];
    if (!isDefaultSubset(item.subset)) attrs.push(['subset', item.subset]);
    const { width, height } = item.image ?? {};
    if (!item.normalized && width && height) attrs.push(['width', width], ['height', height]);
    let annotations = item.annotations;
    if (item.normalized) {
      const shapes = annotations.filter((a) => a.type !== 'label' && a.type !== 'caption');
      this.ctx.reporter.warn({ code: 'no-image-size', item: item.id, message: `coordinates are normalized (image size unknown); ${shapes.length} shape(s) cannot be written in pixels and are dropped` });
      if (shapes.length > 0) this.drop('no-image-size', shapes.length);
      annotations = annotations.filter((a) => a.type === 'label' || a.type === 'caption');
    } else if (!width || !height) {
      this.ctx.reporter.warn({ code: 'no-image-size', item: item.id, message: 'the image size is unknown and the image cannot be read; <image> is written without width and height' });
    }
    let xml = `  <image${attrList(attrs)}>\n`;
    for (const annotation of annotations) xml += this.shape(annotation, item);
    xml += '  </image>\n';
    if (!this.body.write(xml)) await once(this.body, 'drain');
    if (this.saveMedia) await this.copyMedia(item, name);
  }

  async finish(): Promise<ExportSummary> {
    this.body.end();
    await once(this.body, 'finish');
    const project = this.subsets.size > 1;
    const file = fs.createWriteStream(path.join(this.output, ANNOTATIONS_FILE), { encoding: 'utf8' });
    file.write(this.header(project));
    for await (const chunk of fs.createReadStream(this.bodyFile)) {
      if (!file.write(chunk)) await once(file, 'drain');
    }
    file.end('</annotations>\n');
    await once(file, 'finish');
    await fsp.rm(this.bodyFile);
    await this.media.flush();
    // One subset: task layout, so its images belong directly in images/.
    const [only] = this.subsets.keys();
    const onlyDir = only ? resolveInside(this.imagesDir, only) : '';
    if (this.saveMedia && !project && only && fs.existsSync(onlyDir)) {
      const staged = path.join(this.output, '.images-staged');
      await fsp.rename(onlyDir, staged);
      await fsp.rm(this.imagesDir, { recursive: true, force: true });
      await fsp.rename(staged, this.imagesDir);
    }
    const summary: ExportSummary = { items: this.items, annotations: this.annotations };
    if (Object.keys(this.dropped).length > 0) summary.dropped = this.dropped;
    return summary;
  }

  private async copyMedia(item: Item, name: string): Promise<void> {
    const source = item.image?.path;
    if (!source || !(await fsp.stat(source).catch(() => null))?.isFile()) {
      this.ctx.reporter.warn({ code: 'missing-image', item: item.id, file: source, message: 'the image file does not exist; not copied' });
      return;
    }
    const dir = isDefaultSubset(item.subset) ? this.imagesDir : resolveInside(this.imagesDir, item.subset, { item: item.id });
    await this.media.copy(source, resolveInside(dir, name, { item: item.id }));
  }

  private shape(a: Annotation, item: Item): string {
    if (a.type === 'caption') {
      this.drop('caption');
      this.ctx.reporter.warn({ code: 'annotation-dropped', item: item.id, message: 'CVAT cannot hold captions; caption dropped' });
      return '';
    }
    if (a.type === 'mask' && (a.width <= 0 || a.height <= 0)) {
      this.drop('empty-mask');
      this.ctx.reporter.warn({ code: 'annotation-dropped', item: item.id, message: 'an empty mask (0 x 0) cannot be written to CVAT; dropped' });
      return '';
    }
    if (a.track !== undefined && !this.warnedTrack) {
      this.warnedTrack = true;
      this.ctx.reporter.warn({ code: 'track-not-kept', item: item.id, message: 'CVAT for images has no tracks: track ids are not written (the shapes are)' });
    }
    const label = a.label !== undefined ? this.categories[a.label]?.name ?? '' : '';
    const attrs: [string, string | number][] = [['label', label]];
    if (a.type !== 'label') attrs.push(['occluded', a.occluded ? 1 : 0]);
    let element: string;
    let inner = '';
    switch (a.type) {
      case 'label':
        element = 'tag';
        break;
      case 'bbox':
        element = 'box';
        attrs.push(['xtl', a.x], ['ytl', a.y], ['xbr', a.x + a.w], ['ybr', a.y + a.h]);
        if (a.rotation) attrs.push(['rotation', a.rotation]);
        break;
      case 'polygon':
      case 'polyline':
      case 'points':
        element = a.type;
        attrs.push(['points', pointsText(a.points)]);
        break;
      case 'mask':
        element = 'mask';
        attrs.push(['rle', a.rle.join(', ')], ['left', a.left], ['top', a.top], ['width', a.width], ['height', a.height]);
        break;
      case 'ellipse':
        element = 'ellipse';
        attrs.push(['cx', a.cx], ['cy', a.cy], ['rx', a.rx], ['ry', a.ry]);
        if (a.rotation) attrs.push(['rotation', a.rotation]);
        break;
      case 'skeleton': {
        element = 'skeleton';
        const keypoints = a.label !== undefined ? this.categories[a.label]?.keypoints ?? [] : [];
        keypoints.forEach((name, k) => {
          const v = a.visibility[k] ?? 0;
          inner += `      <points${attrList([['label', name], ['outside', v === 0 ? 1 : 0], ['occluded', v === 1 ? 1 : 0], ['points', pointsText(a.points.slice(2 * k, 2 * k + 2))]])}/>\n`;
        });
        break;
      }
    }
    if (a.type !== 'label') attrs.push(['z_order', a.zOrder ?? 0]);
    if (a.group) attrs.push(['group_id', a.group]);
    for (const [name, value] of Object.entries(a.attributes ?? {})) {
      inner += `      <attribute name="${escapeAttr(name)}">${escapeXml(String(value))}</attribute>\n`;
      if (a.label !== undefined) this.noteAttribute(a.label, name, value);
    }
    this.annotations[a.type] = (this.annotations[a.type] ?? 0) + 1;
    return inner ? `    <${element}${attrList(attrs)}>\n${inner}    </${element}>\n` : `    <${element}${attrList(attrs)}/>\n`;
  }

  /** CVAT accepts only declared attributes: undeclared ones are added to the label's spec. */
  private noteAttribute(label: number, name: string, value: AttributeValue): void {
    if (this.declared[label]?.has(name)) return;
    let extra = this.extraSpecs.get(label);
    if (!extra) this.extraSpecs.set(label, (extra = new Map()));
    if (extra.has(name)) return;
    const inputType = typeof value === 'boolean' ? 'checkbox' : typeof value === 'number' ? 'number' : 'text';
    extra.set(name, { name, inputType, mutable: false, ...(inputType === 'checkbox' ? { values: ['false', 'true'], default: 'false' } : {}) });
  }

  private drop(reason: string, n = 1): void {
    this.dropped[reason] = (this.dropped[reason] ?? 0) + n;
  }

  private header(project: boolean): string {
    const subsets = [...this.subsets.keys()];
    let xml = '<?xml version="1.0" encoding="utf-8"?>\n<annotations>\n  <version>1.1</version>\n  <meta>\n';
    xml += project ? '    <project>\n      <name>datum export</name>\n' : '    <task>\n      <name>datum export</name>\n';
    xml += `      <size>${this.items}</size>\n      <mode>annotation</mode>\n`;
    if (project) xml += `      <subsets>${escapeXml(subsets.join('\n'))}</subsets>\n`;
    else if (!isDefaultSubset(subsets[0] ?? '')) xml += `      <subset>${escapeXml(subsets[0])}</subset>\n`;
    xml += '      <labels>\n';
    this.categories.forEach((c, i) => {
      xml += labelXml(c, [...(c.attributes ?? []), ...(this.extraSpecs.get(i)?.values() ?? [])], this.categories);
    });
    // Keypoints of skeletons whose sub-labels are not categories (COCO keypoints) still need labels.
    for (const c of this.categories) {
      for (const k of c.keypoints ?? []) {
        if (!this.categories.some((s) => s.name === k && s.parent === c.name)) xml += labelXml({ name: k, parent: c.name }, [], this.categories);
      }
    }
    xml += '      </labels>\n';
    xml += project ? '    </project>\n' : '    </task>\n';
    xml += `    <dumped>${new Date().toISOString()}</dumped>\n  </meta>\n`;
    return xml;
  }
}

/**
 * No subset: the importer reads an <image> without `subset` (and its image in images/) as `default`,
 * as CVAT and Datumaro do, so `default` items are written that way, in task and project layouts alike.
 */
function isDefaultSubset(subset: string): boolean {
  return subset === '' || subset === 'default';
}

function labelXml(c: Category, specs: AttributeSpec[], categories: Category[]): string {
  let xml = `        <label>\n          <name>${escapeXml(c.name)}</name>\n`;
  if (c.color) xml += `          <color>#${c.color.map((v) => v.toString(16).padStart(2, '0')).join('')}</color>\n`;
  const isSkeleton = c.keypoints !== undefined && c.parent === undefined;
  const parent = c.parent !== undefined ? categories.find((p) => p.name === c.parent && p.keypoints) : undefined;
  if (isSkeleton) xml += '          <type>skeleton</type>\n';
  else if (parent) xml += '          <type>points</type>\n';
  // A parent that is not a skeleton (VOC parts): typed, so that readers do not take its sub-labels for keypoints.
  else if (c.parent === undefined && categories.some((s) => s.parent === c.name)) xml += '          <type>any</type>\n';
  xml += '          <attributes>\n';
  for (const spec of specs) {
    xml += '            <attribute>\n';
    xml += `              <name>${escapeXml(spec.name)}</name>\n`;
    if (spec.mutable !== undefined) xml += `              <mutable>${spec.mutable ? 'True' : 'False'}</mutable>\n`;
    xml += `              <input_type>${escapeXml(spec.inputType ?? 'text')}</input_type>\n`;
    xml += `              <default_value>${escapeXml(spec.default ?? '')}</default_value>\n`;
    xml += `              <values>${escapeXml((spec.values ?? []).join('\n'))}</values>\n`;
    xml += '            </attribute>\n';
  }
  xml += '          </attributes>\n';
  if (isSkeleton) xml += `          <svg>${escapeXml(skeletonSvg(c.keypoints!, c.skeleton ?? []))}</svg>\n`;
  if (c.parent !== undefined) xml += `          <parent>${escapeXml(c.parent)}</parent>\n`;
  xml += '        </label>\n';
  return xml;
}

/** CVAT's skeleton drawing: keypoints as circles (placed on a ring), edges as lines between node ids. */
function skeletonSvg(keypoints: string[], edges: [number, number][]): string {
  const at = (k: number) => {
    const angle = (2 * Math.PI * k) / Math.max(keypoints.length, 1);
    return [round(50 + 40 * Math.cos(angle)), round(50 + 40 * Math.sin(angle))];
  };
  let svg = '';
  for (const [a, b] of edges) {
    const [x1, y1] = at(a), [x2, y2] = at(b);
    svg += `<line x1="${x1}" y1="${y1}" x2="${x2}" y2="${y2}" stroke="black" data-type="edge" data-node-from="${a + 1}" stroke-width="0.5" data-node-to="${b + 1}"></line>`;
  }
  keypoints.forEach((name, k) => {
    const [cx, cy] = at(k);
    svg += `<circle r="1.5" stroke="black" fill="#b3b3b3" cx="${cx}" cy="${cy}" stroke-width="0.1" data-type="element node" data-element-id="${k + 1}" data-node-id="${k + 1}" data-label-name="${escapeAttr(name)}"></circle>`;
  });
  return svg;
}

function round(v: number): number {
  return Math.round(v * 1000) / 1000;
}

function pointsText(points: number[]): string {
  const pairs: string[] = [];
  for (let i = 0; i + 1 < points.length; i += 2) pairs.push(`${points[i]},${points[i + 1]}`);
  return pairs.join(';');
}

function attrList(attrs: [string, string | number][]): string {
  return attrs.map(([k, v]) => ` ${k}="${escapeAttr(String(v))}"`).join('');
}
