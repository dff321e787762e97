import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { countElements, decodeXmlText, elementText, elementsAttributes } from './xml-text.js';

describe('xml text', () => {
  it('finds elements by local name with any prefix', () => {
    const xml =
      '<cp:a xmlns:cp="x"><dc:title>A &amp; B &#x263A;</dc:title><title>second</title></cp:a>';
    assert.equal(elementText(xml, 'title'), 'A & B ☺');
    assert.equal(elementText(xml, 'creator'), undefined);
  });

  it('reads attributes and counts elements', () => {
    const xml = `<r><x:s a="1" b='two &lt;'/><s a="3"/><sx/></r>`;
    assert.deepEqual(
      elementsAttributes(xml, 's', 10).map((attributes) => ({ ...attributes })),
      [{ a: '1', b: 'two <' }, { a: '3' }],
    );
    assert.equal(countElements(xml, 's'), 2);
  });

  it('unwraps CDATA and leaves an unclosed one as text', () => {
    assert.equal(decodeXmlText('a<![CDATA[<b>&amp;]]>&lt;'), 'a<b>&amp;<');
    assert.equal(decodeXmlText('x<![CDATA[y'), 'x<![CDATA[y');
  });

  it('stays linear on inputs built to make pattern matching quadratic', () => {
    // Each would take minutes with a backtracking pattern per candidate start.
    const n = 400_000;
    const openers = `<t>${'<![CDATA['.repeat(n / 9)}</t>`;
    assert.equal(elementText(openers, 't')?.length, openers.length - 7);
    assert.equal(elementText(`${'<'.repeat(n)}${'a'.repeat(n)}`, 'title'), undefined);
    const junk = elementsAttributes(`<s ${'a'.repeat(n)}/>`, 's', 1);
    assert.equal(junk.length, 1);
    assert.deepEqual(Object.keys(junk[0] ?? {}), []);
    const many = `<s ${'a="1" '.repeat(n / 6)}/>`;
    assert.equal(Object.keys(elementsAttributes(many, 's', 1)[0] ?? {}).length, 1);
  });
});
