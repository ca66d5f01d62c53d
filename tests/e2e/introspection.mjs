// Sends graphql-js's standard introspection query (what GraphiQL, graphql-codegen and
// graphql-inspector send) to a running hub, builds the client schema from the answer and
// compares it with the schema file, both printed by graphql-js in lexicographic order.
// Usage: node introspection.mjs URL SCHEMA_FILE [TOKEN]; exits 1 with the difference.
import { readFileSync } from "node:fs";
import {
  buildClientSchema,
  buildSchema,
  getIntrospectionQuery,
  lexicographicSortSchema,
  printSchema,
} from "graphql";

const [url, schemaFile, token] = process.argv.slice(2);
const headers = { "content-type": "application/json" };
if (token) headers.authorization = `Bearer ${token}`;
const response = await fetch(url, {
  method: "POST",
  headers,
  body: JSON.stringify({ query: getIntrospectionQuery({ descriptions: true }) }),
});
const body = await response.json();
if (response.status !== 200 || body.errors) {
  console.error(`introspection refused: HTTP ${response.status} ${JSON.stringify(body.errors)}`);
  process.exit(1);
}
const printed = (schema) => printSchema(lexicographicSortSchema(schema));
const served = printed(buildClientSchema(body.data));
const file = printed(buildSchema(readFileSync(schemaFile, "utf8")));
if (served !== file) {
  const a = served.split("\n");
  const b = file.split("\n");
  const at = a.findIndex((line, i) => line !== b[i]);
  console.error(`the served schema differs from ${schemaFile} at line ${at + 1}:`);
  console.error(`served: ${a.slice(at, at + 5).join("\n        ")}`);
  console.error(`file:   ${b.slice(at, at + 5).join("\n        ")}`);
  process.exit(1);
}
console.log(`introspection matches ${schemaFile}: ${a_count(served)} types`);

function a_count(sdl) {
  return (sdl.match(/^(type|input|enum|scalar|interface|union) /gm) || []).length;
}
