import { UsageError } from '../diagnostics.js';
import type { TransformPlugin } from '../plugin.js';

// Placeholder: being written (issue 9).
export const transform: TransformPlugin = {
  name: 'remove_attributes',
  description: 'not implemented yet',
  args: '',
  example: 'remove_attributes',
  create() { throw new UsageError("transform 'remove_attributes' is not implemented yet"); },
};
