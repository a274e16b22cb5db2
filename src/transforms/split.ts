import { UsageError } from '../diagnostics.js';
import type { Context, Transform, TransformPlugin } from '../plugin.js';
import { choiceParam, numberParam, parseArgs } from './args.js';
import { uniqueIds } from './ids.js';
import { mapAllItems } from './items.js';
import { plural } from '../text.js';
import { checkRatios, SPLIT_TASKS, splitDataset, type SplitOptions, type SplitReport } from './split/algorithm.js';

export { splitDataset, checkRatios, inferTask, SPLIT_TASKS } from './split/algorithm.js';
export type { SplitOptions, SplitReport, SplitResult, SplitTask, SubsetReport } from './split/algorithm.js';

export const DEFAULT_RATIOS = 'train=0.8,val=0.1,test=0.1';

/** `train=0.8,val=0.1,test=0.1` -> [['train', 0.8], ...], checked (see checkRatios). */
export function parseRatios(text: string, owner = "transform 'split'", keep?: string): [string, number][] {
  const pairs = text.split(',').map((pair): [string, number] => {
    const eq = pair.indexOf('=');
    const value = pair.slice(eq + 1).trim();
    if (eq <= 0 || !value || !Number.isFinite(Number(value))) {
      throw new UsageError(`${owner}: '${pair.trim()}' is not subset=ratio; give the ratios as ${DEFAULT_RATIOS}`);
    }
    return [pair.slice(0, eq).trim(), Number(value)];
  });
  return checkRatios(pairs, keep, owner);
}

/** The split as a pipeline step; `onReport` gets the report once the items are split. */
export function splitTransform(options: Omit<SplitOptions, 'categories'>, onReport?: (report: SplitReport) => void): Transform {
  splitDataset([], options); // refuses bad options now, not after reading the dataset
  return (dataset, ctx: Context) => mapAllItems(dataset, (source) => {
    const { items: out, report } = splitDataset(source, { ...options, categories: dataset.categories });
    ctx.reporter.info({ code: 'split', message: `split: ${describeSplit(report)}` });
    if (report.ungrouped) {
      ctx.reporter.info({ code: 'split-ungrouped', message: `split: ${report.ungrouped} items have no group key (${options.group !== undefined ? `attribute '${options.group}'` : 'no match of the id regex'}) and were split on their own` });
    }
    if (options.keep !== undefined && !report.subsets.some((s) => s.kept && s.items > 0)) {
      ctx.reporter.warn({ code: 'unknown-subset', message: `split: no item is in the kept subset '${options.keep}'; every item was split` });
    }
    if (report.straddlingGroups) {
      ctx.reporter.warn({ code: 'split-group-straddles', message: `split: ${report.straddlingGroups} group${report.straddlingGroups === 1 ? ' has' : 's have'} items in the kept subset '${options.keep}' and others split into the other subsets` });
    }
    onReport?.(report);
    // Items of one id in several subsets (CVAT's img0 in Train and in Validation) are one unit, so
    // they land in one subset: there they get _2, _3 so that no exported file overwrites another.
    const ids = uniqueIds('split', ctx);
    return out.map((item) => {
      const id = ids.unique(item.subset, item.id, item.id);
      return id === item.id ? item : { ...item, id };
    });
  });
}

/** One line: `10000 items (detection, seed 0): train 8000 (max label deviation 0.21 pp, car), ...`. */
export function describeSplit(report: SplitReport): string {
  const parts = report.subsets.map((s) => s.kept
    ? `${s.name} ${s.items} kept`
    : `${s.name} ${s.items}${s.maxDeviation === null ? '' : ` (max label deviation ${s.maxDeviation.toFixed(2)} pp, ${s.label})`}`);
  return `${plural(report.items, 'item')} (${report.task}, seed ${report.seed}; ${report.changed} moved to another subset): ${parts.join(', ')}`;
}

export const transform: TransformPlugin = {
  name: 'split',
  description: 'replace the subsets by a reproducible stratified split: classes exact per class (classification), '
    + 'label shares matched (detection, segmentation); group=ATTR or group_regex=RE keeps groups together; keep=SUBSET leaves one subset alone',
  args: `[${DEFAULT_RATIOS}][;seed=N][;task=classification|detection|segmentation][;group=ATTR|;group_regex=RE][;keep=SUBSET]`,
  example: 'split:train=0.8,val=0.1,test=0.1;seed=7;group=video',
  holdsDataset: true,
  create(text) {
    const args = parseArgs(text, 'split', ['seed', 'task', 'group', 'group_regex', 'keep', 'keep_subset']);
    if (args.params.has('keep') && args.params.has('keep_subset')) throw new UsageError("transform 'split': give keep or keep_subset (the same), not both");
    const keep = args.params.get('keep') ?? args.params.get('keep_subset');
    if (keep === '') throw new UsageError("transform 'split': keep needs a subset name");
    const options: Omit<SplitOptions, 'categories'> = {
      ratios: parseRatios(args.main || DEFAULT_RATIOS, "transform 'split'", keep),
      seed: numberParam(args, 'seed', 0, 'split', true),
      task: args.params.has('task') ? choiceParam(args, 'task', SPLIT_TASKS, 'detection', 'split') : undefined,
      group: args.params.get('group'),
      groupRegex: args.params.get('group_regex'),
      keep,
    };
    if (options.group === '') throw new UsageError("transform 'split': group needs an attribute name");
    return splitTransform(options);
  },
};
