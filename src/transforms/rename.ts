import { UsageError } from '../diagnostics.js';
import type { TransformPlugin } from '../plugin.js';

// Placeholder: being written (issue 9).
export const transform: TransformPlugin = {
  name: 'rename',
  description: 'not implemented yet',
  args: '',
  example: 'rename',
  create() { throw new UsageError("transform 'rename' is not implemented yet"); },
};
