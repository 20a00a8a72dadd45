// Incremental decoding for generation: text is released as soon as its UTF-8 bytes are complete, so stop strings can
// be checked on text while a character split across tokens (an emoji, CJK) waits for its last byte. The pieces
// concatenate to exactly what a one-shot decode of all the ids gives (the WHATWG streaming decoder guarantees it).

/** Bytes of one id, or null for an id that decodes to nothing (a skipped special token). */
export type IdBytes = (id: number) => Uint8Array | null;

export class StreamDecoder {
  private readonly utf8 = new TextDecoder("utf-8", { ignoreBOM: true });

  constructor(private readonly bytesOf: IdBytes) {}

  /** The text completed by this token (often "", or more than the token's own characters). */
  push(id: number): string {
    const bytes = this.bytesOf(id);
    return bytes === null ? "" : this.utf8.decode(bytes, { stream: true });
  }

  /** Whatever is left (U+FFFD for an unfinished character); the decoder can then start a new text. */
  end(): string {
    return this.utf8.decode();
  }
}
