import type { Command } from 'commander';
import type { CommandEnv } from './env.js';

// Placeholder: `datum merge` is being written (issue 9).
export function registerMerge(_program: Command, _env: CommandEnv, _pluginArgs: readonly string[]): void {}
