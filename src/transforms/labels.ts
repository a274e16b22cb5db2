import { uniteAttributeSpecs, type Category, type Dataset } from '../model.js';
import { mapItems } from './items.js';

/** A category's identity: its name under its parent (CVAT allows a `head` under `person` and `dog`). */
export const categoryKey = (name: string, parent?: string) => JSON.stringify([parent ?? null, name]);

/**
 * Re-labels a dataset: `targetOf` gives each top-level category's new name, or null to drop it with
 * its annotations (undefined: keep the name); categories that end up with one name are merged
 * (attribute specs united, the first one's other fields kept). Sub-labels (a skeleton's points, VOC
 * parts) follow their parent — renamed with it, dropped with it — and `targetOf` may rename or drop
 * them too; a renamed keypoint is renamed in its skeleton's `keypoints`. `order`, when given, is the
 * new list of top-level labels itself, in its order, with COCO ids 1..N: names no category maps to
 * become empty labels, other top-level categories are dropped. `onEnd` gets the number of annotations
 * dropped once the items end.
 */
export function relabel(dataset: Dataset, targetOf: (category: Category) => string | null | undefined, order?: readonly string[], onEnd?: (dropped: number) => void): Dataset {
  const old = dataset.categories;
  const topLevel = new Map<string, number>();
  old.forEach((c, i) => { if (c.parent === undefined && !topLevel.has(c.name)) topLevel.set(c.name, i); });
  // Each old category's new [name, parent], or null when dropped; parents first (they are top-level).
  const moved = old.map((c): { name: string; parent?: string } | null => {
    if (c.parent !== undefined) return null;
    const name = targetOf(c);
    if (name === null || (order && !order.includes(name ?? c.name))) return null;
    return { name: name ?? c.name };
  });
  old.forEach((c, i) => {
    if (c.parent === undefined) return;
    const p = topLevel.get(c.parent);
    const parent = p === undefined ? { name: c.parent } : moved[p];
    const name = targetOf(c);
    moved[i] = parent === null || name === null ? null : { name: name ?? c.name, parent: parent.name };
  });

  const categories: Category[] = (order ?? []).map((name, i) => ({ name, id: i + 1 }));
  const index = new Map(categories.map((c, i) => [categoryKey(c.name), i]));
  const filled = new Set<number>();
  const oldToNew = old.map((c, i) => {
    const to = moved[i];
    if (!to) return -1;
    const key = categoryKey(to.name, to.parent);
    let n = index.get(key);
    if (n === undefined) {
      n = categories.length;
      categories.push({ name: to.name });
      index.set(key, n);
    }
    const renamed: Category = { ...c, name: to.name, ...(to.parent === undefined ? {} : { parent: to.parent }) };
    if (order) {
      if (to.parent === undefined) renamed.id = n + 1; // shared class ids, also for COCO
      else delete renamed.id;
    }
    if (c.keypoints) renamed.keypoints = c.keypoints.map((k) => renamedKeypoint(old, moved, c.name, k));
    categories[n] = filled.has(n) ? uniteAttributeSpecs(categories[n], renamed) : renamed;
    filled.add(n);
    return n;
  });

  let dropped = 0;
  const mapped = mapItems(dataset, (item) => ({
    ...item,
    annotations: item.annotations.flatMap((a) => {
      if (a.label === undefined) return [a];
      const label = oldToNew[a.label];
      if (label === undefined || label < 0) { dropped++; return []; }
      return [{ ...a, label }];
    }),
  }), () => onEnd?.(dropped));
  return { ...mapped, categories };
}

/** The new name of keypoint `name` of skeleton `parent`: that of its sub-label, when it has one. */
function renamedKeypoint(old: readonly Category[], moved: readonly ({ name: string } | null)[], parent: string, name: string): string {
  const i = old.findIndex((c) => c.parent === parent && c.name === name);
  return i >= 0 && moved[i] ? moved[i]!.name : name;
}
