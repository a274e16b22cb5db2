import { Option, type Command } from 'commander';
import { formatDiagnostic, UsageError, type Diagnostic } from '../diagnostics.js';
import { validateDataset, type ValidationTask } from '../validate/index.js';
import type { CommandEnv } from './env.js';

/** Examples printed under each code in the text output. */
const EXAMPLES = 3;
const ORDER = { error: 0, warning: 1, info: 2 };

export function registerValidate(program: Command, env: CommandEnv): void {
  program.command('validate')
    .description('check a dataset for defects before training: its files (structure) and its annotations (semantics)')
    .argument('<path>', 'dataset folder (or annotation file)')
    .addOption(new Option('--input-format <format>', 'input format; also written -if (default: detect)'))
    .addOption(new Option('--task <task>', 'only the annotations this task trains on count').choices(['detection', 'segmentation', 'classification', 'pose']))
    .option('--json', 'print exactly one JSON object on stdout')
    .option('--max-findings <n>', 'findings kept and listed (all are counted)', '1000')
    .addHelpText('after', '\nExit code: 1 when there is any error, 0 otherwise.')
    .action(async (path: string, opts) => {
      env.setInput(path);
      const maxFindings = Number(opts.maxFindings);
      if (!Number.isInteger(maxFindings) || maxFindings < 0) throw new UsageError(`--max-findings needs a whole number >= 0; got '${opts.maxFindings}'`);
      // The runner collects the findings itself: none is printed to stderr as it comes.
      const result = await validateDataset(path, { format: opts.inputFormat, task: opts.task as ValidationTask | undefined, maxFindings }, env.ctx);
      env.clear();
      const { errors, warnings, infos } = result.summary;
      env.setExitCode(errors ? 1 : 0);
      if (env.isJson()) {
        env.print(JSON.stringify({ format: result.format, root: result.root, summary: result.summary, findings: result.findings }));
        return;
      }
      env.print(`${result.format} dataset at ${result.root}`);
      const examples = new Map<string, Diagnostic[]>();
      for (const f of result.findings) {
        const key = `${f.code}\0${f.severity}`;
        if (!examples.has(key)) examples.set(key, []);
        examples.get(key)!.push(f);
      }
      const groups = [...result.counts].sort((a, b) => ORDER[a.severity] - ORDER[b.severity] || b.count - a.count || a.code.localeCompare(b.code));
      for (const g of groups) {
        const shown = (examples.get(`${g.code}\0${g.severity}`) ?? []).slice(0, EXAMPLES);
        env.print(`${g.code} (${g.severity}): ${g.count}`);
        for (const d of shown) env.print(`  ${formatDiagnostic(d)}`);
        if (g.count > shown.length) env.print(`  ... and ${g.count - shown.length} more`);
      }
      const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
      env.print(`${plural(errors, 'error')}, ${plural(warnings, 'warning')}, ${plural(infos, 'info')}`);
    });
}
