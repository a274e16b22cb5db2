import fsp from 'node:fs/promises';
import path from 'node:path';
import { readFileHead } from '../../src/files.js';
import type { Detection } from '../../src/plugin.js';
import { ANNOTATIONS_DIR, CLASS_MASK_DIR, IMAGES_DIR, SETS_DIR } from './layout.js';
import { readProlog } from './xml.js';
import { isDirectory } from '../../src/files.js';

/**
 * VOC devkit layout: Annotations/ holding .xml files beside ImageSets/ or JPEGImages/ (or a
 * segmentation-only ImageSets/Segmentation + SegmentationClass/). Roboflow's flat layout
 * (<subset>/*.xml with an <annotation> root beside the images) is recognized with less confidence.
 */
export async function detectVoc(input: string): Promise<Detection | null> {
  if (!(await isDirectory(input))) return { confidence: 0, reason: 'not a folder' };
  const has = (dir: string) => isDirectory(path.join(input, dir));
  const annotations = path.join(input, ANNOTATIONS_DIR);
  if (await isDirectory(annotations)) {
    const xml = (await fsp.readdir(annotations)).find((f) => f.toLowerCase().endsWith('.xml'));
    if (xml && (await has(SETS_DIR) || await has(IMAGES_DIR))) {
      return { confidence: 0.9, reason: `${ANNOTATIONS_DIR}/${xml} beside ${await has(SETS_DIR) ? SETS_DIR : IMAGES_DIR}/` };
    }
  }
  if (await has(path.join(SETS_DIR, 'Segmentation')) && await has(CLASS_MASK_DIR)) {
    return { confidence: 0.8, reason: `${SETS_DIR}/Segmentation/ and ${CLASS_MASK_DIR}/` };
  }
  for (const folder of ['.', ...(await fsp.readdir(input)).sort()]) {
    const dir = path.join(input, folder);
    if (folder !== '.' && !(await isDirectory(dir))) continue;
    const xml = (await fsp.readdir(dir)).filter((f) => f.toLowerCase().endsWith('.xml')).sort()[0];
    if (!xml) continue;
    // The root element may follow an XML declaration, comments and a DOCTYPE (with entity declarations).
    const head = await readFileHead(path.join(dir, xml), 65536);
    const { root } = readProlog(head);
    const body = root < 0 ? '' : head.slice(root);
    if (/^<annotation[\s>]/.test(body) && /<(object|filename)[\s>]/.test(body)) {
      return { confidence: 0.5, reason: `${path.posix.join(folder, xml)} with a VOC <annotation> root (Roboflow layout)` };
    }
    return { confidence: 0, reason: `${path.posix.join(folder, xml)} has no VOC <annotation> root` };
  }
  return { confidence: 0, reason: `no ${ANNOTATIONS_DIR}/*.xml beside ${SETS_DIR}/ or ${IMAGES_DIR}/, and no .xml file with an <annotation> root` };
}
