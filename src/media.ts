import sharp from 'sharp';
import type { Item } from './model.js';

export interface ImageSize { width: number; height: number }

/**
 * Reads an image's size from its header (sharp's `metadata()` does not decode pixels) as Ultralytics
 * sees it: EXIF orientations 5-8 rotate by 90 degrees, so width and height swap.
 * Returns null when the file is missing or not an image sharp understands.
 */
export async function probeImageSize(file: string): Promise<ImageSize | null> {
  try {
    const meta = await sharp(file).metadata();
    if (!meta.width || !meta.height) return null;
    const swapped = (meta.orientation ?? 1) >= 5;
    return swapped ? { width: meta.height, height: meta.width } : { width: meta.width, height: meta.height };
  } catch {
    return null;
  }
}

/**
 * Fills in `image.width/height` for items whose size is unknown, probing up to `concurrency` files at
 * once. Returns the items whose size could not be read.
 */
export async function probeItemSizes(items: Item[], concurrency = 32, onProgress?: (done: number, total: number) => void): Promise<Item[]> {
  const todo = items.filter((item) => item.image && (!item.image.width || !item.image.height));
  const failed: Item[] = [];
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < todo.length) {
      const item = todo[next++];
      const size = await probeImageSize(item.image!.path);
      if (size) Object.assign(item.image!, size);
      else failed.push(item);
      onProgress?.(++done, todo.length);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, todo.length) }, worker));
  return failed;
}
