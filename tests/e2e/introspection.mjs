// Sends graphql-js's standard introspection query (what GraphiQL, graphql-codegen and
// graphql-inspector send) to a running hub, builds the client schema from the answer and
// compares it with the schema file, both printed by graphql-js in lexicographic order; and
// every type, field, argument and enum value must carry a description for GraphiQL to show.
// Usage: node introspection.mjs URL SCHEMA_FILE [TOKEN]; exits 1 with the difference.
import { readFileSync } from "node:fs";
import {
  buildClientSchema,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isObjectType,
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
const undescribed = undocumented(buildClientSchema(body.data));
if (undescribed.length > 0) {
  console.error(`${undescribed.length} without a description: ${undescribed.slice(0, 20).join(", ")}`);
  process.exit(1);
}
const types = Object.keys(buildClientSchema(body.data).getTypeMap()).length;
console.log(`introspection matches ${schemaFile}: ${types} types, every one described`);

// Types, fields, arguments and enum values of the schema's own types that have no description.
function undocumented(schema) {
  const missing = [];
  for (const type of Object.values(schema.getTypeMap())) {
    if (type.name.startsWith("__")) continue;
    if (!type.description) missing.push(type.name);
    if (isEnumType(type)) {
      for (const value of type.getValues()) {
        if (!value.description) missing.push(`${type.name}.${value.name}`);
      }
    }
    if (isObjectType(type) || isInterfaceType(type) || isInputObjectType(type)) {
      for (const field of Object.values(type.getFields())) {
        if (!field.description) missing.push(`${type.name}.${field.name}`);
        for (const arg of field.args ?? []) {
          if (!arg.description) missing.push(`${type.name}.${field.name}(${arg.name})`);
        }
      }
    }
  }
  return missing;
}
