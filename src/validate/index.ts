import type { Diagnostic } from '../diagnostics.js';
import { Reporter } from '../diagnostics.js';
import type { Context } from '../plugin.js';
import { createContext } from '../pipeline.js';
import { locateDataset } from '../detect.js';
import { forgetPaths } from '../paths.js';

export type ValidationTask = 'detection' | 'segmentation' | 'classification' | 'pose';

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
}

/** (Stub: issue 8 replaces it with the schema + semantic layers.) */
export async function validateDataset(input: string, options: ValidateOptions = {}, ctx: Context = createContext()): Promise<ValidationResult> {
  const { format, root } = await locateDataset(input, options.format);
  forgetPaths();
  const reporter = new Reporter();
  await format.validate?.(root, options.task ? { task: options.task } : {}, { ...ctx, reporter });
  const findings = reporter.messages;
  const count = (s: string) => findings.filter((f) => f.severity === s).length;
  return { format: format.name, root, summary: { errors: count('error'), warnings: count('warning'), infos: count('info') }, findings };
}
