import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Context, Options } from '../../src/plugin.js';
import { DatumError, Reporter, type Diagnostic, type Severity } from '../../src/diagnostics.js';
import { isDirectory, isFile } from '../../src/files.js';
import { isSafeRelative, stripExtension } from '../../src/paths.js';
import { countNewlines, decodeEntities, tokenEnd } from '../cvat/xml.js';
import { ANNOTATIONS_DIR, CLASS_MASK_DIR, IMAGES_DIR, IMAGE_EXTENSIONS, LABELMAP_FILE, OBJECT_MASK_DIR, SETS_DIR, TASK_DIRS } from './layout.js';
import { listFiles } from './files.js';
import { boxOffset, isDevkitLayout, layoutId } from './importer.js';
import { parseAnnotationXml } from './xml.js';

/**
 * Structural checks of a Pascal VOC dataset: every annotation XML the importer reads (Annotations/
 * of the devkit layout, or the *.xml of Roboflow's flat layout), with the line and element path of
 * each defect; labelmap.txt lines; ImageSets list lines, and list ids that have no annotation file.
 * A VOC annotation file is one small image's worth of XML, so each is read whole.
 */
export async function validateVoc(input: string, options: Options, ctx: Context): Promise<void> {
  const root = path.resolve(input);
  const reporter = ctx.reporter;
  try {
    if (!(await isDirectory(root))) {
      reporter.report({ severity: 'error', code: 'not-a-folder', file: root, message: 'a Pascal VOC dataset is a folder (with Annotations/, ImageSets/, JPEGImages/...)' });
      return;
    }
    const labels = await checkLabelmap(path.join(root, LABELMAP_FILE), reporter);
    if (await isDevkitLayout(root)) {
      const annotationsDir = path.join(root, ANNOTATIONS_DIR);
      const ids = (await listFiles(annotationsDir, XML_EXT)).map(stripExtension);
      const offset = boxOffset(options);
      for (const id of ids) await checkAnnotationFile(path.join(annotationsDir, `${id}.xml`), labels, offset, reporter);
      await checkImageSets(root, new Set(ids), reporter);
    } else {
      const files = await listFiles(root, XML_EXT);
      if (files.length === 0) {
        reporter.report({ severity: 'error', code: 'no-annotations', file: root, message: 'no Annotations/, ImageSets/ or *.xml annotation files found' });
        return;
      }
      const offset = boxOffset(options, 'datumaro');
      for (const f of files) await checkAnnotationFile(path.join(root, f), labels, offset, reporter);
    }
  } catch (error) {
    if (error instanceof DatumError) { reporter.report({ ...error.diagnostic, severity: 'error' }); return; }
    const code = (error as NodeJS.ErrnoException).code;
    if (!code) throw error;
    reporter.report({ severity: 'error', code: 'unreadable', file: root, message: `cannot read the dataset (${code})` });
  }
}

const XML_EXT = new Set(['.xml']);
const FLAG_VALUES = new Set(['0', '1', '-1', 'true', 'false', '']);

function find(reporter: Reporter, severity: Severity, code: string, file: string, line: number | undefined, element: string | undefined, message: string): void {
  const d: Diagnostic = { severity, code, file, message };
  if (line !== undefined) d.line = line;
  if (element !== undefined) d.element = element;
  reporter.report(d);
}

/** labelmap.txt (Datumaro's `name:r,g,b:parts:actions`): the label names, or null when there is none. */
async function checkLabelmap(file: string, reporter: Reporter): Promise<Set<string> | null> {
  if (!(await isFile(file))) return null;
  const names = new Set<string>();
  const lines = (await fsp.readFile(file, 'utf8')).replace(/^\uFEFF/, '').split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const fields = line.split(':');
    const at = (severity: Severity, code: string, message: string) => find(reporter, severity, code, file, i + 1, undefined, message);
    if (fields.length > 4) {
      at('error', 'bad-labelmap', `expected 'name:r,g,b:parts:actions' (4 ':'-separated fields), got ${fields.length} fields; the importer stops here`);
      return;
    }
    const [name, color = ''] = fields;
    if (name.trim() === '') at('error', 'bad-labelmap', 'the label name (first field) is empty');
    if (names.has(name)) at('warning', 'duplicate-label', `label '${name}' is defined twice; the first definition is kept`);
    names.add(name);
    names.add(name.trim());
    if (color.trim()) {
      const parts = color.split(',').map((c) => Number(c.trim()));
      if (!(parts.length === 3 && parts.every((c) => Number.isInteger(c) && c >= 0 && c <= 255))) {
        at('warning', 'bad-color', `label '${name}' has color '${color}', expected 'r,g,b' in 0..255; read as no color`);
      }
    }
  });
  return names;
}

/** An element of the small tree built for line numbers (fast-xml-parser gives none). */
interface El { name: string; line: number; children: El[]; text: string }

/**
 * Elements with their lines, from XML already known to be well-formed (fast-xml-parser's validator
 * ran first): tags, text and CDATA; comments, processing instructions and the DOCTYPE skipped.
 */
function buildTree(xml: string): El | undefined {
  const stack: El[] = [];
  let root: El | undefined;
  let pos = 0;
  let line = 1;
  for (;;) {
    const lt = xml.indexOf('<', pos);
    const textEnd = lt < 0 ? xml.length : lt;
    if (stack.length) stack[stack.length - 1].text += xml.slice(pos, textEnd);
    line += countNewlines(xml, pos, textEnd);
    if (lt < 0) break;
    const end = tokenEnd(xml, lt);
    if (end < 0) break;
    const c = xml[lt + 1];
    if (xml.startsWith('<![CDATA[', lt)) {
      if (stack.length) stack[stack.length - 1].text += xml.slice(lt + 9, end - 3);
    } else if (c === '/') {
      stack.pop();
    } else if (c !== '!' && c !== '?') {
      const name = /^<([^\s/>]+)/.exec(xml.slice(lt, Math.min(end, lt + 200)))?.[1] ?? '';
      const el: El = { name, line, children: [], text: '' };
      if (stack.length) stack[stack.length - 1].children.push(el);
      else root ??= el;
      if (xml[end - 2] !== '/') stack.push(el);
    }
    line += countNewlines(xml, lt, end);
    pos = end;
  }
  return root;
}

const kids = (el: El, name: string) => el.children.filter((c) => c.name === name);
const textOf = (el: El) => decodeEntities(el.text).trim();

/** One annotation XML. */
async function checkAnnotationFile(file: string, labels: Set<string> | null, offset: number, reporter: Reporter): Promise<void> {
  let xml: string;
  try {
    xml = await fsp.readFile(file, 'utf8');
  } catch (error) {
    find(reporter, 'error', 'unreadable-file', file, undefined, undefined, `cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    return;
  }
  // The importer's reader decides well-formedness and refuses DOCTYPE entities; its other findings are
  // repeated below with lines, so they are not passed on.
  try {
    parseAnnotationXml(xml, file, new Reporter(), path.basename(file));
  } catch (error) {
    if (!(error instanceof DatumError)) throw error;
    reporter.report({ ...error.diagnostic, severity: 'error' });
    return;
  }
  const root = buildTree(xml);
  const at = (severity: Severity, code: string, el: El, element: string, message: string) => find(reporter, severity, code, file, el.line, element, message);
  if (!root || root.name !== 'annotation') {
    find(reporter, 'error', 'not-voc-annotation', file, root?.line, root && `<${root.name}>`, `the root element is <${root?.name ?? ''}>, not <annotation>; the importer ignores the file`);
    return;
  }
  const filename = kids(root, 'filename')[0];
  if (!filename || textOf(filename) === '') at('warning', 'missing-filename', filename ?? root, '<annotation>', 'no <filename>: the image is looked for by the annotation file\'s name');
  else if (!isSafeRelative(textOf(filename))) at('warning', 'unsafe-path', filename, '<filename>', `'${textOf(filename)}' points outside the dataset folder; the image is looked for by the annotation file's name`);
  checkSize(root, at);
  kids(root, 'object').forEach((obj, i) => {
    const where = `<object> #${i + 1}`;
    const name = checkNamed(obj, where, 'object', labels, at);
    const named = name ? `${where} '${name}'` : where;
    checkBox(obj, named, offset, at);
    for (const flag of ['truncated', 'difficult', 'occluded']) checkFlag(obj, flag, named, at);
    const actions = kids(obj, 'actions')[0];
    for (const action of actions?.children ?? []) checkFlag(actions!, action.name, `${named} <actions>`, at);
    const point = kids(obj, 'point')[0];
    if (point) {
      for (const axis of ['x', 'y']) {
        const el = kids(point, axis)[0];
        const value = el ? textOf(el) : undefined;
        if (value === undefined || value === '' || !Number.isFinite(Number(value))) {
          at('error', 'bad-number', el ?? point, `${named} <point> <${axis}>`, `${value === undefined ? `<point> has no <${axis}>` : `'${value}' is not a number`}; the action point is lost`);
        }
      }
    }
    kids(obj, 'part').forEach((part, p) => {
      const partWhere = `${named} <part> #${p + 1}`;
      const partName = checkNamed(part, partWhere, 'part', labels, at);
      checkBox(part, partName ? `${partWhere} '${partName}'` : partWhere, offset, at);
    });
  });
}

type At = (severity: Severity, code: string, el: El, element: string, message: string) => void;

function checkSize(root: El, at: At): void {
  const size = kids(root, 'size')[0];
  if (!size) { at('warning', 'missing-size', root, '<annotation>', 'no <size>: the image size is unknown (read from the image where it exists)'); return; }
  for (const tag of ['width', 'height', 'depth']) {
    const el = kids(size, tag)[0];
    if (!el) {
      if (tag !== 'depth') at('warning', 'missing-size', size, `<size>`, `<size> has no <${tag}>: the image size is unknown`);
      continue;
    }
    const value = textOf(el);
    const n = Number(value);
    if (value === '' || !Number.isInteger(n) || n <= 0) at('error', 'bad-size', el, `<size> <${tag}>`, `'${value}' is not a positive integer; the size is ignored`);
  }
}

/** <name> of an object or part: required, and in labelmap.txt when there is one. */
function checkNamed(el: El, where: string, kind: string, labels: Set<string> | null, at: At): string | undefined {
  const nameEl = kids(el, 'name')[0];
  const name = nameEl ? textOf(nameEl) : '';
  if (name === '') {
    at('error', 'missing-label', nameEl ?? el, where, `<${kind}> has no <name>; the importer skips it`);
    return undefined;
  }
  if (labels && !labels.has(name)) at('error', 'unknown-label', nameEl!, `${where} <name>`, `label '${name}' is not in ${LABELMAP_FILE}; the importer skips it`);
  return name;
}

/** `offset`: 1 for VOC's 1-based inclusive boxes (xmax = xmin - 1 is a zero-width box), 0 for Datumaro's. */
function checkBox(el: El, where: string, offset: number, at: At): void {
  const box = kids(el, 'bndbox')[0];
  if (!box) { at('error', 'missing-bndbox', el, where, `no <bndbox>; the importer skips the ${el.name}`); return; }
  const v: Record<string, number> = {};
  for (const tag of ['xmin', 'ymin', 'xmax', 'ymax']) {
    const c = kids(box, tag)[0];
    if (!c) { at('error', 'missing-element', box, `${where} <bndbox>`, `<bndbox> has no <${tag}>; the box is lost`); continue; }
    const value = textOf(c);
    if (value === '' || !Number.isFinite(Number(value))) at('error', 'bad-number', c, `${where} <bndbox> <${tag}>`, `'${value}' is not a number; the box is lost`);
    else v[tag] = Number(value);
  }
  // The importer skips an inverted box (which corner is wrong is unknowable), so the semantic checks never see it.
  const w = v.xmax - v.xmin + offset, h = v.ymax - v.ymin + offset;
  if (w < 0 || h < 0) at('error', 'bad-bbox', box, `${where} <bndbox>`, `xmax < xmin or ymax < ymin (size ${w} x ${h}); the importer skips the box`);
}

function checkFlag(el: El, flag: string, where: string, at: At): void {
  const c = kids(el, flag)[0];
  if (!c) return;
  const value = textOf(c);
  if (!FLAG_VALUES.has(value.toLowerCase())) at('warning', 'bad-flag', c, `${where} <${flag}>`, `'${value}' is not 0 or 1; read as 0`);
}

/**
 * ImageSets/<task>/<subset>.txt: one id a line (Layout: `id objindex` or `"id" objindex`); Main's
 * `<class>_<subset>.txt`: `id 1|0|-1`. A listed id without an annotation XML (or, for
 * Segmentation, a mask) becomes an item without annotations.
 */
async function checkImageSets(root: string, xmlIds: Set<string>, reporter: Reporter): Promise<void> {
  const masks = new Set([
    ...(await listFiles(path.join(root, CLASS_MASK_DIR), new Set(['.png']))),
    ...(await listFiles(path.join(root, OBJECT_MASK_DIR), new Set(['.png']))),
  ].map(stripExtension));
  const images = new Set((await listFiles(path.join(root, IMAGES_DIR), IMAGE_EXTENSIONS)).map(stripExtension));
  const listed = new Set<string>();
  let anyList = false;
  for (const task of TASK_DIRS) {
    const dir = path.join(root, SETS_DIR, task);
    const files = (await listFiles(dir, new Set(['.txt']))).filter((f) => !f.includes('/'));
    const stems = new Set(files.map(stripExtension));
    for (const stem of stems) {
      const file = path.join(dir, `${stem}.txt`);
      const classList = [...stem.matchAll(/_/g)].some((m) => stems.has(stem.slice(m.index! + 1)));
      const lines = (await fsp.readFile(file, 'utf8')).replace(/^\uFEFF/, '').split(/\r?\n/);
      let missing = 0;
      lines.forEach((raw, i) => {
        const text = raw.trim();
        if (!text || text.startsWith('#')) return;
        const at = (severity: Severity, code: string, message: string) => find(reporter, severity, code, file, i + 1, undefined, message);
        if (classList) {
          const m = /^(.*\S)\s+(-?\d+)$/.exec(text);
          if (!m || !['1', '0', '-1'].includes(m[2])) at('warning', 'bad-list-line', `expected '<id> 1', '<id> -1' or '<id> 0', got '${text}'; the line is ignored`);
          return;
        }
        const id = task === 'Layout' ? layoutId(text) : text;
        if (id === null) { at('warning', 'bad-list-line', 'expected an id, or a quoted id and an object index; the line is ignored'); return; }
        anyList = true;
        listed.add(id);
        if (xmlIds.has(id) || (task === 'Segmentation' && masks.has(id))) return;
        // After the first few, one line for the rest: a list of the wrong folder would repeat it for every line.
        if (++missing > 20) {
          if (missing === 21) at('warning', 'listed-without-annotation', 'more list lines name no annotation file; not reported one by one');
          return;
        }
        const what = `${ANNOTATIONS_DIR}/${id}.xml${task === 'Segmentation' ? ' and no mask' : ''}`;
        // With its image it is an unannotated item (a VOC test split); without, the line names nothing (often a typo or an extension).
        if (images.has(id) || masks.has(id)) at('info', 'listed-without-annotation', `'${id}' has no ${what}; it is imported as an item without annotations`);
        else at('warning', 'listed-without-files', `'${id}' has no ${what} and no image in ${IMAGES_DIR}/; it is imported as an empty item without an image`);
      });
    }
  }
  const unlisted = [...xmlIds].filter((id) => !listed.has(id));
  if (anyList && unlisted.length > 0) {
    find(reporter, 'warning', 'unlisted-annotation', path.join(root, ANNOTATIONS_DIR, `${unlisted[0]}.xml`), undefined, undefined,
      `${unlisted.length} annotation file(s) are in no ImageSets list and are not imported (first: '${unlisted[0]}.xml')`);
  }
}

