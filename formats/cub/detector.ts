import type { Detection } from '../../src/plugin.js';
import { readFileHead } from '../../src/files.js';
import { datasetFile } from '../../src/paths.js';
import { readLines, splitFields } from '../../src/text.js';
import { BOXES_FILE, IMAGES_FILE, REQUIRED, SPLIT_FILE, has } from './format.js';

/** images.txt with `<id> <image path>` lines beside classes.txt and image_class_labels.txt. */
export async function detectCub(input: string): Promise<Detection | null> {
  const missing: string[] = [];
  for (const name of REQUIRED) if (!(await has(input, name))) missing.push(name);
  if (missing.length) return { confidence: 0, reason: `no ${missing.join(', ')}` };
  const first = readLines(await readFileHead(datasetFile(input, IMAGES_FILE), 4096))[0] ?? '';
  const fields = splitFields(first);
  if (fields.length !== 2 || !/^\d+$/.test(fields[0])) return { confidence: 0.3, reason: `${REQUIRED.join(', ')} present, but ${IMAGES_FILE} does not start with an '<image_id> <path>' line` };
  const extras = [SPLIT_FILE, BOXES_FILE];
  const all = (await Promise.all(extras.map((name) => has(input, name)))).every(Boolean);
  return all
    ? { confidence: 0.95, reason: `${[...REQUIRED, ...extras].join(', ')}` }
    : { confidence: 0.8, reason: `${REQUIRED.join(', ')} (no ${extras.join(' or ')})` };
}
