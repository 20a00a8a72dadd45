export { type Architecture, type ModelConfig, parseHfConfig, toHfConfig } from "./config.ts";
export { type Checkpoint, loadCheckpoint, readConfig, saveCheckpoint } from "./checkpoint.ts";
export { type CheckpointSpec, makeCheckpoint } from "./make.ts";
export { PRESET_NAMES, PRESETS, type PresetName } from "./presets.ts";
export { type DiskDtype, readSafetensorsDir, type TensorMap, writeSafetensors } from "./safetensors.ts";
export { checkWeights, parameterCount, weightSpecs } from "./weights.ts";
