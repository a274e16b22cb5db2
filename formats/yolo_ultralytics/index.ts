import type { FormatPlugin } from '../../src/plugin.js';

/** YOLO-Ultralytics (detect, segment, pose, obb, classify) with data.yaml (to be implemented). */
export const plugin: FormatPlugin = {
  name: 'yolo_ultralytics',
  aliases: ['ultralytics'],
  description: 'YOLO-Ultralytics (detect, segment, pose, obb, classify) with data.yaml',
};
