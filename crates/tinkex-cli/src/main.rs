//! `tinkex`: encode, decode and count tokens, and show which tokenizer a model uses, from the
//! command line. See `tinkex --help`.

mod cache_cmd;
mod cli;
mod commands;
mod parse;
mod progress;
mod report;
mod stream;

use std::process::ExitCode;

// Loading a tokenizer is tens of millions of small allocations; mimalloc makes the whole
// `tinkex count` process measurably faster (BENCHMARKS.md). The library leaves the choice of
// allocator to the program.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::{CommandFactory, Parser};

fn main() -> ExitCode {
    // Usage errors exit here with code 2 (and --help / --version with 0).
    let cli = cli::Cli::parse();
    if let Some((subcommand, problem)) = cli.usage_problem() {
        // The subcommand's own usage line, as clap prints for its other usage errors.
        let mut command = cli::Cli::command();
        command.build();
        let mut sub = command
            .find_subcommand_mut(subcommand)
            .cloned()
            .unwrap_or(command);
        sub.error(clap::error::ErrorKind::ArgumentConflict, problem)
            .exit();
    }
    let mut out = stream::Output::stdout();
    match commands::run(cli.command, cli.offline, &mut out).and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // Keep what was produced before the error (e.g. the JSON Lines before a bad line).
            let _ = out.flush();
            report::report(&err)
        }
    }
}
