import type { Command } from 'commander';
import type { CommandEnv } from './env.js';

/** `datum calib` (placeholder: being written). */
export function registerCalib(_program: Command, _env: CommandEnv, _pluginArgs: readonly string[]): void {}
