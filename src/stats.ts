import { ANNOTATION_TYPES, type AnnotationType, type Dataset } from './model.js';

export interface DatasetStats {
  items: number;
  subsets: Record<string, number>;
  annotations: Record<AnnotationType, number>;
  labels: string[];
}

/** Counts items per subset and annotations per kind, consuming the dataset's items once. */
export async function computeStats(dataset: Dataset): Promise<DatasetStats> {
  const annotations = Object.fromEntries(ANNOTATION_TYPES.map((t) => [t, 0])) as Record<AnnotationType, number>;
  const subsets: Record<string, number> = {};
  let items = 0;
  for await (const item of dataset.items) {
    items++;
    subsets[item.subset] = (subsets[item.subset] ?? 0) + 1;
    for (const a of item.annotations) annotations[a.type]++;
  }
  return { items, subsets, annotations, labels: dataset.categories.map((c) => c.name) };
}
