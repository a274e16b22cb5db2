import fsp from 'node:fs/promises';
import { DatumError, Reporter, type Diagnostic } from '../diagnostics.js';
import type { Context } from '../plugin.js';
import { createContext } from '../pipeline.js';
import { locateDataset } from '../detect.js';
import { forgetPaths } from '../paths.js';
import { Findings } from './findings.js';
import { SemanticChecker, type ValidationTask } from './semantic.js';

export type { ValidationTask } from './semantic.js';
export { TASK_KINDS, IMBALANCE_RATIO } from './semantic.js';

export interface ValidateOptions {
  /** The input format; detected (with the dataset root) when absent. */
  format?: string;
  task?: ValidationTask;
  /** How many findings the result keeps (the summary counts them all). */
  maxFindings?: number;
}

export interface ValidationResult {
  format: string;
  root: string;
  summary: { errors: number; warnings: number; infos: number };
  findings: Diagnostic[];
  /** Every finding counted by code and severity (also those not kept in `findings`). */
  counts: { code: string; severity: Diagnostic['severity']; count: number }[];
}

/** A reporter that hands each message on and keeps none (the Findings keep a bounded number). */
class SinkReporter extends Reporter {
  constructor(private readonly sink: (d: Diagnostic) => void) { super(); }
  override report(d: Diagnostic): void { this.sink(d); }
}

/**
 * Where the structural layer reported a defect, so an importer message about the same spot is not a
 * second finding: file + line, file + the first two segments of a JSON pointer (`/annotations/17`),
 * file + element; for a finding about a whole file, file + code. One short string per structural finding.
 */
function locations(d: Diagnostic): string[] {
  const keys: string[] = [];
  const file = d.file ?? '';
  if (d.line !== undefined) keys.push(`${file}\0L${d.line}`);
  if (d.pointer) keys.push(`${file}\0P${d.pointer.split('/').slice(0, 3).join('/')}`);
  // `<bndbox><xmin>` and `<bndbox> <xmin>` name one element.
  if (d.element) keys.push(`${file}\0E${d.element.replace(/\s+/g, '')}`);
  // A whole-file defect (no place in it): the same code about the same file is the same defect.
  if (!keys.length && d.file) keys.push(`${file}\0C${d.code}`);
  return keys;
}

/**
 * A structural error about a top-level key (`/images` missing or not a list) leaves the rest of its
 * file without meaning to the importer: its messages about that file are consequences, not defects.
 */
function spoilsFile(d: Diagnostic): boolean {
  return d.severity === 'error' && d.file !== undefined && d.pointer !== undefined && /^\/[^/]+$/.test(d.pointer);
}

/**
 * Codes the plugins use for an image file that is not there. When no image of the dataset is present
 * (annotations downloaded without media) they all say the same thing as the one `images-absent` note.
 */
const MISSING_IMAGE_CODES = new Set(['missing-image', 'listed-image-missing', 'label-without-image']);

/**
 * Importer warnings (an import goes on past them) that are errors for a dataset about to be trained
 * on: the annotation refers to an image or a category the file does not have, so it is lost or loses
 * its label.
 */
const LOST_ANNOTATION_CODES = new Set(['unknown-image', 'unknown-category']);

/**
 * `datum validate`: the format's structural checks of its files, then its import (its warnings become
 * findings), then the semantic checks on the model while the items stream by, once each.
 */
export async function validateDataset(input: string, options: ValidateOptions = {}, ctx: Context = createContext()): Promise<ValidationResult> {
  await fsp.access(input).catch(() => {
    throw new DatumError({ code: 'input-missing', file: input, message: 'input path does not exist or cannot be read' });
  });
  const { format, root } = await locateDataset(input, options.format);
  forgetPaths();
  const findings = new Findings(options.maxFindings ?? 1000);
  const pluginOptions = options.task ? { task: options.task } : {};

  const structural = new Set<string>();
  // Missing-image findings wait for the semantic layer to say whether any image is present at all.
  const missingImages = new Findings(findings.max);
  const add = (d: Diagnostic) => (MISSING_IMAGE_CODES.has(d.code) ? missingImages : findings).add(d);
  if (format.validate) {
    const reporter = new SinkReporter((d) => {
      add(d);
      for (const k of locations(d)) structural.add(k);
      if (spoilsFile(d)) structural.add(`${d.file}\0*`);
    });
    try {
      await format.validate(root, pluginOptions, { ...ctx, reporter });
    } catch (error) {
      if (!(error instanceof DatumError)) throw error;
      findings.add(error.diagnostic);
    }
  }

  let imagesAbsent = false;
  if (format.import) {
    const fromImporter = (d: Diagnostic) => {
      if (structural.has(`${d.file}\0*`) || locations(d).some((k) => structural.has(k))) return;
      add(LOST_ANNOTATION_CODES.has(d.code) ? { ...d, severity: 'error' } : d);
    };
    const reporter = new SinkReporter(fromImporter);
    try {
      const dataset = await format.import(root, {}, { ...ctx, reporter });
      const checker = new SemanticChecker(dataset.categories, (d, times) => findings.add(d, times), { task: options.task }, findings.max);
      let done = 0;
      for await (const item of dataset.items) {
        await checker.check(item);
        ctx.progress('validating items', ++done);
      }
      await checker.finish();
      imagesAbsent = checker.imagesAbsent;
    } catch (error) {
      // An import that cannot go on is one finding; the semantic layer needs the whole model, so stops.
      if (!(error instanceof DatumError)) throw error;
      fromImporter(error.diagnostic);
    }
  }

  if (!imagesAbsent) {
    const kept = missingImages.list();
    for (const d of kept) findings.add(d);
    // Those past the kept examples are counted all the same.
    for (const c of missingImages.counts.values()) {
      const shown = kept.filter((d) => d.code === c.code && d.severity === c.severity);
      if (c.count > shown.length) findings.add(shown[0] ?? { severity: c.severity, code: c.code, message: '' }, c.count - shown.length);
    }
  }
  return { format: format.name, root, summary: { ...findings.summary }, findings: findings.list(), counts: [...findings.counts.values()] };
}
