import type { FormatPlugin } from '../../src/plugin.js';

/** YOLO (Darknet): obj.data, obj.names, train.txt (to be implemented). */
export const plugin: FormatPlugin = {
  name: 'yolo',
  aliases: ['darknet'],
  description: 'YOLO (Darknet): obj.data, obj.names, train.txt',
};
