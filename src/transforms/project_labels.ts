import { UsageError } from '../diagnostics.js';
import type { TransformPlugin } from '../plugin.js';
import { parseList } from './args.js';
import { relabel } from './labels.js';

export const transform: TransformPlugin = {
  name: 'project_labels',
  description: 'make the label list exactly the one given, in its order (so two datasets share class indices): labels not listed are dropped with their annotations, listed labels the dataset lacks are added',
  args: 'LABEL,LABEL,...',
  example: 'project_labels:person,car,bus',
  create(args) {
    const order = parseList(args, 'project_labels', 'labels');
    const duplicate = order.find((name, i) => order.indexOf(name) !== i);
    if (duplicate !== undefined) throw new UsageError(`transform 'project_labels': label '${duplicate}' is listed twice`);
    return (dataset, ctx) => relabel(dataset, (category) => (order.includes(category.name) ? category.name : category.parent === undefined ? null : undefined), order, (dropped) => {
      const added = order.filter((name) => !dataset.categories.some((c) => c.name === name));
      ctx.reporter.info({
        code: 'project-labels',
        message: `project_labels: dropped ${dropped} annotation${dropped === 1 ? '' : 's'} of labels not listed${added.length ? `; added labels the dataset lacks: ${added.join(', ')}` : ''}`,
      });
    });
  },
};
