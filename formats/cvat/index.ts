import type { FormatPlugin } from '../../src/plugin.js';

/** CVAT for images 1.1 and CVAT for video 1.1 XML (to be implemented). */
export const plugin: FormatPlugin = {
  name: 'cvat',
  aliases: [],
  description: 'CVAT for images 1.1 and CVAT for video 1.1 XML',
};
