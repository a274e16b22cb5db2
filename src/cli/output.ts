import { formatDiagnostic, Reporter, type Diagnostic } from '../diagnostics.js';

/** How many messages of one code are printed before the rest are only counted. */
const PRINT_PER_CODE = 20;

/** A reporter that prints messages to stderr as they come, capping repeats of one code. */
export function createPrintingReporter(stderr: NodeJS.WritableStream, clearProgress: () => void): { reporter: Reporter; finish: () => void } {
  const printed = new Map<string, number>();
  const reporter = new Reporter((d: Diagnostic) => {
    const n = (printed.get(d.code) ?? 0) + 1;
    printed.set(d.code, n);
    if (n <= PRINT_PER_CODE) {
      clearProgress();
      stderr.write(formatDiagnostic(d) + '\n');
    }
  });
  const finish = () => {
    for (const [code, n] of printed) {
      if (n > PRINT_PER_CODE) stderr.write(`... and ${n - PRINT_PER_CODE} more [${code}] messages\n`);
    }
  };
  return { reporter, finish };
}

/**
 * Progress on stderr when it is a terminal: one line rewritten in place at most ten times a second.
 * Returns the callback plugins get as `ctx.progress` and a `clear` for before other output.
 */
export function createProgress(stderr: NodeJS.WritableStream & { isTTY?: boolean }): { progress: (label: string, done: number, total?: number) => void; clear: () => void } {
  if (!stderr.isTTY) return { progress: () => {}, clear: () => {} };
  let last = 0;
  let shown = false;
  const progress = (label: string, done: number, total?: number) => {
    const now = Date.now();
    if (now - last < 100 && done !== total) return;
    last = now;
    shown = true;
    const amount = total ? `${done}/${total} (${Math.floor((done / total) * 100)}%)` : `${done}`;
    stderr.write(`\r\x1b[K${label}: ${amount}`);
  };
  const clear = () => {
    if (shown) stderr.write('\r\x1b[K');
    shown = false;
  };
  return { progress, clear };
}
