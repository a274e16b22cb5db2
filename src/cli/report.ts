import { Option, type Command } from 'commander';
import { writeReport } from '../report/index.js';
import { plural } from '../text.js';
import type { CommandEnv } from './env.js';

/** `datum report`: one self-contained HTML page about a dataset, optionally compared with its conversion. */
export function registerReport(program: Command, env: CommandEnv): void {
  program.command('report')
    .description('write one self-contained HTML report of a dataset: counts, charts, findings, thumbnails; --compare shows what a conversion changed')
    .requiredOption('-i, --input <path>', 'dataset folder (or annotation file), or a `datum calib` output folder with dataset/')
    .addOption(new Option('--input-format <format>', 'input format; also written -if (default: detect)'))
    .requiredOption('-o, --output <file>', 'the HTML file to write (atomically)')
    .option('--compare <path>', 'another version of the dataset (e.g. its conversion): show what differs')
    .option('--compare-format <format>', 'format of --compare (default: detect)')
    .option('--manifest <file>', 'a `datum calib` manifest.json: show its strata against the dataset')
    .option('--overwrite', 'replace an existing output file')
    .option('--json', 'print a summary as one JSON object on stdout')
    .addHelpText('after', [
      '',
      'The page needs no server, script or network: inline CSS, SVG charts, JPEG thumbnails as data: URIs.',
      'With --compare, items are matched by subset and id (by id alone when subsets were renamed), labels',
      'by name, boxes by IoU; it lists items and annotations lost or added, boxes moved by more than a',
      'pixel, relabelled boxes and attributes that changed.',
      '',
      'Example:',
      '  datum convert -i cvat_dataset -f yolo_ultralytics -o yolo',
      '  datum report -i cvat_dataset --compare yolo -o report.html',
    ].join('\n'))
    .action(async (opts) => {
      env.setInput(opts.input);
      const summary = await writeReport({
        input: opts.input, inputFormat: opts.inputFormat, output: opts.output, compare: opts.compare,
        compareFormat: opts.compareFormat, manifest: opts.manifest, overwrite: Boolean(opts.overwrite),
      }, env.ctx);
      env.clear();
      if (env.isJson()) {
        env.print(JSON.stringify(summary));
        return;
      }
      env.print(`wrote ${summary.output} (${Math.ceil(summary.bytes / 1024)} KB): ${plural(summary.items, 'item')}, ${plural(summary.annotations, 'annotation')}, ${plural(summary.labels, 'label')}, ${plural(summary.thumbnails, 'thumbnail')}`);
      if (summary.findings) env.print(`findings: ${plural(summary.findings.errors, 'error')}, ${plural(summary.findings.warnings, 'warning')}, ${plural(summary.findings.infos, 'info')}`);
      const c = summary.compare;
      if (c) {
        env.print(c.identical
          ? `compared with ${c.other}: no differences`
          : `compared with ${c.other}: ${c.matched} items matched, ${c.onlySource} only here, ${c.onlyOther} only there; ${c.dropped} annotations fewer, ${c.added} more there; ${plural(c.movedBoxes, 'box', 'boxes')} moved, ${c.relabelled} relabelled, ${c.attributeChanges} with an attribute lost or changed${c.attributesOnlyOther.length ? ` (attributes only there: ${c.attributesOnlyOther.join(', ')})` : ''}; labels: ${c.labelsOnlySource} only here, ${c.labelsOnlyOther} only there, ${c.parentChanged} with another parent`);
      }
      if (summary.calibration) env.print(`calibration set: ${summary.calibration.count} items over ${plural(summary.calibration.strata, 'stratum', 'strata')}`);
    });
}
