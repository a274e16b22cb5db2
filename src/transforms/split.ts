import { UsageError } from '../diagnostics.js';
import type { TransformPlugin } from '../plugin.js';

// Placeholder: being written (issue 9).
export const transform: TransformPlugin = {
  name: 'split',
  description: 'not implemented yet',
  args: '',
  example: 'split',
  create() { throw new UsageError("transform 'split' is not implemented yet"); },
};
