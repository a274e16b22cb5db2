import { UsageError } from '../diagnostics.js';
import type { TransformPlugin } from '../plugin.js';

// Placeholder: being written (issue 9).
export const transform: TransformPlugin = {
  name: 'shapes_to_boxes',
  description: 'not implemented yet',
  args: '',
  example: 'shapes_to_boxes',
  create() { throw new UsageError("transform 'shapes_to_boxes' is not implemented yet"); },
};
