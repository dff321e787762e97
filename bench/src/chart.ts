/** The throughput chart: horizontal bars of ratios against the baseline, as a small SVG. */
import type { ChartBar } from './results.js';

const WIDTH = 720;
const LABEL = 250;
const BAR = 22;
const GAP = 10;
const TOP = 40;
const RIGHT = 60;

const escape = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * Bars scaled to the largest ratio (at least 1.0), with dashed guides at 1.0 (the baseline) and
 * at `budget` (a required ratio).
 */
export function ratioChart(title: string, bars: readonly ChartBar[], budget?: number): string {
  const max = Math.max(1, ...bars.map((b) => b.ratio));
  const plot = WIDTH - LABEL - RIGHT;
  const x = (ratio: number) => LABEL + (ratio / max) * plot;
  const height = TOP + bars.length * (BAR + GAP) + 30;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="system-ui, sans-serif" font-size="13">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="${WIDTH / 2}" y="22" text-anchor="middle" font-size="15" font-weight="600">${escape(title)}</text>`,
  ];
  bars.forEach((bar, i) => {
    const y = TOP + i * (BAR + GAP);
    const fill = bar.baseline ? '#8a8f98' : bar.label.startsWith('ours') ? '#2f6fdb' : '#b7c3d6';
    parts.push(
      `<text x="${LABEL - 8}" y="${y + BAR / 2 + 4}" text-anchor="end">${escape(bar.label)}</text>`,
      `<rect x="${LABEL}" y="${y}" width="${Math.max(1, x(bar.ratio) - LABEL).toFixed(1)}" height="${BAR}" fill="${fill}"/>`,
      `<text x="${(x(bar.ratio) + 6).toFixed(1)}" y="${y + BAR / 2 + 4}">${bar.ratio.toFixed(2)}×</text>`,
    );
  });
  const bottom = TOP + bars.length * (BAR + GAP);
  const guide = (ratio: number, label: string) =>
    parts.push(
      `<line x1="${x(ratio).toFixed(1)}" y1="${TOP - 6}" x2="${x(ratio).toFixed(1)}" y2="${bottom}" stroke="#444" stroke-dasharray="4 3"/>`,
      `<text x="${x(ratio).toFixed(1)}" y="${bottom + 16}" text-anchor="middle" font-size="11">${escape(label)}</text>`,
    );
  guide(1, '1.00× baseline');
  if (budget !== undefined) guide(budget, `${budget.toFixed(2)}× budget`);
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
