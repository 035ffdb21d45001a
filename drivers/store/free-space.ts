// Free space where a store's files lie: statfs, available to an unprivileged process (the blocks
// reserved for root do not count), on both runtimes (docs/runtime-facts.md).

import fs from 'node:fs';

/** Bytes an unprivileged process may still write in the file system that holds `directory`. */
export function freeBytesIn(directory: string): number {
  const stats = fs.statfsSync(directory);
  return stats.bavail * stats.bsize;
}
