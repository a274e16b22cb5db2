import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import readline from 'node:readline';
import YAML, { LineCounter, isMap, isScalar } from 'yaml';
import type { Diagnostic, Reporter } from '../../src/diagnostics.js';
import { DatumError } from '../../src/diagnostics.js';
import type { Context, Options } from '../../src/plugin.js';
import { schemaFile, schemaFindings, schemaValidator } from '../../src/schemas.js';
import { excerpt, forEachLine, splitFields, toNumber, LINE_WARNINGS_PER_FILE } from '../../src/text.js';
import { classificationSplits, findConfig, parseYaml } from './importer.js';
import { CONFIG_FILE, isImageFile, labelPathFor } from './format.js';

/**
 * Structural checks of a YOLO-Ultralytics dataset: data.yaml against its JSON Schema (plus what a
 * schema cannot say: nc against names), then every label file's lines. The label-line checker is
 * shared with the Darknet plugin (formats/yolo/validate.ts): both read `class x y w h ...` lines.
 */

/** Ultralytics tolerates values this far outside [0, 1] (and clips them); beyond, the image is dropped as corrupt. */
const TOLERANCE = 0.01;
/** Label files above this size are read line by line instead of as one string. */
const WHOLE_FILE_LIMIT = 32 * 1024 * 1024;

export type LineTask = 'detect' | 'segment' | 'pose' | 'obb' | 'auto';
export interface LineSpec {
  /** `auto`: boxes (5 values) or polygons (1 + an even count >= 6), as the importer reads them without --task. */
  task: LineTask;
  /** Number of classes; null when unknown (the class index is then only checked to be an integer >= 0). */
  nc: number | null;
  kptShape?: [number, number] | null;
  /** Who drops a bad line, for the messages: `Ultralytics` or `Darknet`. */
  consumer: string;
}

/** Calls `fn` for every line of `file`; a big file is streamed, never held as one string. */
export async function forEachFileLine(file: string, fn: (line: string, lineNo: number) => void): Promise<void> {
  const { size } = await fsp.stat(file);
  if (size <= WHOLE_FILE_LIMIT) { forEachLine(await fsp.readFile(file, 'utf8'), fn); return; }
  const lines = readline.createInterface({ input: fs.createReadStream(file, 'utf8'), crlfDelay: Infinity });
  let n = 0;
  for await (const line of lines) fn(n === 0 && line.charCodeAt(0) === 0xfeff ? line.slice(1) : line, ++n);
}

/** What a line of `spec.task` holds, for messages: `5 values (class x y w h) for the detect task`. */
function expectation(spec: LineSpec): string {
  switch (spec.task) {
    case 'detect': return '5 values (class x y w h) for the detect task';
    case 'segment': return 'an odd count >= 7 (class and polygon x y pairs) for the segment task';
    case 'obb': return '9 values (class x1 y1 .. x4 y4) for the obb task';
    case 'pose': return spec.kptShape
      ? `${5 + spec.kptShape[0] * spec.kptShape[1]} values (class x y w h and ${spec.kptShape[0]} keypoints of ${spec.kptShape[1]}) for the pose task (kpt_shape [${spec.kptShape.join(', ')}])`
      : 'class x y w h and keypoints for the pose task (kpt_shape not given)';
    default: return '5 values (class x y w h) or an odd count >= 7 (class and polygon x y pairs)';
  }
}

function countFits(spec: LineSpec, n: number): boolean {
  switch (spec.task) {
    case 'detect': return n === 5;
    case 'segment': return n >= 7 && n % 2 === 1;
    case 'obb': return n === 9;
    case 'pose': return spec.kptShape ? n === 5 + spec.kptShape[0] * spec.kptShape[1] : n >= 5;
    default: return n === 5 || (n >= 7 && n % 2 === 1);
  }
}

/** Indices (in the line's fields) of the values that are normalized coordinates: not pose visibility flags. */
function isCoordinate(spec: LineSpec, field: number): boolean {
  if (field === 0) return false;
  if (spec.task !== 'pose' || !spec.kptShape || field <= 4) return true;
  return spec.kptShape[1] === 2 || (field - 5) % 3 !== 2;
}

/**
 * Checks every line of one label file and reports each defect with file and line: the field count
 * of the task, numbers, the class index in [0, nc), coordinates in [0, 1], repeated lines and (for
 * the segment-capable tasks) box and polygon lines mixed in one file.
 */
export async function checkLabelFile(file: string, spec: LineSpec, reporter: Reporter, item?: string): Promise<void> {
  let count = 0;
  const report = (d: Omit<Diagnostic, 'file'>) => {
    if (++count <= LINE_WARNINGS_PER_FILE) reporter.report({ file, ...(item ? { item } : {}), ...d });
  };
  const drops = `${spec.consumer} drops`;
  const seen = new Map<string, number>();
  let boxes = 0;
  let polygons = 0;
  try {
    await forEachFileLine(file, (raw, line) => {
      const fields = splitFields(raw);
      if (fields.length === 0) return;
      if (!countFits(spec, fields.length)) {
        return report({ severity: 'error', code: 'label-field-count', line, message: `expected ${expectation(spec)}, found ${fields.length}; ${drops} ${spec.consumer === 'Ultralytics' ? 'the image as corrupt' : 'the line'}` });
      }
      const numbers = fields.map(toNumber);
      const bad = numbers.findIndex((v) => !Number.isFinite(v));
      if (bad >= 0) {
        return report({ severity: 'error', code: 'label-not-a-number', line, message: `field ${bad + 1} '${excerpt(fields[bad], 20)}' is not a number` });
      }
      const cls = numbers[0];
      if (!Number.isInteger(cls) || cls < 0 || (spec.nc !== null && cls >= spec.nc)) {
        report({ severity: 'error', code: 'label-class-out-of-range', line,
          message: `class ${excerpt(fields[0], 20)} is not ${spec.nc === null ? 'a class index (an integer >= 0)' : `a class index in [0, ${spec.nc}) (nc = ${spec.nc})`}` });
      }
      let worst = -1;
      let clipped = -1;
      for (let i = 1; i < numbers.length; i++) {
        if (!isCoordinate(spec, i)) continue;
        const v = numbers[i];
        if (v < -TOLERANCE || v > 1 + TOLERANCE) { if (worst < 0) worst = i; } else if ((v < 0 || v > 1) && clipped < 0) clipped = i;
      }
      if (worst >= 0) {
        report({ severity: 'error', code: 'label-coordinate-out-of-range', line, message: `field ${worst + 1} is ${excerpt(fields[worst], 20)}, outside [0, 1] (normalized; beyond ${-TOLERANCE}..${1 + TOLERANCE} ${drops} the ${spec.consumer === 'Ultralytics' ? 'image as corrupt' : 'line'})` });
      } else if (clipped >= 0) {
        report({ severity: 'warning', code: 'label-coordinate-clipped', line, message: `field ${clipped + 1} is ${excerpt(fields[clipped], 20)}, slightly outside [0, 1]; it is clipped to [0, 1]` });
      }
      if (fields.length === 5) boxes++; else polygons++;
      // Ultralytics removes identical rows with a warning.
      const key = fields.join(' ');
      const first = seen.get(key);
      if (first !== undefined) report({ severity: 'warning', code: 'label-duplicate-line', line, message: `same as line ${first}; ${spec.consumer} removes the repeat` });
      else if (seen.size < 100_000) seen.set(key, line);
    });
  } catch (error) {
    reporter.report({ severity: 'error', code: 'label-unreadable', file, message: `cannot read the label file (${(error as NodeJS.ErrnoException).code ?? String(error)})` });
    return;
  }
  if (count > LINE_WARNINGS_PER_FILE) {
    reporter.report({ severity: 'info', code: 'more-bad-lines', file, message: `${count - LINE_WARNINGS_PER_FILE} more findings in this file (not listed; the first ${LINE_WARNINGS_PER_FILE} are)` });
  }
  if (spec.task === 'auto' && boxes > 0 && polygons > 0) {
    reporter.report({ severity: 'warning', code: 'label-mixed-rows', file, message: `${boxes} box line(s) and ${polygons} polygon line(s) in one file; Ultralytics turns the polygons into boxes` });
  }
}

/** The --task of `datum validate` as a label-line task. */
function taskOf(task: unknown, kptShape: [number, number] | null): LineTask | 'classify' {
  if (task === 'classification') return 'classify';
  if (task === 'segmentation') return 'segment';
  if (task === 'pose') return 'pose';
  if (task === 'detection') return 'detect';
  return kptShape ? 'pose' : 'auto';
}

interface Config { file: string; value: Record<string, unknown> | null; lines: Map<string, number> }

export async function validateUltralytics(input: string, options: Options, ctx: Context): Promise<void> {
  const reporter = ctx.reporter;
  const stat = await fsp.stat(input).catch(() => null);
  if (!stat) { reporter.report({ severity: 'error', code: 'no-dataset', file: input, message: 'path does not exist' }); return; }
  const root = stat.isDirectory() ? input : path.dirname(input);
  // A data.yaml that findConfig passes over (not a mapping, no names or splits) is still checked: its
  // schema findings say what is wrong with it.
  const configFile = stat.isFile() ? input : await findConfig(input) ?? await existing(path.join(input, CONFIG_FILE));
  const config = configFile ? await checkConfig(configFile, reporter) : null;
  if (configFile && !config) return; // not readable as YAML: reported, the labels cannot be interpreted
  const value = config?.value ?? null;
  const kptShape = validKptShape(value?.kpt_shape);
  const task = taskOf(options.task, kptShape);
  if (!configFile) {
    if (await classificationSplits(root)) return; // class folders: no label files
    reporter.report({ severity: 'warning', code: 'no-data-yaml', file: root, message: 'no data.yaml (a YAML with names and train/val); Ultralytics cannot train on the folder as it is' });
  }
  if (task === 'classify') return;
  const nc = value ? classCount(value) : null;
  await checkLabelTree(root, { task, nc, kptShape, consumer: 'Ultralytics' }, reporter);
}

async function existing(file: string): Promise<string | null> {
  return (await fsp.stat(file).catch(() => null))?.isFile() ? file : null;
}

/** Parses data.yaml as the importer does, checks it against the schema and nc against names. */
async function checkConfig(file: string, reporter: Reporter): Promise<Config | null> {
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (error) {
    reporter.report({ severity: 'error', code: 'yaml-unreadable', file, message: `cannot read the YAML (${(error as NodeJS.ErrnoException).code ?? String(error)})` });
    return null;
  }
  let value: Record<string, unknown>;
  try {
    value = parseYaml(file, text);
  } catch (error) {
    if (!(error instanceof DatumError)) throw error;
    reporter.report({ ...error.diagnostic, severity: 'error' });
    return null;
  }
  const lines = keyLines(text);
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(JSON.stringify(value)) as Record<string, unknown>;
  } catch {
    reporter.report({ severity: 'error', code: 'yaml-self-reference', file, message: 'the YAML holds a value that refers to itself (an alias inside its own anchor); no dataset YAML does' });
    return null;
  }
  const validate = schemaValidator(schemaFile(import.meta.url, 'data.schema.json'));
  if (!validate(json)) for (const d of configFindings(validate.errors ?? [], file, json, lines)) reporter.report(d);
  checkNames(json, file, lines, reporter);
  return { file, value: json, lines };
}

/** Line of each top-level key of the YAML (1-based), for findings. */
function keyLines(text: string): Map<string, number> {
  const lines = new Map<string, number>();
  try {
    const counter = new LineCounter();
    const doc = YAML.parseDocument(text, { uniqueKeys: false, lineCounter: counter });
    if (isMap(doc.contents)) {
      for (const pair of doc.contents.items) {
        if (isScalar(pair.key) && pair.key.range) lines.set(String(pair.key.value), counter.linePos(pair.key.range[0]).line);
      }
    }
  } catch { /* no lines then */ }
  return lines;
}

/** What each top-level key must hold, for a oneOf the schema rejects (ajv's own words name the branches, not the intent). */
const EXPECTED: Record<string, string> = {
  names: 'names must be a list of strings or a map of class index (0, 1, ...) to name',
  train: 'train must be a folder, a .txt image list or an image path, or a list of them',
  val: 'val must be a folder, a .txt image list or an image path, or a list of them',
  validation: 'validation must be a folder, a .txt image list or an image path, or a list of them',
  test: 'test must be a folder, a .txt image list or an image path, a list of them, or empty',
};
const ROOT_ANY_OF: Record<string, { code: string; message: string }> = {
  '#/allOf/0/anyOf': { code: 'schema', message: 'missing required key "val" (Ultralytics needs train and val)' },
  '#/allOf/1/anyOf': { code: 'schema', message: 'missing required key "names" (or "nc"): Ultralytics needs one of them' },
};

/** ajv's errors as findings, one per defect: a failed oneOf is one finding saying what the key must hold. */
function configFindings(errors: NonNullable<ReturnType<typeof schemaValidator>['errors']>, file: string, json: Record<string, unknown>, lines: Map<string, number>): Diagnostic[] {
  const out: Diagnostic[] = [];
  const byKey = new Map<string, typeof errors>();
  for (const e of errors) {
    const key = e.instancePath.split('/')[1] ?? '';
    if (!byKey.has(key)) byKey.set(key, []);
    byKey.get(key)!.push(e);
  }
  for (const [key, group] of byKey) {
    if (key === '') {
      for (const e of group) {
        if (e.keyword === 'anyOf' && ROOT_ANY_OF[e.schemaPath]) {
          out.push({ severity: 'error', file, pointer: '/', ...ROOT_ANY_OF[e.schemaPath] });
        } else if (!e.schemaPath.startsWith('#/allOf/')) {
          out.push(...schemaFindings([e], { file }));
        }
      }
      continue;
    }
    const line = lines.get(key);
    const oneOf = group.find((e) => e.keyword === 'oneOf' && e.instancePath === `/${key}`);
    if (oneOf && EXPECTED[key]) {
      out.push({ severity: 'error', code: 'schema', file, pointer: `/${key}`, ...(line ? { line } : {}), message: `${EXPECTED[key]}; got ${describe(json[key])}` });
    } else {
      // Inside a oneOf, keep the errors of the branch that matches the value's type (an array's items, not "must be object").
      const kept = oneOf ? group.filter((e) => e.keyword !== 'oneOf' && e.instancePath !== `/${key}`) : group;
      out.push(...schemaFindings(kept.length ? kept : group, { file, ...(line ? { line } : {}) }));
    }
  }
  return out;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string') return `the string ${JSON.stringify(excerpt(value, 40))}`;
  return typeof value === 'object' ? 'a map' : `${typeof value} ${String(value)}`;
}

/** What the schema cannot say: a names map must hold exactly 0..n-1, and nc must equal the count of names. */
function checkNames(json: Record<string, unknown>, file: string, lines: Map<string, number>, reporter: Reporter): void {
  const { names, nc } = json;
  const at = (key: string) => ({ file, pointer: `/${key}`, ...(lines.get(key) ? { line: lines.get(key) } : {}) });
  let count: number | null = null;
  if (Array.isArray(names)) count = names.length;
  else if (names && typeof names === 'object') {
    const keys = Object.keys(names).map(Number);
    if (keys.every((k) => Number.isInteger(k) && k >= 0)) {
      count = keys.length;
      const missing = Array.from({ length: Math.max(-1, ...keys) + 1 }, (_, i) => i).filter((i) => !keys.includes(i));
      if (missing.length) {
        reporter.report({ severity: 'error', code: 'names-gap', ...at('names'), message: `names has no entry for class ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', ...' : ''}; Ultralytics needs the keys 0..${Math.max(...keys)}` });
      }
    }
  }
  if (count !== null && typeof nc === 'number' && Number.isInteger(nc) && nc !== count) {
    reporter.report({ severity: 'error', code: 'nc-mismatch', ...at('nc'), message: `nc is ${nc} but names has ${count} entries; Ultralytics refuses the dataset (datum uses names)` });
  }
}

function validKptShape(shape: unknown): [number, number] | null {
  return Array.isArray(shape) && shape.length === 2 && Number.isInteger(shape[0]) && shape[0] >= 0 && (shape[1] === 2 || shape[1] === 3) ? [shape[0], shape[1]] : null;
}

/** Classes the labels may use: the count of names, else nc, else unknown. */
function classCount(json: Record<string, unknown>): number | null {
  const { names, nc } = json;
  if (Array.isArray(names)) return names.length;
  if (names && typeof names === 'object') {
    const keys = Object.keys(names).map(Number);
    if (keys.every((k) => Number.isInteger(k) && k >= 0)) return keys.length ? Math.max(...keys) + 1 : 0;
  }
  return typeof nc === 'number' && Number.isInteger(nc) && nc >= 0 ? nc : null;
}

/**
 * Every label file Ultralytics would read below `root` (the .txt files under a `labels/` folder, the
 * image path's last `/images/` -> `/labels/`), checked line by line; one without an image is reported.
 * DOTA `labelTxt/` files (pixel corners and class names) are another syntax and are left to the importer.
 */
async function checkLabelTree(root: string, spec: LineSpec, reporter: Reporter): Promise<void> {
  const labels: string[] = [];
  const expected = new Set<string>();
  const walk = async (dir: string, underLabels: boolean) => {
    const entries = await fsp.readdir(dir, { withFileTypes: true }).catch(() => []);
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      const full = path.join(dir, e.name);
      if (e.isDirectory()) await walk(full, underLabels || e.name === 'labels');
      else if (underLabels && e.name.toLowerCase().endsWith('.txt')) labels.push(full);
      else if (isImageFile(e.name)) expected.add(path.normalize(labelPathFor(full)));
    }
  };
  await walk(root, false);
  for (const file of labels) {
    if (!expected.has(path.normalize(file))) {
      reporter.report({ severity: 'warning', code: 'label-without-image', file, message: 'label file has no image (the image path with /images/ for /labels/); Ultralytics and datum do not read it' });
    }
    await checkLabelFile(file, spec, reporter);
  }
}
