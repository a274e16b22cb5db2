import fs from 'node:fs';
import { XMLParser } from 'fast-xml-parser';
import { DatumError } from '../../src/diagnostics.js';

/**
 * Streaming access to CVAT XML: a small scanner cuts the file into the top-level elements under
 * <annotations> (<version>, <meta>, each <image>, each <track>) so a file of hundreds of MB is never
 * one string, and each element is parsed on its own with fast-xml-parser.
 */

/** One top-level element's source text, where it starts, and where each direct child starts. */
export interface RawElement {
  name: string;
  text: string;
  line: number;
  /** Line of each direct child element, in document order (fast-xml-parser gives no positions). */
  childLines: number[];
}

/** A parsed element: attributes decoded, text concatenated, children in document order. */
export interface XmlNode {
  name: string;
  attrs: Record<string, string>;
  children: XmlNode[];
  text: string;
  /** Line in the file, where known (top-level elements and their direct children). */
  line?: number;
}

const CHUNK = 1 << 20;
/** One tag, comment or CDATA section longer than this means a missing closing quote or marker. */
const MAX_TOKEN = 256 << 20;
/** CVAT nests about 8 levels deep; far deeper nesting is not CVAT (and would overflow recursive readers). */
export const MAX_DEPTH = 100;

/** Yields every top-level element under the root; the root must be <annotations>. */
export async function* scanTopLevel(file: string): AsyncGenerator<RawElement> {
  const stream = fs.createReadStream(file, { encoding: 'utf8', highWaterMark: CHUNK });
  let buffer = '';
  let pos = 0;
  let line = 1;
  const stack: { name: string; line: number }[] = [];
  let elementStart = -1;
  let elementLine = 0;
  let childLines: number[] = [];
  let rootClosed = false;
  const fail = (message: string, at = line): never => {
    throw new DatumError({ code: 'malformed-xml', file, line: at, message });
  };

  const scan = (atEnd: boolean): RawElement[] => {
    const out: RawElement[] = [];
    for (;;) {
      const lt = buffer.indexOf('<', pos);
      if (lt < 0) {
        line += countNewlines(buffer, pos, buffer.length);
        pos = buffer.length;
        break;
      }
      const end = tokenEnd(buffer, lt);
      line += countNewlines(buffer, pos, lt);
      pos = lt;
      if (end < 0) {
        if (atEnd) fail('unexpected end of file inside markup (an unclosed tag, quote or comment?)');
        if (buffer.length - lt > MAX_TOKEN) fail(`markup longer than ${MAX_TOKEN >> 20} MiB (an unclosed quote or comment?)`);
        break;
      }
      const tokenLine = line;
      const second = buffer.charCodeAt(lt + 1);
      if (second === 0x21 /* ! */ && !buffer.startsWith('<!--', lt) && !buffer.startsWith('<![CDATA[', lt)) {
        checkDeclaration(buffer.slice(lt, end), stack.length > 0 || rootClosed, (code, message) => {
          throw new DatumError({ code, file, line: tokenLine, message });
        });
      } else if (second === 0x2f /* / */) {
        const name = buffer.slice(lt + 2, end - 1).trim();
        const open = stack.pop();
        if (!open) fail(`closing tag </${name}> without an opening tag`);
        else if (open.name !== name) fail(`closing tag </${name}> does not match <${open.name}> opened on line ${open.line}`);
        if (stack.length === 1 && elementStart >= 0) {
          out.push({ name, text: buffer.slice(elementStart, end), line: elementLine, childLines });
          elementStart = -1;
        }
        if (stack.length === 0) rootClosed = true;
      } else if (second !== 0x21 /* ! */ && second !== 0x3f /* ? */) {
        const name = /^<([^\s/>]+)/.exec(buffer.slice(lt, Math.min(end, lt + 200)))?.[1] ?? fail('element without a name');
        const selfClosing = buffer.charCodeAt(end - 2) === 0x2f;
        if (rootClosed) fail(`element <${name}> after the end of the root element`);
        if (stack.length === 0 && name !== 'annotations') {
          throw new DatumError({ code: 'not-cvat', file, line, message: `the root element is <${name}>, not <annotations>: not a CVAT XML file` });
        }
        if (stack.length === 1) {
          elementStart = lt;
          elementLine = tokenLine;
          childLines = [];
          if (selfClosing) {
            out.push({ name, text: buffer.slice(lt, end), line: tokenLine, childLines });
            elementStart = -1;
          }
        } else if (stack.length === 2) {
          childLines.push(tokenLine);
        }
        if (!selfClosing && stack.length >= MAX_DEPTH) fail(`<${name}> is nested more than ${MAX_DEPTH} elements deep: not a CVAT file`);
        if (!selfClosing) stack.push({ name, line: tokenLine });
        else if (stack.length === 0) rootClosed = true; // <annotations/>
      }
      line += countNewlines(buffer, lt, end);
      pos = end;
    }
    // Keep only what a pending element still needs.
    const keepFrom = elementStart >= 0 ? elementStart : pos;
    buffer = buffer.slice(keepFrom);
    pos -= keepFrom;
    if (elementStart >= 0) elementStart = 0;
    return out;
  };

  try {
    for await (const chunk of stream) {
      buffer += chunk as string;
      yield* scan(false);
    }
  } catch (error) {
    // A read error (a folder named *.xml, no permission) still names the file.
    if (error instanceof DatumError) throw error;
    throw new DatumError({ code: 'unreadable', file, message: `cannot read the file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})` });
  }
  yield* scan(true);
  if (stack.length > 0) {
    const open = stack[stack.length - 1];
    fail(`unexpected end of file: <${open.name}> opened on line ${open.line} is not closed`);
  }
  if (!rootClosed) fail('the file has no <annotations> root element');
}

/**
 * A `<!...>` declaration (not a comment or CDATA). Only a plain <!DOCTYPE> before the root passes:
 * entities are never expanded and external resources never read (XXE, "billion laughs").
 */
export function checkDeclaration(decl: string, insideRoot: boolean, fail: (code: string, message: string) => never): void {
  if (!/^<!DOCTYPE\b/i.test(decl)) fail('malformed-xml', `<!${/^<!([^\s>]*)/.exec(decl)?.[1] ?? ''}> outside a <!DOCTYPE>`);
  if (insideRoot) fail('malformed-xml', '<!DOCTYPE> after the start of the root element');
  if (/\b(SYSTEM|PUBLIC)\b/.test(decl)) fail('xml-external-entity', '<!DOCTYPE> refers to an external DTD or entity (SYSTEM/PUBLIC): refused, datum never reads resources an XML file points to');
  if (/<!ENTITY\b/i.test(decl)) fail('xml-entity', '<!DOCTYPE> declares entities (<!ENTITY>): refused, datum does not expand XML entities');
}

/** Index just past the markup token starting at `lt`, or -1 when the buffer ends first. */
export function tokenEnd(s: string, lt: number): number {
  if (s.startsWith('<!--', lt)) return endAfter(s, '-->', lt + 4);
  if (s.startsWith('<![CDATA[', lt)) return endAfter(s, ']]>', lt + 9);
  if (s.startsWith('<?', lt)) return endAfter(s, '?>', lt + 2);
  if (s.startsWith('<!', lt)) {
    // <!DOCTYPE ...> may hold an internal subset in [...] with '>' inside.
    const gt = s.indexOf('>', lt);
    const bracket = s.indexOf('[', lt);
    if (bracket >= 0 && (gt < 0 || bracket < gt)) {
      const close = /\]\s*>/g;
      close.lastIndex = bracket;
      const m = close.exec(s);
      return m ? m.index + m[0].length : -1;
    }
    return gt < 0 ? -1 : gt + 1;
  }
  // A tag: '>' inside quoted attribute values does not end it.
  let quote = 0;
  for (let i = lt + 1; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (quote) { if (c === quote) quote = 0; }
    else if (c === 0x22 || c === 0x27) quote = c;
    else if (c === 0x3e) return i + 1;
  }
  return -1;
}

function endAfter(s: string, marker: string, from: number): number {
  const i = s.indexOf(marker, from);
  return i < 0 ? -1 : i + marker.length;
}

export function countNewlines(s: string, from: number, to: number): number {
  let n = 0;
  for (let i = s.indexOf('\n', from); i >= 0 && i < to; i = s.indexOf('\n', i + 1)) n++;
  return n;
}

// Entities are decoded by `decodeEntities` in one pass: fast-xml-parser's own decoding is slow and
// does not know numeric character references.
const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  processEntities: false,
  jPath: false,
});

type FxpNode = Record<string, unknown>;

/** Parses one top-level element into an XmlNode; direct children get their line numbers. */
export function parseElement(raw: RawElement, file: string): XmlNode {
  let parsed: FxpNode[];
  try {
    parsed = parser.parse(raw.text) as FxpNode[];
  } catch (error) {
    throw new DatumError({ code: 'malformed-xml', file, line: raw.line, element: `<${raw.name}>`, message: (error as Error).message });
  }
  const root = parsed.map(toNode).find((n): n is XmlNode => n !== null);
  if (!root) throw new DatumError({ code: 'malformed-xml', file, line: raw.line, message: `cannot parse <${raw.name}>` });
  root.line = raw.line;
  root.children.forEach((child, i) => { child.line = raw.childLines[i]; });
  return root;
}

function toNode(entry: FxpNode): XmlNode | null {
  let name: string | undefined;
  for (const key of Object.keys(entry)) if (key !== ':@' && key !== '#text') name = key;
  if (name === undefined) return null;
  const attrs: Record<string, string> = {};
  const rawAttrs = entry[':@'] as Record<string, unknown> | undefined;
  if (rawAttrs) for (const [k, v] of Object.entries(rawAttrs)) attrs[k] = decodeEntities(String(v));
  const children: XmlNode[] = [];
  let text = '';
  for (const child of entry[name] as FxpNode[]) {
    if ('#text' in child) text += String(child['#text']);
    else {
      const node = toNode(child);
      if (node) children.push(node);
    }
  }
  return { name, attrs, children, text: decodeEntities(text) };
}

const ENTITY = /&(#x[0-9a-fA-F]+|#[0-9]+|lt|gt|amp|quot|apos);/g;
const NAMED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

export function decodeEntities(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(ENTITY, (_, body: string) => {
    if (body[0] !== '#') return NAMED[body];
    const code = body[1] === 'x' || body[1] === 'X' ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10);
    return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : '';
  });
}

/** First child named `name`. */
export function child(node: XmlNode | undefined, name: string): XmlNode | undefined {
  return node?.children.find((c) => c.name === name);
}

export function childText(node: XmlNode | undefined, name: string): string | undefined {
  return child(node, name)?.text;
}
