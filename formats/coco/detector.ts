import { readFileHead } from '../../src/files.js';
import type { Detection } from '../../src/plugin.js';
import { findTaskFiles } from './layout.js';

/** COCO files are found by name; the first bytes must look like a COCO object (a key COCO writes). */
export async function detectCoco(input: string): Promise<Detection | null> {
  const files = await findTaskFiles(input);
  if (files.length === 0) return null;
  const head = await readFileHead(files[0].file, 64 * 1024);
  if (!/^\s*\{/.test(head)) return null;
  const looksCoco = /"(images|annotations|categories)"\s*:/.test(head);
  const named = files[0].task !== null || files[0].file.endsWith('_annotations.coco.json');
  const confidence = looksCoco ? (named ? 0.95 : 0.6) : named ? 0.5 : 0;
  if (confidence === 0) return null;
  return { confidence, reason: `${files.length} COCO annotation file(s), e.g. ${files[0].file}` };
}

