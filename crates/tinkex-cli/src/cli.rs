//! The command line: subcommands, options and help texts.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

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
  tinkex cache list";

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
    /// Returns the subcommand's name (for its usage line) and the problem.
    pub fn usage_problem(&self) -> Option<(&'static str, &'static str)> {
        let qualified = |t: &TargetArgs| {
            (
                t.fallback_model.is_some(),
                t.target.training_model_id.is_some(),
            )
        };
        let (name, (fallback, training)) = match &self.command {
            Command::Encode(EncodeArgs { target, .. }) => ("encode", qualified(target)),
            Command::Decode(DecodeArgs { target, .. }) => ("decode", qualified(target)),
            Command::Count(CountArgs { target, .. }) => ("count", qualified(target)),
            Command::Resolve(args) => (
                "resolve",
                (
                    args.fallback_model.is_some(),
                    args.training_model_id.is_some(),
                ),
            ),
            Command::Cache(_) => ("cache", (false, false)),
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
\"rule\":\"...\",\"model\":\"<MODEL as given>\",\"source\":\"...\"}
where rule is one of local_path, server_tokenizer_id, llama3, strip_variant, kimi, inkling, repo_id, and \
source is model_name (MODEL, or a training model's model_data.model_name), server_tokenizer_id \
(a training model's model_data.tokenizer_id) or sampler_base_model. With --training-model-id or \
--sampler-id, the Tinker API is asked (TINKER_API_KEY, TINKER_BASE_URL) and \"model\" is the \
model name it reported.",
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

The text is TEXT, or all of stdin when TEXT is absent (which must be UTF-8). Stdin is encoded \
exactly as read: a trailing newline (as `echo` adds) is part of the text and gets tokens; use \
`printf %s` or `echo -n` to avoid it. Special tokens (e.g. Llama-3's BOS) are added as Python's \
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
  printf '{\"text\":\"a\"}\\n{\"text\":\"b\"}\\n' | tinkex encode --model Qwen/Qwen3-8B --jsonl"
)]
pub struct EncodeArgs {
    #[command(flatten)]
    pub target: TargetArgs,

    /// Do not add special tokens such as BOS (Python's add_special_tokens=False).
    #[arg(long)]
    pub no_special_tokens: bool,

    /// Read JSON Lines {"text": ...} from stdin and write {"ids": [...]} lines.
    #[arg(long, conflicts_with = "text")]
    pub jsonl: bool,

    /// The text to encode (default: all of stdin).
    #[arg(value_name = "TEXT", allow_hyphen_values = true)]
    pub text: Option<String>,
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

The text is written exactly, with no newline added (so decode(encode(text)) round-trips \
byte for byte); use `; echo` in a terminal if you want one. Special tokens (e.g. \
<|begin_of_text|>) appear in the text unless --skip-special-tokens is given.

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
    about = "Count the tokens of a text",
    long_about = "\
Count the tokens of a text: the length of `encode --no-special-tokens` of the same text, printed \
as a number and a newline.

The text is the whole of FILE, or of stdin when FILE is `-` or absent; it must be UTF-8 and is \
counted exactly as read (a trailing newline counts). The text is tokenized in one piece, since \
splitting it would change the tokens at the splits.",
    after_help = "\
Examples:
  tinkex count --model Qwen/Qwen3-8B essay.txt
  printf %s 'Hello world' | tinkex count --model meta-llama/Llama-3.1-8B
      2"
)]
pub struct CountArgs {
    #[command(flatten)]
    pub target: TargetArgs,

    /// The file to count (`-` or absent: stdin).
    #[arg(value_name = "FILE")]
    pub file: Option<PathBuf>,
}
