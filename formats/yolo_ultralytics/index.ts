import type { FormatPlugin } from '../../src/plugin.js';
import { exportOptions, exportUltralytics } from './exporter.js';

/** YOLO-Ultralytics (detect, segment, pose, obb, classify) with data.yaml. */
export const plugin: FormatPlugin = {
  name: 'yolo_ultralytics',
  aliases: ['ultralytics'],
  description: 'YOLO-Ultralytics (detect, segment, pose, obb, classify) with data.yaml',
  export: exportUltralytics,
  exportOptions,
};
