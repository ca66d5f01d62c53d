//! The gridhub command line: `serve`, `migrate`, `seed`, `schema` and `audit verify`.

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use gridhub::access::audit;
use gridhub::config::Settings;
use gridhub::http::{router, serve as serve_http, shutdown_signal, AppState};
use gridhub::seed::{self, SeedOptions};
use gridhub::{db, graphql};
use std::path::PathBuf;
use std::time::Duration;
use tracing_subscriber::EnvFilter;

/// mimalloc keeps memory flat across the many threads of the pools (glibc's per-thread arenas
/// grow the resident size) and allocates faster on the read path.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// gridhub: a GraphQL data hub for grid-based community governance (one network, 一网).
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the GraphQL API (migrates the database, and seeds demo data into an empty one).
    Serve {
        /// Address to listen on (overrides `server.listen`).
        #[arg(long)]
        listen: Option<String>,
        /// Database URL (overrides `database.url`).
        #[arg(long)]
        database: Option<String>,
    },
    /// Apply pending database migrations.
    Migrate {
        /// Database URL (overrides `database.url`).
        #[arg(long)]
        database: Option<String>,
    },
    /// Fill an empty database with a deterministic demo street.
    Seed {
        /// Number of persons; everything else scales in proportion.
        #[arg(long, default_value_t = 5000)]
        persons: u64,
        /// Seed of the random generator (same seed, same data).
        #[arg(long, default_value_t = 2026)]
        rng_seed: u64,
        /// Database URL (overrides `database.url`).
        #[arg(long)]
        database: Option<String>,
    },
    /// Print the GraphQL schema (SDL), or write it to a file.
    Schema {
        /// File to write instead of standard output.
        #[arg(long)]
        output: Option<PathBuf>,
    },
    /// Work with the tamper-evident audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Check the audit log's hash chain; fails naming the first edited, inserted or deleted entry.
    Verify {
        /// Database URL (overrides `database.url`).
        #[arg(long)]
        database: Option<String>,
    },
}

fn init_tracing(settings: &Settings) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&settings.log.filter));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    if settings.log.format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}

async fn open(settings: &Settings) -> anyhow::Result<db::Database> {
    let database = db::connect(&settings.database)
        .await
        .with_context(|| format!("cannot open the database at {}", settings.database.url))?;
    db::migrate(&database.conn)
        .await
        .context("cannot migrate the database")?;
    Ok(database)
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    let database = open(&settings).await?;
    let persons = settings.seed.persons_on_first_start;
    if persons > 0 && !seed::is_seeded(&database.conn).await? {
        tracing::info!(persons, "empty database: seeding a demo street");
        let options = SeedOptions {
            persons,
            ..SeedOptions::default()
        };
        seed::seed(&database.conn, &options).await?;
    }
    gridhub::tally::ensure(&database.conn).await?;
    let schema = graphql::build(database.clone(), &settings.graphql);
    let app = router(
        AppState {
            schema,
            db: database,
            metrics: gridhub::metrics::handle(),
            batch_window: Duration::from_micros(settings.graphql.batch_window_micros),
        },
        &settings.server,
    );
    let listener = tokio::net::TcpListener::bind(&settings.server.listen)
        .await
        .with_context(|| format!("cannot listen on {}", settings.server.listen))?;
    let address = listener.local_addr()?;
    println!("gridhub is serving http://{address}/ (GraphQL at http://{address}/graphql)");
    tracing::warn!("no authentication is configured: every request acts as the anonymous development principal");
    serve_http(listener, app, shutdown_signal()).await?;
    Ok(())
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let mut settings = Settings::load().context("cannot read the configuration")?;
    match cli.command {
        Command::Serve { listen, database } => {
            settings.server.listen = listen.unwrap_or(settings.server.listen);
            settings.database.url = database.unwrap_or(settings.database.url);
            init_tracing(&settings);
            serve(settings).await
        }
        Command::Migrate { database } => {
            settings.database.url = database.unwrap_or(settings.database.url);
            init_tracing(&settings);
            open(&settings).await?;
            println!("migrations applied to {}", settings.database.url);
            Ok(())
        }
        Command::Seed {
            persons,
            rng_seed,
            database,
        } => {
            settings.database.url = database.unwrap_or(settings.database.url);
            init_tracing(&settings);
            let database = open(&settings).await?;
            let options = SeedOptions {
                persons,
                rng_seed,
                progress: true,
            };
            let report = seed::seed(&database.conn, &options).await?;
            let seconds = report.elapsed.as_secs_f64();
            println!(
                "seeded {} rows ({} persons, {} grids, {} events) in {seconds:.1} s: {:.0} rows/s",
                report.rows,
                report.persons,
                report.grids,
                report.events,
                report.rows as f64 / seconds.max(1e-9)
            );
            Ok(())
        }
        Command::Audit {
            command: AuditCommand::Verify { database },
        } => {
            settings.database.url = database.unwrap_or(settings.database.url);
            init_tracing(&settings);
            verify_audit(settings).await
        }
        Command::Schema { output } => {
            let sdl = graphql::sdl();
            match output {
                Some(path) => std::fs::write(&path, sdl)
                    .with_context(|| format!("cannot write {}", path.display()))?,
                None => print!("{sdl}"),
            }
            Ok(())
        }
    }
}

async fn verify_audit(settings: Settings) -> anyhow::Result<()> {
    let database = db::connect(&settings.database)
        .await
        .with_context(|| format!("cannot open the database at {}", settings.database.url))?;
    let key = audit::key_of(&settings.audit);
    match audit::verify(&database.conn, &key).await? {
        audit::Verification::Intact { entries } => {
            println!("audit chain intact: {entries} entries");
            Ok(())
        }
        audit::Verification::Broken { entry_id, reason } => {
            anyhow::bail!("audit chain broken at entry {entry_id}: {reason}")
        }
    }
}

#[tokio::main]
async fn main() {
    if let Err(error) = run(Cli::parse()).await {
        eprintln!("gridhub: {error:#}");
        std::process::exit(1);
    }
}
