/**
 * Pictures of items with their annotations drawn (placeholder: being written; the exported names and
 * signatures below are the contract `datum preview` and `datum report` use).
 */
import type { Category, Item } from '../model.js';

export interface PreviewOptions {
  /** Longest side of the picture in pixels (the image is scaled to fit; default 640). */
  size?: number;
}

export interface Preview {
  png: Buffer;
  width: number;
  height: number;
  /** The image file was missing or unreadable: a placeholder of the annotated size was drawn. */
  placeholder: boolean;
}

/** One item's image (upright by EXIF) with every annotation drawn; null when it cannot be drawn (no image and no size). */
export async function renderPreview(_item: Item, _categories: readonly Category[], _options: PreviewOptions = {}): Promise<Preview | null> {
  throw new Error('preview: not written yet');
}
