//! GraphiQL at `/`, built into the binary: the page, its script and style sheets (bundled from
//! the npm registry by `web/graphiql`, with the licences of what they hold at
//! `/graphiql/LICENSES.txt`), so that it works on a network without internet. It talks to
//! `/graphql` and, for subscriptions, `/graphql/ws`, with the headers of its header editor.

use crate::screen::{asset, html_page};
use axum::response::Response;
use axum::routing::{get, MethodRouter};
use axum::Router;

const PAGE: &str = include_str!("graphiql/index.html");
const PAGE_STYLE: &str = include_str!("graphiql/page.css");
const SCRIPT: &str = include_str!("graphiql/graphiql.js");
const STYLE: &str = include_str!("graphiql/graphiql.css");
const LICENSES: &str = include_str!("graphiql/LICENSES.txt");

const JAVASCRIPT: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const TEXT: &str = "text/plain; charset=utf-8";

/// The page loads only its own script and styles (GraphiQL also sets inline styles, and its
/// fonts and icons are data URLs) and talks only to its own origin.
const POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
                      font-src 'self' data:; img-src 'self' data:; connect-src 'self'; \
                      base-uri 'none'; form-action 'none'; frame-ancestors 'self'";

async fn page() -> Response {
    html_page(PAGE, POLICY)
}

/// A built-in asset of `content_type`.
fn served<S: Clone + Send + Sync + 'static>(
    content_type: &'static str,
    body: &'static str,
) -> MethodRouter<S> {
    get(move || async move { asset(content_type, body) })
}

/// The routes: `/` and the assets under `/graphiql/`.
pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/", get(page))
        .route("/graphiql/graphiql.js", served(JAVASCRIPT, SCRIPT))
        .route("/graphiql/graphiql.css", served(CSS, STYLE))
        .route("/graphiql/page.css", served(CSS, PAGE_STYLE))
        .route("/graphiql/LICENSES.txt", served(TEXT, LICENSES))
}
