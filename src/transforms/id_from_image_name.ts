import { UsageError } from '../diagnostics.js';
import type { TransformPlugin } from '../plugin.js';

// Placeholder: being written (issue 9).
export const transform: TransformPlugin = {
  name: 'id_from_image_name',
  description: 'not implemented yet',
  args: '',
  example: 'id_from_image_name',
  create() { throw new UsageError("transform 'id_from_image_name' is not implemented yet"); },
};
