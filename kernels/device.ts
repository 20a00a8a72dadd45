// The one Dawn WebGPU context of the process.
//
//   const gpu = await getGpu();      // first call creates it (and prints the adapter once to stderr); later calls reuse it
//   gpu.device                       // GPUDevice with the adapter's full limits (not WebGPU's low defaults)
//   gpu.isSoftware                   // true on lavapipe/llvmpipe (picks the matmul variant, among others)
//   gpu.shaderF16                    // the adapter has `shader-f16` (requested then): f16 tensors can be bound
//   requireShaderF16("weights f16")  // throws, naming the adapter, when it does not
//   requireGpu()                     // the same context, synchronously, once getGpu() has resolved
//   bindingLimit()                   // the most bytes one tensor (one binding) may hold; larger ones shard
//   capBindingLimit(64 << 10)        // lower it (tests force sharding on a tiny model; AZR_MAX_BINDING does the same)
//
// Lifetime: process. The GPU object from `create()` is pinned in this module: if it were collected, Dawn's event
// pump would crash the process (SIGSEGV in InstanceBase::ProcessEvents). Never destroy the device; CLI entry points
// end with `process.exit(0)`.
import { create, globals } from "webgpu";
import { flags } from "./flags.ts";

// GPUBufferUsage, GPUMapMode, ... as globals, the way a browser provides them.
Object.assign(globalThis, globals);

export interface Gpu {
  readonly device: GPUDevice;
  readonly adapterInfo: GPUAdapterInfo;
  /** A CPU rasteriser (lavapipe): no fast workgroup memory, barriers are costly, first dispatch JIT-compiles. */
  readonly isSoftware: boolean;
  readonly limits: GPUSupportedLimits;
  /** The device has WebGPU's `shader-f16` feature: kernels may bind f16 buffers (requested whenever the adapter has it). */
  readonly shaderF16: boolean;
  /** One line naming the adapter, as printed at start-up. */
  readonly description: string;
}

const NO_ADAPTER_HELP =
  "no WebGPU adapter found. Either install a GPU driver with Vulkan support, or Mesa >= 25 lavapipe " +
  "(Debian bookworm: `./setup.sh` installs mesa-vulkan-drivers from bookworm-backports), and the Vulkan loader " +
  "(libvulkan1). Check with `vulkaninfo --summary`.";

// Pinned for the process lifetime (see the header).
let instance: GPU | undefined;
let pending: Promise<Gpu> | undefined;

let opened: Gpu | undefined;

/** The process-wide GPU context; created on first call. */
export function getGpu(): Promise<Gpu> {
  pending ??= open().then((gpu) => (opened = gpu));
  return pending;
}

/** The context once `await getGpu()` has returned; tensors and dispatches use it so that they can be built synchronously. */
export function requireGpu(): Gpu {
  if (!opened) throw new Error("kernels: no GPU context yet: call `await getGpu()` once before creating tensors or dispatches");
  return opened;
}

// The cap below the adapter's limits: AZR_MAX_BINDING, or capBindingLimit().
let bindingCap = flags.maxBinding ?? Infinity;

/**
 * The most bytes one storage buffer may hold and be bound: the adapter's maxStorageBufferBindingSize and
 * maxBufferSize, under the cap. Tensors allocate within it; what is larger is split into shards (shards.ts).
 */
export function bindingLimit(): number {
  const { limits } = requireGpu();
  return Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize, bindingCap);
}

/**
 * Caps bindingLimit() at `bytes` for tensors and dispatches built from now on (undefined: back to AZR_MAX_BINDING or
 * none). Tests use it to run the sharded paths of a tiny model; a model built under one cap must not be used under
 * another.
 */
export function capBindingLimit(bytes: number | undefined): void {
  if (bytes !== undefined && !(Number.isSafeInteger(bytes) && bytes >= 16)) throw new Error(`capBindingLimit: ${bytes} is not a whole number of bytes >= 16`);
  bindingCap = bytes ?? flags.maxBinding ?? Infinity;
}

async function open(): Promise<Gpu> {
  instance = create(flags.dawnFlags);
  const adapter = await pickAdapter(instance);
  const requiredLimits = copyLimits(adapter.limits);
  const shaderF16 = adapter.features.has("shader-f16") && flags.shaderF16 === "auto";
  const requiredFeatures: GPUFeatureName[] = shaderF16 ? ["shader-f16"] : [];
  const device = await adapter.requestDevice({ requiredLimits, requiredFeatures, label: "azr" });
  device.lost.then((info) => {
    if (info.reason !== "destroyed") console.error(`kernels: GPU device lost (${info.reason}): ${info.message}`);
  });
  device.addEventListener("uncapturederror", (ev) => {
    console.error(`kernels: uncaptured WebGPU error: ${(ev as GPUUncapturedErrorEvent).error.message}`);
  });
  const info = adapter.info;
  const isSoftware = info.architecture === "software" || info.isFallbackAdapter || /llvmpipe|lavapipe/i.test(info.device);
  const description = `${info.vendor || "?"} ${info.device || info.description || "?"} (${info.description}; ${
    isSoftware ? "software" : "hardware"
  }${shaderF16 ? "; shader-f16" : ""})`;
  if (!flags.quiet) console.error(`kernels: WebGPU adapter ${description}`);
  return { device, adapterInfo: info, isSoftware, limits: device.limits, shaderF16, description };
}

/**
 * Throws unless the device can run f16 kernels: `what` (e.g. "model.weightDtype f16") needs `shader-f16`. On NVIDIA
 * drivers before 615 Dawn hides it unless AZR_DAWN_FLAGS carries the toggle `vulkan_enable_f16_on_nvidia`.
 */
export function requireShaderF16(what: string): void {
  const gpu = requireGpu();
  if (!gpu.shaderF16) {
    throw new Error(
      `${what} needs the WebGPU feature shader-f16, which this adapter (${gpu.description}) does not offer; use f32 ` +
        "(on NVIDIA drivers before 615, AZR_DAWN_FLAGS=enable-dawn-features=vulkan_enable_f16_on_nvidia may expose it)",
    );
  }
}

async function pickAdapter(gpu: GPU): Promise<GPUAdapter> {
  const wanted: GPURequestAdapterOptions[] =
    flags.adapter === "software"
      ? [{ forceFallbackAdapter: true }]
      : [{ powerPreference: "high-performance" }, { forceFallbackAdapter: true }];
  for (const options of wanted) {
    const adapter = await gpu.requestAdapter(options);
    if (adapter) return adapter;
  }
  throw new Error(`kernels: ${NO_ADAPTER_HELP}`);
}

/** adapter.limits as a plain record: requestDevice() would otherwise grant WebGPU's (much lower) defaults. */
function copyLimits(limits: GPUSupportedLimits): Record<string, number> {
  const out: Record<string, number> = {};
  for (const key in limits) {
    const value = (limits as unknown as Record<string, unknown>)[key];
    if (typeof value === "number") out[key] = value;
  }
  return out;
}
