import type { Dataset, Item } from '../model.js';

/**
 * A dataset whose items are `fn` of the source's, lazily, one at a time (null drops the item);
 * `onEnd` runs once the source is exhausted (a transform reports its counts there).
 */
export function mapItems(dataset: Dataset, fn: (item: Item) => Item | null, onEnd?: () => void): Dataset {
  const source = dataset.items;
  return {
    ...dataset,
    items: (async function* () {
      for await (const item of source) {
        const mapped = fn(item);
        if (mapped) yield mapped;
      }
      onEnd?.();
    })(),
  };
}

/**
 * A dataset whose items are `fn` of all the source's items at once, read when the first item is asked
 * for: for transforms that must see every item (`holdsDataset`). Each result item is let go once it
 * is handed on, so an exporter that writes as items come (COCO, YOLO) frees the dataset as it goes.
 */
export function mapAllItems(dataset: Dataset, fn: (items: Item[]) => Item[] | Promise<Item[]>): Dataset {
  const source = dataset.items;
  return {
    ...dataset,
    items: (async function* () {
      let items: Item[] = [];
      for await (const item of source) items.push(item);
      const out: (Item | undefined)[] = await fn(items);
      items = [];
      for (let i = 0; i < out.length; i++) {
        const item = out[i]!;
        out[i] = undefined;
        yield item;
      }
    })(),
  };
}
