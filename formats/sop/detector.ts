import type { Detection } from '../../src/plugin.js';
import { isFile, readFileHead } from '../../src/files.js';
import { datasetFile } from '../../src/paths.js';
import { readLines, splitFields } from '../../src/text.js';
import { HEADER, LIST_FILES, parseLine } from './format.js';

/**
 * Ebay_info.txt, Ebay_train.txt or Ebay_test.txt in the folder: with the SOP header, certain; with
 * data lines of the SOP shape under a malformed header, likely. A folder holding
 * Stanford_Online_Products/ is left to the search one level down, which then names the right root.
 */
export async function detectSop(input: string): Promise<Detection | null> {
  let present = 0;
  let empty = 0;
  let shaped: string | undefined;
  for (const name of LIST_FILES) {
    let file: string;
    try { file = datasetFile(input, name); } catch { continue; }
    const head = await readFileHead(file, 4096);
    if (!head) { if (await isFile(file)) empty++; continue; }
    present++;
    const lines = readLines(head).slice(0, 3);
    if (splitFields(lines[0] ?? '').join(' ').toLowerCase() === HEADER) return { confidence: 0.95, reason: `${name} with the header '${HEADER}'` };
    // the last line of a 4 KB head may be cut short
    if (!shaped && lines.slice(0, 2).some((l) => !('error' in parseLine(l)))) shaped = name;
  }
  if (shaped) return { confidence: 0.8, reason: `${shaped} with 'image_id class_id super_class_id path' lines (header malformed)` };
  if (present) return { confidence: 0.3, reason: `${LIST_FILES.join('/')} present, but no line of the SOP shape at their start` };
  return { confidence: 0, reason: empty ? `${LIST_FILES.join('/')} empty` : `no ${LIST_FILES.slice(0, -1).join(', ')} or ${LIST_FILES.at(-1)}` };
}
