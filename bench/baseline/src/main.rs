//! `gridhub-bench`: the Rust half of gridhub's read-path benchmark. `sample` draws the request
//! parameters of the query mix from a seeded dataset; `baseline` fetches the same data as the
//! GraphQL queries with hand-written SQL under concurrent load, so that gridhub's overhead can be
//! given as a ratio measured in the same run. `bench/run.sh` drives both. `subscribers` measures
//! the live feed's latency with many WebSocket subscribers (`bench/subscribers.sh`).

mod db;
mod load;
mod params;
mod queries;
mod subscribers;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Benchmark helper for gridhub: parameter sampling and the hand-written SQL baseline.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Draw deterministic request parameters from a dataset and write them as JSON.
    Sample {
        /// Database URL (`sqlite://FILE` or `postgres://USER@HOST:PORT/DB`).
        #[arg(long)]
        database: String,
        /// File to write.
        #[arg(long)]
        out: PathBuf,
    },
    /// Run one query of the mix as hand-written SQL under load; print one JSON line.
    Baseline {
        /// Database URL (`sqlite://FILE` or `postgres://USER@HOST:PORT/DB`).
        #[arg(long)]
        database: String,
        /// Query of the mix.
        #[arg(long, value_enum)]
        query: queries::Query,
        /// Concurrent workers, each with its own connection.
        #[arg(long, default_value_t = 1)]
        connections: usize,
        /// Seconds to run.
        #[arg(long, default_value_t = 10)]
        duration: u64,
        /// Parameter file written by `sample`.
        #[arg(long)]
        params: PathBuf,
    },
    /// Subscribe many WebSocket clients to `eventChanged`, report and accept events through
    /// HTTP, and print the delivery latencies as one JSON line.
    Subscribers {
        /// Base URL of a running gridhub.
        #[arg(long)]
        base: String,
        /// Bearer token for the subscribers and the mutations.
        #[arg(long)]
        token: Option<String>,
        /// Grid code the subscribers watch.
        #[arg(long)]
        watch: String,
        /// Grid code the events are reported in.
        #[arg(long)]
        report_in: String,
        /// Number of subscribers.
        #[arg(long, default_value_t = 1000)]
        subscribers: usize,
        /// Number of events reported and accepted.
        #[arg(long, default_value_t = 100)]
        events: usize,
        /// Milliseconds between two mutations.
        #[arg(long, default_value_t = 300)]
        pause_millis: u64,
        /// Subscribe to the changes without selecting the event itself.
        #[arg(long)]
        without_event: bool,
    },
}

async fn sample(database: &str, out: &Path) -> Result<()> {
    let pool = db::Pool::connect(database, 1)
        .await
        .with_context(|| format!("connecting to {database}"))?;
    let mut conn = pool.acquire().await?;
    let params = params::sample(&mut conn).await?;
    params.save(out)?;
    eprintln!(
        "sampled {} ID numbers, {} communities, {} streets, {} name prefixes, {} grids into {}",
        params.id_numbers.len(),
        params.communities.len(),
        params.streets.len(),
        params.name_prefixes.len(),
        params.nested_grids.len(),
        out.display()
    );
    Ok(())
}

async fn baseline(
    database: &str,
    query: queries::Query,
    connections: usize,
    duration: u64,
    params: &Path,
) -> Result<()> {
    let params = params::Params::load(params)?;
    let pool = db::Pool::connect(database, connections as u32)
        .await
        .with_context(|| format!("connecting to {database}"))?;
    let report = load::run(
        pool,
        query,
        params,
        connections,
        Duration::from_secs(duration),
    )
    .await;
    println!("{}", serde_json::to_string(&report)?);
    Ok(())
}

#[tokio::main]
async fn main() -> Result<()> {
    match Cli::parse().command {
        Command::Sample { database, out } => sample(&database, &out).await,
        Command::Baseline {
            database,
            query,
            connections,
            duration,
            params,
        } => baseline(&database, query, connections, duration, &params).await,
        Command::Subscribers {
            base,
            token,
            watch,
            report_in,
            subscribers,
            events,
            pause_millis,
            without_event,
        } => {
            let plan = subscribers::Plan {
                base,
                token,
                watch,
                report_in,
                subscribers,
                events,
                pause: Duration::from_millis(pause_millis),
                with_event: !without_event,
            };
            println!("{}", serde_json::to_string(&subscribers::run(plan).await?)?);
            Ok(())
        }
    }
}
