// `bun run train`: the self-play trainer (issue 5) runs on the policy model (issue 4), which has not landed yet.
// Until it does, this entry says so plainly instead of failing on a missing module.
console.error(
  "bun run train: not built yet. Self-play training needs the policy model (issue 4) and the trainer (issue 5);\n" +
    "what works today: `bun test`, `bun run executor --help`, `bun run bench executor|kernels`.",
);
process.exit(1);
