import type { FormatPlugin } from '../../src/plugin.js';
import { detectYolo } from './detector.js';
import { importYolo } from './importer.js';
import { exportYolo } from './exporter.js';
import { validateYolo } from './validate.js';

/** YOLO (Darknet): obj.data, obj.names, <subset>.txt image lists, `class cx cy w h` label files. */
export const plugin: FormatPlugin = {
  name: 'yolo',
  aliases: ['darknet'],
  description: 'YOLO (Darknet): obj.data, obj.names, train.txt',
  detect: detectYolo,
  import: importYolo,
  export: exportYolo,
  validate: validateYolo,
  exportOptions: [
    { name: 'save-media', type: 'boolean', description: 'copy the images next to their label files' },
    { name: 'keep-crowd', type: 'boolean', description: 'write crowd regions (is_crowd, COCO iscrowd: 1) as boxes; by default they are skipped' },
    { name: 'data-prefix', type: 'boolean', description: "prefix paths in obj.data and the image lists with 'data/' as Darknet expects (default on; --no-data-prefix for paths relative to the dataset folder)" },
  ],
};
