import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { ERROR_CODES, isErrorBody, isErrorCode, statusOf } from '@file-uploader/protocol';

test('every error code has an HTTP error status and a message', () => {
  for (const [code, { status, message }] of Object.entries(ERROR_CODES)) {
    assert.ok(status >= 400 && status < 600, code);
    assert.ok(message.length > 0, code);
    assert.ok(isErrorCode(code));
  }
  assert.equal(statusOf('session_expired'), 410);
  assert.equal(isErrorCode('nope'), false);
});

test('error bodies are recognised by shape, including codes a newer server may add', () => {
  assert.ok(isErrorBody({ error: { code: 'digest_mismatch', message: 'x' } }));
  assert.ok(isErrorBody({ error: { code: 'some_future_code', message: 'x', details: [] } }));
  for (const bad of [
    null,
    'x',
    {},
    { error: null },
    { error: { code: 1, message: 'x' } },
    { error: { code: 'x' } },
  ]) {
    assert.equal(isErrorBody(bad), false, JSON.stringify(bad));
  }
});
