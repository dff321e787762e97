/** Progress of one upload. Confirmed bytes never go backwards. */
export interface UploadProgress {
  /** Bytes the server has confirmed. */
  confirmedBytes: number;
  /** Bytes sent but not confirmed yet (lost if their request fails). */
  inFlightBytes: number;
  totalBytes: number;
  /** Smoothed throughput. */
  bytesPerSecond: number;
  /** Seconds left at the current speed; undefined until there is a speed. */
  etaSeconds?: number;
}

/** Smoothed speed: an exponentially weighted moving average with a time constant. */
export class SpeedMeter {
  #rate = 0;
  #last?: { at: number; bytes: number };

  constructor(private readonly timeConstantMs = 3000) {}

  /** Records that `bytes` (a running total) have moved by time `at` (ms); returns bytes/s. */
  sample(bytes: number, at: number): number {
    if (!this.#last || bytes < this.#last.bytes) {
      this.#last = { at, bytes };
      return this.#rate;
    }
    const dt = at - this.#last.at;
    if (dt <= 0) return this.#rate;
    const instant = ((bytes - this.#last.bytes) * 1000) / dt;
    const weight = 1 - Math.exp(-dt / this.timeConstantMs);
    this.#rate = this.#rate === 0 ? instant : this.#rate + weight * (instant - this.#rate);
    this.#last = { at, bytes };
    return this.#rate;
  }

  /** Forgets the last sample (after a pause), keeping the rate as a first guess. */
  reset(): void {
    this.#last = undefined;
  }
}
