import path from 'node:path';
import { readFileHead } from '../../src/files.js';
import type { Detection } from '../../src/plugin.js';
import { findTaskFiles, sniffCoco } from './layout.js';

/**
 * COCO files are found by name or, for other `*.json` names, by their first bytes (layout.ts); the
 * start of the first file must be a COCO object: top-level `images`/`annotations`/`categories` arrays.
 */
export async function detectCoco(input: string): Promise<Detection | null> {
  const files = await findTaskFiles(input, true);
  if (files.length === 0) return { confidence: 0, reason: 'no annotations/*.json and no .json file with COCO keys' };
  const first = files[0];
  const head = await readFileHead(first.file, 16 * 1024);
  const where = path.relative(path.dirname(path.resolve(input)), first.file) || path.basename(first.file);
  if (!/^\uFEFF?\s*\{/.test(head)) return { confidence: 0, reason: `${where} does not start with a JSON object` };
  const sniff = sniffCoco(head);
  // Two COCO keys, or one with per-element COCO fields (a huge "images" list fills the first bytes).
  const strong = sniff !== null && (sniff.keys.length >= 2 || sniff.fields);
  const confidence = strong ? 0.95 : sniff ? 0.6 : 0.5;
  const saw = first.seen.includes('top-level') ? first.seen
    : `${first.seen}, ${sniff ? `top-level ${sniff.keys.join(', ')}` : 'no COCO keys in its first bytes'}`;
  return { confidence, reason: `${files.length} COCO annotation file(s), e.g. ${where} (${saw})` };
}
