import { UsageError } from '../diagnostics.js';
import type { TransformPlugin } from '../plugin.js';

// Placeholder: being written (issue 9).
export const transform: TransformPlugin = {
  name: 'reindex',
  description: 'not implemented yet',
  args: '',
  example: 'reindex',
  create() { throw new UsageError("transform 'reindex' is not implemented yet"); },
};
