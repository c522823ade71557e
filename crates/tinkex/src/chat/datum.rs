//! The training datum `forward_backward` takes, built from a supervised example as the
//! cookbook's `datum_from_model_input_weights` (`supervised/common.py`, 0.6.1) builds it.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::types::{EncodedTextChunk, ModelInput, ModelInputChunk};

/// How per-token weights are scaled after the shift.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reduction {
    /// Weights as they are (a token-sum loss).
    #[default]
    None,
    /// Weights divided by their sum when it is positive (a token-mean loss).
    Mean,
}

impl std::str::FromStr for Reduction {
    type Err = Error;

    fn from_str(s: &str) -> Result<Reduction> {
        match s {
            "none" => Ok(Reduction::None),
            "mean" => Ok(Reduction::Mean),
            _ => Err(Error::InvalidInput(format!(
                "unknown reduction `{s}`: expected none or mean"
            ))),
        }
    }
}

/// A tensor as the Tinker API takes it: `{"data": [...], "dtype": "...", "shape": [...]}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TensorData<T> {
    /// The values, flattened.
    pub data: Vec<T>,
    /// `"int64"` or `"float32"`.
    pub dtype: String,
    /// The shape (one dimension here).
    pub shape: Vec<usize>,
}

impl<T> TensorData<T> {
    fn vector(data: Vec<T>, dtype: &str) -> Self {
        TensorData {
            shape: vec![data.len()],
            data,
            dtype: dtype.to_owned(),
        }
    }
}

/// The loss function's inputs: the next token at each position, and its weight.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LossFnInputs {
    /// Token ids shifted left by one (int64).
    pub target_tokens: TensorData<u32>,
    /// Per-target weights (float32).
    pub weights: TensorData<f32>,
}

/// A training example in the Tinker API's shape:
/// `{"model_input": {...}, "loss_fn_inputs": {"target_tokens": ..., "weights": ...}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Datum {
    /// All tokens but the last.
    pub model_input: ModelInput,
    /// Targets and weights.
    pub loss_fn_inputs: LossFnInputs,
}

impl Datum {
    /// The datum of a supervised example (`tokens`, one weight per token): truncated to
    /// `max_length` tokens if given (a text chunk cut, an image chunk dropped whole), empty text
    /// chunks and trailing images dropped, then shifted — `model_input` is every token but the
    /// last, `target_tokens` every token but the first (0 for image positions), `weights` the
    /// weights of the targets; with [`Reduction::Mean`] they are divided by their sum when it is
    /// positive, in float32 as the cookbook's torch code computes it.
    ///
    /// Fewer than 2 tokens, a last chunk that is an image, or a weight count that differs from
    /// the token count is an error.
    ///
    /// ```
    /// use tinkex::chat::{Datum, Reduction};
    /// use tinkex::types::ModelInput;
    ///
    /// let d = Datum::new(&ModelInput::from_ints(vec![1, 2, 3]), &[0.0, 0.0, 1.0], None, Reduction::None)?;
    /// assert_eq!(d.model_input.to_ints()?, [1, 2]);
    /// assert_eq!(d.loss_fn_inputs.target_tokens.data, [2, 3]);
    /// assert_eq!(d.loss_fn_inputs.weights.data, [0.0, 1.0]);
    /// # Ok::<(), tinkex::Error>(())
    /// ```
    pub fn new(
        tokens: &ModelInput,
        weights: &[f32],
        max_length: Option<usize>,
        reduction: Reduction,
    ) -> Result<Datum> {
        let total = tokens.length()?;
        if weights.len() != total {
            return Err(Error::InvalidInput(format!(
                "{} weights for {total} tokens: a supervised example has one weight per token",
                weights.len()
            )));
        }
        let mut chunks: Vec<ModelInputChunk> = tokens.chunks.clone();
        if let Some(max) = max_length {
            let mut total = total;
            while total > max {
                let Some(last) = chunks.last_mut() else { break };
                let len = last.length()?;
                match last {
                    ModelInputChunk::EncodedText(t) if total - max < len => {
                        t.tokens.truncate(len - (total - max));
                        total = max;
                    }
                    _ => {
                        chunks.pop();
                        total -= len;
                    }
                }
            }
        }
        chunks.retain(|c| !matches!(c, ModelInputChunk::EncodedText(t) if t.tokens.is_empty()));
        while matches!(chunks.last(), Some(ModelInputChunk::Image(_))) {
            chunks.pop();
        }
        let Some(ModelInputChunk::EncodedText(last)) = chunks.last() else {
            return Err(Error::InvalidInput(if chunks.is_empty() {
                "need at least 2 tokens for input/target split".into()
            } else {
                "The last chunk must be a text chunk".into()
            }));
        };
        let n: usize = chunks
            .iter()
            .map(ModelInputChunk::length)
            .sum::<Result<usize>>()?;
        if n < 2 {
            return Err(Error::InvalidInput(
                "need at least 2 tokens for input/target split".into(),
            ));
        }
        let mut targets = Vec::with_capacity(n);
        for c in &chunks {
            match c {
                ModelInputChunk::EncodedText(t) => targets.extend_from_slice(&t.tokens),
                ModelInputChunk::Image(_) => targets.extend(std::iter::repeat_n(0, c.length()?)),
            }
        }
        targets.remove(0);
        let mut input = chunks[..chunks.len() - 1].to_vec();
        if last.tokens.len() > 1 {
            input.push(ModelInputChunk::EncodedText(EncodedTextChunk {
                tokens: last.tokens[..last.tokens.len() - 1].to_vec(),
            }));
        }
        let end = (targets.len() + 1).min(weights.len());
        let mut w: Vec<f32> = weights[1.min(end)..end].to_vec();
        if reduction == Reduction::Mean {
            // torch: float(weights.sum()), then weights / total in float32.
            let sum: f32 = w.iter().sum();
            if sum > 0.0 {
                w.iter_mut().for_each(|x| *x /= sum);
            }
        }
        Ok(Datum {
            model_input: ModelInput { chunks: input },
            loss_fn_inputs: LossFnInputs {
                target_tokens: TensorData::vector(targets, "int64"),
                weights: TensorData::vector(w, "float32"),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunks(parts: &[&[u32]]) -> ModelInput {
        ModelInput {
            chunks: parts
                .iter()
                .map(|p| ModelInputChunk::EncodedText(EncodedTextChunk { tokens: p.to_vec() }))
                .collect(),
        }
    }

    #[test]
    fn shift_truncate_and_mean() {
        let m = chunks(&[&[1, 2], &[], &[3, 4, 5]]);
        let w = [0.0, 0.0, 1.0, 1.0, 1.0];
        let d = Datum::new(&m, &w, None, Reduction::None).unwrap();
        assert_eq!(d.model_input, chunks(&[&[1, 2], &[3, 4]]));
        assert_eq!(d.loss_fn_inputs.target_tokens.data, [2, 3, 4, 5]);
        assert_eq!(d.loss_fn_inputs.weights.data, [0.0, 1.0, 1.0, 1.0]);
        assert_eq!(d.loss_fn_inputs.weights.shape, [4]);
        // Truncated to 3 tokens: the last chunk is cut to one token, which then leaves the input.
        let d = Datum::new(&m, &w, Some(3), Reduction::Mean).unwrap();
        assert_eq!(d.model_input, chunks(&[&[1, 2]]));
        assert_eq!(d.loss_fn_inputs.target_tokens.data, [2, 3]);
        assert_eq!(d.loss_fn_inputs.weights.data, [0.0, 1.0]);
        // Dropping a whole chunk.
        let d = Datum::new(&m, &w, Some(2), Reduction::None).unwrap();
        assert_eq!(d.model_input, chunks(&[&[1]]));
        // Mean in float32: 1/3 is the float32 nearest to a third.
        let d = Datum::new(
            &chunks(&[&[1, 2, 3, 4]]),
            &[0.0, 1.0, 1.0, 1.0],
            None,
            Reduction::Mean,
        )
        .unwrap();
        assert_eq!(d.loss_fn_inputs.weights.data, [1.0f32 / 3.0; 3]);
        let json = serde_json::to_value(&d).unwrap();
        assert_eq!(json["loss_fn_inputs"]["target_tokens"]["dtype"], "int64");
        assert_eq!(json["model_input"]["chunks"][0]["type"], "encoded_text");
        // Zero weights stay zero under mean.
        let d = Datum::new(&chunks(&[&[1, 2]]), &[0.0, 0.0], None, Reduction::Mean).unwrap();
        assert_eq!(d.loss_fn_inputs.weights.data, [0.0]);
    }

    #[test]
    fn too_short_or_mismatched() {
        assert!(Datum::new(&chunks(&[&[1]]), &[1.0], None, Reduction::None).is_err());
        assert!(Datum::new(&chunks(&[&[1, 2]]), &[1.0], None, Reduction::None).is_err());
        assert!(Datum::new(&chunks(&[&[1, 2, 3]]), &[1.0; 3], Some(1), Reduction::None).is_err());
        assert!(Datum::new(&ModelInput::empty(), &[], None, Reduction::None).is_err());
    }
}
