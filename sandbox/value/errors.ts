// The error of the literal parser: what it refused, where, and whether a guest could still evaluate the text.

export type NotLiteralReason =
  | "rejected" // ast.literal_eval refuses it too (a syntax error, a name, a call, an operator, an unhashable member)
  | "not_plain" // a literal outside plain data (Ellipsis)
  | "unsupported" // Python accepts it but this parser does not evaluate it (\N{...}; a str JS cannot hold)
  | "limit"; // over the caps in LIMITS (nesting, values, int digits)

/** Thrown by `parseLiteral` and `parseArguments`; a caller that may run guest code can fall back to it. */
export class NotLiteral extends Error {
  constructor(
    readonly reason: NotLiteralReason,
    readonly offset: number,
    detail: string,
  ) {
    super(`not a literal (${reason}) at offset ${offset}: ${detail}`);
    this.name = "NotLiteral";
  }
}
