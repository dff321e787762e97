import { expect, fixture, html } from '@open-wc/testing';
import { render } from 'lit';
import { FILE_TYPES, type FileTypeId } from '@file-uploader/protocol';
import { fileIcon, iconKind } from '../src/file-icons.js';
import { describe, it } from './mocha-globals.browser.js';

/** Renders the icon of `type` and returns its <svg> element. */
function renderIcon(type: FileTypeId | undefined): SVGSVGElement {
  const host = document.createElement('div');
  render(fileIcon(type), host);
  const svg = host.querySelector('svg');
  if (!svg) throw new Error('no <svg> rendered');
  return svg;
}

describe('fileIcon', () => {
  it('renders an SVG element hidden from assistive technology', () => {
    const svg = renderIcon('pdf');
    expect(svg.namespaceURI).to.equal('http://www.w3.org/2000/svg');
    expect(svg.getAttribute('aria-hidden')).to.equal('true');
    expect(svg.getAttribute('focusable')).to.equal('false');
    expect(svg.getAttribute('viewBox')).to.equal('0 0 24 24');
    expect(svg.querySelectorAll('path').length).to.be.greaterThan(0);
    for (const shape of svg.querySelectorAll('path, rect, circle')) {
      expect(shape.namespaceURI).to.equal('http://www.w3.org/2000/svg');
    }
  });

  it('draws distinct icons for PDF, Word, Excel, images and anything else', () => {
    const drawings = (['pdf', 'docx', 'xlsx', 'png', undefined] as const).map(
      (type) => renderIcon(type).innerHTML,
    );
    expect(new Set(drawings).size).to.equal(5);
  });

  it('shares an icon within a family', () => {
    expect(renderIcon('doc').innerHTML).to.equal(renderIcon('docx').innerHTML);
    expect(renderIcon('xls').innerHTML).to.equal(renderIcon('xlsx').innerHTML);
    expect(renderIcon('jpg').innerHTML).to.equal(renderIcon('png').innerHTML);
    const kinds = (Object.keys(FILE_TYPES) as FileTypeId[]).map((type) => iconKind(type));
    expect(kinds).to.deep.equal([
      'pdf',
      'document',
      'document',
      'spreadsheet',
      'spreadsheet',
      'image',
      'image',
    ]);
    expect(renderIcon(undefined).dataset.kind).to.equal('generic');
  });

  it('leaves a labelled button accessible', async () => {
    const button = await fixture(
      html`<button type="button" aria-label="Remove report.pdf">${fileIcon('pdf')}</button>`,
    );
    await expect(button).to.be.accessible();
    const box = button.querySelector('svg')?.getBoundingClientRect();
    expect([box?.width, box?.height]).to.deep.equal([24, 24]);
  });
});
