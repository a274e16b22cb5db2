import type { FormatPlugin } from '../../src/plugin.js';
import { detectCub } from './detector.js';
import { importCub } from './importer.js';
import { exportCub } from './exporter.js';

/** CUB-200-2011: images.txt, classes.txt, image_class_labels.txt, train_test_split.txt, bounding_boxes.txt. */
export const plugin: FormatPlugin = {
  name: 'cub',
  aliases: ['cub_200_2011'],
  description: 'CUB-200-2011 birds: images.txt, classes.txt, image_class_labels.txt, train_test_split.txt, bounding_boxes.txt',
  detect: detectCub,
  import: importCub,
  export: exportCub,
  exportOptions: [
    { name: 'save-media', type: 'boolean', description: 'copy the images into images/ at the paths images.txt names' },
  ],
};
