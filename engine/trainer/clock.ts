// Where a step's time goes: wall time, generated tokens and executor calls per category (generation of each phase,
// executor work of each phase, the update). The progress line reads rates from it; the step bench reports it.

export type GenCategory = "propose" | "learnability" | "solve" | "eval";
export type ExecCategory = "validate" | "learnability" | "grade" | "eval";
export type Category = `generate.${GenCategory}` | `executor.${ExecCategory}` | "update" | "checkpoint";

export class Clock {
  readonly ms = new Map<Category, number>();
  readonly tokens = new Map<GenCategory, number>();
  readonly calls = new Map<ExecCategory, number>();

  async time<T>(category: Category, work: () => Promise<T>): Promise<T> {
    const start = performance.now();
    try {
      return await work();
    } finally {
      this.ms.set(category, (this.ms.get(category) ?? 0) + performance.now() - start);
    }
  }

  addTokens(category: GenCategory, n: number): void {
    this.tokens.set(category, (this.tokens.get(category) ?? 0) + n);
  }

  addCalls(category: ExecCategory, n: number): void {
    this.calls.set(category, (this.calls.get(category) ?? 0) + n);
  }

  totalTokens(): number {
    return [...this.tokens.values()].reduce((a, b) => a + b, 0);
  }

  totalCalls(): number {
    return [...this.calls.values()].reduce((a, b) => a + b, 0);
  }

  /** Milliseconds spent in categories whose name starts with `prefix`. */
  sum(prefix: string): number {
    let total = 0;
    for (const [k, v] of this.ms) if (k.startsWith(prefix)) total += v;
    return total;
  }

  toJSON(): { ms: Record<string, number>; tokens: Record<string, number>; calls: Record<string, number> } {
    const round = (m: Map<string, number>) => Object.fromEntries([...m].map(([k, v]) => [k, Math.round(v * 10) / 10]));
    return { ms: round(this.ms), tokens: Object.fromEntries(this.tokens), calls: Object.fromEntries(this.calls) };
  }
}
