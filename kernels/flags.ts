// Backend knobs, read once from the environment. Every knob the kernels honour is listed here and nowhere else.
//
// | variable       | values                        | default | effect                                                  |
// |----------------|-------------------------------|---------|---------------------------------------------------------|
// | AZR_ADAPTER    | auto, software                | auto    | `software` skips real GPUs and takes lavapipe           |
// | AZR_MATMUL     | auto, rbv8x8, tiled           | auto    | matmul variant; `auto` picks by adapter (see matmul.ts) |
// | AZR_DAWN_FLAGS | comma-separated create() args | (none)  | passed to dawn.node's `create()`, e.g. `backend=vulkan` |
// | AZR_GPU_QUIET  | 1                             | (unset) | do not print the adapter line to stderr                 |
// | AZR_SHADER_F16 | auto, off                     | auto    | `off` leaves shader-f16 unrequested, as on an adapter   |
//                                                              without it (f16 weights are then refused, by name)
// | AZR_MAX_BINDING| bytes                         | (unset) | caps the bytes one binding may hold below the adapter's |
//                                                              limits, so that tensors shard as on a smaller adapter
// | AZR_DEVICE_MEMORY | bytes                      | (unset) | the device's memory for the memory plan (WebGPU does    |
//                                                              not report it; software adapters use the host's RAM)

export type AdapterChoice = "auto" | "software";
export type MatmulVariantFlag = "auto" | "rbv8x8" | "tiled";

function oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new Error(`${name}=${raw} is not one of ${allowed.join(", ")}`);
  }
  return raw as T;
}

function positiveInteger(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return undefined;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 16) throw new Error(`${name}=${raw} is not a whole number of bytes >= 16`);
  return n;
}

export const flags = {
  adapter: oneOf<AdapterChoice>("AZR_ADAPTER", ["auto", "software"], "auto"),
  matmul: oneOf<MatmulVariantFlag>("AZR_MATMUL", ["auto", "rbv8x8", "tiled"], "auto"),
  dawnFlags: (process.env.AZR_DAWN_FLAGS ?? "").split(",").filter((s) => s !== ""),
  quiet: process.env.AZR_GPU_QUIET === "1",
  shaderF16: oneOf<"auto" | "off">("AZR_SHADER_F16", ["auto", "off"], "auto"),
  maxBinding: positiveInteger("AZR_MAX_BINDING"),
  deviceMemory: positiveInteger("AZR_DEVICE_MEMORY"),
} as const;
