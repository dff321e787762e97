/**
 * CRC32C (Castagnoli), written here independently of the client's implementation so that the
 * client's checksum validation really tests the emulator's values. Slicing-by-4 tables.
 */
const POLY = 0x82f63b78; // reflected Castagnoli polynomial

const TABLES: Uint32Array[] = (() => {
  const tables = Array.from({ length: 4 }, () => new Uint32Array(256));
  const first = tables[0]!;
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
    first[n] = c >>> 0;
  }
  for (let n = 0; n < 256; n++) {
    for (let t = 1; t < 4; t++) {
      const prev = tables[t - 1]![n]!;
      tables[t]![n] = (prev >>> 8) ^ first[prev & 0xff]!;
    }
  }
  return tables;
})();

/** An incremental CRC32C. */
export class Crc32c {
  #crc = 0xffffffff;

  update(data: Uint8Array): this {
    const [t0, t1, t2, t3] = TABLES as [Uint32Array, Uint32Array, Uint32Array, Uint32Array];
    let crc = this.#crc;
    let i = 0;
    const end4 = data.length - (data.length % 4);
    for (; i < end4; i += 4) {
      crc ^= data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
      crc = t3[crc & 0xff]! ^ t2[(crc >>> 8) & 0xff]! ^ t1[(crc >>> 16) & 0xff]! ^ t0[crc >>> 24]!;
    }
    for (; i < data.length; i++) crc = (crc >>> 8) ^ t0[(crc ^ data[i]!) & 0xff]!;
    this.#crc = crc;
    return this;
  }

  /** The checksum as an unsigned 32-bit number. */
  value(): number {
    return (this.#crc ^ 0xffffffff) >>> 0;
  }

  /** The checksum as GCS reports it: base64 of the 4 big-endian bytes. */
  base64(): string {
    const bytes = Buffer.alloc(4);
    bytes.writeUInt32BE(this.value());
    return bytes.toString('base64');
  }
}
