import fs from 'node:fs';
import fsp from 'node:fs/promises';
import type { Diagnostic } from '../../src/diagnostics.js';
import { DatumError, Reporter } from '../../src/diagnostics.js';
import type { Context, Options } from '../../src/plugin.js';
import { isSafeRelative, resolveInside } from '../../src/paths.js';
import { checkLabelFile, forEachFileLine } from '../yolo_ultralytics/validate.js';
import { readNames } from './importer.js';
import { findLayout, locate, type Layout } from './layout.js';
import { NON_SUBSET_KEYS, localizePath, parseConfig } from './format.js';

/** Layout findings that mean a subset or item is not read at all: errors, not the importer's warnings. */
const DROPPING = new Set(['subset-list-missing', 'unsafe-path']);

/**
 * Structural checks of a Darknet YOLO dataset: obj.data's keys (`classes` an integer matching
 * obj.names, the image lists present inside the dataset, `names`), obj.names, the list lines'
 * images, and every label file's `class cx cy w h` lines (the checker shared with YOLO-Ultralytics).
 */
export async function validateYolo(input: string, _options: Options, ctx: Context): Promise<void> {
  const reporter = ctx.reporter;
  // The layout's own warnings (lists missing, paths outside, duplicates) are collected, then passed on.
  const scratch = new Reporter();
  const sub: Context = { ...ctx, reporter: scratch };
  const forward = () => {
    for (const d of scratch.messages.splice(0)) reporter.report({ ...d, severity: DROPPING.has(d.code) ? 'error' : d.severity });
  };
  let layout: Layout;
  let config: ReturnType<typeof parseConfig> | null = null;
  try {
    const location = await locate(input);
    if (location.configFile) {
      config = parseConfig(await fsp.readFile(location.configFile, 'utf8'));
      checkConfig(config, location.configFile, reporter);
    }
    layout = await findLayout(location, sub);
  } catch (error) {
    forward();
    if (error instanceof DatumError) { reporter.report({ ...error.diagnostic, severity: 'error' }); return; }
    const code = (error as NodeJS.ErrnoException).code;
    if (code) { reporter.report({ severity: 'error', code: 'unreadable', file: input, message: `cannot read the dataset (${code})` }); return; }
    throw error;
  }
  forward();

  let classCount: number | null = null;
  try {
    classCount = (await readNames(layout.namesFile, sub)).length;
  } catch (error) {
    if (!(error instanceof DatumError)) throw error;
    reporter.report({ ...error.diagnostic, severity: 'error' });
  }
  forward();
  const declared = layout.declaredClasses;
  if (declared && classCount !== null && /^\d+$/.test(declared.value) && Number(declared.value) !== classCount) {
    reporter.report({ severity: 'warning', code: 'class-count-mismatch', file: layout.configFile, line: declared.line, message: `classes = ${declared.value} but ${layout.namesFile.split(/[\\/]/).pop()} has ${classCount} names; Darknet trains with classes, datum uses the names` });
  }

  const missing = new Map<string, Set<string>>();
  for (const entry of layout.entries) {
    const item = entry.subset ? `${entry.subset}/${entry.id}` : entry.id;
    if (!entry.image) {
      reporter.report({ severity: 'warning', code: 'label-without-image', file: entry.label, item, message: 'label file has no image of the same name; its boxes stay normalized' });
    } else if (!fs.existsSync(entry.image)) {
      if (!missing.has(entry.subset)) missing.set(entry.subset, new Set());
      missing.get(entry.subset)!.add(entry.image);
    }
    const label = [entry.label, entry.altLabel].find((f) => f && fs.existsSync(f));
    if (label) await checkLabelFile(label, { task: 'detect', nc: classCount, consumer: 'Darknet' }, reporter, item);
  }
  if (config && layout.configFile) await reportMissingImages(layout, config, missing, reporter);
  else for (const images of missing.values()) for (const file of images) reporter.report({ severity: 'warning', code: 'listed-image-missing', file, message: 'image not found' });
}

/** obj.data: `classes` an integer, `names` given, at least one image list. */
function checkConfig(config: ReturnType<typeof parseConfig>, file: string, reporter: Reporter): void {
  const classes = config.get('classes');
  if (!classes) {
    reporter.report({ severity: 'warning', code: 'config-key-missing', file, message: 'no "classes = N"; Darknet then assumes 20 classes' });
  } else if (!/^\d+$/.test(classes.value)) {
    reporter.report({ severity: 'error', code: 'bad-classes', file, line: classes.line, message: `classes must be a non-negative integer, found '${classes.value.slice(0, 40)}'` });
  }
  if (!config.has('names')) {
    reporter.report({ severity: 'warning', code: 'config-key-missing', file, message: 'no "names = <file>"; obj.names beside obj.data is used' });
  }
  if (![...config.keys()].some((k) => !NON_SUBSET_KEYS.has(k))) {
    reporter.report({ severity: 'error', code: 'no-image-lists', file, message: 'no image list (train = <file>, valid = <file>); the dataset has no items' });
  }
}

/** The list lines naming images that do not exist, with their line (each list streamed, never held whole). */
async function reportMissingImages(layout: Layout, config: ReturnType<typeof parseConfig>, missing: Map<string, Set<string>>, reporter: Reporter): Promise<void> {
  for (const [subset, images] of missing) {
    const entry = config.get(subset);
    const rel = entry ? localizePath(entry.value) : '';
    let list: string | undefined;
    try { list = rel && isSafeRelative(rel) ? resolveInside(layout.root, rel) : undefined; } catch { list = undefined; }
    const found: Diagnostic[] = [];
    if (list && fs.existsSync(list)) {
      await forEachFileLine(list, (raw, line) => {
        if (!raw.trim() || found.length >= 50) return;
        let image: string;
        try { image = resolveInside(layout.root, localizePath(raw)); } catch { return; }
        if (images.delete(image)) found.push({ severity: 'warning', code: 'listed-image-missing', file: list, line, message: `image '${raw.trim().slice(0, 80)}' not found; the item keeps its boxes normalized` });
      }).catch(() => {});
    }
    for (const d of found) reporter.report(d);
    for (const file of [...images].slice(0, 50)) reporter.report({ severity: 'warning', code: 'listed-image-missing', file, message: `image of subset '${subset}' not found` });
  }
}
