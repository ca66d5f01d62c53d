//! A grammar-aware fuzzer of GraphQL documents: a few thousand documents drawn with a seeded
//! random generator from GraphQL's grammar and the schema's names (random nesting, operations,
//! fragments and spreads, inline fragments, aliases, arguments of every value kind, variables,
//! directives, batches), some of them broken by a stray token or cut short, posted to a hardened
//! hub. A leak is a server error, an answer slower than the bound, or `/healthz` unanswered.

use crate::common::{backends, Hub};
use crate::probe::{bearer, hardened, Probe};
use futures_util::StreamExt;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// Documents drawn per backend.
const DOCUMENTS: usize = 2_000;

/// Requests in flight at once.
const IN_FLIGHT: usize = 8;

/// Longest the fuzzer posts to one backend; it stops early rather than run longer.
const TIME_PER_BACKEND: Duration = Duration::from_secs(25);

/// Longest a fuzzed request may take to be answered (debug build, shared machine).
const BOUND: Duration = Duration::from_secs(5);

/// Field names of the schema, and a few that are not.
const FIELDS: &[&str] = &[
    "grids",
    "grid",
    "persons",
    "node",
    "nodes",
    "personByIdNumber",
    "stats",
    "children",
    "parent",
    "code",
    "name",
    "id",
    "level",
    "population",
    "households",
    "openEvents",
    "deadlineCompliance",
    "eventsPerDay",
    "eventsByStatus",
    "count",
    "key",
    "edges",
    "cursor",
    "pageInfo",
    "hasNextPage",
    "totalCount",
    "events",
    "houses",
    "places",
    "__typename",
    "__schema",
    "types",
    "fields",
    "__type",
    "auditEntries",
    "imports",
    "nope",
    "x",
];

/// Argument names of the schema, and a few that are not.
const ARGUMENTS: &[&str] = &[
    "first", "last", "after", "before", "code", "id", "ids", "idNumber", "filter", "days", "from",
    "to", "levels", "name", "if", "zzz",
];

/// Type names for fragments and inline fragments.
const TYPES: &[&str] = &[
    "Grid",
    "Person",
    "Event",
    "Query",
    "GridStats",
    "Node",
    "Nope",
];

/// Tokens that break a document.
const JUNK: &[&str] = &[
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    "...",
    "$",
    "@",
    ":",
    "!",
    "=",
    "|",
    "&",
    "\"",
    "\"\"\"",
    "#",
    "\u{0}",
    "\u{feff}",
    "\\u{d800}",
    "1e999999",
    "-0",
    "on",
    "fragment",
    "\r",
    "𝕏",
];

/// Draws documents from the grammar.
struct Grammar {
    rng: SmallRng,
    fragments: usize,
}

impl Grammar {
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.rng.random_range(0..items.len())]
    }

    fn chance(&mut self, p: f64) -> bool {
        self.rng.random_bool(p)
    }

    fn value(&mut self, depth: usize) -> String {
        match self.rng.random_range(0..if depth > 3 { 7 } else { 9 }) {
            0 => self.rng.random_range(-5i64..200).to_string(),
            1 => format!("{}", self.rng.random_range(-1e6..1e6)),
            2 => format!(
                "\"{}\"",
                self.pick(&[
                    "",
                    "x",
                    "2024-01-01T00:00:00Z",
                    "junk",
                    "\\n\\u0041",
                    "110101199003070011"
                ])
            ),
            3 => self.pick(&["true", "false", "null"]).to_string(),
            4 => self
                .pick(&["GRID", "COMMUNITY", "OPEN", "BOGUS"])
                .to_string(),
            5 | 6 => format!("$v{}", self.rng.random_range(0..3)),
            7 => {
                let n = self.rng.random_range(0..4);
                let items: Vec<String> = (0..n).map(|_| self.value(depth + 1)).collect();
                format!("[{}]", items.join(", "))
            }
            _ => {
                let n = self.rng.random_range(0..3);
                let fields: Vec<String> = (0..n)
                    .map(|_| format!("{}: {}", self.pick(ARGUMENTS), self.value(depth + 1)))
                    .collect();
                format!("{{{}}}", fields.join(", "))
            }
        }
    }

    fn directives(&mut self) -> String {
        let n = if self.chance(0.15) {
            self.rng.random_range(1..4)
        } else {
            0
        };
        (0..n)
            .map(|_| {
                let name = self.pick(&["include", "skip", "deprecated", "junk"]);
                format!(" @{name}(if: {})", self.value(3))
            })
            .collect()
    }

    fn arguments(&mut self) -> String {
        if !self.chance(0.4) {
            return String::new();
        }
        let n = self.rng.random_range(1..4);
        let arguments: Vec<String> = (0..n)
            .map(|_| format!("{}: {}", self.pick(ARGUMENTS), self.value(0)))
            .collect();
        format!("({})", arguments.join(", "))
    }

    fn selection_set(&mut self, depth: usize) -> String {
        let n = self.rng.random_range(1..5);
        let items: Vec<String> = (0..n).map(|_| self.selection(depth)).collect();
        format!("{{ {} }}", items.join(" "))
    }

    fn selection(&mut self, depth: usize) -> String {
        match self.rng.random_range(0..10) {
            0 if self.fragments > 0 => format!(
                "...F{}{}",
                self.rng.random_range(0..self.fragments + 1),
                self.directives()
            ),
            1 if depth < 8 => format!(
                "... on {}{} {}",
                self.pick(TYPES),
                self.directives(),
                self.selection_set(depth + 1)
            ),
            _ => {
                let alias = if self.chance(0.3) {
                    format!("a{}: ", self.rng.random_range(0..50))
                } else {
                    String::new()
                };
                let field = self.pick(FIELDS);
                let arguments = self.arguments();
                let directives = self.directives();
                let nested = if depth < 8 && self.chance(0.5) {
                    self.selection_set(depth + 1)
                } else {
                    String::new()
                };
                format!("{alias}{field}{arguments}{directives} {nested}")
            }
        }
    }

    fn variables(&mut self) -> String {
        if !self.chance(0.3) {
            return String::new();
        }
        let types = [
            "Int",
            "String!",
            "[String!]",
            "DateTime",
            "ID!",
            "Boolean",
            "Nope",
        ];
        let definitions: Vec<String> = (0..self.rng.random_range(1..4))
            .map(|i| format!("$v{i}: {}", self.pick(&types)))
            .collect();
        format!("({})", definitions.join(", "))
    }

    fn document(&mut self) -> String {
        self.fragments = self.rng.random_range(0..5);
        let mut parts = Vec::new();
        for i in 0..self.rng.random_range(1..3) {
            let kind = self.pick(&["query", "query", "mutation", "subscription", ""]);
            let head = if kind.is_empty() {
                String::new()
            } else {
                format!("{kind} Op{i}{}{} ", self.variables(), self.directives())
            };
            parts.push(format!("{head}{}", self.selection_set(0)));
        }
        for i in 0..self.fragments {
            let on = self.pick(TYPES);
            parts.push(format!("fragment F{i} on {on} {}", self.selection_set(1)));
        }
        let mut document = parts.join("\n");
        if self.chance(0.15) {
            let at = self.char_boundary(&document);
            document.insert_str(at, self.pick(JUNK));
        }
        if self.chance(0.05) {
            let at = self.char_boundary(&document);
            document.truncate(at);
        }
        document
    }

    fn char_boundary(&mut self, text: &str) -> usize {
        let mut at = self.rng.random_range(0..=text.len());
        while !text.is_char_boundary(at) {
            at -= 1;
        }
        at
    }

    fn request(&mut self) -> Value {
        let variables = json!({"v0": self.value(3), "v1": "junk", "v2": [1, "x", null]});
        if self.chance(0.05) {
            let n = self.rng.random_range(1..6);
            let batch: Vec<Value> = (0..n)
                .map(|_| json!({"query": self.document(), "variables": variables}))
                .collect();
            return json!(batch);
        }
        json!({"query": self.document(), "variables": variables})
    }
}

#[tokio::test]
async fn grammar_fuzz() {
    let mut probe = Probe::new("grammar fuzz");
    for backend in backends() {
        let hub = Hub::start_with(backend, 100, hardened).await;
        let admin = bearer("fuzzer", "admin", None, None);
        let mut grammar = Grammar {
            rng: SmallRng::seed_from_u64(20_261_202),
            fragments: 0,
        };
        let requests: Vec<Value> = (0..DOCUMENTS).map(|_| grammar.request()).collect();
        let deadline = Instant::now() + TIME_PER_BACKEND;
        let hub = &hub;
        let admin = admin.as_str();
        let mut answers = futures_util::stream::iter(requests.into_iter().enumerate())
            .map(|(n, request)| async move {
                let started = Instant::now();
                let (status, _, _) = hub
                    .query_as(&[("Authorization", admin)], request.clone())
                    .await;
                (n, request, status, started.elapsed())
            })
            .buffer_unordered(IN_FLIGHT);
        while let Some((n, request, status, took)) = answers.next().await {
            probe.attempt(
                format!("{backend:?}: document {n}: {status} in {took:?}: {request}"),
                status >= 500 || took > BOUND,
            );
            if n % 250 == 0 {
                let health =
                    tokio::time::timeout(Duration::from_secs(2), hub.get("/healthz")).await;
                probe.attempt(
                    format!("{backend:?}: /healthz after document {n}"),
                    !matches!(health, Ok((200, _))),
                );
            }
            if Instant::now() > deadline {
                break;
            }
        }
    }
    probe.finish();
}
