//! pytestd's own requests, one file each.

pub(crate) mod cancel_run;
pub(crate) mod list_runs;
pub(crate) mod run_tests;
