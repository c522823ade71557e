# Test-data generator only (not used by the library or its tests): a restatement, written for
# tinkex, of the behaviour of Kimi-K2's TikTokenTokenizer (tokenization_kimi.py) on top of
# tiktoken 0.14.0 + transformers 4.57.6, used to produce the expected outputs in ../.
# pip install tiktoken==0.14.0 transformers==4.57.6
from typing import Dict, List, Optional
import tiktoken
from tiktoken.load import load_tiktoken_bpe
from transformers.tokenization_utils import PreTrainedTokenizer
from transformers.convert_slow_tokenizer import bytes_to_unicode

PAT = "|".join([
    r"""[\p{Han}]+""",
    r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}&&[^\p{Han}]]*[\p{Ll}\p{Lm}\p{Lo}\p{M}&&[^\p{Han}]]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
    r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}&&[^\p{Han}]]+[\p{Ll}\p{Lm}\p{Lo}\p{M}&&[^\p{Han}]]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
    r"""\p{N}{1,3}""",
    r""" ?[^\s\p{L}\p{N}]+[\r\n]*""",
    r"""\s*[\r\n]+""",
    r"""\s+(?!\S)""",
    r"""\s+""",
])
DEFAULT_ADDITIONAL = ["<|im_end|>", "<|im_user|>", "<|im_assistant|>", "<|start_header_id|>",
                      "<|end_header_id|>", "[EOT]", "<|im_system|>", "<|im_middle|>"]

def split_runs(s, limit):
    if not s:
        return
    run = 0
    is_sp = s[0].isspace()
    start = 0
    for i, ch in enumerate(s):
        now = ch.isspace()
        if now != is_sp:
            run = 1
            is_sp = now
        else:
            run += 1
            if run > limit:
                yield s[start:i]
                start = i
                run = 1
    yield s[start:]

class KimiLike(PreTrainedTokenizer):
    vocab_files_names = {"vocab_file": "tiktoken.model"}
    model_input_names = ["input_ids", "attention_mask"]

    def __init__(self, vocab_file, bos_token="[BOS]", eos_token="[EOS]", unk_token=None,
                 pad_token=None, additional_special_tokens=None, added_tokens_decoder=None, **kw):
        if additional_special_tokens is None:
            additional_special_tokens = list(DEFAULT_ADDITIONAL)
        names = {i: t.content for i, t in (added_tokens_decoder or {}).items()}
        ranks = load_tiktoken_bpe(vocab_file)
        n = len(ranks)
        self.special_tokens = {names.get(i, f"<|reserved_token_{i}|>"): i for i in range(n, n + 256)}
        self.model = tiktoken.Encoding(name="kimi_like", pat_str=PAT, mergeable_ranks=ranks,
                                       special_tokens=self.special_tokens)
        self.n_words = self.model.n_vocab
        be = bytes_to_unicode()
        self.byte_decoder = {v: k for k, v in be.items()}
        self.decoder = {i: "".join(be[b] for b in self.model.decode_single_token_bytes(i))
                        for i in range(self.n_words)}
        self.encoder = {v: k for k, v in self.decoder.items()}
        self.unk_id = self.special_tokens.get(str(unk_token))
        super().__init__(bos_token=bos_token, eos_token=eos_token, unk_token=unk_token,
                         pad_token=pad_token, additional_special_tokens=additional_special_tokens,
                         added_tokens_decoder=added_tokens_decoder, **kw)

    def encode(self, text, allow_special_tokens=True, **kw):
        if kw:
            return super().encode(text, **kw)
        out = []
        for i in range(0, len(text), 400_000):
            for sub in split_runs(text[i:i + 400_000], 25_000):
                if allow_special_tokens:
                    out.extend(self.model.encode(sub, allowed_special="all"))
                else:
                    out.extend(self.model.encode(sub, disallowed_special=()))
        return out

    def decode(self, ids, **kw):
        if kw:
            return super().decode(ids, **kw)
        return self.model.decode(list(ids))

    @property
    def vocab_size(self):
        return self.n_words

    def get_vocab(self):
        return dict(self.encoder)

    def _tokenize(self, text, **kw):
        return [self.decoder[t] for t in self.encode(text)]

    def _convert_token_to_id(self, token):
        return self.encoder.get(token, self.unk_id)

    def _convert_id_to_token(self, index):
        return self.decoder.get(index)

    @staticmethod
    def clean_up_tokenization(s):
        return s

    def convert_tokens_to_string(self, tokens):
        return bytearray([self.byte_decoder[c] for c in "".join(tokens)]).decode("utf-8", "replace")
