import type { Command } from 'commander';
import type { CommandEnv } from './env.js';

export function registerValidate(_program: Command, _env: CommandEnv): void {
  // `datum validate` (issue 8): being written.
}
