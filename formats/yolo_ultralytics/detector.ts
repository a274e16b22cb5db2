import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Detection } from '../../src/plugin.js';
import { readFileHead } from '../../src/files.js';
import { resolveInside } from '../../src/paths.js';
import { classificationSplits, findConfig } from './importer.js';

/**
 * A YAML with names/nc and train/val keys (the file itself or in the folder); weaker: images/ beside
 * labels/ without Darknet's obj.names/obj.data; weakest: <split>/<class>/<image> folders.
 */
export async function detectUltralytics(input: string): Promise<Detection | null> {
  const stat = await fsp.stat(input).catch(() => null);
  if (!stat) return null;
  if (stat.isFile()) {
    if (!/\.ya?ml$/i.test(input)) return null;
    const text = (await readFileHead(input, 65536)).replace(/^\uFEFF/, '');
    return /^(names|nc)\s*:/m.test(text) && /^(train|val)\s*:/m.test(text)
      ? { confidence: 0.9, reason: `${path.basename(input)} with names and train/val keys` }
      : { confidence: 0, reason: `${path.basename(input)} has no names/nc and train/val keys` };
  }
  if (!stat.isDirectory()) return { confidence: 0, reason: 'not a folder or .yaml file' };
  const config = await findConfig(input).catch(() => null);
  if (config) return { confidence: 0.9, reason: `${path.basename(config)} with names and train/val keys` };
  // A name that resolves outside (a symlink) is not there for a detector, which never throws.
  const has = (name: string) => { try { return fs.existsSync(resolveInside(input, name)); } catch { return false; } };
  if (has('obj.names') || has('obj.data')) return { confidence: 0, reason: 'obj.names or obj.data present (Darknet YOLO)' };
  if (has('images') && has('labels')) return { confidence: 0.5, reason: 'images/ and labels/ folders without a data.yaml' };
  const splits = await classificationSplits(input);
  if (splits) return { confidence: 0.6, reason: `classification folders ${splits.join(', ')}/<class>/<image>` };
  return { confidence: 0, reason: 'no .yaml with names and train/val keys, no images/ beside labels/, no train/<class>/<image> folders' };
}
