//! The command line: subcommands, options and help texts.

use std::path::PathBuf;

use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{Args, Parser, Subcommand};
use tinkex::chat::{Reduction, Role, TrainOnWhat};

const MODEL_HELP: &str = "Model name (e.g. Qwen/Qwen3-8B), tokenizer repo id, or local tokenizer \
                          directory (tokenizer.json, or tiktoken.model + tokenizer_config.json)";

const ABOUT: &str = "Tokenize text exactly as the Tinker models' tokenizers do";

const LONG_ABOUT: &str = "\
Tokenize text exactly as the Tinker models' tokenizers do (same ids as Python's \
transformers / tiktoken).

MODEL is a Tinker model name (e.g. meta-llama/Llama-3.1-8B, Qwen/Qwen3-8B), a Hugging Face \
tokenizer repo id, or a local directory holding tokenizer.json (or tiktoken.model). The Tinker \
lineup is bundled and works offline; other repos are read from the Hugging Face cache \
(HF_HUB_CACHE, HF_HOME) or, when it lacks them, downloaded into it from the Hub (HF_ENDPOINT, \
HF_TOKEN for gated repos) unless --offline or HF_HUB_OFFLINE=1. A progress bar is drawn on \
stderr only when stderr is a terminal.

Results go to stdout and nothing else does. Errors go to stderr as one `error: ...` line, \
sometimes followed by a `hint: ...` line; the exit code is 1 (2 for a bad command line). \
A closed stdout (e.g. `| head`) ends the command quietly with exit code 0.";

const EXAMPLES: &str = "\
Examples:
  tinkex encode --model meta-llama/Llama-3.1-8B 'Hello world'   # [128000,9906,1917]
  tinkex decode --model meta-llama/Llama-3.1-8B 9906 1917       # Hello world
  tinkex count --model Qwen/Qwen3-8B essay.txt
  tinkex resolve moonshotai/Kimi-K2.5 --json
  tinkex cache prefetch Qwen/Qwen2.5-7B-Instruct
  tinkex cache list
  tinkex chat sft --model meta-llama/Llama-3.1-8B-Instruct < conversations.jsonl";

/// `tinkex`: the tinkex command-line program.
#[derive(Debug, Parser)]
#[command(
    name = "tinkex",
    version,
    about = ABOUT,
    long_about = LONG_ABOUT,
    after_help = EXAMPLES,
    propagate_version = true,
    subcommand_required = true,
    arg_required_else_help = true
)]
pub struct Cli {
    /// Never use the network: bundled tokenizers and the Hugging Face cache only (like
    /// HF_HUB_OFFLINE=1).
    #[arg(long, global = true)]
    pub offline: bool,

    /// The subcommand.
    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    /// What clap's derive cannot express: `--fallback-model` only qualifies
    /// `--training-model-id` (a `requires` on it is not enforced across the flattened group).
    /// Returns the subcommand's path (for its usage line) and the problem.
    pub fn usage_problem(&self) -> Option<(&'static [&'static str], &'static str)> {
        let qualified = |t: &TargetArgs| {
            (
                t.fallback_model.is_some(),
                t.target.training_model_id.is_some(),
            )
        };
        let (name, (fallback, training)): (&'static [&'static str], _) = match &self.command {
            Command::Encode(EncodeArgs { target, .. }) => (&["encode"], qualified(target)),
            Command::Decode(DecodeArgs { target, .. }) => (&["decode"], qualified(target)),
            Command::Count(CountArgs { target, .. }) => (&["count"], qualified(target)),
            Command::Chat(chat) => (chat.path(), qualified(&chat.renderer_args().target)),
            Command::Resolve(args) => (
                &["resolve"],
                (
                    args.fallback_model.is_some(),
                    args.training_model_id.is_some(),
                ),
            ),
            Command::Cache(_) => (&["cache"], (false, false)),
        };
        (fallback && !training).then_some((
            name,
            "--fallback-model can only be used with --training-model-id",
        ))
    }
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    Resolve(ResolveArgs),
    Encode(EncodeArgs),
    Decode(DecodeArgs),
    Count(CountArgs),
    #[command(subcommand)]
    Chat(ChatCommand),
    #[command(subcommand)]
    Cache(CacheCommand),
}

/// `tinkex cache`.
#[derive(Debug, Subcommand)]
#[command(
    about = "List, download or remove tokenizers in the Hugging Face cache",
    long_about = "\
List, download or remove tokenizers in the Hugging Face cache that Python's huggingface_hub \
also uses: HF_HUB_CACHE, else HUGGINGFACE_HUB_CACHE, else $HF_HOME/hub, else \
$XDG_CACHE_HOME/huggingface/hub, else ~/.cache/huggingface/hub."
)]
pub enum CacheCommand {
    /// Show the model repos in the cache: refs, snapshots, files and sizes.
    #[command(long_about = "\
Show the model repos in the Hugging Face cache: size, refs (revision → commit), and each \
snapshot's files with their sizes. With --json, one JSON array:
  [{\"repo\":\"...\",\"path\":\"...\",\"size\":N,\"refs\":{\"main\":\"<commit>\"},\
\"snapshots\":[{\"commit\":\"...\",\"files\":[{\"name\":\"...\",\"size\":N}]}]}]")]
    List {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Remove the tokenizer files of MODELs' repos from the cache.
    #[command(long_about = "\
Remove the tokenizer files (tokenizer.json, tiktoken.model, tokenizer_config.json) of each \
MODEL's tokenizer repo from every snapshot in the cache, with the blobs no other file uses and \
the refs left pointing at nothing. Other files of the repo (e.g. weights Python downloaded) are \
kept.")]
    Rm {
        /// Model names or tokenizer repo ids.
        #[arg(value_name = "MODEL", required = true)]
        models: Vec<String>,
    },
    /// Download MODELs' tokenizers into the cache (checking the Hub for a newer commit).
    #[command(long_about = "\
Download each MODEL's tokenizer into the Hugging Face cache, as `encode` would on first use, \
even when tinkex bundles it. A branch revision is looked up on the Hub, so this also refreshes; \
if the Hub cannot be reached, the cached copy is used with a warning. Prints one line per \
MODEL: REPO@COMMIT and the snapshot directory.")]
    Prefetch {
        /// Model names or tokenizer repo ids.
        #[arg(value_name = "MODEL", required = true)]
        models: Vec<String>,
    },
}

/// Which tokenizer to use: exactly one of a model name, a Tinker training model id or a Tinker
/// sampler id.
#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct Target {
    #[arg(short, long, value_name = "MODEL", help = MODEL_HELP)]
    pub model: Option<String>,

    /// A Tinker training model id (`<session>:train:<n>`): use the tokenizer the Tinker API
    /// reports for it (get_info; needs TINKER_API_KEY, and TINKER_BASE_URL if not the default).
    #[arg(long, value_name = "ID")]
    pub training_model_id: Option<String>,

    /// A Tinker sampler id (`<session>:sample:<n>`): use the tokenizer of its base model
    /// (needs TINKER_API_KEY, and TINKER_BASE_URL if not the default).
    #[arg(long, value_name = "ID")]
    pub sampler_id: Option<String>,
}

/// [`Target`] and what may qualify it.
#[derive(Debug, Args)]
pub struct TargetArgs {
    #[command(flatten)]
    pub target: Target,

    /// With --training-model-id: if the Tinker API cannot say which tokenizer the model uses
    /// (get_info fails after its retries), use the tokenizer of this model name instead, with a
    /// warning on stderr. Without it such a failure is an error.
    #[arg(long, value_name = "MODEL")]
    pub fallback_model: Option<String>,
}

/// `tinkex resolve`.
#[derive(Debug, Args)]
#[command(
    about = "Show which tokenizer a model uses (no files are loaded)",
    long_about = "\
Show which tokenizer a model uses, by tinkex's resolution rules (no files are loaded).

Prints the tokenizer repo id, followed by `@REVISION` when the revision is pinned (e.g. Kimi), \
the path for a local directory, or the name of a tokenizer built into tinkex (Inkling's \
o200k_base_chat). With --json, prints one JSON object:
  {\"tokenizer_id\":\"...\",\"revision\":\"...\"|null,\"format\":\"tokenizer.json\"|\"tiktoken\",\
\"rule\":\"...\",\"model\":\"<MODEL as given>\",\"source\":\"...\",\"renderers\":[...],\
\"bundled\":true|false}
where rule is one of local_path, server_tokenizer_id, llama3, strip_variant, kimi, inkling, repo_id, and \
source is model_name (MODEL, or a training model's model_data.model_name), server_tokenizer_id \
(a training model's model_data.tokenizer_id) or sampler_base_model. With --training-model-id or \
--sampler-id, the Tinker API is asked (TINKER_API_KEY, TINKER_BASE_URL) and \"model\" is the \
model name it reported. \"renderers\" are the chat renderers recommended for the model \
(tinker-cookbook's model_info; the first is `tinkex chat`'s default), [] when it has none. \
\"bundled\" is true when this build of tinkex carries the tokenizer itself, so it loads with no \
network and no cache (not with TINKEX_NO_BUNDLED=1; a Kimi model's bundled copy is of the \
revision it is pinned at).",
    after_help = "\
Examples:
  tinkex resolve meta-llama/Llama-3.1-8B
      thinkingmachineslabinc/meta-llama-3-instruct-tokenizer
  tinkex resolve moonshotai/Kimi-K2.5 --json
  tinkex resolve Qwen/Qwen3-8B --tokenizer-id Qwen/Qwen3-8B-Base
  tinkex resolve --training-model-id SESSION:train:0 --json
  tinkex resolve --sampler-id SESSION:sample:0"
)]
#[group(skip)]
#[command(group(
    clap::ArgGroup::new("target")
        .required(true)
        .multiple(false)
        .args(["model", "training_model_id", "sampler_id"])
))]
pub struct ResolveArgs {
    /// Model name, tokenizer repo id, or local tokenizer directory (or give --training-model-id
    /// or --sampler-id instead).
    #[arg(value_name = "MODEL")]
    pub model: Option<String>,

    /// A Tinker training model id: show the tokenizer the Tinker API reports for it.
    #[arg(
        long,
        value_name = "ID",
        group = "target",
        conflicts_with = "tokenizer_id"
    )]
    pub training_model_id: Option<String>,

    /// A Tinker sampler id: show the tokenizer of its base model.
    #[arg(
        long,
        value_name = "ID",
        group = "target",
        conflicts_with = "tokenizer_id"
    )]
    pub sampler_id: Option<String>,

    /// With --training-model-id: the model name to resolve if get_info fails (see `encode
    /// --help`).
    #[arg(long, value_name = "MODEL")]
    pub fallback_model: Option<String>,

    /// The tokenizer id the Tinker server reports for the model (`get_info`'s
    /// model_data.tokenizer_id); it wins over the model-name rules.
    #[arg(long, value_name = "ID")]
    pub tokenizer_id: Option<String>,

    /// Print a JSON object instead of the plain id.
    #[arg(long)]
    pub json: bool,
}

/// `tinkex encode`.
#[derive(Debug, Args)]
#[command(
    about = "Encode text to token ids (a JSON array)",
    long_about = "\
Encode text to token ids, printed as a JSON array on one line, e.g. [128000,9906,1917].

The text is TEXT (or --text TEXT), the whole of --file FILE, or all of stdin when none is given \
(`--file -` too); a file and stdin must be UTF-8. The argument is always the text itself, never \
a file name: `encode big.txt` encodes the 7 characters \"big.txt\" (with a warning on stderr when \
such a file exists); `count` takes files as arguments instead, and both take --text and --file. \
Input is encoded exactly as read: a trailing newline (as `echo` adds) is part of the text and \
gets tokens; use `printf %s` or `echo -n` to avoid it. Special tokens (e.g. Llama-3's BOS) are added as Python's \
`tokenizer.encode(text)` does, unless --no-special-tokens is given.

With --jsonl, stdin is JSON Lines: each line is an object with a string field \"text\" (other \
fields are ignored), and stdout gets one line {\"ids\":[...]} per input line, in the same order. \
Input is processed in batches as it streams in. A blank line, a line that is not such an \
object, or a line that is not UTF-8 is an error naming the line number (`error: line 3: ...`); \
the lines before it have already been written.",
    after_help = "\
Examples:
  tinkex encode --model meta-llama/Llama-3.1-8B 'Hello world'
      [128000,9906,1917]
  tinkex encode --model meta-llama/Llama-3.1-8B --no-special-tokens 'Hello world'
      [9906,1917]
  printf %s 'Hello world' | tinkex encode --model Qwen/Qwen3-8B
      [9707,1879]
  tinkex encode --model Qwen/Qwen3-8B --file essay.txt
  printf '{\"text\":\"a\"}\\n{\"text\":\"b\"}\\n' | tinkex encode --model Qwen/Qwen3-8B --jsonl"
)]
pub struct EncodeArgs {
    #[command(flatten)]
    pub target: TargetArgs,

    /// Do not add special tokens such as BOS (Python's add_special_tokens=False).
    #[arg(long)]
    pub no_special_tokens: bool,

    /// Read JSON Lines {"text": ...} from stdin and write {"ids": [...]} lines.
    #[arg(long, conflicts_with_all = ["text", "text_flag", "file"])]
    pub jsonl: bool,

    /// The text to encode, as given (not a file name; see --file). Default: all of stdin.
    #[arg(value_name = "TEXT", allow_hyphen_values = true)]
    pub text: Option<String>,

    /// The text to encode, as given (the same as the TEXT argument).
    #[arg(
        long = "text",
        value_name = "TEXT",
        allow_hyphen_values = true,
        conflicts_with_all = ["text", "file"]
    )]
    pub text_flag: Option<String>,

    /// Encode the whole of FILE (`-`: stdin) instead of TEXT.
    #[arg(long, value_name = "FILE", conflicts_with = "text")]
    pub file: Option<PathBuf>,
}

/// `tinkex decode`.
#[derive(Debug, Args)]
#[command(
    about = "Decode token ids to text",
    long_about = "\
Decode token ids to text, as Python's `tokenizer.decode(ids)` does.

The ids are the ID arguments, or stdin when none are given. Either way they may be separated by \
whitespace and/or commas, or be one JSON array such as [9906, 1917]. Ids must be integers from \
0 to the vocabulary size minus one; anything else is an error.

The text is written as decoded, with no newline added; use `; echo` in a terminal if you want \
one. Special tokens (e.g. <|begin_of_text|>) appear in the text unless --skip-special-tokens is \
given. Decoding gives the text the tokens stand for, which is not always the text that was \
encoded, exactly as in Python: Llama-3 cleans up spaces before punctuation (\"Hello , world .\" \
comes back as \"Hello, world.\"), and tokenizers that normalise their input (Qwen3's NFC: \
\"e\" + a combining accent comes back as \"é\") return the normalised text. For the other \
bundled tokenizers (GPT-2, DeepSeek-V3 and V3.1, gpt-oss, Inkling's) decode(encode(text)) gave \
back every text of tinkex's parity set byte for byte (with the BOS those add left out).

With --jsonl, stdin is JSON Lines: each line is an object with a field \"ids\" holding an array \
of ids (other fields are ignored), and stdout gets one line {\"text\":\"...\"} per input line, in \
the same order. A blank or malformed line is an error naming the line number.",
    after_help = "\
Examples:
  tinkex decode --model meta-llama/Llama-3.1-8B 128000 9906 1917
      <|begin_of_text|>Hello world
  echo '[128000,9906,1917]' | tinkex decode --model meta-llama/Llama-3.1-8B --skip-special-tokens
      Hello world
  printf '{\"ids\":[9707]}\\n' | tinkex decode --model Qwen/Qwen3-8B --jsonl
      {\"text\":\"Hello\"}"
)]
pub struct DecodeArgs {
    #[command(flatten)]
    pub target: TargetArgs,

    /// Leave special tokens (BOS, <|im_end|>, ...) out of the text.
    #[arg(long)]
    pub skip_special_tokens: bool,

    /// Read JSON Lines {"ids": [...]} from stdin and write {"text": ...} lines.
    #[arg(long, conflicts_with = "ids")]
    pub jsonl: bool,

    /// Decode incrementally, as a sampler's tokens arrive: print text as soon as it is complete
    /// (ids from stdin are read as they come). With --jsonl, each line {"ids": [...]} is its own
    /// stream and gives {"pieces": [...]}: one piece per id (possibly empty), then the flush.
    #[arg(long)]
    pub stream: bool,

    /// Token ids (default: read from stdin).
    #[arg(value_name = "ID", allow_negative_numbers = true)]
    pub ids: Vec<String>,
}

/// `tinkex count`.
#[derive(Debug, Args)]
#[command(
    about = "Count the tokens of a text or of files",
    long_about = "\
Count the tokens of a text: the length of `encode --no-special-tokens` of the same text, printed \
as a number and a newline.

The text is the whole of each FILE (arguments or --file; `-` is stdin), or --text TEXT, or all \
of stdin when none is given. The arguments are always file names (`encode` takes the text itself \
as its argument; both take --text and --file). Input must be UTF-8 and is counted exactly as \
read (a trailing newline counts). Each file is tokenized in one piece, since splitting it would \
change the tokens at the splits.

With one input the output is just the number. With several FILEs, one line per file, `COUNT<TAB>FILE`, \
in the order given, then `TOTAL<TAB>total`; a file that cannot be read stops the command with an \
error after the lines of the files before it.",
    after_help = "\
Examples:
  tinkex count --model Qwen/Qwen3-8B essay.txt
  printf %s 'Hello world' | tinkex count --model meta-llama/Llama-3.1-8B
      2
  tinkex count --model meta-llama/Llama-3.1-8B --text 'Hello world'
      2
  tinkex count --model Qwen/Qwen3-8B a.txt b.txt      # a line per file, then the total"
)]
pub struct CountArgs {
    #[command(flatten)]
    pub target: TargetArgs,

    /// The files to count (`-`: stdin; none: stdin).
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,

    /// Another file to count, after the FILE arguments (may be repeated).
    #[arg(long = "file", value_name = "FILE")]
    pub file_flag: Vec<PathBuf>,

    /// Count this text, as given, instead of files or stdin.
    #[arg(
        long,
        value_name = "TEXT",
        allow_hyphen_values = true,
        conflicts_with_all = ["files", "file_flag"]
    )]
    pub text: Option<String>,
}

/// `tinkex chat`.
#[derive(Debug, Subcommand)]
#[command(
    about = "Render conversations for training and sampling, and parse sampled replies",
    long_about = "\
Render conversations as tinker-cookbook's renderers do (the same tokens, weights and parsed \
messages): supervised examples for training, prompts for sampling, sampled tokens back into \
messages.

Every subcommand takes the model flags of `encode` (--model, --training-model-id, \
--sampler-id) and --renderer NAME, by default the model's first recommended renderer (`tinkex \
resolve MODEL --json` lists them). A model with none, e.g. a local tokenizer directory, needs \
--renderer.

`sft` and `prompt` read JSON Lines on stdin, one conversation a line:
  {\"messages\": [MESSAGE, ...], \"tools\": [TOOL, ...], \"system_prompt\": \"...\"}
  MESSAGE: {\"role\": \"system\"|\"user\"|\"assistant\"|\"tool\", \"content\": \"text\" or \
[{\"type\": \"text\", \"text\": \"...\"}, {\"type\": \"thinking\", \"thinking\": \"...\"}], \
\"tool_calls\": [{\"type\": \"function\", \"id\": \"call_1\", \"function\": {\"name\": \"...\", \
\"arguments\": \"<JSON text>\"}}], \"tool_call_id\": \"...\", \"name\": \"...\", \"trainable\": \
true}
  TOOL: {\"name\": \"...\", \"description\": \"...\", \"parameters\": <JSON schema>}
Only \"messages\", and each message's \"role\" and \"content\", are required; \"arguments\" is \
a string holding JSON. With \"tools\", the renderer's tool prefix for them (and \
\"system_prompt\", which needs \"tools\") goes before the messages.

Output is one JSON line per input line, in input order. Input is read as it arrives and \
rendered in batches on all cores. A blank line, a line that is not such an object, an unknown \
role or content part, or a conversation the renderer cannot express (e.g. a thinking part for \
llama3) is an error naming the line and the field (`error: line 3: messages[1].role: ...`), \
with exit code 1; the lines before it have already been written. Empty input gives no output.",
    after_help = "\
Examples:
  echo '{\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"},{\"role\":\"assistant\",\"content\":\"Hello!\"}]}' \\
      | tinkex chat sft --model meta-llama/Llama-3.1-8B-Instruct
      {\"tokens\":[128000,128006,...],\"weights\":[0.0,0.0,...,1.0]}
  tinkex chat sft --model Qwen/Qwen3-8B --datum --max-length 4096 < train.jsonl > datums.jsonl
  tinkex chat prompt --model ./my-tokenizer --renderer role_colon < conversations.jsonl
  echo '{\"tokens\":[9906,0,128009]}' | tinkex chat parse --model meta-llama/Llama-3.1-8B --renderer llama3
  tinkex chat stop --model meta-llama/Llama-3.1-8B-Instruct"
)]
pub enum ChatCommand {
    Sft(ChatSftArgs),
    Prompt(ChatPromptArgs),
    Parse(ChatParseArgs),
    Stop(ChatStopArgs),
}

impl ChatCommand {
    /// The subcommand's path, for its usage line.
    pub fn path(&self) -> &'static [&'static str] {
        match self {
            ChatCommand::Sft(_) => &["chat", "sft"],
            ChatCommand::Prompt(_) => &["chat", "prompt"],
            ChatCommand::Parse(_) => &["chat", "parse"],
            ChatCommand::Stop(_) => &["chat", "stop"],
        }
    }

    /// The model and renderer flags every chat subcommand has.
    pub fn renderer_args(&self) -> &RendererArgs {
        match self {
            ChatCommand::Sft(a) => &a.renderer,
            ChatCommand::Prompt(a) => &a.renderer,
            ChatCommand::Parse(a) => &a.renderer,
            ChatCommand::Stop(a) => &a.renderer,
        }
    }
}

/// Which model and which of its chat formats.
#[derive(Debug, Args)]
pub struct RendererArgs {
    #[command(flatten)]
    pub target: TargetArgs,

    /// The renderer, by tinker-cookbook's name (llama3, role_colon, qwen3, ...). Default: the
    /// model's first recommended renderer; required for a model with none (e.g. a local
    /// directory).
    #[arg(long, value_name = "NAME")]
    pub renderer: Option<String>,

    /// The date gpt-oss's system prompt shows (`Current date: YYYY-MM-DD`); default: today
    /// (UTC). Other renderers ignore it.
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = iso_date)]
    pub current_date: Option<String>,
}

fn iso_date(s: &str) -> Result<String, String> {
    tinkex::chat::RendererOptions::default()
        .with_current_date(s)
        .map(|_| s.to_owned())
        .map_err(|_| "expected a date in the form YYYY-MM-DD, e.g. 2026-01-01".to_owned())
}

/// `--train-on` values: the cookbook's `TrainOnWhat` names.
fn train_on_parser() -> impl TypedValueParser<Value = TrainOnWhat> {
    PossibleValuesParser::new(TrainOnWhat::ALL.map(|t| t.as_str()))
        .map(|s| s.parse().unwrap_or_default())
}

/// `--role` values: the roles a conversation may have.
fn role_parser() -> impl TypedValueParser<Value = Role> {
    PossibleValuesParser::new([
        "system",
        "user",
        "assistant",
        "tool",
        "developer",
        "tool_declare",
    ])
    .map(|s| s.parse().unwrap_or(Role::Assistant))
}

fn reduction_parser() -> impl TypedValueParser<Value = Reduction> {
    PossibleValuesParser::new(["none", "mean"]).map(|s| s.parse().unwrap_or_default())
}

/// `tinkex chat sft`.
#[derive(Debug, Args)]
#[command(
    about = "Supervised examples: tokens and loss weights (or Datums) of each conversation",
    long_about = "\
Supervised examples (the cookbook's build_supervised_example): for each conversation on stdin \
(see `tinkex chat --help`), one line
  {\"tokens\": [...], \"weights\": [...]}
with every token of the conversation and its loss weight, 0.0 or 1.0, unshifted. --train-on \
chooses which tokens carry loss.

With --datum, the training Datum that the Tinker API's forward_backward takes instead (the \
cookbook's datum_from_model_input_weights): truncated to --max-length tokens, then shifted:
  {\"model_input\": {\"chunks\": [{\"type\": \"encoded_text\", \"tokens\": [...]}]},
   \"loss_fn_inputs\": {\"target_tokens\": {\"data\": [...], \"dtype\": \"int64\", \"shape\": [N]},
                      \"weights\": {\"data\": [...], \"dtype\": \"float32\", \"shape\": [N]}}}
model_input is tokens[:-1], target_tokens tokens[1:], weights weights[1:]; --reduction mean \
divides the weights by their sum (when it is positive). A conversation of fewer than 2 tokens \
has no Datum (an error)."
)]
pub struct ChatSftArgs {
    #[command(flatten)]
    pub renderer: RendererArgs,

    /// Which tokens carry loss: the last assistant message, the assistant messages after the
    /// last user message, all assistant messages, every message's content, every token, user
    /// and system messages, or each message's own "trainable".
    #[arg(
        long,
        value_name = "WHAT",
        default_value = "last_assistant_message",
        value_parser = train_on_parser()
    )]
    pub train_on: TrainOnWhat,

    /// Print the Tinker API's Datum (shifted, for forward_backward) instead of tokens and
    /// weights.
    #[arg(long)]
    pub datum: bool,

    /// The cookbook's build_supervised_examples: for a renderer without the extension property
    /// (none of Qwen3.5/3.8's has it), one example per trained assistant message, each ending at it,
    /// so every turn is trained on the prompt it is sampled from. One line per conversation:
    /// {"examples": [{"tokens", "weights"}, ...]} (with --datum: {"datums": [...]}). The
    /// cookbook's default for it is --train-on last_assistant_turn.
    #[arg(long)]
    pub per_turn: bool,

    /// With --datum: keep at most N tokens (before the shift).
    #[arg(long, value_name = "N", requires = "datum", value_parser = clap::value_parser!(u64).range(2..))]
    pub max_length: Option<u64>,

    /// With --datum: `mean` divides the weights by their sum (a per-token mean loss); `none`
    /// keeps them (the default).
    #[arg(long, value_name = "REDUCTION", requires = "datum", value_parser = reduction_parser())]
    pub reduction: Option<Reduction>,
}

/// `tinkex chat prompt`.
#[derive(Debug, Args)]
#[command(
    about = "Generation prompts: the tokens to sample the next message from",
    long_about = "\
Generation prompts (the cookbook's build_generation_prompt): for each conversation on stdin \
(see `tinkex chat --help`), one line
  {\"tokens\": [...]}
holding the prompt to sample the next message from: every message given, rendered (after the \
tool prefix when \"tools\" is present), then the header of a --role message and the --prefill \
text. To prompt for a conversation's last assistant message, leave that message out."
)]
pub struct ChatPromptArgs {
    #[command(flatten)]
    pub renderer: RendererArgs,

    /// Text the reply starts with, rendered after the header.
    #[arg(long, value_name = "TEXT", allow_hyphen_values = true)]
    pub prefill: Option<String>,

    /// The role of the message to sample.
    #[arg(long, value_name = "ROLE", default_value = "assistant", value_parser = role_parser())]
    pub role: Role,
}

/// `tinkex chat parse`.
#[derive(Debug, Args)]
#[command(
    about = "Parse sampled tokens back into messages",
    long_about = "\
Parse sampled replies (the cookbook's parse_response): stdin is JSON Lines, each an object \
{\"tokens\": [...]} holding the ids sampled after a prompt (e.g. up to and including the stop \
token); stdout gets one line per input line, in order:
  {\"message\": MESSAGE, \"termination\": \"stop_sequence\"|\"eos\"|\"malformed\"}
MESSAGE is as `tinkex chat --help` shows (thinking as \"thinking\" parts, tool calls as \
\"tool_calls\", or \"unparsed_tool_calls\" when their JSON is bad); \"malformed\" means the \
reply did not end cleanly (cut off, or no stop sequence). A blank line, a line that is not such \
an object, or an id outside the vocabulary is an error naming the line.

With --stream, each line's ids go through the streaming parser one at a time, and everything it \
learns is printed as its own JSON line as soon as it is complete (output is flushed after each \
input line):
  {\"type\": \"header\", \"role\": \"assistant\"}                 once, when text begins
  {\"type\": \"text\", \"text\": \"...\", \"content_index\": 0}      more visible text (new text only)
  {\"type\": \"thinking\", \"thinking\": \"...\", \"content_index\": 1}  more reasoning
  {\"type\": \"message\", \"message\": MESSAGE, \"termination\": \"...\"}
The \"message\" line ends each input line's output; it holds exactly what parse without \
--stream gives. content_index increases each time the kind of content changes; text that may \
be the start of a <think> tag is held back until it is certain.",
    after_help = "\
Examples:
  echo '{\"tokens\":[9906,0,128009]}' | tinkex chat parse -m meta-llama/Llama-3.1-8B --renderer llama3
      {\"message\":{\"role\":\"assistant\",\"content\":\"Hello!\"},\"termination\":\"stop_sequence\"}
  echo '{\"tokens\":[9906,0,128009]}' | tinkex chat parse -m meta-llama/Llama-3.1-8B --renderer llama3 --stream
      {\"type\":\"header\",\"role\":\"assistant\"}
      {\"type\":\"text\",\"text\":\"Hello\",\"content_index\":0}
      {\"type\":\"text\",\"text\":\"!\",\"content_index\":0}
      {\"type\":\"message\",\"message\":{\"role\":\"assistant\",\"content\":\"Hello!\"},\"termination\":\"stop_sequence\"}"
)]
pub struct ChatParseArgs {
    #[command(flatten)]
    pub renderer: RendererArgs,

    /// Print the streaming parser's deltas, one JSON object a line (see above).
    #[arg(long)]
    pub stream: bool,
}

/// `tinkex chat stop`.
#[derive(Debug, Args)]
#[command(
    about = "The renderer's stop sequences",
    long_about = "\
Print the renderer's stop sequences (the cookbook's get_stop_sequences) as one line \
{\"stop\": [...]}: token ids for most formats, strings for role_colon ({\"stop\":[\"\\n\\nUser:\"]}). \
Reads no input."
)]
pub struct ChatStopArgs {
    #[command(flatten)]
    pub renderer: RendererArgs,
}
