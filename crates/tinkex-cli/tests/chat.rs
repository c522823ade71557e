//! End-to-end tests of `tinkex chat`: every subcommand against the chat-rendering oracle
//! (tinker-cookbook 0.6.1, `crates/tinkex/tests/data/chat/`), bad input, usage errors, and the
//! order of output across batches.
//!
//! Hermetic as `tests/cli.rs`: offline, an empty Hugging Face cache, no prepared-tokenizer cache,
//! no Tinker API key; only the bundled tokenizers, temporary directories and a loopback Tinker
//! API stand-in.

use tinkex_testkit::tinker_server;

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde::Deserialize;
use serde_json::{json, Value};
use tinkex::chat::{Message, ParseTermination};

const LLAMA: &str = "meta-llama/Llama-3.1-8B";
const LLAMA_INSTRUCT: &str = "meta-llama/Llama-3.1-8B-Instruct";

fn command(args: &[&str], hub_cache: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tinkex"));
    // Hermetic: none of the developer's environment (HF_*, TINKEX_*, TINKER_*, HOME), only what
    // the test sets; no prepared-tokenizer cache, and a home inside the test's temporary directory.
    cmd.args(args)
        .env_clear()
        .env("HOME", hub_cache.join("home"))
        .env("HF_HUB_OFFLINE", "1")
        .env("HF_HUB_CACHE", hub_cache)
        .env("TINKEX_CACHE_DIR", "off");
    cmd
}

/// Runs `tinkex args...` with `stdin` (written from a thread, so a large input cannot deadlock
/// against a full stdout pipe).
fn run(args: &[&str], stdin: &[u8]) -> Output {
    run_with(args, stdin, |_| {})
}

fn run_with(args: &[&str], stdin: &[u8], env: impl FnOnce(&mut Command)) -> Output {
    let hub = tempfile::tempdir().unwrap();
    let mut cmd = command(args, hub.path());
    env(&mut cmd);
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn tinkex");
    let mut input = child.stdin.take().unwrap();
    let data = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    out
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Asserts success with nothing on stderr; returns stdout's lines as JSON.
fn ok_lines(out: &Output) -> Vec<Value> {
    assert!(
        out.status.success(),
        "status {:?}, stderr: {}",
        out.status,
        stderr(out)
    );
    assert_eq!(stderr(out), "", "nothing on stderr on success");
    stdout(out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// Asserts a user error: exit code 1, `error: ...` and maybe `hint: ...`, no panic. Returns
/// stderr.
fn user_error(out: &Output) -> String {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(1), "stderr: {err}");
    assert!(err.starts_with("error: "), "stderr: {err}");
    assert!(!err.contains("panicked"), "stderr: {err}");
    let lines: Vec<&str> = err.lines().collect();
    assert!(lines.len() <= 2, "at most an error and a hint line: {err}");
    if let Some(hint) = lines.get(1) {
        assert!(hint.starts_with("hint: "), "stderr: {err}");
    }
    err
}

/// Asserts a usage error as clap reports them: exit code 2 and the subcommand's usage line.
fn usage_error(out: &Output, usage: &str) -> String {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(2), "stderr: {err}");
    assert!(err.starts_with("error: "), "stderr: {err}");
    assert!(err.contains(&format!("Usage: {usage}")), "stderr: {err}");
    assert!(out.stdout.is_empty());
    err
}

// --- The oracle -------------------------------------------------------------------------------

#[derive(Deserialize)]
struct Sft {
    tokens: Vec<u32>,
    weights: Vec<f32>,
}

#[derive(Deserialize)]
struct Parsed {
    message: Message,
    termination: ParseTermination,
}

#[derive(Deserialize)]
struct Row {
    case: usize,
    renderer: String,
    fixture: String,
    /// The conversation line as the CLI takes it.
    input: serde_json::Map<String, Value>,
    stop: Value,
    #[serde(default)]
    sft: Option<std::collections::BTreeMap<String, Sft>>,
    #[serde(default)]
    prompt: Option<Vec<u32>>,
    #[serde(default)]
    completion: Option<Vec<u32>>,
    #[serde(default)]
    parsed: Option<Parsed>,
    #[serde(default)]
    error: Option<String>,
}

impl Row {
    /// The conversation without its last message (what the oracle's `prompt` prompts for).
    fn prompt_input(&self) -> Value {
        let mut input = self.input.clone();
        let messages = input["messages"].as_array_mut().unwrap();
        messages.pop();
        Value::Object(input)
    }
}

fn oracle() -> Vec<Row> {
    [
        "render.jsonl.zst",
        "render_next.jsonl.zst",
        "render_kimi.jsonl.zst",
    ]
    .iter()
    .flat_map(|f| oracle_file(f))
    .collect()
}

fn oracle_file(file: &str) -> Vec<Row> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tinkex/tests/data/chat")
        .join(file);
    let bytes = zstd::stream::decode_all(std::fs::File::open(&path).unwrap()).unwrap();
    String::from_utf8(bytes)
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn rows_of<'a>(rows: &'a [Row], renderer: &str) -> Vec<&'a Row> {
    rows.iter().filter(|r| r.renderer == renderer).collect()
}

/// A model whose bundled tokenizer is the oracle's fixture.
fn fixture_model(fixture: &str) -> Option<&'static str> {
    Some(match fixture {
        "llama3_1" => LLAMA,
        "qwen3" => "Qwen/Qwen3-8B",
        "deepseek_v3_1" => "deepseek-ai/DeepSeek-V3.1",
        "gpt_oss" => "openai/gpt-oss-20b",
        "o200k_base_chat" => "thinkingmachines/Inkling",
        // Bundled (issue #15): `chat sft --model moonshotai/Kimi-K2.6 --offline` with an empty
        // Hugging Face cache, as on a fresh machine.
        "kimi_k2" => "moonshotai/Kimi-K2-Thinking",
        "kimi_k25" => "moonshotai/Kimi-K2.6",
        _ => return None,
    })
}

/// Today's families are not bundled: their oracle fixtures are test-only directories
/// (`crates/tinkex/tests/data/fixtures`), given as `--model DIR`.
const TEST_ONLY_FIXTURES: [&str; 2] = ["qwen3_5", "deepseek_v4_1"];

/// A test-only fixture unpacked into a temporary directory.
fn fixture_dir(name: &str) -> tempfile::TempDir {
    let src = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tinkex/tests/data/fixtures")
        .join(name);
    let dir = tempfile::tempdir().unwrap();
    let json =
        zstd::stream::decode_all(std::fs::File::open(src.join("tokenizer.json.zst")).unwrap())
            .unwrap();
    std::fs::write(dir.path().join("tokenizer.json"), json).unwrap();
    std::fs::copy(
        src.join("tokenizer_config.json"),
        dir.path().join("tokenizer_config.json"),
    )
    .unwrap();
    dir
}

fn jsonl<T: serde::Serialize>(values: impl IntoIterator<Item = T>) -> String {
    values
        .into_iter()
        .map(|v| serde_json::to_string(&v).unwrap() + "\n")
        .collect()
}

/// `sft`, `prompt`, `parse` and `stop` of `renderer` against the oracle, on every conversation
/// the cookbook renders.
fn matches_the_oracle(rows: &[Row], renderer: &str) {
    let rows: Vec<&Row> = rows_of(rows, renderer)
        .into_iter()
        .filter(|r| r.error.is_none())
        .collect();
    assert!(rows.len() >= 10, "{renderer}: {} rows", rows.len());
    let fixture = &rows[0].fixture;
    let dir = TEST_ONLY_FIXTURES
        .contains(&fixture.as_str())
        .then(|| fixture_dir(fixture));
    let model = match &dir {
        Some(d) => d.path().to_str().unwrap(),
        None => fixture_model(fixture).unwrap(),
    };
    let args = |sub: &'static str| {
        vec![
            "chat",
            sub,
            "--offline",
            "--model",
            model,
            "--renderer",
            renderer,
            "--current-date",
            "2026-01-01",
        ]
    };

    let input = jsonl(rows.iter().map(|r| &r.input));
    let out = ok_lines(&run(&args("sft"), input.as_bytes()));
    assert_eq!(out.len(), rows.len());
    for (row, got) in rows.iter().zip(&out) {
        let want = &row.sft.as_ref().unwrap()["last_assistant_message"];
        assert_eq!(
            got["tokens"],
            json!(want.tokens),
            "{renderer} #{}",
            row.case
        );
        assert_eq!(
            got["weights"],
            json!(want.weights),
            "{renderer} #{}",
            row.case
        );
    }

    let input = jsonl(rows.iter().map(|r| r.prompt_input()));
    let out = ok_lines(&run(&args("prompt"), input.as_bytes()));
    assert_eq!(out.len(), rows.len());
    for (row, got) in rows.iter().zip(&out) {
        assert_eq!(
            got,
            &json!({ "tokens": row.prompt }),
            "{renderer} #{}",
            row.case
        );
    }

    // The oracle has no completion where the supervised tokens do not start with the prompt
    // (deepseekv3_thinking ending on an empty-content tool call: its prompt prefills `<think>`).
    let parsed: Vec<(&Row, &Vec<u32>)> = rows
        .iter()
        .filter_map(|r| Some((*r, r.completion.as_ref()?)))
        .collect();
    let input = jsonl(parsed.iter().map(|(_, c)| json!({ "tokens": c })));
    let out = ok_lines(&run(&args("parse"), input.as_bytes()));
    assert_eq!(out.len(), parsed.len());
    for ((row, _), got) in parsed.iter().zip(&out) {
        let want = row.parsed.as_ref().unwrap();
        let message: Message = serde_json::from_value(got["message"].clone()).unwrap();
        assert!(
            message.same_as(&want.message),
            "{renderer} #{}: {got}",
            row.case
        );
        assert_eq!(got["termination"], json!(want.termination));
    }

    let out = ok_lines(&run(&args("stop"), b""));
    assert_eq!(out, [json!({ "stop": rows[0].stop })]);
}

#[test]
fn llama3_matches_the_oracle() {
    matches_the_oracle(&oracle(), "llama3");
}

#[test]
fn role_colon_matches_the_oracle() {
    matches_the_oracle(&oracle(), "role_colon");
}

/// Every other renderer tinkex registers that the oracle covers, through the CLI, which knows
/// none of them by name.
#[test]
fn every_other_registered_renderer_matches_the_oracle() {
    let rows = oracle();
    for name in tinkex::chat::renderer_names() {
        let covered = rows.iter().any(|r| r.renderer == name);
        if covered && !["llama3", "role_colon"].contains(&name) {
            matches_the_oracle(&rows, name);
        }
    }
}

#[test]
fn refused_conversations_name_the_line() {
    let rows = oracle();
    let rows = rows_of(&rows, "llama3");
    let good = rows.iter().find(|r| r.error.is_none()).unwrap();
    for bad in [
        rows.iter()
            .find(|r| r.error.is_some() && r.input.contains_key("tools")),
        rows.iter()
            .find(|r| r.error.is_some() && !r.input.contains_key("tools")),
    ] {
        let bad = bad.expect("the oracle has a refusal");
        let input = jsonl([&good.input, &good.input, &bad.input, &good.input]);
        let out = run(
            &["chat", "sft", "-m", LLAMA, "--renderer", "llama3"],
            input.as_bytes(),
        );
        let err = user_error(&out);
        assert!(
            err.starts_with("error: line 3: renderer `llama3` cannot render this: "),
            "{err}"
        );
        assert_eq!(stdout(&out).lines().count(), 2, "the lines before it");
    }
}

// --- sft --datum ------------------------------------------------------------------------------

/// The tokens of a Datum's `model_input` (text chunks only).
fn chunk_tokens(datum: &Value) -> Vec<u32> {
    datum["model_input"]["chunks"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| {
            assert_eq!(c["type"], "encoded_text");
            serde_json::from_value::<Vec<u32>>(c["tokens"].clone()).unwrap()
        })
        .collect()
}

#[test]
fn datum_is_shifted_truncated_and_reduced() {
    let rows = oracle();
    let rows: Vec<&Row> = rows_of(&rows, "llama3")
        .into_iter()
        .filter(|r| r.error.is_none())
        .take(5)
        .collect();
    let input = jsonl(rows.iter().map(|r| &r.input));
    let base = [
        "chat",
        "sft",
        "-m",
        LLAMA,
        "--renderer",
        "llama3",
        "--datum",
    ];

    let out = ok_lines(&run(&base, input.as_bytes()));
    for (row, d) in rows.iter().zip(&out) {
        let sft = &row.sft.as_ref().unwrap()["last_assistant_message"];
        let n = sft.tokens.len() - 1;
        assert_eq!(chunk_tokens(d), sft.tokens[..n]);
        let inputs = &d["loss_fn_inputs"];
        assert_eq!(
            inputs["target_tokens"],
            json!({"data": sft.tokens[1..], "dtype": "int64", "shape": [n]})
        );
        assert_eq!(
            inputs["weights"],
            json!({"data": sft.weights[1..], "dtype": "float32", "shape": [n]})
        );
    }

    let mut args = base.to_vec();
    args.extend(["--max-length", "10", "--reduction", "mean"]);
    let out = ok_lines(&run(&args, input.as_bytes()));
    for (row, d) in rows.iter().zip(&out) {
        let sft = &row.sft.as_ref().unwrap()["last_assistant_message"];
        assert_eq!(chunk_tokens(d), sft.tokens[..9]);
        let targets = &d["loss_fn_inputs"]["target_tokens"];
        assert_eq!(targets["data"], json!(sft.tokens[1..10]));
        assert_eq!(targets["shape"], json!([9]));
        // The first 10 tokens of a llama3 conversation are its header and first user message:
        // no loss, and `mean` leaves all-zero weights alone.
        assert_eq!(
            d["loss_fn_inputs"]["weights"]["data"],
            json!(vec![0.0f32; 9])
        );
    }

    // Mean over the whole conversation: the weights sum to 1.
    let mut args = base.to_vec();
    args.extend(["--reduction", "mean"]);
    let out = ok_lines(&run(&args, input.as_bytes()));
    for d in &out {
        let w: Vec<f32> =
            serde_json::from_value(d["loss_fn_inputs"]["weights"]["data"].clone()).unwrap();
        let sum: f32 = w.iter().sum();
        assert!((sum - 1.0).abs() < 1e-4, "{sum}");
    }

    // --max-length and --reduction only qualify --datum.
    let out = run(
        &[
            "chat",
            "sft",
            "-m",
            LLAMA,
            "--renderer",
            "llama3",
            "--max-length",
            "10",
        ],
        b"",
    );
    usage_error(&out, "tinkex chat sft");
}

#[test]
fn train_on_selects_the_weights() {
    let line = r#"{"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hi"},{"role":"assistant","content":"Hello!"},{"role":"user","content":"Bye"},{"role":"assistant","content":"Bye!"}]}"#;
    let weights = |train_on: &str| -> Vec<f32> {
        let out = ok_lines(&run(
            &["chat", "sft", "-m", LLAMA_INSTRUCT, "--train-on", train_on],
            format!("{line}\n").as_bytes(),
        ));
        serde_json::from_value(out[0]["weights"].clone()).unwrap()
    };
    let count = |w: &[f32]| w.iter().filter(|&&x| x == 1.0).count();
    let last = weights("last_assistant_message");
    let all = weights("all_assistant_messages");
    let tokens = weights("all_tokens");
    assert!(count(&last) > 0 && count(&last) < count(&all));
    assert!(count(&all) < count(&tokens));
}

// --- prompt -----------------------------------------------------------------------------------

#[test]
fn prompt_prefill_and_role() {
    let line = "{\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}\n";
    let run_prompt = |extra: &[&str]| -> Vec<u32> {
        let mut args = vec!["chat", "prompt", "-m", LLAMA_INSTRUCT];
        args.extend_from_slice(extra);
        let out = ok_lines(&run(&args, line.as_bytes()));
        assert_eq!(out.len(), 1);
        serde_json::from_value(out[0]["tokens"].clone()).unwrap()
    };
    // <|start_header_id|>assistant<|end_header_id|>\n\n, then the prefill.
    let plain = run_prompt(&[]);
    assert_eq!(plain[plain.len() - 4..], [128006, 78191, 128007, 271]);
    let prefilled = run_prompt(&["--prefill", "Sure"]);
    assert_eq!(prefilled[..plain.len()], plain[..]);
    assert_eq!(prefilled[plain.len()..], [40914]);
    let user = run_prompt(&["--role", "user"]);
    assert_eq!(user[user.len() - 4..], [128006, 882, 128007, 271]);
}

// --- parse --stream ---------------------------------------------------------------------------

#[test]
fn parse_stream_deltas_then_the_message() {
    // "Hello", " world", "!" and <|eot_id|>; then an empty reply.
    let input = "{\"tokens\":[9906,1917,0,128009]}\n{\"tokens\":[]}\n";
    let args = ["chat", "parse", "-m", LLAMA, "--renderer", "llama3"];
    let mut stream_args = args.to_vec();
    stream_args.push("--stream");
    let deltas = ok_lines(&run(&stream_args, input.as_bytes()));
    let parsed = ok_lines(&run(&args, input.as_bytes()));
    assert_eq!(parsed.len(), 2);

    // Each input line: a header, text deltas, and last the message `parse` gives.
    let mut groups = deltas.split_inclusive(|d| d["type"] == "message");
    let first = groups.next().unwrap();
    assert_eq!(first[0], json!({"type": "header", "role": "assistant"}));
    let mut text = String::new();
    for d in &first[1..first.len() - 1] {
        assert_eq!(d["type"], "text", "{d}");
        assert_eq!(d["content_index"], 0);
        assert_eq!(d.as_object().unwrap().len(), 3, "{d}");
        text.push_str(d["text"].as_str().unwrap());
    }
    assert_eq!(text, "Hello world!");
    let last = first.last().unwrap();
    assert_eq!(last["message"], parsed[0]["message"]);
    assert_eq!(last["termination"], "stop_sequence");
    assert_eq!(last.as_object().unwrap().len(), 3);

    let second = groups.next().unwrap();
    assert_eq!(second.last().unwrap()["message"], parsed[1]["message"]);
    assert_eq!(second.last().unwrap()["termination"], "malformed");
    assert!(groups.next().is_none());
}

// --- bad input --------------------------------------------------------------------------------

const GOOD: &str =
    r#"{"messages":[{"role":"user","content":"Hi"},{"role":"assistant","content":"Hello!"}]}"#;

/// A small but real local tokenizer (word level, whitespace split): loads in no time, so the
/// many one-error processes below stay cheap. `role_colon` renders with any tokenizer.
const TINY_TOKENIZER: &str = r#"{"version":"1.0","truncation":null,"padding":null,"added_tokens":[],
"normalizer":null,"pre_tokenizer":{"type":"Whitespace"},"post_processor":null,"decoder":null,
"model":{"type":"WordLevel","vocab":{"hello":0,"world":1,"[UNK]":2},"unk_token":"[UNK]"}}"#;

fn tiny_tokenizer() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("tokenizer.json"), TINY_TOKENIZER).unwrap();
    dir
}

/// `sft` on two good lines, then `bad` (line 3), then a good one: exit 1, `error: line 3: `
/// with `needle`, the two lines before it written.
fn bad_sft_line(model: &Path, bad: &str, needle: &str) {
    let input = format!("{GOOD}\n{GOOD}\n{bad}\n{GOOD}\n");
    let model = model.to_str().unwrap();
    let out = run(
        &["chat", "sft", "-m", model, "--renderer", "role_colon"],
        input.as_bytes(),
    );
    let err = user_error(&out);
    assert!(err.starts_with("error: line 3: "), "{bad}: {err}");
    assert!(err.contains(needle), "{bad}: {err}");
    let written = stdout(&out);
    assert_eq!(written.lines().count(), 2, "{bad}: {written}");
    assert!(written.ends_with('\n'));
}

#[test]
fn bad_conversation_lines() {
    let cases: &[(&str, &str)] = &[
        ("{\"messages\": [", "invalid JSON at column"),
        ("[1, 2]", "expected a JSON object, found an array"),
        ("", "blank line"),
        ("   ", "blank line"),
        ("{\"text\": \"hi\"}", "no \"messages\" field"),
        ("{\"messages\": \"hi\"}", "\"messages\" must be an array"),
        (
            r#"{"messages":[{"role":"user","content":"Hi"},{"content":"x"}]}"#,
            "messages[1]: missing field `role`",
        ),
        (
            r#"{"messages":[{"role":"robot","content":"x"}]}"#,
            "messages[0].role: unknown variant `robot`",
        ),
        (
            r#"{"messages":[{"role":"user","content":[{"type":"text","text":"a"},{"type":"video"}]}]}"#,
            "messages[0].content[1]: unknown variant `video`",
        ),
        (
            r#"{"messages":[{"role":"user","content":[{"type":"text"}]}]}"#,
            "messages[0].content[0]: missing field `text`",
        ),
        (
            r#"{"messages":[{"role":"user","content":7}]}"#,
            "messages[0].content: invalid type",
        ),
        (
            r#"{"messages":[{"role":"assistant","content":"","tool_calls":[{"type":"function","function":{"name":"f","arguments":{"a":1}}}]}]}"#,
            "messages[0].tool_calls[0].function.arguments: must be a string holding JSON",
        ),
        (
            r#"{"messages":[{"role":"user","content":"x","trainable":"yes"}]}"#,
            "messages[0].trainable",
        ),
        (
            r#"{"messages":[{"role":"user","content":"x"}],"tools":[{"description":"no name"}]}"#,
            "tools[0]: missing field `name`",
        ),
        (
            r#"{"messages":[{"role":"user","content":"x"}],"system_prompt":"s"}"#,
            "\"system_prompt\" is only used with \"tools\"",
        ),
        (
            r#"{"messages":[{"role":"user","content":[{"type":"thinking","thinking":"hm"}]},{"role":"assistant","content":"x"}]}"#,
            "renderer `role_colon` cannot render this",
        ),
    ];
    let tiny = tiny_tokenizer();
    for (bad, needle) in cases {
        bad_sft_line(tiny.path(), bad, needle);
    }
}

/// `parse` (and `parse --stream`) on two good lines, then `bad` (line 3), then a good one.
fn bad_tokens_line(model: &str, renderer: &str, good: &str, bad: &str, needle: &str) {
    for stream in [false, true] {
        let input = format!("{good}\n{good}\n{bad}\n{good}\n");
        let mut args = vec!["chat", "parse", "-m", model, "--renderer", renderer];
        if stream {
            args.push("--stream");
        }
        let out = run(&args, input.as_bytes());
        let err = user_error(&out);
        assert!(err.starts_with("error: line 3: "), "{bad}: {err}");
        assert!(err.contains(needle), "{bad}: {err}");
        // Everything of the lines before it, nothing of it.
        let messages = stdout(&out)
            .lines()
            .filter(|l| l.contains("\"termination\""))
            .count();
        assert_eq!(messages, 2, "{bad}: the lines before it");
        assert!(stdout(&out).ends_with("}\n"));
    }
}

#[test]
fn bad_token_lines() {
    let cases: &[(&str, &str)] = &[
        ("{\"tokens\": [0, 3]}", "token id 3 is out of range"),
        (
            "{\"tokens\": [4294967296]}",
            "token id 4294967296 is out of range",
        ),
        ("{\"tokens\": [-1]}", "cannot be negative"),
        ("{\"tokens\": [1.5]}", "not an integer"),
        ("{\"tokens\": \"Hello\"}", "\"tokens\" must be an array"),
        ("{\"ids\": [1]}", "no \"tokens\" field"),
        ("{\"tokens\": [0]", "invalid JSON"),
        ("", "blank line"),
    ];
    let tiny = tiny_tokenizer();
    let model = tiny.path().to_str().unwrap();
    for (bad, needle) in cases {
        bad_tokens_line(model, "role_colon", "{\"tokens\": [0, 1]}", bad, needle);
    }
    // Two stop tokens: the cookbook refuses to guess which one ends the reply.
    bad_tokens_line(
        LLAMA,
        "llama3",
        "{\"tokens\": [9906, 128009]}",
        "{\"tokens\": [9906, 128009, 9906, 128009]}",
        "cannot render this",
    );
}

#[test]
fn empty_input_and_non_utf8() {
    let tiny = tiny_tokenizer();
    let model = tiny.path().to_str().unwrap();
    for sub in ["sft", "prompt", "parse"] {
        let out = run(&["chat", sub, "-m", model, "--renderer", "role_colon"], b"");
        assert!(ok_lines(&out).is_empty(), "{sub}");
    }
    let mut bytes = format!("{GOOD}\n").into_bytes();
    bytes.extend_from_slice(b"\xff\n");
    let out = run(
        &["chat", "sft", "-m", model, "--renderer", "role_colon"],
        &bytes,
    );
    let err = user_error(&out);
    assert!(err.starts_with("error: line 2: not valid UTF-8"), "{err}");
    assert_eq!(stdout(&out).lines().count(), 1);
}

// --- choosing the renderer --------------------------------------------------------------------

#[test]
fn a_model_without_renderers_needs_renderer() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_str().unwrap();
    for sub in ["sft", "prompt", "parse", "stop"] {
        let out = run(&["chat", sub, "--model", path], b"");
        let err = usage_error(&out, &format!("tinkex chat {sub}"));
        assert!(err.contains("--renderer"), "{err}");
        assert!(err.contains("role_colon"), "{err}");
    }
    let out = run(&["chat", "stop", "--model", "gpt2"], b"");
    usage_error(&out, "tinkex chat stop");
}

#[test]
fn unknown_renderer_lists_the_known() {
    let out = run(
        &["chat", "stop", "-m", LLAMA, "--renderer", "no_such_format"],
        b"",
    );
    let err = user_error(&out);
    assert!(err.contains("unknown renderer `no_such_format`"), "{err}");
    for name in tinkex::chat::renderer_names() {
        assert!(err.contains(name), "{name}: {err}");
    }
    assert!(err.contains("\nhint: "), "{err}");

    let out = run(
        &["chat", "stop", "-m", LLAMA, "--current-date", "2026-02-30"],
        b"",
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("YYYY-MM-DD"), "{}", stderr(&out));
}

#[test]
fn default_renderer_is_the_models_first() {
    // Llama-3.1-8B (base) recommends role_colon, the Instruct model llama3.
    assert_eq!(
        ok_lines(&run(&["chat", "stop", "-m", LLAMA], b"")),
        [json!({"stop": ["\n\nUser:"]})]
    );
    assert_eq!(
        ok_lines(&run(&["chat", "stop", "-m", LLAMA_INSTRUCT], b"")),
        [json!({"stop": [128009]})]
    );
}

#[test]
fn resolve_json_lists_the_renderers() {
    let renderers = |model: &str| {
        let out = ok_lines(&run(&["resolve", model, "--json"], b""));
        out[0]["renderers"].clone()
    };
    assert_eq!(renderers(LLAMA_INSTRUCT), json!(["llama3"]));
    assert_eq!(
        renderers("Qwen/Qwen3-8B:peft:1"),
        json!(["qwen3", "qwen3_disable_thinking"])
    );
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(renderers(dir.path().to_str().unwrap()), json!([]));
}

#[test]
fn tinker_ids_default_to_the_reported_models_renderer() {
    use tinker_server::{Reply, TinkerServer};
    let server = TinkerServer::start();
    server.route(
        "POST /api/v1/get_info",
        vec![Reply::json(json!({"model_id": "s:train:0", "model_data": {
            "model_name": LLAMA_INSTRUCT}}))],
    );
    server.route(
        "GET /api/v1/samplers/s%3Asample%3A1",
        vec![Reply::json(
            json!({"sampler_id": "s:sample:1", "base_model": "meta-llama/Llama-3.1-8B/lora:3"}),
        )],
    );
    let env = |cmd: &mut Command| {
        cmd.env("TINKER_BASE_URL", &server.url)
            .env("TINKER_API_KEY", "tml-test");
    };
    let out = run_with(
        &["chat", "stop", "--training-model-id", "s:train:0"],
        b"",
        env,
    );
    assert_eq!(ok_lines(&out), [json!({"stop": [128009]})]);
    let out = run_with(&["chat", "stop", "--sampler-id", "s:sample:1"], b"", env);
    assert_eq!(ok_lines(&out), [json!({"stop": ["\n\nUser:"]})]);
    let out = run_with(
        &["resolve", "--sampler-id", "s:sample:1", "--json"],
        b"",
        env,
    );
    assert_eq!(ok_lines(&out)[0]["renderers"], json!(["role_colon"]));
}

// --- streaming and order ----------------------------------------------------------------------

#[test]
fn order_is_kept_across_batches() {
    let rows = oracle();
    let rows: Vec<&Row> = rows_of(&rows, "llama3")
        .into_iter()
        .filter(|r| r.error.is_none())
        .collect();
    // More lines than one batch, in an order that is not periodic in the batch size.
    let picks: Vec<&Row> = (0..2500)
        .map(|i| rows[(i * 7 + i / 13) % rows.len()])
        .collect();
    let input = jsonl(picks.iter().map(|r| &r.input));
    let out = run(
        &["chat", "sft", "-m", LLAMA, "--renderer", "llama3"],
        input.as_bytes(),
    );
    let lines = ok_lines(&out);
    assert_eq!(lines.len(), picks.len());
    for (i, (row, got)) in picks.iter().zip(&lines).enumerate() {
        let want = &row.sft.as_ref().unwrap()["last_assistant_message"];
        assert_eq!(got["tokens"], json!(want.tokens), "line {}", i + 1);
    }
}

#[test]
fn closed_stdout_is_not_an_error() {
    let hub = tempfile::tempdir().unwrap();
    let mut child = command(&["chat", "sft", "-m", LLAMA_INSTRUCT], hub.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let mut stdin = child.stdin.take().unwrap();
    let input = format!("{GOOD}\n").repeat(20_000);
    let writer = std::thread::spawn(move || {
        // The child may exit before reading everything.
        let _ = stdin.write_all(input.as_bytes());
    });
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    let status = child.wait().unwrap();
    writer.join().unwrap();
    assert!(status.success(), "{status:?}, stderr: {err}");
    assert_eq!(err, "");
}

#[test]
fn a_known_model_in_the_wrong_case_gets_a_suggestion() {
    // No recommended renderer for the misspelt name: a usage error that names the right one.
    let err = usage_error(
        &run(&["chat", "prompt", "-m", "qwen/qwen3-8b"], b""),
        "tinkex chat prompt",
    );
    assert!(
        err.contains("did you mean Qwen/Qwen3-8B? (model names are case-sensitive)"),
        "{err}"
    );
    // With --renderer the tokenizer fails to load (not in the empty cache, offline): the hint.
    let err = user_error(&run(
        &[
            "chat",
            "prompt",
            "-m",
            "qwen/qwen3-8b",
            "--renderer",
            "qwen3",
        ],
        b"",
    ));
    assert!(err.contains("\nhint: did you mean Qwen/Qwen3-8B?"), "{err}");
    // An unknown name gets no suggestion.
    let err = user_error(&run(
        &[
            "chat",
            "prompt",
            "-m",
            "nobody/qwen3-8b",
            "--renderer",
            "qwen3",
        ],
        b"",
    ));
    assert!(!err.contains("did you mean"), "{err}");
}
