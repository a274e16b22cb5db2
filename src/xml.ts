/** Escaping for the XML the exporters write (CVAT, VOC). */

const ESCAPES: Record<string, string> = { '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;', '\n': '&#10;', '\r': '&#13;', '\t': '&#9;' };

/**
 * Characters XML 1.0 cannot hold, not even as character references (control characters, U+FFFE/U+FFFF,
 * lone surrogates): one in a label name would make the whole file unreadable for CVAT, Datumaro and VOC readers.
 */
const NOT_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Escapes element text; characters XML cannot hold become U+FFFD. */
export function escapeXml(s: string): string {
  return s.replace(NOT_XML, '\uFFFD').replace(/[<>&\r]/g, (c) => ESCAPES[c]);
}

/** Escapes an attribute value; whitespace as character references, since parsers turn raw newlines into spaces. */
export function escapeAttr(s: string): string {
  return s.replace(NOT_XML, '\uFFFD').replace(/[<>&"'\n\r\t]/g, (c) => ESCAPES[c]);
}
