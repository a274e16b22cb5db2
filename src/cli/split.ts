import { Option, type Command } from 'commander';
import { UsageError } from '../diagnostics.js';
import { parsePluginOptions } from '../options.js';
import { convert } from '../pipeline.js';
import type { OptionSpec } from '../plugin.js';
import { DEFAULT_RATIOS, parseRatios, SPLIT_TASKS, splitTransform, type SplitReport } from '../transforms/split.js';
import { outputFormat, printConversion } from './convert.js';
import { integerFlag } from './argv.js';
import type { CommandEnv } from './env.js';
import { alignTable, plural } from '../text.js';
import { getFormat } from '../registry.js';
import { retrievalSplit, type RetrievalReport } from '../eval/retrieval-split.js';

/** split's tasks: the split transform's, and retrieval (whole classes into an evaluation subset, src/eval/retrieval-split.ts). */
const TASKS = [...SPLIT_TASKS, 'retrieval'] as const;
/** Options of --task retrieval only, and those it does not take. */
const RETRIEVAL_ONLY = ['classes', 'fraction', 'by-parent', 'subset'];
const NOT_RETRIEVAL = ['ratios', 'group', 'group-regex', 'keep-subset'];

/** split's own options; the issue writes them after `--`, so they are accepted there too. */
const SPLIT_OPTIONS: readonly OptionSpec[] = [
  { name: 'ratios', type: 'string', description: `subset=share,... adding up to 1 (default ${DEFAULT_RATIOS})` },
  { name: 'seed', type: 'number', description: 'integer seed of the hash that orders the items (default 0)' },
  { name: 'task', type: 'string', choices: TASKS, description: 'what to balance (default: detection when there are labeled shapes, else classification); retrieval: an evaluation subset of whole classes' },
  { name: 'group', type: 'string', description: 'item attribute whose value keeps items together' },
  { name: 'group-regex', type: 'string', description: 'regex on item ids whose match (or first capture group) keeps items together' },
  { name: 'keep-subset', type: 'string', description: 'subset left as it is; the others are split' },
  { name: 'classes', type: 'string', description: 'retrieval: how many classes (default: all with 2 or more images)' },
  { name: 'fraction', type: 'string', description: 'retrieval: the share (0 < F <= 1) of the classes with 2 or more images' },
  { name: 'by-parent', type: 'boolean', description: 'retrieval: the classes must have parent categories to stratify over' },
  { name: 'subset', type: 'string', description: 'retrieval: the subset whose items make the pool (default: all items)' },
];

const camel = (name: string) => name.replace(/-(\w)/g, (_, c: string) => c.toUpperCase());

/** `datum split`: import, replace the subsets by a stratified split, export (-f defaults to the input's format). */
export function registerSplit(program: Command, env: CommandEnv, pluginArgs: readonly string[]): void {
  program.command('split')
    .description('split a dataset into subsets by ratios, stratified by label, reproducibly (and write it)')
    .requiredOption('-i, --input <path>', 'input dataset folder (or annotation file)')
    .addOption(new Option('--input-format <format>', 'input format; also written -if (default: detect)'))
    .requiredOption('-o, --output <path>', 'output folder (written atomically)')
    .option('-f, --output-format <format>', 'output format (default: the input format)')
    .option('--ratios <list>', `subset=share,... adding up to 1 (default ${DEFAULT_RATIOS})`)
    .option('--seed <n>', 'integer seed (default 0); the same seed gives the same split in any item order')
    .addOption(new Option('--task <task>', 'what to balance: classes of items, or label shares of annotations (default: detection when there are labeled shapes); retrieval: an evaluation subset of whole classes').choices(TASKS))
    .option('--group <attribute>', 'items with the same value of this item attribute stay together')
    .option('--group-regex <regex>', 'items whose ids give the same match (first capture group if any) stay together')
    .option('--keep-subset <name>', 'leave this subset as it is and split the other items')
    .option('--classes <n>', 'retrieval: how many classes (default: all with 2 or more images)')
    .option('--fraction <f>', 'retrieval: the share (0 < F <= 1) of the classes with 2 or more images, rounded, at least 1')
    .option('--by-parent', 'retrieval: require parent categories (SOP super-classes) to stratify the classes over')
    .option('--subset <name>', 'retrieval: only the items of this subset make the pool (default: all items)')
    .option('--overwrite', 'replace a non-empty output folder')
    .option('--json', 'print the result and the split report as one JSON object on stdout')
    .addHelpText('after', [
      '',
      "split's options may also go after -- (as `datum split ... -- --ratios train=0.7,val=0.3`), mixed with the output format's;",
      'there, --task goes to split when its value is one of split\'s tasks and to the exporter otherwise.',
      'Existing subsets are replaced. Detection and segmentation balance every label\'s share of annotations',
      '(segmentation counts polygons, masks and ellipses only); classification splits every class exactly (±1 item).',
      '',
      'Example:',
      '  datum split -i coco_dataset -o coco_split --ratios train=0.8,val=0.1,test=0.1 --seed 7 --group-regex "^(.+)_frame"',
      '',
      '--task retrieval writes an evaluation subset of whole classes (each with all its images; classes of one image',
      'are left out), stratified over parent categories: retrieval.csv, queries/ and gallery/list.txt, order.txt (the',
      'row order `datum eval recall` expects) and the SOP layout Stanford_Online_Products/ (subset test, images copied).',
      '  datum split --task retrieval -i sop -o sop_eval -- --classes 100 --seed 3',
    ].join('\n'))
    .action(async (opts) => {
      env.setInput(opts.input);
      const retrieval = opts.task === 'retrieval' || pluginArgs.some((a, i) => a === '--task=retrieval' || (a === '--task' && pluginArgs[i + 1] === 'retrieval'));
      if (retrieval && opts.outputFormat !== undefined && getFormat(opts.outputFormat, 'export').name !== 'sop') throw new UsageError('split: --task retrieval writes the SOP layout (and its lists); -f takes no other format');
      const exporter = retrieval ? getFormat('sop', 'export') : await outputFormat(opts.outputFormat, opts.input, opts.inputFormat);
      const { own, rest } = partitionArgs(pluginArgs, SPLIT_OPTIONS, exporter.exportOptions ?? [], `exporter '${exporter.name}'`);
      const after = parsePluginOptions(own, SPLIT_OPTIONS, 'split');
      const exportOptions = parsePluginOptions(rest, exporter.exportOptions, `exporter '${exporter.name}'`);
      const option = (name: string): string | undefined => {
        const before = opts[camel(name)] as string | undefined;
        const later = after[name];
        if (before !== undefined && later !== undefined) throw new UsageError(`split: --${name} is given both before and after --; give it once`);
        return later === undefined ? before : String(later);
      };
      const given = (names: string[]) => names.filter((n) => option(n) !== undefined).map((n) => `--${n}`);
      if (retrieval) {
        if (given(NOT_RETRIEVAL).length) throw new UsageError(`split: ${given(NOT_RETRIEVAL).join(', ')} ${given(NOT_RETRIEVAL).length === 1 ? 'is' : 'are'} not for --task retrieval, which takes whole classes (--classes, --fraction, --by-parent, --subset)`);
        const number = (name: string) => {
          const text = option(name);
          if (text !== undefined && (!text.trim() || !Number.isFinite(Number(text)))) throw new UsageError(`split: --${name} needs a number; got '${text}'`);
          return text === undefined ? undefined : Number(text);
        };
        const report = await retrievalSplit({
          input: opts.input, inputFormat: opts.inputFormat, output: opts.output, overwrite: Boolean(opts.overwrite),
          classes: number('classes'), fraction: number('fraction'), seed: number('seed'), subset: option('subset'),
          byParent: String(option('by-parent')) === 'true', saveMedia: exportOptions['save-media'] !== false,
        }, env.ctx);
        printRetrieval(env, report);
        return;
      }
      if (given(RETRIEVAL_ONLY).length) throw new UsageError(`split: ${given(RETRIEVAL_ONLY).join(', ')} ${given(RETRIEVAL_ONLY).length === 1 ? 'goes' : 'go'} with --task retrieval only`);
      const keep = option('keep-subset');
      const seedText = option('seed');
      const seed = integerFlag('split', '--seed', seedText, 0);
      const groupRegex = option('group-regex');
      const group = option('group');
      if (group !== undefined && groupRegex !== undefined) throw new UsageError('split: give --group or --group-regex, not both');
      let report: SplitReport | undefined;
      const transform = splitTransform({
        ratios: parseRatios(option('ratios') ?? DEFAULT_RATIOS, 'split', keep),
        seed, task: option('task') as SplitReport['task'] | undefined, group, groupRegex, keep,
      }, (r) => { report = r; });
      const result = await convert({
        input: opts.input, inputFormat: opts.inputFormat, output: opts.output, outputFormat: exporter.name,
        overwrite: Boolean(opts.overwrite), transforms: [transform], exportOptions,
      }, env.ctx);
      const done = report!;
      printConversion(env, result, `split ${plural(done.items, 'item')} (${done.task}, seed ${done.seed}) and wrote ${plural(result.items, 'item')} as ${result.outputFormat}: ${result.output}`, { split: done });
      if (!env.isJson()) for (const line of splitTable(done)) env.print(line);
    });
}

/** The retrieval report: one JSON object, or a headline and a table of classes per parent. */
function printRetrieval(env: CommandEnv, report: RetrievalReport): void {
  env.clear();
  const warnings = env.reporter.count('warning');
  if (env.isJson()) {
    env.print(JSON.stringify({ ...report, warnings, messages: env.reporter.messages }));
    return;
  }
  for (const line of retrievalTable(report)) env.print(line);
  if (warnings) env.print(`${plural(warnings, 'warning')} (see above)`);
}

/** Headline, classes eligible and chosen per parent, and the classes left out. */
export function retrievalTable(report: RetrievalReport): string[] {
  const { classes } = report;
  const rows = [['parent', 'eligible', 'chosen'], ...report.parents.map((p) => [p.name ?? '(no parent)', String(p.eligible), String(p.chosen)]), ['total', String(classes.eligible), String(classes.chosen)]];
  return [
    `split ${plural(report.items, 'item')} of ${plural(classes.chosen, 'whole class', 'whole classes')} into an evaluation subset (retrieval, seed ${report.seed}): ${report.output}`,
    ...alignTable(rows),
    `${plural(classes.dropped, 'class', 'classes')} with fewer than 2 images left out`,
  ];
}

/** The report as a table: items, share against the ratio, the largest label-share deviation. */
export function splitTable(report: SplitReport): string[] {
  const what = report.task === 'classification' ? 'class share of items' : 'label share of annotations';
  const rows = [['subset', 'items', 'share', 'ratio', `max deviation of a ${what}`]];
  for (const s of report.subsets) {
    rows.push([
      s.name, String(s.items), `${(s.share * 100).toFixed(1)}%`, s.ratio === null ? 'kept' : `${(s.ratio * 100).toFixed(1)}%`,
      s.maxDeviation === null ? '-' : `${s.maxDeviation.toFixed(2)} pp (${s.label})`,
    ]);
  }
  const lines = alignTable(rows, [0, rows[0].length - 1]);
  const notes = [`${plural(report.changed, 'item')} moved to another subset; ${report.balanced} of ${report.units} units swapped by the balancing`];
  if (report.groups || report.ungrouped) notes.push(`${report.groups} groups of several items${report.ungrouped ? `, ${report.ungrouped} items without a group key split alone` : ''}`);
  return [...lines, ...notes];
}

/**
 * Splits the words after `--` between split's options and the exporter's. A name both declare
 * (`--task` of yolo_ultralytics) goes to split when its value is one of split's choices.
 */
export function partitionArgs(args: readonly string[], own: readonly OptionSpec[], other: readonly OptionSpec[], otherOwner: string): { own: string[]; rest: string[] } {
  const mine = new Map(own.map((s) => [s.name, s]));
  const theirs = new Map(other.map((s) => [s.name, s]));
  const out = { own: [] as string[], rest: [] as string[] };
  for (let i = 0; i < args.length; i++) {
    const match = /^--(no-)?([a-z0-9][a-z0-9-_]*)(?:=(.*))?$/i.exec(args[i]);
    if (!match) { out.rest.push(args[i]); continue; }
    const [, negated, name, inline] = match;
    const a = mine.get(name), b = theirs.get(name);
    if (!a && !b) {
      const list = (specs: readonly OptionSpec[]) => specs.map((s) => `--${s.name}`).join(', ') || 'none';
      throw new UsageError(`unknown option '--${name}' after --; split takes ${list(own)}; ${otherOwner} takes ${list(other)}`);
    }
    const value = inline ?? args[i + 1];
    const spec = a && (!b || (a.choices?.includes(value) ?? false)) ? a : b!;
    const target = spec === a ? out.own : out.rest;
    target.push(args[i]);
    if (spec.type !== 'boolean' && inline === undefined && !negated && i + 1 < args.length) target.push(args[++i]);
  }
  return out;
}
