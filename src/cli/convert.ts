import { Option, type Command } from 'commander';
import path from 'node:path';
import { assertReadable, convert, type ConvertResult } from '../pipeline.js';
import { locateDataset } from '../detect.js';
import { UsageError } from '../diagnostics.js';
import type { FormatPlugin } from '../plugin.js';
import { getFormat } from '../registry.js';
import { parsePluginOptions } from '../options.js';
import { parseTransform, transformUsage } from '../transforms/index.js';
import type { CommandEnv } from './env.js';
import { plural } from '../text.js';
import { repeatable } from './argv.js';
import { formatShard, parseShard } from '../shard.js';


/** `datum convert` (-f required) and `datum transform` (-f defaults to the input's format). */
export function registerConvert(program: Command, env: CommandEnv, pluginArgs: readonly string[]): void {
  for (const name of ['convert', 'transform'] as const) {
    const command = program.command(name)
      .description(name === 'convert'
        ? 'import a dataset, apply transforms, export it in another format'
        : 'apply transforms to a dataset and write it (in its own format unless -f says otherwise)')
      .requiredOption('-i, --input <path>', 'input dataset folder (or annotation file)')
      .addOption(new Option('--input-format <format>', 'input format; also written -if as in Datumaro (default: detect)'))
      .requiredOption('-o, --output <path>', 'output folder (written atomically)');
    if (name === 'convert') command.requiredOption('-f, --output-format <format>', 'output format');
    else command.option('-f, --output-format <format>', 'output format (default: the input format)');
    command
      .option('--overwrite', 'replace a non-empty output folder')
      .option('-t, --transform <spec>', `transform to apply as name:args, repeatable, applied in order${name === 'transform' ? ' (at least one)' : ''}`, repeatable, [] as string[])
      .option('--shard <K/N>', 'only the items of shard K of N (see Shards below)')
      .option('--json', 'print the result as one JSON object on stdout')
      .addHelpText('after', () => [
        '',
        'Options for the output format go after --, e.g. `-- --save-media`. Formats and their options: `datum formats`.',
        'Transforms (* holds the whole dataset in memory; the others stream item by item; what each does: `datum transforms`):',
        ...transformUsage().map((u) => `  ${u}`),
        '',
        'Shards: --shard K/N keeps the items whose hash of subset/id falls in shard K (1-based) of N; the N runs',
        'K = 1..N share no item and miss none, and `datum merge` joins their outputs. Every label is kept. Each run',
        'still reads the whole input; transforms (* ones included) see only the shard\'s items.',
        '',
        'Example:',
        name === 'convert'
          ? '  datum convert -if cvat -i cvat_dataset -f yolo_ultralytics -o yolo_dataset -t map_subsets:Train=train,Validation=val,Test=test -- --save-media'
          : '  datum transform -i coco_dataset -o coco_cars -t "filter:label in (car,bus) and area >= 100" -t reindex:1',
      ].join('\n'))
      .action(async (opts) => {
        env.setInput(opts.input);
        const shard = opts.shard === undefined ? undefined : parseShard(opts.shard);
        const transforms = (opts.transform as string[]).map(parseTransform);
        if (name === 'transform' && !transforms.length) throw new UsageError('datum transform needs at least one -t name:args (see `datum transforms`)');
        const exporter = await outputFormat(opts.outputFormat, opts.input, opts.inputFormat);
        const exportOptions = parsePluginOptions(pluginArgs, exporter.exportOptions, `exporter '${exporter.name}'`);
        const result = await convert({
          input: opts.input, inputFormat: opts.inputFormat, output: opts.output, outputFormat: exporter.name,
          overwrite: Boolean(opts.overwrite), transforms, exportOptions, shard,
        }, env.ctx);
        const ofShard = shard ? ` of shard ${formatShard(shard)}` : '';
        printConversion(env, result, `converted ${plural(result.items, 'item')}${ofShard} from ${result.inputFormat} to ${result.outputFormat}: ${result.output}`, shard ? { shard: formatShard(shard) } : {});
      });
  }
}

/** The `-f` format, or the input's own (detected: cheap) when `-f` is absent. */
export async function outputFormat(name: string | undefined, input: string, inputFormat?: string): Promise<FormatPlugin> {
  if (name !== undefined) return getFormat(name, 'export');
  await assertReadable(input);
  return getFormat((await locateDataset(path.resolve(input), inputFormat)).format.name, 'export');
}

/** The result of a command that wrote a dataset: one JSON object, or the headline and what was dropped. */
export function printConversion(env: CommandEnv, result: ConvertResult | (Omit<ConvertResult, 'inputFormat'> & Record<string, unknown>), headline: string, extra: Record<string, unknown> = {}): void {
  env.clear();
  const { reporter, print } = env;
  if (env.isJson()) {
    print(JSON.stringify({ ...result, ...extra, warnings: reporter.count('warning'), messages: reporter.messages }));
    return;
  }
  print(headline);
  const dropped = Object.entries(result.dropped ?? {}).filter(([, n]) => n > 0);
  if (dropped.length) print(`annotations not written, by reason: ${dropped.map(([k, n]) => `${k} ${n}`).join(', ')}`);
  const warnings = reporter.count('warning');
  if (warnings) print(`${warnings} warning${warnings === 1 ? '' : 's'} (see above)`);
}
