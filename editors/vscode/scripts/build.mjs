// Bundles the extension (src/extension.ts → dist/extension.js, `vscode` left to the host) or, with --tests, each
// unit test (test/unit/*.test.ts → out/test/*.test.js) for `node --test`. --production minifies the extension.

import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import * as esbuild from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const tests = process.argv.includes("--tests");
const production = process.argv.includes("--production");

const common = {
  bundle: true,
  platform: "node",
  format: "cjs",
  target: "node20",
  sourcemap: true,
  logLevel: "warning",
  absWorkingDir: root,
};

if (tests) {
  const dir = join(root, "test", "unit");
  const entryPoints = readdirSync(dir)
    .filter((f) => f.endsWith(".test.ts"))
    .map((f) => join(dir, f));
  await esbuild.build({ ...common, entryPoints, outdir: join(root, "out", "test") });
} else {
  await esbuild.build({
    ...common,
    entryPoints: [join(root, "src", "extension.ts")],
    outfile: join(root, "dist", "extension.js"),
    external: ["vscode"],
    minify: production,
    sourcemap: !production,
  });
}
