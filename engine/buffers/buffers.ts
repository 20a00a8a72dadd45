// The three buffers of a run (abduction, deduction, induction), seeded at step 0 and saved whole in checkpoints.
import type { BufferConfig, DataConfig } from "../config/schema.ts";
import type { InductionProgram, IoProgram, PosedProgram, TaskType } from "../tasks/types.ts";
import { type AddOutcome, type OfferedCounts, ProgramBuffer } from "./buffer.ts";
import { loadInductionSeeds, loadIoSeeds, zeroSeedInduction, zeroSeedIo } from "./seed.ts";

export interface BufferSnapshot {
  abduction: IoProgram[];
  deduction: IoProgram[];
  induction: InductionProgram[];
  /** Programs offered to each buffer per step (absent in checkpoints written before the counts existed). */
  offered?: Record<TaskType, OfferedCounts>;
}

const ioKey = (p: IoProgram): string => JSON.stringify([p.snippet, p.input]);
const inductionKey = (p: InductionProgram): string => JSON.stringify([p.snippet, p.inputs]);

export class Buffers {
  readonly abduction: ProgramBuffer<IoProgram>;
  readonly deduction: ProgramBuffer<IoProgram>;
  readonly induction: ProgramBuffer<InductionProgram>;
  /** Snippets of the run's held-out evaluation programs: never buffered, so never trained on as tasks. */
  private withheld: ReadonlySet<string> = new Set();

  constructor(opts: BufferConfig) {
    this.abduction = new ProgramBuffer(opts, ioKey);
    this.deduction = new ProgramBuffer(opts, ioKey);
    this.induction = new ProgramBuffer(opts, inductionKey);
  }

  /** Step 0: the same deduction/abduction seeds go into both buffers; induction has its own. */
  static seeded(opts: BufferConfig, data: DataConfig): Buffers {
    const b = new Buffers(opts);
    const io = data.seedFile === null ? zeroSeedIo() : loadIoSeeds(data.seedFile, data.seedRows);
    const ind = data.inductionSeedFile === null ? zeroSeedInduction() : loadInductionSeeds(data.inductionSeedFile, data.seedRows);
    for (const p of io) {
      b.abduction.add({ ...p });
      b.deduction.add({ ...p });
    }
    for (const p of ind) b.induction.add(p);
    return b;
  }

  /** From now on, refuse every program whose snippet is one of these (a run's held-out evaluation programs). */
  withhold(snippets: ReadonlySet<string>): void {
    this.withheld = snippets;
  }

  /** Offers a posed program to the buffer of its task. */
  add(item: PosedProgram): AddOutcome {
    if (this.withheld.has(item.program.snippet)) return "held_out";
    return item.task === "induction" ? this.induction.add(item.program) : this[item.task].add(item.program);
  }

  snapshot(): BufferSnapshot {
    return {
      abduction: this.abduction.snapshot(),
      deduction: this.deduction.snapshot(),
      induction: this.induction.snapshot(),
      offered: {
        abduction: this.abduction.offeredCounts(),
        deduction: this.deduction.offeredCounts(),
        induction: this.induction.offeredCounts(),
      },
    };
  }

  sizes(): { abduction: number; deduction: number; induction: number } {
    return { abduction: this.abduction.size, deduction: this.deduction.size, induction: this.induction.size };
  }

  static restored(opts: BufferConfig, saved: BufferSnapshot, step: number): Buffers {
    const b = new Buffers(opts);
    b.abduction.restore(saved.abduction, step, saved.offered?.abduction);
    b.deduction.restore(saved.deduction, step, saved.offered?.deduction);
    b.induction.restore(saved.induction, step, saved.offered?.induction);
    return b;
  }
}
