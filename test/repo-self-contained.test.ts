// The repository needs nothing beside it: no tracked file may point at a sibling `shared/` folder or cite the study
// documents that live there, which a user who clones the project does not have. (Cite the reference's own files,
// LeapLabTHU/Absolute-Zero-Reasoner master @ a82124e, or docs/reference.md instead.)
import { expect, test } from "bun:test";
import { spawnSync } from "bun";
import { readFileSync } from "node:fs";
import { join, relative } from "node:path";

const ROOT = join(import.meta.dir, "..");
const SELF = relative(ROOT, import.meta.path);
// Spelled in pieces so this file does not match itself.
const FORBIDDEN = [["..", "/shared"], ["azr", "-spec"], ["sandbox", "-study"], ["executor", "-profile"], ["webgpu", "-study"]].map((p) => p.join(""));

test("no tracked file refers to ../shared or to the study documents kept there", () => {
  const ls = spawnSync(["git", "ls-files", "-z"], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
  if (ls.exitCode !== 0) throw new Error(`git ls-files failed (run the tests from a git checkout): ${ls.stderr.toString()}`);
  const files = ls.stdout.toString().split("\0").filter((f) => f !== "" && f !== SELF);
  expect(files.length).toBeGreaterThan(100);
  const hits: string[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(join(ROOT, file), "latin1");
    } catch {
      continue; // listed but absent in this checkout (e.g. deleted, not yet committed)
    }
    for (const word of FORBIDDEN) if (text.includes(word)) hits.push(`${file}: ${word}`);
  }
  expect(hits).toEqual([]);
});
