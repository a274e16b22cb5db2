import type { Diagnostic, Severity } from '../diagnostics.js';

/**
 * The findings of one validation, bounded: every finding is counted (by severity and by code), but
 * only `max` are kept, shared fairly between codes so that a defect repeated on all 118k items of a
 * dataset does not hide the one other defect. Each code keeps at most `max` examples while running.
 */
export class Findings {
  readonly summary = { errors: 0, warnings: 0, infos: 0 };
  /** Every finding counted, by code and severity (an importer and a check may share a code). */
  readonly counts = new Map<string, { code: string; severity: Severity; count: number }>();
  private readonly kept = new Map<string, { seq: number; d: Diagnostic }[]>();
  private seq = 0;

  constructor(readonly max = 1000) {}

  /** Counts `d` and keeps it as an example; with `repeats`, counts that many more without keeping any. */
  add(d: Diagnostic, repeats?: number): void {
    const times = repeats ?? 1;
    if (times <= 0) return;
    const key = d.severity === 'error' ? 'errors' : d.severity === 'warning' ? 'warnings' : 'infos';
    this.summary[key] += times;
    const id = `${d.code}\0${d.severity}`;
    const c = this.counts.get(id);
    if (c) c.count += times;
    else this.counts.set(id, { code: d.code, severity: d.severity, count: times });
    let list = this.kept.get(id);
    if (!list) this.kept.set(id, (list = []));
    // `repeats` counts findings past the examples kept (missing images past the ones kept)
    if (repeats === undefined && list.length < this.max) list.push({ seq: this.seq++, d });
  }

  /** The kept findings, at most `max`, in the order they were found. */
  list(): Diagnostic[] {
    // Water-filling: each code gets an equal share; what a small code leaves unused goes to the others.
    const lists = [...this.kept.values()].sort((a, b) => a.length - b.length);
    let room = this.max;
    const chosen: { seq: number; d: Diagnostic }[] = [];
    lists.forEach((list, i) => {
      const share = Math.floor(room / (lists.length - i));
      const take = list.slice(0, Math.min(list.length, share));
      room -= take.length;
      chosen.push(...take);
    });
    return chosen.sort((a, b) => a.seq - b.seq).map((c) => c.d);
  }
}
