// The sample browser: for one step and one (task, role), the proposals with their programs, inputs/outputs and
// validity verdicts, or the solver's answers with their verdicts and rewards (samples.jsonl, engine/trainer/samples.ts).
import type { AnswerSample, ProposalSample, Sample } from "../../engine/trainer/samples.ts";
import type { PosedProgram } from "../../engine/tasks/types.ts";
import { fmt, h } from "./dom.ts";

const verdict = (ok: boolean, yes: string, no: string) => h("span", { class: ok ? "ok" : "bad" }, ok ? `✓ ${yes}` : `✗ ${no}`);

function programView(p: PosedProgram["program"]): HTMLElement {
  const io =
    "inputs" in p
      ? h(
          "table",
          { class: "io" },
          h("tr", {}, h("th", {}, "input"), h("th", {}, "output")),
          ...p.inputs.map((inp, i) => h("tr", {}, h("td", {}, h("code", {}, inp)), h("td", {}, h("code", {}, p.outputs[i] ?? "")))),
        )
      : h("table", { class: "io" }, h("tr", {}, h("th", {}, "input"), h("td", {}, h("code", {}, p.input))), h("tr", {}, h("th", {}, "output"), h("td", {}, h("code", {}, p.output))));
  return h(
    "div",
    { class: "program" },
    h("pre", {}, [...p.imports, p.snippet].join("\n")),
    io,
    "message" in p && p.message ? h("p", { class: "message" }, `message: ${p.message}`) : null,
    h("p", { class: "muted" }, p.step === 0 ? "from the seed buffer" : `added at step ${p.step}`),
  );
}

function proposalCard(s: ProposalSample, i: number): HTMLElement {
  return h(
    "article",
    { class: "sample" },
    h(
      "header",
      {},
      h("b", {}, `proposal ${i + 1}`),
      verdict(s.valid, "valid", "invalid"),
      verdict(s.formatOk, "format", "format"),
      h("span", {}, `solve rate ${fmt(s.solveRate)}`),
      h("span", {}, `reward ${fmt(s.reward)}`),
    ),
    s.program ? programView(s.program) : h("p", { class: "bad" }, `why invalid: ${s.reason ?? "?"}`),
    h("details", {}, h("summary", {}, "model response"), h("pre", {}, s.response)),
  );
}

function answerCard(s: AnswerSample, i: number): HTMLElement {
  return h(
    "article",
    { class: "sample" },
    h("header", {}, h("b", {}, `answer ${i + 1}`), verdict(s.correct, "correct", "wrong"), verdict(s.formatOk, "format", "format"), h("span", {}, `reward ${fmt(s.reward)}`)),
    h("details", {}, h("summary", {}, "task posed"), programView(s.program)),
    h("pre", {}, s.response),
  );
}

export function samplesView(samples: readonly Sample[], task: string, role: string): HTMLElement {
  const mine = samples.filter((s) => s.task === task && s.role === role);
  if (mine.length === 0) return h("p", { class: "muted" }, `no ${task}/${role} samples at this step`);
  return h("div", { class: "samples" }, ...mine.map((s, i) => (s.role === "propose" ? proposalCard(s, i) : answerCard(s, i))));
}
