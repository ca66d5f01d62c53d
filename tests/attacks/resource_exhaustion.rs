//! Resource exhaustion: documents that cost far more to validate or run than to send (fragment
//! bombs, alias floods, deep nesting, directive floods, many variables, huge strings), huge
//! batches and overlong ingest lines. A leak is a request accepted and run past a limit, an
//! answer slower than the bound, a server error, or a `/healthz` probe unanswered meanwhile.

use crate::common::{backends, Backend, Hub};
use crate::probe::{bearer, hardened, Probe};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Longest an attack request may take to be answered (debug build, shared machine).
const BOUND: Duration = Duration::from_secs(5);

/// Probes `/healthz` every 100 ms until stopped; counts the probes unanswered within a second.
struct Health {
    stop: Arc<AtomicBool>,
    missed: Arc<AtomicU32>,
    task: tokio::task::JoinHandle<()>,
}

impl Health {
    fn watch(hub: &Hub) -> Health {
        let (stop, missed) = (
            Arc::new(AtomicBool::new(false)),
            Arc::new(AtomicU32::new(0)),
        );
        let url = format!("{}/healthz", hub.base);
        let (stopped, misses) = (stop.clone(), missed.clone());
        let task = tokio::spawn(async move {
            let client = reqwest::Client::new();
            while !stopped.load(Ordering::Relaxed) {
                let probe = client.get(&url).timeout(Duration::from_secs(1)).send();
                if !matches!(probe.await, Ok(r) if r.status() == 200) {
                    misses.fetch_add(1, Ordering::Relaxed);
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        });
        Health { stop, missed, task }
    }

    async fn missed(self) -> u32 {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.task.await;
        self.missed.load(Ordering::Relaxed)
    }
}

/// Posts `body` to `/graphql`: the status, the JSON answer and how long it took.
async fn post(hub: &Hub, auth: &str, body: Value) -> (u16, Value, Duration) {
    let started = Instant::now();
    let (status, _, answer) = hub.query_as(&[("Authorization", auth)], body).await;
    (status, answer, started.elapsed())
}

/// The beginning of an answer, for a leak's description.
fn short(answer: &Value) -> String {
    answer.to_string().chars().take(300).collect()
}

/// Whether a refused request was nonetheless run or answered badly: data in the answer, no
/// error, a server error, or too slow. A client error status is a refusal.
fn ran(status: u16, answer: &Value, took: Duration) -> bool {
    if (400..500).contains(&status) {
        return took > BOUND;
    }
    let answers = match answer.as_array() {
        Some(batch) => batch.clone(),
        None => vec![answer.clone()],
    };
    let any_data = answers
        .iter()
        .any(|a| a.get("data").is_some_and(|d| !d.is_null()));
    let all_refused = answers.iter().all(|a| a.get("errors").is_some());
    status >= 500 || took > BOUND || any_data || !all_refused
}

/// Fragments F0 … F`levels`, each spreading the next `fan` times.
fn fragment_bomb(levels: usize, fan: usize, inline: bool) -> String {
    let mut doc = String::from("query { grids(first: 1) { nodes { ...F0 } } }\n");
    for level in 0..levels {
        let spread = format!("...F{}", level + 1);
        let spreads = if inline {
            vec![format!("... on Grid {{ {spread} }}"); fan].join(" ")
        } else {
            vec![spread; fan].join(" ")
        };
        doc.push_str(&format!("fragment F{level} on Grid {{ code {spreads} }}\n"));
    }
    doc.push_str(&format!("fragment F{levels} on Grid {{ code name }}\n"));
    doc
}

/// Documents each of which is over a limit, with what they try.
fn over_limit_documents() -> Vec<(String, String)> {
    let mut documents = Vec::new();
    for (levels, fan) in [(12, 2), (20, 2), (40, 2), (10, 4), (8, 8), (30, 3)] {
        for inline in [false, true] {
            documents.push((
                format!("fragment bomb {levels}x{fan} inline={inline}"),
                fragment_bomb(levels, fan, inline),
            ));
        }
    }
    let alias =
        |n: usize, field: &str| -> String { (0..n).map(|i| format!("a{i}: {field} ")).collect() };
    documents.push((
        "1000 aliases of deadlineCompliance".into(),
        format!(
            "{{ grids(first: 1) {{ nodes {{ stats {{ {} }} }} }} }}",
            alias(1000, "deadlineCompliance")
        ),
    ));
    documents.push((
        "500 aliases of eventsPerDay".into(),
        format!(
            "{{ grids(first: 1) {{ nodes {{ stats {{ {} }} }} }} }}",
            alias(500, "eventsPerDay(days: 366)")
        ),
    ));
    documents.push((
        "3000 aliased lookups".into(),
        format!(
            "{{ {} }}",
            alias(
                3000,
                "personByIdNumber(idNumber: \"110101199003070011\") { id }"
            )
        ),
    ));
    documents.push((
        "deep selection nesting".into(),
        format!(
            "{{ grids(first: 1) {{ nodes {{ {}code{} }} }} }}",
            "parent { ".repeat(60),
            " }".repeat(60)
        ),
    ));
    documents.push(("100,000 open braces".into(), "{ a ".repeat(100_000)));
    documents.push((
        "deeply nested list argument".into(),
        format!(
            "{{ nodes(ids: {}\"x\"{}) {{ id }} }}",
            "[".repeat(5_000),
            "]".repeat(5_000)
        ),
    ));
    documents.push((
        "directive flood".into(),
        format!("{{ __typename {} }}", "@include(if: true) ".repeat(200)),
    ));
    let variables: String = (0..6_000).map(|i| format!("$v{i}: Int ")).collect();
    documents.push((
        "6,000 variable definitions".into(),
        format!("query({variables}) {{ __typename }}"),
    ));
    let fragments: String = (0..500)
        .map(|i| format!("fragment U{i} on Grid {{ code }} "))
        .collect();
    documents.push((
        "500 fragments".into(),
        format!("{{ __typename }} {fragments}"),
    ));
    documents.push((
        "spread cycle".into(),
        "{ grids(first: 1) { nodes { ...A } } } fragment A on Grid { ...B } fragment B on Grid { code ...A }".into(),
    ));
    documents
}

async fn hardened_hub(backend: Backend) -> Hub {
    Hub::start_with(backend, 300, hardened).await
}

#[tokio::test]
async fn resource_exhaustion() {
    let mut probe = Probe::new("resource exhaustion");
    for backend in backends() {
        let hub = hardened_hub(backend).await;
        let health = Health::watch(&hub);
        let callers = [
            bearer("re-admin", "admin", None, None),
            bearer("re-centre", "command_centre", None, None),
            bearer("re-police", "department", Some("police"), None),
        ];
        for (what, document) in over_limit_documents() {
            for auth in &callers {
                let (status, answer, took) = post(&hub, auth, json!({ "query": document })).await;
                probe.attempt(
                    format!(
                        "{backend:?}: {what}: {status} in {took:?}: {}",
                        short(&answer)
                    ),
                    ran(status, &answer, took),
                );
            }
        }
        batches(&hub, &callers[0], &mut probe, backend).await;
        huge_strings(&hub, &callers[0], &mut probe, backend).await;
        long_lines(&hub, &mut probe, backend).await;
        let missed = health.missed().await;
        probe.attempt(
            format!("{backend:?}: /healthz unanswered {missed} times during the attacks"),
            missed > 0,
        );
    }
    probe.finish();
}

/// Huge batches, and batches within the size limit whose operations together exceed the
/// complexity budget.
async fn batches(hub: &Hub, auth: &str, probe: &mut Probe, backend: Backend) {
    let heavy = json!({"query": "{ grids(first: 100) { nodes { stats { deadlineCompliance eventsPerDay(days: 366) eventsByStatus { count } } } } }"});
    for n in [21, 100, 2_000] {
        let (status, answer, took) = post(hub, auth, json!(vec![heavy.clone(); n])).await;
        probe.attempt(
            format!("{backend:?}: batch of {n} heavy queries: {status} in {took:?}"),
            ran(status, &answer, took),
        );
    }
    let pages: String = (0..60)
        .map(|i| format!("p{i}: persons(first: 100) {{ nodes {{ name }} }} "))
        .collect();
    let half = json!({ "query": format!("{{ {pages} }}") });
    let (status, answer, took) = post(hub, auth, json!(vec![half; 20])).await;
    let ran_all = answer
        .as_array()
        .is_some_and(|batch| batch.len() == 20 && batch.iter().all(|a| a.get("errors").is_none()));
    probe.attempt(
        format!(
            "{backend:?}: 20 operations of 12,000 complexity in one batch: {status} in {took:?}"
        ),
        ran_all || status >= 500 || took > BOUND,
    );
}

/// Strings close to the body limit, and a body over it.
async fn huge_strings(hub: &Hub, auth: &str, probe: &mut Probe, backend: Backend) {
    for (what, size) in [("900 KB", 900_000), ("2 MB", 2_000_000)] {
        let query = format!(
            "{{ personByIdNumber(idNumber: \"{}\") {{ id }} }}",
            "1".repeat(size)
        );
        let (status, answer, took) = post(hub, auth, json!({ "query": query })).await;
        probe.attempt(
            format!("{backend:?}: {what} string argument: {status} in {took:?}"),
            ran(status, &answer, took),
        );
        let variables = json!({"query": "query($n: String!) { personByIdNumber(idNumber: $n) { id } }", "variables": {"n": "9".repeat(size)}});
        let (status, answer, took) = post(hub, auth, variables).await;
        probe.attempt(
            format!("{backend:?}: {what} string variable: {status} in {took:?}"),
            ran(status, &answer, took),
        );
    }
}

/// Pushes `body` to `/ingest/police` as the police system: the status, the answer and the time.
async fn push(hub: &Hub, format: &str, body: Vec<u8>) -> (u16, Value, Duration) {
    let auth = bearer("re-police-push", "department", Some("police"), None);
    let started = Instant::now();
    let response = reqwest::Client::new()
        .post(format!("{}/ingest/police?format={format}", hub.base))
        .header("Authorization", auth)
        .body(body)
        .send()
        .await
        .expect("push");
    let status = response.status().as_u16();
    let answer = response.json().await.unwrap_or(Value::Null);
    (status, answer, started.elapsed())
}

/// A 32 MiB NDJSON line among good ones, a 32 MiB CSV line, and a 1 MiB value.
async fn long_lines(hub: &Hub, probe: &mut Probe, backend: Backend) {
    let huge = "9".repeat(32 << 20);
    let good = |n: u32| {
        format!("{{\"id_number\": \"11010119900307{n:04}\", \"name\": \"王五\", \"grid_code\": \"g\"}}\n")
    };
    let ndjson = format!(
        "{}{{\"id_number\": \"{huge}\", \"name\": \"x\"}}\n{}",
        good(1),
        good(2)
    );
    let (status, answer, took) = push(hub, "ndjson", ndjson.into_bytes()).await;
    let refused_line = answer["rejections"].as_array().is_some_and(|r| {
        r.iter()
            .any(|r| r.to_string().contains("longer than the limit"))
    });
    probe.attempt(
        format!(
            "{backend:?}: 32 MiB NDJSON line: {status} in {took:?}: {}",
            short(&answer)
        ),
        !refused_line || status >= 500,
    );
    let csv = format!("身份证号,姓名,网格编码\n1,{huge},g\n");
    let (status, answer, took) = push(hub, "csv", csv.into_bytes()).await;
    let refused = answer.to_string().contains("longer than the limit");
    probe.attempt(
        format!(
            "{backend:?}: 32 MiB CSV line: {status} in {took:?}: {}",
            short(&answer)
        ),
        !refused || status >= 500,
    );
    let value = "8".repeat(1 << 20);
    let ndjson = format!(
        "{}{{\"id_number\": \"1\", \"name\": \"{value}\"}}\n",
        good(3)
    );
    let (status, answer, took) = push(hub, "ndjson", ndjson.into_bytes()).await;
    let refused = answer.to_string().contains("longer than the limit");
    probe.attempt(
        format!(
            "{backend:?}: 1 MiB value: {status} in {took:?}: {}",
            short(&answer)
        ),
        !refused || status >= 500,
    );
}
