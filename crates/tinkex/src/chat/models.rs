//! Which renderers each Tinker model is meant for: tinker-cookbook 0.6.1 `model_info.py`
//! (`get_*_info()` → `recommended_renderers`), as data. The first is the default.
//!
//! Listed even where tinkex does not render that family yet: asking for such a renderer is an
//! [`crate::Error::UnknownRenderer`] that names the ones that exist.

const LLAMA3: &[&str] = &["llama3"];
const ROLE_COLON: &[&str] = &["role_colon"];
const QWEN3: &[&str] = &["qwen3", "qwen3_disable_thinking"];
const QWEN3_INSTRUCT: &[&str] = &["qwen3_instruct"];
const QWEN3_VL_INSTRUCT: &[&str] = &["qwen3_vl_instruct"];
const QWEN3_5: &[&str] = &[
    "qwen3_5",
    "qwen3_5_disable_thinking",
    "qwen3_5_preserve_thinking",
];
const QWEN3_8: &[&str] = &[
    "qwen3_8_xhigh_reasoning",
    "qwen3_8_disable_thinking",
    "qwen3_8_medium_reasoning",
    "qwen3_8_low_reasoning",
];
const DEEPSEEKV3: &[&str] = &["deepseekv3", "deepseekv3_thinking"];
const DEEPSEEKV4_1: &[&str] = &[
    "deepseekv4_1",
    "deepseekv4_1_low_reasoning",
    "deepseekv4_1_max_reasoning",
    "deepseekv4_1_disable_thinking",
    "deepseekv4_1_preserve_thinking",
];
const GPT_OSS: &[&str] = &["gpt_oss_no_sysprompt", "gpt_oss_medium_reasoning"];
const KIMI_K2: &[&str] = &["kimi_k2"];
const KIMI_K25: &[&str] = &["kimi_k25", "kimi_k25_disable_thinking"];
const KIMI_K26: &[&str] = &[
    "kimi_k26",
    "kimi_k26_disable_thinking",
    "kimi_k26_preserve_thinking",
];
const KIMI_K31_PRO: &[&str] = &[
    "kimi_k31_pro_max_reasoning",
    "kimi_k31_pro_high_reasoning",
    "kimi_k31_pro_low_reasoning",
    "kimi_k31_pro_disable_thinking",
    "kimi_k31_pro_no_reasoning_effort",
];
const GLM5_3: &[&str] = &[
    "glm5_3_max_reasoning",
    "glm5_3_low_reasoning",
    "glm5_3_high_reasoning",
];
const NEMOTRON3: &[&str] = &[
    "nemotron3",
    "nemotron3_disable_thinking",
    "nemotron3_preserve_thinking",
];
const NEMOTRON3_SUPER: &[&str] = &[
    "nemotron3",
    "nemotron3_disable_thinking",
    "nemotron3_preserve_thinking",
    "nemotron3_low_thinking",
];
const NEMOTRON3_ULTRA: &[&str] = &[
    "nemotron3_ultra",
    "nemotron3_ultra_disable_thinking",
    "nemotron3_ultra_medium_thinking",
    "nemotron3_ultra_preserve_thinking",
];
const NEMOTRON3_LIGHTNING: &[&str] = &[
    "nemotron3_ultra",
    "nemotron3_ultra_disable_thinking",
    "nemotron3_ultra_preserve_thinking",
];
const TML_V0: &[&str] = &["tml_v0"];

/// `org/model` → recommended renderers, in the order of `model_info.py`.
pub(crate) const RECOMMENDED: &[(&str, &[&str])] = &[
    // get_llama_info()
    ("meta-llama/Llama-3.1-8B-Instruct", LLAMA3),
    ("meta-llama/Llama-3.2-1B", ROLE_COLON),
    ("meta-llama/Llama-3.2-3B", ROLE_COLON),
    ("meta-llama/Llama-3.1-8B", ROLE_COLON),
    ("meta-llama/Llama-3.1-70B", ROLE_COLON),
    ("meta-llama/Llama-3.3-70B-Instruct", LLAMA3),
    // get_qwen_info()
    ("Qwen/Qwen3-VL-30B-A3B-Instruct", QWEN3_VL_INSTRUCT),
    ("Qwen/Qwen3-VL-235B-A22B-Instruct", QWEN3_VL_INSTRUCT),
    ("Qwen/Qwen3-8B-Base", ROLE_COLON),
    ("Qwen/Qwen3-30B-A3B-Base", ROLE_COLON),
    ("Qwen/Qwen3-8B", QWEN3),
    ("Qwen/Qwen3-32B", QWEN3),
    ("Qwen/Qwen3-30B-A3B", QWEN3),
    ("Qwen/Qwen3-4B-Instruct-2507", QWEN3_INSTRUCT),
    ("Qwen/Qwen3-30B-A3B-Instruct-2507", QWEN3_INSTRUCT),
    ("Qwen/Qwen3-235B-A22B-Instruct-2507", QWEN3_INSTRUCT),
    ("Qwen/Qwen3.5-4B", QWEN3_5),
    ("Qwen/Qwen3.5-9B", QWEN3_5),
    ("Qwen/Qwen3.5-9B-Base", ROLE_COLON),
    ("Qwen/Qwen3.5-27B", QWEN3_5),
    ("Qwen/Qwen3.5-35B-A3B", QWEN3_5),
    ("Qwen/Qwen3.5-35B-A3B-Base", ROLE_COLON),
    ("Qwen/Qwen3.5-397B-A17B", QWEN3_5),
    ("Qwen/Qwen3.6-27B", QWEN3_5),
    ("Qwen/Qwen3.6-35B-A3B", QWEN3_5),
    ("Qwen/Qwen3.8-27B", QWEN3_8),
    // get_deepseek_info()
    ("deepseek-ai/DeepSeek-V3.1", DEEPSEEKV3),
    ("deepseek-ai/DeepSeek-V3.1-Base", ROLE_COLON),
    ("deepseek-ai/DeepSeek-V4.1-Flash", DEEPSEEKV4_1),
    ("deepseek-ai/DeepSeek-V4.1-Flash-1017", DEEPSEEKV4_1),
    // get_gpt_oss_info()
    ("openai/gpt-oss-20b", GPT_OSS),
    ("openai/gpt-oss-120b", GPT_OSS),
    // get_moonshot_info()
    ("moonshotai/Kimi-K2-Thinking", KIMI_K2),
    ("moonshotai/Kimi-K2.5", KIMI_K25),
    ("moonshotai/Kimi-K2.6", KIMI_K26),
    ("moonshotai/Kimi-K3.1-Pro", KIMI_K31_PRO),
    // get_zai_info()
    ("zai-org/GLM-5.3", GLM5_3),
    ("zai-org/GLM-5.3-Flash", GLM5_3),
    // get_nvidia_info()
    ("nvidia/NVIDIA-Nemotron-3-Nano-30B-A3B-BF16", NEMOTRON3),
    (
        "nvidia/NVIDIA-Nemotron-3-Super-120B-A12B-BF16",
        NEMOTRON3_SUPER,
    ),
    (
        "nvidia/NVIDIA-Nemotron-3-Ultra-550B-A55B-BF16",
        NEMOTRON3_ULTRA,
    ),
    (
        "nvidia/NVIDIA-Nemotron-3.5-Lightning-30B-A3B-BF16",
        NEMOTRON3_LIGHTNING,
    ),
    (
        "nvidia/NVIDIA-Nemotron-3.5-Super-VL-120B-A12B-BF16",
        NEMOTRON3_ULTRA,
    ),
    // get_thinkingmachines_info()
    ("thinkingmachines/Inkling", TML_V0),
    ("thinkingmachines/Inkling-Small", TML_V0),
    ("thinkingmachines/Inkling-2-Small", TML_V0),
];

/// The renderers tinker-cookbook 0.6.1 recommends for `model` (first = default), after
/// dropping any `:suffix`; empty for a model it does not list (a local directory, say).
///
/// `model_info.get_model_attributes`: an exact `org/model` match, and any other
/// `thinkingmachines/Inkling*` gets `tml_v0`.
///
/// ```
/// use tinkex::chat::recommended_renderers;
/// assert_eq!(recommended_renderers("Qwen/Qwen3-8B:peft:3"), ["qwen3", "qwen3_disable_thinking"]);
/// assert_eq!(recommended_renderers("thinkingmachines/Inkling-3"), ["tml_v0"]);
/// assert!(recommended_renderers("./my-tokenizer").is_empty());
/// ```
pub fn recommended_renderers(model: &str) -> &'static [&'static str] {
    let model = model.split(':').next().unwrap_or(model);
    if let Some((_, r)) = RECOMMENDED.iter().find(|(m, _)| *m == model) {
        return r;
    }
    if model.starts_with("thinkingmachines/Inkling") {
        return TML_V0;
    }
    &[]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One row per model of the cookbook's table (shared/docs/chat.md reproduces it), plus the
    /// suffix and fallback rules.
    #[test]
    fn the_table() {
        let cases: &[(&str, &[&str])] = &[
            ("meta-llama/Llama-3.1-8B-Instruct", &["llama3"]),
            ("meta-llama/Llama-3.2-1B", &["role_colon"]),
            ("meta-llama/Llama-3.3-70B-Instruct:peft:1", &["llama3"]),
            ("Qwen/Qwen3-VL-235B-A22B-Instruct", &["qwen3_vl_instruct"]),
            ("Qwen/Qwen3-8B-Base", &["role_colon"]),
            ("Qwen/Qwen3-32B", &["qwen3", "qwen3_disable_thinking"]),
            ("Qwen/Qwen3-4B-Instruct-2507", &["qwen3_instruct"]),
            ("Qwen/Qwen3.6-35B-A3B", QWEN3_5),
            ("Qwen/Qwen3.5-35B-A3B-Base", &["role_colon"]),
            ("Qwen/Qwen3.8-27B", QWEN3_8),
            (
                "deepseek-ai/DeepSeek-V3.1",
                &["deepseekv3", "deepseekv3_thinking"],
            ),
            ("deepseek-ai/DeepSeek-V3.1-Base", &["role_colon"]),
            ("deepseek-ai/DeepSeek-V4.1-Flash-1017", DEEPSEEKV4_1),
            (
                "openai/gpt-oss-120b",
                &["gpt_oss_no_sysprompt", "gpt_oss_medium_reasoning"],
            ),
            ("moonshotai/Kimi-K2-Thinking", &["kimi_k2"]),
            ("moonshotai/Kimi-K2.6", KIMI_K26),
            ("moonshotai/Kimi-K3.1-Pro", KIMI_K31_PRO),
            ("zai-org/GLM-5.3-Flash", GLM5_3),
            (
                "nvidia/NVIDIA-Nemotron-3-Super-120B-A12B-BF16",
                NEMOTRON3_SUPER,
            ),
            (
                "nvidia/NVIDIA-Nemotron-3.5-Lightning-30B-A3B-BF16",
                NEMOTRON3_LIGHTNING,
            ),
            ("thinkingmachines/Inkling", &["tml_v0"]),
            ("thinkingmachines/Inkling-2-Small:x", &["tml_v0"]),
            ("thinkingmachines/InklingNext", &["tml_v0"]),
            ("thinkingmachines/Other", &[]),
            ("Qwen/Qwen3-8B-Instruct", &[]),
            ("qwen/qwen3-8b", &[]),
            ("gpt2", &[]),
            ("", &[]),
        ];
        for (model, want) in cases {
            assert_eq!(recommended_renderers(model), *want, "{model}");
        }
        // Every model of the table has at least one renderer, and no name repeats.
        for (m, r) in RECOMMENDED {
            assert!(!r.is_empty(), "{m}");
            assert_eq!(RECOMMENDED.iter().filter(|(n, _)| n == m).count(), 1, "{m}");
        }
    }
}
