import { UsageError } from '../diagnostics.js';
import type { TransformPlugin } from '../plugin.js';

// Placeholder: being written (issue 9).
export const transform: TransformPlugin = {
  name: 'filter',
  description: 'not implemented yet',
  args: '',
  example: 'filter',
  create() { throw new UsageError("transform 'filter' is not implemented yet"); },
};
