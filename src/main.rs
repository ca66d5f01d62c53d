//! The gridhub command line: `serve`, `migrate`, `seed`, `import`, `rejections`, `schema`,
//! `keys`, `token` and `audit`.

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use gridhub::access::audit;
use gridhub::access::credentials::{self, api_key, issuance, Claims, NewKey};
use gridhub::access::policy::Policy;
use gridhub::config::Settings;
use gridhub::domain::audit_chain::DEVELOPMENT_KEY;
use gridhub::event_loop::Loop;
use gridhub::http::{router, serve as serve_http, shutdown_signal, AppState};
use gridhub::seed::{self, SeedOptions};
use gridhub::sweeper;
use gridhub::{db, graphql, ingest};
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
    /// Manage the API keys of department systems and service accounts.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Issue staff tokens (HS256, signed with `auth.jwt_hs256_secret`).
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Import a department's file (CSV or NDJSON, UTF-8 or GBK) and print what happened to its
    /// rows; exits non-zero on rejected rows only with --strict.
    Import {
        /// Department that sent the file: police, civil_affairs, property or party.
        #[arg(long)]
        department: String,
        /// The file.
        #[arg(long)]
        file: PathBuf,
        /// Kind of records (e.g. `persons`); detected from the header when absent.
        #[arg(long)]
        kind: Option<String>,
        /// `csv` or `ndjson`; taken from the file's extension when absent.
        #[arg(long)]
        format: Option<String>,
        /// Exit with status 2 when any row was rejected.
        #[arg(long)]
        strict: bool,
        /// Database URL (overrides `database.url`).
        #[arg(long)]
        database: Option<String>,
    },
    /// List the rows an import rejected, with line numbers and reasons.
    Rejections {
        /// The import (the latest when absent).
        #[arg(long)]
        import: Option<i64>,
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
    /// Check the audit log's hash chain against its signed head and the checkpoint file; fails
    /// naming the first edited, inserted or deleted entry, or what a wiped, cut or rolled-back log
    /// is missing. A log sealed with the public development key is never vouched for.
    Verify {
        /// Database URL (overrides `database.url`).
        #[arg(long)]
        database: Option<String>,
        /// Checkpoint file (overrides `audit.checkpoint_file`).
        #[arg(long)]
        checkpoints: Option<String>,
        /// Check a log sealed with the development key (no `audit.key`) for its shape only,
        /// succeeding although anyone could have resealed it.
        #[arg(long)]
        development_key: bool,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Create a key; its plaintext is printed once and never stored.
    Create {
        /// Unique name of the key (the principal's subject).
        #[arg(long)]
        name: String,
        /// Role of the access policy, e.g. `department`.
        #[arg(long)]
        role: String,
        /// Department the key acts for: police, civil_affairs, property or party.
        #[arg(long)]
        department: Option<String>,
        /// Code of the grid whose subtree bounds what the key sees.
        #[arg(long)]
        grid: Option<String>,
        /// Database URL (overrides `database.url`).
        #[arg(long)]
        database: Option<String>,
    },
    /// List all keys, revoked ones included (never their plaintext).
    List {
        /// Database URL (overrides `database.url`).
        #[arg(long)]
        database: Option<String>,
    },
    /// Revoke a key; it stops working on the next request.
    Revoke {
        /// Name of the key.
        #[arg(long)]
        name: String,
        /// Database URL (overrides `database.url`).
        #[arg(long)]
        database: Option<String>,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Print a signed token for a staff member.
    Issue {
        /// The staff member (the principal's subject).
        #[arg(long)]
        subject: String,
        /// Role of the access policy, e.g. `grid_worker`.
        #[arg(long)]
        role: String,
        /// Department the staff member acts for: police, civil_affairs, property or party.
        #[arg(long)]
        department: Option<String>,
        /// Code of the grid whose subtree bounds what the staff member sees.
        #[arg(long)]
        grid: Option<String>,
        /// Stated purpose carried in the token.
        #[arg(long)]
        purpose: Option<String>,
        /// Case reference carried in the token.
        #[arg(long)]
        case_id: Option<String>,
        /// Lifetime of the token in seconds.
        #[arg(long, default_value_t = 3600)]
        expires_in: u64,
        /// Database URL whose grids the token's grid must be one of (overrides `database.url`).
        #[arg(long)]
        database: Option<String>,
    },
}

/// Logs go to standard error, so that a command's output (a summary, a key, a token) stays
/// alone on standard output.
fn init_tracing(settings: &Settings) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&settings.log.filter));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
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
    let state = AppState::new(database, &settings).await?;
    let event_loop = Loop {
        feed: state.feed.clone(),
        deadlines: settings.events.deadlines,
    };
    sweeper::spawn(state.db.conn.clone(), event_loop, settings.events.clone());
    let authenticated = state.authenticator.configured();
    let audit = state.audit.clone();
    let app = router(state, &settings.server);
    let listener = tokio::net::TcpListener::bind(&settings.server.listen)
        .await
        .with_context(|| format!("cannot listen on {}", settings.server.listen))?;
    let address = listener.local_addr()?;
    println!("gridhub is serving http://{address}/ (GraphQL at http://{address}/graphql)");
    if !authenticated {
        eprintln!("{}", ANONYMOUS_WARNING);
        tracing::warn!("no authentication is configured: requests without credentials act as the anonymous development principal");
    }
    serve_http(listener, app, shutdown_signal()).await?;
    let wait = Duration::from_secs(settings.audit.shutdown_flush_secs);
    match tokio::time::timeout(wait, audit.flush()).await {
        Ok(flushed) => flushed.context("cannot write the last audit entries"),
        Err(_) => Err(anyhow::anyhow!(
            "the last {} audit entries could not be written within {} s and are lost",
            audit.health().waiting(),
            wait.as_secs()
        )),
    }
}

async fn keys(settings: &Settings, command: KeysCommand) -> anyhow::Result<()> {
    let database = open(settings).await?;
    match command {
        KeysCommand::Create {
            name,
            role,
            department,
            grid,
            ..
        } => {
            let grant = issuance::Grant {
                role: &role,
                department: department.as_deref(),
                grid: grid.as_deref(),
            };
            issuance::check_grant(&policy_in_force(settings)?, &grant)?;
            if let Some(code) = &grid {
                issuance::check_grid(&database.conn, code).await?;
            }
            let new = NewKey {
                name,
                role,
                department,
                grid_code: grid,
            };
            let (row, key) = credentials::create_key(&database.conn, new).await?;
            println!("created API key {:?} (role {})", row.name, row.role);
            println!("{key}");
            println!("This key will not be shown again: store it now.");
        }
        KeysCommand::List { .. } => {
            let rows = credentials::list_keys(&database.conn)
                .await
                .context("cannot read the API keys")?;
            print!("{}", api_key::render_table(&rows));
        }
        KeysCommand::Revoke { name, .. } => {
            credentials::revoke_key(&database.conn, &name).await?;
            println!("revoked API key {name:?}");
        }
    }
    Ok(())
}

/// The access policy the hub serves with.
fn policy_in_force(settings: &Settings) -> anyhow::Result<Policy> {
    Policy::load(&settings.access.policy_file)
}

async fn issue_token(settings: &Settings, command: TokenCommand) -> anyhow::Result<()> {
    let TokenCommand::Issue {
        subject,
        role,
        department,
        grid,
        purpose,
        case_id,
        expires_in,
        ..
    } = command;
    anyhow::ensure!(!subject.trim().is_empty(), "the subject must not be empty");
    let policy = policy_in_force(settings)?;
    let grant = issuance::Grant {
        role: &role,
        department: department.as_deref(),
        grid: grid.as_deref(),
    };
    issuance::check_grant(&policy, &grant)?;
    let auth = &settings.auth;
    issuance::check_statement(&policy, auth, purpose.as_deref(), case_id.as_deref())?;
    if let Some(code) = &grid {
        issuance::check_grid(&open(settings).await?.conn, code).await?;
    }
    anyhow::ensure!(
        !auth.jwt_hs256_secret.is_empty(),
        "auth.jwt_hs256_secret is not set (GRIDHUB__AUTH__JWT_HS256_SECRET)"
    );
    let now = u64::try_from(chrono::Utc::now().timestamp()).context("the clock is before 1970")?;
    let claims = Claims {
        sub: subject,
        role,
        department,
        grid,
        exp: now.saturating_add(expires_in),
        purpose,
        case_id,
    };
    let optional = |value: &str| (!value.is_empty()).then(|| value.to_string());
    let token = credentials::issue_hs256(
        &auth.jwt_hs256_secret,
        &claims,
        optional(&auth.jwt_issuer).as_deref(),
        optional(&auth.jwt_audience).as_deref(),
    )?;
    println!("{token}");
    Ok(())
}

/// Printed at start while no authentication is configured.
const ANONYMOUS_WARNING: &str = "\
WARNING: no authentication is configured (auth.required = false and no JWT key).
WARNING: requests without credentials act as the ANONYMOUS DEVELOPMENT PRINCIPAL, which reads
WARNING: every row of the hub with identifiers masked. Do not expose this server; set
WARNING: GRIDHUB__AUTH__REQUIRED=true and a JWT key before serving real data.";

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
        Command::Keys { command } => {
            let (KeysCommand::Create { database, .. }
            | KeysCommand::List { database }
            | KeysCommand::Revoke { database, .. }) = &command;
            settings.database.url = database.clone().unwrap_or(settings.database.url);
            init_tracing(&settings);
            keys(&settings, command).await
        }
        Command::Token { command } => {
            let TokenCommand::Issue { database, .. } = &command;
            settings.database.url = database.clone().unwrap_or(settings.database.url);
            init_tracing(&settings);
            issue_token(&settings, command).await
        }
        Command::Audit {
            command:
                AuditCommand::Verify {
                    database,
                    checkpoints,
                    development_key,
                },
        } => {
            settings.database.url = database.unwrap_or(settings.database.url);
            settings.audit.checkpoint_file = checkpoints.unwrap_or(settings.audit.checkpoint_file);
            init_tracing(&settings);
            verify_audit(settings, development_key).await
        }
        Command::Import {
            department,
            file,
            kind,
            format,
            strict,
            database,
        } => {
            settings.database.url = database.unwrap_or(settings.database.url);
            settings.database.max_connections = 1;
            settings.database.min_connections = 1;
            init_tracing(&settings);
            let database = open(&settings).await?;
            let summary = ingest::cli::import_file(
                &database.conn,
                &department,
                &file,
                kind,
                format.as_deref(),
                (&settings.ingest).into(),
            )
            .await?;
            if strict && summary.rejected > 0 {
                std::process::exit(2);
            }
            Ok(())
        }
        Command::Rejections { import, database } => {
            settings.database.url = database.unwrap_or(settings.database.url);
            init_tracing(&settings);
            let database = open(&settings).await?;
            ingest::cli::print_rejections(&database.conn, import).await
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

async fn verify_audit(settings: Settings, development_key: bool) -> anyhow::Result<()> {
    let database = db::connect(&settings.database)
        .await
        .with_context(|| format!("cannot open the database at {}", settings.database.url))?;
    let key = audit::key_of(&settings.audit);
    let audit_settings = settings.audit.for_database(&settings.database.url);
    let checkpoints = Some(audit_settings.checkpoint_file.as_str())
        .filter(|path| !path.is_empty())
        .map(std::path::Path::new);
    if checkpoints.is_none() {
        eprintln!("warning: no checkpoint file for an in-memory database: a wiped or cut log cannot be detected");
    }
    match audit::verify(&database.conn, &key, checkpoints).await? {
        audit::Verification::Intact { entries, .. }
            if key == DEVELOPMENT_KEY && !development_key && entries > 0 =>
        {
            anyhow::bail!(
                "audit chain not trustworthy: its {entries} entries are sealed with the public development key (audit.key is not set), so an edited entry can be resealed undetected; set audit.key (or pass --development-key to check its shape only)"
            )
        }
        audit::Verification::Intact {
            entries,
            checkpoints,
        } => {
            println!("audit chain intact: {entries} entries, held to {checkpoints} checkpoints");
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
