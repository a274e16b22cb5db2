import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Dataset } from './model.js';
import type { Context, Detection, ExportSummary, FormatPlugin, Options } from './plugin.js';
import { DatumError, Reporter } from './diagnostics.js';
import { getFormat, listFormats } from './registry.js';
import { writeAtomically } from './output.js';
import { forgetPaths } from './paths.js';
import type { Transform } from './transforms/index.js';

export function createContext(partial: Partial<Context> = {}): Context {
  return { reporter: partial.reporter ?? new Reporter(), progress: partial.progress ?? (() => {}) };
}

export interface DetectionResult { format: string; detection: Detection }

/** Every format whose detector recognizes `input`, most confident first. */
export async function detectFormats(input: string): Promise<DetectionResult[]> {
  await assertReadable(input);
  const results: DetectionResult[] = [];
  for (const plugin of listFormats()) {
    if (!plugin.detect || !plugin.import) continue;
    const detection = await plugin.detect(input).catch(() => null);
    if (detection && detection.confidence > 0) results.push({ format: plugin.name, detection });
  }
  return results.sort((a, b) => b.detection.confidence - a.detection.confidence);
}

/** The single format `input` is in, or an error that lists what was seen when none or several fit. */
export async function detectFormat(input: string): Promise<FormatPlugin> {
  const found = await detectFormats(input);
  if (found.length === 0) {
    throw new DatumError({ code: 'unknown-format', file: input, message: 'no known dataset format recognized here; name one with -if' });
  }
  const [best, second] = found;
  if (second && best.detection.confidence - second.detection.confidence < 0.1) {
    const list = found.map((f) => `${f.format} (${f.detection.confidence.toFixed(2)}: ${f.detection.reason})`).join('; ');
    throw new DatumError({ code: 'ambiguous-format', file: input, message: `the format is ambiguous: ${list}; name one with -if` });
  }
  return getFormat(best.format);
}

export async function importDataset(input: string, format: string | undefined, options: Options = {}, ctx: Context = createContext()): Promise<{ format: FormatPlugin; dataset: Dataset }> {
  await assertReadable(input);
  forgetPaths();
  const plugin = format ? getFormat(format, 'import') : await detectFormat(input);
  const dataset = await plugin.import!(input, options, ctx);
  return { format: plugin, dataset };
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
