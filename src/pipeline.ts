import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Dataset } from './model.js';
import type { Context, ExportSummary, FormatPlugin, Options } from './plugin.js';
import { locateDataset } from './detect.js';
import { DatumError, Reporter } from './diagnostics.js';
import { getFormat } from './registry.js';
import { writeAtomically } from './output.js';
import { forgetPaths } from './paths.js';
import type { Transform } from './transforms/index.js';

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
  outputFormat: string;
  overwrite?: boolean;
  transforms?: Transform[];
  importOptions?: Options;
  exportOptions?: Options;
}

export interface ConvertResult extends ExportSummary { inputFormat: string; outputFormat: string; output: string }

/** import -> transforms -> export, written atomically into `output`. */
export async function convert(request: ConvertRequest, ctx: Context = createContext()): Promise<ConvertResult> {
  const exporter = getFormat(request.outputFormat, 'export');
  const input = path.resolve(request.input);
  const output = path.resolve(request.output);
  await assertReadable(input);
  // Replacing the output must never delete the input, and a folder importer scanning its input must
  // not find the output being written; an annotation file's folder may hold the output.
  const inputIsDir = (await fsp.stat(input)).isDirectory();
  const inputDir = inputIsDir ? input : path.dirname(input);
  if (output === inputDir || input.startsWith(output + path.sep) || (inputIsDir && output.startsWith(input + path.sep))) {
    throw new DatumError({ code: 'output-overlaps-input', file: request.output, message: `output folder must not be, contain or lie inside the input folder ${inputDir}` });
  }
  const { format, dataset } = await importDataset(input, request.inputFormat, request.importOptions, ctx);
  const transformed = (request.transforms ?? []).reduce((d, t) => t(d, ctx), dataset);
  const summary = await writeAtomically(output, request.overwrite ?? false,
    (dir) => exporter.export!(transformed, dir, request.exportOptions ?? {}, ctx));
  return { ...summary, inputFormat: format.name, outputFormat: exporter.name, output };
}

async function assertReadable(input: string): Promise<void> {
  try {
    await fsp.access(input);
  } catch {
    throw new DatumError({ code: 'input-missing', file: input, message: 'input path does not exist or cannot be read' });
  }
}
