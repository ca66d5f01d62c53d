//! The command-centre screen 指挥中心大屏 at `/screen`: a page, its script and its style sheet,
//! built into the binary. The page reads through `/graphql` and `/graphql/ws` like any client,
//! with the token given in its fragment (`/screen#token=…`, never sent to a server) and sent in
//! headers and `connection_init`. A token in the query string is refused, so that none is
//! written to access logs, proxies or browser history.

use axum::extract::RawQuery;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

const PAGE: &str = include_str!("screen/index.html");
const SCRIPT: &str = include_str!("screen/screen.js");
const STYLE: &str = include_str!("screen/screen.css");

/// The page may only load its own script and style and talk to its own origin.
const POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
                      connect-src 'self'; img-src 'self' data:; form-action 'self'; \
                      base-uri 'none'; frame-ancestors 'self'";

/// A static asset with its content type, revalidated on every load so a new build shows at once.
pub fn asset(content_type: &'static str, body: &'static str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

async fn page(RawQuery(query): RawQuery) -> Response {
    if query.as_deref().is_some_and(names_a_token) {
        let message = "a token in the address is refused: open /screen#token=… instead \
                       (the fragment never leaves the browser), and revoke the token you sent";
        return (StatusCode::BAD_REQUEST, message).into_response();
    }
    html_page(PAGE, POLICY)
}

/// An HTML page built into the binary, with its content security policy and no referrer.
pub fn html_page(body: &'static str, policy: &'static str) -> Response {
    let mut response = asset("text/html; charset=utf-8", body);
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(policy),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

/// Whether a query string has a `token` parameter (or any of the credential headers' names).
fn names_a_token(query: &str) -> bool {
    query.split('&').any(|pair| {
        let name = pair.split('=').next().unwrap_or_default();
        ["token", "access_token", "api_key", "authorization"]
            .iter()
            .any(|credential| name.eq_ignore_ascii_case(credential))
    })
}

async fn script() -> Response {
    asset("text/javascript; charset=utf-8", SCRIPT)
}

async fn style() -> Response {
    asset("text/css; charset=utf-8", STYLE)
}

/// The routes of the screen: `/screen`, `/screen/screen.js` and `/screen/screen.css`.
pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/screen", get(page))
        .route("/screen/screen.js", get(script))
        .route("/screen/screen.css", get(style))
}
