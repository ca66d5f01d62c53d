//! Typed GraphQL errors: every error a client sees carries `extensions.code`
//! (BAD_USER_INPUT, UNAUTHENTICATED, FORBIDDEN, NOT_FOUND, CONFLICT, INTERNAL). Internal details go
//! to the log, never to the client.

use async_graphql::{Error, ErrorExtensions, ServerError};
use sea_orm::DbErr;
use std::fmt::Display;

/// The codes a client can branch on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    /// The request itself is wrong: a malformed id, a bad argument, a query over a limit.
    BadUserInput,
    /// The thing asked for does not exist (or is not visible to the caller).
    NotFound,
    /// The caller's credentials are missing, malformed, revoked or expired.
    Unauthenticated,
    /// The caller may not do this, or lacks what it needs (a purpose, a case reference).
    Forbidden,
    /// Over the caller's request rate.
    TooManyRequests,
    /// The request conflicts with the state of the data (e.g. deciding a decided request).
    Conflict,
    /// Something failed inside gridhub; details are in the server log.
    Internal,
}

impl Code {
    /// The value of `extensions.code`.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::BadUserInput => "BAD_USER_INPUT",
            Code::NotFound => "NOT_FOUND",
            Code::Unauthenticated => "UNAUTHENTICATED",
            Code::Forbidden => "FORBIDDEN",
            Code::TooManyRequests => "TOO_MANY_REQUESTS",
            Code::Conflict => "CONFLICT",
            Code::Internal => "INTERNAL",
        }
    }
}

/// An error with a message for the client and a code.
pub fn coded(code: Code, message: impl Into<String>) -> Error {
    Error::new(message).extend_with(|_, e| e.set("code", code.as_str()))
}

/// A BAD_USER_INPUT error.
pub fn bad_input(message: impl Into<String>) -> Error {
    coded(Code::BadUserInput, message)
}

/// A NOT_FOUND error.
pub fn not_found(message: impl Into<String>) -> Error {
    coded(Code::NotFound, message)
}

/// A FORBIDDEN error.
pub fn forbidden(message: impl Into<String>) -> Error {
    coded(Code::Forbidden, message)
}

/// Logs `cause` and returns an INTERNAL error that says nothing about it.
pub fn internal(cause: impl Display) -> Error {
    tracing::error!(error = %cause, "internal error while resolving a query");
    coded(Code::Internal, "internal error")
}

/// `.or_internal()` turns any error into a logged INTERNAL error.
pub trait OrInternal<T> {
    /// Maps the error with [`internal`].
    fn or_internal(self) -> Result<T, Error>;
}

impl<T, E: Display> OrInternal<T> for Result<T, E> {
    fn or_internal(self) -> Result<T, Error> {
        self.map_err(internal)
    }
}

/// Prefixes of the messages async-graphql gives an argument or variable value that does not
/// parse as its type (a malformed DateTime, a string for an Int).
const INPUT_VALUE_ERRORS: [&str; 2] = ["Failed to parse \"", "Expected input type \""];

/// Whether an uncoded error is the caller's: a request-level error (parse, validation, depth and
/// complexity limits: no path, and not caused by the database) or a value that does not parse.
fn is_callers(error: &ServerError) -> bool {
    let input_value = INPUT_VALUE_ERRORS
        .iter()
        .any(|prefix| error.message.starts_with(prefix));
    input_value || (error.path.is_empty() && error.source::<DbErr>().is_none())
}

/// Gives every error of a finished response a code: request-level errors and values that do
/// not parse become BAD_USER_INPUT; anything else without a code (a database error, a failed
/// resolver) becomes INTERNAL with a generic message, its text logged.
pub fn classify(response: &mut async_graphql::Response) {
    for error in &mut response.errors {
        if error
            .extensions
            .as_ref()
            .is_some_and(|e| e.get("code").is_some())
        {
            continue;
        }
        let code = if is_callers(error) {
            Code::BadUserInput
        } else {
            tracing::error!(error = %error.message, path = ?error.path, "internal error in a response");
            error.message = "internal error".to_string();
            Code::Internal
        };
        error
            .extensions
            .get_or_insert_with(Default::default)
            .set("code", code.as_str());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_graphql::{PathSegment, Pos};

    fn classified(error: ServerError) -> ServerError {
        let mut response = async_graphql::Response::from_errors(vec![error]);
        classify(&mut response);
        response.errors.remove(0)
    }

    fn code(error: &ServerError) -> Option<String> {
        let value = error.extensions.as_ref()?.get("code")?;
        Some(value.to_string().trim_matches('"').to_string())
    }

    fn at_field(error: ServerError) -> ServerError {
        error.with_path(vec![PathSegment::Field("grid".into())])
    }

    #[test]
    fn database_errors_are_internal_and_say_nothing() {
        let locked = || Error::from(DbErr::Custom("database is locked".into()));
        for error in [
            locked().into_server_error(Pos::default()),
            at_field(locked().into_server_error(Pos::default())),
        ] {
            let error = classified(error);
            assert_eq!(code(&error).as_deref(), Some("INTERNAL"));
            assert_eq!(error.message, "internal error");
        }
    }

    #[test]
    fn values_that_do_not_parse_and_request_errors_are_the_callers() {
        let junk = ServerError::new(r#"Failed to parse "DateTime": input is out of range"#, None);
        let junk = classified(at_field(junk));
        assert_eq!(code(&junk).as_deref(), Some("BAD_USER_INPUT"));
        assert!(junk.message.contains("DateTime"));
        let unknown = classified(ServerError::new("Unknown field \"x\"", None));
        assert_eq!(code(&unknown).as_deref(), Some("BAD_USER_INPUT"));
        let coded = classified(forbidden("no").into_server_error(Pos::default()));
        assert_eq!(code(&coded).as_deref(), Some("FORBIDDEN"));
    }
}
