import { UsageError } from '../diagnostics.js';
import type { TransformPlugin } from '../plugin.js';

// Placeholder: being written (issue 9).
export const transform: TransformPlugin = {
  name: 'masks_to_polygons',
  description: 'not implemented yet',
  args: '',
  example: 'masks_to_polygons',
  create() { throw new UsageError("transform 'masks_to_polygons' is not implemented yet"); },
};
