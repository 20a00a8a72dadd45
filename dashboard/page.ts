// The page as one HTML document: the bundled script (page/app.ts and uPlot, built by Bun's bundler) and the CSS
// inlined, so the served page and an exported report are the same file and neither needs the network.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { StaticData } from "./api.ts";

const PAGE_DIR = join(import.meta.dir, "page");

let built: Promise<{ js: string; css: string }> | null = null;

/** The page's script and style sheet (built once per process). */
function pageAssets(): Promise<{ js: string; css: string }> {
  built ??= (async () => {
    const out = await Bun.build({ entrypoints: [join(PAGE_DIR, "app.ts")], target: "browser", minify: true, format: "esm" });
    if (!out.success) throw new Error(`dashboard page failed to build:\n${out.logs.map(String).join("\n")}`);
    const js = await out.outputs[0].text();
    const css = readFileSync(Bun.resolveSync("uplot/dist/uPlot.min.css", import.meta.dir), "utf8") + readFileSync(join(PAGE_DIR, "style.css"), "utf8");
    return { js, css };
  })();
  return built;
}

/** Inline-script safe: "</script" or "<!--" inside the text cannot end the element early. */
const scriptSafe = (text: string): string => text.replace(/<(\/script|!--)/gi, "\\x3c$1");
/** JSON as a JS expression that is also inline-script safe (every "<" escaped; U+2028/9 are valid JS since ES2019). */
const jsonSafe = (data: unknown): string => JSON.stringify(data).replace(/</g, "\\u003c");

export async function pageHtml(title: string, data: StaticData | null): Promise<string> {
  const { js, css } = await pageAssets();
  const esc = title.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc}</title>
<style>${css.replace(/<\/style/gi, "<\\/style")}</style>
</head>
<body>
<div id="app"></div>
${data ? `<script>window.__AZR_DASHBOARD__ = ${jsonSafe(data)};</script>` : ""}
<script type="module">${scriptSafe(js)}</script>
</body>
</html>
`;
}
