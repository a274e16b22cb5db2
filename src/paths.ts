import path from 'node:path';
import { DatumError } from './diagnostics.js';

/**
 * Resolves a dataset-supplied relative path (an image name, a label file name) under `root`, refusing
 * anything that would land outside it: `../x`, absolute paths, drive letters, NUL bytes.
 * Every importer and exporter goes through this for names that come from a dataset.
 */
export function resolveInside(root: string, relative: string, context: { file?: string; element?: string; item?: string } = {}): string {
  const normalized = relative.replace(/\\/g, '/');
  if (normalized.includes('\0') || path.posix.isAbsolute(normalized) || /^[a-zA-Z]:/.test(normalized)) {
    throw unsafe(relative, context);
  }
  const rootAbs = path.resolve(root);
  const full = path.resolve(rootAbs, normalized);
  if (full !== rootAbs && !full.startsWith(rootAbs + path.sep)) throw unsafe(relative, context);
  return full;
}

/** True when `relative` stays inside any root (same rules as `resolveInside`). */
export function isSafeRelative(relative: string): boolean {
  try { resolveInside('/r', relative); return true; } catch { return false; }
}

function unsafe(relative: string, context: { file?: string; element?: string; item?: string }): DatumError {
  return new DatumError({
    code: 'unsafe-path',
    message: `path '${relative}' points outside the dataset folder; refusing to read or write it`,
    ...context,
  });
}

/** Forward-slash relative path from `root` to `file`. */
export function toPosixRelative(root: string, file: string): string {
  return path.relative(root, file).split(path.sep).join('/');
}

/** `a/b/c.jpg` -> `a/b/c` */
export function stripExtension(name: string): string {
  const slash = name.lastIndexOf('/');
  const dot = name.lastIndexOf('.');
  return dot > slash + 1 ? name.slice(0, dot) : name;
}
