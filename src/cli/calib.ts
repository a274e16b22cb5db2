import { Option, type Command } from 'commander';
import { UsageError } from '../diagnostics.js';
import { parsePluginOptions } from '../options.js';
import { getFormat } from '../registry.js';
import { calibrate, DEFAULT_SIZE, EXPORT_SUBSET, STRATIFY, type CalibResult, type Stratify } from '../calib/index.js';
import { parseTensorOptions, type TensorOptions } from '../calib/tensor.js';
import { integerFlag } from './argv.js';
import type { CommandEnv } from './env.js';
import { alignTable, plural } from '../text.js';

/** Strata printed in the table; the manifest has them all. */
const TABLE_ROWS = 40;

const list = (text: string | undefined) => text?.split(',').map((s) => s.trim()).filter(Boolean);

/** `datum calib`: a stratified, reproducible calibration set for post-training quantization. */
export function registerCalib(program: Command, env: CommandEnv, pluginArgs: readonly string[]): void {
  program.command('calib')
    .description('choose a representative, reproducible calibration set for quantization (disjoint from test) and write its image list')
    .requiredOption('-i, --input <path>', 'input dataset folder (or annotation file)')
    .addOption(new Option('--input-format <format>', 'input format; also written -if (default: detect)'))
    .requiredOption('-o, --output <path>', 'output folder (written atomically): calibration.txt, manifest.json')
    .option('--size <n>', `number of images (default ${DEFAULT_SIZE}); more than the pool takes the whole pool`)
    .option('--subset <names>', 'comma-separated subsets to choose from (default: all but the excluded)')
    .option('--exclude-subset <names>', 'comma-separated subsets never chosen (default: test in any case, also test2017 or test-dev, unless --subset is given)')
    .addOption(new Option('--stratify <how>', 'strata: the class, its parent category, none, or auto').choices(STRATIFY).default('auto'))
    .option('--seed <n>', 'integer seed (default 0); the same seed gives the same set in any item order')
    .option('--copy-images', 'hard-link (or copy) the images into images/ and list those, relative to the output folder')
    .option('-f, --output-format <format>', `also write the chosen items as a dataset in dataset/ (subset ${EXPORT_SUBSET})`)
    .option('--tensor <WxH>', 'also write calibration.npy: the images as one float32 batch of this size')
    .option('--mean <r,g,b>', 'with --tensor: per-channel mean of (v / 255) (default 0.485,0.456,0.406)')
    .option('--std <r,g,b>', 'with --tensor: per-channel std (default 0.229,0.224,0.225)')
    .option('--resize <mode>', 'with --tensor: stretch (default), or short-side (scale the short side to fit, then crop)')
    .option('--crop <mode>', 'with --tensor --resize short-side: center')
    .option('--layout <layout>', 'with --tensor: nchw (default) or nhwc')
    .option('--overwrite', 'replace a non-empty output folder')
    .option('--json', 'print the manifest (without its items) as one JSON object on stdout')
    .addHelpText('after', [
      '',
      'calibration.txt lists one image per line in an order interleaved across strata, so its first N',
      'lines are representative too. Without --copy-images the lines are the source images\' absolute',
      'paths; with it, paths relative to the output folder (images/<subset>_<id>.<ext>), so the folder',
      'can be moved: in Python, resolve them against the folder of calibration.txt.',
      '',
      '--stratify auto: the class of each image when every class can have a place; the class\'s parent',
      'category (SOP super-classes) when there are more classes than places, spreading each parent\'s',
      'places over distinct classes; for detection data, every label covered, then label shares of',
      'annotations balanced. manifest.json records the choice, the strata and every chosen item.',
      '',
      `With -f the chosen items are exported in subset ${EXPORT_SUBSET} (options for the format go after --);`,
      'for yolo_ultralytics, data.yaml points both train and val at val.txt, which is what',
      '`yolo export format=openvino int8=True data=dataset/data.yaml` reads for calibration.',
      '',
      'Example:',
      '  datum calib -i Stanford_Online_Products -o calib300 --size 300 --seed 1',
    ].join('\n'))
    .action(async (opts) => {
      env.setInput(opts.input);
      const size = integerFlag('calib', '--size', opts.size, DEFAULT_SIZE, 1);
      const seed = integerFlag('calib', '--seed', opts.seed, 0);
      const tensor = tensorOptions(opts);
      const exportOptions = opts.outputFormat !== undefined
        ? parsePluginOptions(pluginArgs, getFormat(opts.outputFormat, 'export').exportOptions, `exporter '${opts.outputFormat}'`)
        : undefined;
      if (opts.outputFormat === undefined && pluginArgs.length) throw new UsageError('calib: options after -- are for the output format; give it with -f');
      const result = await calibrate({
        input: opts.input, inputFormat: opts.inputFormat, output: opts.output, size, seed,
        subsets: list(opts.subset), exclude: list(opts.excludeSubset), stratify: opts.stratify as Stratify,
        copyImages: Boolean(opts.copyImages), outputFormat: opts.outputFormat, exportOptions, tensor, overwrite: Boolean(opts.overwrite),
      }, env.ctx);
      printCalib(env, result);
    });
}


function tensorOptions(opts: Record<string, string | undefined>): TensorOptions | undefined {
  const flags = { mean: opts.mean, std: opts.std, resize: opts.resize, crop: opts.crop, layout: opts.layout };
  if (opts.tensor === undefined) {
    const stray = Object.entries(flags).filter(([, v]) => v !== undefined).map(([k]) => `--${k}`);
    if (stray.length) throw new UsageError(`calib: ${stray.join(', ')} only go with --tensor WxH`);
    return undefined;
  }
  return parseTensorOptions({ tensor: opts.tensor, ...flags });
}

function printCalib(env: CommandEnv, result: CalibResult): void {
  env.clear();
  const { items, ...manifest } = result.manifest;
  const warnings = env.reporter.count('warning');
  if (env.isJson()) {
    env.print(JSON.stringify({ output: result.output, ...manifest, warnings, messages: env.reporter.messages }));
    return;
  }
  const m = result.manifest;
  const how = m.stratify === 'detection' ? 'label coverage' : m.stratify === 'none' ? `no strata${m.spread_classes ? ', spread over classes' : ''}` : `stratified by ${m.stratify}${m.spread_classes ? ', spread over classes' : ''}`;
  env.print(`chose ${m.count} of ${plural(m.pool.items, 'item')} (${how}, seed ${m.seed}) from ${m.pool.subsets.map((s) => s || '(none)').join(', ')}${m.pool.excluded.length ? ` (left out: ${m.pool.excluded.map((s) => s || '(none)').join(', ')})` : ''} and wrote ${items.length ? 'calibration.txt, manifest.json' : 'manifest.json'}${m.tensor ? ', calibration.npy' : ''}${m.dataset ? `, dataset/ (${m.dataset.format})` : ''}: ${result.output}`);
  const detection = m.stratify === 'detection';
  for (const line of calibTable(detection ? m.labels : m.strata, detection ? 'label' : 'stratum', detection ? 'annotations' : 'items')) env.print(line);
  if (m.max_deviation_of !== null) env.print(`largest deviation: ${m.max_deviation_pp.toFixed(2)} pp (${m.max_deviation_of})`);
  if (m.images.missing) env.print(`${plural(m.images.missing, 'image')} not found (listed anyway)`);
  if (warnings) env.print(`${plural(warnings, 'warning')} (see above)`);
}

/** Rows: name, in dataset, in set, both shares; at most TABLE_ROWS, then how many more. */
export function calibTable(rows: readonly { name: string; dataset: number; chosen: number; share_dataset: number; share_set: number }[], what: string, unit: string): string[] {
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  const cells = [[what, `${unit} in dataset`, 'in set', 'share dataset', 'share set']];
  for (const r of rows.slice(0, TABLE_ROWS)) cells.push([r.name, String(r.dataset), String(r.chosen), pct(r.share_dataset), pct(r.share_set)]);
  const lines = alignTable(cells);
  if (rows.length > TABLE_ROWS) lines.push(`... and ${rows.length - TABLE_ROWS} more (all in manifest.json)`);
  return lines;
}
