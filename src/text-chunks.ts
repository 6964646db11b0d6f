/** Code points per chunk that generate() yields. */
export const CHUNK_CODE_POINTS = 256;

/** Collects symbols as UTF-16 code units, a whole code point each, into one reused buffer. */
export class TextChunks {
  private readonly units: Uint16Array; // (2K): symbol k is units[2k], then units[2k+1] if wide[k]
  private readonly wide: Uint8Array; // (K): 1 where the symbol is a surrogate pair
  private readonly buffer = new Uint16Array(2 * CHUNK_CODE_POINTS);
  private length = 0; // code units in buffer
  size = 0; // code points in buffer

  constructor(vocab: Uint32Array) {
    this.units = new Uint16Array(2 * vocab.length);
    this.wide = new Uint8Array(vocab.length);
    vocab.forEach((codePoint, k) => {
      const s = String.fromCodePoint(codePoint);
      this.units[2 * k] = s.charCodeAt(0);
      if (s.length === 2) {
        this.units[2 * k + 1] = s.charCodeAt(1);
        this.wide[k] = 1;
      }
    });
  }

  /** Appends symbol id. */
  push(id: number): void {
    this.buffer[this.length++] = this.units[2 * id];
    if (this.wide[id] === 1) this.buffer[this.length++] = this.units[2 * id + 1];
    this.size++;
  }

  /** Whether the chunk holds CHUNK_CODE_POINTS code points, and must be taken before the next push. */
  get full(): boolean {
    return this.size === CHUNK_CODE_POINTS;
  }

  take(): string {
    const chunk = String.fromCharCode.apply(null, this.buffer.subarray(0, this.length) as unknown as number[]);
    this.length = 0;
    this.size = 0;
    return chunk;
  }
}
