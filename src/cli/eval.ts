import type { Command } from 'commander';
import type { CommandEnv } from './env.js';

/** `datum eval` (placeholder: being written). */
export function registerEval(_program: Command, _env: CommandEnv): void {}
