/**
 * CRC32C of a concatenation from the CRC32Cs of its parts, without the bytes: zlib's
 * crc32_combine (GF(2) matrix method) for the Castagnoli polynomial. GCS reports each object's
 * CRC32C, so a composed object can be checked against the parts it was made from.
 */
const POLY = 0x82f63b78; // CRC32C, reflected

function times(matrix: Uint32Array, vector: number): number {
  let sum = 0;
  for (let i = 0; vector !== 0; i++, vector >>>= 1) {
    if (vector & 1) sum ^= matrix[i]!;
  }
  return sum >>> 0;
}

function square(target: Uint32Array, matrix: Uint32Array): void {
  for (let n = 0; n < 32; n++) target[n] = times(matrix, matrix[n]!);
}

/** CRC32C of `A + B` given CRC32C(A), CRC32C(B) and the length of B in bytes. */
export function crc32cCombine(crcA: number, crcB: number, lengthB: number): number {
  if (!Number.isSafeInteger(lengthB) || lengthB < 0) {
    throw new RangeError(`Invalid length: ${lengthB}`);
  }
  if (lengthB === 0) return crcA >>> 0;
  const even = new Uint32Array(32); // operator for an even power of two zero bits
  const odd = new Uint32Array(32); // and for an odd power
  odd[0] = POLY; // the operator for one zero bit
  for (let n = 1, row = 1; n < 32; n++, row <<= 1) odd[n] = row;
  square(even, odd); // two zero bits
  square(odd, even); // four zero bits
  let crc = crcA >>> 0;
  let length = lengthB;
  // Apply length * 8 zero bits to crcA: the first square gives one zero byte (eight bits).
  for (;;) {
    square(even, odd);
    if (length % 2 === 1) crc = times(even, crc);
    length = Math.floor(length / 2);
    if (length === 0) break;
    square(odd, even);
    if (length % 2 === 1) crc = times(odd, crc);
    length = Math.floor(length / 2);
    if (length === 0) break;
  }
  return (crc ^ crcB) >>> 0;
}

/** CRC32C as GCS reports it (base64 of 4 big-endian bytes) as a number. */
export function crc32cFromBase64(value: string): number {
  const bytes = Buffer.from(value, 'base64');
  if (bytes.length !== 4) throw new TypeError(`Not a base64 CRC32C: ${JSON.stringify(value)}`);
  return bytes.readUInt32BE(0);
}
