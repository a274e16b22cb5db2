import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { DatumError } from './diagnostics.js';

/**
 * Temporary output folders being written, with the FileWriter writes in flight inside each. When a run
 * fails the folder is closed (FileWriter refuses new writes into it) and removed only after its writes
 * have settled: a write still in flight would otherwise recreate folders inside it while or after it
 * is removed (ENOTEMPTY, or a leftover `.<out>.datum-tmp-*`).
 */
interface Temp { dir: string; writes: Set<Promise<void>>; closed: boolean }
const temps = new Set<Temp>();
/** Failed temporaries, removed once more at exit in case a write nobody tracked recreated one. */
const leftovers = new Set<string>();

function tempOf(file: string): Temp | undefined {
  if (!temps.size) return undefined;
  const full = path.resolve(file);
  for (const t of temps) if (full.startsWith(t.dir + path.sep)) return t;
  return undefined;
}

async function removeTemp(t: Temp): Promise<void> {
  t.closed = true;
  leftovers.add(t.dir);
  // The writes never reject (FileWriter keeps their failure); a write that hangs is given up on.
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([Promise.all(t.writes), new Promise((resolve) => { timer = setTimeout(resolve, 5000); timer.unref(); })]);
  clearTimeout(timer);
  // maxRetries: a plugin's own untracked write may still add a file while the folder is removed.
  await fsp.rm(t.dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 20 }).catch(() => {});
  if (!fs.existsSync(t.dir)) leftovers.delete(t.dir);
}

/** At exit (also `process.exit` mid-run): remove what is still there, synchronously. */
function removeLeftovers(): void {
  for (const dir of [...leftovers, ...[...temps].map((t) => t.dir)]) {
    try { fs.rmSync(dir, { recursive: true, force: true, maxRetries: 2 }); } catch { /* nothing more to try */ }
  }
}
process.on('exit', removeLeftovers);

/** SIGINT/SIGTERM while writing: remove the temporaries, then exit as the signal would (130/143). */
function onSignal(signal: NodeJS.Signals): void {
  for (const t of temps) leftovers.add(t.dir);
  const code = signal === 'SIGINT' ? 130 : 143;
  void Promise.all([...temps].map(removeTemp)).finally(() => process.exit(code));
}
const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

function ended(file: string): DatumError {
  return new DatumError({ code: 'export-ended', file, message: 'not written: the export was interrupted or has failed' });
}

/**
 * Runs `write` against a fresh temporary folder beside `output` and renames it into place only when
 * `write` succeeds, so a failed or interrupted run never leaves a half-written dataset at `output`,
 * nor the temporary folder. A non-empty `output` is replaced only with `overwrite`.
 */
export async function writeAtomically<T>(output: string, overwrite: boolean, write: (dir: string) => Promise<T>): Promise<T> {
  if (output.includes('\0')) {
    throw new DatumError({ code: 'bad-output', file: JSON.stringify(output), message: 'the output path contains a NUL byte' });
  }
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
  const temp = await track(parent, target);
  try {
    const result = await write(temp.dir);
    temp.closed = true;
    await Promise.all(temp.writes);
    if (existing) {
      const old = `${temp.dir}-old`;
      await fsp.rename(target, old);
      try {
        await fsp.rename(temp.dir, target);
      } catch (error) {
        await fsp.rename(old, target); // put the user's output back
        throw error;
      }
      leftovers.add(old);
      await fsp.rm(old, { recursive: true, force: true, maxRetries: 5, retryDelay: 20 }).catch(() => {});
      if (!fs.existsSync(old)) leftovers.delete(old);
    } else {
      await fsp.rename(temp.dir, target);
    }
    return result;
  } catch (error) {
    await removeTemp(temp);
    throw error;
  } finally {
    untrack(temp);
  }
}

/**
 * One file (a report) written the same way: into a temporary folder beside `output`, removed on failure,
 * Ctrl-C or SIGTERM, then renamed into place (replacing an existing file in one step).
 */
export async function writeFileAtomically(output: string, content: string | Buffer): Promise<void> {
  const target = path.resolve(output);
  const parent = path.dirname(target);
  await fsp.mkdir(parent, { recursive: true });
  const temp = await track(parent, target);
  try {
    const file = path.join(temp.dir, path.basename(target));
    await fsp.writeFile(file, content);
    await fsp.rename(file, target);
    await fsp.rm(temp.dir, { recursive: true, force: true });
  } catch (error) {
    await removeTemp(temp);
    throw error;
  } finally {
    untrack(temp);
  }
}

/** A temporary folder beside `target`, removed by the signal and exit handlers until untracked. */
async function track(parent: string, target: string): Promise<Temp> {
  const temp: Temp = { dir: await makeTempDir(parent, `.${path.basename(target)}.datum-tmp-`), writes: new Set(), closed: false };
  if (!temps.size) for (const s of SIGNALS) process.on(s, onSignal);
  temps.add(temp);
  return temp;
}

function untrack(temp: Temp): void {
  temps.delete(temp);
  if (!temps.size) for (const s of SIGNALS) process.removeListener(s, onSignal);
}

/**
 * A new folder `<prefix><random>` in `parent`. Not mkdtemp: its 0700 mode would survive the rename and
 * make the output unreadable to others; mkdir gives the mode any folder gets (0777 less the umask).
 */
async function makeTempDir(parent: string, prefix: string): Promise<string> {
  for (;;) {
    const dir = path.join(parent, prefix + randomBytes(6).toString('base64url'));
    try {
      await fsp.mkdir(dir);
      return dir;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
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
    await this.enqueue(file, async () => {
      await this.ensureDir(path.dirname(file));
      await writeFile(file, data);
    });
  }

  /** Hard-links `source` to `target` when both are on one file system, else copies it. */
  async copy(source: string, target: string): Promise<void> {
    await this.enqueue(target, async () => {
      await this.ensureDir(path.dirname(target));
      // link() does not follow a symlink: the output would hold the symlink, not the image
      const real = await fsp.realpath(source);
      try {
        await fsp.link(real, target);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') throw error;
        await fsp.copyFile(real, target);
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
    if (tempOf(dir)?.closed) throw ended(dir);
    await fsp.mkdir(dir, { recursive: true });
    this.madeDirs.add(dir);
  }

  private async enqueue(file: string, task: () => Promise<void>): Promise<void> {
    if (this.failure) throw this.failure;
    while (this.pending.size >= this.concurrency) await Promise.race(this.pending);
    if (this.failure) throw this.failure;
    // a run that failed is removing its temporary folder: writing into it would recreate it
    const owner = tempOf(file);
    if (owner?.closed) throw ended(file);
    const p: Promise<void> = task()
      .catch((error) => { this.failure ??= error; })
      .finally(() => { this.pending.delete(p); owner?.writes.delete(p); });
    this.pending.add(p);
    owner?.writes.add(p);
  }
}
