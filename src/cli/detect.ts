import type { Command } from 'commander';
import { DatumError } from '../diagnostics.js';
import { detectFormats } from '../pipeline.js';
import type { CommandEnv } from './env.js';

export function registerDetect(program: Command, env: CommandEnv): void {
  program.command('detect')
    .description('tell which format a folder is in, with a confidence')
    .argument('<path>', 'dataset folder (or annotation file)')
    .option('--json', 'print the candidates as JSON')
    .action(async (path: string) => {
      env.setInput(path);
      const found = await detectFormats(path);
      if (env.isJson()) {
        env.print(JSON.stringify({ candidates: found.map((f) => ({ format: f.format, ...f.detection })) }));
        return;
      }
      if (!found.length) throw new DatumError({ code: 'unknown-format', file: path, message: 'no known dataset format recognized here' });
      for (const f of found) env.print(`${f.format}\t${f.detection.confidence.toFixed(2)}\t${f.detection.reason}`);
    });
}
