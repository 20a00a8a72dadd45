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

export async function rollouts(
  ctx: StepContext,
  category: GenCategory,
  prompts: ReadonlyArray<{ prompt: string; ids: number[] }>,
  sampling: { temperature: number; maxNew: number },
): Promise<Rollout[]> {
  const { config, policy } = ctx;
  const out: Rollout[] = [];
  for (let i = 0; i < prompts.length; i += config.model.maxBatch) {
    const chunk = prompts.slice(i, i + config.model.maxBatch);
    // Greedy decoding draws nothing, so evaluation does not move the run's Rng.
    const seed = sampling.temperature > 0 ? ctx.rng.uint32() : 0;
    const gens = await ctx.clock.time(`generate.${category}`, () =>
      policy.generate(
        chunk.map((p) => p.ids),
        {
          maxNew: sampling.maxNew,
          temperature: sampling.temperature,
          topK: config.rollout.topK > 0 ? config.rollout.topK : undefined,
          topP: config.rollout.topP < 1 ? config.rollout.topP : undefined,
          seed,
        },
      ),
    );
    gens.forEach((g, j) => {
      ctx.clock.addTokens(category, g.ids.length);
      out.push({
        prompt: chunk[j].prompt,
        promptIds: chunk[j].ids,
        responseIds: g.ids,
        response: policy.tokenizer.decode(g.ids, { skipSpecial: true }),
        finish: g.finish,
      });
    });
    ctx.progress.tick();
  }
  return out;
}
