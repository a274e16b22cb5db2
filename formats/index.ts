/**
 * The built-in format plugins. A new format is a folder in `formats/` plus one line here; third-party
 * plugins register the same way through `datum --plugin <module>` (see src/registry.ts).
 */
import { registerFormat } from '../src/registry.js';
import { plugin as coco } from './coco/index.js';
import { plugin as cub } from './cub/index.js';
import { plugin as cvat } from './cvat/index.js';
import { plugin as sop } from './sop/index.js';
import { plugin as voc } from './voc/index.js';
import { plugin as yolo } from './yolo/index.js';
import { plugin as yoloUltralytics } from './yolo_ultralytics/index.js';

export const builtinFormats = [coco, cub, cvat, sop, voc, yolo, yoloUltralytics];

for (const plugin of builtinFormats) registerFormat(plugin);
