/**
 * One message type for every warning and error (unified's `VFileMessage` shape): where it happened
 * (file plus line, JSON pointer, XML element or item id) and a stable code, so `validate`, `convert`
 * and `--json` can print, count or serialize the same thing.
 */

export type Severity = 'error' | 'warning' | 'info';

export interface Diagnostic {
  severity: Severity;
  /** Stable, kebab-case identifier, e.g. `bad-coordinate`, `unknown-label`. */
  code: string;
  message: string;
  file?: string;
  line?: number;
  column?: number;
  /** Byte offset in the file, where a line is not known (big JSON). */
  offset?: number;
  /** JSON pointer into the file, e.g. `/annotations/17/bbox`. */
  pointer?: string;
  /** XML element path or description, e.g. `<image id="3" name="a.jpg"> <box>`. */
  element?: string;
  /** Item id (and subset) the message is about. */
  item?: string;
  /** 0-based index of the annotation in its item's `annotations`, with `item`. */
  annotation?: number;
}

export function formatDiagnostic(d: Diagnostic): string {
  let where = d.file ?? '';
  if (d.line !== undefined) where += `:${d.line}${d.column !== undefined ? `:${d.column}` : ''}`;
  else if (d.offset !== undefined) where += ` (byte ${d.offset})`;
  const details = [
    d.pointer && `at ${d.pointer}`,
    d.element && `in ${d.element}`,
    d.item && `item '${d.item}'`,
    d.annotation !== undefined && `annotation ${d.annotation}`,
  ].filter(Boolean).join(', ');
  return `${d.severity}: ${where ? where + ': ' : ''}${d.message}${details ? ` (${details})` : ''} [${d.code}]`;
}

/** An error the user caused (bad input, bad arguments): printed without a stack trace, exit code 1. */
export class DatumError extends Error {
  readonly diagnostic: Diagnostic;
  constructor(d: Omit<Diagnostic, 'severity'> & { severity?: Severity }) {
    const diagnostic: Diagnostic = { severity: 'error', ...d };
    super(formatDiagnostic(diagnostic));
    this.name = 'DatumError';
    this.diagnostic = diagnostic;
  }
}

/** A usage mistake on the command line: exit code 2. */
export class UsageError extends Error {
  constructor(message: string) { super(message); this.name = 'UsageError'; }
}

/**
 * Collects warnings while a pipeline runs. Callers decide what to do with them (print, count,
 * serialize); `onMessage` lets the CLI print as they come.
 */
export class Reporter {
  readonly messages: Diagnostic[] = [];
  constructor(private readonly onMessage?: (d: Diagnostic) => void) {}

  report(d: Diagnostic): void {
    this.messages.push(d);
    this.onMessage?.(d);
  }
  // The severity is the method's, also when `d` is a caught error's diagnostic spread in.
  warn(d: Omit<Diagnostic, 'severity'>): void { this.report({ ...d, severity: 'warning' }); }
  info(d: Omit<Diagnostic, 'severity'>): void { this.report({ ...d, severity: 'info' }); }

  count(severity: Severity): number {
    return this.messages.filter((m) => m.severity === severity).length;
  }
}
