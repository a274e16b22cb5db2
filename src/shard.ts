/**
 * `--shard K/N`: a run that handles only the items of shard K of N, so N runs on N machines (or
 * cores) share a dataset with no coordination. Whether an item belongs to a shard depends on the
 * item alone, a hash of its subset and id, so every run agrees and each item is in exactly one shard.
 */
import type { Dataset, Item } from './model.js';
import { UsageError } from './diagnostics.js';
import { mapItems } from './transforms/items.js';
import { unitHash } from './transforms/split/hash.js';

/** Shard `index` (1-based) of `count`. */
export interface Shard { index: number; count: number }

/** Fixed for good: changing it would move items between the shards of runs made by different versions. */
const SHARD_SEED = 0x5_4a4d;

/** Parses `K/N` (whole numbers, 1 <= K <= N); anything else is a UsageError. */
export function parseShard(text: string): Shard {
  const match = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  const index = match ? Number(match[1]) : NaN;
  const count = match ? Number(match[2]) : NaN;
  if (!match || !Number.isSafeInteger(count) || count < 1 || index < 1 || index > count) {
    throw new UsageError(`--shard needs K/N with whole numbers N >= 1 and K from 1 to N (e.g. 3/8); got '${text}'`);
  }
  return { index, count };
}

/** The shard (1-based) that the item with this subset and id falls in, out of `count`. */
export function shardOf(item: Pick<Item, 'subset' | 'id'>, count: number): number {
  return Math.floor(unitHash(`${item.subset}/${item.id}`, SHARD_SEED) * count) + 1;
}

/** The dataset's items of `shard` only, streaming; categories and info are all kept. */
export function keepShard(dataset: Dataset, shard: Shard): Dataset {
  if (shard.count === 1) return dataset;
  return mapItems(dataset, (item) => (shardOf(item, shard.count) === shard.index ? item : null));
}

export const formatShard = (shard: Shard) => `${shard.index}/${shard.count}`;
