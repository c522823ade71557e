//! Tinker's model-input types, with the JSON shape the Tinker API uses.
//!
//! ```
//! # let _ = tinkex::cache::TokenizerCache::set_global(tinkex::Config::default().with_offline(true));
//! use tinkex::types::ModelInput;
//!
//! // A sampling prompt: text encoded with the model's tokenizer, special tokens as Python adds them.
//! let mut prompt = ModelInput::from_text("Question: 2+2=", "meta-llama/Llama-3.1-8B")?;
//! assert_eq!(prompt.to_ints()?[0], 128000); // <|begin_of_text|>
//! prompt.append_int(220);
//! let json = serde_json::to_string(&prompt).unwrap();
//! assert!(json.starts_with(r#"{"chunks":[{"tokens":[128000,"#));
//! # Ok::<(), tinkex::Error>(())
//! ```

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::tokenizer::ModelRef;

/// A run of token ids: `{"tokens": [...], "type": "encoded_text"}`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct EncodedTextChunk {
    /// The token ids.
    pub tokens: Vec<u32>,
}

/// Image encodings the API accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum ImageFormat {
    /// PNG.
    Png,
    /// JPEG.
    Jpeg,
}

/// An image: `{"data": "<base64>", "format": "png"|"jpeg", "expected_tokens": n?, "type": "image"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageChunk {
    /// The base64-encoded image bytes.
    pub data: String,
    /// The image format.
    pub format: ImageFormat,
    /// How many tokens the model will spend on the image, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_tokens: Option<u32>,
}

/// One chunk of a [`ModelInput`], tagged by `"type"` (written last, as the Python SDK does).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "type")]
#[non_exhaustive]
pub enum ModelInputChunk {
    /// Token ids.
    #[serde(rename = "encoded_text")]
    EncodedText(EncodedTextChunk),
    /// An image.
    #[serde(rename = "image")]
    Image(ImageChunk),
}

impl Serialize for ModelInputChunk {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Tagged<'a, T> {
            #[serde(flatten)]
            chunk: &'a T,
            r#type: &'static str,
        }
        match self {
            ModelInputChunk::EncodedText(chunk) => Tagged {
                chunk,
                r#type: "encoded_text",
            }
            .serialize(s),
            ModelInputChunk::Image(chunk) => Tagged {
                chunk,
                r#type: "image",
            }
            .serialize(s),
        }
    }
}

impl ModelInputChunk {
    /// How many tokens the chunk stands for; an image without `expected_tokens` is an error.
    pub fn length(&self) -> crate::Result<usize> {
        match self {
            ModelInputChunk::EncodedText(t) => Ok(t.tokens.len()),
            ModelInputChunk::Image(i) => i.expected_tokens.map(|n| n as usize).ok_or_else(|| {
                Error::InvalidInput(
                    "an image chunk has no expected_tokens, so its length is unknown".into(),
                )
            }),
        }
    }
}

impl From<EncodedTextChunk> for ModelInputChunk {
    fn from(c: EncodedTextChunk) -> Self {
        ModelInputChunk::EncodedText(c)
    }
}

impl From<ImageChunk> for ModelInputChunk {
    fn from(c: ImageChunk) -> Self {
        ModelInputChunk::Image(c)
    }
}

/// The input to a Tinker model: `{"chunks": [...]}`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ModelInput {
    /// The chunks, in order.
    pub chunks: Vec<ModelInputChunk>,
}

impl ModelInput {
    /// No chunks.
    pub fn empty() -> Self {
        ModelInput::default()
    }

    /// One text chunk holding `tokens` (no chunk at all when `tokens` is empty).
    pub fn from_ints(tokens: impl Into<Vec<u32>>) -> Self {
        let tokens = tokens.into();
        if tokens.is_empty() {
            return ModelInput::empty();
        }
        ModelInput {
            chunks: vec![EncodedTextChunk { tokens }.into()],
        }
    }

    /// `text` encoded with `model`'s tokenizer, special tokens added as Python's
    /// `tokenizer.encode(text)` adds them, as one text chunk.
    pub fn from_text<M: ModelRef + ?Sized>(text: &str, model: &M) -> crate::Result<Self> {
        Ok(ModelInput::from_ints(
            model.tokenizer()?.encode(text, true)?,
        ))
    }

    /// All token ids; an error if any chunk is not text.
    pub fn to_ints(&self) -> crate::Result<Vec<u32>> {
        let mut out = Vec::with_capacity(self.chunks.len().max(1) * 16);
        for c in &self.chunks {
            match c {
                ModelInputChunk::EncodedText(t) => out.extend_from_slice(&t.tokens),
                ModelInputChunk::Image(_) => {
                    return Err(Error::InvalidInput(
                        "to_ints: the model input holds an image chunk, which has no token ids"
                            .into(),
                    ))
                }
            }
        }
        Ok(out)
    }

    /// The total number of tokens; an error if an image lacks `expected_tokens`.
    pub fn length(&self) -> crate::Result<usize> {
        self.chunks.iter().map(ModelInputChunk::length).sum()
    }

    /// Appends a chunk.
    pub fn append(&mut self, chunk: impl Into<ModelInputChunk>) -> &mut Self {
        self.chunks.push(chunk.into());
        self
    }

    /// Appends one token, extending the last chunk when it is text (so the input serialises to
    /// as few chunks as possible), else starting a new text chunk.
    pub fn append_int(&mut self, token: u32) -> &mut Self {
        match self.chunks.last_mut() {
            Some(ModelInputChunk::EncodedText(t)) => t.tokens.push(token),
            _ => self.chunks.push(
                EncodedTextChunk {
                    tokens: vec![token],
                }
                .into(),
            ),
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_shape() {
        let mut m = ModelInput::from_ints(vec![1, 2]);
        m.append(ImageChunk {
            data: "aGk=".into(),
            format: ImageFormat::Png,
            expected_tokens: Some(4),
        });
        m.append_int(3).append_int(4);
        let text = serde_json::to_string(&m).unwrap();
        assert!(
            text.starts_with(r#"{"chunks":[{"tokens":[1,2],"type":"encoded_text"},{"data""#),
            "{text}"
        );
        let j = serde_json::to_value(&m).unwrap();
        assert_eq!(
            j,
            serde_json::json!({"chunks": [
                {"tokens": [1, 2], "type": "encoded_text"},
                {"data": "aGk=", "format": "png", "expected_tokens": 4, "type": "image"},
                {"tokens": [3, 4], "type": "encoded_text"},
            ]})
        );
        let back: ModelInput = serde_json::from_value(j).unwrap();
        assert_eq!(back, m);
        assert_eq!(m.length().unwrap(), 8);
        assert!(m.to_ints().is_err());
    }

    #[test]
    fn append_int_extends_and_length_errors() {
        let mut m = ModelInput::empty();
        m.append_int(7).append_int(8);
        assert_eq!(m.chunks.len(), 1);
        assert_eq!(m.to_ints().unwrap(), vec![7, 8]);
        m.append(ImageChunk {
            data: String::new(),
            format: ImageFormat::Jpeg,
            expected_tokens: None,
        });
        assert!(matches!(m.length(), Err(Error::InvalidInput(_))));
        assert!(ModelInput::from_ints(Vec::new()).chunks.is_empty());
    }
}
