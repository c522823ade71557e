//! The modules follow the data path: each uses only the modules below it. This test reads every
//! source file under `src/`, collects the `crate::…` paths its code names (comments, doc
//! comments and `#[cfg(test)]` modules left out) and fails when one names a module of a higher
//! layer. Same-layer modules may use each other (they are one unit, e.g. the handle and its
//! streaming decoder).
//!
//! The order, lowest first (a module may use any module of an earlier line):
//!
//! 1. `error`, `config`, `fs` — the failure type, the one reader of the environment, file helpers
//! 2. `net` — the one HTTP retry loop, its two policies (Hub, Tinker) as data
//! 3. `resolve` — the pure rules from a model name to a tokenizer spec
//! 4. `hub` — the Hugging Face protocol and the cache layout on disk
//! 5. `source` — locating files: bundled → Hugging Face cache → download
//! 6. `load` — bytes to an engine (and the prepared store)
//! 7. `tokenizer`, `stream`, `parallel` — the handle
//! 8. `cache` — the in-memory registry
//! 9. `global` — the process-wide registry and the functions over it
//! 10. `types` — Tinker's `ModelInput` (`from_text` takes any model reference)
//! 11. `chat` — the renderers
//! 12. `client` — the Tinker API client
//!
//! `lib.rs` is the root and may name anything; `testing.rs` is test-only support (`#[cfg(test)]`).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

const LAYERS: &[&[&str]] = &[
    &["error", "config", "fs"],
    &["net"],
    &["resolve"],
    &["hub"],
    &["source"],
    &["load"],
    &["tokenizer", "stream", "parallel"],
    &["cache"],
    &["global"],
    &["types"],
    &["chat"],
    &["client"],
];

/// Upward uses that are known, each with why it is there. Keep this list short: an entry is a
/// debt, and one that no longer occurs fails the test (so it is removed when paid).
const KNOWN: &[(&str, &str, &str)] = &[(
    "tokenizer",
    "global",
    "`pub use crate::global::{get_or_load_tokenizer, …}`: the process-wide functions are \
         named under `tinkex::tokenizer`, where callers look; tokenizer.rs calls none of them",
)];

/// Names the crate root re-exports, and the module each comes from.
const ROOT_NAMES: &[(&str, &str)] = &[
    ("Error", "error"),
    ("Result", "error"),
    ("Config", "config"),
    ("Tokenizer", "tokenizer"),
];

fn layer(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

/// The top-level module a source file belongs to (`src/hub/http.rs` → `hub`).
fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap();
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy();
    first.trim_end_matches(".rs").to_owned()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The code of `text` without comments and without the `#[cfg(test)] mod tests` at its end.
fn code_lines(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let lines: Vec<&str> = text.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        let t = line.trim_start();
        if t.starts_with("#[cfg(test)]")
            && lines
                .get(i + 1)
                .is_some_and(|n| n.trim_start().starts_with("mod "))
        {
            break;
        }
        if t.starts_with("//") {
            continue;
        }
        out.push((i + 1, (*line).to_owned()));
    }
    out
}

/// The modules a line's `crate::…` paths name: `crate::hub::fetch` → `hub`,
/// `crate::{Error, config::X}` → `error`, `config`.
fn named_modules(line: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = line;
    while let Some(i) = rest.find("crate::") {
        // `pub(crate)`/`$crate` are not paths into the crate.
        let before = &rest[..i];
        rest = &rest[i + "crate::".len()..];
        if before.ends_with('$') || before.ends_with("super::") {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            // Top-level items of the group, up to its closing brace.
            let mut depth = 0;
            let mut item = String::new();
            let mut items = Vec::new();
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => items.push(std::mem::take(&mut item)),
                    _ => {}
                }
                if depth == 0 && c != ',' {
                    item.push(c);
                }
            }
            items.push(item);
            for it in items {
                let head: String = it
                    .trim()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if !head.is_empty() {
                    found.push(head);
                }
            }
        } else {
            let head: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !head.is_empty() {
                found.push(head);
            }
        }
    }
    found
        .into_iter()
        .map(|h| {
            ROOT_NAMES
                .iter()
                .find(|(n, _)| *n == h)
                .map(|(_, m)| (*m).to_owned())
                .unwrap_or(h)
        })
        .collect()
}

#[test]
fn no_module_uses_one_above_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut violations = Vec::new();
    let mut known_seen = BTreeSet::new();
    let mut unplaced = BTreeSet::new();
    for file in &files {
        let module = module_of(&src, file);
        if module == "lib" || module == "testing" {
            continue;
        }
        let Some(own) = layer(&module) else {
            unplaced.insert(module);
            continue;
        };
        let text = std::fs::read_to_string(file).unwrap();
        for (n, line) in code_lines(&text) {
            for used in named_modules(&line) {
                // Test-only support (`#[cfg(test)]`): any module's tests may use it.
                if used == "testing" {
                    continue;
                }
                let Some(theirs) = layer(&used) else {
                    unplaced.insert(used);
                    continue;
                };
                if theirs <= own {
                    continue;
                }
                if KNOWN.iter().any(|(a, b, _)| *a == module && *b == used) {
                    known_seen.insert((module.clone(), used.clone()));
                    continue;
                }
                violations.push(format!(
                    "{}:{n}: `{module}` (layer {}) uses `{used}` (layer {}): {}",
                    file.strip_prefix(&src).unwrap().display(),
                    own + 1,
                    theirs + 1,
                    line.trim()
                ));
            }
        }
    }
    assert!(
        unplaced.is_empty(),
        "modules with no place in LAYERS (add them to tests/layering.rs): {unplaced:?}"
    );
    assert!(
        violations.is_empty(),
        "modules use modules above them on the data path (see tests/layering.rs for the \
         order):\n{}",
        violations.join("\n")
    );
    for (a, b, why) in KNOWN {
        assert!(
            known_seen.contains(&((*a).to_owned(), (*b).to_owned())),
            "the known upward use {a} → {b} ({why}) no longer occurs: remove it from KNOWN"
        );
    }
}

#[test]
fn the_path_parser_sees_what_it_should() {
    assert_eq!(named_modules("use crate::hub::layout::RepoDir;"), ["hub"]);
    assert_eq!(
        named_modules("use crate::{Error, Result, load::{self, Engine}};"),
        ["error", "error", "load"]
    );
    assert_eq!(
        named_modules("let x = crate::source::bundled(id); crate::Config::default()"),
        ["source", "config"]
    );
    assert!(named_modules("pub(crate) fn f() {}").is_empty());
    assert!(
        code_lines("//! crate::client\n/// crate::client\nfn f() {}\n")
            .iter()
            .all(|(_, l)| !l.contains("crate::"))
    );
    let with_tests =
        "use crate::error::Error;\n#[cfg(test)]\nmod tests {\n use crate::client;\n}\n";
    let code = code_lines(with_tests);
    assert_eq!(code.len(), 1, "{code:?}");
}
