/** Plain-text and Markdown tables. */

/** Columns padded to their widest cell, for the terminal. */
export function textTable(columns: readonly string[], rows: readonly string[][]): string {
  const widths = columns.map((c, i) => Math.max(c.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => cell.padEnd(widths[i] as number))
      .join('  ')
      .trimEnd();
  return [line(columns), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** A GitHub Markdown table; `|` in cells is escaped. */
export function markdownTable(columns: readonly string[], rows: readonly string[][]): string {
  const esc = (cell: string) => cell.replace(/\|/g, '\\|');
  return [
    `| ${columns.map(esc).join(' | ')} |`,
    `| ${columns.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`),
  ].join('\n');
}
