import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Dataset } from './model.js';
import type { Context, ExportSummary, FormatPlugin, Options, Transform } from './plugin.js';
import { locateDataset } from './detect.js';
import { DatumError, Reporter } from './diagnostics.js';
import { getFormat } from './registry.js';
import { writeAtomically } from './output.js';
import { forgetPaths } from './paths.js';
import { keepShard, type Shard } from './shard.js';

export function createContext(partial: Partial<Context> = {}): Context {
  return { reporter: partial.reporter ?? new Reporter(), progress: partial.progress ?? (() => {}) };
}

export { detectFormat, detectFormats } from './detect.js';
export type { DetectionResult } from './detect.js';

/**
 * Reads the dataset at `input` (or in the one folder below it that holds a dataset, see
 * `locateDataset`), in `format` or the detected one.
 */
export async function importDataset(input: string, format: string | undefined, options: Options = {}, ctx: Context = createContext()): Promise<{ format: FormatPlugin; dataset: Dataset; root: string }> {
  await assertReadable(input);
  forgetPaths();
  const { format: plugin, root } = await locateDataset(input, format);
  const dataset = await plugin.import!(root, options, ctx);
  return { format: plugin, dataset, root };
}

export interface ConvertRequest {
  input: string;
  inputFormat?: string;
  output: string;
  /** Default: the input's format (`datum transform`). */
  outputFormat?: string;
  overwrite?: boolean;
  transforms?: Transform[];
  importOptions?: Options;
  exportOptions?: Options;
  /** Only the items of this shard are converted (before any transform); categories are all kept. */
  shard?: Shard;
}

export interface ConvertResult extends ExportSummary { inputFormat: string; outputFormat: string; output: string }

/** import -> transforms -> export, written atomically into `output`. */
export async function convert(request: ConvertRequest, ctx: Context = createContext()): Promise<ConvertResult> {
  if (request.outputFormat !== undefined) getFormat(request.outputFormat, 'export'); // fail before reading
  const input = path.resolve(request.input);
  const output = path.resolve(request.output);
  await assertOutputApart([input], output, request.output);
  const { format, dataset } = await importDataset(input, request.inputFormat, request.importOptions, ctx);
  const exporter = getFormat(request.outputFormat ?? format.name, 'export');
  const selected = request.shard ? keepShard(dataset, request.shard) : dataset;
  const transformed = await applyTransforms(selected, request.transforms ?? [], ctx);
  const summary = await exportDataset(transformed, output, exporter, { overwrite: request.overwrite, options: request.exportOptions }, ctx);
  return { ...summary, inputFormat: format.name, outputFormat: exporter.name, output };
}

/** Applies transforms in order; each gets the previous one's dataset. */
export async function applyTransforms(dataset: Dataset, transforms: readonly Transform[], ctx: Context): Promise<Dataset> {
  for (const transform of transforms) dataset = await transform(dataset, ctx);
  return dataset;
}

/** Exports `dataset` into `output`, atomically: a failed run leaves nothing there (see writeAtomically). */
export async function exportDataset(dataset: Dataset, output: string, exporter: FormatPlugin, opts: { overwrite?: boolean; options?: Options } = {}, ctx: Context = createContext()): Promise<ExportSummary> {
  if (!exporter.export) getFormat(exporter.name, 'export');
  return writeAtomically(path.resolve(output), opts.overwrite ?? false, (dir) => exporter.export!(dataset, dir, opts.options ?? {}, ctx));
}

/**
 * Checks that every input exists and that `output` neither is, contains nor lies inside an input's
 * folder: replacing the output must never delete an input, and a folder importer scanning its input
 * must not find the output being written. An annotation file's folder may hold the output.
 */
export async function assertOutputApart(inputs: readonly string[], output: string, shownOutput = output): Promise<void> {
  output = path.resolve(output);
  for (const given of inputs) {
    const input = path.resolve(given);
    await assertReadable(input);
    const inputIsDir = (await fsp.stat(input)).isDirectory();
    const inputDir = inputIsDir ? input : path.dirname(input);
    if (output === inputDir || input.startsWith(output + path.sep) || (inputIsDir && output.startsWith(input + path.sep))) {
      throw new DatumError({ code: 'output-overlaps-input', file: shownOutput, message: `output folder must not be, contain or lie inside the input folder ${inputDir}` });
    }
  }
}

/** A DatumError `input-missing` naming `input` when it cannot be read. */
export async function assertReadable(input: string): Promise<void> {
  try {
    await fsp.access(input);
  } catch {
    throw new DatumError({ code: 'input-missing', file: input, message: 'input path does not exist or cannot be read' });
  }
}
