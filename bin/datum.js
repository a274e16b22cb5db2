#!/usr/bin/env node
// The `datum` command: runs the compiled CLI (`npm run build` writes dist/; `npm ci` runs it via `prepare`).
let cli;
try {
  cli = await import('../dist/src/cli/main.js');
} catch (error) {
  if (error?.code !== 'ERR_MODULE_NOT_FOUND') throw error;
  process.stderr.write('datum: the CLI is not built yet; run `npm run build` in the datum folder\n');
  process.exit(1);
}
process.exitCode = await cli.main(process.argv.slice(2));
