import fsp from 'node:fs/promises';

export async function isDirectory(p: string): Promise<boolean> {
  return (await fsp.stat(p).catch(() => null))?.isDirectory() ?? false;
}

export async function isFile(p: string): Promise<boolean> {
  return (await fsp.stat(p).catch(() => null))?.isFile() ?? false;
}

/**
 * The first `bytes` of a file as UTF-8, for detectors that look at a file's start without reading a
 * file that may be huge or binary; '' when the file cannot be read (a detector answers, never throws).
 */
export async function readFileHead(file: string, bytes = 4096): Promise<string> {
  const handle = await fsp.open(file, 'r').catch(() => null);
  if (!handle) return '';
  try {
    const buffer = Buffer.alloc(bytes);
    const { bytesRead } = await handle.read(buffer, 0, bytes, 0);
    return buffer.toString('utf8', 0, bytesRead);
  } catch {
    return '';
  } finally {
    await handle.close();
  }
}
