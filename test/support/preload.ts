// Loaded before every test file (bunfig.toml [test].preload): lavapipe JIT-compiles each pipeline on its first
// dispatch (seconds) and the sandbox boots interpreters, so the 5 s default per test is too short on a 2-core box.
import { setDefaultTimeout } from "bun:test";

setDefaultTimeout(120_000);
