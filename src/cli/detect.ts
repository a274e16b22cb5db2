import path from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { detectDataset, isAmbiguous, settleHint } from '../detect.js';
import type { CommandEnv } from './env.js';

/** Exit codes of `datum detect`: one format wins, none matches, ambiguous (or several datasets). */
const FOUND = 0, NONE = 1, AMBIGUOUS = 3;

export function registerDetect(program: Command, env: CommandEnv): void {
  program.command('detect')
    .description('tell which format a dataset is in and where its root is (exit 0 found, 1 none, 3 ambiguous)')
    .argument('<path>', 'dataset folder (or annotation file)')
    .addOption(new Option('--depth <n>', 'how many folder levels below <path> to look for a dataset').default(2).argParser(parseDepth))
    .option('--json', 'print {root, candidates, rejected, datasets} as JSON')
    .action(async (input: string, opts: { depth: number }) => {
      env.setInput(input);
      const report = await detectDataset(input, opts.depth);
      const several = report.datasets.length > 1;
      const code = several || isAmbiguous(report.candidates) ? AMBIGUOUS : report.candidates.length ? FOUND : NONE;
      env.setExitCode(code);
      if (env.isJson()) {
        env.print(JSON.stringify(report));
        return;
      }
      const shown = (p: string) => path.relative('.', p) || '.';
      if (several) {
        env.print(`${shown(input)} is not a dataset; it holds ${report.datasets.length}:`);
        for (const d of report.datasets) env.print(`  ${shown(d.root)}\t${d.format}\t${d.confidence.toFixed(2)}\t${d.reason}${d.ambiguous ? '\t(ambiguous)' : ''}`);
        env.print('name one of them as the input');
        return;
      }
      if (!report.candidates.length) {
        env.print(`no known dataset format recognized in ${shown(input)}${opts.depth > 0 ? ` or ${opts.depth} folder level${opts.depth === 1 ? '' : 's'} below` : ''}; rejected:`);
        for (const r of report.rejected) env.print(`  ${r.format}\t${r.reason}`);
        return;
      }
      env.print(`root: ${shown(report.root)}`);
      for (const c of report.candidates) env.print(`${c.format}\t${c.confidence.toFixed(2)}\t${c.reason}`);
      if (code === AMBIGUOUS) env.print(`ambiguous: ${settleHint(report.candidates)}`);
      for (const r of report.rejected) env.print(`  not ${r.format}: ${r.reason}`);
    });
}

function parseDepth(value: string): number {
  const depth = Number(value);
  if (!Number.isInteger(depth) || depth < 0) throw new InvalidArgumentError('needs a whole number >= 0');
  return depth;
}
