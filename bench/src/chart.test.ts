import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { ratioChart } from './chart.js';
import { markdownTable, textTable } from './table.js';

test('the chart draws one bar per row, scaled to the largest ratio, and escapes labels', () => {
  const svg = ratioChart(
    'T',
    [
      { label: 'curl', ratio: 1, baseline: true },
      { label: 'ours <sdk>', ratio: 0.5 },
    ],
    0.5,
  );
  assert.match(svg, /^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  const widths = [...svg.matchAll(/<rect x="250" y="\d+" width="([\d.]+)"/g)].map((m) =>
    Number(m[1]),
  );
  assert.equal(widths.length, 2);
  assert.equal(widths[1], (widths[0] as number) / 2);
  assert.ok(svg.includes('ours &lt;sdk&gt;'));
  assert.ok(svg.includes('0.50× budget'));
});

test('tables: text columns line up; markdown escapes pipes', () => {
  const text = textTable(['a', 'bb'], [['xxx', 'y']]).split('\n');
  assert.equal(text[0], 'a    bb');
  assert.equal(text[2], 'xxx  y');
  assert.equal(markdownTable(['a'], [['x|y']]).split('\n')[2], '| x\\|y |');
});
