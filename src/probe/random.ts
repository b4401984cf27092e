// Random numbers for probe identities: echo ids, sequence starts, nonce salts, source ports. An
// off-path attacker must not guess them (a forged PTB that matches would lower a PMTU: RFC 5927,
// RFC 8899 §4.6.1), so they come from the kernel's CSPRNG through /dev/urandom. node:crypto reads
// the same source, but loading it (and the stream modules it pulls in) cost ~5 ms of every
// `pathmtu <host>` run, measured in `npm run bench -- --only startup`; a few bytes need none of it.
import { closeSync, openSync, readSync } from 'node:fs';

const pool = Buffer.alloc(64);
let used = pool.length;

function refill(): void {
  const fd = openSync('/dev/urandom', 'r');
  try {
    for (let got = 0; got < pool.length; ) got += readSync(fd, pool, got, pool.length - got, null);
  } finally {
    closeSync(fd);
  }
  used = 0;
}

/** A uniformly random unsigned 32-bit integer. */
export function randomUint32(): number {
  if (used + 4 > pool.length) refill();
  const v = pool.readUInt32BE(used);
  pool.fill(0, used, used + 4); // a value handed out is not kept around
  used += 4;
  return v;
}

/** A uniformly random integer in [min, max), like crypto.randomInt (max - min at most 2^32). */
export function randomInt(min: number, max: number): number {
  const range = max - min;
  if (!Number.isSafeInteger(min) || !Number.isSafeInteger(max) || range < 1 || range > 2 ** 32) {
    throw new RangeError(`randomInt: need min < max, at most 2^32 apart; got ${min}, ${max}`);
  }
  // Values at or above the largest multiple of range would favour small results: draw again.
  const limit = 2 ** 32 - (2 ** 32 % range);
  let v: number;
  do v = randomUint32();
  while (v >= limit);
  return min + (v % range);
}
