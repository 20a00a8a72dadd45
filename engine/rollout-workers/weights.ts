// Weights in the NATS object store: the learner saves its policy as a Hugging Face checkpoint directory (config,
// f32 safetensors, tokenizer) and stores the directory's files as one object per version; a worker unpacks that
// object into a temporary directory and loads its Policy from there, so it needs nothing local.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import type { ObjectStore } from "@nats-io/obj";
import { pack, unpack } from "msgpackr";
import { Policy, type PolicySizes } from "../model/index.ts";
import type { PolicyLike } from "../trainer/ports.ts";

/** Files of a checkpoint directory, by name. */
type Files = Record<string, Uint8Array>;

/** Saves `policy` and stores the checkpoint under `name`. */
export async function putWeights(store: ObjectStore, name: string, policy: Pick<PolicyLike, "save">): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "azr-weights-"));
  try {
    const ckpt = join(dir, "model");
    await policy.save(ckpt);
    const files: Files = {};
    for (const f of readdirSync(ckpt)) if (statSync(join(ckpt, f)).isFile()) files[f] = readFileSync(join(ckpt, f));
    await store.putBlob({ name }, pack(files));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Loads the policy stored under `name`; null when no such object exists (the learner has moved on). */
export async function loadWeights(store: ObjectStore, name: string, sizes: PolicySizes): Promise<Policy | null> {
  const blob = await store.getBlob(name);
  if (blob === null) return null;
  const files = unpack(blob) as Files;
  const dir = mkdtempSync(join(tmpdir(), "azr-weights-"));
  try {
    // basename: a file name from the network never leaves the temporary directory.
    for (const [f, bytes] of Object.entries(files)) writeFileSync(join(dir, basename(f)), bytes);
    return await Policy.load(dir, sizes);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
