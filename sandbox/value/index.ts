// Plain Python values on the host: the byte format the guest returns, Python `==`, literal parsing and repr.
export * from "./types.ts";
export { decodeValue, encodeValue, DecodeError, EncodeError, type DecodeFault } from "./codec.ts";
export { pyEqual } from "./equal.ts";
export { parseLiteral, parseArguments, type Arguments, type LiteralOptions } from "./literal.ts";
export { NotLiteral, type NotLiteralReason } from "./errors.ts";
export { pyRepr } from "./repr.ts";
