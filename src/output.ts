import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { DatumError } from './diagnostics.js';

/**
 * Runs `write` against a fresh temporary folder beside `output` and renames it into place only when
 * `write` succeeds, so a failed or interrupted run never leaves a half-written dataset at `output`.
 * A non-empty `output` is replaced only with `overwrite`.
 */
export async function writeAtomically<T>(output: string, overwrite: boolean, write: (dir: string) => Promise<T>): Promise<T> {
  const target = path.resolve(output);
  const existing = await fsp.stat(target).catch(() => null);
  if (existing) {
    const empty = existing.isDirectory() && (await fsp.readdir(target)).length === 0;
    if (!empty && !overwrite) {
      throw new DatumError({ code: 'output-exists', file: output, message: 'output folder exists and is not empty; pass --overwrite to replace it' });
    }
  }
  const parent = path.dirname(target);
  await fsp.mkdir(parent, { recursive: true });
  const temp = await fsp.mkdtemp(path.join(parent, `.${path.basename(target)}.datum-tmp-`));
  const removeTemp = () => fs.rmSync(temp, { recursive: true, force: true });
  process.once('exit', removeTemp);
  try {
    const result = await write(temp);
    if (existing) {
      const old = `${temp}-old`;
      await fsp.rename(target, old);
      await fsp.rename(temp, target);
      await fsp.rm(old, { recursive: true, force: true });
    } else {
      await fsp.rename(temp, target);
    }
    return result;
  } catch (error) {
    removeTemp();
    throw error;
  } finally {
    process.removeListener('exit', removeTemp);
  }
}

// The callback writeFile skips the FileHandle that fs/promises opens and closes per file, which is
// about a fifth of the time when writing 100k label files.
const writeFile = promisify(fs.writeFile);

/**
 * Writes many small files with bounded concurrency (one `await writeFile` at a time is slow for
 * 100k label files; unbounded parallelism runs out of file descriptors). Creates folders as needed.
 */
export class FileWriter {
  private readonly pending = new Set<Promise<void>>();
  private readonly madeDirs = new Set<string>();
  private failure: unknown;

  constructor(private readonly concurrency = 64) {}

  async write(file: string, data: string | Uint8Array): Promise<void> {
    await this.enqueue(async () => {
      await this.ensureDir(path.dirname(file));
      await writeFile(file, data);
    });
  }

  /** Hard-links `source` to `target` when both are on one file system, else copies it. */
  async copy(source: string, target: string): Promise<void> {
    await this.enqueue(async () => {
      await this.ensureDir(path.dirname(target));
      try {
        await fsp.link(source, target);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') throw error;
        await fsp.copyFile(source, target);
      }
    });
  }

  /** Waits for every queued write; rethrows the first failure. */
  async flush(): Promise<void> {
    await Promise.all(this.pending);
    if (this.failure) throw this.failure;
  }

  async ensureDir(dir: string): Promise<void> {
    if (this.madeDirs.has(dir)) return;
    await fsp.mkdir(dir, { recursive: true });
    this.madeDirs.add(dir);
  }

  private async enqueue(task: () => Promise<void>): Promise<void> {
    if (this.failure) throw this.failure;
    while (this.pending.size >= this.concurrency) await Promise.race(this.pending);
    const p: Promise<void> = task()
      .catch((error) => { this.failure ??= error; })
      .finally(() => this.pending.delete(p));
    this.pending.add(p);
  }
}
