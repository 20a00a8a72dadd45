export {
  type DecodeOptions,
  type EncodeOptions,
  type SpecialIds,
  Tokenizer,
  TOKENIZER_CONFIG_FILE,
  TOKENIZER_FILE,
} from "./tokenizer.ts";
export { StreamDecoder } from "./stream-decoder.ts";
export { UnsupportedPatternError } from "./onig-regex.ts";
