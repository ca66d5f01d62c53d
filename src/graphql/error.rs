//! Typed GraphQL errors: every error a client sees carries `extensions.code`
//! (BAD_USER_INPUT, UNAUTHENTICATED, FORBIDDEN, NOT_FOUND, CONFLICT, INTERNAL). Internal details go
//! to the log, never to the client.

use async_graphql::{Error, ErrorExtensions};
use std::fmt::Display;

/// The codes a client can branch on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    /// The request itself is wrong: a malformed id, a bad argument, a query over a limit.
    BadUserInput,
    /// The caller may not do or see this.
    Forbidden,
    /// The thing asked for does not exist (or is not visible to the caller).
    NotFound,
    /// Something failed inside gridhub; details are in the server log.
    Internal,
}

impl Code {
    /// The value of `extensions.code`.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::BadUserInput => "BAD_USER_INPUT",
            Code::Forbidden => "FORBIDDEN",
            Code::NotFound => "NOT_FOUND",
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

/// Gives every error of a finished response a code: request-level errors (parse, validation,
/// depth and complexity limits) have no path and become BAD_USER_INPUT; anything else without a
/// code is INTERNAL.
pub fn classify(response: &mut async_graphql::Response) {
    for error in &mut response.errors {
        let extensions = error.extensions.get_or_insert_with(Default::default);
        if extensions.get("code").is_none() {
            let code = if error.path.is_empty() {
                Code::BadUserInput
            } else {
                Code::Internal
            };
            extensions.set("code", code.as_str());
        }
    }
}
