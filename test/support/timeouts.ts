// The per-test timeout of files that compile GPU pipelines (lavapipe JIT-compiles each on its first dispatch: seconds),
// boot interpreters or spawn processes. Bun's 5 s default is too short on a 2-core box, and setDefaultTimeout only
// reaches the file that calls it (a preload or a shared import sets it for the first file alone), so each such file
// calls setDefaultTimeout(SLOW_TEST_MS) itself.
export const SLOW_TEST_MS = 120_000;
