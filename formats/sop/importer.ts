import fsp from 'node:fs/promises';
import type { Category, Dataset, Item } from '../../src/model.js';
import type { Context, Options } from '../../src/plugin.js';
import { DatumError } from '../../src/diagnostics.js';
import { isFile } from '../../src/files.js';
import { datasetFile, resolveInside, stripExtension } from '../../src/paths.js';
import { excerpt, forEachLine, lineWarner } from '../../src/text.js';
import { INFO_FILE, LIST_FILES, SOP_DIR, SUBSET_FILES, findRoot, isHeader, parseLine, superClassName, type SopLine } from './format.js';

/** A list line kept, with where it was read. */
interface Entry extends SopLine { subset: string; id: string; image: string; file: string; line: number }

/**
 * Items from Ebay_train.txt (subset train) and Ebay_test.txt (test); Ebay_info.txt adds the images
 * neither lists, with no subset (all of them when the two lists are absent). Categories: the
 * super-classes (named by their folder, `bicycle_final` -> `bicycle`; id = super_class_id), then the
 * product classes (named by class_id, parent = their super-class), each sorted by id.
 */
export async function importSop(input: string, _options: Options, ctx: Context): Promise<Dataset> {
  const root = await findRoot(input);
  if (!root) throw new DatumError({ code: 'sop-lists-missing', file: input, message: `none of ${LIST_FILES.join(', ')} found here or in ${SOP_DIR}/; not a Stanford Online Products dataset` });

  const entries: Entry[] = [];
  const byPath = new Set<string>();
  const byId = new Map<string, string>();
  for (const [subset, name] of [...SUBSET_FILES, ['', INFO_FILE] as const]) {
    const file = datasetFile(root, name);
    if (!(await isFile(file))) continue;
    const text = await fsp.readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
      throw new DatumError({ code: 'list-unreadable', file, message: `cannot read the list (${error.code ?? error.message})` });
    });
    const warner = lineWarner(ctx.reporter, file);
    forEachLine(text, (raw, line) => {
      if (line === 1 && isHeader(raw)) return;
      if (!raw.trim()) return;
      const parsed = parseLine(raw);
      if ('error' in parsed) return warner.warn({ code: parsed.code, line, message: `${parsed.error} in '${excerpt(raw)}'; line skipped` });
      // Ebay_info.txt repeats what the subset lists say: only the images they leave out are new
      if (subset === '' && byPath.has(parsed.path)) return;
      let image: string;
      try {
        image = resolveInside(root, parsed.path, { file });
      } catch (error) {
        if (!(error instanceof DatumError)) throw error;
        return warner.warn({ ...error.diagnostic, line, message: `${error.diagnostic.message}; line skipped` });
      }
      const id = stripExtension(parsed.path);
      const earlier = byId.get(id);
      if (earlier !== undefined) return warner.warn({ code: 'duplicate-item', line, item: id, message: `image '${excerpt(parsed.path)}' is already listed (${earlier}); line skipped` });
      byId.set(id, `${name}, ${subset || 'no subset'}`);
      byPath.add(parsed.path);
      entries.push({ ...parsed, subset, id, image, file, line });
    });
    warner.done();
  }

  const { categories, labelOf } = buildCategories(entries, ctx);
  const items: Item[] = entries.map((e) => ({
    id: e.id,
    subset: e.subset,
    image: { path: e.image },
    annotations: [{ type: 'label', label: labelOf.get(e.classId)! }],
  }));
  return { categories, items };
}

/**
 * One category per super-class and per product class. A class listed under two super-classes keeps
 * the first (warned); a super-class id whose images lie in two folders keeps the first folder's name.
 */
function buildCategories(entries: Entry[], ctx: Context): { categories: Category[]; labelOf: Map<number, number> } {
  const supers = new Map<number, string | undefined>();
  const classes = new Map<number, number>();
  for (const e of entries) {
    const folder = superClassName(e.path);
    if (!supers.has(e.superId)) supers.set(e.superId, folder);
    else if (folder !== undefined && supers.get(e.superId) !== undefined && supers.get(e.superId) !== folder) {
      ctx.reporter.warn({ code: 'superclass-folder-mismatch', file: e.file, line: e.line, item: e.id, message: `super_class_id ${e.superId} is '${supers.get(e.superId)}' (its first image's folder) but this image is in '${folder}'; the super-class keeps its first name` });
    }
    const parent = classes.get(e.classId);
    if (parent === undefined) classes.set(e.classId, e.superId);
    else if (parent !== e.superId) {
      ctx.reporter.warn({ code: 'class-superclass-mismatch', file: e.file, line: e.line, item: e.id, message: `class_id ${e.classId} is in super-class ${parent} (its first image) but this line says ${e.superId}; the class keeps super-class ${parent}` });
    }
  }
  const superName = new Map<number, string>();
  const taken = new Set<string>();
  for (const id of [...supers.keys()].sort((a, b) => a - b)) {
    let name = supers.get(id) ?? `super_class_${id}`;
    if (taken.has(name)) name = `${name}_${id}`;
    taken.add(name);
    superName.set(id, name);
  }
  const categories: Category[] = [...superName].map(([id, name]) => ({ name, id }));
  const labelOf = new Map<number, number>();
  for (const id of [...classes.keys()].sort((a, b) => a - b)) {
    labelOf.set(id, categories.length);
    categories.push({ name: String(id), parent: superName.get(classes.get(id)!)!, id });
  }
  return { categories, labelOf };
}
