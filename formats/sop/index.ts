import type { FormatPlugin } from '../../src/plugin.js';
import { detectSop } from './detector.js';
import { importSop } from './importer.js';
import { exportSop } from './exporter.js';

/** Stanford Online Products: Ebay_info.txt, Ebay_train.txt, Ebay_test.txt (image_id class_id super_class_id path). */
export const plugin: FormatPlugin = {
  name: 'sop',
  aliases: ['stanford_online_products'],
  description: 'Stanford Online Products: Ebay_info.txt, Ebay_train.txt, Ebay_test.txt',
  detect: detectSop,
  import: importSop,
  export: exportSop,
  exportOptions: [
    { name: 'save-media', type: 'boolean', description: 'copy the images to the paths the lists name (the item id plus its extension: bicycle_final/1_0.JPG)' },
  ],
};
