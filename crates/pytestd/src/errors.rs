//! The one place where errors become JSON-RPC error objects.

use pytestd_runner::RunnerError;
use tower_lsp_server::jsonrpc::{Error, ErrorCode};

/// LSP's `RequestFailed`: the request was valid but could not be carried out (e.g. the queue is full).
const REQUEST_FAILED: i64 = -32803;

/// Maps a runner error to its JSON-RPC error.
pub(crate) fn from_runner(err: RunnerError) -> Error {
    let code = match &err {
        RunnerError::InvalidParams { .. } | RunnerError::DuplicateRunId(_) | RunnerError::UnknownRun(_) => {
            ErrorCode::InvalidParams
        }
        RunnerError::QueueFull { .. } => ErrorCode::ServerError(REQUEST_FAILED),
        RunnerError::ShuttingDown => ErrorCode::InvalidRequest,
        RunnerError::RuntimeDir(_) => ErrorCode::InternalError,
    };
    Error {
        code,
        message: err.to_string().into(),
        data: None,
    }
}

/// The error for malformed input, as described by the stdin guard (`{code, message}`).
pub(crate) fn malformed(params: &serde_json::Value) -> Error {
    let code = params.get("code").and_then(serde_json::Value::as_i64).unwrap_or(-32700);
    let message = params
        .get("message")
        .and_then(serde_json::Value::as_str)
        .unwrap_or("parse error");
    Error {
        code: ErrorCode::from(code),
        message: message.to_owned().into(),
        data: None,
    }
}

/// A parameter that does not fit its type, with the path of the offending field.
pub(crate) fn invalid_params(path: &str, message: impl std::fmt::Display) -> Error {
    let message = if path.is_empty() || path == "." {
        format!("invalid params: {message}")
    } else {
        format!("invalid params: {path}: {message}")
    };
    Error::invalid_params(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_full_is_request_failed_and_unknown_runs_are_invalid_params() {
        assert_eq!(from_runner(RunnerError::QueueFull { limit: 3 }).code.code(), -32803);
        let err = from_runner(RunnerError::UnknownRun("x".into()));
        assert_eq!(err.code, ErrorCode::InvalidParams);
        assert!(err.message.contains('x'));
    }
}
