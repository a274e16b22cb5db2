#!/usr/bin/env node
// The `datum` command: runs the compiled CLI (`npm run build` writes dist/; `npm ci` runs it via `prepare`).
// An error that escapes main() (a plugin's stray promise) is a bug: one line, the stack only with --verbose.
const crash = (error) => {
  if (error?.code === 'EPIPE') process.exit(0); // `datum formats | head`: the reader has had enough
  process.stderr.write('datum: error: internal error (a bug in datum or a format plugin); please report it with the output of the same command run with --verbose [internal]\n');
  if (process.argv.includes('--verbose')) process.stderr.write(`${error?.stack ?? error}\n`);
  process.exit(1);
};
process.on('uncaughtException', crash);
process.on('unhandledRejection', crash);
let cli;
try {
  cli = await import('../dist/src/cli/main.js');
} catch (error) {
  if (error?.code !== 'ERR_MODULE_NOT_FOUND') throw error;
  process.stderr.write('datum: the CLI is not built yet; run `npm run build` in the datum folder\n');
  process.exit(1);
}
process.exitCode = await cli.main(process.argv.slice(2));
