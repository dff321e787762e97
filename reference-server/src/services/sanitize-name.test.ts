import { strict as assert } from 'node:assert';
import { randomInt } from 'node:crypto';
import { test } from 'node:test';
import { sanitizeName } from './sanitize-name.js';

const bytes = (text: string) => Buffer.byteLength(text, 'utf8');

test('path components are dropped, whichever separator the client used', () => {
  assert.equal(sanitizeName('../../etc/passwd'), 'passwd');
  assert.equal(sanitizeName('..\\..\\Windows\\win.ini'), 'win.ini');
  assert.equal(sanitizeName('C:\\Users\\me\\report.pdf'), 'report.pdf');
  assert.equal(sanitizeName('/abs/path/to/scan.png'), 'scan.png');
  assert.equal(sanitizeName('a/..'), 'file');
  assert.equal(sanitizeName('dir/'), 'file');
});

test('NUL, control and bidi-override characters are removed', () => {
  assert.equal(sanitizeName('evil.exe\0.pdf'), 'evil.exe.pdf');
  assert.equal(sanitizeName('a\u0001b\u001fc\u007fd\u0085e\u009f.pdf'), 'abcde.pdf');
  // U+202E would show "invoice\u202Efdp.exe" as "invoiceexe.pdf".
  assert.equal(sanitizeName('invoice\u202efdp.exe'), 'invoicefdp.exe');
  assert.equal(
    sanitizeName('a\u202ab\u202bc\u202cd\u202de\u2066f\u2067g\u2068h\u2069.pdf'),
    'abcdefgh.pdf',
  );
  assert.equal(sanitizeName('lone\ud800surrogate.pdf'), 'lonesurrogate.pdf');
  assert.equal(sanitizeName('tab\there\nand\r\nthere.pdf'), 'tab here and there.pdf');
});

test('Unicode text is kept, in NFC', () => {
  assert.equal(sanitizeName('Résumé 履歴書.pdf'), 'Résumé 履歴書.pdf');
  assert.equal(sanitizeName('Re\u0301sume\u0301.pdf'), 'R\u00e9sum\u00e9.pdf');
  assert.equal(sanitizeName('😀 party 👨‍👩‍👧.png'), '😀 party 👨‍👩‍👧.png');
  assert.equal(sanitizeName('Ελληνικά και русский.docx'), 'Ελληνικά και русский.docx');
});

test('Windows-forbidden characters, runs of whitespace and edge dots/spaces are tidied', () => {
  assert.equal(sanitizeName('a<b>c:d"e|f?g*h.pdf'), 'a_b_c_d_e_f_g_h.pdf');
  assert.equal(sanitizeName('  many   spaces\u00a0\u3000here .pdf  '), 'many spaces here .pdf');
  assert.equal(sanitizeName('trailing dots...'), 'trailing dots');
  assert.equal(sanitizeName('..hidden.pdf'), 'hidden.pdf');
});

test('reserved device names get a prefix, with or without extension', () => {
  for (const name of ['CON', 'prn', 'Aux', 'NUL', 'com1', 'COM9', 'lpt1', 'LPT9', 'COM¹']) {
    assert.equal(sanitizeName(name), `_${name}`);
    assert.equal(sanitizeName(`${name}.txt`), `_${name}.txt`);
  }
  assert.equal(sanitizeName('nul.tar.gz'), '_nul.tar.gz');
  assert.equal(sanitizeName('CON .pdf'), '_CON .pdf');
  assert.equal(sanitizeName('console.pdf'), 'console.pdf');
  assert.equal(sanitizeName('com10.pdf'), 'com10.pdf');
});

test('empty, dot-only and extension-only names get a placeholder stem', () => {
  for (const name of ['', ' ', '.', '..', '...', '. .', '/', '\\', '\0\u202e']) {
    assert.equal(sanitizeName(name), 'file', JSON.stringify(name));
  }
  assert.equal(sanitizeName('.pdf'), 'file.pdf');
  assert.equal(sanitizeName('../.pdf'), 'file.pdf');
  assert.equal(sanitizeName(' ..png '), 'file.png');
});

test('long names are cut to 255 UTF-8 bytes, keeping the extension and whole characters', () => {
  const ascii = sanitizeName(`${'a'.repeat(300)}.pdf`);
  assert.equal(ascii, `${'a'.repeat(251)}.pdf`);

  const emoji = sanitizeName(`${'😀'.repeat(100)}.pdf`); // 4 bytes each
  assert.ok(emoji.endsWith('.pdf') && bytes(emoji) <= 255, emoji);
  assert.equal(emoji, `${'😀'.repeat(62)}.pdf`);

  const cjk = sanitizeName(`${'履'.repeat(200)}.docx`); // 3 bytes each
  assert.equal(cjk, `${'履'.repeat(83)}.docx`);

  // A family emoji is one character of 18 bytes made of 5 code points; it is never split.
  const family = '👨‍👩‍👧';
  const families = sanitizeName(`${family.repeat(20)}.png`);
  assert.equal(families, `${family.repeat(13)}.png`);

  // A cut landing before spaces does not leave them in front of the extension.
  assert.equal(sanitizeName(`${'a'.repeat(250)}  bb.pdf`), `${'a'.repeat(250)}.pdf`);
  // A very long "extension" is just part of the name.
  const longExtension = sanitizeName(`x.${'b'.repeat(300)}`);
  assert.equal(bytes(longExtension), 255);
  assert.ok(longExtension.startsWith('x.b'));
});

/** Random names drawn from ranges that stress each rule. */
function randomName(): string {
  const ranges: Array<[number, number]> = [
    [0x00, 0x1f],
    [0x20, 0x7e],
    [0x20, 0x7e],
    [0x7f, 0x9f],
    [0xa0, 0x17f],
    [0x300, 0x36f],
    [0x2000, 0x206f],
    [0x3000, 0x30ff],
    [0x4e00, 0x4e80],
    [0xd800, 0xdfff],
    [0x1f600, 0x1f64f],
  ];
  const specials = ['/', '\\', '.', '..', ' ', 'CON', '.pdf', '\u200d', '<', '*', ':'];
  let name = '';
  const length = randomInt(0, 400);
  for (let i = 0; i < length; i++) {
    if (randomInt(0, 5) === 0) {
      name += specials[randomInt(0, specials.length)] ?? '';
      continue;
    }
    const [low, high] = ranges[randomInt(0, ranges.length)] ?? [0x61, 0x7a];
    name += String.fromCodePoint(randomInt(low, high + 1));
  }
  return name;
}

test('properties hold for random names', () => {
  for (let run = 0; run < 3000; run++) {
    const name = randomName();
    const safe = sanitizeName(name);
    const context = JSON.stringify(name);
    assert.ok(safe.length > 0, context);
    assert.ok(bytes(safe) <= 255, context);
    assert.doesNotMatch(safe, /[/\\<>:"|?*]/, context);
    assert.ok(
      Array.from(safe).every((char) => {
        const code = char.codePointAt(0) ?? 0;
        return !(
          code <= 0x1f ||
          (code >= 0x7f && code <= 0x9f) ||
          (code >= 0x202a && code <= 0x202e) ||
          (code >= 0x2066 && code <= 0x2069) ||
          (code >= 0xd800 && code <= 0xdfff)
        );
      }),
      context,
    );
    assert.doesNotMatch(safe, /^[ .]|[ .]$|\s{2}/, context);
    assert.doesNotMatch(safe, /^(con|prn|aux|nul|com[1-9]|lpt[1-9]) *(\.|$)/i, context);
    assert.equal(safe, safe.normalize('NFC'), context);
    assert.equal(sanitizeName(safe), safe, `idempotent for ${context}`);
  }
});
