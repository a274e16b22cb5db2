import type { AttributeSpec, Category, Dataset } from '../model.js';
import { mapItems } from './items.js';

/**
 * Re-labels a dataset: `targetOf` gives each category's new name, or null to drop it with its
 * annotations; categories mapped to one name are merged (attribute specs united, the first one's
 * other fields kept). `order`, when given, is the new label list itself, in its order: names no
 * category maps to become empty labels, categories mapping elsewhere are dropped. Sub-labels (a
 * skeleton's points, VOC parts) follow their parent unless `targetOf` names them itself. `onEnd` gets
 * the number of annotations dropped once the items end.
 */
export function relabel(dataset: Dataset, targetOf: (category: Category) => string | null | undefined, order?: readonly string[], onEnd?: (dropped: number) => void): Dataset {
  const categories: Category[] = (order ?? []).map((name) => ({ name }));
  const index = new Map(categories.map((c, i) => [c.name, i]));
  const filled = new Set<number>();
  const byName = new Map(dataset.categories.map((c) => [c.name, c]));
  const target = (category: Category, depth = 0): string | null => {
    const own = targetOf(category);
    if (own !== undefined) return own;
    const parent = category.parent === undefined ? undefined : byName.get(category.parent);
    if (!parent || depth > 16) return category.name;
    return target(parent, depth + 1) === null ? null : category.name;
  };
  const newName = new Map<string, string | null>(dataset.categories.map((c) => [c.name, target(c)]));
  const oldToNew = dataset.categories.map((category) => {
    const name = newName.get(category.name)!;
    if (name === null) return -1;
    let i = index.get(name);
    if (i === undefined) {
      if (order && category.parent === undefined) return -1;
      i = categories.length;
      categories.push({ name });
      index.set(name, i);
    }
    const renamedParent = category.parent === undefined ? undefined : newName.get(category.parent) ?? category.parent;
    const moved: Category = { ...category, name, ...(renamedParent ? { parent: renamedParent } : {}) };
    categories[i] = filled.has(i) ? mergeCategory(categories[i], moved) : moved;
    filled.add(i);
    return i;
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

function mergeCategory(into: Category, from: Category): Category {
  if (!from.attributes?.length) return into;
  const attributes: AttributeSpec[] = [...(into.attributes ?? [])];
  for (const spec of from.attributes) {
    const same = attributes.findIndex((a) => a.name === spec.name);
    if (same < 0) attributes.push(spec);
    else if (spec.values) attributes[same] = { ...attributes[same], values: [...new Set([...(attributes[same].values ?? []), ...spec.values])] };
  }
  return { ...into, attributes };
}
