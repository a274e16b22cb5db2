import type { Reporter } from '../diagnostics.js';
import type { Context } from '../plugin.js';

/** What a command's file gets from `main`: the context, printing, and the exit code it may set. */
export interface CommandEnv {
  ctx: Context;
  reporter: Reporter;
  /** Writes a line to stdout. */
  print: (text: string) => void;
  /** Clears the progress line before other output. */
  clear: () => void;
  isJson: () => boolean;
  /** The path named in an internal error's message (input nested too deeply). */
  setInput: (path: string) => void;
  /** Exit code when the action ends without throwing (0 by default). */
  setExitCode: (code: number) => void;
}
