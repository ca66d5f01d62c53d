// GraphiQL for gridhub: queries and mutations over POST /graphql, subscriptions over
// /graphql/ws (graphql-transport-ws), both with the headers of GraphiQL's header editor
// (a token, X-Purpose, X-Case-Id), which are never stored in the browser.
import React from "react";
import { createRoot } from "react-dom/client";
import { GraphiQL } from "graphiql";
import { getOperationAST, parse } from "graphql";
import { createClient } from "graphql-ws";
import "graphiql/graphiql.css";

const DEFAULT_QUERY = `# gridhub: the six elements (person, house, place, event, object, organization)
# hung on the grid tree. Open the docs (the book icon) to browse every type and field.
#
# When the hub asks for credentials, put them in the Headers tab below, e.g.
#   {"Authorization": "Bearer <token>", "X-Purpose": "case_handling", "X-Case-Id": "CASE-2026-0001"}
# Subscriptions (eventChanged, overdueEvents, stats) run over /graphql/ws with the same headers.

query Communities {
  grids(filter: {levels: [COMMUNITY]}, first: 5) {
    totalCount
    nodes { code name children { code name } }
  }
}
`;

const socketUrl = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/graphql/ws`;

/** One graphql-ws client per set of headers, which become its connection_init payload. */
const clients = new Map();
function clientFor(headers) {
  const key = JSON.stringify(headers);
  if (!clients.has(key)) {
    clients.set(key, createClient({ url: socketUrl, connectionParams: headers, lazy: true }));
  }
  return clients.get(key);
}

function isSubscription(params) {
  try {
    const operation = getOperationAST(parse(params.query), params.operationName);
    return operation?.operation === "subscription";
  } catch {
    return false;
  }
}

async function post(params, headers) {
  const response = await fetch("/graphql", {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json", ...headers },
    body: JSON.stringify(params),
  });
  return response.json();
}

function fetcher(params, options) {
  const headers = options?.headers ?? {};
  if (isSubscription(params)) {
    return clientFor(headers).iterate(params);
  }
  return post(params, headers);
}

createRoot(document.getElementById("graphiql")).render(
  React.createElement(GraphiQL, {
    fetcher,
    defaultQuery: DEFAULT_QUERY,
    isHeadersEditorEnabled: true,
    shouldPersistHeaders: false,
  }),
);
