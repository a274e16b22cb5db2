import type { Dataset, Item } from '../model.js';
import { UsageError } from '../diagnostics.js';
import type { Context } from '../plugin.js';

/**
 * Transforms know only the model. Each is written on the command line as `name:arguments`
 * (e.g. `map_subsets:Train=train,Validation=val`) and turns a dataset into another, item by item
 * where it can so big datasets keep streaming.
 */
export type Transform = (dataset: Dataset, ctx: Context) => Dataset;

interface TransformSpec {
  name: string;
  usage: string;
  create(args: string): Transform;
}

const transforms = new Map<string, TransformSpec>();

export function registerTransform(spec: TransformSpec): void {
  transforms.set(spec.name, spec);
}

export function transformUsage(): string[] {
  return [...transforms.values()].map((t) => t.usage);
}

/** Parses `name:args` into a transform; throws a usage error naming the known ones. */
export function parseTransform(text: string): Transform {
  const colon = text.indexOf(':');
  const name = colon < 0 ? text : text.slice(0, colon);
  const spec = transforms.get(name);
  if (!spec) throw new UsageError(`unknown transform '${name}'; known: ${transformUsage().join('; ')}`);
  return spec.create(colon < 0 ? '' : text.slice(colon + 1));
}

/** `a=b,c=d` -> [[a, b], [c, d]]; an entry without `=` maps to ''. */
function parsePairs(args: string, transform: string): [string, string][] {
  if (!args.trim()) throw new UsageError(`transform '${transform}' needs arguments like old=new,old2=new2`);
  return args.split(',').map((pair) => {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`transform '${transform}': '${pair}' is not old=new`);
    return [pair.slice(0, eq).trim(), pair.slice(eq + 1).trim()];
  });
}

function mapItems(dataset: Dataset, fn: (item: Item) => Item | null): Dataset {
  const source = dataset.items;
  return {
    ...dataset,
    items: (async function* () {
      for await (const item of source) {
        const mapped = fn(item);
        if (mapped) yield mapped;
      }
    })(),
  };
}

registerTransform({
  name: 'map_subsets',
  usage: 'map_subsets:Train=train,Validation=val,Test=test (rename subsets; others are kept)',
  create(args) {
    const mapping = new Map(parsePairs(args, 'map_subsets'));
    return (dataset) => mapItems(dataset, (item) => {
      const subset = mapping.get(item.subset);
      return subset === undefined ? item : { ...item, subset };
    });
  },
});

registerTransform({
  name: 'remap_labels',
  usage: 'remap_labels:cat=animal,dog=animal,person= (rename or merge labels; an empty target drops the label and its annotations)',
  create(args) {
    const mapping = new Map(parsePairs(args, 'remap_labels'));
    return (dataset, ctx) => {
      for (const source of mapping.keys()) {
        if (!dataset.categories.some((c) => c.name === source)) {
          ctx.reporter.warn({ code: 'unknown-label', message: `remap_labels: the dataset has no label '${source}'` });
        }
      }
      const categories: Dataset['categories'] = [];
      const newIndex = new Map<string, number>();
      const oldToNew = dataset.categories.map((category) => {
        const target = mapping.has(category.name) ? mapping.get(category.name)! : category.name;
        if (target === '') return -1;
        if (!newIndex.has(target)) {
          newIndex.set(target, categories.length);
          categories.push({ ...category, name: target });
        }
        return newIndex.get(target)!;
      });
      const mapped = mapItems(dataset, (item) => ({
        ...item,
        annotations: item.annotations.flatMap((a) => {
          if (a.label === undefined) return [a];
          const label = oldToNew[a.label];
          return label < 0 ? [] : [{ ...a, label }];
        }),
      }));
      return { ...mapped, categories };
    };
  },
});
