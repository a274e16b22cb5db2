import { UsageError } from '../diagnostics.js';
import type { TransformPlugin } from '../plugin.js';

// Placeholder: being written (issue 9).
export const transform: TransformPlugin = {
  name: 'crop_to_image',
  description: 'not implemented yet',
  args: '',
  example: 'crop_to_image',
  create() { throw new UsageError("transform 'crop_to_image' is not implemented yet"); },
};
