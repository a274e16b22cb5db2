import { Option, type Command } from 'commander';
import { UsageError } from '../diagnostics.js';
import { DEFAULT_COUNT, DEFAULT_PREVIEW_SIZE, previewDataset, type PreviewResult } from '../report/preview.js';
import { plural } from '../text.js';
import { integerFlag } from './argv.js';
import type { CommandEnv } from './env.js';

/** `datum preview`: chosen items drawn with their annotations as PNGs, and a contact sheet of them. */
export function registerPreview(program: Command, env: CommandEnv): void {
  program.command('preview')
    .description('draw items with their annotations as PNGs (<subset>_<id>.png) and a contact sheet of them')
    .requiredOption('-i, --input <path>', 'input dataset folder (or annotation file)')
    .addOption(new Option('--input-format <format>', 'input format; also written -if (default: detect)'))
    .requiredOption('-o, --output <path>', 'output folder (written atomically)')
    .option('--items <ids>', 'comma-separated item ids to draw (instead of choosing --n)')
    .option('--subset <name>', 'only items of this subset')
    .option('--label <name>', 'only items with an annotation of this label (or of a label under it)')
    .option('--n <count>', `number of items to choose (default ${DEFAULT_COUNT})`)
    .option('--seed <n>', 'integer seed of the choice (default 0); the same seed gives the same items in any item order')
    .option('--size <px>', `longest side of each picture (default ${DEFAULT_PREVIEW_SIZE})`)
    .option('--overwrite', 'replace a non-empty output folder')
    .option('--json', 'print one JSON object on stdout')
    .addHelpText('after', [
      '',
      'Boxes (rotated ones rotated), polygons and masks filled translucent, polylines, points and skeletons',
      '(hidden points hollow), ellipses, one colour per label (the dataset\'s where it has them) with the',
      'name beside each shape; tags and captions are listed in a strip under the image. Images are',
      'turned upright by their EXIF orientation, as annotation tools show them. An item whose image is',
      'missing is drawn on grey at its annotated size; YOLO items without image (no size) are reported.',
      '',
      'Example:',
      '  datum preview -i samples/cvat_dataset -o previews --n 6',
    ].join('\n'))
    .action(async (opts) => {
      env.setInput(opts.input);
      const items = opts.items !== undefined ? String(opts.items).split(',').map((s) => s.trim()).filter(Boolean) : undefined;
      if (items && !items.length) throw new UsageError('preview: --items needs at least one item id');
      if (items && opts.n !== undefined) throw new UsageError('preview: give --items or --n, not both');
      const count = integerFlag('preview', '--n', opts.n, DEFAULT_COUNT, 1);
      const size = integerFlag('preview', '--size', opts.size, DEFAULT_PREVIEW_SIZE, 16, 8192);
      const seed = integerFlag('preview', '--seed', opts.seed, 0);
      const result = await previewDataset({
        input: opts.input, inputFormat: opts.inputFormat, output: opts.output, items, subset: opts.subset, label: opts.label,
        count, seed, size, overwrite: Boolean(opts.overwrite),
      }, env.ctx);
      printPreview(env, result);
    });
}


function printPreview(env: CommandEnv, result: PreviewResult): void {
  env.clear();
  const warnings = env.reporter.count('warning');
  if (env.isJson()) {
    env.print(JSON.stringify({ ...result, warnings }));
    return;
  }
  for (const e of result.items) {
    env.print(`${e.subset ? `${e.subset}/` : ''}${e.id}: ${e.file} (${plural(e.annotations, 'annotation')}${e.placeholder ? ', image missing: drawn on grey' : ''})`);
  }
  const skipped = result.skipped.length ? ` (${plural(result.skipped.length, 'chosen item')} not drawn, see the warnings)` : '';
  env.print(`drew ${plural(result.items.length, 'item')} and ${result.contact_sheet}${skipped}: ${result.output}`);
}
