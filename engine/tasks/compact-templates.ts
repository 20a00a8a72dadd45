// The compact prompt style: a documented departure for CPU-scale models only (the `tiny` preset and its warm start;
// every other preset keeps the reference's verbatim prompts, templates.ts). The verbatim solve prompts are 400–900
// tokens and the proposer's 1,000–1,900 with a small vocabulary, which on 2 CPU cores makes each training token ~5×
// dearer than the task needs. These keep what a task is made of (the same code, input, output, pair, message and
// reference blocks, the same answer blocks and tags, the "Assistant: <think>" ending the parser cuts at) and drop
// the instructions' prose and the banned-word list (the executor still refuses banned imports).
const F = "```";

export const COMPACT_INSTRUCTION_FOLLOWING = "Think in <think> </think>, answer in <answer> </answer>. User: {prompt}\nAssistant: <think>";

export const COMPACT_SOLVE_DEDUCTION = `Deduce the output.\n${F}python\n{snippet}\n${F}\n${F}input\n{input}\n${F}\n`;
export const COMPACT_SOLVE_ABDUCTION = `Find an input.\n${F}python\n{snippet}\n${F}\n${F}output\n{output}\n${F}\n`;
export const COMPACT_SOLVE_INDUCTION = `Deduce f from the pairs.\n{pairs}${F}message\n{message}\n${F}\n`;
export const COMPACT_PROPOSE_DEDUCTION = "Write a new f and one input whose output is hard to deduce. References:\n";
export const COMPACT_PROPOSE_ABDUCTION = "Write a new f and one input that is hard to recover from the output. References:\n";
export const COMPACT_PROPOSE_INDUCTION = `Write {num_inputs} inputs for f and a message.\n${F}python\n{snippet}\n${F}\n`;
