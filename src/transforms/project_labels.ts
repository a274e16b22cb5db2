import { UsageError } from '../diagnostics.js';
import type { TransformPlugin } from '../plugin.js';

// Placeholder: being written (issue 9).
export const transform: TransformPlugin = {
  name: 'project_labels',
  description: 'not implemented yet',
  args: '',
  example: 'project_labels',
  create() { throw new UsageError("transform 'project_labels' is not implemented yet"); },
};
