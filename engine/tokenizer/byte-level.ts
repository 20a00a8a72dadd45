// GPT-2's byte-level alphabet: every byte 0..255 gets a printable stand-in character so that byte-level BPE
// vocabularies can be stored as text. Printable Latin-1 bytes stand for themselves; the rest map to U+0100.. in order.

function buildByteToChar(): string[] {
  const table: string[] = new Array(256);
  let next = 256;
  for (let byte = 0; byte < 256; byte++) {
    const printable =
      (byte >= 0x21 && byte <= 0x7e) || (byte >= 0xa1 && byte <= 0xac) || (byte >= 0xae && byte <= 0xff);
    table[byte] = String.fromCharCode(printable ? byte : next++);
  }
  return table;
}

/** `BYTE_TO_CHAR[b]` is the one-character stand-in for byte `b`. */
export const BYTE_TO_CHAR: readonly string[] = buildByteToChar();

const CHAR_TO_BYTE: ReadonlyMap<string, number> = new Map(BYTE_TO_CHAR.map((ch, byte) => [ch, byte]));

/** The stand-in text of a byte sequence (how the vocabulary spells it). */
export function bytesToSymbols(bytes: Uint8Array): string {
  let text = "";
  for (const byte of bytes) text += BYTE_TO_CHAR[byte];
  return text;
}

/**
 * The bytes a vocabulary token stands for. Like the Hugging Face ByteLevel decoder, a token with any character outside
 * the alphabet (an added token such as "<tool call>" with a space) is taken as its own UTF-8 text instead.
 */
export function symbolsToBytes(token: string): Uint8Array {
  const bytes = new Uint8Array(token.length);
  for (let i = 0; i < token.length; i++) {
    const byte = CHAR_TO_BYTE.get(token[i]);
    if (byte === undefined) return new TextEncoder().encode(token);
    bytes[i] = byte;
  }
  return bytes;
}
