import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { isDirectory } from '../../src/files.js';

/**
 * Files under `dir` (recursively) with one of `extensions` (lower-case, with dot), as '/'-separated relative paths, sorted.
 * A symlink to a file is listed too: callers open every name through `resolveInside`, which refuses one that leads outside.
 */
export async function listFiles(dir: string, extensions: Set<string>): Promise<string[]> {
  if (!(await isDirectory(dir))) return [];
  const entries = await fsp.readdir(dir, { recursive: true, withFileTypes: true });
  const files: string[] = [];
  for (const e of entries) {
    if (!extensions.has(path.extname(e.name).toLowerCase())) continue;
    const file = path.join(e.parentPath ?? e.path, e.name);
    if (e.isFile() || (e.isSymbolicLink() && linksToFile(file))) {
      files.push(path.relative(dir, file).split(path.sep).join('/'));
    }
  }
  return files.sort();
}

function linksToFile(file: string): boolean {
  try { return fs.statSync(file).isFile(); } catch { return false; } // dangling or looping
}
