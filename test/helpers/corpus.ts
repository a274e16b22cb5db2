import path from 'node:path';
import fs from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';

/** The project root and the shared conformance corpus beside it (read-only; never copied into the repo). */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const CORPUS = path.resolve(ROOT, '../shared/corpus/datumaro');

export function corpus(...parts: string[]): string {
  return path.join(CORPUS, ...parts);
}

/** A fresh temporary folder, removed by the returned cleanup. */
export function tempDir(prefix = 'datum-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}
