//! Typed extraction of request parameters, with errors that name the offending field.

use serde::de::DeserializeOwned;
use serde_json::Value;
use tower_lsp_server::jsonrpc::Error;

use crate::errors::invalid_params;

/// Parses `value` as `T`; on failure the error names the field path (e.g. `testIds[3]`).
pub(crate) fn parse<T: DeserializeOwned>(value: Value) -> Result<T, Error> {
    serde_path_to_error::deserialize(value).map_err(|err| invalid_params(&err.path().to_string(), err.inner()))
}

#[cfg(test)]
mod tests {
    use pytestd_protocol::runs::RunTestsParams;
    use serde_json::json;

    use super::*;

    #[test]
    fn names_the_field_that_does_not_fit() {
        let err = parse::<RunTestsParams>(json!({"cwd": "/p", "testIds": ["a", 3]})).unwrap_err();
        assert!(err.message.contains("testIds[1]"), "{}", err.message);
        let err = parse::<RunTestsParams>(json!({"testIds": []})).unwrap_err();
        assert!(err.message.contains("cwd"), "{}", err.message);
    }
}
