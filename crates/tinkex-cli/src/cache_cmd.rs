//! `tinkex cache list|rm|prefetch`: the user's Hugging Face cache.

use std::path::Path;

use anyhow::Result;
use serde_json::json;
use tinkex::cache::TokenizerCache;
use tinkex::hub::{self, Observer};
use tinkex::resolve::{Resolution, TokenizerSpec};

use crate::cli::CacheCommand;
use crate::report::fail;
use crate::stream::Output;

pub fn run(
    command: CacheCommand,
    cache: &TokenizerCache,
    observer: &Observer,
    out: &mut Output,
) -> Result<()> {
    match command {
        CacheCommand::List { json } => list(cache, json, out),
        CacheCommand::Rm { models } => rm(&models, cache, out),
        CacheCommand::Prefetch { models } => prefetch(&models, cache, observer, out),
    }
}

fn cache_dir(cache: &TokenizerCache) -> Result<&Path> {
    cache.config().hub_cache.as_deref().ok_or_else(|| {
        fail(
            "no Hugging Face cache directory is set",
            Some("set HF_HUB_CACHE or HF_HOME (or HOME)"),
        )
    })
}

/// The Hub tokenizer `model` resolves to.
fn hub_spec(model: &str, cache: &TokenizerCache) -> Result<TokenizerSpec> {
    match cache.resolve(model, None)? {
        Resolution::Hub { spec, .. } => Ok(spec),
        Resolution::LocalPath { path } => Err(fail(
            format!(
                "`{model}` is the local path {}, not a Hub tokenizer",
                path.display()
            ),
            Some("the cache commands take model names or tokenizer repo ids"),
        )),
        Resolution::Registered { name } => Err(fail(
            format!("`{name}` is a registered tokenizer, not a Hub tokenizer"),
            None,
        )),
        Resolution::Builtin { name, .. } => Err(fail(
            format!(
                "`{model}` uses `{name}`, which is built into tinkex, not a Hub tokenizer \
                 (nothing to download or remove)"
            ),
            None,
        )),
        other => Err(fail(
            format!("`{model}` is not a Hub tokenizer ({other:?})"),
            None,
        )),
    }
}

fn human(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut v = bytes as f64;
    let mut unit = 0;
    while v >= 1000.0 && unit < UNITS.len() - 1 {
        v /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

fn list(cache: &TokenizerCache, as_json: bool, out: &mut Output) -> Result<()> {
    let dir = cache_dir(cache)?;
    let repos = hub::list(dir)?;
    if as_json {
        let v: Vec<serde_json::Value> = repos
            .iter()
            .map(|r| {
                let refs: serde_json::Map<String, serde_json::Value> = r
                    .refs
                    .iter()
                    .map(|(k, v)| (k.clone(), json!(v)))
                    .collect();
                json!({
                    "repo": r.repo_id,
                    "path": r.path.to_string_lossy(),
                    "size": r.size,
                    "refs": refs,
                    "snapshots": r.snapshots.iter().map(|s| json!({
                        "commit": s.commit,
                        "files": s.files.iter().map(|f| json!({"name": f.name, "size": f.size})).collect::<Vec<_>>(),
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        out.write(serde_json::to_string(&v)?.as_bytes())?;
        return out.write(b"\n");
    }
    let mut text = String::new();
    for r in &repos {
        let refs: Vec<String> = r
            .refs
            .iter()
            .map(|(name, commit)| format!("{name}={}", &commit[..commit.len().min(12)]))
            .collect();
        text.push_str(&format!(
            "{}  {}  {}\n",
            r.repo_id,
            human(r.size),
            if refs.is_empty() {
                "(no refs)".to_owned()
            } else {
                refs.join(" ")
            }
        ));
        for s in &r.snapshots {
            for f in &s.files {
                text.push_str(&format!(
                    "  {}  {}  {}\n",
                    &s.commit[..s.commit.len().min(12)],
                    f.name,
                    human(f.size)
                ));
            }
        }
    }
    if repos.is_empty() {
        // Say so on stderr: stdout stays empty for scripts.
        crate::progress::eprintln_quiet(&format!("no model repos in {}", dir.display()));
    }
    out.write(text.as_bytes())
}

fn rm(models: &[String], cache: &TokenizerCache, out: &mut Output) -> Result<()> {
    let dir = cache_dir(cache)?;
    for model in models {
        let spec = hub_spec(model, cache)?;
        let removed = hub::remove(dir, &spec.tokenizer_id)?;
        let line = if removed.pointers == 0 && removed.blobs == 0 {
            format!("{}: nothing cached\n", spec.tokenizer_id)
        } else {
            format!(
                "{}: removed {} file{}, {} blob{} ({})\n",
                spec.tokenizer_id,
                removed.pointers,
                if removed.pointers == 1 { "" } else { "s" },
                removed.blobs,
                if removed.blobs == 1 { "" } else { "s" },
                human(removed.bytes)
            )
        };
        out.write(line.as_bytes())?;
    }
    Ok(())
}

fn prefetch(
    models: &[String],
    cache: &TokenizerCache,
    observer: &Observer,
    out: &mut Output,
) -> Result<()> {
    for model in models {
        let spec = hub_spec(model, cache)?;
        let snapshot = hub::fetch(&spec, cache.config(), Some(observer))?;
        // Check that what is there loads, with the command's configuration (its prepared
        // store; `--offline` applies), not one of the library's choosing.
        tinkex::Tokenizer::from_path_with(&snapshot, cache.config())?;
        let commit = snapshot
            .file_name()
            .map(|c| c.to_string_lossy().into_owned())
            .unwrap_or_default();
        out.write(format!("{}@{commit} {}\n", spec.tokenizer_id, snapshot.display()).as_bytes())?;
        out.flush()?;
    }
    Ok(())
}
