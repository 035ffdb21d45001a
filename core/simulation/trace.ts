// The event trace of a run, kept as a running 64-bit hash (two independent 32-bit lanes) so a
// replay can be compared with the original in constant memory (docs/simulation.md, "Replay").

export class TraceHash {
  private fnv = 0x811c9dc5;
  private murmur = 0x9747b28c;
  private lines = 0;

  add(line: string): void {
    this.lines += 1;
    for (let index = 0; index < line.length; index += 1) {
      const code = line.charCodeAt(index);
      this.fnv = Math.imul(this.fnv ^ code, 0x01000193);
      let k = Math.imul(code, 0xcc9e2d51);
      k = (k << 15) | (k >>> 17);
      this.murmur ^= Math.imul(k, 0x1b873593);
      this.murmur = Math.imul((this.murmur << 13) | (this.murmur >>> 19), 5) + 0xe6546b64;
    }
    // A line end, so "ab","c" and "a","bc" differ.
    this.fnv = Math.imul(this.fnv ^ 0x0a, 0x01000193);
    this.murmur = Math.imul(this.murmur ^ 0x0a, 0x85ebca6b);
  }

  count(): number {
    return this.lines;
  }

  hex(): string {
    return (this.fnv >>> 0).toString(16).padStart(8, '0') + (this.murmur >>> 0).toString(16).padStart(8, '0');
  }
}
