import type { Command } from 'commander';
import type { CommandEnv } from './env.js';

/** `datum preview` (placeholder: being written). */
export function registerPreview(_program: Command, _env: CommandEnv): void {}
