import type { FormatPlugin } from '../../src/plugin.js';
import { detectUltralytics } from './detector.js';
import { importOptions, importUltralytics } from './importer.js';
import { exportOptions, exportUltralytics } from './exporter.js';
import { validateUltralytics } from './validate.js';

/** YOLO-Ultralytics (detect, segment, pose, obb, classify) with data.yaml. */
export const plugin: FormatPlugin = {
  name: 'yolo_ultralytics',
  aliases: ['ultralytics'],
  description: 'YOLO-Ultralytics (detect, segment, pose, obb, classify) with data.yaml',
  detect: detectUltralytics,
  import: importUltralytics,
  importOptions,
  export: exportUltralytics,
  exportOptions,
  validate: validateUltralytics,
};
