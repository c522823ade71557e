//! `tinkex`: encode, decode and count tokens, show which tokenizer a model uses, and render chat
//! conversations, from the command line. See `tinkex --help`.

mod cache_cmd;
mod chat_cmd;
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

/// Opts this process out of transparent huge pages. mimalloc asks for them on its 1 GiB arena
/// (`MADV_HUGEPAGE`), and where the kernel compacts memory to serve such a request
/// (`defrag = madvise`, as on the benchmark machine) the reads that fill a freshly allocated
/// buffer stalled: `tinkex count` on 100 kB took 0.10–0.15 s instead of 0.03–0.05 s whenever
/// another program had just freed a lot of memory (measured after each run of a Python process;
/// the same runs with mimalloc's `MIMALLOC_ALLOW_THP=0`, which does this prctl, did not stall).
fn no_huge_pages() {
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_THP_DISABLE takes integer arguments only and changes a flag of this
    // process; no memory is passed or touched.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

fn main() -> ExitCode {
    no_huge_pages();
    // Usage errors exit here with code 2 (and --help / --version with 0).
    let cli = cli::Cli::parse();
    if let Some((path, problem)) = cli.usage_problem() {
        usage_exit(path, clap::error::ErrorKind::ArgumentConflict, problem);
    }
    let mut out = stream::Output::stdout();
    match commands::run(cli.command, cli.offline, &mut out).and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // Keep what was produced before the error (e.g. the JSON Lines before a bad line).
            let _ = out.flush();
            if let Some(u) = err.downcast_ref::<report::UsageError>() {
                usage_exit(
                    u.path,
                    clap::error::ErrorKind::MissingRequiredArgument,
                    &u.message,
                );
            }
            report::report(&err)
        }
    }
}

/// Exits (code 2) with `problem` and the usage line of the subcommand at `path`, as clap prints
/// its own usage errors.
fn usage_exit(path: &[&str], kind: clap::error::ErrorKind, problem: &str) -> ! {
    let mut command = cli::Cli::command();
    command.build();
    let mut sub = &mut command;
    for name in path {
        if sub.find_subcommand(name).is_none() {
            break;
        }
        sub = sub.find_subcommand_mut(name).expect("found just above");
    }
    sub.error(kind, problem).exit()
}
