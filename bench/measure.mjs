// Shared by the benchmarks: run a command under `/usr/bin/time -v` and read wall time and peak memory.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';

export function measure(command, args, options = {}) {
  if (!fs.existsSync('/usr/bin/time')) {
    throw new Error('/usr/bin/time is missing: install GNU time (Debian: apt-get install -y time)');
  }
  const run = spawnSync('/usr/bin/time', ['-v', command, ...args], { encoding: 'utf8', maxBuffer: 1 << 26, ...options });
  if (run.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${run.status}):\n${run.stderr}`);
  const wall = /Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)/.exec(run.stderr);
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(run.stderr);
  return {
    seconds: Number(wall[1] ?? 0) * 3600 + Number(wall[2]) * 60 + Number(wall[3]),
    maxRssMiB: Number(rss[1]) / 1024,
    stdout: run.stdout,
  };
}

export function describe(label, m) {
  return `${label}: ${m.seconds.toFixed(2)} s wall, ${m.maxRssMiB.toFixed(0)} MiB peak RSS`;
}

/** Deterministic pseudo-random numbers in [0, 1) (mulberry32), so every run generates the same data. */
export function seededRandom(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
