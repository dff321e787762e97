import { expect } from '@open-wc/testing';
import { UploadState } from '@file-uploader/sdk';
import { de } from '../src/strings-de.js';
import {
  en,
  errorKey,
  rejectionKeys,
  rejectionMessage,
  stateKeys,
  t,
  tn,
  type Strings,
} from '../src/strings.js';
import { RejectionCode, validateFiles } from '../src/validation.js';
import { describe, it } from './mocha-globals.browser.js';
import { fileOf, textBytes } from './sample-files.browser.js';

const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

describe('strings', () => {
  it('de has every key of en, and no other', () => {
    const english = Object.keys(en).sort();
    expect(english.length).to.be.greaterThan(50);
    expect(Object.keys(de).sort()).to.deep.equal(english);
  });

  it('every text is translated and uses the same placeholders in both languages', () => {
    for (const key of Object.keys(en) as Array<keyof Strings>) {
      expect(en[key].trim(), key).not.to.equal('');
      expect(de[key].trim(), key).not.to.equal('');
      expect(placeholders(de[key]), key).to.deep.equal(placeholders(en[key]));
    }
  });

  it('t fills in placeholders and leaves unknown ones visible', () => {
    expect(t(en, 'removeFile', { name: 'report.pdf' })).to.equal('Remove report.pdf');
    expect(t(de, 'removeFile', { name: 'report.pdf' })).to.equal('report.pdf entfernen');
    expect(t(en, 'removeFile')).to.equal('Remove {name}');
    expect(t(en, 'browse')).to.equal('Choose files');
    // A parameter holding a placeholder-like text is not expanded again.
    expect(t(en, 'announceFailed', { name: '{reason}', reason: 'x' })).to.equal(
      '{reason} failed: x',
    );
  });

  it('tn picks the singular for one and the plural otherwise', () => {
    expect(tn(en, 'resumeOffer', 1)).to.equal('1 upload was left unfinished.');
    expect(tn(en, 'resumeOffer', 3)).to.equal('3 uploads were left unfinished.');
    expect(tn(de, 'resumeOffer', 1)).to.equal('1 Upload wurde nicht abgeschlossen.');
    expect(tn(de, 'resumeOffer', 0)).to.equal('0 Uploads wurden nicht abgeschlossen.');
    expect(tn(en, 'overallFiles', 2, { done: 1 })).to.equal('1 of 2 files uploaded');
  });

  it('has a text for every SDK upload state, rejection code and common error code', () => {
    for (const state of Object.values(UploadState))
      expect(en[stateKeys[state]], state).to.be.a('string');
    expect(t(en, stateKeys.hashing)).to.equal(t(en, stateKeys.initiating));
    for (const code of Object.values(RejectionCode)) {
      expect(en[rejectionKeys[code]], code).to.be.a('string');
    }
    expect(errorKey('network')).to.equal('errorNetwork');
    expect(errorKey('type_mismatch')).to.equal('errorTypeMismatch');
    expect(t(en, errorKey('something_new'), { message: 'Teapot.' })).to.equal(
      'The upload failed: Teapot.',
    );
  });

  it('rejectionMessage formats byte values for the locale', async () => {
    const big = fileOf(textBytes('x'.repeat(2_500_000)), 'big.pdf');
    const { rejected } = await validateFiles(
      [big],
      { accept: [], maxFileSize: 1_000_000 },
      {
        count: 0,
        totalBytes: 0,
      },
    );
    const rejection = rejected[0];
    if (!rejection) throw new Error('expected a rejection');
    expect(rejection.code).to.equal('file-size');
    expect(rejectionMessage(en, rejection, 'en').replace(/\u00a0/g, ' ')).to.equal(
      'big.pdf cannot be added: it is 2.5 MB, and each file may be up to 1 MB.',
    );
    expect(rejectionMessage(de, rejection, 'de').replace(/\u00a0/g, ' ')).to.equal(
      'big.pdf kann nicht hinzugefügt werden: Die Datei hat 2,5 MB, erlaubt sind bis 1 MB pro Datei.',
    );
  });
});
