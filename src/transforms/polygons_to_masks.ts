import { UsageError } from '../diagnostics.js';
import type { TransformPlugin } from '../plugin.js';

// Placeholder: being written (issue 9).
export const transform: TransformPlugin = {
  name: 'polygons_to_masks',
  description: 'not implemented yet',
  args: '',
  example: 'polygons_to_masks',
  create() { throw new UsageError("transform 'polygons_to_masks' is not implemented yet"); },
};
