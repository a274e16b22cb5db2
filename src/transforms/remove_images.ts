import { UsageError } from '../diagnostics.js';
import type { TransformPlugin } from '../plugin.js';

// Placeholder: being written (issue 9).
export const transform: TransformPlugin = {
  name: 'remove_images',
  description: 'not implemented yet',
  args: '',
  example: 'remove_images',
  create() { throw new UsageError("transform 'remove_images' is not implemented yet"); },
};
