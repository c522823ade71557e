# Generates extra_cases.jsonl (then `zstd -19` it): chunking, decode-skip (variant config) and
# invalid-UTF-8 decode cases, computed by Python tiktoken 0.14.0 + transformers 4.57.6 running
# Kimi-K2's TikTokenTokenizer logic (kimi_like.py).
# Usage: python gen_extra.py FIXTURE_DIR OUT.jsonl tokenizer_config_variant.json
import json, os, random, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kimi_like import KimiLike
from tokenizers import AddedToken
import tiktoken, transformers

F = sys.argv[1]
OUT = sys.argv[2]

def load(cfg):
    atd = {int(k): AddedToken(v["content"], special=v.get("special", True), normalized=False)
           for k, v in cfg.get("added_tokens_decoder", {}).items()}
    kw = {}
    if "additional_special_tokens" in cfg:
        kw["additional_special_tokens"] = cfg["additional_special_tokens"]
    return KimiLike(F + "/tiktoken.model", bos_token=cfg.get("bos_token", "[BOS]"),
                    eos_token=cfg.get("eos_token", "[EOS]"), pad_token=cfg.get("pad_token"),
                    unk_token=cfg.get("unk_token"), added_tokens_decoder=atd, **kw)

fixture_cfg = json.load(open(F + "/tokenizer_config.json"))
variant_cfg = json.load(open(sys.argv[3]))
tok = load(fixture_cfg)
var = load(variant_cfg)

rng = random.Random(20260801)
FRAGS = ["the", " quick", " brown", " fox", "Jumps", " OVER", " lazy", " dog's", " it'll", ",", ".",
         "!?", "\n", "\n\n", "\r\n", "\t", "  ", "   ", "123", "4567890", " 3.14", "中文", "汉字测试",
         "日本語", "한국어", "Привет", " мир", "Ελληνικά", "😀", "👍🏽", "e\u0301", "ﬁ", "\u00a0",
         "\u3000", "\u2028", "\x1c", "\x1f", "\u200b", "<|im_end|>", "[BOS]", "<|reserved_token_200100|>",
         "<|im_start|>", "def f(x):\n    return x\n", "{\"a\": [1, 2]}", "ǅ", "ǈ", "ʰ", "\U0001F600\U0001F600",
         "\ud7ff", "\U00010000", "a" * 40, " " * 70, "\n" * 30]

def rand_text(n_chars):
    parts, total = [], 0
    while total < n_chars:
        f = rng.choice(FRAGS)
        parts.append(f)
        total += len(f)
    return "".join(parts)

cases = []
def enc_case(name, text):
    cases.append({"kind": "encode", "name": name, "text": text, "ids": tok.encode(text),
                  "ids_ordinary": tok.encode(text, allow_special_tokens=False)})

enc_case("spaces_60000", " " * 60000)
enc_case("letters_60000", "a" * 60000)
enc_case("letters_mixed_60000", "abcdefghij" * 6000)
enc_case("spaces_25000_then_a", " " * 25000 + "a")
enc_case("spaces_25001_then_a", " " * 25001 + "a")
enc_case("newlines_60000", "\n" * 60000)
enc_case("infosep_30000", "\x1c" * 30000 + "x" + "\x1f" * 30000)
enc_case("ideographic_space_30000", "\u3000" * 30000 + "x")
enc_case("han_30000", "汉" * 30000)
enc_case("tabs_spaces_60000", " \t" * 30000 + "z")
enc_case("random_small", rand_text(3000))
# > 400,000 chars with features at the chunk boundaries.
big = rand_text(150_000)
big += " " * 30_000                     # whitespace run over 25,000
big += "ab" * 13_000                    # non-whitespace run over 25,000
big += rand_text(399_990 - len(big) - 5)[: 399_990 - len(big)]
big += "xxxxx<|im_end|>yyyyy"           # special token straddling character 400,000
big += rand_text(60_000)
assert len(big) > 400_000
enc_case("mixed_460k", big)
# A special token ending exactly at the boundary and a multibyte char across it.
b2 = "a" * 399_990 + "<|im_end|>" + "中" * 10
enc_case("special_ends_at_400000", b2)

def dec_case(name, cfgname, t, ids):
    cases.append({"kind": "decode", "name": name, "config": cfgname, "ids": ids,
                  "decoded": t.decode(ids),
                  "decoded_skip": t.decode(ids, skip_special_tokens=True)})

# Invalid UTF-8: single-byte tokens in random order.
single = {b: tok.model.encode_single_token(bytes([b])) for b in range(256)}
for k in range(40):
    n = rng.randint(1, 12)
    bs = [rng.choice([rng.randrange(256), rng.randrange(0x80, 0x100)]) for _ in range(n)]
    dec_case(f"bytes_{k}", "fixture", tok, [single[b] for b in bs])
dec_case("truncated_emoji", "fixture", tok, tok.encode("😀")[:1] + tok.encode("ok"))
# Reserved and named special ids.
dec_case("reserved_fixture", "fixture", tok, tok.encode("a<|reserved_token_200100|>b[EOS]c<|im_end|>"))
var_texts = ["[BOS]hi<think>r</think>ok<|reserved_token_200020|>x[PAD][EOS]",
             "<think></think>",
             "a<think>b",
             "x<|im_end|><think>é<|tool_calls_section_begin|>[UNK]",
             "<|im_user|>u<|im_middle|>hello<|im_end|><|im_assistant|>a<|im_middle|><think>t</think>ans[EOS]"]
for i, t in enumerate(var_texts):
    dec_case(f"variant_{i}", "variant", var, var.encode(t))
# Split a multibyte char around a legacy token.
dec_case("variant_split_utf8", "variant", var, [single[0xC3]] + var.encode("<think>") + [single[0xA9]])
with open(OUT, "w") as f:
    f.write(json.dumps({"meta": {"tiktoken": tiktoken.__version__, "transformers": transformers.__version__,
                                 "note": "Kimi-K2 TikTokenTokenizer logic over the kimi_style fixture; see PROVENANCE.md"}}) + "\n")
    for c in cases:
        f.write(json.dumps(c, ensure_ascii=False) + "\n")
print(len(cases), "cases")
print(var.all_special_tokens, sorted(var.all_special_ids))
for c in cases:
    if c["kind"] == "decode" and c["config"] == "variant":
        print(c["name"], c["ids"], repr(c["decoded"]), repr(c["decoded_skip"]))
