import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Detection } from '../../src/plugin.js';

const HEAD_BYTES = 4096;

/** An .xml whose root is <annotations> with <version>, <meta>, <image> or <track> children. */
export async function detectCvat(input: string): Promise<Detection | null> {
  const stat = await fsp.stat(input).catch(() => null);
  if (!stat) return null;
  const files = stat.isDirectory()
    ? (await fsp.readdir(input)).filter((n) => n.toLowerCase().endsWith('.xml')).sort().map((n) => path.join(input, n))
    : input.toLowerCase().endsWith('.xml') ? [input] : [];
  for (const file of files.slice(0, 8)) {
    const head = await readHead(file);
    const body = head.replace(/<\?[\s\S]*?\?>|<!--[\s\S]*?-->|<!DOCTYPE[^>]*>/g, '').trimStart();
    if (!body.startsWith('<annotations')) continue;
    const name = path.basename(file);
    if (/<version>\s*1\.1\s*<\/version>/.test(head)) return { confidence: 0.9, reason: `${name} with <annotations><version>1.1` };
    if (/<(meta|image|track)[\s>]/.test(head)) return { confidence: 0.7, reason: `${name} with <annotations> and CVAT elements` };
  }
  return null;
}

async function readHead(file: string): Promise<string> {
  const handle = await fsp.open(file, 'r').catch(() => null);
  if (!handle) return '';
  try {
    const buffer = Buffer.alloc(HEAD_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, HEAD_BYTES, 0);
    return buffer.subarray(0, bytesRead).toString('utf8');
  } finally {
    await handle.close();
  }
}
