// Pristine mode's memory snapshot: a copy of linear memory at the first request boundary, and putting it back after
// every request. With a dirty map (dirty tracking) only the marked pages go back; without one every byte does, the
// longest all-zero run of pages cleared rather than copied. A snapshot lives as long as its instance.
import { PAGE_SHIFT } from "./wasm-rewrite.ts";

const PAGE = 1 << PAGE_SHIFT;

export class PristineMemory {
  private readonly snap: Uint8Array;
  /** Full-restore mode: every byte range of memory, and whether it is copied back or (all zero) cleared. */
  private restoreRanges: Array<{ from: number; to: number; zero: boolean }> = [];

  /** Takes the snapshot now; `map` is the dirty-page map (null: dirty tracking is off); `verify` checks each restore. */
  constructor(
    private readonly memory: WebAssembly.Memory,
    private readonly map: Uint8Array | null,
    private readonly verify: boolean,
  ) {
    map?.fill(0);
    this.snap = new Uint8Array(memory.buffer).slice();
    if (map) return;
    // Without a dirty map every byte goes back every time. The longest all-zero run of pages (the freed pre-grown
    // heap, dlmalloc's top chunk) is cleared rather than copied: the same bytes, at memset instead of memcpy cost.
    const snap = this.snap;
    const pages = snap.length >>> PAGE_SHIFT;
    const zero = (p: number) => {
      const w = new BigUint64Array(snap.buffer, p * PAGE, PAGE / 8);
      for (let i = 0; i < w.length; i++) if (w[i] !== 0n) return false;
      return true;
    };
    let best: [number, number] = [pages, pages];
    for (let p = 0; p < pages; ) {
      if (!zero(p)) {
        p++;
        continue;
      }
      let q = p;
      while (q < pages && zero(q)) q++;
      if (q - p > best[1] - best[0]) best = [p, q];
      p = q;
    }
    this.restoreRanges = [
      { from: 0, to: best[0] * PAGE, zero: false },
      { from: best[0] * PAGE, to: best[1] * PAGE, zero: true },
      { from: best[1] * PAGE, to: snap.length, zero: false },
    ];
  }

  /** Bytes of memory at the snapshot: memory grown past this recycles the instance. */
  get bytes(): number {
    return this.snap.length;
  }

  restore(): void {
    const snap = this.snap;
    const mem = new Uint8Array(this.memory.buffer);
    if (!this.map) {
      for (const { from, to, zero } of this.restoreRanges) {
        if (zero) mem.fill(0, from, to);
        else mem.set(snap.subarray(from, to), from);
      }
    } else {
      const pages = snap.length >>> PAGE_SHIFT;
      const map = this.map;
      // A store is at most 8 bytes and marks the page it starts in, so one that straddles into an unmarked page
      // wrote at most its first 7 bytes: after each run of marked pages, restore 8 bytes of the next page too.
      let p = 0;
      while (p < pages) {
        if (map[p] === 0) {
          p++;
          continue;
        }
        let q = p;
        while (q < pages && map[q] !== 0) q++;
        mem.set(snap.subarray(p * PAGE, Math.min(q * PAGE + 8, snap.length)), p * PAGE);
        p = q;
      }
      // Marks past the snapshot's end come from stores that trapped (memory never grows while serving: growth
      // recycles the instance), so clearing the snapshot's pages clears every mark.
      map.fill(0, 0, pages + 1);
    }
    if (this.verify) checkRestored(mem, snap);
  }
}

/** Byte-exact check of the restore (tests): every byte of memory equals the snapshot. */
function checkRestored(mem: Uint8Array, snap: Uint8Array): void {
  if (mem.length === snap.length && Buffer.compare(mem, snap) === 0) return;
  let i = 0;
  while (i < snap.length && mem[i] === snap[i]) i++;
  throw new Error(`restore mismatch at byte ${i} (page ${i >>> PAGE_SHIFT})`);
}
