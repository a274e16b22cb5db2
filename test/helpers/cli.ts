import { PassThrough } from 'node:stream';
import { main } from '../../src/cli/main.js';

/** Runs the CLI in process with captured stdout and stderr. */
export async function runCli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d) => { out += d; });
  stderr.on('data', (d) => { err += d; });
  const code = await main(argv, { stdout, stderr });
  return { code, out, err };
}
