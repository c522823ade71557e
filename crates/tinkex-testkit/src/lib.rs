//! Test support for the tinkex workspace (not published): loopback stand-ins for the Hugging
//! Face Hub and the Tinker API that the library's and the CLI's integration tests run against,
//! with injectable faults. One crate instead of `#[path]` includes across crates.

mod http;
pub mod hub_server;
pub mod tinker_server;
