import type { FormatPlugin } from '../../src/plugin.js';
import { detectCoco } from './detector.js';
import { exportCoco, exportOptions } from './exporter.js';
import { importCoco } from './importer.js';
import { validateCoco } from './validate.js';

/** COCO (instances, person_keypoints, captions, labels, panoptic, stuff, image_info; Roboflow layout). */
export const plugin: FormatPlugin = {
  name: 'coco',
  aliases: ['coco_roboflow'],
  description: 'COCO (instances, person_keypoints, captions, labels, panoptic, stuff, image_info; Roboflow layout)',
  detect: detectCoco,
  import: importCoco,
  export: exportCoco,
  exportOptions,
  validate: validateCoco,
};
