import type { ValidateFunction } from 'ajv/dist/2020.js';
import type { Context, Options } from '../../src/plugin.js';
import { DatumError, type Diagnostic } from '../../src/diagnostics.js';
import { schemaFile, schemaFindings, schemaValidator } from '../../src/schemas.js';
import { findTaskFiles, type TaskFile } from './layout.js';
import { jsonError, parseElement, scanJsonFile } from './json-stream.js';

/**
 * Structural checks of COCO task files against formats/coco/schemas/<task>.schema.json: each file is
 * streamed (scanJsonFile) and every element of `images`, `annotations`, `categories`, `licenses`
 * is checked on its own against the schema's `$defs`, so a file of any size costs one pass and the
 * memory of one element. What JSON Schema cannot say (even polygon lengths, x, y, v triplets) is
 * checked here in code. Every defect is reported (the runner keeps a bounded number per code);
 * cross-reference checks (unknown image or category ids, duplicates) are the importer's warnings.
 */
export async function validateCoco(input: string, _options: Options, ctx: Context): Promise<void> {
  let files: TaskFile[];
  try {
    files = await findTaskFiles(input);
  } catch (error) {
    if (error instanceof DatumError) ctx.reporter.report(error.diagnostic);
    else ctx.reporter.report({ severity: 'error', code: 'unreadable', file: input, message: `cannot read the dataset (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})` });
    return;
  }
  if (files.length === 0) {
    ctx.reporter.report({ severity: 'error', code: 'no-coco-files', file: input, message: 'no COCO annotation files found (annotations/<task>_<subset>.json, <subset>/_annotations.coco.json, or a *.json with top-level "images", "annotations", "categories" lists)' });
    return;
  }
  for (const taskFile of files) await new FileCheck(taskFile, ctx).run();
}

/** The schema file for a task; Roboflow's `_annotations.coco.json` (task null) holds instances. */
export function cocoSchemaFile(task: TaskFile['task']): string {
  return schemaFile(import.meta.url, `${task ?? 'instances'}.schema.json`);
}

/** Top-level arrays whose elements are checked, and the `$defs` entry for them. */
const ELEMENT_DEFS: Record<string, string> = { images: 'image', annotations: 'annotation', categories: 'category', licenses: 'license' };
/** Syntax errors inside elements get a line number (a re-read of the file up to them) only this often. */
const LINES_FOR = 10;
/** Top-level value not seen yet: an array with no elements when the file ends. */
const EMPTY_ARRAY = Symbol('empty array');

class FileCheck {
  private readonly file: string;
  private readonly schema: string;
  private readonly elements = new Map<string, ValidateFunction>();
  /** Top-level key -> its value, `[]` for an array (its elements are checked one by one). */
  private readonly top = new Map<string, unknown>();
  private badJson = 0;

  constructor(private readonly taskFile: TaskFile, private readonly ctx: Context) {
    this.file = taskFile.file;
    this.schema = cocoSchemaFile(taskFile.task);
    for (const [key, def] of Object.entries(ELEMENT_DEFS)) {
      // image_info files have no annotation shape to check.
      if (key === 'annotations' && taskFile.task === 'image_info') continue;
      this.elements.set(key, schemaValidator(this.schema, `#/$defs/${def}`));
    }
  }

  async run(): Promise<void> {
    try {
      await scanJsonFile(this.file, (key, index, bytes, offset) => this.onValue(key, index, bytes, offset),
        (done, total) => this.ctx.progress(`coco: checking ${this.taskFile.subset}`, done, total),
        (key) => this.top.set(key, EMPTY_ARRAY));
    } catch (error) {
      // The structure is broken: nothing after this point can be found, so the file's checks end here.
      if (error instanceof DatumError) this.report(error.diagnostic);
      else this.report({ severity: 'error', code: 'unreadable', file: this.file, message: `cannot read the file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})` });
      return;
    }
    this.checkTop();
  }

  /** The whole-file schema on the top level, arrays standing empty: required keys, non-array values. */
  private checkTop(): void {
    if (this.top.get('images') === EMPTY_ARRAY) {
      this.report({ severity: 'warning', code: 'empty-subset', file: this.file, pointer: '/images', message: `"images" is empty: subset '${this.taskFile.subset}' has no items (a split that trains or evaluates on nothing)` });
    }
    const skeleton: Record<string, unknown> = {};
    for (const [key, value] of this.top) skeleton[key] = value === EMPTY_ARRAY ? [] : value;
    const validate = schemaValidator(this.schema);
    if (validate(skeleton)) return;
    for (const d of schemaFindings(validate.errors, { file: this.file })) {
      if (d.message.startsWith('missing required key')) {
        d.code = 'missing-key';
        d.message = `${d.message}: COCO ${this.taskFile.task ?? 'instances'} files need "${((validate.schema as { required?: string[] }).required ?? []).join('", "')}"`;
      }
      this.report(d);
    }
  }

  private onValue(key: string, index: number, bytes: Buffer, offset: number): void {
    const validate = this.elements.get(key);
    if (index < 0) {
      // A top-level value that is not an array: kept for checkTop (info, or a list that is not one).
      if (validate || key === 'info') this.top.set(key, this.parse(bytes, offset, `/${key}`) ?? null);
      else this.top.set(key, null);
      return;
    }
    if (index === 0) this.top.set(key, []);
    if (!validate) return;
    const pointer = `/${key}/${index}`;
    const value = this.parse(bytes, offset, pointer);
    if (value === undefined) return;
    if (!validate(value)) {
      // `if` errors only say that a `then` failed, which its own error says better.
      const errors = validate.errors?.filter((e) => e.keyword !== 'if') ?? [];
      schemaFindings(errors, { file: this.file, basePointer: pointer }).forEach((d, i) => {
        if (errors[i].keyword !== 'required') d.message = describe(key, value, errors[i].instancePath, errors[i].message);
        this.report(d);
      });
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return;
    const element = value as Record<string, unknown>;
    this.stringIds(key, element, pointer);
    if (key === 'annotations') this.shapes(element, pointer);
  }

  /** One element; Python's bare NaN/Infinity become null so the schema names the field (as the importer does). */
  private parse(bytes: Buffer, offset: number, pointer: string): unknown {
    const parsed = parseElement(bytes, offset);
    if ('error' in parsed) {
      const { offset: where, message } = parsed.error;
      const d: Diagnostic = this.badJson++ < LINES_FOR
        ? jsonError(this.file, where, message).diagnostic
        : { severity: 'error', code: 'bad-json', file: this.file, offset: where, message: `malformed JSON at byte ${where}: ${message}` };
      this.report({ ...d, pointer });
      return undefined;
    }
    return parsed.value;
  }

  /** String ids: pycocotools and datum read them, Datumaro rejects the element (it wants integers). */
  private stringIds(key: string, element: Record<string, unknown>, pointer: string): void {
    const fields = key === 'annotations' ? ['id', 'image_id', 'category_id'] : key === 'images' || key === 'categories' ? ['id'] : [];
    for (const field of fields) {
      const v = element[field];
      if (typeof v !== 'string') continue;
      this.report({ severity: 'warning', code: 'string-id', file: this.file, pointer: `${pointer}/${field}`, message: `${field} ${JSON.stringify(v)} is a string: pycocotools and datum accept it (datum matches "5" with 5, pycocotools does not), Datumaro skips the ${key === 'images' ? 'image' : key === 'categories' ? 'dataset' : 'annotation'}` });
    }
  }

  /** What the schema describes but cannot check: polygons of x, y pairs, keypoints of x, y, v triplets. */
  private shapes(a: Record<string, unknown>, pointer: string): void {
    if (Array.isArray(a.segmentation)) {
      a.segmentation.forEach((part, i) => {
        if (Array.isArray(part) && part.length >= 6 && part.length % 2 !== 0) {
          this.error(`${pointer}/segmentation/${i}`, `polygon has ${part.length} values, not x, y pairs; the importer skips it`);
        }
      });
    }
    const k = a.keypoints;
    if (!Array.isArray(k)) return;
    if (k.length % 3 !== 0) { this.error(`${pointer}/keypoints`, `keypoints has ${k.length} values, not x, y, v triplets; the importer skips them`); return; }
    for (let i = 2; i < k.length; i += 3) {
      if (k[i] !== 0 && k[i] !== 1 && k[i] !== 2) this.error(`${pointer}/keypoints/${i}`, `keypoint ${(i - 2) / 3} has visibility ${JSON.stringify(k[i])}, not 0, 1 or 2; the importer skips the keypoints`);
    }
  }

  private error(pointer: string, message: string): void {
    this.report({ severity: 'error', code: 'schema', file: this.file, pointer, message });
  }

  private report(d: Diagnostic): void {
    this.ctx.reporter.report(d);
  }
}

/** An ajv message about an element, naming the field and showing the value: `bbox must NOT have fewer than 4 items (got [2,2,3])`. */
function describe(key: string, element: unknown, instancePath: string, message = 'does not match the schema'): string {
  const parts = instancePath.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  let value = element;
  for (const p of parts) value = (value as Record<string, unknown> | undefined)?.[p];
  const name = parts.length ? parts.join('/') : `element of "${key}"`;
  let shown = JSON.stringify(value) ?? String(value);
  if (shown.length > 60) shown = `${shown.slice(0, 57)}...`;
  return `${name} ${message} (got ${shown})`;
}
