import fsp from 'node:fs/promises';
import path from 'node:path';
import { readFileHead } from '../../src/files.js';
import { resolveInside } from '../../src/paths.js';
import type { Detection } from '../../src/plugin.js';
import { tokenEnd } from './xml.js';

/** An .xml whose root is <annotations> with <version>, <meta>, <image> or <track> children. */
export async function detectCvat(input: string): Promise<Detection | null> {
  const stat = await fsp.stat(input).catch(() => null);
  if (!stat) return null;
  let rejection = stat.isDirectory() ? 'no .xml file in the folder' : 'not an .xml file';
  const files = stat.isDirectory()
    ? (await fsp.readdir(input)).filter((n) => n.toLowerCase().endsWith('.xml')).sort().map((n) => path.join(input, n))
    : input.toLowerCase().endsWith('.xml') ? [input] : [];
  for (const file of files.slice(0, 8).filter((f) => stat.isFile() || leadsInside(input, f))) {
    // 64 KiB: a prolog with a <!DOCTYPE> internal subset can be long; the importer judges its content.
    const head = await readFileHead(file, 65536);
    const body = head.slice(prologEnd(head));
    const name = path.basename(file);
    if (!/^<annotations[\s/>]/.test(body)) { rejection = `${name} has no <annotations> root`; continue; }
    if (/<version>\s*1\.1\s*<\/version>/.test(body)) return { confidence: 0.9, reason: `${name} with <annotations><version>1.1` };
    if (/<(meta|image|track)[\s>]/.test(body)) return { confidence: 0.7, reason: `${name} with <annotations> and CVAT elements` };
    if (/<!DOCTYPE\s+annotations\b/.test(head)) return { confidence: 0.6, reason: `${name} with <!DOCTYPE annotations>` };
    rejection = `${name} has an <annotations> root but no CVAT elements`;
  }
  return { confidence: 0, reason: rejection };
}

/** Index past the XML declaration, processing instructions, comments, a <!DOCTYPE> and whitespace. */
function prologEnd(head: string): number {
  let pos = 0;
  for (;;) {
    while (pos < head.length && /\s/.test(head[pos])) pos++;
    if (head.charCodeAt(pos) === 0xfeff) { pos++; continue; }
    if (!head.startsWith('<?', pos) && !head.startsWith('<!', pos)) return pos;
    const end = tokenEnd(head, pos);
    if (end < 0) return pos;
    pos = end;
  }
}

/** Whether a file of the folder stays inside it (a symlink out of the dataset is not read, even to detect). */
function leadsInside(root: string, file: string): boolean {
  try {
    resolveInside(root, path.basename(file));
    return true;
  } catch {
    return false;
  }
}
