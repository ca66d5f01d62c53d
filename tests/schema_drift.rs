//! `schema/schema.graphql` is what `gridhub schema` prints; this fails when the file and the code
//! disagree (regenerate with `cargo run -- schema --output schema/schema.graphql`).

#[test]
fn schema_file_matches_the_code() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema/schema.graphql");
    let file = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        file == gridhub::graphql::sdl(),
        "schema/schema.graphql is out of date: run `cargo run -- schema --output schema/schema.graphql`"
    );
}
