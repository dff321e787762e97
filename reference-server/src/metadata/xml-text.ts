/**
 * Just enough XML reading for small OOXML property parts: the text of an element by local
 * name, attributes of elements, and entity decoding. Every search is an `indexOf` from a
 * moving position, so time stays linear in the part's (capped) size whatever its content.
 */

/** The decoded text of the first element named `localName` (any prefix), or undefined. */
export function elementText(xml: string, localName: string): string | undefined {
  const open = findStartTag(xml, localName, 0);
  if (!open || open.selfClosing) return undefined;
  const close = xml.indexOf(`</${open.qualifiedName}`, open.end);
  if (close < 0) return undefined;
  return decodeXmlText(xml.slice(open.end, close));
}

/** The attributes of every element named `localName`, in document order, at most `max`. */
export function elementsAttributes(
  xml: string,
  localName: string,
  max: number,
): Array<Record<string, string>> {
  const found: Array<Record<string, string>> = [];
  for (let tag = findStartTag(xml, localName, 0); tag && found.length < max;) {
    found.push(parseAttributes(tag.attributes));
    tag = findStartTag(xml, localName, tag.end);
  }
  return found;
}

/** How many elements named `localName` there are from `from` up to `to`. */
export function countElements(xml: string, localName: string, from = 0, to = xml.length): number {
  let count = 0;
  for (let tag = findStartTag(xml, localName, from); tag && tag.start < to;) {
    count++;
    tag = findStartTag(xml, localName, tag.end);
  }
  return count;
}

interface StartTag {
  start: number;
  /** Just past the `>`. */
  end: number;
  qualifiedName: string;
  attributes: string;
  selfClosing: boolean;
}

/** The next start tag whose local name is `localName`, with or without a namespace prefix. */
export function findStartTag(xml: string, localName: string, from: number): StartTag | undefined {
  for (let at = xml.indexOf('<', from); at >= 0; at = xml.indexOf('<', at + 1)) {
    let nameEnd = at + 1;
    // A name also ends at the next `<`, so a run of `<<<<` costs one pass, not one per `<`.
    while (nameEnd < xml.length && !/[\s/<>]/.test(xml.charAt(nameEnd))) nameEnd++;
    const qualifiedName = xml.slice(at + 1, nameEnd);
    const local = qualifiedName.slice(qualifiedName.indexOf(':') + 1);
    if (local !== localName) continue;
    const close = xml.indexOf('>', nameEnd);
    if (close < 0) return undefined;
    const selfClosing = xml.charAt(close - 1) === '/';
    return {
      start: at,
      end: close + 1,
      qualifiedName,
      attributes: xml.slice(nameEnd, selfClosing ? close - 1 : close),
      selfClosing,
    };
  }
  return undefined;
}

/** `name="value"` pairs, scanned with indexOf so every character is visited once. */
function parseAttributes(text: string): Record<string, string> {
  // No prototype: attribute names come from the file.
  const attributes = Object.create(null) as Record<string, string>;
  for (let at = 0; at < text.length;) {
    const equals = text.indexOf('=', at);
    if (equals < 0) break;
    const name = text.slice(at, equals).trim();
    let open = equals + 1;
    while (/\s/.test(text.charAt(open))) open++;
    const quote = text.charAt(open);
    if (quote !== '"' && quote !== "'") break;
    const close = text.indexOf(quote, open + 1);
    if (close < 0) break;
    if (/^[\w:.-]+$/.test(name)) {
      attributes[name.slice(name.indexOf(':') + 1)] = decodeXmlText(text.slice(open + 1, close));
    }
    at = close + 1;
  }
  return attributes;
}

const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** Resolves the predefined and numeric entities and unwraps CDATA sections. */
export function decodeXmlText(text: string): string {
  // CDATA sections are found with indexOf, so unclosed openers cannot make this quadratic.
  let out = '';
  let at = 0;
  for (let open = text.indexOf(CDATA_OPEN); open >= 0; open = text.indexOf(CDATA_OPEN, at)) {
    const close = text.indexOf(CDATA_CLOSE, open + CDATA_OPEN.length);
    if (close < 0) break;
    out += decodeEntities(text.slice(at, open)) + text.slice(open + CDATA_OPEN.length, close);
    at = close + CDATA_CLOSE.length;
  }
  return out + decodeEntities(text.slice(at));
}

const CDATA_OPEN = '<![CDATA[';
const CDATA_CLOSE = ']]>';

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]{1,6}|#[0-9]{1,7}|[a-z]{2,4});/gi, (entity, body: string) => {
    if (body.startsWith('#')) {
      const hex = body[1] === 'x' || body[1] === 'X';
      const code = parseInt(body.slice(hex ? 2 : 1), hex ? 16 : 10);
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : '';
    }
    return NAMED[body] ?? entity;
  });
}
