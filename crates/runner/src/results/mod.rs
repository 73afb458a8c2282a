//! What comes back from pytest and how it becomes a run's result: the result server that routes each plugin's
//! stream to its run ([`result_server`]), the journal replayed when pytest died before delivering it all
//! ([`journal`]), each test's outcome from its phase reports ([`outcome`]), how the run ended ([`verdict`]) and
//! coverage.py's report ([`coverage_report`]).

pub mod coverage_report;
pub(crate) mod journal;
pub(crate) mod outcome;
pub(crate) mod result_server;
pub(crate) mod verdict;
