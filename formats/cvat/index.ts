import type { FormatPlugin } from '../../src/plugin.js';
import { detectCvat } from './detector.js';
import { importCvat } from './importer.js';
import { exportCvat, exportOptions } from './exporter.js';
import { validateCvat } from './validate.js';

/** CVAT for images 1.1 and CVAT for video 1.1 XML. */
export const plugin: FormatPlugin = {
  name: 'cvat',
  aliases: [],
  description: 'CVAT for images 1.1 and CVAT for video 1.1 XML',
  detect: detectCvat,
  import: importCvat,
  export: exportCvat,
  exportOptions,
  validate: validateCvat,
};
