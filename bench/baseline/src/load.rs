//! Closed-loop load: N workers, each on its own connection, run one query back to back for a
//! fixed time; the latencies of all requests give the throughput and percentiles.

use crate::db::Pool;
use crate::params::Params;
use crate::queries::Query;
use serde::Serialize;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What one worker measured.
#[derive(Default)]
struct Tally {
    latencies_us: Vec<u64>,
    rows: u64,
    errors: u64,
    first_error: Option<String>,
}

impl Tally {
    fn merge(&mut self, other: Tally) {
        self.latencies_us.extend(other.latencies_us);
        self.rows += other.rows;
        self.errors += other.errors;
        self.first_error = self.first_error.take().or(other.first_error);
    }
}

/// The result of one measurement, printed as one JSON line.
#[derive(Debug, Serialize)]
pub struct Report {
    /// Requests completed, failed ones included.
    pub requests: u64,
    /// Requests per second.
    pub rps: f64,
    /// Median latency in milliseconds.
    pub p50_ms: f64,
    /// 99th-percentile latency in milliseconds.
    pub p99_ms: f64,
    /// Requests that failed.
    pub errors: u64,
    /// Rows fetched per request, on average: a check that the queries find data.
    pub rows_per_request: f64,
    /// The first error, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_error: Option<String>,
}

async fn worker(
    pool: Arc<Pool>,
    query: Query,
    params: Arc<Params>,
    start: usize,
    deadline: Instant,
) -> Tally {
    let mut tally = Tally::default();
    let mut conn = match pool.acquire().await {
        Ok(conn) => conn,
        Err(e) => {
            tally.errors += 1;
            tally.first_error = Some(e.to_string());
            return tally;
        }
    };
    let mut n = start;
    while Instant::now() < deadline {
        let began = Instant::now();
        let outcome = query.run(&mut conn, &params, n).await;
        tally.latencies_us.push(began.elapsed().as_micros() as u64);
        match outcome {
            Ok(rows) => tally.rows += rows as u64,
            Err(e) => {
                tally.errors += 1;
                tally.first_error.get_or_insert_with(|| e.to_string());
            }
        }
        n += 1;
    }
    tally
}

/// The latency at quantile `q` of sorted latencies, in milliseconds.
fn percentile_ms(sorted_us: &[u64], q: f64) -> f64 {
    if sorted_us.is_empty() {
        return 0.0;
    }
    let rank = ((sorted_us.len() as f64 * q).ceil() as usize).clamp(1, sorted_us.len());
    sorted_us[rank - 1] as f64 / 1000.0
}

/// Runs `query` from `connections` workers for `duration`; worker `i` starts its rotation of
/// parameters at a different place so that the workers ask for different data.
pub async fn run(
    pool: Pool,
    query: Query,
    params: Params,
    connections: usize,
    duration: Duration,
) -> Report {
    let (pool, params) = (Arc::new(pool), Arc::new(params));
    let began = Instant::now();
    let deadline = began + duration;
    let workers: Vec<_> = (0..connections)
        .map(|i| {
            let start = i * 7919;
            tokio::spawn(worker(pool.clone(), query, params.clone(), start, deadline))
        })
        .collect();
    let mut total = Tally::default();
    for handle in workers {
        match handle.await {
            Ok(tally) => total.merge(tally),
            Err(e) => total.first_error = Some(e.to_string()),
        }
    }
    let elapsed = began.elapsed().as_secs_f64();
    total.latencies_us.sort_unstable();
    let requests = total.latencies_us.len() as u64;
    Report {
        requests,
        rps: requests as f64 / elapsed,
        p50_ms: percentile_ms(&total.latencies_us, 0.50),
        p99_ms: percentile_ms(&total.latencies_us, 0.99),
        errors: total.errors,
        rows_per_request: total.rows as f64 / requests.max(1) as f64,
        first_error: total.first_error,
    }
}
