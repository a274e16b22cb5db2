import fsp from 'node:fs/promises';
import path from 'node:path';
import { isDirectory } from '../../src/files.js';

/** Files under `dir` (recursively) with one of `extensions` (lower-case, with dot), as '/'-separated relative paths, sorted. */
export async function listFiles(dir: string, extensions: Set<string>): Promise<string[]> {
  if (!(await isDirectory(dir))) return [];
  const entries = await fsp.readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && extensions.has(path.extname(e.name).toLowerCase()))
    .map((e) => path.relative(dir, path.join(e.parentPath ?? e.path, e.name)).split(path.sep).join('/'))
    .sort();
}
