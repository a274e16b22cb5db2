import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Detection } from '../../src/plugin.js';
import { CONFIG_FILE, NAMES_FILE, parseConfig } from './format.js';

/**
 * obj.data (strict Darknet layout) or obj.names (loose layouts). A data.yaml beside them means
 * YOLO-Ultralytics, which has its own plugin.
 */
export async function detectYolo(input: string): Promise<Detection | null> {
  const stat = await fsp.stat(input).catch(() => null);
  if (!stat) return null;
  const root = stat.isDirectory() ? input : path.dirname(input);
  const has = (name: string) => fs.existsSync(path.join(root, name));
  if (has('data.yaml')) return null;
  if (has(CONFIG_FILE)) {
    const config = parseConfig(await fsp.readFile(path.join(root, CONFIG_FILE), 'utf8').catch(() => ''));
    return config.has('names') || config.has('classes')
      ? { confidence: 0.95, reason: `${CONFIG_FILE} with names/classes keys` }
      : { confidence: 0.6, reason: `${CONFIG_FILE} without names/classes keys` };
  }
  if (!has(NAMES_FILE)) return null;
  const labelDir = ['labels', 'Labels', 'annotations', 'Annotations'].find(has);
  return labelDir
    ? { confidence: 0.8, reason: `${NAMES_FILE} with a ${labelDir}/ folder` }
    : { confidence: 0.6, reason: `${NAMES_FILE} (labels beside the images)` };
}
