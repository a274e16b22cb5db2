import type { Command } from 'commander';
import type { CommandEnv } from './env.js';

// Placeholder: `datum split` is being written (issue 9).
export function registerSplit(_program: Command, _env: CommandEnv, _pluginArgs: readonly string[]): void {}
