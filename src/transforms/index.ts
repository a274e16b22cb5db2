/**
 * The built-in transforms, one file each. A new transform is a file here plus one line in the list;
 * third-party transforms register the same way through `datum --plugin <module>` (src/registry.ts).
 */
import { getTransform, listTransforms, registerTransform } from '../registry.js';
import type { Transform } from '../plugin.js';
import { transform as boxesToPolygons } from './boxes_to_polygons.js';
import { transform as cropToImage } from './crop_to_image.js';
import { transform as filter } from './filter.js';
import { transform as idFromImageName } from './id_from_image_name.js';
import { transform as mapSubsets } from './map_subsets.js';
import { transform as masksToPolygons } from './masks_to_polygons.js';
import { transform as mergeInstanceSegments } from './merge_instance_segments.js';
import { transform as polygonsToMasks } from './polygons_to_masks.js';
import { transform as projectLabels } from './project_labels.js';
import { transform as reindex } from './reindex.js';
import { transform as remapLabels } from './remap_labels.js';
import { transform as removeAnnotations } from './remove_annotations.js';
import { transform as removeAttributes } from './remove_attributes.js';
import { transform as removeImages } from './remove_images.js';
import { transform as rename } from './rename.js';
import { transform as shapesToBoxes } from './shapes_to_boxes.js';
import { transform as split } from './split.js';

export const builtinTransforms = [
  mapSubsets, remapLabels, projectLabels, reindex, idFromImageName, rename, filter,
  removeImages, removeAnnotations, removeAttributes,
  shapesToBoxes, boxesToPolygons, polygonsToMasks, masksToPolygons, mergeInstanceSegments, cropToImage,
  split,
];

for (const plugin of builtinTransforms) registerTransform(plugin);

/** Parses `name:args` (as `-t` takes it) into a transform; a usage error names the known ones. */
export function parseTransform(text: string): Transform {
  const colon = text.indexOf(':');
  const name = colon < 0 ? text : text.slice(0, colon);
  return getTransform(name.trim()).create(colon < 0 ? '' : text.slice(colon + 1));
}

/** One line per transform: `name:ARGS` (`*` marks those that hold the whole dataset); `datum transforms` says more. */
export function transformUsage(): string[] {
  return listTransforms().map((t) => `${t.name}${t.args ? `:${t.args}` : ''}${t.holdsDataset ? ' *' : ''}`);
}
