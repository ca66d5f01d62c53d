//! Bounds on a GraphQL document, checked before the schema validates or runs it: tokens and
//! bracket nesting of the text (before it is parsed), then of the parsed document the number of
//! fragments, fragment spread cycles, and the fields, aliases and field depth it expands to once
//! every spread is replaced by its fragment. Introspection (`__schema`, `__type`) has a depth
//! limit of its own, so that the standard introspection query of GraphiQL and code generators
//! passes while the depth limit still bounds the data a query asks for. Each fragment's
//! expansion is counted once (memoised), so a document of fragments that spread each other many
//! times costs as much to check as it is long, while the count says how much work validating and
//! running it would be.

use crate::config::GraphqlSettings;
use async_graphql::parser::types::{
    ExecutableDocument, FragmentDefinition, OperationType, Selection, SelectionSet,
};
use async_graphql::parser::{parse_query, Positioned};
use async_graphql::{Name, Request};
use std::collections::HashMap;

/// The most a document may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DocumentLimits {
    /// Bytes of the text.
    pub max_bytes: usize,
    /// Tokens of the text (names, numbers, strings, punctuators).
    pub max_tokens: usize,
    /// Nesting of `{`, `[` and `(` in the text.
    pub max_nesting: usize,
    /// Fragment definitions.
    pub max_fragments: usize,
    /// Fields once every fragment spread is expanded, over all operations.
    pub max_fields: u64,
    /// Aliased fields once every fragment spread is expanded, over all operations.
    pub max_aliases: u64,
    /// Deepest nesting of fields outside introspection.
    pub max_depth: u64,
    /// Deepest nesting of fields under `__schema` or `__type`, counting that field.
    pub max_introspection_depth: u64,
}

/// Why a document is refused; every message names the limit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LimitError {
    /// Too long.
    #[error("the document is longer than {0} bytes")]
    Bytes(usize),
    /// Too many tokens.
    #[error("the document has more than {0} tokens")]
    Tokens(usize),
    /// Brackets nested too deep.
    #[error("the document nests brackets deeper than {0}")]
    Nesting(usize),
    /// Too many fragment definitions.
    #[error("the document defines more than {0} fragments")]
    Fragments(usize),
    /// A fragment spreads itself, directly or through others.
    #[error("the fragment `{0}` spreads itself")]
    Cycle(String),
    /// Too many fields once fragments are expanded.
    #[error("the document expands to more than {0} fields")]
    Fields(u64),
    /// Too many aliases once fragments are expanded.
    #[error("the document expands to more than {0} aliased fields")]
    Aliases(u64),
    /// Fields nested too deep.
    #[error("the document nests fields deeper than {0}")]
    Depth(u64),
    /// Introspection nested too deep.
    #[error("the document nests introspection fields deeper than {0}")]
    IntrospectionDepth(u64),
    /// A mutation arrived over GET.
    #[error("mutations must be sent with POST, not GET")]
    MutationOverGet,
}

/// What a document within the limits holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Shape {
    /// Fields once fragments are expanded.
    pub fields: u64,
    /// Aliased fields once fragments are expanded.
    pub aliases: u64,
    /// Whether any operation of the document is a mutation.
    pub mutation: bool,
}

impl From<&GraphqlSettings> for DocumentLimits {
    fn from(settings: &GraphqlSettings) -> Self {
        DocumentLimits {
            max_bytes: settings.max_document_bytes,
            max_tokens: settings.max_tokens,
            max_nesting: settings.max_nesting,
            max_fragments: settings.max_fragments,
            max_fields: settings.max_fields,
            max_aliases: settings.max_aliases,
            max_depth: settings.max_depth as u64,
            max_introspection_depth: settings.max_introspection_depth as u64,
        }
    }
}

/// Checks the documents of the requests of one call against `limits` (the fields and aliases
/// of all of them together, so that a batch has the budget of one document; and, unless
/// `mutations`, that none holds a mutation), and hands each request its parsed document, so
/// that the schema does not parse it again. Takes time proportional to the documents' length:
/// run it off the async workers.
pub fn prepare<'r>(
    requests: impl IntoIterator<Item = &'r mut Request>,
    limits: &DocumentLimits,
    mutations: bool,
) -> Result<(), LimitError> {
    let mut total = Size::default();
    for request in requests {
        let (document, shape) = check(&request.query, limits)?;
        if shape.mutation && !mutations {
            return Err(LimitError::MutationOverGet);
        }
        total = total.add(Size {
            fields: shape.fields,
            aliases: shape.aliases,
            ..Size::default()
        });
        within(total, limits)?;
        if let Some(document) = document {
            request.set_parsed_query(document);
        }
    }
    Ok(())
}

/// A document within `limits`: the parsed document (None when it does not parse, for the
/// schema to report the syntax error) and its shape; or the limit it exceeds.
pub fn check(
    query: &str,
    limits: &DocumentLimits,
) -> Result<(Option<ExecutableDocument>, Shape), LimitError> {
    scan(query, limits)?;
    let Ok(document) = parse_query(query) else {
        return Ok((None, Shape::default()));
    };
    let shape = measure(&document, limits)?;
    Ok((Some(document), shape))
}

/// Counts the tokens and bracket nesting of `query` without parsing it.
fn scan(query: &str, limits: &DocumentLimits) -> Result<(), LimitError> {
    if query.len() > limits.max_bytes {
        return Err(LimitError::Bytes(limits.max_bytes));
    }
    let bytes = query.as_bytes();
    let (mut tokens, mut depth, mut i) = (0usize, 0usize, 0usize);
    while i < bytes.len() {
        let b = bytes[i];
        i += 1;
        match b {
            b' ' | b'\t' | b'\n' | b'\r' | b',' => continue,
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'"' => i = string_end(bytes, i),
            b'{' | b'[' | b'(' => {
                depth += 1;
                if depth > limits.max_nesting {
                    return Err(LimitError::Nesting(limits.max_nesting));
                }
            }
            b'}' | b']' | b')' => depth = depth.saturating_sub(1),
            b'.' if bytes[i..].starts_with(b"..") => i += 2,
            b if b.is_ascii_alphanumeric() || b == b'_' || b == b'-' => {
                while i < bytes.len() && word_byte(bytes[i]) {
                    i += 1;
                }
            }
            _ => {}
        }
        tokens += 1;
        if tokens > limits.max_tokens {
            return Err(LimitError::Tokens(limits.max_tokens));
        }
    }
    Ok(())
}

/// Whether `b` continues a name or a number.
fn word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'+' | b'-')
}

/// The index after the string whose opening quote is just before `start`.
fn string_end(bytes: &[u8], start: usize) -> usize {
    if bytes[start..].starts_with(b"\"\"") {
        let body = start + 2;
        return find(&bytes[body..], b"\"\"\"").map_or(bytes.len(), |at| body + at + 3);
    }
    let mut i = start;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' | b'\n' => return i + 1,
            _ => i += 1,
        }
    }
    bytes.len()
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The fields, aliases and depths of an expansion.
#[derive(Debug, Clone, Copy, Default)]
struct Size {
    fields: u64,
    aliases: u64,
    /// Deepest nesting of fields outside introspection.
    depth: u64,
    /// Deepest nesting of introspection fields.
    introspection_depth: u64,
}

impl Size {
    /// Two selections side by side: counts add up, depths are the deeper of the two.
    fn add(self, other: Size) -> Size {
        Size {
            fields: self.fields.saturating_add(other.fields),
            aliases: self.aliases.saturating_add(other.aliases),
            depth: self.depth.max(other.depth),
            introspection_depth: self.introspection_depth.max(other.introspection_depth),
        }
    }

    /// A field named `name` (aliased or not) around the selection of size `inner`: an
    /// introspection root takes everything below it into the introspection depth.
    fn around(inner: Size, name: &str, aliased: bool) -> Size {
        let own = Size {
            fields: inner.fields.saturating_add(1),
            aliases: inner.aliases + u64::from(aliased),
            ..inner
        };
        if INTROSPECTION_ROOTS.contains(&name) {
            let below = inner.depth.max(inner.introspection_depth);
            Size {
                depth: 0,
                introspection_depth: below + 1,
                ..own
            }
        } else {
            Size {
                depth: inner.depth + 1,
                ..own
            }
        }
    }
}

/// The fields that start an introspection query.
const INTROSPECTION_ROOTS: [&str; 2] = ["__schema", "__type"];

/// A fragment's expansion: being counted (a spread reaching it again is a cycle) or counted.
enum Expansion {
    Counting,
    Counted(Size),
}

/// Expands the fragments of one document, each once.
struct Expander<'a> {
    fragments: &'a HashMap<Name, Positioned<FragmentDefinition>>,
    expansions: HashMap<&'a str, Expansion>,
    limits: &'a DocumentLimits,
}

impl<'a> Expander<'a> {
    fn selection_set(&mut self, set: &'a SelectionSet) -> Result<Size, LimitError> {
        let mut size = Size::default();
        for selection in &set.items {
            let part = match &selection.node {
                Selection::Field(field) => Size::around(
                    self.selection_set(&field.node.selection_set.node)?,
                    field.node.name.node.as_str(),
                    field.node.alias.is_some(),
                ),
                Selection::FragmentSpread(spread) => {
                    self.fragment(spread.node.fragment_name.node.as_str())?
                }
                Selection::InlineFragment(inline) => {
                    self.selection_set(&inline.node.selection_set.node)?
                }
            };
            size = size.add(part);
            within(size, self.limits)?;
        }
        Ok(size)
    }

    fn fragment(&mut self, name: &'a str) -> Result<Size, LimitError> {
        match self.expansions.get(name) {
            Some(Expansion::Counted(size)) => return Ok(*size),
            Some(Expansion::Counting) => return Err(LimitError::Cycle(name.to_string())),
            None => {}
        }
        let Some((key, definition)) = self.fragments.get_key_value(name) else {
            return Ok(Size::default());
        };
        self.expansions.insert(key.as_str(), Expansion::Counting);
        let size = self.selection_set(&definition.node.selection_set.node)?;
        self.expansions
            .insert(key.as_str(), Expansion::Counted(size));
        Ok(size)
    }
}

/// The fields and aliases of `size` are within `limits`.
fn within(size: Size, limits: &DocumentLimits) -> Result<(), LimitError> {
    if size.fields > limits.max_fields {
        return Err(LimitError::Fields(limits.max_fields));
    }
    if size.aliases > limits.max_aliases {
        return Err(LimitError::Aliases(limits.max_aliases));
    }
    Ok(())
}

/// An operation of size `size` nests within `limits`. Checked per operation, not inside a
/// fragment, which may be spread under an introspection field.
fn within_depth(size: Size, limits: &DocumentLimits) -> Result<(), LimitError> {
    if size.depth > limits.max_depth {
        return Err(LimitError::Depth(limits.max_depth));
    }
    if size.introspection_depth > limits.max_introspection_depth {
        return Err(LimitError::IntrospectionDepth(
            limits.max_introspection_depth,
        ));
    }
    Ok(())
}

/// The shape of a parsed document, or the limit it exceeds.
fn measure(document: &ExecutableDocument, limits: &DocumentLimits) -> Result<Shape, LimitError> {
    if document.fragments.len() > limits.max_fragments {
        return Err(LimitError::Fragments(limits.max_fragments));
    }
    let mut expander = Expander {
        fragments: &document.fragments,
        expansions: HashMap::new(),
        limits,
    };
    let mut total = Size::default();
    let mut mutation = false;
    for (_, operation) in document.operations.iter() {
        mutation |= operation.node.ty == OperationType::Mutation;
        let size = expander.selection_set(&operation.node.selection_set.node)?;
        within_depth(size, limits)?;
        total = total.add(size);
        within(total, limits)?;
    }
    for name in document.fragments.keys() {
        expander.fragment(name.as_str())?;
    }
    Ok(Shape {
        fields: total.fields,
        aliases: total.aliases,
        mutation,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: DocumentLimits = DocumentLimits {
        max_bytes: 100_000,
        max_tokens: 2_000,
        max_nesting: 32,
        max_fragments: 50,
        max_fields: 1_000,
        max_aliases: 100,
        max_depth: 4,
        max_introspection_depth: 6,
    };

    fn shape(query: &str) -> Result<Shape, LimitError> {
        check(query, &LIMITS).map(|(_, shape)| shape)
    }

    /// Fragments F0 … Fn, each spreading the next `fan` times; F_n selects one field.
    fn fragment_bomb(levels: usize, fan: usize) -> String {
        let mut doc = String::from("query { grid(code: \"1\") { ...F0 } }\n");
        for level in 0..levels {
            let spreads = vec![format!("...F{}", level + 1); fan].join(" ");
            doc.push_str(&format!("fragment F{level} on Grid {{ {spreads} }}\n"));
        }
        doc.push_str(&format!("fragment F{levels} on Grid {{ code }}\n"));
        doc
    }

    #[test]
    fn fields_nested_too_deep_are_refused_also_through_fragments() {
        assert!(shape("{ a { b { c { d } } } }").is_ok());
        assert_eq!(
            shape("{ a { b { c { d { e } } } } }"),
            Err(LimitError::Depth(4))
        );
        let spread =
            "{ a { ...F } } fragment F on A { b { ...G } } fragment G on B { c { d { e } } }";
        assert_eq!(shape(spread), Err(LimitError::Depth(4)));
    }

    #[test]
    fn introspection_has_a_depth_limit_of_its_own() {
        let six = "{ __schema { types { fields { type { ofType { name } } } } } }";
        assert!(shape(six).is_ok(), "deeper than max_depth, within its own");
        let seven =
            "{ __type(name: \"A\") { fields { type { ofType { ofType { ofType { name } } } } } } }";
        assert_eq!(shape(seven), Err(LimitError::IntrospectionDepth(6)));
        let beside = "{ __schema { types { name } } a { b { c { d { e } } } } }";
        assert_eq!(shape(beside), Err(LimitError::Depth(4)));
    }

    #[test]
    fn an_ordinary_query_passes_with_its_counts() {
        let two =
            shape("query { a: grid(code: \"1\") { code name } b: grid(code: \"2\") { code } }")
                .unwrap();
        assert_eq!(two.fields, 5);
        assert_eq!(two.aliases, 2);
        assert!(!two.mutation);
        assert!(shape("mutation { x }").unwrap().mutation);
    }

    #[test]
    fn a_fragment_bomb_is_refused_quickly_by_its_expansion() {
        let bomb = fragment_bomb(40, 2);
        assert!(bomb.len() < 2_000);
        let started = std::time::Instant::now();
        assert_eq!(shape(&bomb), Err(LimitError::Fields(1_000)));
        assert!(started.elapsed() < std::time::Duration::from_millis(100));
    }

    #[test]
    fn fragments_spread_a_few_times_are_counted_in_full() {
        let shape = shape(&fragment_bomb(3, 2)).unwrap();
        assert_eq!(shape.fields, 1 + 8);
    }

    #[test]
    fn spread_cycles_are_refused() {
        let direct = "query { grid(code: \"1\") { ...A } } fragment A on Grid { code ...A }";
        assert_eq!(shape(direct), Err(LimitError::Cycle("A".into())));
        let through = "query { grid(code: \"1\") { ...A } }
            fragment A on Grid { ...B } fragment B on Grid { ...A }";
        assert!(matches!(shape(through), Err(LimitError::Cycle(_))));
        let unused = "query { x } fragment A on Grid { ...A }";
        assert_eq!(shape(unused), Err(LimitError::Cycle("A".into())));
    }

    #[test]
    fn deep_nesting_is_refused_before_parsing() {
        let deep = format!("{}{}", "{a".repeat(10_000), "}".repeat(10_000));
        assert_eq!(shape(&deep), Err(LimitError::Nesting(32)));
        let list = format!("{{ a(x: {}1{}) }}", "[".repeat(100), "]".repeat(100));
        assert_eq!(shape(&list), Err(LimitError::Nesting(32)));
    }

    #[test]
    fn many_aliases_are_refused_also_through_fragments() {
        let aliases: String = (0..101).map(|i| format!("a{i}: code ")).collect();
        assert_eq!(
            shape(&format!("{{ {aliases} }}")),
            Err(LimitError::Aliases(100))
        );
        let ten: String = (0..10).map(|i| format!("a{i}: code ")).collect();
        let spreads = "...T ".repeat(11);
        let doc = format!("{{ grid(code: \"1\") {{ {spreads} }} }} fragment T on Grid {{ {ten} }}");
        assert_eq!(shape(&doc), Err(LimitError::Aliases(100)));
    }

    #[test]
    fn tokens_are_counted_outside_strings_and_comments() {
        let many = format!("{{ {} }}", "a ".repeat(2_001));
        assert_eq!(shape(&many), Err(LimitError::Tokens(2_000)));
        let long_string = format!("{{ a(x: \"{}\") }}", "{ a ".repeat(5_000));
        assert!(shape(&long_string).is_ok());
        let block = format!("{{ a(x: \"\"\"{}\"\"\") }}", "[ ".repeat(5_000));
        assert!(shape(&block).is_ok());
        let comment = format!("{{ a # {}\n }}", "{ ".repeat(5_000));
        assert!(shape(&comment).is_ok());
    }

    #[test]
    fn a_long_document_is_refused_unread() {
        let long = format!("{{ a(x: \"{}\") }}", "1".repeat(100_000));
        assert_eq!(shape(&long), Err(LimitError::Bytes(100_000)));
    }

    #[test]
    fn too_many_fragments_are_refused() {
        let fragments: String = (0..51)
            .map(|i| format!("fragment F{i} on Grid {{ code }} "))
            .collect();
        assert_eq!(
            shape(&format!("{{ x }} {fragments}")),
            Err(LimitError::Fragments(50))
        );
    }

    #[test]
    fn the_documents_of_a_batch_share_the_limits() {
        let aliases: String = (0..60).map(|i| format!("a{i}: code ")).collect();
        let mut one = Request::new(format!("{{ {aliases} }}"));
        let mut two = Request::new(format!("{{ {aliases} }}"));
        assert!(prepare([&mut one], &LIMITS, true).is_ok());
        assert_eq!(
            prepare([&mut one, &mut two], &LIMITS, true),
            Err(LimitError::Aliases(100))
        );
        let mut mutation = Request::new("mutation { x }");
        assert_eq!(
            prepare([&mut mutation], &LIMITS, false),
            Err(LimitError::MutationOverGet)
        );
    }

    #[test]
    fn a_document_that_does_not_parse_is_left_to_the_schema() {
        let (document, shape) = check("{ a(", &LIMITS).unwrap();
        assert!(document.is_none());
        assert_eq!(shape, Shape::default());
    }
}
