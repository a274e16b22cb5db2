import fs from 'node:fs';
import path from 'node:path';
import type { Detection } from '../../src/plugin.js';
import { readFileHead } from '../../src/files.js';
import { resolveInside } from '../../src/paths.js';
import { NAMES_FILE, parseConfig } from './format.js';
import { locate } from './layout.js';

/**
 * obj.data or another Darknet *.data config (strict layout), or obj.names (loose layouts).
 * A data.yaml beside them means YOLO-Ultralytics, which has its own plugin.
 */
export async function detectYolo(input: string): Promise<Detection | null> {
  const { root, configFile } = await locate(input).catch(() => ({ root: undefined, configFile: undefined }));
  if (!root) return { confidence: 0, reason: 'no obj.data, other *.data or obj.names' };
  // A name that resolves outside (a symlink) is not there for a detector, which never throws.
  const has = (name: string) => { try { return fs.existsSync(resolveInside(root, name)); } catch { return false; } };
  if (has('data.yaml')) return { confidence: 0, reason: 'data.yaml present (YOLO-Ultralytics)' };
  if (configFile) {
    const config = parseConfig(await readFileHead(configFile, 65536));
    const name = path.basename(configFile);
    return config.has('names') || config.has('classes')
      ? { confidence: 0.95, reason: `${name} with names/classes keys` }
      : { confidence: 0.6, reason: `${name} without names/classes keys` };
  }
  if (!has(NAMES_FILE)) return { confidence: 0, reason: `no ${NAMES_FILE} or *.data file` };
  const labelDir = ['labels', 'Labels', 'annotations', 'Annotations'].find(has);
  return labelDir
    ? { confidence: 0.8, reason: `${NAMES_FILE} with a ${labelDir}/ folder` }
    : { confidence: 0.6, reason: `${NAMES_FILE} (labels beside the images)` };
}
