import type { FormatPlugin } from '../../src/plugin.js';
import { detectVoc } from './detector.js';
import { BOX_CONVENTIONS, importVoc } from './importer.js';
import { exportVoc } from './exporter.js';
import { validateVoc } from './validate.js';

const coords = {
  name: 'coords',
  type: 'string',
  choices: BOX_CONVENTIONS,
  description: "how xmin..xmax map to boxes: 'voc' (default) = 1-based inclusive pixel indices (x = xmin - 1, w = xmax - xmin + 1); "
    + "'datumaro' = x = xmin, w = xmax - xmin (as Datumaro, CVAT and Roboflow write them)",
} as const;

/** Pascal VOC (detection, segmentation, layout, action). */
export const plugin: FormatPlugin = {
  name: 'voc',
  aliases: ['pascal_voc'],
  description: 'Pascal VOC (detection, segmentation, layout, action)',
  detect: detectVoc,
  import: importVoc,
  importOptions: [coords],
  export: exportVoc,
  exportOptions: [
    coords,
    { name: 'save-media', type: 'boolean', description: 'copy the images into JPEGImages/' },
  ],
  validate: validateVoc,
};
