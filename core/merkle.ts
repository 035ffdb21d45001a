// RFC 6962 / RFC 9162 §2.1 Merkle tree hashing: roots, inclusion proofs and consistency proofs,
// with their verification. Pure: SHA-256 is injected so the shell can pass node:crypto's.
//
// Sizes and indices are plain numbers; every one must be a safe integer. The bit operations of
// the RFC are written as arithmetic (% 2, halving) so trees past 2^31 leaves stay correct.
import { bytesEqual } from './bytes.ts';
import { AppError } from './errors.ts';

/** SHA-256 of the bytes. It must not keep a reference to its input after it returns (the hasher
 * reuses one scratch buffer for every node) and must return a fresh array each call (results
 * are stored). node:crypto's createHash(…).update(…).digest() and crypto.hash both qualify. */
export type Sha256 = (data: Uint8Array) => Uint8Array;

export interface MerkleHasher {
  /** Root of the empty tree: SHA-256 of no bytes. */
  emptyRoot(): Uint8Array;
  /** SHA-256(0x00 ‖ entry). */
  leafHash(entry: Uint8Array): Uint8Array;
  /** SHA-256(0x01 ‖ left ‖ right). */
  nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array;
}

/** Every hash in the tree is a SHA-256 digest. */
export const MERKLE_HASH_BYTES = 32;

const LEAF_PREFIX = 0x00;
const NODE_PREFIX = 0x01;

export function createMerkleHasher(sha256: Sha256): MerkleHasher {
  // One buffer for every node input and one (grown on demand) for leaf inputs: verifying a
  // million-entry log hashes two million short messages, and allocation is the cost to avoid.
  const nodeInput = new Uint8Array(1 + 2 * MERKLE_HASH_BYTES);
  nodeInput[0] = NODE_PREFIX;
  let leafBuffer = new Uint8Array(256);
  let leafInput = leafBuffer.subarray(0, 1); // view of the last length used: entries often share one
  const empty = sha256(new Uint8Array(0));

  return {
    emptyRoot: () => empty.slice(),
    leafHash(entry) {
      const length = entry.length + 1;
      if (leafInput.length !== length) {
        if (leafBuffer.length < length) leafBuffer = new Uint8Array(2 * length);
        leafInput = leafBuffer.subarray(0, length);
      }
      leafInput[0] = LEAF_PREFIX;
      leafInput.set(entry, 1);
      return sha256(leafInput);
    },
    nodeHash(left, right) {
      if (left.length !== MERKLE_HASH_BYTES || right.length !== MERKLE_HASH_BYTES) {
        throw new AppError('internal', 'merkle.bad_hash', 'a Merkle node child is not a 32-byte hash');
      }
      nodeInput.set(left, 1);
      nodeInput.set(right, 1 + MERKLE_HASH_BYTES);
      return sha256(nodeInput);
    },
  };
}

/** Appends leaf hashes one at a time and gives the root of everything so far. It holds one hash
 * per set bit of the size (the roots of the perfect subtrees the RFC split produces, largest
 * first), so memory is O(log n) and each push hashes only the nodes it completes. */
export class MerkleFrontier {
  readonly #hasher: MerkleHasher;
  readonly #subtreeRoots: Uint8Array[] = [];
  #size = 0;

  constructor(hasher: MerkleHasher) {
    this.#hasher = hasher;
  }

  get size(): number {
    return this.#size;
  }

  /** A frontier of the same tree that grows on its own (the hashes are never changed in place). */
  clone(): MerkleFrontier {
    const copy = new MerkleFrontier(this.#hasher);
    copy.#subtreeRoots.push(...this.#subtreeRoots);
    copy.#size = this.#size;
    return copy;
  }

  /** The frontier of a tree of `size` leaves, read from its stored perfect subtree roots. */
  static fromNodes(hasher: MerkleHasher, nodes: TreeNodes, size: number): MerkleFrontier {
    const frontier = new MerkleFrontier(hasher);
    let start = 0;
    for (const level of setBitsHighToLow(size)) {
      frontier.#subtreeRoots.push(nodes.node(level, start / 2 ** level));
      start += 2 ** level;
    }
    frontier.#size = size;
    return frontier;
  }

  /**
   * Adds a perfect subtree of 2^height leaves whose root is known, at a size that is a multiple
   * of 2^height (as a run of leaves hashed elsewhere): the same tree as pushing each leaf.
   */
  pushSubtree(root: Uint8Array, height: number): void {
    const leaves = 2 ** height;
    if (!Number.isInteger(height) || height < 0 || this.#size % leaves !== 0) {
      throw new AppError('internal', 'merkle.unaligned_subtree', `a subtree of ${leaves} leaves cannot start at size ${this.#size}`);
    }
    let node = root;
    for (let carry = this.#size / leaves; carry % 2 === 1; carry = (carry - 1) / 2) node = this.#hasher.nodeHash(this.#subtreeRoots.pop()!, node);
    this.#subtreeRoots.push(node);
    this.#size += leaves;
  }

  /** Adds a leaf. `onNode` hears of each interior node completed by it: (level, index, hash),
   * the node at level L and index i covering leaves [i·2^L, (i+1)·2^L). */
  push(leafHash: Uint8Array, onNode?: (level: number, index: number, hash: Uint8Array) => void): void {
    let node = leafHash;
    let level = 0;
    let index = this.#size;
    // Each trailing 1 bit of the old size is a perfect subtree of the same height as the one
    // being carried: merge them, like carrying in binary addition.
    for (let carry = this.#size; carry % 2 === 1; carry = (carry - 1) / 2) {
      node = this.#hasher.nodeHash(this.#subtreeRoots.pop()!, node);
      level += 1;
      index = Math.floor(index / 2);
      onNode?.(level, index, node);
    }
    this.#subtreeRoots.push(node);
    this.#size += 1;
  }

  root(): Uint8Array {
    const roots = this.#subtreeRoots;
    if (roots.length === 0) return this.#hasher.emptyRoot();
    // Right to left: the smallest subtrees hang off the right edge of the RFC tree.
    let node = roots[roots.length - 1]!;
    for (let index = roots.length - 2; index >= 0; index -= 1) node = this.#hasher.nodeHash(roots[index]!, node);
    return node;
  }
}

/** Root of leaves [0, size) given their leaf hashes. O(n) time, O(log n) extra memory. */
export function rootFromLeafHashes(
  hasher: MerkleHasher,
  leafHashes: readonly Uint8Array[],
  size: number = leafHashes.length,
): Uint8Array {
  requireSize(size, leafHashes.length);
  return rangeRoot(hasher, leafHashes, 0, size);
}

/** Inclusion proof for leaf `index` in the tree of the first `size` leaves (RFC 9162 §2.1.3.1
 * PATH), ordered from the leaf's sibling up to the root's child. */
export function inclusionProof(
  hasher: MerkleHasher,
  leafHashes: readonly Uint8Array[],
  index: number,
  size: number,
): Uint8Array[] {
  requireSize(size, leafHashes.length);
  if (!Number.isSafeInteger(index) || index < 0 || index >= size) {
    throw new AppError('input', 'merkle.bad_index', `leaf index ${index} is not within a tree of ${size} leaves`);
  }
  const proof: Uint8Array[] = [];
  appendPath((start, end) => rangeRoot(hasher, leafHashes, start, end), index, 0, size, proof);
  return proof;
}

/** Consistency proof that the tree of `fromSize` leaves is a prefix of the tree of `toSize`
 * leaves (RFC 9162 §2.1.4.1 PROOF/SUBPROOF). Empty when fromSize is 0 or equals toSize. */
export function consistencyProof(
  hasher: MerkleHasher,
  leafHashes: readonly Uint8Array[],
  fromSize: number,
  toSize: number,
): Uint8Array[] {
  requireSize(toSize, leafHashes.length);
  if (!Number.isSafeInteger(fromSize) || fromSize < 0 || fromSize > toSize) {
    throw new AppError('input', 'merkle.bad_size', `cannot prove size ${fromSize} against size ${toSize}`);
  }
  const proof: Uint8Array[] = [];
  if (fromSize > 0) appendSubproof((start, end) => rangeRoot(hasher, leafHashes, start, end), fromSize, 0, toSize, true, proof);
  return proof;
}

/** Reads a stored tree: level 0 are leaf hashes, level L ≥ 1 the roots of perfect subtrees of
 * 2^L leaves, node (L, i) covering leaves [i·2^L, (i+1)·2^L). */
export interface TreeNodes {
  node(level: number, index: number): Uint8Array;
}

/** MTH(D[start:end]) from stored nodes: O(log n) reads. `start` must be a multiple of the
 * largest power of two not above end − start, as every range the RFC recursion asks for is. */
export function rangeRootFromNodes(hasher: MerkleHasher, nodes: TreeNodes, start: number, end: number): Uint8Array {
  if (end <= start) return hasher.emptyRoot();
  const roots: Uint8Array[] = [];
  let at = start;
  for (const level of setBitsHighToLow(end - start)) {
    const width = 2 ** level;
    if (at % width !== 0) throw new AppError('internal', 'merkle.unaligned', `range ${start}..${end} is not aligned to stored subtrees`);
    roots.push(nodes.node(level, at / width));
    at += width;
  }
  let node = roots[roots.length - 1]!;
  for (let index = roots.length - 2; index >= 0; index -= 1) node = hasher.nodeHash(roots[index]!, node);
  return node;
}

/** inclusionProof over stored nodes: O(log n) reads. */
export function inclusionProofFromNodes(hasher: MerkleHasher, nodes: TreeNodes, index: number, size: number): Uint8Array[] {
  if (!Number.isSafeInteger(index) || index < 0 || index >= size) {
    throw new AppError('input', 'merkle.bad_index', `leaf index ${index} is not within a tree of ${size} leaves`);
  }
  const proof: Uint8Array[] = [];
  appendPath((start, end) => rangeRootFromNodes(hasher, nodes, start, end), index, 0, size, proof);
  return proof;
}

/** consistencyProof over stored nodes: O(log n) reads. */
export function consistencyProofFromNodes(hasher: MerkleHasher, nodes: TreeNodes, fromSize: number, toSize: number): Uint8Array[] {
  if (!Number.isSafeInteger(fromSize) || !Number.isSafeInteger(toSize) || fromSize < 0 || fromSize > toSize) {
    throw new AppError('input', 'merkle.bad_size', `cannot prove size ${fromSize} against size ${toSize}`);
  }
  const proof: Uint8Array[] = [];
  if (fromSize > 0 && fromSize < toSize) appendSubproof((start, end) => rangeRootFromNodes(hasher, nodes, start, end), fromSize, 0, toSize, true, proof);
  return proof;
}

/** Exponents of the set bits of n, highest first: the perfect subtrees a tree of n leaves splits into. */
function setBitsHighToLow(n: number): number[] {
  const levels: number[] = [];
  for (let level = 0, rest = n; rest > 0; level += 1, rest = Math.floor(rest / 2)) if (rest % 2 === 1) levels.unshift(level);
  return levels;
}

/** RFC 9162 §2.1.3.2. False (never an exception) for any wrong leaf, index, size, root or proof. */
export function verifyInclusion(
  hasher: MerkleHasher,
  leafHash: Uint8Array,
  index: number,
  size: number,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): boolean {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) return false;
  if (!isHash(leafHash) || !isHash(root) || !proof.every(isHash)) return false;
  let fn = index;
  let sn = size - 1;
  let node = leafHash;
  for (const sibling of proof) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      node = hasher.nodeHash(sibling, node);
      // A left child on the right edge has no sibling at this level: climb until it does.
      while (fn % 2 === 0 && fn !== 0) {
        fn = fn / 2;
        sn = Math.floor(sn / 2);
      }
    } else {
      node = hasher.nodeHash(node, sibling);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && bytesEqual(node, root);
}

/** RFC 9162 §2.1.4.2, plus the trivial cases: equal sizes need an empty proof and equal roots;
 * size 0 needs an empty proof and the empty-tree root. False (never an exception) otherwise. */
export function verifyConsistency(
  hasher: MerkleHasher,
  fromSize: number,
  toSize: number,
  proof: readonly Uint8Array[],
  fromRoot: Uint8Array,
  toRoot: Uint8Array,
): boolean {
  if (!Number.isSafeInteger(fromSize) || !Number.isSafeInteger(toSize) || fromSize < 0 || fromSize > toSize) {
    return false;
  }
  if (!isHash(fromRoot) || !isHash(toRoot) || !proof.every(isHash)) return false;
  if (fromSize === 0) return proof.length === 0 && bytesEqual(fromRoot, hasher.emptyRoot());
  if (fromSize === toSize) return proof.length === 0 && bytesEqual(fromRoot, toRoot);
  if (proof.length === 0) return false;

  const path = isPowerOfTwo(fromSize) ? [fromRoot, ...proof] : proof;
  let fn = fromSize - 1;
  let sn = toSize - 1;
  while (fn % 2 === 1) {
    fn = (fn - 1) / 2;
    sn = Math.floor(sn / 2);
  }
  let fromNode = path[0]!;
  let toNode = path[0]!;
  for (let position = 1; position < path.length; position += 1) {
    const sibling = path[position]!;
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fromNode = hasher.nodeHash(sibling, fromNode);
      toNode = hasher.nodeHash(sibling, toNode);
      while (fn % 2 === 0 && fn !== 0) {
        fn = fn / 2;
        sn = Math.floor(sn / 2);
      }
    } else {
      toNode = hasher.nodeHash(toNode, sibling);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && bytesEqual(fromNode, fromRoot) && bytesEqual(toNode, toRoot);
}

// PATH(m, D[start:end]) appended leaf-side first: recurse into the half holding the leaf, then
// add the root of the other half.
type RangeRoot = (start: number, end: number) => Uint8Array;

function appendPath(
  root: RangeRoot,
  index: number,
  start: number,
  end: number,
  proof: Uint8Array[],
): void {
  if (end - start <= 1) return;
  const split = start + largestPowerOfTwoBelow(end - start);
  if (index < split) {
    appendPath(root, index, start, split, proof);
    proof.push(root(split, end));
  } else {
    appendPath(root, index, split, end, proof);
    proof.push(root(start, split));
  }
}

// SUBPROOF(m, D[start:end], b) with m counted from start. `whole` is the RFC's b: true while the
// old tree's root is itself a node of this subtree's left edge, so the verifier already has it.
function appendSubproof(
  root: RangeRoot,
  fromSize: number,
  start: number,
  end: number,
  whole: boolean,
  proof: Uint8Array[],
): void {
  const size = end - start;
  if (fromSize === size) {
    if (!whole) proof.push(root(start, end));
    return;
  }
  const half = largestPowerOfTwoBelow(size);
  if (fromSize <= half) {
    appendSubproof(root, fromSize, start, start + half, whole, proof);
    proof.push(root(start + half, end));
  } else {
    appendSubproof(root, fromSize - half, start + half, end, false, proof);
    proof.push(root(start, start + half));
  }
}

/** MTH(D[start:end]). */
function rangeRoot(hasher: MerkleHasher, leafHashes: readonly Uint8Array[], start: number, end: number): Uint8Array {
  if (end - start === 1) return leafHashes[start]!;
  const frontier = new MerkleFrontier(hasher);
  for (let index = start; index < end; index += 1) frontier.push(leafHashes[index]!);
  return frontier.root();
}

/** The RFC's k: the largest power of two strictly less than n (n ≥ 2). */
function largestPowerOfTwoBelow(n: number): number {
  let power = 1;
  while (power * 2 < n) power *= 2;
  return power;
}

function isPowerOfTwo(n: number): boolean {
  let value = n;
  while (value % 2 === 0 && value > 1) value /= 2;
  return value === 1;
}

function isHash(value: Uint8Array): boolean {
  return value instanceof Uint8Array && value.length === MERKLE_HASH_BYTES;
}

function requireSize(size: number, available: number): void {
  if (!Number.isSafeInteger(size) || size < 0 || size > available) {
    throw new AppError('input', 'merkle.bad_size', `tree size ${size} is not within the ${available} leaves given`);
  }
}
