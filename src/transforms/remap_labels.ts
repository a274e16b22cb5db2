import type { TransformPlugin } from '../plugin.js';
import { choiceParam, parseArgs, parsePairs } from './args.js';
import { relabel } from './labels.js';

export const transform: TransformPlugin = {
  name: 'remap_labels',
  description: 'rename or merge labels; an empty target drops the label and its annotations; default=delete drops every label not named',
  args: 'OLD=NEW,...[;default=keep|delete]',
  example: 'remap_labels:cat=animal,dog=animal,person=;default=keep',
  create(text) {
    const args = parseArgs(text, 'remap_labels', ['default'], true);
    const mapping = new Map(parsePairs(args.main, 'remap_labels', 'cat=animal,dog='));
    const fallback = choiceParam(args, 'default', ['keep', 'delete'] as const, 'keep', 'remap_labels');
    return (dataset, ctx) => {
      for (const source of mapping.keys()) {
        if (!dataset.categories.some((c) => c.name === source)) {
          ctx.reporter.warn({ code: 'unknown-label', message: `remap_labels: the dataset has no label '${source}'` });
        }
      }
      return relabel(dataset, (category) => {
        const target = mapping.get(category.name);
        if (target !== undefined) return target === '' ? null : target;
        // Sub-labels follow their parent unless named; with default=delete only named labels stay.
        return fallback === 'delete' && category.parent === undefined ? null : undefined;
      }, undefined, (dropped) => {
        if (dropped) ctx.reporter.info({ code: 'remap-labels', message: `remap_labels: dropped ${dropped} annotation${dropped === 1 ? '' : 's'} of deleted labels` });
      });
    };
  },
};
