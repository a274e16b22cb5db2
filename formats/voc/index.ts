import type { FormatPlugin } from '../../src/plugin.js';

/** Pascal VOC (detection, segmentation, layout, action) (to be implemented). */
export const plugin: FormatPlugin = {
  name: 'voc',
  aliases: ['pascal_voc'],
  description: 'Pascal VOC (detection, segmentation, layout, action)',
};
