import { UsageError } from '../diagnostics.js';
import type { TransformPlugin } from '../plugin.js';

// Placeholder: being written (issue 9).
export const transform: TransformPlugin = {
  name: 'merge_instance_segments',
  description: 'not implemented yet',
  args: '',
  example: 'merge_instance_segments',
  create() { throw new UsageError("transform 'merge_instance_segments' is not implemented yet"); },
};
