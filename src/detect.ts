import type { FormatPlugin } from './plugin.js';
import { getFormat } from './registry.js';
import { detectFormat } from './pipeline.js';

/** Where a dataset is and what format it is in. */
export interface DatasetLocation { format: FormatPlugin; root: string }

/**
 * The dataset at or below `input` (up to `depth` folders down) and its format; with `format` given, that
 * format at `input`. Throws a DatumError when none or several formats or datasets fit.
 * (Stub: issue 8 completes it with the nested search.)
 */
export async function locateDataset(input: string, format?: string, _depth = 2): Promise<DatasetLocation> {
  if (format) return { format: getFormat(format, 'import'), root: input };
  return { format: await detectFormat(input), root: input };
}
