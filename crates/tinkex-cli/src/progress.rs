//! What the user sees of Hub downloads, on stderr: a progress bar per file when stderr is a
//! terminal (nothing otherwise), retries on a terminal, and warnings always.

use std::io::{IsTerminal, Write};
use std::sync::{Arc, Mutex};

use indicatif::{ProgressBar, ProgressStyle};
use tinkex::hub::{HubEvent, Observer};

/// The observer the CLI gives the library.
pub fn observer() -> Arc<Observer> {
    let terminal = std::io::stderr().is_terminal();
    let bar: Mutex<Option<ProgressBar>> = Mutex::new(None);
    Arc::new(move |event: &HubEvent<'_>| {
        let mut bar = bar.lock().unwrap_or_else(|e| e.into_inner());
        match *event {
            HubEvent::DownloadStarted {
                repo,
                file,
                total,
                resumed_from,
                ..
            } if terminal => {
                let pb = match total {
                    Some(t) => ProgressBar::new(t),
                    None => ProgressBar::new_spinner(),
                };
                if let Ok(style) = ProgressStyle::with_template(
                    "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
                ) {
                    pb.set_style(style.progress_chars("=> "));
                }
                pb.set_message(format!("{repo} {file}"));
                pb.set_position(resumed_from);
                *bar = Some(pb);
            }
            HubEvent::DownloadProgress { downloaded, .. } => {
                if let Some(pb) = bar.as_ref() {
                    pb.set_position(downloaded);
                }
            }
            HubEvent::DownloadFinished { .. } => {
                if let Some(pb) = bar.take() {
                    pb.finish_and_clear();
                }
            }
            HubEvent::Retrying {
                attempt,
                wait,
                reason,
                ..
            } if terminal => {
                let line = format!(
                    "retrying in {:.1}s (attempt {attempt}): {reason}",
                    wait.as_secs_f64()
                );
                match bar.as_ref() {
                    Some(pb) => pb.println(line),
                    None => eprintln_quiet(&line),
                }
            }
            HubEvent::Warning { message } => {
                let line = format!("warning: {}", message.replace('\n', " "));
                match bar.as_ref() {
                    Some(pb) => pb.println(line),
                    None => eprintln_quiet(&line),
                }
            }
            _ => {}
        }
    })
}

pub fn eprintln_quiet(line: &str) {
    // A closed stderr leaves nothing sensible to do.
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}
