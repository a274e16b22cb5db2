import { Option, type Command } from 'commander';
import fs from 'node:fs';
import { UsageError } from '../diagnostics.js';
import { merge, ON_CONFLICT, type MergeInput, type OnConflict } from '../merge.js';
import { parsePluginOptions } from '../options.js';
import { getFormat } from '../registry.js';
import { parseTransform } from '../transforms/index.js';
import type { CommandEnv } from './env.js';
import { plural } from '../text.js';
import { repeatable } from './argv.js';
import { printConversion } from './convert.js';


/**
 * A source as written: `PATH` or `PATH@FORMAT`. A path that exists is taken whole (a folder named
 * `photos@2x`); otherwise what follows the last `@`, when it holds no slash, is the format.
 */
export function parseSource(text: string, defaultFormat?: string): MergeInput {
  const at = text.lastIndexOf('@');
  const suffix = text.slice(at + 1);
  if (at > 0 && suffix && !/[\\/]/.test(suffix) && !fs.existsSync(text)) {
    return { path: text.slice(0, at), format: getFormat(suffix, 'import').name };
  }
  return { path: text, ...(defaultFormat !== undefined ? { format: defaultFormat } : {}) };
}

/** `datum merge SRC[@FORMAT]... -o DST -f F [--on-conflict rename|error|skip]`. */
export function registerMerge(program: Command, env: CommandEnv, pluginArgs: readonly string[]): void {
  program.command('merge')
    .description('merge datasets into one: labels united by name, items of every source, colliding ids renamed (or refused, or skipped)')
    .argument('<sources...>', 'datasets to merge, each a folder or annotation file, optionally PATH@FORMAT (default: detect each on its own)')
    .requiredOption('-o, --output <path>', 'output folder (written atomically)')
    .requiredOption('-f, --output-format <format>', 'output format')
    .addOption(new Option('--input-format <format>', 'format of every source without its own @FORMAT; also written -if (default: detect each)'))
    .addOption(new Option('--on-conflict <mode>', 'an item whose subset and id an earlier item has: rename to <id>-<N> (N: the source\'s position), error (write nothing), skip').choices(ON_CONFLICT).default('rename'))
    .option('--overwrite', 'replace a non-empty output folder')
    .option('-t, --transform <spec>', 'transform to apply to the merged dataset as name:args, repeatable, applied in order', repeatable, [] as string[])
    .option('--json', 'print the result as one JSON object on stdout')
    .addHelpText('after', [
      '',
      'Labels with the same name (and parent, for sub-labels) are one label, in first-seen order; attribute',
      'specs are united; the first source\'s keypoints and skeleton are kept. Subsets are kept. The first item',
      'with a subset and id keeps it; with rename, a later one from the Nth source becomes <id>-<N> (its',
      'image file is named after it). Options for the output format go after --.',
      '',
      'Example:',
      '  datum merge batch1 batch2/annotations.xml@cvat -o merged -f coco --on-conflict rename -- --save-media',
    ].join('\n'))
    .action(async (texts: string[], opts) => {
      if (texts.length < 2) throw new UsageError('datum merge needs at least two sources');
      const inputs = texts.map((t) => parseSource(t, opts.inputFormat));
      env.setInput(inputs.map((i) => i.path).join(', '));
      const exporter = getFormat(opts.outputFormat, 'export');
      const exportOptions = parsePluginOptions(pluginArgs, exporter.exportOptions, `exporter '${exporter.name}'`);
      const transforms = (opts.transform as string[]).map(parseTransform);
      const result = await merge({
        inputs, output: opts.output, outputFormat: exporter.name, onConflict: opts.onConflict as OnConflict,
        overwrite: Boolean(opts.overwrite), transforms, exportOptions,
      }, env.ctx);
      const collided = result.collisions
        ? `\n${result.collisions} colliding item id${result.collisions === 1 ? '' : 's'}: ${result.onConflict === 'skip' ? `${result.skipped} skipped` : `${result.renamed} renamed`}`
        : '';
      printConversion(env, { ...result },
        `merged ${plural(result.items, 'item')} from ${inputs.length} sources (${result.inputFormats.join(', ')}) into ${result.outputFormat}: ${result.output}${collided}`);
    });
}
