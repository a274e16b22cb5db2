import fsp from 'node:fs/promises';
import path from 'node:path';
import { readFileHead } from '../../src/files.js';
import type { Detection } from '../../src/plugin.js';

/** An .xml whose root is <annotations> with <version>, <meta>, <image> or <track> children. */
export async function detectCvat(input: string): Promise<Detection | null> {
  const stat = await fsp.stat(input).catch(() => null);
  if (!stat) return null;
  const files = stat.isDirectory()
    ? (await fsp.readdir(input)).filter((n) => n.toLowerCase().endsWith('.xml')).sort().map((n) => path.join(input, n))
    : input.toLowerCase().endsWith('.xml') ? [input] : [];
  for (const file of files.slice(0, 8)) {
    const head = await readFileHead(file);
    const body = head.replace(/<\?[\s\S]*?\?>|<!--[\s\S]*?-->|<!DOCTYPE[^>]*>/g, '').trimStart();
    if (!body.startsWith('<annotations')) continue;
    const name = path.basename(file);
    if (/<version>\s*1\.1\s*<\/version>/.test(head)) return { confidence: 0.9, reason: `${name} with <annotations><version>1.1` };
    if (/<(meta|image|track)[\s>]/.test(head)) return { confidence: 0.7, reason: `${name} with <annotations> and CVAT elements` };
  }
  return null;
}
