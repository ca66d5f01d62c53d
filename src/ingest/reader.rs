//! Streaming rows out of a department file.
//!
//! A department's [`Mapping`] (one TOML file per department under `src/ingest/mappings/`) lists
//! its record kinds; each kind names its canonical columns, the header names a file may use for
//! each, and the columns it requires. [`Mapping::resolve`] matches a file's header to one kind and
//! gives a [`Layout`]; [`RowReader`] then yields one [`Row`] per record of a CSV or NDJSON file,
//! UTF-8 or GBK, in constant memory. A bad record becomes a [`RowError`] for its line and reading
//! goes on; only problems that make the whole file unreadable are a [`ReadError`]. Memory stays
//! bounded by [`ReadLimits`]: an NDJSON line longer than the limit is skipped (a [`RowError`]),
//! a CSV line longer than it stops the file there, and a value longer than its limit is refused
//! for its record.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Cursor, Read};
use std::path::{Path, PathBuf};

use crate::config::IngestSettings;
use encoding_rs_io::DecodeReaderBytesBuilder;
use serde::Deserialize;
use serde_json::{Map, Value};

/// How many leading bytes of a file decide its encoding.
const SNIFF_LEN: usize = 64 * 1024;

/// The byte-order mark as a character.
const BOM: char = '\u{feff}';

/// Built-in mappings, by department code.
const BUILT_IN: [(&str, &str); 4] = [
    ("police", include_str!("mappings/police.toml")),
    ("civil_affairs", include_str!("mappings/civil_affairs.toml")),
    ("property", include_str!("mappings/property.toml")),
    ("party", include_str!("mappings/party.toml")),
];

/// A department's record kinds, in the order its mapping file declares them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapping {
    /// The kinds, in file order (auto-detection tries them in this order).
    pub kinds: Vec<Kind>,
}

/// One kind of record a department exports (persons, houses, members …).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kind {
    /// Name of the kind (`persons`).
    pub name: String,
    /// What the records are.
    pub description: String,
    /// Canonical columns that must appear in the header.
    pub required: Vec<String>,
    /// Canonical columns in file order.
    pub columns: Vec<Column>,
}

/// A canonical column and the header names a file may use for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// Canonical name (`id_number`).
    pub name: String,
    /// Accepted header names (`公民身份号码`, `身份证号`, `id_number`).
    pub headers: Vec<String>,
}

/// The shape of a mapping file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MappingFile {
    kinds: toml::Table,
}

/// The shape of one `[kinds.NAME]` table.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KindFile {
    #[serde(default)]
    description: String,
    required: Vec<String>,
    columns: toml::Table,
}

impl Mapping {
    /// The mapping shipped with gridhub for a department code (`police`, `civil_affairs`,
    /// `property`, `party`).
    pub fn built_in(department: &str) -> Option<Mapping> {
        BUILT_IN
            .iter()
            .find(|(code, _)| *code == department)
            .and_then(|(_, text)| Mapping::parse(text).ok())
    }

    /// Reads and validates a mapping file.
    pub fn from_file(path: &Path) -> Result<Mapping, ReadError> {
        let text = std::fs::read_to_string(path).map_err(|e| with_path(e, path))?;
        Mapping::parse(&text).map_err(|e| ReadError::Mapping(format!("{}: {e}", path.display())))
    }

    /// Parses and validates mapping TOML text.
    pub fn parse(text: &str) -> Result<Mapping, ReadError> {
        let file: MappingFile = toml::from_str(text).map_err(|e| mapping_error(e.message()))?;
        let kinds = file
            .kinds
            .into_iter()
            .map(|(name, value)| Kind::parse(name, value))
            .collect::<Result<Vec<_>, _>>()?;
        if kinds.is_empty() {
            return Err(mapping_error("no kinds declared"));
        }
        kinds.iter().try_for_each(Kind::validate)?;
        Ok(Mapping { kinds })
    }

    /// The kind with this name.
    pub fn kind(&self, name: &str) -> Option<&Kind> {
        self.kinds.iter().find(|k| k.name == name)
    }

    /// Matches a header to a kind: the given one, else the first whose required columns all
    /// appear. Header names are compared after trimming (and dropping a byte-order mark),
    /// case-insensitively; headers that name no column of the kind are kept as extras.
    pub fn resolve(&self, header: &[String], kind: Option<&str>) -> Result<Layout, ReadError> {
        let keys: Vec<String> = header.iter().map(|h| header_key(h)).collect();
        let kind = match kind {
            Some(name) => self.named_kind(name, &keys)?,
            None => self.detect_kind(header, &keys)?,
        };
        kind.layout(header, &keys)
    }

    /// The named kind, provided the header has its required columns.
    fn named_kind(&self, name: &str, keys: &[String]) -> Result<&Kind, ReadError> {
        let kind = self.kind(name).ok_or_else(|| ReadError::UnknownKind {
            kind: name.to_string(),
            known: self.kinds.iter().map(|k| k.name.clone()).collect(),
        })?;
        let missing = kind.missing(keys);
        if missing.is_empty() {
            return Ok(kind);
        }
        Err(ReadError::MissingColumns {
            kind: kind.name.clone(),
            missing: missing.iter().map(|c| c.name.clone()).collect(),
            accepted: missing.iter().map(|c| c.headers.clone()).collect(),
        })
    }

    /// The first kind whose required columns all appear in the header.
    fn detect_kind(&self, header: &[String], keys: &[String]) -> Result<&Kind, ReadError> {
        self.kinds
            .iter()
            .find(|k| k.missing(keys).is_empty())
            .ok_or_else(|| ReadError::NoKindMatches {
                header: header.to_vec(),
                kinds: self
                    .kinds
                    .iter()
                    .map(|k| {
                        let missing = k.missing(keys).iter().map(|c| c.name.clone()).collect();
                        (k.name.clone(), missing)
                    })
                    .collect(),
            })
    }
}

impl Kind {
    /// Builds a kind from its `[kinds.NAME]` table.
    fn parse(name: String, value: toml::Value) -> Result<Kind, ReadError> {
        let file: KindFile = value
            .try_into()
            .map_err(|e: toml::de::Error| mapping_error(format!("kind {name}: {}", e.message())))?;
        let columns = file
            .columns
            .into_iter()
            .map(|(column, headers)| {
                headers
                    .try_into()
                    .map(|headers| Column {
                        name: column.clone(),
                        headers,
                    })
                    .map_err(|_| {
                        mapping_error(format!(
                            "kind {name}: column {column} must list header names as strings"
                        ))
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Kind {
            name,
            description: file.description,
            required: file.required,
            columns,
        })
    }

    /// Required columns are declared, every column has a header name, and no header name is
    /// claimed by two columns.
    fn validate(&self) -> Result<(), ReadError> {
        let fail = |what: String| Err(mapping_error(format!("kind {}: {what}", self.name)));
        if let Some(r) = self.required.iter().find(|r| self.column(r).is_none()) {
            return fail(format!("required column {r} is not declared under columns"));
        }
        if let Some(c) = self.columns.iter().find(|c| c.headers.is_empty()) {
            return fail(format!("column {} lists no header names", c.name));
        }
        let mut owners: HashMap<String, &str> = HashMap::new();
        for column in &self.columns {
            for header in &column.headers {
                if let Some(other) = owners.insert(header_key(header), &column.name) {
                    if other != column.name {
                        return fail(format!(
                            "header {header} is claimed by both {other} and {}",
                            column.name
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    /// The declared column with this canonical name.
    fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// Normalised header name → canonical column.
    fn aliases(&self) -> HashMap<String, String> {
        self.columns
            .iter()
            .flat_map(|c| c.headers.iter().map(|h| (header_key(h), c.name.clone())))
            .collect()
    }

    /// Required columns none of whose header names appear among the normalised header keys.
    fn missing(&self, keys: &[String]) -> Vec<&Column> {
        self.required
            .iter()
            .filter_map(|r| self.column(r))
            .filter(|c| !c.headers.iter().any(|h| keys.contains(&header_key(h))))
            .collect()
    }

    /// The layout of a header for this kind; two headers naming the same column are an error.
    fn layout(&self, header: &[String], keys: &[String]) -> Result<Layout, ReadError> {
        let aliases = self.aliases();
        let header = raw_names(header);
        let columns: Vec<Option<String>> = keys.iter().map(|k| aliases.get(k).cloned()).collect();
        let mut seen: HashMap<String, &str> = HashMap::new();
        for (name, column) in header.iter().zip(&columns) {
            let target = column.clone().unwrap_or_else(|| header_key(name));
            if let Some(first) = seen.insert(target.clone(), name) {
                return Err(ReadError::DuplicateColumn {
                    column: target,
                    headers: vec![first.to_string(), name.clone()],
                });
            }
        }
        Ok(Layout {
            kind: self.name.clone(),
            header,
            columns,
            aliases,
        })
    }
}

/// How a file's header maps onto one kind's canonical columns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// The kind the file holds.
    pub kind: String,
    /// Header names as the file gives them (a byte-order mark dropped; an empty name becomes
    /// `column_N`, 1-based); these are the keys of [`Row::raw`].
    pub header: Vec<String>,
    /// For each header position, the canonical column it fills, or `None` for an extra column.
    pub columns: Vec<Option<String>>,
    /// Normalised header name → canonical column, for NDJSON objects with keys of their own.
    aliases: HashMap<String, String>,
}

impl Layout {
    /// Header names that fill no canonical column (kept in [`Row::raw`] only).
    pub fn extra_headers(&self) -> Vec<&str> {
        self.header
            .iter()
            .zip(&self.columns)
            .filter(|(_, c)| c.is_none())
            .map(|(h, _)| h.as_str())
            .collect()
    }

    /// A row from a CSV record; a record with the wrong number of fields is a row error.
    fn csv_row(&self, record: &csv::StringRecord) -> Result<Row, RowError> {
        let line = record.position().map_or(0, csv::Position::line);
        if record.len() != self.header.len() {
            return Err(RowError::new(
                line,
                format!(
                    "expected {} fields as in the header, found {}",
                    self.header.len(),
                    record.len()
                ),
            ));
        }
        let mut row = Row::new(line);
        for ((name, column), value) in self.header.iter().zip(&self.columns).zip(record) {
            if let Some(column) = column {
                put_value(&mut row.values, column, value);
            }
            row.raw
                .insert(name.clone(), Value::String(value.to_string()));
        }
        Ok(row)
    }

    /// A row from an NDJSON object; two keys giving different values for one column is a row
    /// error.
    fn json_row(&self, line: u64, object: Map<String, Value>) -> Result<Row, RowError> {
        let mut row = Row::new(line);
        for (key, value) in &object {
            let Some(column) = self.aliases.get(&header_key(key)) else {
                continue;
            };
            let text = json_text(value);
            let text = text.trim();
            if text.is_empty() {
                continue;
            }
            match row.values.get(column) {
                Some(old) if old != text => {
                    return Err(RowError::new(
                        line,
                        format!("two keys give different values for column {column}"),
                    ));
                }
                Some(_) => {}
                None => put_value(&mut row.values, column, text),
            }
        }
        row.raw = object;
        Ok(row)
    }
}

/// Why a file cannot be read at all.
#[derive(Debug)]
pub enum ReadError {
    /// Reading the file (or the mapping file) failed.
    Io(io::Error),
    /// The mapping file is not valid.
    Mapping(String),
    /// The format cannot be told from the file name.
    UnknownFormat(PathBuf),
    /// The file has no header (CSV) or no object (NDJSON).
    Empty,
    /// The first record, which gives the column names, cannot be read.
    BadHeader {
        /// Physical line of the record.
        line: u64,
        /// What is wrong with it.
        reason: String,
    },
    /// The requested kind is not in the mapping.
    UnknownKind {
        /// The kind asked for.
        kind: String,
        /// Kinds the mapping has.
        known: Vec<String>,
    },
    /// The header lacks required columns of the requested kind.
    MissingColumns {
        /// The kind.
        kind: String,
        /// Canonical names of the missing columns.
        missing: Vec<String>,
        /// Header names accepted for each missing column, in the same order.
        accepted: Vec<Vec<String>>,
    },
    /// No kind has all its required columns in the header.
    NoKindMatches {
        /// The header found.
        header: Vec<String>,
        /// Each kind with the required columns the header lacks.
        kinds: Vec<(String, Vec<String>)>,
    },
    /// Two headers fill the same canonical column (or are the same name).
    DuplicateColumn {
        /// The canonical column, or the normalised header name of an extra column.
        column: String,
        /// The two headers.
        headers: Vec<String>,
    },
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::Io(e) => write!(f, "cannot read: {e}"),
            ReadError::Mapping(m) => write!(f, "invalid mapping: {m}"),
            ReadError::UnknownFormat(p) => write!(
                f,
                "cannot tell the format of {} (expected .csv, .ndjson, .jsonl or .json)",
                p.display()
            ),
            ReadError::Empty => write!(f, "the file is empty"),
            ReadError::BadHeader { line, reason } => write!(f, "line {line}: {reason}"),
            ReadError::UnknownKind { kind, known } => {
                write!(f, "unknown kind {kind}; known kinds: {}", known.join(", "))
            }
            ReadError::MissingColumns {
                kind,
                missing,
                accepted,
            } => {
                let list: Vec<String> = missing
                    .iter()
                    .zip(accepted)
                    .map(|(m, a)| format!("{m} (header {})", a.join(" or ")))
                    .collect();
                write!(
                    f,
                    "the header lacks required columns of kind {kind}: {}",
                    list.join("; ")
                )
            }
            ReadError::NoKindMatches { header, kinds } => {
                let list: Vec<String> = kinds
                    .iter()
                    .map(|(k, r)| format!("{k} lacks {}", r.join(", ")))
                    .collect();
                write!(
                    f,
                    "the header ({}) matches no kind: {}",
                    header.join(", "),
                    list.join("; ")
                )
            }
            ReadError::DuplicateColumn { column, headers } => write!(
                f,
                "headers {} both give column {column}",
                headers.join(" and ")
            ),
        }
    }
}

impl std::error::Error for ReadError {}

impl From<io::Error> for ReadError {
    fn from(e: io::Error) -> Self {
        ReadError::Io(e)
    }
}

/// One record of a file.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Physical line where the record starts (CSV: the header is line 1; NDJSON: the first
    /// line is line 1).
    pub line: u64,
    /// Canonical column → trimmed value; empty values are absent.
    pub values: BTreeMap<String, String>,
    /// Every original header → original value (a string for CSV, the JSON value for NDJSON).
    pub raw: Map<String, Value>,
}

impl Row {
    /// An empty row at a line.
    fn new(line: u64) -> Row {
        Row {
            line,
            values: BTreeMap::new(),
            raw: Map::new(),
        }
    }
}

/// A record that cannot be read; unless `fatal`, reading goes on with the next record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// Physical line of the record.
    pub line: u64,
    /// What is wrong.
    pub reason: String,
    /// Reading stopped here (the input failed); the rest of the file was not read.
    pub fatal: bool,
}

impl RowError {
    /// A row-level error after which reading continues.
    fn new(line: u64, reason: String) -> RowError {
        RowError {
            line,
            reason,
            fatal: false,
        }
    }
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.reason)
    }
}

impl std::error::Error for RowError {}

/// Character encoding of a department file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// UTF-8, with or without a byte-order mark.
    Utf8,
    /// GBK (decoded as GB 18030, its superset).
    Gbk,
}

impl Encoding {
    /// UTF-8 when the bytes are valid UTF-8 (a multi-byte sequence cut at the end allowed), else
    /// GBK. Callers pass the first 64 KiB of a file.
    pub fn detect(prefix: &[u8]) -> Encoding {
        match std::str::from_utf8(prefix) {
            Ok(_) => Encoding::Utf8,
            Err(e) if e.error_len().is_none() => Encoding::Utf8,
            Err(_) => Encoding::Gbk,
        }
    }

    /// The `encoding_rs` encoding to transcode from; `None` for UTF-8, which passes through.
    fn codec(self) -> Option<&'static encoding_rs::Encoding> {
        match self {
            Encoding::Utf8 => None,
            Encoding::Gbk => Some(encoding_rs::GBK),
        }
    }
}

/// Record format of a department file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Comma-separated values with a header line (RFC 4180 quoting).
    Csv,
    /// One JSON object per line.
    Ndjson,
}

impl Format {
    /// The format from a file extension: `.csv`; `.ndjson`, `.jsonl` or `.json`.
    pub fn from_path(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "csv" => Some(Format::Csv),
            "ndjson" | "jsonl" | "json" => Some(Format::Ndjson),
            _ => None,
        }
    }
}

/// Decoded (UTF-8) input.
type Input = Box<dyn Read + Send>;

/// How long a line and a value of a department file may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadLimits {
    /// Longest physical line, in bytes.
    pub max_line_bytes: usize,
    /// Longest value of one column, in bytes.
    pub max_field_bytes: usize,
}

impl From<&IngestSettings> for ReadLimits {
    fn from(settings: &IngestSettings) -> Self {
        ReadLimits {
            max_line_bytes: settings.max_line_bytes,
            max_field_bytes: settings.max_field_bytes,
        }
    }
}

impl Default for ReadLimits {
    fn default() -> Self {
        ReadLimits {
            max_line_bytes: 1 << 20,
            max_field_bytes: 64 << 10,
        }
    }
}

/// An NDJSON object with the line it is on.
type Numbered = (u64, Map<String, Value>);

/// Where rows come from.
enum Source {
    /// A CSV reader and the record buffer it reuses.
    Csv {
        reader: csv::Reader<Input>,
        record: csv::StringRecord,
    },
    /// NDJSON lines, the number of the last line read, the line buffer, and the first object
    /// (read to find the layout) until it is yielded.
    Ndjson {
        lines: BufReader<Input>,
        line: u64,
        buf: Vec<u8>,
        first: Option<Numbered>,
        max_line: usize,
    },
}

/// Rows of one department file, read in constant memory.
pub struct RowReader {
    source: Source,
    layout: Layout,
    encoding: Encoding,
    max_field: usize,
    done: bool,
}

impl RowReader {
    /// Starts reading with the default [`ReadLimits`]: see [`RowReader::open_with`].
    pub fn open(
        reader: impl Read + Send + 'static,
        format: Format,
        mapping: &Mapping,
        kind: Option<&str>,
    ) -> Result<(RowReader, Layout), ReadError> {
        Self::open_with(reader, format, mapping, kind, ReadLimits::default())
    }

    /// Starts reading: detects the encoding, reads the header (CSV) or first object (NDJSON),
    /// and resolves it against the mapping. Returns the reader and the file's layout.
    pub fn open_with(
        reader: impl Read + Send + 'static,
        format: Format,
        mapping: &Mapping,
        kind: Option<&str>,
        limits: ReadLimits,
    ) -> Result<(RowReader, Layout), ReadError> {
        let (input, encoding) = decode(reader)?;
        let (source, layout) = match format {
            Format::Csv => open_csv(
                Box::new(LineGuard::new(input, limits.max_line_bytes)),
                mapping,
                kind,
            )?,
            Format::Ndjson => open_ndjson(input, mapping, kind, limits.max_line_bytes)?,
        };
        let reader = RowReader {
            source,
            layout: layout.clone(),
            encoding,
            max_field: limits.max_field_bytes,
            done: false,
        };
        Ok((reader, layout))
    }

    /// The encoding the file was detected to have.
    pub fn encoding(&self) -> Encoding {
        self.encoding
    }

    /// The next CSV row.
    fn next_csv(&mut self) -> Option<Result<Row, RowError>> {
        let Source::Csv { reader, record } = &mut self.source else {
            return None;
        };
        match reader.read_record(record) {
            Ok(false) => None,
            Ok(true) => Some(self.layout.csv_row(record)),
            Err(e) => {
                let line = e.position().unwrap_or_else(|| reader.position()).line();
                let fatal = matches!(e.kind(), csv::ErrorKind::Io(_));
                self.done |= fatal;
                Some(Err(RowError {
                    line,
                    reason: e.to_string(),
                    fatal,
                }))
            }
        }
    }

    /// The next NDJSON row, skipping blank lines.
    fn next_ndjson(&mut self) -> Option<Result<Row, RowError>> {
        let Source::Ndjson {
            lines,
            line,
            buf,
            first,
            max_line,
        } = &mut self.source
        else {
            return None;
        };
        if let Some((at, object)) = first.take() {
            return Some(self.layout.json_row(at, object));
        }
        match next_object(lines, line, buf, *max_line)? {
            Ok((at, object)) => Some(self.layout.json_row(at, object)),
            Err(e) => {
                self.done |= e.fatal;
                Some(Err(e))
            }
        }
    }
}

impl Iterator for RowReader {
    type Item = Result<Row, RowError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let next = match self.source {
            Source::Csv { .. } => self.next_csv(),
            Source::Ndjson { .. } => self.next_ndjson(),
        };
        self.done |= next.is_none();
        next.map(|row| row.and_then(|row| within_field_limit(row, self.max_field)))
    }
}

/// The row, or an error naming its first value longer than `max` bytes.
fn within_field_limit(row: Row, max: usize) -> Result<Row, RowError> {
    match row.values.iter().find(|(_, value)| value.len() > max) {
        Some((column, value)) => Err(RowError::new(
            row.line,
            format!(
                "the value of `{column}` is {} bytes long, longer than the limit of {max}",
                value.len()
            ),
        )),
        None => Ok(row),
    }
}

/// A reader that fails once a physical line grows longer than its limit, so that a CSV reader
/// never buffers more than one line of that length. The bytes before the overlong line are
/// read as usual; the read after them fails.
struct LineGuard<R> {
    inner: R,
    max: usize,
    since_newline: usize,
    over: bool,
}

impl<R> LineGuard<R> {
    fn new(inner: R, max: usize) -> LineGuard<R> {
        LineGuard {
            inner,
            max,
            since_newline: 0,
            over: false,
        }
    }

    fn too_long(&self) -> io::Error {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("a line is longer than the limit of {} bytes", self.max),
        )
    }
}

impl<R: Read> Read for LineGuard<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.over {
            return Err(self.too_long());
        }
        let n = self.inner.read(buf)?;
        for (at, &byte) in buf[..n].iter().enumerate() {
            self.since_newline = if byte == b'\n' {
                0
            } else {
                self.since_newline + 1
            };
            if self.since_newline > self.max {
                self.over = true;
                return if at == 0 {
                    Err(self.too_long())
                } else {
                    Ok(at)
                };
            }
        }
        Ok(n)
    }
}

/// Opens a file, telling its format from the extension unless given, and starts reading it.
pub fn open_path(
    path: &Path,
    format: Option<Format>,
    mapping: &Mapping,
    kind: Option<&str>,
) -> Result<(RowReader, Layout), ReadError> {
    let format = format
        .or_else(|| Format::from_path(path))
        .ok_or_else(|| ReadError::UnknownFormat(path.to_path_buf()))?;
    let file = File::open(path).map_err(|e| with_path(e, path))?;
    RowReader::open(file, format, mapping, kind)
}

/// Detects the encoding from the first 64 KiB and returns the whole input decoded to UTF-8,
/// byte-order mark stripped. Valid UTF-8 passes through unchanged, so bytes that are not are
/// reported by the row they are in rather than silently replaced.
fn decode(mut reader: impl Read + Send + 'static) -> io::Result<(Input, Encoding)> {
    let mut prefix = Vec::with_capacity(SNIFF_LEN);
    (&mut reader)
        .take(SNIFF_LEN as u64)
        .read_to_end(&mut prefix)?;
    let encoding = Encoding::detect(&prefix);
    let decoded = DecodeReaderBytesBuilder::new()
        .encoding(encoding.codec())
        .utf8_passthru(true)
        .bom_override(true)
        .strip_bom(true)
        .build(Cursor::new(prefix).chain(reader));
    Ok((Box::new(decoded), encoding))
}

/// Reads the CSV header and resolves it.
fn open_csv(
    input: Input,
    mapping: &Mapping,
    kind: Option<&str>,
) -> Result<(Source, Layout), ReadError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(input);
    let mut record = csv::StringRecord::new();
    match reader.read_record(&mut record) {
        Ok(true) => {}
        Ok(false) => return Err(ReadError::Empty),
        Err(e) => {
            return Err(ReadError::BadHeader {
                line: e.position().map_or(1, csv::Position::line),
                reason: e.to_string(),
            })
        }
    }
    let header: Vec<String> = record.iter().map(String::from).collect();
    let layout = mapping.resolve(&header, kind)?;
    Ok((Source::Csv { reader, record }, layout))
}

/// Reads the first NDJSON object and resolves the layout from its keys.
fn open_ndjson(
    input: Input,
    mapping: &Mapping,
    kind: Option<&str>,
    max_line: usize,
) -> Result<(Source, Layout), ReadError> {
    let mut lines = BufReader::new(input);
    let (mut line, mut buf) = (0, Vec::new());
    let (at, object) = match next_object(&mut lines, &mut line, &mut buf, max_line) {
        None => return Err(ReadError::Empty),
        Some(Err(e)) => {
            return Err(ReadError::BadHeader {
                line: e.line,
                reason: format!("{}; the first object gives the column names", e.reason),
            })
        }
        Some(Ok(first)) => first,
    };
    let header: Vec<String> = object.keys().cloned().collect();
    let layout = mapping.resolve(&header, kind)?;
    let first = Some((at, object));
    let source = Source::Ndjson {
        lines,
        line,
        buf,
        first,
        max_line,
    };
    Ok((source, layout))
}

/// The next non-blank NDJSON line as an object with its line number; `None` at the end. A line
/// longer than `max_line` bytes is read past without being kept and is an error of its line.
fn next_object(
    lines: &mut impl BufRead,
    line: &mut u64,
    buf: &mut Vec<u8>,
    max_line: usize,
) -> Option<Result<Numbered, RowError>> {
    loop {
        buf.clear();
        match read_line_within(lines, buf, max_line) {
            Ok(Line::End) => return None,
            Ok(Line::Read) => *line += 1,
            Ok(Line::TooLong(length)) => {
                *line += 1;
                let reason =
                    format!("the line is {length} bytes long, longer than the limit of {max_line}");
                return Some(Err(RowError::new(*line, reason)));
            }
            Err(e) => {
                return Some(Err(RowError {
                    line: *line + 1,
                    reason: format!("cannot read: {e}"),
                    fatal: true,
                }))
            }
        }
        if buf.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        return Some(
            parse_object(buf)
                .map(|o| (*line, o))
                .map_err(|reason| RowError::new(*line, reason)),
        );
    }
}

/// What reading one line found.
enum Line {
    /// The end of the input.
    End,
    /// A line, in the buffer.
    Read,
    /// A line of this many bytes, longer than the limit: skipped, not kept.
    TooLong(usize),
}

/// Reads one line (with its newline) into `buf` unless it is longer than `max` bytes, in which
/// case it is read past and only its length is kept.
fn read_line_within(lines: &mut impl BufRead, buf: &mut Vec<u8>, max: usize) -> io::Result<Line> {
    let mut length = 0usize;
    loop {
        let available = lines.fill_buf()?;
        if available.is_empty() {
            return Ok(match length {
                0 => Line::End,
                n if n > max => Line::TooLong(n),
                _ => Line::Read,
            });
        }
        let (chunk, ends) = match available.iter().position(|b| *b == b'\n') {
            Some(at) => (&available[..=at], true),
            None => (available, false),
        };
        length += chunk.len();
        if length <= max {
            buf.extend_from_slice(chunk);
        } else {
            buf.clear();
        }
        let used = chunk.len();
        lines.consume(used);
        if ends {
            return Ok(if length > max {
                Line::TooLong(length)
            } else {
                Line::Read
            });
        }
    }
}

/// One NDJSON line as a JSON object.
fn parse_object(bytes: &[u8]) -> Result<Map<String, Value>, String> {
    let text = std::str::from_utf8(bytes).map_err(|e| format!("not valid UTF-8: {e}"))?;
    match serde_json::from_str(text).map_err(|e| format!("invalid JSON: {e}"))? {
        Value::Object(object) => Ok(object),
        other => Err(format!(
            "expected a JSON object, found {}",
            json_type(&other)
        )),
    }
}

/// Name of a JSON value's type.
fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A JSON value as column text: strings as they are, null as empty, anything else as JSON.
fn json_text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Stores a trimmed value; empty values are left out.
fn put_value(values: &mut BTreeMap<String, String>, column: &str, value: &str) {
    let value = value.trim();
    if !value.is_empty() {
        values.insert(column.to_string(), value.to_string());
    }
}

/// A header name as matched: byte-order mark dropped, trimmed, lower case.
fn header_key(header: &str) -> String {
    header.trim_start_matches(BOM).trim().to_lowercase()
}

/// Header names as raw keys: a leading byte-order mark dropped, empty names numbered.
fn raw_names(header: &[String]) -> Vec<String> {
    header
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let h = h.trim_start_matches(BOM);
            if h.trim().is_empty() {
                format!("column_{}", i + 1)
            } else {
                h.to_string()
            }
        })
        .collect()
}

/// An invalid-mapping error.
fn mapping_error(message: impl fmt::Display) -> ReadError {
    ReadError::Mapping(message.to_string())
}

/// An I/O error naming the path it concerns.
fn with_path(e: io::Error, path: &Path) -> ReadError {
    ReadError::Io(io::Error::new(e.kind(), format!("{}: {e}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn police() -> Mapping {
        Mapping::built_in("police").expect("police mapping")
    }

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    fn read(
        bytes: &[u8],
        format: Format,
        kind: Option<&str>,
    ) -> (Layout, Vec<Result<Row, RowError>>) {
        let (reader, layout) =
            RowReader::open(Cursor::new(bytes.to_vec()), format, &police(), kind).expect("opens");
        (layout, reader.collect())
    }

    fn rows(bytes: &[u8], format: Format) -> Vec<Row> {
        read(bytes, format, None)
            .1
            .into_iter()
            .map(|r| r.expect("row"))
            .collect()
    }

    #[test]
    fn built_in_mappings_parse_with_kinds_in_file_order() {
        let names = |d: &str| -> Vec<String> {
            Mapping::built_in(d)
                .expect(d)
                .kinds
                .into_iter()
                .map(|k| k.name)
                .collect()
        };
        assert_eq!(names("police"), ["persons", "grid_police", "devices"]);
        assert_eq!(
            names("civil_affairs"),
            ["welfare", "social_organizations", "community_workers"]
        );
        assert_eq!(
            names("property"),
            ["residents", "houses", "ebike_sheds", "service_requests"]
        );
        assert_eq!(
            names("party"),
            [
                "organizations",
                "members",
                "dual_registrations",
                "volunteer_hours"
            ]
        );
        assert!(Mapping::built_in("weather").is_none());
        let persons = police().kinds.remove(0);
        assert_eq!(persons.columns[0].name, "record_id");
        assert_eq!(
            persons.columns[1].headers,
            ["公民身份号码", "身份证号", "id_number"]
        );
    }

    #[test]
    fn mapping_requires_declared_columns() {
        let text = "[kinds.a]\nrequired = [\"x\", \"y\"]\n[kinds.a.columns]\nx = [\"X\"]\n";
        let err = Mapping::parse(text).unwrap_err().to_string();
        assert!(err.contains("required column y is not declared"), "{err}");
    }

    #[test]
    fn mapping_rejects_a_header_claimed_twice_and_bad_toml() {
        let text = "[kinds.a]\nrequired = []\n[kinds.a.columns]\nx = [\"N\"]\ny = [\"n\"]\n";
        assert!(matches!(Mapping::parse(text), Err(ReadError::Mapping(_))));
        assert!(matches!(
            Mapping::parse("kinds = 3"),
            Err(ReadError::Mapping(_))
        ));
        assert!(matches!(
            Mapping::parse("[kinds]"),
            Err(ReadError::Mapping(_))
        ));
    }

    #[test]
    fn mapping_from_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("m.toml");
        std::fs::write(&path, include_str!("mappings/party.toml")).expect("write");
        assert_eq!(
            Mapping::from_file(&path).expect("parses"),
            Mapping::built_in("party").expect("party")
        );
        let missing = Mapping::from_file(&dir.path().join("none.toml")).unwrap_err();
        assert!(missing.to_string().contains("none.toml"), "{missing}");
    }

    #[test]
    fn resolves_chinese_and_english_headers_case_insensitively() {
        let header = strings(&["\u{feff}姓名", " 公民身份号码 ", "GRID_CODE", "备注"]);
        let layout = police().resolve(&header, None).expect("resolves");
        assert_eq!(layout.kind, "persons");
        assert_eq!(layout.header[0], "姓名");
        assert_eq!(
            layout.columns,
            [
                Some("name".into()),
                Some("id_number".into()),
                Some("grid_code".into()),
                None
            ]
        );
        assert_eq!(layout.extra_headers(), ["备注"]);
    }

    #[test]
    fn detects_the_first_kind_whose_required_columns_appear() {
        let header = strings(&["设备编号", "设备类型", "网格编码", "姓名"]);
        assert_eq!(
            police().resolve(&header, None).expect("resolves").kind,
            "devices"
        );
        let header = strings(&["民警身份证号", "姓名", "网格编码"]);
        assert_eq!(
            police().resolve(&header, None).expect("resolves").kind,
            "grid_police"
        );
    }

    #[test]
    fn missing_required_columns_are_named_with_their_headers() {
        let header = strings(&["姓名", "联系电话"]);
        let err = police().resolve(&header, Some("persons")).unwrap_err();
        let ReadError::MissingColumns { kind, missing, .. } = &err else {
            panic!("unexpected {err}");
        };
        assert_eq!(kind, "persons");
        assert_eq!(missing, &["id_number", "grid_code"]);
        let message = err.to_string();
        assert!(
            message.contains("id_number (header 公民身份号码 or 身份证号 or id_number)"),
            "{message}"
        );
        assert!(
            message.contains("grid_code (header 网格编码 or grid_code)"),
            "{message}"
        );
    }

    #[test]
    fn no_matching_kind_lists_kinds_and_unknown_kind_is_refused() {
        let err = police()
            .resolve(&strings(&["foo"]), None)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("persons lacks id_number, name, grid_code"),
            "{err}"
        );
        assert!(
            err.contains("devices lacks device_id, device_type, grid_code"),
            "{err}"
        );
        let err = police()
            .resolve(&strings(&["foo"]), Some("cars"))
            .unwrap_err();
        assert!(matches!(err, ReadError::UnknownKind { .. }), "{err}");
    }

    #[test]
    fn two_headers_for_one_column_are_refused() {
        let header = strings(&["身份证号", "公民身份号码", "姓名", "网格编码"]);
        let err = police().resolve(&header, None).unwrap_err();
        assert!(
            matches!(err, ReadError::DuplicateColumn { ref column, .. } if column == "id_number")
        );
        let header = strings(&["身份证号", "姓名", "网格编码", "", " "]);
        let layout = police()
            .resolve(&header, None)
            .expect("empty headers are numbered");
        assert_eq!(layout.extra_headers(), ["column_4", "column_5"]);
    }

    #[test]
    fn reads_csv_rows_with_trimmed_values_and_raw_payload() {
        let csv = "\u{feff}身份证号,姓名,网格编码,备注\n110101199003070011 , 张三 ,650203001,\n";
        let rows = rows(csv.as_bytes(), Format::Csv);
        assert_eq!(rows.len(), 1);
        let row = &rows[0];
        assert_eq!(row.line, 2);
        assert_eq!(row.values["id_number"], "110101199003070011");
        assert_eq!(row.values["name"], "张三");
        assert_eq!(row.values.len(), 3);
        assert_eq!(row.raw["姓名"], " 张三 ");
        assert_eq!(row.raw["备注"], "");
    }

    #[test]
    fn reads_gbk_files() {
        let text = "身份证号,姓名,网格编码\n110101199003070011,欧阳·娜娜,650203001\n";
        let (bytes, _, unmappable) = encoding_rs::GBK.encode(text);
        assert!(!unmappable);
        let (reader, layout) = RowReader::open(
            Cursor::new(bytes.into_owned()),
            Format::Csv,
            &police(),
            None,
        )
        .expect("opens");
        assert_eq!(reader.encoding(), Encoding::Gbk);
        assert_eq!(layout.kind, "persons");
        let rows: Vec<Row> = reader.map(|r| r.expect("row")).collect();
        assert_eq!(rows[0].values["name"], "欧阳·娜娜");
    }

    #[test]
    fn detects_encoding_allowing_a_cut_sequence() {
        let bytes = "网格".as_bytes();
        assert_eq!(Encoding::detect(&bytes[..4]), Encoding::Utf8);
        assert_eq!(
            Encoding::detect(&encoding_rs::GBK.encode("网格").0),
            Encoding::Gbk
        );
        assert_eq!(Encoding::detect(b""), Encoding::Utf8);
    }

    #[test]
    fn a_short_csv_row_is_a_row_error_and_reading_goes_on() {
        let csv = "身份证号,姓名,网格编码\n1,a,g\n2,b\n3,c,g\n";
        let (_, results) = read(csv.as_bytes(), Format::Csv, None);
        assert_eq!(results.len(), 3);
        let err = results[1].as_ref().unwrap_err();
        assert_eq!(err.line, 3);
        assert!(!err.fatal);
        assert!(err.reason.contains("expected 3 fields"), "{}", err.reason);
        assert_eq!(results[2].as_ref().expect("row").line, 4);
    }

    #[test]
    fn csv_line_numbers_count_quoted_multi_line_fields() {
        let csv =
            "身份证号,姓名,网格编码,备注\n1,a,g,\"line one\nline two\"\n2,\"b \"\"q\"\"\",g,x\n";
        let rows = rows(csv.as_bytes(), Format::Csv);
        assert_eq!(rows.iter().map(|r| r.line).collect::<Vec<_>>(), [2, 4]);
        assert_eq!(rows[0].raw["备注"], "line one\nline two");
        assert_eq!(rows[1].values["name"], "b \"q\"");
    }

    #[test]
    fn invalid_utf8_past_the_sniffed_prefix_is_a_row_error() {
        let mut bytes = "身份证号,姓名,网格编码\n".as_bytes().to_vec();
        let filler = 10_000;
        for i in 0..filler {
            bytes.extend_from_slice(format!("{i},a,g\n").as_bytes());
        }
        assert!(bytes.len() > SNIFF_LEN);
        bytes.extend_from_slice(b"x,\xff,g\ny,c,g\n");
        let (reader, _) =
            RowReader::open(Cursor::new(bytes), Format::Csv, &police(), None).expect("opens");
        assert_eq!(reader.encoding(), Encoding::Utf8);
        let results: Vec<_> = reader.skip(filler).collect();
        assert_eq!(results.len(), 2);
        assert_eq!(results[0].as_ref().unwrap_err().line, filler as u64 + 2);
        assert!(results[1].is_ok());
    }

    #[test]
    fn an_empty_file_is_refused() {
        let err = RowReader::open(Cursor::new(Vec::new()), Format::Csv, &police(), None).err();
        assert!(matches!(err, Some(ReadError::Empty)));
        let err = RowReader::open(
            Cursor::new(b"\n \n".to_vec()),
            Format::Ndjson,
            &police(),
            None,
        )
        .err();
        assert!(matches!(err, Some(ReadError::Empty)));
    }

    #[test]
    fn reads_ndjson_skipping_blank_lines_and_reporting_bad_ones() {
        let text = concat!(
            "{\"身份证号\": \"1\", \"姓名\": \" 张三 \", \"网格编码\": \"g\", \"age\": 30}\n",
            "\n",
            "{\"身份证号\": \"2\", oops}\n",
            "[1, 2]\n",
            "{\"id_number\": \"3\", \"name\": \"李四\", \"phone\": 13800138000}\r\n",
        );
        let (layout, results) = read(text.as_bytes(), Format::Ndjson, None);
        assert_eq!(layout.kind, "persons");
        assert_eq!(results.len(), 4);
        let first = results[0].as_ref().expect("row");
        assert_eq!((first.line, first.values["name"].as_str()), (1, "张三"));
        assert_eq!(first.raw["age"], 30);
        let bad = results[1].as_ref().unwrap_err();
        assert_eq!(bad.line, 3);
        assert!(bad.reason.starts_with("invalid JSON"), "{}", bad.reason);
        let array = results[2].as_ref().unwrap_err();
        assert_eq!(
            (array.line, array.reason.as_str()),
            (4, "expected a JSON object, found an array")
        );
        let last = results[3].as_ref().expect("row");
        assert_eq!(last.line, 5);
        assert_eq!(last.values["phone"], "13800138000");
        assert!(!last.values.contains_key("grid_code"));
    }

    fn read_within(text: &str, format: Format, limits: ReadLimits) -> Vec<Result<Row, RowError>> {
        let source = Cursor::new(text.as_bytes().to_vec());
        let (reader, _) =
            RowReader::open_with(source, format, &police(), None, limits).expect("opens");
        reader.collect()
    }

    const SMALL: ReadLimits = ReadLimits {
        max_line_bytes: 200,
        max_field_bytes: 20,
    };

    #[test]
    fn an_ndjson_line_over_the_limit_is_refused_and_reading_goes_on() {
        let long = "x".repeat(10_000);
        let text = format!(
            "{{\"id_number\": \"1\", \"name\": \"a\", \"grid_code\": \"g\"}}\n{{\"id_number\": \"{long}\"}}\n{{\"id_number\": \"3\", \"name\": \"c\"}}\n"
        );
        let results = read_within(&text, Format::Ndjson, SMALL);
        assert_eq!(results.len(), 3);
        let refused = results[1].as_ref().unwrap_err();
        assert_eq!(refused.line, 2);
        assert!(!refused.fatal);
        assert!(
            refused.reason.contains("longer than the limit of 200"),
            "{}",
            refused.reason
        );
        assert_eq!(results[2].as_ref().expect("row").values["name"], "c");
    }

    #[test]
    fn a_value_over_the_limit_is_refused_for_its_record() {
        let long = "y".repeat(30);
        let text = format!("身份证号,姓名,网格编码\n1,{long},g\n2,b,g\n");
        let results = read_within(&text, Format::Csv, SMALL);
        let refused = results[0].as_ref().unwrap_err();
        assert!(
            refused.reason.contains("`name` is 30 bytes long"),
            "{}",
            refused.reason
        );
        assert_eq!(results[1].as_ref().expect("row").values["name"], "b");
    }

    #[test]
    fn a_csv_line_over_the_limit_stops_the_file_there() {
        let long = "z".repeat(10_000);
        let text = format!("身份证号,姓名,网格编码\n1,a,g\n2,{long},g\n3,c,g\n");
        let results = read_within(&text, Format::Csv, SMALL);
        let last = results.last().unwrap().as_ref().unwrap_err();
        assert!(last.fatal);
        assert!(
            last.reason.contains("longer than the limit of 200"),
            "{}",
            last.reason
        );
        assert!(results.len() <= 2);
    }

    #[test]
    fn ndjson_keys_naming_one_column_twice_must_agree() {
        let text = concat!(
            "{\"身份证号\": \"1\", \"姓名\": \"a\", \"网格编码\": \"g\"}\n",
            "{\"身份证号\": \"2\", \"id_number\": \"3\"}\n",
            "{\"身份证号\": \"4\", \"id_number\": \" 4\"}\n",
        );
        let (_, results) = read(text.as_bytes(), Format::Ndjson, None);
        assert_eq!(results[1].as_ref().unwrap_err().line, 2);
        assert_eq!(results[2].as_ref().expect("row").values["id_number"], "4");
    }

    #[test]
    fn a_first_ndjson_line_that_is_no_object_is_refused() {
        let err = RowReader::open(
            Cursor::new(b"\n[1]\n".to_vec()),
            Format::Ndjson,
            &police(),
            None,
        )
        .err();
        assert!(matches!(err, Some(ReadError::BadHeader { line: 2, .. })));
    }

    #[test]
    fn formats_come_from_extensions() {
        assert_eq!(Format::from_path(Path::new("a/b.CSV")), Some(Format::Csv));
        for name in ["x.ndjson", "x.jsonl", "x.json"] {
            assert_eq!(Format::from_path(Path::new(name)), Some(Format::Ndjson));
        }
        assert_eq!(Format::from_path(Path::new("x.xlsx")), None);
        assert_eq!(Format::from_path(Path::new("x")), None);
    }

    #[test]
    fn open_path_detects_format_and_encoding() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("persons.jsonl");
        std::fs::write(
            &path,
            "{\"id_number\":\"1\",\"name\":\"a\",\"grid_code\":\"g\"}\n",
        )
        .expect("write");
        let (reader, layout) = open_path(&path, None, &police(), None).expect("opens");
        assert_eq!(layout.kind, "persons");
        assert_eq!(reader.count(), 1);
        let other = dir.path().join("persons.txt");
        std::fs::write(&other, "id_number,name,grid_code\n").expect("write");
        assert!(matches!(
            open_path(&other, None, &police(), None),
            Err(ReadError::UnknownFormat(_))
        ));
        assert!(open_path(&other, Some(Format::Csv), &police(), None).is_ok());
    }

    #[test]
    fn a_long_file_streams() {
        struct Endless(u64);
        impl Read for Endless {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let text = if self.0 == 0 {
                    "id_number,name,grid_code\n".to_string()
                } else {
                    format!("{},n,g\n", self.0)
                };
                self.0 += 1;
                let n = text.len().min(buf.len());
                buf[..n].copy_from_slice(&text.as_bytes()[..n]);
                Ok(n)
            }
        }
        let (mut reader, _) =
            RowReader::open(Endless(0), Format::Csv, &police(), None).expect("opens");
        let row = reader.nth(99_999).expect("row").expect("ok");
        assert_eq!(row.line, 100_001);
    }

    #[test]
    fn the_reader_can_move_to_another_thread() {
        fn assert_send<T: Send>() {}
        assert_send::<RowReader>();
    }
}
