// Pristine mode forgets compiled code at every request boundary, yet the AZR workload runs one program many times
// (8 learnability answers, 10 induction inputs, the judges after validation). This host-side cache keeps, per program
// text, what the guest's compile-only request made of it (the marshalled code object, or its syntax error, and the
// validate rules' verdict); it runs none of the program. Every request that runs a program ships those bytes, so
// validation and every later run of it load the very same code object, allocate the same way, and see the same
// id() values. Lives as long as its Executor; least recently used entries go first.

export class CodeCache<V> {
  private readonly entries = new Map<string, Promise<V>>();

  constructor(
    private readonly compile: (code: string) => Promise<V>,
    private readonly capacity = 1024,
  ) {}

  /** Whether `code` has an entry (compiled or being compiled). */
  has(code: string): boolean {
    return this.entries.has(code);
  }

  /** What `compile(code)` gave; computed once per program while it stays cached. A failed compile is not kept. */
  lookup(code: string): Promise<V> {
    let e = this.entries.get(code);
    if (e) this.entries.delete(code); // re-insert: Map order is the LRU order
    else e = this.start(code);
    this.entries.set(code, e);
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
    return e;
  }

  private start(code: string): Promise<V> {
    const e = this.compile(code);
    e.catch(() => {
      if (this.entries.get(code) === e) this.entries.delete(code);
    });
    return e;
  }
}
