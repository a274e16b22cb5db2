import type { Command } from 'commander';
import type { CommandEnv } from './env.js';

/** `datum report` (placeholder: being written). */
export function registerReport(_program: Command, _env: CommandEnv): void {}
