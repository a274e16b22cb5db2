import fs from 'node:fs';
import fsp from 'node:fs/promises';
import { DatumError } from '../../src/diagnostics.js';

/**
 * A byte-level scanner for one big JSON object such as a COCO annotation file. It never holds the
 * whole text: it finds the top-level keys, and for each top-level array it hands over every element
 * as its own byte slice (JSON.parse-able on its own); other top-level values come whole (index -1).
 * Only string/escape state and bracket depth are tracked while skipping through a value, so the
 * cost is one pass over the bytes; the caller parses the small slices it wants.
 */

/** Called per element; `bytes` may be a view into a reused buffer, valid only during the call. */
export type ValueHandler = (key: string, index: number, bytes: Buffer, offset: number) => void;

export class JsonSyntaxError extends Error {
  constructor(message: string, readonly offset: number) { super(message); this.name = 'JsonSyntaxError'; }
}

const QUOTE = 0x22, BACKSLASH = 0x5c, COMMA = 0x2c, COLON = 0x3a;
const BOM = [0xef, 0xbb, 0xbf];
const LBRACE = 0x7b, RBRACE = 0x7d, LBRACKET = 0x5b, RBRACKET = 0x5d;

function isWhitespace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/** Where the scanner is between values. */
const enum Mode { Root, FirstKey, Key, Colon, Value, FirstElement, Element, AfterElement, AfterValue, Done }
/** What a captured value is: decides how its end is found. */
const enum Kind { Container, String, Bare }
/** What the captured bytes are for. */
const enum Target { Key, Value, Element }

export class TopLevelScanner {
  private mode = Mode.Root;
  private base = 0;
  private key = '';
  private index = 0;
  // The value being captured, if any.
  private capturing = false;
  private kind = Kind.Bare;
  private target = Target.Value;
  private depth = 0;
  private inString = false;
  private escape = false;
  private captureOffset = 0;
  private parts: Buffer[] = [];

  /** `onKey` sees every top-level key, also those whose value is an empty array (no element call). */
  constructor(private readonly onValue: ValueHandler, private readonly onKey?: (key: string, offset: number) => void) {}

  /** Bytes consumed so far. */
  get offset(): number { return this.base; }

  push(chunk: Buffer): void {
    const n = chunk.length;
    let i = 0;
    let captureStart = 0;
    while (i < n) {
      if (this.capturing) {
        const end = this.scanValue(chunk, i);
        if (end < 0) { i = n; break; }
        this.finishCapture(chunk, captureStart, end);
        i = end;
        continue;
      }
      const c = chunk[i];
      if (isWhitespace(c)) { i++; continue; }
      switch (this.mode) {
        case Mode.Root:
          // A UTF-8 byte order mark (Windows tools write one) before the object is skipped.
          if (this.base + i < 3 && c === BOM[this.base + i]) { i++; continue; }
          if (c !== LBRACE) this.fail(i, 'expected a JSON object at the top level');
          this.mode = Mode.FirstKey;
          i++;
          continue;
        case Mode.FirstKey:
        case Mode.Key:
          if (c === RBRACE && this.mode === Mode.FirstKey) { this.mode = Mode.Done; i++; continue; }
          if (c !== QUOTE) this.fail(i, 'expected a key string');
          break; // start capturing the key below
        case Mode.Colon:
          if (c !== COLON) this.fail(i, `expected ':' after key "${this.key}"`);
          this.mode = Mode.Value;
          i++;
          continue;
        case Mode.Value:
          if (c === LBRACKET) { this.mode = Mode.FirstElement; this.index = 0; i++; continue; }
          break;
        case Mode.FirstElement:
          if (c === RBRACKET) { this.mode = Mode.AfterValue; i++; continue; }
          break;
        case Mode.Element:
          break;
        case Mode.AfterElement:
          if (c === COMMA) this.mode = Mode.Element;
          else if (c === RBRACKET) this.mode = Mode.AfterValue;
          else this.fail(i, `expected ',' or ']' in "${this.key}"`);
          i++;
          continue;
        case Mode.AfterValue:
          if (c === COMMA) this.mode = Mode.Key;
          else if (c === RBRACE) this.mode = Mode.Done;
          else this.fail(i, "expected ',' or '}' after a top-level value");
          i++;
          continue;
        case Mode.Done:
          this.fail(i, 'unexpected data after the end of the JSON object');
      }
      // Start capturing a key, a top-level value or an array element at i.
      if (c === COMMA || c === COLON || c === RBRACE || c === RBRACKET) this.fail(i, 'expected a value');
      this.capturing = true;
      this.target = this.mode === Mode.FirstKey || this.mode === Mode.Key ? Target.Key
        : this.mode === Mode.Value ? Target.Value : Target.Element;
      this.kind = c === LBRACE || c === LBRACKET ? Kind.Container : c === QUOTE ? Kind.String : Kind.Bare;
      this.depth = this.kind === Kind.Container ? 1 : 0;
      this.inString = this.kind === Kind.String;
      this.escape = false;
      this.captureOffset = this.base + i;
      captureStart = i;
      i++;
    }
    if (this.capturing) this.parts.push(Buffer.from(chunk.subarray(captureStart)));
    this.base += n;
  }

  end(): void {
    if (this.capturing && this.kind === Kind.Bare) this.fail(0, 'unexpected end of file');
    if (this.mode !== Mode.Done || this.capturing) {
      throw new JsonSyntaxError('unexpected end of file (the JSON object is not closed)', this.base);
    }
  }

  /** Advances through the captured value; returns the index just past its end, or -1 at chunk end. */
  private scanValue(chunk: Buffer, from: number): number {
    const n = chunk.length;
    let depth = this.depth;
    let inString = this.inString;
    let escape = this.escape;
    const kind = this.kind;
    let end = -1;
    for (let i = from; i < n; i++) {
      const c = chunk[i];
      if (inString) {
        if (escape) escape = false;
        else if (c === BACKSLASH) escape = true;
        else if (c === QUOTE) {
          inString = false;
          if (kind === Kind.String) { end = i + 1; break; }
        }
        continue;
      }
      if (kind === Kind.Bare) {
        if (c === COMMA || c === RBRACKET || c === RBRACE || isWhitespace(c)) { end = i; break; }
        continue;
      }
      if (c === QUOTE) inString = true;
      else if (c === LBRACE || c === LBRACKET) depth++;
      else if ((c === RBRACE || c === RBRACKET) && --depth === 0) { end = i + 1; break; }
    }
    this.depth = depth;
    this.inString = inString;
    this.escape = escape;
    return end;
  }

  private finishCapture(chunk: Buffer, start: number, end: number): void {
    const tail = chunk.subarray(start, end);
    const bytes = this.parts.length ? Buffer.concat([...this.parts, tail]) : tail;
    this.parts = [];
    this.capturing = false;
    switch (this.target) {
      case Target.Key:
        this.key = JSON.parse(bytes.toString('utf8')) as string;
        this.onKey?.(this.key, this.captureOffset);
        this.mode = Mode.Colon;
        break;
      case Target.Value:
        this.onValue(this.key, -1, bytes, this.captureOffset);
        this.mode = Mode.AfterValue;
        break;
      case Target.Element:
        this.onValue(this.key, this.index++, bytes, this.captureOffset);
        this.mode = Mode.AfterElement;
        break;
    }
  }

  private fail(i: number, message: string): never {
    throw new JsonSyntaxError(message, this.base + i);
  }
}

/**
 * Scans a JSON file of any size (also beyond V8's 512 MiB string limit). Syntax errors become a
 * DatumError naming the file, the byte offset and the line.
 */
export async function scanJsonFile(file: string, onValue: ValueHandler, onProgress?: (done: number, total: number) => void, onKey?: (key: string, offset: number) => void): Promise<void> {
  const handle = await fsp.open(file, 'r');
  try {
    const total = (await handle.stat()).size;
    const scanner = new TopLevelScanner(onValue, onKey);
    const buffer = Buffer.allocUnsafe(1 << 20);
    try {
      for (;;) {
        const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
        if (bytesRead === 0) break;
        scanner.push(bytesRead === buffer.length ? buffer : buffer.subarray(0, bytesRead));
        onProgress?.(scanner.offset, total);
      }
      scanner.end();
    } catch (error) {
      if (error instanceof JsonSyntaxError) throw jsonError(file, error.offset, error.message);
      // A key with a bad escape fails JSON.parse of the key's bytes.
      if (error instanceof SyntaxError) throw jsonError(file, scanner.offset, error.message);
      throw error;
    }
  } finally {
    await handle.close();
  }
}

/** A DatumError for malformed JSON at a byte offset, with the line number (counted only on error). */
/**
 * JSON.parse of one element's bytes (starting at byte `offset` of its file). Python's bare NaN and
 * Infinity (json.dump writes them) become null, so the checks name the field; a syntax error comes
 * back with its byte offset in the file.
 */
export function parseElement(bytes: Buffer, offset: number): { value: unknown } | { error: { offset: number; message: string } } {
  const text = bytes.toString('utf8');
  try {
    return { value: JSON.parse(text) };
  } catch (error) {
    const repaired = text.replace(/(?<=[[,:]\s*)-?(?:NaN|Infinity)(?=\s*[,\]}])/g, 'null');
    if (repaired !== text) {
      try { return { value: JSON.parse(repaired) }; } catch { /* report the original error */ }
    }
    const message = (error as Error).message;
    const at = /position (\d+)/.exec(message);
    return { error: { offset: at ? offset + Buffer.byteLength(text.slice(0, Number(at[1]))) : offset, message } };
  }
}

export function jsonError(file: string, offset: number, message: string): DatumError {
  return new DatumError({ code: 'bad-json', file, offset, line: lineAt(file, offset), message: `malformed JSON at byte ${offset}: ${message}` });
}

function lineAt(file: string, offset: number): number | undefined {
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const buffer = Buffer.allocUnsafe(1 << 20);
      let line = 1;
      let position = 0;
      while (position < offset) {
        const read = fs.readSync(fd, buffer, 0, Math.min(buffer.length, offset - position), position);
        if (read === 0) break;
        for (let i = 0; i < read; i++) if (buffer[i] === 0x0a) line++;
        position += read;
      }
      return line;
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return undefined;
  }
}
