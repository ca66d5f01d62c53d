//! The import commands: `gridhub import` with a progress bar and a summary, and
//! `gridhub rejections` listing the rows an import rejected.

use super::outcome::Summary;
use super::pipeline::{self, ImportRequest};
use super::reader::{Format, ReadLimits};
use crate::entity::{import, import_rejection};
use anyhow::{anyhow, Context as _};
use indicatif::{ProgressBar, ProgressStyle};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};
use std::path::Path;

/// The format named on the command line, or the one the file's extension says.
fn format_of(path: &Path, format: Option<&str>) -> anyhow::Result<Format> {
    let name = match format {
        Some(name) => name.to_string(),
        None => path
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or_default()
            .to_lowercase(),
    };
    match name.as_str() {
        "csv" => Ok(Format::Csv),
        "ndjson" | "jsonl" | "json" => Ok(Format::Ndjson),
        other => Err(anyhow!(
            "cannot tell the format of {} (`{other}`): use --format csv or --format ndjson",
            path.display()
        )),
    }
}

fn progress_bar() -> ProgressBar {
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} {pos} rows read ({per_sec}), {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    bar
}

/// Imports `path` for `department` and prints the summary. `db` should have one connection, so
/// that the import's large SQLite page cache is one cache.
pub async fn import_file(
    db: &DatabaseConnection,
    department: &str,
    path: &Path,
    kind: Option<String>,
    format: Option<&str>,
    limits: ReadLimits,
) -> anyhow::Result<Summary> {
    let format = format_of(path, format)?;
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let request = ImportRequest {
        department: department.to_string(),
        kind,
        format,
        file_name: path.display().to_string(),
        started_by: "cli".to_string(),
        source: file,
        large_cache: true,
        scope: None,
        limits,
    };
    let bar = progress_bar();
    let summary = pipeline::run(db, request, &bar).await;
    bar.finish_and_clear();
    let summary = summary?;
    print!("{}", render(&summary));
    Ok(summary)
}

/// The summary as printed.
pub fn render(summary: &Summary) -> String {
    let mut text = format!("{}\n", summary.describe());
    for row in &summary.rejections {
        text.push_str(&format!("  line {}: {}\n", row.line, row.reason));
    }
    if summary.rejected as usize > summary.rejections.len() {
        text.push_str(&format!(
            "  … all {} with `gridhub rejections --import {}`\n",
            summary.rejected, summary.import_id
        ));
    }
    text
}

/// Prints the rows import `import_id` (the latest import when `None`) rejected.
pub async fn print_rejections(
    db: &DatabaseConnection,
    import_id: Option<i64>,
) -> anyhow::Result<()> {
    let run = match import_id {
        Some(id) => import::Entity::find_by_id(id).one(db).await?,
        None => {
            import::Entity::find()
                .order_by_desc(import::Column::Id)
                .one(db)
                .await?
        }
    }
    .ok_or_else(|| anyhow!("no such import"))?;
    let rows = import_rejection::Entity::find()
        .filter(import_rejection::Column::ImportId.eq(run.id))
        .order_by_asc(import_rejection::Column::Line)
        .all(db)
        .await?;
    println!(
        "import {} of {} {} ({}): {} rejected",
        run.id, run.department, run.kind, run.file_name, run.rejected
    );
    for row in rows {
        println!("line {}\t{}\t{}", row.line, row.reason, row.raw);
    }
    Ok(())
}
