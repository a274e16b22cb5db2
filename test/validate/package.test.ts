import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixture, ROOT } from '../helpers/corpus.js';

describe('the JSON Schemas as shipped', () => {
  it('are in the npm package, at formats/<name>/schemas/, for other tools', () => {
    const r = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const files: string[] = JSON.parse(r.stdout)[0].files.map((f: { path: string }) => f.path);
    for (const task of ['instances', 'person_keypoints', 'captions', 'labels', 'panoptic', 'stuff', 'image_info']) {
      expect(files).toContain(`formats/coco/schemas/${task}.schema.json`);
    }
    expect(files).toContain('formats/yolo_ultralytics/schemas/data.schema.json');
  });

  it('are found by the built CLI (dist/ has no copy of them)', () => {
    const r = spawnSync(process.execPath, [path.join(ROOT, 'bin/datum.js'), 'validate', fixture('validate', 'coco', 'no-images'), '--json'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(1);
    expect(JSON.parse(r.stdout).findings[0]).toMatchObject({ code: 'missing-key', pointer: '/images', message: expect.stringContaining('missing required key "images"') });
  });
});
