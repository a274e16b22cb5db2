// Runs vitest and ends with the plain line CI reads: "N passed, N failed" (vitest's summary is not it).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const dir = mkdtempSync(path.join(tmpdir(), 'datum-test-'));
const report = path.join(dir, 'report.json');
const vitest = path.resolve('node_modules/vitest/vitest.mjs');
const run = spawnSync(process.execPath, [vitest, 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...process.argv.slice(2)], { stdio: 'inherit' });
let passed = 0;
let failed = 0;
let skipped = 0;
let conformanceSkipped = 0;
try {
  const result = JSON.parse(readFileSync(report, 'utf8'));
  passed = result.numPassedTests;
  // A file that fails before its tests run (a syntax or import error) has no failed test of its own.
  const brokenFiles = result.testResults.filter((f) => f.status === 'failed' && !f.assertionResults.some((t) => t.status === 'failed'));
  failed = result.numFailedTests + brokenFiles.length;
  skipped = result.numPendingTests + (result.numTodoTests ?? 0);
  // Conformance tests (describe titles 'conformance: ...', test/helpers/corpus.ts) skip without the corpus.
  conformanceSkipped = result.testResults.flatMap((f) => f.assertionResults)
    .filter((t) => t.status !== 'passed' && t.status !== 'failed' && t.ancestorTitles.some((a) => a.startsWith('conformance:'))).length;
} catch {
  failed = Math.max(1, failed);
}
rmSync(dir, { recursive: true, force: true });
if (conformanceSkipped) {
  const where = path.resolve(process.env.DATUM_CORPUS ?? '../shared/corpus');
  console.log(`${conformanceSkipped} conformance tests did not run: no corpus at ${where} (set DATUM_CORPUS to its folder)`);
}
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(run.status === 0 && failed === 0 && passed > 0 ? 0 : 1);
