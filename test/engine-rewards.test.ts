// Every reward rule of docs/reference.md §4, table-driven.
import { describe, expect, test } from "bun:test";
import { proposerReward, solveRate } from "../engine/rewards/proposer.ts";
import { inductionAccuracy, solverReward } from "../engine/rewards/solver.ts";

describe("solverReward", () => {
  test.each([
    ["bad tags: −1 whatever the answer", false, 1, -1],
    ["bad tags and wrong", false, 0, -1],
    ["right", true, 1, 1],
    ["wrong: −0.5", true, 0, -0.5],
    ["induction accuracy mode, partly right", true, 0.4, 0.4],
  ])("%s", (_n, formatOk, accuracy, want) => expect(solverReward({ formatOk, accuracy })).toBe(want));
});

describe("inductionAccuracy", () => {
  test.each([
    [[true, true, true, true, true], "binary", 1],
    [[true, true, true, true, false], "binary", 0],
    [[true, true, true, true, false], "accuracy", 0.8],
    [[false, false], "accuracy", 0],
    [[], "binary", 0],
  ] as const)("%j %s → %p", (passes, mode, want) => expect(inductionAccuracy(passes, mode)).toBe(want));
});

describe("solveRate", () => {
  test.each([
    [[true, false, false, false, true, false, false, false], 0.25],
    [[true, true], 1],
    [[false, null, true], 0.5],
    [[null, null], null],
    [[1, 0.6, null], 0.8],
    [[], null],
  ] as const)("%j → %p", (verdicts, want) => expect(solveRate(verdicts)).toBe(want));
});

describe("proposerReward", () => {
  const base = { valid: true, formatOk: true, solveRate: 0.5, extremeValue: -0.5 };
  test.each([
    ["invalid: −1", { valid: false }, -1],
    ["invalid even when learnable", { valid: false, solveRate: 0.25 }, -1],
    ["valid but tags fail: −1", { formatOk: false }, -1],
    ["learnability 1 − s", { solveRate: 0.125 }, 0.875],
    ["s = 7/8", { solveRate: 0.875 }, 0.125],
    ["never solved: reference −0.5", { solveRate: 0 }, -0.5],
    ["always solved: reference −0.5", { solveRate: 1 }, -0.5],
    ["never solved: paper 0", { solveRate: 0, extremeValue: 0 }, 0],
    ["always solved: paper 0", { solveRate: 1, extremeValue: 0 }, 0],
    ["no verdicts: extreme value", { solveRate: null }, -0.5],
  ] as const)("%s", (_n, patch, want) => expect(proposerReward({ ...base, ...patch })).toBe(want));
});
