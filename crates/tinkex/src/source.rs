//! Locating a tokenizer's files: the bundled lineup, a local directory or file, the Hugging
//! Face cache, else a download through [`crate::hub`] (unless offline). Internal: the public
//! ways in are [`crate::Tokenizer::from_path`] and the registry ([`crate::cache`]).
//!
//! A source yields the raw file contents; `crate::load` turns them into an engine.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::fs::{read, read_optional};
use crate::resolve::TokenizerFormat;

/// The raw files of one tokenizer.
#[derive(Debug)]
pub(crate) struct TokenizerFiles {
    /// Where they came from (a directory, or `bundled:<name>`), for error messages.
    pub origin: PathBuf,
    /// The format.
    pub format: TokenizerFormat,
    /// `tokenizer.json` (tokenizer.json format) or `tiktoken.model` (tiktoken format).
    pub main: Cow<'static, [u8]>,
    /// `tokenizer_config.json`, when present.
    pub config: Option<Cow<'static, [u8]>>,
    /// Extra JSON with a `pat_str` (tiktoken format only), when present.
    pub tiktoken_extra: Option<Vec<u8>>,
}

/// One tokenizer compiled into the library.
#[derive(Debug)]
pub(crate) struct BundledTokenizer {
    /// Short name (the directory under `bundled/`, or for Kimi's data crate, which holds
    /// several, the model's: `kimi_k2`, `kimi_k25`, `kimi_k26`).
    pub name: &'static str,
    /// Every tokenizer repo id this tokenizer serves, after resolution (none for a built-in
    /// tokenizer that has no Hugging Face repo, which resolution names directly).
    pub repo_ids: &'static [&'static str],
    /// The revision of those repos this is a copy of: `None` for the default branch, else the
    /// commit resolution pins them at (Kimi, rule 7). A spec asking for any other revision is
    /// not served by this copy.
    pub revision: Option<&'static str>,
    /// The compiled-in files.
    contents: BundledContents,
}

/// The files of a [`BundledTokenizer`].
#[derive(Debug)]
#[cfg_attr(not(feature = "bundled"), allow(dead_code))]
pub(crate) enum BundledContents {
    /// A copy of a Hugging Face tokenizer.
    TokenizerJson {
        /// zstd-compressed `tokenizer.json`.
        tokenizer_json_zst: &'static [u8],
        /// `tokenizer_config.json`.
        config: &'static [u8],
    },
    /// A copy of a tiktoken-format Hugging Face tokenizer (Kimi's), loaded like one found on
    /// disk ([`TokenizerFormat::Tiktoken`]).
    Tiktoken {
        /// zstd-compressed `tiktoken.model` (`base64 rank` a line).
        tiktoken_model_zst: &'static [u8],
        /// `tokenizer_config.json`.
        config: &'static [u8],
    },
    /// A tiktoken encoding with no Hugging Face files (`o200k_base_chat`), built by
    /// [`crate::load::tiktoken::TiktokenEngine::from_encoding`].
    Encoding {
        /// zstd-compressed rank file (`base64 rank` a line).
        ranks_zst: &'static [u8],
        /// The special-token list: `{"bos_token", "eos_token", "special_tokens": {name: id}}`.
        special_tokens: &'static [u8],
        /// The split pattern.
        pattern: &'static str,
    },
}

/// The files come from one data crate per tokenizer (`bundled/<name>/`, e.g.
/// `tinkex-bundled-qwen3`), so that no published crate is over crates.io's size limit.
#[cfg(feature = "bundled")]
macro_rules! bundled {
    ($name:literal, $data:ident, [$($id:literal),+ $(,)?]) => {
        BundledTokenizer {
            name: $name,
            repo_ids: &[$($id),+],
            revision: None,
            contents: BundledContents::TokenizerJson {
                tokenizer_json_zst: $data::TOKENIZER_JSON_ZST,
                config: $data::TOKENIZER_CONFIG_JSON,
            },
        }
    };
}

/// The Tinker lineup, keyed by every repo id each tokenizer serves (after resolution, so
/// `meta-llama/Llama-3*` and `org/model/variant` names arrive here already rewritten), and the
/// built-in tokenizers resolution names directly ([`crate::resolve::Resolution::Builtin`]).
/// Files and their provenance: `bundled/PROVENANCE.md`.
#[cfg(feature = "bundled")]
pub(crate) static BUNDLED: &[BundledTokenizer] = &[
    // HF `gpt2` / `openai-community/gpt2`.
    bundled!(
        "gpt2",
        tinkex_bundled_gpt2,
        ["gpt2", "openai-community/gpt2"]
    ),
    // Qwen3 family (cookbook model_info.py lineup): same tokenizer.json / config across sizes,
    // the 2507 instruct releases and the VL models.
    bundled!(
        "qwen3",
        tinkex_bundled_qwen3,
        [
            "Qwen/Qwen3-8B",
            "Qwen/Qwen3-0.6B",
            "Qwen/Qwen3-1.7B",
            "Qwen/Qwen3-4B",
            "Qwen/Qwen3-14B",
            "Qwen/Qwen3-32B",
            "Qwen/Qwen3-30B-A3B",
            "Qwen/Qwen3-235B-A22B",
            "Qwen/Qwen3-0.6B-Base",
            "Qwen/Qwen3-1.7B-Base",
            "Qwen/Qwen3-4B-Base",
            "Qwen/Qwen3-8B-Base",
            "Qwen/Qwen3-14B-Base",
            "Qwen/Qwen3-30B-A3B-Base",
            "Qwen/Qwen3-4B-Instruct-2507",
            "Qwen/Qwen3-4B-Thinking-2507",
            "Qwen/Qwen3-30B-A3B-Instruct-2507",
            "Qwen/Qwen3-30B-A3B-Thinking-2507",
            "Qwen/Qwen3-235B-A22B-Instruct-2507",
            "Qwen/Qwen3-235B-A22B-Thinking-2507",
            "Qwen/Qwen3-VL-30B-A3B-Instruct",
            "Qwen/Qwen3-VL-30B-A3B-Thinking",
            "Qwen/Qwen3-VL-235B-A22B-Instruct",
            "Qwen/Qwen3-VL-235B-A22B-Thinking",
        ]
    ),
    // What Tinker uses for every `meta-llama/Llama-3*` model (resolution rule 5).
    bundled!(
        "llama3_1",
        tinkex_bundled_llama3_1,
        ["thinkingmachineslabinc/meta-llama-3-instruct-tokenizer"]
    ),
    // DeepSeek-V3: ids 128798/128799 are placeholders.
    bundled!(
        "deepseek_v3",
        tinkex_bundled_deepseek_v3,
        ["deepseek-ai/DeepSeek-V3", "deepseek-ai/DeepSeek-V3-Base"]
    ),
    // DeepSeek-V3.1 (the Tinker model): `<think>` / `</think>` are single tokens.
    bundled!(
        "deepseek_v3_1",
        tinkex_bundled_deepseek_v3_1,
        [
            "deepseek-ai/DeepSeek-V3.1",
            "deepseek-ai/DeepSeek-V3.1-Base"
        ]
    ),
    // gpt-oss (o200k_harmony).
    bundled!(
        "gpt_oss",
        tinkex_bundled_gpt_oss,
        ["openai/gpt-oss-20b", "openai/gpt-oss-120b"]
    ),
    // Inkling (`thinkingmachines/Inkling*`, resolution rule 8): o200k_base's ranks and pattern
    // plus 60 special tokens, as tml-renderers' `O200kBaseChatTokenizer`. No Hub repo.
    BundledTokenizer {
        name: O200K_BASE_CHAT,
        repo_ids: &[],
        revision: None,
        contents: BundledContents::Encoding {
            ranks_zst: tinkex_bundled_o200k_base_chat::O200K_BASE_TIKTOKEN_ZST,
            special_tokens: tinkex_bundled_o200k_base_chat::SPECIAL_TOKENS_JSON,
            pattern: O200K_PATTERN,
        },
    },
    // Kimi (tiktoken format), each at the revision resolution pins (rule 7) and only there:
    // one rank file for the three, K2-Thinking's config, and K2.5's (with the media tokens)
    // for K2.5 and K2.6. K2.5 and K2.6 are two entries because their pins differ.
    BundledTokenizer {
        name: "kimi_k2",
        repo_ids: &["moonshotai/Kimi-K2-Thinking"],
        revision: Some(crate::resolve::KIMI_K2_THINKING_REVISION),
        contents: BundledContents::Tiktoken {
            tiktoken_model_zst: tinkex_bundled_kimi::TIKTOKEN_MODEL_ZST,
            config: tinkex_bundled_kimi::KIMI_K2_TOKENIZER_CONFIG_JSON,
        },
    },
    BundledTokenizer {
        name: "kimi_k25",
        repo_ids: &["moonshotai/Kimi-K2.5"],
        revision: Some(crate::resolve::KIMI_K2_5_REVISION),
        contents: BundledContents::Tiktoken {
            tiktoken_model_zst: tinkex_bundled_kimi::TIKTOKEN_MODEL_ZST,
            config: tinkex_bundled_kimi::KIMI_K25_TOKENIZER_CONFIG_JSON,
        },
    },
    BundledTokenizer {
        name: "kimi_k26",
        repo_ids: &["moonshotai/Kimi-K2.6"],
        revision: Some(crate::resolve::KIMI_K2_6_REVISION),
        contents: BundledContents::Tiktoken {
            tiktoken_model_zst: tinkex_bundled_kimi::TIKTOKEN_MODEL_ZST,
            config: tinkex_bundled_kimi::KIMI_K25_TOKENIZER_CONFIG_JSON,
        },
    },
];

/// o200k_base's split pattern: the `|`-join of the seven alternatives of tiktoken's
/// `o200k_base` `pat_str` (the same string as tiktoken-rs 0.12.1's `O200K_BASE_PAT_STR`). Data
/// of the built-in encoding, so it lives beside the table that uses it.
#[cfg_attr(not(feature = "bundled"), allow(dead_code))]
pub(crate) const O200K_PATTERN: &str = concat!(
    r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?",
    "|",
    r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?",
    "|",
    r"\p{N}{1,3}",
    "|",
    r" ?[^\s\p{L}\p{N}]+[\r\n/]*",
    "|",
    r"\s*[\r\n]+",
    "|",
    r"\s+(?!\S)",
    "|",
    r"\s+",
);

/// The name of Inkling's tokenizer, a built-in one ([`builtin`]).
#[cfg(feature = "bundled")]
pub(crate) const O200K_BASE_CHAT: &str = "o200k_base_chat";

/// Without the `bundled` feature nothing is compiled in.
#[cfg(not(feature = "bundled"))]
pub(crate) static BUNDLED: &[BundledTokenizer] = &[];

/// The bundled copy of the Hub tokenizer `repo_id` at `revision` (`None`: the default branch),
/// if any: both must match exactly, so a copy of a pinned commit serves that commit only, and
/// a copy of the default branch no pinned one.
pub(crate) fn bundled(repo_id: &str, revision: Option<&str>) -> Option<&'static BundledTokenizer> {
    BUNDLED
        .iter()
        .find(|b| b.revision == revision && b.repo_ids.contains(&repo_id))
}

/// The compiled-in tokenizer called `name` (e.g. [`O200K_BASE_CHAT`]), if this build has it
/// (feature `bundled`).
pub(crate) fn builtin(name: &str) -> Option<&'static BundledTokenizer> {
    BUNDLED.iter().find(|b| b.name == name)
}

impl BundledTokenizer {
    /// `bundled:<name>`, the origin its errors name.
    pub(crate) fn origin(&self) -> PathBuf {
        PathBuf::from(format!("bundled:{}", self.name))
    }

    /// The name a loaded instance reports: the first repo id it serves, else its own name.
    pub(crate) fn display_name(&self) -> &'static str {
        self.repo_ids.first().copied().unwrap_or(self.name)
    }

    pub(crate) fn contents(&self) -> &BundledContents {
        &self.contents
    }

    /// The compiled-in bytes: the compressed main file (`tokenizer.json`, or the rank file)
    /// and the side file (`tokenizer_config.json`, or the special-token list).
    pub(crate) fn compressed(&self) -> (&'static [u8], &'static [u8]) {
        match self.contents {
            BundledContents::TokenizerJson {
                tokenizer_json_zst,
                config,
            } => (tokenizer_json_zst, config),
            BundledContents::Tiktoken {
                tiktoken_model_zst,
                config,
            } => (tiktoken_model_zst, config),
            BundledContents::Encoding {
                ranks_zst,
                special_tokens,
                ..
            } => (ranks_zst, special_tokens),
        }
    }

    /// Decompresses the files of a bundled Hugging Face tokenizer (either format). A built-in encoding
    /// (`o200k_base_chat`) has no such files: [`Error::Unsupported`] (load it by a model name
    /// that resolves to it).
    pub(crate) fn files(&self) -> Result<TokenizerFiles> {
        let origin = self.origin();
        match self.contents {
            BundledContents::TokenizerJson {
                tokenizer_json_zst,
                config,
            } => {
                let main = decompress(tokenizer_json_zst)
                    .map_err(|e| Error::parse_source(origin.join("tokenizer.json.zst"), e))?;
                Ok(TokenizerFiles {
                    origin,
                    format: TokenizerFormat::TokenizerJson,
                    main: Cow::Owned(main),
                    config: Some(Cow::Borrowed(config)),
                    tiktoken_extra: None,
                })
            }
            BundledContents::Tiktoken {
                tiktoken_model_zst,
                config,
            } => {
                let main = decompress(tiktoken_model_zst)
                    .map_err(|e| Error::parse_source(origin.join("tiktoken.model.zst"), e))?;
                Ok(TokenizerFiles {
                    origin,
                    format: TokenizerFormat::Tiktoken,
                    main: Cow::Owned(main),
                    config: Some(Cow::Borrowed(config)),
                    tiktoken_extra: None,
                })
            }
            BundledContents::Encoding { .. } => Err(Error::Unsupported {
                path: origin,
                message: "a built-in tiktoken encoding has no tokenizer files; load it by a \
                          model name that resolves to it"
                    .into(),
            }),
        }
    }
}

/// Names of the side files that may carry a tiktoken split pattern (`pat_str`).
pub(crate) const TIKTOKEN_EXTRA_FILES: &[&str] = &["tiktoken_config.json", "kimi_style.json"];

/// The format [`Tokenizer::from_path`](crate::Tokenizer::from_path) picks for a directory or
/// file, without reading it: a directory holding `tiktoken.model` and no `tokenizer.json`, or a
/// `*.model` / `*.tiktoken` file, is tiktoken; anything else is `tokenizer.json`.
pub fn local_format(path: &Path) -> TokenizerFormat {
    let tiktoken = if path.is_dir() {
        !path.join("tokenizer.json").exists() && path.join("tiktoken.model").exists()
    } else {
        path.file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.ends_with(".model") || n.ends_with(".tiktoken"))
    };
    if tiktoken {
        TokenizerFormat::Tiktoken
    } else {
        TokenizerFormat::TokenizerJson
    }
}

/// Reads a tokenizer from a local directory, or from a `tokenizer.json` / `tiktoken.model` path
/// (its siblings supply the config).
pub(crate) fn local(path: &Path) -> Result<TokenizerFiles> {
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    let (dir, main_name) = if meta.is_dir() {
        (path.to_path_buf(), None)
    } else {
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        (
            dir,
            path.file_name().and_then(|n| n.to_str()).map(str::to_owned),
        )
    };
    let is_tiktoken = local_format(path) == TokenizerFormat::Tiktoken;
    let main_path = match &main_name {
        Some(name) => dir.join(name),
        None if is_tiktoken => dir.join("tiktoken.model"),
        None => dir.join("tokenizer.json"),
    };
    if meta.is_dir() && !main_path.exists() {
        return Err(Error::NotFound {
            id: path.display().to_string(),
            detail: format!(
                "the directory has neither tokenizer.json nor tiktoken.model ({} is missing)",
                main_path.display()
            ),
        });
    }
    let main = read(&main_path)?;
    let config = read_optional(&dir.join("tokenizer_config.json"))?;
    let mut tiktoken_extra = None;
    if is_tiktoken {
        for name in TIKTOKEN_EXTRA_FILES {
            if let Some(b) = read_optional(&dir.join(name))? {
                tiktoken_extra = Some(b);
                break;
            }
        }
    }
    Ok(TokenizerFiles {
        origin: dir,
        format: if is_tiktoken {
            TokenizerFormat::Tiktoken
        } else {
            TokenizerFormat::TokenizerJson
        },
        main: Cow::Owned(main),
        config: config.map(Cow::Owned),
        tiktoken_extra,
    })
}

/// The files for a Hub tokenizer: bundled first (a copy of exactly the spec's repo and
/// revision), then the Hugging Face hub cache (its blob checked against its sha256 name), then — unless offline — a
/// download into that cache ([`crate::hub::fetch`]), reporting progress to `observer`.
pub(crate) fn hub_files_with(
    spec: &crate::resolve::TokenizerSpec,
    config: &crate::config::Config,
    observer: Option<&crate::hub::Observer>,
) -> Result<TokenizerFiles> {
    if config.use_bundled {
        if let Some(b) = bundled(&spec.tokenizer_id, spec.revision.as_deref()) {
            return b.files();
        }
    }
    let (main, _) = crate::hub::tokenizer_files(spec.format);
    if let Some(cache) = &config.hub_cache {
        if let Some(dir) = crate::hub::snapshot_in(cache, spec, false) {
            match crate::hub::layout::verify_pointer(&dir.join(main)) {
                Ok(()) => return local(&dir),
                Err(problem) => {
                    // Never trust it; a download replaces it.
                    crate::hub::layout::remove_files(cache, &spec.tokenizer_id, &[main])?;
                    let message = format!("removed a corrupt cached file: {problem}");
                    crate::hub::emit(
                        observer,
                        &crate::hub::HubEvent::Warning { message: &message },
                    );
                    if config.offline {
                        return Err(Error::Offline {
                            detail: format!(
                                "{message}; go online to download `{}` again",
                                spec.tokenizer_id
                            ),
                        });
                    }
                }
            }
        }
    }
    if config.offline {
        return Err(crate::hub::offline_error(spec, config));
    }
    let dir = crate::hub::fetch(spec, config, observer)?;
    local(&dir)
}

/// Decompresses a bundled zstd file in one call into a buffer of the size its frame header
/// states (every bundled file has one), rather than growing a buffer by doubling: fewer copies
/// and fresh pages on the load path. Without a stated size, streams as usual.
pub(crate) fn decompress(zst: &[u8]) -> std::io::Result<Vec<u8>> {
    // A bound on what a header may claim, so a corrupt one cannot ask for terabytes.
    const MAX: u64 = 1 << 30;
    match zstd::zstd_safe::get_frame_content_size(zst) {
        Ok(Some(size)) if size <= MAX => zstd::bulk::decompress(zst, size as usize),
        _ => zstd::stream::decode_all(zst),
    }
}

#[cfg(all(test, feature = "bundled"))]
mod tests {
    use super::*;
    use crate::resolve::{resolve, NoContext, Resolution};

    /// Every repo id a bundled copy serves resolves to that repo at the revision the copy is
    /// of (so each copy is reachable, and a Kimi copy agrees with rule 7's pin), in the
    /// copy's format.
    #[test]
    fn every_bundled_copy_is_what_its_repo_ids_resolve_to() {
        for b in BUNDLED {
            for &id in b.repo_ids {
                let Ok(Resolution::Hub { spec, .. }) = resolve(id, None, &NoContext) else {
                    panic!("{id} does not resolve to a Hub repo");
                };
                assert_eq!(spec.tokenizer_id, id);
                assert_eq!(spec.revision.as_deref(), b.revision, "{id}");
                let format = match b.contents() {
                    BundledContents::TokenizerJson { .. } => TokenizerFormat::TokenizerJson,
                    BundledContents::Tiktoken { .. } => TokenizerFormat::Tiktoken,
                    BundledContents::Encoding { .. } => panic!("{id}: an encoding has no repo"),
                };
                assert_eq!(spec.format, format, "{id}");
                assert!(std::ptr::eq(bundled(id, b.revision).expect("found"), b));
            }
        }
    }

    /// A copy serves exactly its (repo, revision): not another revision of a pinned repo, and
    /// not a pinned revision of a default-branch copy.
    #[test]
    fn bundled_copies_match_repo_and_revision_exactly() {
        let k26 = "b5aabbfb20227ed42becbf5541dbffd213942c58";
        assert_eq!(
            bundled("moonshotai/Kimi-K2.6", Some(k26)).map(|b| b.name),
            Some("kimi_k26")
        );
        assert!(bundled("moonshotai/Kimi-K2.6", None).is_none());
        assert!(bundled("moonshotai/Kimi-K2.6", Some("main")).is_none());
        // K2.5's pin is not K2.6's, though the two share their files.
        assert!(bundled("moonshotai/Kimi-K2.5", Some(k26)).is_none());
        assert!(bundled("Qwen/Qwen3-8B", None).is_some());
        assert!(bundled("Qwen/Qwen3-8B", Some(k26)).is_none());
    }

    /// K2.5 and K2.6 serve the same files; the rank file is compiled in once.
    #[test]
    fn kimi_copies_share_their_rank_file() {
        let ranks = |name| builtin(name).expect(name).compressed().0.as_ptr();
        assert_eq!(ranks("kimi_k2"), ranks("kimi_k25"));
        assert_eq!(ranks("kimi_k25"), ranks("kimi_k26"));
        let config = |name| builtin(name).expect(name).compressed().1.as_ptr();
        assert_eq!(config("kimi_k25"), config("kimi_k26"));
        assert_ne!(config("kimi_k2"), config("kimi_k25"));
    }
}
