import { Command, CommanderError, Option } from 'commander';
import fs from 'node:fs';
import '../../formats/index.js';
import { DatumError, formatDiagnostic, UsageError, type Diagnostic } from '../diagnostics.js';
import { loadPluginModule } from '../registry.js';
import { importDataset } from '../pipeline.js';
import '../transforms/index.js';
import { computeStats } from '../stats.js';
import { repeatable, splitArgv } from './argv.js';
import { createPrintingReporter, createProgress } from './output.js';
import type { Context } from '../plugin.js';
import type { CommandEnv } from './env.js';
import { registerDetect } from './detect.js';
import { registerValidate } from './validate.js';
import { registerConvert } from './convert.js';
import { registerLists } from './list.js';
import { registerMerge } from './merge.js';
import { registerSplit } from './split.js';
import { registerCalib } from './calib.js';
import { registerEval } from './eval.js';
import { registerPreview } from './preview.js';
import { registerReport } from './report.js';
import { formatShard, keepShard, parseShard } from '../shard.js';

/** The commands that write a dataset, and so take the exporter's options after `--`. */
const WRITING_COMMANDS = ['convert', 'transform', 'split', 'merge', 'calib'];

export interface Io {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
}

/**
 * Runs the CLI and returns the exit code: 0 ok, 1 bad input or failure, 2 usage error; a command may
 * return its own code (`detect`: 3 when ambiguous) through `env.setExitCode`.
 */
export async function main(argv: readonly string[], io: Io = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const { args, pluginArgs } = splitArgv(argv);
  const { progress, clear } = createProgress(io.stderr);
  const { reporter, finish } = createPrintingReporter(io.stderr, clear);
  const ctx: Context = { reporter, progress };
  const print = (text: string) => io.stdout.write(text + '\n');
  let json = false;
  let input: string | undefined; // named when the input is nested too deeply
  let exitCode = 0;
  const env: CommandEnv = { ctx, reporter, print, clear, isJson: () => json, setInput: (p) => { input = p; }, setExitCode: (code) => { exitCode = code; } };

  const program = new Command('datum')
    .description('Convert computer-vision annotation datasets between formats')
    .version(packageVersion(), '-V, --version')
    .option('--verbose', 'print stack traces for errors')
    .option('--plugin <module>', 'load a third-party format or transform plugin module (repeatable)', repeatable, [] as string[])
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .showHelpAfterError('(run with --help for usage)');
  program.hook('preAction', async (_self, action) => {
    json = Boolean(action.opts().json);
    for (const module of program.opts().plugin as string[]) await loadPluginModule(module);
  });

  registerConvert(program, env, pluginArgs);
  registerSplit(program, env, pluginArgs);
  registerMerge(program, env, pluginArgs);

  program.command('stats')
    .description('count items, subsets, annotations by kind, and list labels')
    .argument('<path>', 'dataset folder (or annotation file)')
    .addOption(new Option('--input-format <format>', 'input format; also written -if (default: detect)'))
    .option('--shard <K/N>', 'count only the items of shard K of N, as `datum convert --shard` picks them (the input is still read whole)')
    .option('--json', 'print exactly one JSON object on stdout')
    .action(async (path: string, opts) => {
      input = path;
      const shard = opts.shard === undefined ? undefined : parseShard(opts.shard);
      const { format, dataset } = await importDataset(path, opts.inputFormat, {}, ctx);
      const stats = await computeStats(shard ? keepShard(dataset, shard) : dataset);
      clear();
      if (json) {
        print(JSON.stringify({ format: format.name, ...(shard ? { shard: formatShard(shard) } : {}), ...stats }));
        return;
      }
      const list = (record: Record<string, number>) =>
        Object.entries(record).filter(([, n]) => n > 0).map(([k, n]) => `${k || '(none)'} ${n}`).join(', ') || 'none';
      print(`format: ${format.name}`);
      if (shard) print(`shard: ${formatShard(shard)}`);
      print(`items: ${stats.items}`);
      print(`subsets: ${list(stats.subsets)}`);
      print(`annotations: ${list(stats.annotations)}`);
      print(`labels (${stats.labels.length}): ${stats.labels.join(', ')}`);
    });

  registerDetect(program, env);
  registerValidate(program, env);

  registerCalib(program, env, pluginArgs);
  registerEval(program, env);
  registerPreview(program, env);
  registerReport(program, env);
  registerLists(program, env);

  try {
    if (pluginArgs.length && !WRITING_COMMANDS.includes(args[0])) throw new UsageError(`only ${WRITING_COMMANDS.join(', ')} take options after --`);
    await program.parseAsync(args, { from: 'user' });
    return exitCode;
  } catch (error) {
    clear();
    return reportFailure(error, io, json, Boolean(program.opts().verbose), input);
  } finally {
    finish();
  }
}

function reportFailure(error: unknown, io: Io, json: boolean, verbose: boolean, input?: string): number {
  if (error instanceof CommanderError) {
    // commander has printed its own message (help goes to stderr when no command was given)
    return error.exitCode === 0 ? 0 : 2;
  }
  if (error instanceof UsageError) {
    io.stderr.write(`datum: ${error.message}\n`);
    return 2;
  }
  const diagnostic = error instanceof DatumError ? error.diagnostic : explain(error, input);
  io.stderr.write(`datum: ${formatDiagnostic(diagnostic)}\n`);
  if (verbose && error instanceof Error && error.stack) io.stderr.write(error.stack + '\n');
  if (json) io.stdout.write(JSON.stringify({ error: diagnostic }) + '\n');
  return 1;
}

/** What a system error means, by errno code, as `<sentence>: <path>`. */
const SYSTEM_ERRORS: Record<string, [code: string, sentence: string]> = {
  ENOENT: ['file-not-found', 'no such file or folder'],
  EACCES: ['permission-denied', 'permission denied'],
  EPERM: ['permission-denied', 'operation not permitted'],
  ENOTEMPTY: ['folder-not-empty', 'folder is not empty'],
  EEXIST: ['file-exists', 'already exists'],
  EISDIR: ['is-a-folder', 'is a folder where a file was expected'],
  ENOTDIR: ['not-a-folder', 'is not a folder where a folder was expected'],
  ENOSPC: ['disk-full', 'no space left on the device'],
  EDQUOT: ['disk-full', 'disk quota exceeded'],
  EROFS: ['read-only', 'the file system is read-only'],
  EMFILE: ['too-many-open-files', 'too many open files (raise the limit with `ulimit -n`)'],
  ENFILE: ['too-many-open-files', 'too many open files in the system'],
  ELOOP: ['symlink-loop', 'too many levels of symlinks'],
  ENAMETOOLONG: ['name-too-long', 'file name too long'],
  EIO: ['io-error', 'input/output error'],
  EBUSY: ['busy', 'file or folder is busy'],
  EXDEV: ['cross-device', 'cannot move across file systems'],
};

/** A diagnostic for an error that is not a DatumError: no internal message reaches the user. */
function explain(error: unknown, input?: string): Diagnostic {
  const e = error as NodeJS.ErrnoException | undefined;
  const known = e?.code ? SYSTEM_ERRORS[e.code] : undefined;
  if (known) {
    const file = [e!.path, (e as { dest?: string }).dest].filter(Boolean).join(' -> ') || undefined;
    return { severity: 'error', code: known[0], message: known[1], file };
  }
  if (error instanceof RangeError && /call stack size/i.test(error.message)) {
    return { severity: 'error', code: 'nested-too-deeply', file: input, message: 'input is nested too deeply to read (a structure inside a file nests deeper than datum can follow)' };
  }
  if (typeof e?.message === 'string' && /null bytes|NUL/.test(e.message)) {
    return { severity: 'error', code: 'nul-in-name', file: input, message: 'a file name contains a NUL byte' };
  }
  return { severity: 'error', code: 'internal', message: 'internal error (a bug in datum or a format plugin); please report it with the output of the same command run with --verbose' };
}

/** The version in datum's package.json, found by walking up from this file (src/ or dist/src/). */
function packageVersion(): string {
  for (let dir = new URL('.', import.meta.url); dir.pathname !== '/'; dir = new URL('..', dir)) {
    try {
      const pkg = JSON.parse(fs.readFileSync(new URL('package.json', dir), 'utf8'));
      if (pkg.bin?.datum) return pkg.version;
    } catch { /* not here */ }
  }
  return 'unknown';
}
