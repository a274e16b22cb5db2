import type { FormatPlugin } from '../../src/plugin.js';

/** COCO (instances, person_keypoints, captions, labels, panoptic, stuff, image_info; Roboflow layout) (to be implemented). */
export const plugin: FormatPlugin = {
  name: 'coco',
  aliases: [],
  description: 'COCO (instances, person_keypoints, captions, labels, panoptic, stuff, image_info; Roboflow layout)',
};
