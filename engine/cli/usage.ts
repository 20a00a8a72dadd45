// A bad flag, value or path given to a command: the commands print its message with their usage and exit 2.
export class UsageError extends Error {}
