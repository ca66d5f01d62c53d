// Writes src/graphiql/LICENSES.txt: the name, version, licence and licence text of every npm
// package that esbuild put into the bundle (read from its metafile).
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const meta = JSON.parse(readFileSync("node_modules/.graphiql-meta.json", "utf8"));
const packages = new Set();
for (const input of Object.keys(meta.inputs)) {
  const match = input.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/g);
  if (match) packages.add(match[match.length - 1].replace("node_modules/", ""));
}

function licenceText(dir) {
  const file = readdirSync(dir).find((name) => /^(licen[cs]e|copying)/i.test(name));
  return file ? readFileSync(join(dir, file), "utf8").trim() : "(no licence file in the package)";
}

const sections = [...packages].sort().map((name) => {
  const dir = join("node_modules", name);
  const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
  const text = existsSync(dir) ? licenceText(dir) : "";
  return `${name} ${manifest.version} (${manifest.license})\n\n${text}\n`;
});
const header =
  "Third-party packages bundled into graphiql.js and graphiql.css, served by gridhub at /.\n" +
  "Built from the npm registry by web/graphiql (npm ci && npm run build).\n";
writeFileSync("../../src/graphiql/LICENSES.txt", `${header}\n${sections.join("\n" + "-".repeat(72) + "\n\n")}`);
console.log(`LICENSES.txt: ${packages.size} packages`);
