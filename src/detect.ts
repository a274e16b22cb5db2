import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Detection, FormatPlugin } from './plugin.js';
import { DatumError } from './diagnostics.js';
import { getFormat, listFormats } from './registry.js';
import { resolveInside } from './paths.js';

export interface DetectionResult { format: string; detection: Detection }
export interface Candidate { format: string; confidence: number; reason: string }
export interface Rejection { format: string; reason: string }
/** A dataset found below a folder that is not one itself: its root and its most likely format. */
export interface DatasetFound extends Candidate { root: string; ambiguous: boolean }

/** What `datum detect` says of a path. */
export interface DetectReport {
  /** The folder (or file) the dataset was found in: the path itself, or one folder below it. */
  root: string;
  /** Formats that recognize `root`, most confident first. */
  candidates: Candidate[];
  /** Formats that do not, with why. */
  rejected: Rejection[];
  /** When the path holds several datasets below it (and is none itself): those datasets. */
  datasets: DatasetFound[];
}

/** Confidences closer than this leave the format ambiguous. */
const AMBIGUITY_MARGIN = 0.1;

/** What every importing format's detector says of `input` itself. */
async function detectHere(input: string, plugins: readonly FormatPlugin[]): Promise<{ candidates: Candidate[]; rejected: Rejection[] }> {
  const candidates: Candidate[] = [];
  const rejected: Rejection[] = [];
  for (const plugin of plugins) {
    if (!plugin.detect || !plugin.import) continue;
    // A detector answers, never throws; one that does (a third-party bug) rejects.
    const detection = await plugin.detect(input).catch(() => null);
    if (detection && detection.confidence > 0) candidates.push({ format: plugin.name, confidence: detection.confidence, reason: detection.reason });
    else rejected.push({ format: plugin.name, reason: detection?.reason || 'nothing of this format seen' });
  }
  candidates.sort((a, b) => b.confidence - a.confidence);
  return { candidates, rejected };
}

/** Every format whose detector recognizes `input` itself, most confident first. */
export async function detectFormats(input: string): Promise<DetectionResult[]> {
  await assertReadable(input);
  const { candidates } = await detectHere(input, listFormats());
  return candidates.map((c) => ({ format: c.format, detection: { confidence: c.confidence, reason: c.reason } }));
}

/** The single format `input` itself is in, or an error that lists what was seen when none or several fit. */
export async function detectFormat(input: string): Promise<FormatPlugin> {
  const { format } = await locateDataset(input, undefined, 0);
  return format;
}

/**
 * The dataset at `input` or, when `input` is none, in the folders below it down to `depth` levels
 * (a zip extracted into a folder of its own name, `samples/` holding `cvat_dataset/`). A folder that
 * is a dataset is not searched further; hidden folders and symlinks leading outside are not entered.
 */
export async function detectDataset(input: string, depth = 2, plugins: readonly FormatPlugin[] = listFormats()): Promise<DetectReport> {
  await assertReadable(input);
  const here = await detectHere(input, plugins);
  if (here.candidates.length || depth <= 0) return { root: input, ...here, datasets: [] };
  const found: DetectReport[] = [];
  for (const sub of await subfolders(input)) {
    const report = await detectDataset(sub, depth - 1, plugins);
    if (report.candidates.length || report.datasets.length) found.push(report);
  }
  if (found.length === 1 && found[0].candidates.length) return found[0];
  const datasets = found.flatMap((r): DatasetFound[] => r.candidates.length
    ? [{ root: r.root, ...r.candidates[0], ambiguous: isAmbiguous(r.candidates) }]
    : r.datasets);
  return { root: input, ...here, datasets };
}

/** Whether the two most confident candidates are too close to choose between. */
export function isAmbiguous(candidates: readonly Candidate[]): boolean {
  return candidates.length > 1 && candidates[0].confidence - candidates[1].confidence < AMBIGUITY_MARGIN;
}

/** Where a dataset is and what format it is in. */
export interface DatasetLocation { format: FormatPlugin; root: string }

/**
 * The dataset `convert`, `stats` and `validate` read: at `input` or below it (see `detectDataset`),
 * in the one format that wins; with `format` given, that format, at `input` or at the one folder below
 * it that the format recognizes. A DatumError says what was seen and what settles it otherwise.
 */
export async function locateDataset(input: string, format?: string, depth = 2): Promise<DatasetLocation> {
  if (format) {
    const plugin = getFormat(format, 'import');
    if (!plugin.detect || !(await isFolder(input))) return { format: plugin, root: input };
    const report = await detectDataset(input, depth, [plugin]);
    if (report.datasets.length > 1) throw severalDatasets(input, report.datasets);
    const root = report.candidates.length ? report.root : input; // the importer names what is missing
    return { format: plugin, root };
  }
  const report = await detectDataset(input, depth);
  if (report.datasets.length > 1) throw severalDatasets(input, report.datasets);
  const [best] = report.candidates;
  if (!best) {
    throw new DatumError({ code: 'unknown-format', file: input, message: `no known dataset format recognized here${depth > 0 ? ` or ${depth} folder${depth === 1 ? '' : 's'} below` : ''}; name one with -if (\`datum detect\` says why each format was rejected)` });
  }
  if (isAmbiguous(report.candidates)) {
    throw new DatumError({ code: 'ambiguous-format', file: report.root, message: `the format is ambiguous: ${describeCandidates(report.candidates)}; ${settleHint(report.candidates)}` });
  }
  return { format: getFormat(best.format), root: report.root };
}

/** `-if coco or -if voc settles it`, for the candidates too close to choose between. */
export function settleHint(candidates: readonly Candidate[]): string {
  const close = candidates.filter((c) => candidates[0].confidence - c.confidence < AMBIGUITY_MARGIN);
  return `${close.map((c) => `-if ${c.format}`).join(' or ')} settles it`;
}

function describeCandidates(candidates: readonly Candidate[]): string {
  return candidates.map((c) => `${c.format} (${c.confidence.toFixed(2)}: ${c.reason})`).join('; ');
}

function severalDatasets(input: string, datasets: readonly DatasetFound[]): DatumError {
  const list = datasets.map((d) => `${path.relative(input, d.root) || '.'} (${d.ambiguous ? 'ambiguous, ' : ''}${d.format})`).join(', ');
  return new DatumError({ code: 'several-datasets', file: input, message: `this folder holds ${datasets.length} datasets; name one as the input: ${list}` });
}

/** The folders directly inside `dir` that stay inside it, hidden ones left out, sorted by name. */
async function subfolders(dir: string): Promise<string[]> {
  const entries = await fsp.readdir(dir, { withFileTypes: true }).catch(() => []);
  const folders: string[] = [];
  for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    if (e.name.startsWith('.') || (!e.isDirectory() && !e.isSymbolicLink())) continue;
    try {
      const sub = path.join(dir, e.name); // as the user wrote the path, not made absolute
      resolveInside(dir, e.name);
      if (await isFolder(sub)) folders.push(sub);
    } catch { /* a symlink leading outside: not entered */ }
  }
  return folders;
}

async function isFolder(p: string): Promise<boolean> {
  return (await fsp.stat(p).catch(() => null))?.isDirectory() ?? false;
}

async function assertReadable(input: string): Promise<void> {
  try {
    await fsp.access(input);
  } catch {
    throw new DatumError({ code: 'input-missing', file: input, message: 'input path does not exist or cannot be read' });
  }
}
