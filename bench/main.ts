// `bun run bench <suite> [args]`: one file per suite (bench/<suite>.ts exporting `main(args)`), each printing a
// table of ratios against baselines measured in the same run and writing JSON into bench/results/.
export {};

const SUITES = ["executor", "fleet", "http", "kernels", "model", "step"] as const;
type Suite = (typeof SUITES)[number];

const [suite, ...rest] = process.argv.slice(2);
if (!suite || !(SUITES as readonly string[]).includes(suite)) {
  console.error(`usage: bun run bench <${SUITES.join("|")}> [options]\n  unknown or missing suite: ${suite ?? "(none)"}`);
  process.exit(2);
}
const mod: { main: (args: string[]) => Promise<void> } = await import(`./${suite as Suite}.ts`);
await mod.main(rest);
process.exit(0);
