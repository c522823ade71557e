//! The subcommands.

use std::io::{self, BufReader};
use std::sync::mpsc;

use anyhow::{Context, Result};
use tinkex::cache::TokenizerCache;
use tinkex::resolve::{Resolution, TokenizerFormat};

use std::sync::Arc;

use tinkex::client::{ClientConfig, ServiceClient, TokenizerSource, TrainingClient};
use tinkex::Tokenizer;

use crate::cli::{Command, CountArgs, DecodeArgs, EncodeArgs, ResolveArgs, TargetArgs};
use crate::parse::{id_to_u32, ids_record, parse_ids, text_record, to_u32, IdWords};
use crate::stream::{read_file, read_stdin, stdin_words, Lines, Output};

/// At most this many JSON Lines records are encoded/decoded together.
const BATCH_LINES: usize = 1024;
/// … and at most about this many bytes of input.
const BATCH_BYTES: usize = 8 << 20;
/// Parsed records the stdin reader may keep ahead of the tokenizer.
const READ_AHEAD: usize = 2 * BATCH_LINES;

/// Runs `command`, writing its results to `out`.
pub fn run(command: Command, offline: bool, out: &mut Output) -> Result<()> {
    // The environment is read here, once; values it could not use are said, not ignored.
    let (mut config, warnings) = tinkex::Config::from_env_checked();
    for w in warnings {
        crate::progress::eprintln_quiet(&format!("warning: {w}"));
    }
    if offline {
        config = config.with_offline(true);
    }
    let observer = crate::progress::observer();
    let cache = TokenizerCache::new(config).with_observer(observer.clone());
    match command {
        Command::Cache(c) => crate::cache_cmd::run(c, &cache, &*observer, out),
        Command::Resolve(args) => resolve(args, &cache, out),
        Command::Encode(args) => encode(args, &cache, out),
        Command::Decode(args) => decode(args, &cache, out),
        Command::Count(args) => count(args, &cache, out),
        Command::Chat(c) => crate::chat_cmd::run(c, &cache, out),
    }
}

/// A Tinker API client from the environment (read here, once).
fn service() -> Result<ServiceClient> {
    Ok(ServiceClient::new(ClientConfig::from_env())?)
}

/// A training client for `id`, falling back to the rules on `fallback` if get_info fails.
fn training_client(id: &str, fallback: Option<&str>) -> Result<TrainingClient> {
    let training = service()?.training_client(id);
    Ok(match fallback {
        Some(name) => training.with_fallback_to_name(name),
        None => training,
    })
}

/// The client's warnings (e.g. that the fallback name was used), on stderr.
fn warn_all(training: &TrainingClient) {
    for w in training.warnings() {
        crate::progress::eprintln_quiet(&format!("warning: {}", w.replace('\n', " ")));
    }
}

/// What names the model: one of a model name, a Tinker training model id (with an optional
/// fallback name) or a sampler id; and, for `resolve`, the server's tokenizer id.
#[derive(Debug, Clone, Copy)]
pub struct Selection<'a> {
    pub model: Option<&'a str>,
    pub training_model_id: Option<&'a str>,
    pub sampler_id: Option<&'a str>,
    pub fallback_model: Option<&'a str>,
    pub tokenizer_id: Option<&'a str>,
}

impl<'a> From<&'a TargetArgs> for Selection<'a> {
    fn from(args: &'a TargetArgs) -> Self {
        Selection {
            model: args.target.model.as_deref(),
            training_model_id: args.target.training_model_id.as_deref(),
            sampler_id: args.target.sampler_id.as_deref(),
            fallback_model: args.fallback_model.as_deref(),
            tokenizer_id: None,
        }
    }
}

/// A model found from a [`Selection`]: its tokenizer's resolution, where that came from, and
/// the model name (as given, or as the Tinker API reported it).
pub struct Located {
    pub resolution: Resolution,
    pub source: TokenizerSource,
    pub model: String,
}

/// Finds the model `sel` names (asking the Tinker API for ids); loads nothing.
pub fn locate(sel: &Selection, cache: &TokenizerCache) -> Result<Located> {
    if let Some(id) = sel.training_model_id {
        let training = training_client(id, sel.fallback_model)?;
        let resolved = training.resolve_tokenizer(cache);
        warn_all(&training);
        let (resolution, source) = resolved?;
        let model = match (&source, sel.fallback_model) {
            (TokenizerSource::FallbackName, Some(name)) => name.to_owned(),
            // Kept by the client from resolve_tokenizer: no second request.
            _ => {
                let info = training.get_info()?;
                info.model_data
                    .model_name
                    .or(info.model_name)
                    .unwrap_or_else(|| id.to_owned())
            }
        };
        return Ok(Located {
            resolution,
            source,
            model,
        });
    }
    if let Some(id) = sel.sampler_id {
        let sampler = service()?.sampling_client(id);
        let (resolution, source) = sampler.resolve_tokenizer(cache)?;
        return Ok(Located {
            resolution,
            source,
            model: sampler.get_base_model()?,
        });
    }
    let Some(model) = sel.model else {
        // clap requires one of the three.
        return Err(crate::report::fail(
            "no model given",
            Some("pass --model, --training-model-id or --sampler-id"),
        ));
    };
    let source = if sel.tokenizer_id.is_some() {
        TokenizerSource::ServerTokenizerId
    } else {
        TokenizerSource::ModelName
    };
    Ok(Located {
        resolution: cache.resolve(model, sel.tokenizer_id)?,
        source,
        model: model.to_owned(),
    })
}

/// The chat renderers recommended for `model` (first = default): the cookbook's table on the
/// name, or on `org/model` for a sampler's `org/model/variant` base model.
pub fn recommended_renderers(model: &str) -> &'static [&'static str] {
    let found = tinkex::chat::recommended_renderers(model);
    if !found.is_empty() {
        return found;
    }
    let name = model.split(':').next().unwrap_or(model);
    match name.rfind('/') {
        Some(last) if name.matches('/').count() == 2 => {
            tinkex::chat::recommended_renderers(&name[..last])
        }
        _ => found,
    }
}

/// The tokenizer `args` names.
fn load(args: &TargetArgs, cache: &TokenizerCache) -> Result<Arc<Tokenizer>> {
    let located = locate(&args.into(), cache)?;
    cache
        .get_or_load_resolved(&located.resolution)
        .map_err(|e| did_you_mean(e.into(), args.target.model.as_deref()))
}

/// A model name tinkex bundles that differs from `model` only in letter case (`qwen/qwen3-8b`
/// → `Qwen/Qwen3-8B`): Hub ids are case-sensitive, so the other spelling is a different repo.
pub fn case_twin(model: &str) -> Option<&'static str> {
    tinkex::cache::bundled_models()
        .find(|known| *known != model && known.eq_ignore_ascii_case(model))
}

/// `err` from loading MODEL, with `hint: did you mean …?` when MODEL is a known name spelt in
/// another case.
pub fn did_you_mean(err: anyhow::Error, model: Option<&str>) -> anyhow::Error {
    match model.and_then(case_twin) {
        Some(known) => crate::report::with_hint(
            err,
            format!("did you mean {known}? (model names are case-sensitive)"),
        ),
        None => err,
    }
}

fn resolve(args: ResolveArgs, cache: &TokenizerCache, out: &mut Output) -> Result<()> {
    let sel = Selection {
        model: args.model.as_deref(),
        training_model_id: args.training_model_id.as_deref(),
        sampler_id: args.sampler_id.as_deref(),
        fallback_model: args.fallback_model.as_deref(),
        tokenizer_id: args.tokenizer_id.as_deref(),
    };
    let Located {
        resolution,
        source,
        model,
    } = locate(&sel, cache)?;
    let rule = resolution.rule().as_str();
    let bundled = cache.is_bundled(&resolution);
    let (id, revision, format) = match resolution {
        // Nothing is registered in the CLI's cache, so this does not happen.
        Resolution::Registered { name } => (name, None, TokenizerFormat::TokenizerJson),
        Resolution::LocalPath { path } => {
            let format = tinkex::tokenizer::local_format(&path);
            (path.to_string_lossy().into_owned(), None, format)
        }
        Resolution::Hub { spec, .. } => (spec.tokenizer_id, spec.revision, spec.format),
        // Inkling's o200k_base_chat: a tiktoken encoding compiled in.
        Resolution::Builtin { name, .. } => (name, None, TokenizerFormat::Tiktoken),
        other => anyhow::bail!("a kind of resolution this tinkex CLI cannot show: {other:?}"),
    };
    let text = if args.json {
        format!(
            "{{\"tokenizer_id\":{},\"revision\":{},\"format\":{},\"rule\":{},\"model\":{},\"source\":{},\"renderers\":{},\"bundled\":{}}}\n",
            serde_json::to_string(&id)?,
            serde_json::to_string(&revision)?,
            serde_json::to_string(format.as_str())?,
            serde_json::to_string(rule)?,
            serde_json::to_string(&model)?,
            serde_json::to_string(source.as_str())?,
            serde_json::to_string(recommended_renderers(&model))?,
            bundled,
        )
    } else {
        match revision {
            Some(rev) => format!("{id}@{rev}\n"),
            None => format!("{id}\n"),
        }
    };
    out.write(text.as_bytes())
}

fn encode(args: EncodeArgs, cache: &TokenizerCache, out: &mut Output) -> Result<()> {
    let add_special = !args.no_special_tokens;
    if args.jsonl {
        let tok = load(&args.target, cache)?;
        return jsonl(text_record, out, |batch, out| {
            let texts: Vec<&str> = batch.iter().map(|(_, t)| t.as_str()).collect();
            match tok.encode_batch(&texts, add_special) {
                Ok(all) => all.iter().try_for_each(|ids| out.ids_line(ids)),
                // Find the failing line, writing the ones before it.
                Err(_) => batch.iter().try_for_each(|(n, text)| {
                    let ids = tok
                        .encode(text, add_special)
                        .with_context(|| format!("line {n}"))?;
                    out.ids_line(&ids)
                }),
            }
        });
    }
    let text = match (args.text, args.text_flag, &args.file) {
        (Some(text), _, _) => {
            warn_if_file(&text);
            text
        }
        (None, Some(text), _) => text,
        (None, None, Some(path)) => read_file(path)?,
        (None, None, None) => read_stdin()?,
    };
    let tok = load(&args.target, cache)?;
    let ids = tok.encode(&text, add_special)?;
    out.ids(&ids)?;
    out.write(b"\n")
}

fn decode(args: DecodeArgs, cache: &TokenizerCache, out: &mut Output) -> Result<()> {
    let skip_special = args.skip_special_tokens;
    if args.stream {
        return decode_stream(args, cache, out);
    }
    if args.jsonl {
        let tok = load(&args.target, cache)?;
        let vocab_size = tok.vocab_size();
        let parse = move |n: usize, line: &str| -> Result<Vec<u32>> {
            to_u32(&ids_record(n, line)?, vocab_size).with_context(|| format!("line {n}"))
        };
        return jsonl(parse, out, |batch, out| {
            let seqs: Vec<&[u32]> = batch.iter().map(|(_, ids)| ids.as_slice()).collect();
            match tok.decode_batch(&seqs, skip_special) {
                Ok(texts) => texts.iter().try_for_each(|t| out.text_line(t)),
                Err(_) => batch.iter().try_for_each(|(n, ids)| {
                    let text = tok
                        .decode(ids, skip_special)
                        .with_context(|| format!("line {n}"))?;
                    out.text_line(&text)
                }),
            }
        });
    }
    let raw = if args.ids.is_empty() {
        read_stdin()?
    } else {
        args.ids.join(" ")
    };
    let ids = parse_ids(&raw)?;
    let tok = load(&args.target, cache)?;
    let ids = to_u32(&ids, tok.vocab_size())?;
    let text = tok.decode(&ids, skip_special)?;
    out.write(text.as_bytes())
}

/// `decode --stream`: pieces as they complete (see the flag's help).
fn decode_stream(args: DecodeArgs, cache: &TokenizerCache, out: &mut Output) -> Result<()> {
    let tok = load(&args.target, cache)?;
    let skip = args.skip_special_tokens;
    let vocab_size = tok.vocab_size();
    if args.jsonl {
        let mut lines = Lines::new(std::io::stdin().lock());
        while let Some((n, line)) = lines.next_line()? {
            let ids =
                to_u32(&ids_record(n, &line)?, vocab_size).with_context(|| format!("line {n}"))?;
            let mut stream = tok.decode_stream(skip);
            let mut pieces = Vec::with_capacity(ids.len() + 1);
            for id in ids {
                pieces.push(
                    stream
                        .step(id)
                        .with_context(|| format!("line {n}"))?
                        .unwrap_or_default(),
                );
            }
            pieces.push(stream.flush()?);
            out.pieces_line(&pieces)?;
            out.flush()?;
        }
        return Ok(());
    }
    let mut stream = tok.decode_stream(skip);
    let mut words = IdWords::default();
    let mut feed = |word: &str| -> Result<()> {
        if let Some(id) = words.word(word)? {
            if let Some(piece) = stream.step(id_to_u32(id, vocab_size)?)? {
                out.write(piece.as_bytes())?;
                out.flush()?;
            }
        }
        Ok(())
    };
    if args.ids.is_empty() {
        stdin_words(&mut feed)?;
    } else {
        for arg in &args.ids {
            arg.split(|c: char| c.is_whitespace() || c == ',')
                .filter(|w| !w.is_empty())
                .try_for_each(&mut feed)?;
        }
    }
    words.finish()?;
    let rest = stream.flush()?;
    out.write(rest.as_bytes())
}

/// `encode`'s TEXT is the text itself; when it also names a file, the user may have meant
/// `--file` (as `count FILE` reads one): say so on stderr, and encode the text as given.
fn warn_if_file(text: &str) {
    if !text.contains('\n') && std::path::Path::new(text).is_file() {
        crate::progress::eprintln_quiet(&format!(
            "warning: encoding the text {text:?} itself, which is also the name of a file; \
             to encode the file's contents use --file {text:?}"
        ));
    }
}

fn count(args: CountArgs, cache: &TokenizerCache, out: &mut Output) -> Result<()> {
    let mut files = args.files;
    files.extend(args.file_flag);
    if files.len() <= 1 {
        let text = match (&args.text, files.first()) {
            (Some(text), _) => text.clone(),
            (None, Some(path)) => read_file(path)?,
            (None, None) => read_stdin()?,
        };
        let tok = load(&args.target, cache)?;
        // One piece: splitting the text would change the tokens at the splits.
        let n = tok.count(&text)?;
        return out.write(format!("{n}\n").as_bytes());
    }
    // Several files: the tokenizer is loaded once, each file read and counted in turn (one in
    // memory at a time), its line written (and flushed) before the next is read.
    let tok = load(&args.target, cache)?;
    let mut total: u64 = 0;
    for path in &files {
        let text = read_file(path)?;
        let n = tok.count(&text)?;
        total += n as u64;
        out.write(format!("{n}\t{}\n", path.display()).as_bytes())?;
        out.flush()?;
    }
    out.write(format!("{total}\ttotal\n").as_bytes())
}

/// The JSON Lines driver: a thread reads and parses stdin lines (`parse(line number, line)`)
/// ahead of the tokenizer; `process` gets them in batches (all that is ready, up to
/// [`BATCH_LINES`] / [`BATCH_BYTES`]) and output is flushed after each batch, so results stream
/// both for fast and for slow producers. At the first bad line, the lines before it are
/// processed and its error is returned.
pub fn jsonl<T: Send + 'static>(
    parse: impl Fn(usize, &str) -> Result<T> + Send + 'static,
    out: &mut Output,
    mut process: impl FnMut(&[(usize, T)], &mut Output) -> Result<()>,
) -> Result<()> {
    let (tx, rx) = mpsc::sync_channel::<Result<(usize, T, usize)>>(READ_AHEAD);
    std::thread::spawn(move || {
        let mut lines = Lines::new(BufReader::with_capacity(1 << 16, io::stdin()));
        loop {
            let item = match lines.next_line() {
                Ok(None) => break,
                Ok(Some((n, line))) => parse(n, &line).map(|record| (n, record, line.len())),
                Err(e) => Err(e),
            };
            let failed = item.is_err();
            // A closed channel means the main thread has stopped (e.g. stdout was closed).
            if tx.send(item).is_err() || failed {
                break;
            }
        }
    });

    let mut batch: Vec<(usize, T)> = Vec::with_capacity(BATCH_LINES);
    // Blocks for the first record of each batch; `Err` = end of input.
    while let Ok(first) = rx.recv() {
        batch.clear();
        let mut bytes = 0;
        let mut failure = None;
        let mut next = Some(first);
        while let Some(item) = next.take() {
            match item {
                Ok((n, record, len)) => {
                    batch.push((n, record));
                    bytes += len;
                }
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            }
            if batch.len() < BATCH_LINES && bytes < BATCH_BYTES {
                next = rx.try_recv().ok();
            }
        }
        if !batch.is_empty() {
            process(&batch, out)?;
        }
        out.flush()?;
        if let Some(e) = failure {
            return Err(e);
        }
    }
    Ok(())
}
