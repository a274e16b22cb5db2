import fsp from 'node:fs/promises';
import path from 'node:path';

export async function isDirectory(p: string): Promise<boolean> {
  return (await fsp.stat(p).catch(() => null))?.isDirectory() ?? false;
}

export async function isFile(p: string): Promise<boolean> {
  return (await fsp.stat(p).catch(() => null))?.isFile() ?? false;
}

/** Files under `dir` (recursively) with one of `extensions` (lower-case, with dot), as '/'-separated relative paths, sorted. */
export async function listFiles(dir: string, extensions: Set<string>): Promise<string[]> {
  if (!(await isDirectory(dir))) return [];
  const entries = await fsp.readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && extensions.has(path.extname(e.name).toLowerCase()))
    .map((e) => path.relative(dir, path.join(e.parentPath ?? e.path, e.name)).split(path.sep).join('/'))
    .sort();
}

export function withoutExtension(relative: string): string {
  const ext = path.posix.extname(relative);
  return ext ? relative.slice(0, -ext.length) : relative;
}
