/** End-to-end conformance: `datum stats` on the Datumaro corpus's CVAT exports. Skipped without the corpus. */
import { expect, it } from 'vitest';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { ROOT, conformance, corpus } from '../helpers/corpus.js';

const DATUM = path.join(ROOT, 'bin/datum.js');

function datum(...args: string[]) {
  return spawnSync(process.execPath, [DATUM, ...args], { encoding: 'utf8' });
}

conformance('datum stats on the corpus', () => {
  it('stats --json on the corpus CVAT exports gives the counts in their XML', () => {
    const none = { label: 0, bbox: 0, polygon: 0, polyline: 0, points: 0, mask: 0, ellipse: 0, skeleton: 0, caption: 0 };
    // each subset of the project holds img0 (box + polyline) and img1 (polygon + points)
    const project = datum('stats', corpus('cvat_dataset/for_images/export_project'), '--json');
    expect(project.status).toBe(0);
    expect(JSON.parse(project.stdout)).toEqual({
      format: 'cvat', items: 6, subsets: { Test: 2, Train: 2, Validation: 2 },
      annotations: { ...none, bbox: 3, polyline: 3, polygon: 3, points: 3 }, labels: ['label1', 'label2'],
    });
    // the task export is named train.xml: one subset 'train'
    const task = datum('stats', corpus('cvat_dataset/for_images/export_task'), '-if', 'cvat', '--json');
    expect(task.status).toBe(0);
    expect(JSON.parse(task.stdout)).toEqual({
      format: 'cvat', items: 2, subsets: { train: 2 },
      annotations: { ...none, bbox: 1, polyline: 1, polygon: 1, points: 1 }, labels: ['label1', 'label2'],
    });
  });

});
