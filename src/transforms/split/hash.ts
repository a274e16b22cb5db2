/**
 * The split's only source of chance: a hash of (seed, key) mapped to [0, 1). Plain 32-bit integer
 * arithmetic on the key's UTF-16 code units, so every machine and every input order gives the same
 * numbers (never Math.random, never the position of an item).
 */

/** FNV-1a over the string, finished with murmur3's avalanche so nearby keys spread out. */
function hash32(text: string, basis: number): number {
  let h = basis >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * A comparator ordering strings by their unitHash for `seed` (each key hashed once), the strings
 * themselves breaking the practically impossible ties: the one hash order of names and ids.
 */
export function byHash(seed: number): (a: string, b: string) => number {
  const hashes = new Map<string, number>();
  const hash = (key: string) => {
    let h = hashes.get(key);
    if (h === undefined) hashes.set(key, (h = unitHash(key, seed)));
    return h;
  };
  return (a, b) => hash(a) - hash(b) || (a < b ? -1 : a > b ? 1 : 0);
}

/** A number in [0, 1) with 53 bits from two differently seeded 32-bit hashes of `seed` and `key`. */
export function unitHash(key: string, seed: number): number {
  const text = `${seed}\u0000${key}`;
  const high = hash32(text, 0x811c9dc5) >>> 11; // 21 bits
  const low = hash32(text, 0x9e3779b9); // 32 bits
  return (high * 4294967296 + low) / 9007199254740992;
}
