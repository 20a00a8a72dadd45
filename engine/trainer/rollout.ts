// Generation for any phase: prompts (text) in, rollouts (ids and decoded text) out, in micro-batches of
// model.maxBatch, each with a seed drawn from the run's Rng so a resumed run samples the same tokens.
import type { GenCategory } from "./clock.ts";
import type { StepContext } from "./context.ts";

export interface Rollout {
  prompt: string;
  promptIds: number[];
  responseIds: number[];
  /** The response decoded without special tokens (the reference's skip_special_tokens). */
  response: string;
  finish: "stop" | "length";
}

/** What encoding a prompt needs: the policy's tokenizer. */
export type TokenizerHolder = { policy: Pick<StepContext["policy"], "tokenizer"> };

/** Prompt token ids; text from buffers is encoded literally (a model-written "<|endoftext|>" is not a special token). */
export function encodePrompt(ctx: TokenizerHolder, prompt: string): number[] {
  return ctx.policy.tokenizer.encode(prompt, { allowSpecial: false });
}

/**
 * Rolls out every prompt: one generate call per micro-batch, all issued at once (the in-process policy runs them in
 * turn; rollout workers run them in parallel). Seeds are drawn in micro-batch order first, as one call after another
 * would draw them, so where the batches run does not change a token.
 */
export async function rollouts(
  ctx: StepContext,
  category: GenCategory,
  prompts: ReadonlyArray<{ prompt: string; ids: number[] }>,
  sampling: { temperature: number; maxNew: number },
): Promise<Rollout[]> {
  const { config, policy } = ctx;
  const chunks: Array<{ chunk: typeof prompts; seed: number }> = [];
  for (let i = 0; i < prompts.length; i += config.model.maxBatch) {
    // Greedy decoding draws nothing, so evaluation does not move the run's Rng.
    chunks.push({ chunk: prompts.slice(i, i + config.model.maxBatch), seed: sampling.temperature > 0 ? ctx.rng.uint32() : 0 });
  }
  const done = await ctx.clock.time(`generate.${category}`, () =>
    Promise.all(
      chunks.map(async ({ chunk, seed }) => {
        const gens = await policy.generate(
          chunk.map((p) => p.ids),
          {
            maxNew: sampling.maxNew,
            temperature: sampling.temperature,
            topK: config.rollout.topK > 0 ? config.rollout.topK : undefined,
            topP: config.rollout.topP < 1 ? config.rollout.topP : undefined,
            seed,
          },
        );
        ctx.clock.addTokens(category, gens.reduce((n, g) => n + g.ids.length, 0));
        ctx.progress.tick();
        return gens.map(
          (g, j): Rollout => ({
            prompt: chunk[j].prompt,
            promptIds: chunk[j].ids,
            responseIds: g.ids,
            response: policy.tokenizer.decode(g.ids, { skipSpecial: true }),
            finish: g.finish,
          }),
        );
      }),
    ),
  );
  return done.flat();
}
