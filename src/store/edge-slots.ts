/**
 * What an edge writer remembers of the edges it wrote: row id, the last hour it stored and the sets
 * it knows to be stored (as text), in a fixed number of slots chosen by a hash of the edge key. A
 * new edge replaces whatever edge shared its slot, so memory stays the same however long ingest
 * runs and however many edges pod churn and new addresses bring; a forgotten edge is only looked
 * up again. Maps that emptied when full (500,000 ids, 8M characters of sets) grew for as long as
 * edges appeared, and their sets emptied every few batches.
 */
export class EdgeSlots {
  readonly #mask: number;
  readonly #keys: (string | undefined)[];
  readonly #ids: Float64Array;
  /** NaN: none stored by this writer. */
  readonly #hours: Float64Array;
  readonly #sets: (string | undefined)[];
  #setsChars = 0;
  /**
   * One bit per hash of the keys this writer stored or found (WRITTEN_BITS of them): an edge
   * missing from its slot whose bit is clear was never seen, so it is most likely new (insert it
   * first); one whose bit is set was most likely forgotten (look its id up first).
   */
  readonly #written = new Uint32Array(WRITTEN_BITS / 32);

  /**
   * `slots`: a power of two. `setsChars`: characters of set texts held at most (each counted with
   * ENTRY_CHARS more); past it they are all forgotten, ids and hours kept.
   */
  constructor(
    slots: number,
    private readonly setsChars: number,
  ) {
    if (slots < 1 || (slots & (slots - 1)) !== 0) throw new Error(`edge slots must be a power of two, not ${slots}`);
    this.#mask = slots - 1;
    this.#keys = new Array<string | undefined>(slots).fill(undefined);
    this.#ids = new Float64Array(slots);
    this.#hours = new Float64Array(slots).fill(Number.NaN);
    this.#sets = new Array<string | undefined>(slots).fill(undefined);
  }

  /** The slot of an edge key. */
  slot(key: string): number {
    const h = hash(key);
    return (h ^ (h >>> 15)) & this.#mask;
  }

  /**
   * Whether `key` was probably remembered before (rarely true for a new key: one in ~60 once
   * 60,000 edges were seen); only the order of a writer's look-ups may depend on it.
   */
  seenBefore(key: string): boolean {
    const bit = hash(key) >>> WRITTEN_SHIFT;
    return ((this.#written[bit >>> 5] as number) & (1 << (bit & 31))) !== 0;
  }

  /** The row id of `key` if its slot holds it. */
  id(slot: number, key: string): number | undefined {
    return this.#keys[slot] === key ? this.#ids[slot] : undefined;
  }

  /** Puts `key` and its row id in its slot, forgetting the edge that was there. */
  remember(slot: number, key: string, id: number): void {
    if (this.#keys[slot] === key) return;
    const bit = hash(key) >>> WRITTEN_SHIFT;
    this.#written[bit >>> 5] = (this.#written[bit >>> 5] as number) | (1 << (bit & 31));
    this.#keys[slot] = key;
    this.#ids[slot] = id;
    this.#hours[slot] = Number.NaN;
    this.setSets(slot, undefined);
  }

  /** The last hour stored for the edge in `slot` (NaN if none is known). */
  lastHour(slot: number): number {
    return this.#hours[slot] as number;
  }

  setLastHour(slot: number, hour: number): void {
    this.#hours[slot] = hour;
  }

  /** The sets known to be stored for the edge in `slot`, as `setSets` was given them. */
  sets(slot: number): string | undefined {
    return this.#sets[slot];
  }

  setSets(slot: number, text: string | undefined): void {
    const before = this.#sets[slot];
    if (before !== undefined) this.#setsChars -= before.length + ENTRY_CHARS;
    this.#sets[slot] = undefined;
    if (text === undefined) return;
    const chars = text.length + ENTRY_CHARS;
    if (this.#setsChars + chars > this.setsChars) this.forgetSets();
    this.#sets[slot] = text;
    this.#setsChars += chars;
  }

  /** Forgets every edge's sets (another writer may have written); ids and hours stay. */
  forgetSets(): void {
    this.#sets.fill(undefined);
    this.#setsChars = 0;
  }
}

const WRITTEN_BITS = 1 << 22;
/** The written bits are taken from the top of the hash, the slot from the bottom. */
const WRITTEN_SHIFT = 32 - 22;

/** FNV-1a over the UTF-16 code units. */
function hash(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** What a slot's set text costs besides its characters (string header, slot), in characters. */
const ENTRY_CHARS = 32;
