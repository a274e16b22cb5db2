import { UsageError } from '../diagnostics.js';
import type { TransformPlugin } from '../plugin.js';

// Placeholder: being written (issue 9).
export const transform: TransformPlugin = {
  name: 'remove_annotations',
  description: 'not implemented yet',
  args: '',
  example: 'remove_annotations',
  create() { throw new UsageError("transform 'remove_annotations' is not implemented yet"); },
};
