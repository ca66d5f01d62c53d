//! Scripts of `tests/e2e` run with Node.js: front-end clients (graphql-js, playwright-core
//! driving the system Chromium) against a hub. When Node.js or a script's modules are missing
//! the test is skipped with a note, unless `GRIDHUB_REQUIRE_BROWSER` is set (as `.ci/run` does).

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The folder of the Node.js scripts and their `node_modules`.
pub fn e2e_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/e2e")
}

/// The Chromium the browser scripts drive: `GRIDHUB_CHROMIUM`, else Debian's.
pub fn chromium() -> PathBuf {
    std::env::var_os("GRIDHUB_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"))
}

/// What a browser script lacks on this machine (Chromium, playwright-core, Node.js), if anything.
pub fn missing_browser() -> Option<String> {
    let no_chromium =
        (!chromium().exists()).then(|| format!("no Chromium at {}", chromium().display()));
    missing(&["playwright-core"], no_chromium)
}

/// What running a script needing `modules` (and `extra`, e.g. a browser) lacks, if anything.
pub fn missing(modules: &[&str], extra: Option<String>) -> Option<String> {
    if let Some(module) = modules
        .iter()
        .find(|m| !e2e_dir().join("node_modules").join(m).exists())
    {
        return Some(format!("tests/e2e/node_modules/{module} is not installed"));
    }
    if extra.is_some() {
        return extra;
    }
    match Command::new("node").arg("--version").output() {
        Ok(output) if output.status.success() => None,
        _ => Some("node is not on the PATH".to_string()),
    }
}

/// Whether a test whose needs are `missing` should be skipped: panics instead when CI asks for
/// every client test to run.
pub fn skip(test: &str, missing: Option<String>) -> bool {
    let Some(missing) = missing else {
        return false;
    };
    if std::env::var_os("GRIDHUB_REQUIRE_BROWSER").is_some() {
        panic!(
            "{test} cannot run: {missing}; run .ci/run, or install Chromium \
             (apt-get install -y chromium chromium-driver) and `npm ci --prefix tests/e2e`"
        );
    }
    eprintln!("skipped: {test} ({missing}; .ci/run installs what it needs)");
    true
}

/// Runs the script `name` of `tests/e2e` with `args` (and [`chromium`] as `GRIDHUB_CHROMIUM`) to its end, or kills it once `deadline`
/// has passed; off the async workers.
pub async fn run_script(
    name: &str,
    args: Vec<String>,
    deadline: Duration,
) -> Result<Output, String> {
    let mut command = Command::new("node");
    command
        .arg(e2e_dir().join(name))
        .args(args)
        .env("GRIDHUB_CHROMIUM", chromium());
    tokio::task::spawn_blocking(move || run_with_deadline(command, deadline))
        .await
        .map_err(|e| e.to_string())?
}

/// The standard output of a script that ran, which must have succeeded and printed `marker`.
pub fn expect_success(output: Result<Output, String>, marker: &str) -> String {
    let output = output.unwrap_or_else(|e| panic!("{e}"));
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    assert!(
        output.status.success() && stdout.contains(marker),
        "{}\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

fn run_with_deadline(mut command: Command, deadline: Duration) -> Result<Output, String> {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start node: {e}"))?;
    let started = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(_)) => return child.wait_with_output().map_err(|e| e.to_string()),
            Ok(None) if started.elapsed() > deadline => {
                let _ = child.kill();
                let output = child.wait_with_output().map_err(|e| e.to_string())?;
                return Err(format!(
                    "the script did not finish within {deadline:?}\n{}",
                    String::from_utf8_lossy(&output.stderr)
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(100)),
            Err(e) => return Err(e.to_string()),
        }
    }
}
