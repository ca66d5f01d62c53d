//! Prometheus metrics served at `/metrics`: GraphQL requests, errors and latency by operation
//! name; SQL statements and their latency; connection-pool usage; the audit log's health.

use metrics::{counter, gauge, histogram};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Histogram buckets in seconds, from a millisecond to five seconds.
const LATENCY_BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

/// The process-wide recorder, installed on first use.
pub fn handle() -> PrometheusHandle {
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets(&LATENCY_BUCKETS)
                .expect("bucket list is not empty")
                .build_recorder();
            let handle = recorder.handle();
            if metrics::set_global_recorder(recorder).is_err() {
                tracing::warn!("another metrics recorder is installed; /metrics stays empty");
            }
            handle
        })
        .clone()
}

/// The operation name as a label: client-chosen names become labels only when they look like
/// names (1–64 ASCII letters, digits or underscores), so that labels stay few and safe.
fn operation_label(operation: Option<&str>) -> String {
    match operation {
        Some(name)
            if (1..=64).contains(&name.len())
                && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') =>
        {
            name.to_string()
        }
        Some(_) => "invalid".to_string(),
        None => "anonymous".to_string(),
    }
}

/// Records one GraphQL request of `operation` that took `seconds` and whether it had errors.
pub fn graphql_request(operation: Option<&str>, seconds: f64, had_errors: bool) {
    let operation = operation_label(operation);
    counter!("gridhub_graphql_requests_total", "operation" => operation.clone()).increment(1);
    if had_errors {
        counter!("gridhub_graphql_errors_total", "operation" => operation.clone()).increment(1);
    }
    histogram!("gridhub_graphql_request_duration_seconds", "operation" => operation)
        .record(seconds);
}

/// Records one SQL statement that took `seconds`.
pub fn sql_statement(seconds: f64, failed: bool) {
    counter!("gridhub_sql_statements_total").increment(1);
    if failed {
        counter!("gridhub_sql_errors_total").increment(1);
    }
    histogram!("gridhub_sql_statement_duration_seconds").record(seconds);
}

/// Records the size of the connection pool and how many of its connections are idle.
pub fn pool_usage(size: u32, idle: usize) {
    gauge!("gridhub_db_pool_connections").set(f64::from(size));
    gauge!("gridhub_db_pool_idle_connections").set(idle as f64);
}

/// Records whether the audit log is being written (1) or full reads are refused because it
/// cannot be (0).
pub fn audit_healthy(healthy: bool) {
    gauge!("gridhub_audit_healthy").set(if healthy { 1.0 } else { 0.0 });
}

/// Records one failed attempt to write audit entries.
pub fn audit_write_failed() {
    counter!("gridhub_audit_write_failures_total").increment(1);
}

/// Records one audit entry lost because the backlog was full or the writer had stopped.
pub fn audit_entry_dropped() {
    counter!("gridhub_audit_entries_dropped_total").increment(1);
}

/// Records one failed attempt to append an audit checkpoint.
pub fn audit_checkpoint_failed() {
    counter!("gridhub_audit_checkpoint_failures_total").increment(1);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_name_like_operations_become_labels() {
        assert_eq!(operation_label(Some("PersonCard")), "PersonCard");
        assert_eq!(operation_label(Some("a b")), "invalid");
        assert_eq!(operation_label(Some(&"x".repeat(65))), "invalid");
        assert_eq!(operation_label(None), "anonymous");
    }
}
