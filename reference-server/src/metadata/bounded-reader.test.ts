import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { createBoundedReader } from './bounded-reader.js';
import { MetadataError } from './metadata-error.js';

const KiB = 1024;
const MiB = 1024 * KiB;

function source(size: number) {
  const file = randomBytes(size);
  const fetched: Array<[number, number]> = [];
  const read = async (start: number, end: number) => {
    fetched.push([start, end]);
    return file.subarray(start, end + 1);
  };
  return { file, fetched, read };
}

test('a sweep over the whole budget keeps only the recently used blocks', async () => {
  const { file, read } = source(8 * MiB);
  const reader = createBoundedReader(read, file.length, 8 * MiB);
  for (let at = 0; at < file.length; at += 256 * KiB) {
    const piece = await reader.upTo(at, 256 * KiB + 64);
    assert.ok(Buffer.from(piece).equals(file.subarray(at, at + 256 * KiB + 64)), `bytes at ${at}`);
    assert.ok(reader.cachedBytes <= MiB, `cache of ${reader.cachedBytes} bytes after ${at}`);
  }
  assert.equal(reader.bytesRead, 8 * MiB, 'each byte fetched once');
});

test('recent blocks are served from the cache; evicted ones are fetched again within the budget', async () => {
  const { file, fetched, read } = source(4 * MiB);
  const reader = createBoundedReader(read, file.length, 3 * MiB);
  await reader.bytes(0, 100);
  await reader.bytes(1 * MiB, 2 * MiB); // past the cache size: block 0 is evicted
  const before = fetched.length;
  const tail = await reader.bytes(3 * MiB - 10, 10);
  assert.ok(Buffer.from(tail).equals(file.subarray(3 * MiB - 10, 3 * MiB)));
  assert.equal(fetched.length, before, 'a recent block costs no fetch');
  const head = await reader.bytes(0, 100);
  assert.ok(Buffer.from(head).equals(file.subarray(0, 100)));
  assert.equal(fetched.length, before + 1, 'an evicted block is fetched again');
  await assert.rejects(reader.bytes(3 * MiB, MiB - 1), (err: unknown) => {
    return err instanceof MetadataError && err.code === 'limit';
  });
});

test('reads running side by side each get their own bytes', async () => {
  const { file, read } = source(4 * MiB);
  const reader = createBoundedReader(read, file.length, 64 * MiB);
  const offsets = Array.from({ length: 24 }, (_, i) => (i * 173 * KiB) % (3 * MiB));
  const pieces = await Promise.all(offsets.map((at) => reader.bytes(at, 300 * KiB)));
  for (const [i, at] of offsets.entries()) {
    assert.ok(Buffer.from(pieces[i]!).equals(file.subarray(at, at + 300 * KiB)), `read at ${at}`);
  }
});
