//! Python's `json.loads` / `json.dumps`, reproduced exactly (CPython 3.11).
//!
//! The chat renderers mirror tinker-cookbook, which runs tool-call arguments and tool schemas
//! through Python's `json` module: `json.loads(arguments)` then `json.dumps(...)` to re-serialise
//! (default `ensure_ascii=True`, separators `(", ", ": ")`; elsewhere `ensure_ascii=False`, or
//! `separators=(",", ":"), sort_keys=True`), and a parse failure becomes visible text such as
//! `Invalid JSON: Expecting ',' delimiter: line 1 column 12 (char 11)`. So both directions must
//! match CPython character for character, error messages and positions included.
//!
//! The rules are those of the C accelerator (`Modules/_json.c`), which the default `json.loads`
//! and `json.dumps` use, and of `Lib/json/decoder.py` around it:
//!
//! * [`loads`]: whitespace is only `[ \t\n\r]`; `NaN`, `Infinity`, `-Infinity` are accepted;
//!   integers keep all their digits (`-0` is the int `0`); other numbers parse to `f64`
//!   (`1e400` is `inf`); an object is a dict (a repeated key keeps its first position and takes
//!   the last value); strings decode every escape, join `\uXXXX` surrogate pairs and keep lone
//!   surrogates ([`PyStr`] holds them); raw control characters in strings are errors; a leading
//!   BOM is rejected. Errors carry CPython's message and position in code points ([`DecodeError`]),
//!   including the two that are not `JSONDecodeError`s: the `ValueError` for an integer of more
//!   than 4300 digits and the `RecursionError` for deep nesting.
//! * [`dumps`]: Python's string escaping for both `ensure_ascii` settings, `float.__repr__` for
//!   floats ([`py_repr_float`]), `NaN`/`Infinity`/`-Infinity`, caller-chosen separators and
//!   `sort_keys` in code-point order. No `indent` (tinker-cookbook does not use it).
//!
//! Known differences (all where Python raises, sooner or later):
//! * Nesting: CPython raises `RecursionError` when decoding or encoding nests deeper than what is
//!   left of the interpreter's recursion limit (995 levels when called from a top-level script;
//!   fewer from deeper call stacks). Here the limit is the constant [`MAX_DEPTH`] = 995 for both
//!   directions, and the parser keeps its own stack, so hostile input (`[` × 100 000) cannot
//!   overflow the Rust stack.
//! * `dumps(ensure_ascii=False)` of a string with a lone surrogate: Python returns a `str` that
//!   cannot be encoded as UTF-8 (the later `.encode()` / tokenizer call fails); a Rust `String`
//!   cannot hold it, so [`dumps`] returns [`EncodeError::LoneSurrogate`] instead.
//! * [`Value`]'s `==` is structural (`1 != 1.0`, `NaN != NaN`), not Python's `==`.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::fmt::{self, Write as _};

/// Deepest nesting of arrays/objects [`loads`] and [`dumps`] accept (CPython: the recursion
/// limit, 1000, minus the frames already on the stack; 995 from a top-level script).
pub(crate) const MAX_DEPTH: usize = 995;

/// `sys.int_info.default_max_str_digits`: longer integer literals make `int()` raise ValueError.
const INT_MAX_STR_DIGITS: usize = 4300;

/// A Python `str`: a sequence of code points, which (unlike a Rust `String`) may include lone
/// surrogates such as the one `json.loads('"\\ud800"')` returns.
///
/// Ordered by code point, as Python compares strings (this is `sort_keys`'s order).
#[derive(Clone, PartialEq, Eq, Hash)]
pub(crate) struct PyStr(Repr);

/// Invariant: `CodePoints` holds at least one surrogate (so equal strings have equal
/// representations) and only values `<= 0x10FFFF`.
#[derive(Clone, PartialEq, Eq, Hash)]
enum Repr {
    Utf8(String),
    CodePoints(Vec<u32>),
}

impl PyStr {
    /// The text, unless it holds a lone surrogate.
    pub(crate) fn as_str(&self) -> Option<&str> {
        match &self.0 {
            Repr::Utf8(s) => Some(s),
            Repr::CodePoints(_) => None,
        }
    }

    /// The text with each lone surrogate replaced by U+FFFD.
    pub(crate) fn to_string_lossy(&self) -> std::borrow::Cow<'_, str> {
        match &self.0 {
            Repr::Utf8(s) => s.as_str().into(),
            Repr::CodePoints(cps) => cps
                .iter()
                .map(|&c| char::from_u32(c).unwrap_or(char::REPLACEMENT_CHARACTER))
                .collect::<String>()
                .into(),
        }
    }

    /// The code points, in order (surrogates included).
    pub(crate) fn code_points(&self) -> impl Iterator<Item = u32> + '_ {
        let (utf8, cps) = match &self.0 {
            Repr::Utf8(s) => (Some(s.chars().map(u32::from)), None),
            Repr::CodePoints(v) => (None, Some(v.iter().copied())),
        };
        utf8.into_iter().flatten().chain(cps.into_iter().flatten())
    }
}

impl From<String> for PyStr {
    fn from(s: String) -> Self {
        PyStr(Repr::Utf8(s))
    }
}

impl From<&str> for PyStr {
    fn from(s: &str) -> Self {
        PyStr(Repr::Utf8(s.to_owned()))
    }
}

impl PartialEq<str> for PyStr {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == Some(other)
    }
}

impl PartialEq<&str> for PyStr {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == Some(*other)
    }
}

impl Ord for PyStr {
    fn cmp(&self, other: &Self) -> Ordering {
        match (&self.0, &other.0) {
            // UTF-8 byte order is code-point order.
            (Repr::Utf8(a), Repr::Utf8(b)) => a.cmp(b),
            _ => self.code_points().cmp(other.code_points()),
        }
    }
}

impl PartialOrd for PyStr {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Debug for PyStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Repr::Utf8(s) => fmt::Debug::fmt(s, f),
            Repr::CodePoints(_) => {
                f.write_char('"')?;
                for c in self.code_points() {
                    match char::from_u32(c) {
                        Some(ch) => write!(f, "{}", ch.escape_debug())?,
                        None => write!(f, "\\u{{{c:x}}}")?,
                    }
                }
                f.write_char('"')
            }
        }
    }
}

/// Builds a [`PyStr`], switching to code points only at the first lone surrogate.
enum StrBuilder {
    Utf8(String),
    CodePoints(Vec<u32>),
}

impl StrBuilder {
    fn push_str(&mut self, s: &str) {
        match self {
            StrBuilder::Utf8(b) => b.push_str(s),
            StrBuilder::CodePoints(v) => v.extend(s.chars().map(u32::from)),
        }
    }

    fn push_code_point(&mut self, cp: u32) {
        if let (StrBuilder::Utf8(b), Some(c)) = (&mut *self, char::from_u32(cp)) {
            b.push(c);
            return;
        }
        if let StrBuilder::Utf8(b) = self {
            let v = b.chars().map(u32::from).collect();
            *self = StrBuilder::CodePoints(v);
        }
        if let StrBuilder::CodePoints(v) = self {
            v.push(cp);
        }
    }

    fn finish(self) -> PyStr {
        match self {
            StrBuilder::Utf8(s) => PyStr(Repr::Utf8(s)),
            StrBuilder::CodePoints(v) => PyStr(Repr::CodePoints(v)),
        }
    }
}

/// A Python `int` as its canonical decimal text (`int.__repr__`): an optional `-`, no leading
/// zeros, never `-0`. Arbitrary precision, as JSON integers are in Python.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct PyInt(String);

impl PyInt {
    /// The decimal digits, as `str(n)` in Python.
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }

    /// From a JSON integer literal (`-?(0|[1-9][0-9]*)`).
    fn from_literal(text: &str) -> PyInt {
        PyInt(if text == "-0" {
            "0".to_owned()
        } else {
            text.to_owned()
        })
    }
}

impl From<i64> for PyInt {
    fn from(n: i64) -> Self {
        PyInt(n.to_string())
    }
}

impl From<u64> for PyInt {
    fn from(n: u64) -> Self {
        PyInt(n.to_string())
    }
}

/// A value `json.loads` can return: `None`, `bool`, `int`, `float`, `str`, `list`, `dict`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Value {
    /// `None` / `null`.
    Null,
    /// `True` / `False`.
    Bool(bool),
    /// An `int` of any size.
    Int(PyInt),
    /// A `float`, including `nan` and `±inf`.
    Float(f64),
    /// A `str`.
    Str(PyStr),
    /// A `list`.
    Array(Vec<Value>),
    /// A `dict` in insertion order. Keys should be unique (as [`loads`] and [`Value::object`]
    /// make them); [`dumps`] writes the pairs as they are.
    Object(Vec<(PyStr, Value)>),
}

impl Value {
    /// A dict built as Python's `dict(pairs)` does: a repeated key keeps its first position and
    /// takes the last value.
    pub(crate) fn object(pairs: impl IntoIterator<Item = (PyStr, Value)>) -> Value {
        let mut b = ObjectBuilder::default();
        for (k, v) in pairs {
            b.insert(k, v);
        }
        Value::Object(b.pairs)
    }

    /// `self[key]` for a dict holding `key`.
    pub(crate) fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Object(pairs) => pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// Converts a `serde_json` value (the crate builds serde_json with `preserve_order`, so key
    /// order is kept). Lossy compared with [`loads`] on the original text: integers beyond 64
    /// bits arrive as floats; `-0` arrives as the float `-0.0`. Prefer [`loads`] on the raw JSON
    /// text when there is one.
    pub(crate) fn from_serde(v: &serde_json::Value) -> Value {
        match v {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => {
                if let Some(i) = n.as_i64() {
                    Value::Int(i.into())
                } else if let Some(u) = n.as_u64() {
                    Value::Int(u.into())
                } else {
                    Value::Float(n.as_f64().unwrap_or(f64::NAN))
                }
            }
            serde_json::Value::String(s) => Value::Str(s.as_str().into()),
            serde_json::Value::Array(items) => {
                Value::Array(items.iter().map(Value::from_serde).collect())
            }
            serde_json::Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| (k.as_str().into(), Value::from_serde(v)))
                    .collect(),
            ),
        }
    }
}

/// Dict insertion with Python's semantics; indexed once an object grows past a few keys so
/// hostile input with many keys stays linear.
#[derive(Default)]
struct ObjectBuilder {
    pairs: Vec<(PyStr, Value)>,
    index: Option<HashMap<PyStr, usize>>,
}

impl ObjectBuilder {
    const INDEX_FROM: usize = 16;

    fn insert(&mut self, key: PyStr, value: Value) {
        let found = match &self.index {
            Some(index) => index.get(&key).copied(),
            None => self.pairs.iter().position(|(k, _)| *k == key),
        };
        if let Some(i) = found {
            self.pairs[i].1 = value;
            return;
        }
        if let Some(index) = &mut self.index {
            index.insert(key.clone(), self.pairs.len());
        }
        self.pairs.push((key, value));
        if self.index.is_none() && self.pairs.len() >= Self::INDEX_FROM {
            self.index = Some(
                self.pairs
                    .iter()
                    .enumerate()
                    .map(|(i, (k, _))| (k.clone(), i))
                    .collect(),
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// loads

/// Why [`loads`] failed, as the exception Python raises.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DecodeErrorKind {
    /// `json.JSONDecodeError` with this `msg`: "Expecting value", "Expecting ',' delimiter",
    /// "Unterminated string starting at", "Invalid control character at", "Invalid \\escape",
    /// "Invalid \\uXXXX escape", "Extra data", "Unexpected UTF-8 BOM (decode using utf-8-sig)", ….
    Json(&'static str),
    /// `ValueError` from `int()`: an integer literal with more than 4300 digits.
    IntTooLong {
        /// Its digit count (sign excluded).
        digits: usize,
    },
    /// `RecursionError`: nesting deeper than [`MAX_DEPTH`] (the innermost is an object or an array).
    TooDeep {
        /// Whether the container that went too deep is an object.
        object: bool,
    },
}

/// A [`loads`] failure. `Display` is Python's `str(exception)`, e.g.
/// `Expecting value: line 1 column 1 (char 0)` for a `JSONDecodeError`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct DecodeError {
    /// Which exception, and its message.
    pub(crate) kind: DecodeErrorKind,
    /// Where, in code points (Python `str` index) — `JSONDecodeError.pos`.
    pub(crate) pos: usize,
    /// 1-based line of `pos` (lines end at `\n` only) — `JSONDecodeError.lineno`.
    pub(crate) lineno: usize,
    /// 1-based column of `pos`, in code points — `JSONDecodeError.colno`.
    pub(crate) colno: usize,
}

impl DecodeError {
    /// `JSONDecodeError.msg`, or `None` when Python raises another exception (which an
    /// `except json.JSONDecodeError` clause would not catch).
    pub(crate) fn msg(&self) -> Option<&'static str> {
        match self.kind {
            DecodeErrorKind::Json(msg) => Some(msg),
            _ => None,
        }
    }

    fn new(kind: DecodeErrorKind, doc: &str, byte_pos: usize) -> Self {
        let before = &doc.as_bytes()[..byte_pos.min(doc.len())];
        let chars = |b: &[u8]| b.iter().filter(|&&x| (x & 0xC0) != 0x80).count();
        let pos = chars(before);
        let lineno = before.iter().filter(|&&x| x == b'\n').count() + 1;
        // Python: colno = pos - doc.rfind('\n', 0, pos), with rfind = -1 when there is none.
        let colno = match before.iter().rposition(|&x| x == b'\n') {
            Some(nl) => pos - chars(&before[..nl]),
            None => pos + 1,
        };
        DecodeError {
            kind,
            pos,
            lineno,
            colno,
        }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            DecodeErrorKind::Json(msg) => {
                write!(
                    f,
                    "{msg}: line {} column {} (char {})",
                    self.lineno, self.colno, self.pos
                )
            }
            DecodeErrorKind::IntTooLong { digits } => write!(
                f,
                "Exceeds the limit ({INT_MAX_STR_DIGITS} digits) for integer string conversion: \
                 value has {digits} digits; use sys.set_int_max_str_digits() to increase the limit"
            ),
            DecodeErrorKind::TooDeep { object } => write!(
                f,
                "maximum recursion depth exceeded while decoding a JSON {} from a unicode string",
                if object { "object" } else { "array" }
            ),
        }
    }
}

impl std::error::Error for DecodeError {}

/// `json.loads(s)` for a Python `str` `s`.
pub(crate) fn loads(s: &str) -> Result<Value, DecodeError> {
    Parser { s, b: s.as_bytes() }
        .document()
        .map_err(|(kind, at)| DecodeError::new(kind, s, at))
}

/// A failure and its byte offset in the document.
type Fail = (DecodeErrorKind, usize);

fn fail<T>(msg: &'static str, at: usize) -> Result<T, Fail> {
    Err((DecodeErrorKind::Json(msg), at))
}

/// A container being filled: the parser's explicit stack (no recursion, so no stack overflow).
enum Frame {
    Array(Vec<Value>),
    /// The object so far and the key whose value is being parsed.
    Object(ObjectBuilder, PyStr),
}

/// Works on bytes: every byte the grammar looks at is ASCII, so byte offsets stand in for
/// Python's code-point indices and are converted only for an error. Offsets handed out are
/// always on character boundaries (just after an ASCII byte, or where scanning started).
struct Parser<'a> {
    s: &'a str,
    b: &'a [u8],
}

impl Parser<'_> {
    fn skip_ws(&self, mut i: usize) -> usize {
        while matches!(self.b.get(i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            i += 1;
        }
        i
    }

    /// `JSONDecoder.decode`.
    fn document(&self) -> Result<Value, Fail> {
        if self.s.starts_with('\u{feff}') {
            return fail("Unexpected UTF-8 BOM (decode using utf-8-sig)", 0);
        }
        let (value, end) = self.value(self.skip_ws(0))?;
        let end = self.skip_ws(end);
        if end != self.b.len() {
            return fail("Extra data", end);
        }
        Ok(value)
    }

    /// `scan_once` at `idx`: the value and the offset just after it.
    fn value(&self, mut idx: usize) -> Result<(Value, usize), Fail> {
        let mut stack: Vec<Frame> = Vec::new();
        'term: loop {
            // One term: a scalar, an empty container, or the opening of a non-empty one.
            let (mut value, mut end) = match self.b.get(idx) {
                Some(b'"') => {
                    let (s, end) = self.string(idx + 1)?;
                    (Value::Str(s), end)
                }
                Some(&open @ (b'[' | b'{')) => {
                    let object = open == b'{';
                    if stack.len() >= MAX_DEPTH {
                        return Err((DecodeErrorKind::TooDeep { object }, idx));
                    }
                    let i = self.skip_ws(idx + 1);
                    match (object, self.b.get(i)) {
                        (false, Some(b']')) => (Value::Array(Vec::new()), i + 1),
                        (true, Some(b'}')) => (Value::Object(Vec::new()), i + 1),
                        (false, _) => {
                            stack.push(Frame::Array(Vec::new()));
                            idx = i;
                            continue 'term;
                        }
                        (true, _) => {
                            let (key, i) = self.key(i)?;
                            stack.push(Frame::Object(ObjectBuilder::default(), key));
                            idx = i;
                            continue 'term;
                        }
                    }
                }
                _ => self.scalar(idx)?,
            };
            // Hand the finished value to the enclosing containers, closing those that end here.
            loop {
                let Some(frame) = stack.pop() else {
                    return Ok((value, end));
                };
                let i = self.skip_ws(end);
                match frame {
                    Frame::Array(mut items) => {
                        items.push(value);
                        match self.b.get(i) {
                            Some(b']') => (value, end) = (Value::Array(items), i + 1),
                            Some(b',') => {
                                stack.push(Frame::Array(items));
                                idx = self.skip_ws(i + 1);
                                continue 'term;
                            }
                            _ => return fail("Expecting ',' delimiter", i),
                        }
                    }
                    Frame::Object(mut object, key) => {
                        object.insert(key, value);
                        match self.b.get(i) {
                            Some(b'}') => (value, end) = (Value::Object(object.pairs), i + 1),
                            Some(b',') => {
                                let (key, i) = self.key(self.skip_ws(i + 1))?;
                                stack.push(Frame::Object(object, key));
                                idx = i;
                                continue 'term;
                            }
                            _ => return fail("Expecting ',' delimiter", i),
                        }
                    }
                }
            }
        }
    }

    /// An object key at `i`, its `:` and the whitespace after; returns the key and the offset of
    /// its value.
    fn key(&self, i: usize) -> Result<(PyStr, usize), Fail> {
        if self.b.get(i) != Some(&b'"') {
            return fail("Expecting property name enclosed in double quotes", i);
        }
        let (key, end) = self.string(i + 1)?;
        let end = self.skip_ws(end);
        if self.b.get(end) != Some(&b':') {
            return fail("Expecting ':' delimiter", end);
        }
        Ok((key, self.skip_ws(end + 1)))
    }

    /// The constants, else a number; else "Expecting value" at `idx`.
    fn scalar(&self, idx: usize) -> Result<(Value, usize), Fail> {
        let rest = self.b.get(idx..).unwrap_or_default();
        let constants: [(&[u8], Value); 6] = [
            (b"null", Value::Null),
            (b"true", Value::Bool(true)),
            (b"false", Value::Bool(false)),
            (b"NaN", Value::Float(f64::NAN)),
            (b"Infinity", Value::Float(f64::INFINITY)),
            (b"-Infinity", Value::Float(f64::NEG_INFINITY)),
        ];
        for (text, value) in constants {
            if rest.starts_with(text) {
                return Ok((value, idx + text.len()));
            }
        }
        self.number(idx)
    }

    /// `_match_number_unicode`: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?`, taking the
    /// longest prefix that matches (so `1.` is the int 1 followed by extra data).
    fn number(&self, start: usize) -> Result<(Value, usize), Fail> {
        let digit = |i: usize| self.b.get(i).is_some_and(u8::is_ascii_digit);
        let mut i = start;
        if self.b.get(i) == Some(&b'-') {
            i += 1;
        }
        match self.b.get(i) {
            Some(b'0') => i += 1,
            Some(b'1'..=b'9') => {
                while digit(i) {
                    i += 1;
                }
            }
            _ => return fail("Expecting value", start),
        }
        let mut is_float = false;
        if self.b.get(i) == Some(&b'.') && digit(i + 1) {
            is_float = true;
            i += 1;
            while digit(i) {
                i += 1;
            }
        }
        if matches!(self.b.get(i), Some(b'e' | b'E')) {
            let mut j = i + 1;
            if matches!(self.b.get(j), Some(b'-' | b'+')) {
                j += 1;
            }
            if digit(j) {
                while digit(j) {
                    j += 1;
                }
                is_float = true;
                i = j;
            }
        }
        let text = &self.s[start..i];
        if is_float {
            // Correctly rounded like Python's float(); overflow gives ±inf, underflow ±0.0.
            let f = text.parse::<f64>().unwrap_or(f64::NAN);
            return Ok((Value::Float(f), i));
        }
        let digits = text.len() - usize::from(text.starts_with('-'));
        if digits > INT_MAX_STR_DIGITS {
            return Err((DecodeErrorKind::IntTooLong { digits }, start));
        }
        Ok((Value::Int(PyInt::from_literal(text)), i))
    }

    /// `scanstring_unicode` (strict): `start` is just after the opening quote; returns the
    /// string and the offset after the closing quote.
    fn string(&self, start: usize) -> Result<(PyStr, usize), Fail> {
        const UNTERMINATED: &str = "Unterminated string starting at";
        const BAD_U: &str = "Invalid \\uXXXX escape";
        let begin = start - 1;
        let len = self.b.len();
        let mut out = StrBuilder::Utf8(String::new());
        let mut end = start;
        loop {
            let mut next = end;
            let stop = loop {
                match self.b.get(next) {
                    None => return fail(UNTERMINATED, begin),
                    Some(&c @ (b'"' | b'\\')) => break c,
                    Some(&c) if c < 0x20 => return fail("Invalid control character at", next),
                    Some(_) => next += 1,
                }
            };
            out.push_str(&self.s[end..next]);
            if stop == b'"' {
                return Ok((out.finish(), next + 1));
            }
            // A backslash at `next`.
            let esc = next + 1;
            let Some(&c) = self.b.get(esc) else {
                return fail(UNTERMINATED, begin);
            };
            if c != b'u' {
                let ch = match c {
                    b'"' => '"',
                    b'\\' => '\\',
                    b'/' => '/',
                    b'b' => '\u{8}',
                    b'f' => '\u{c}',
                    b'n' => '\n',
                    b'r' => '\r',
                    b't' => '\t',
                    _ => return fail("Invalid \\escape", next),
                };
                out.push_code_point(ch.into());
                end = esc + 1;
                continue;
            }
            // CPython wants the four hex digits *and* one more character after them; every
            // failure points at the `u`. (Counting bytes instead of code points cannot change the
            // outcome: the checks pass only when the four are ASCII hex digits.)
            end = esc + 5;
            if end >= len {
                return fail(BAD_U, esc);
            }
            let Some(mut cp) = hex4(&self.b[esc + 1..end]) else {
                return fail(BAD_U, esc);
            };
            if (0xD800..=0xDBFF).contains(&cp) && end + 6 < len && self.b[end..end + 2] == *b"\\u" {
                let Some(low) = hex4(&self.b[end + 2..end + 6]) else {
                    return fail(BAD_U, end + 1);
                };
                if (0xDC00..=0xDFFF).contains(&low) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
                    end += 6;
                }
            }
            out.push_code_point(cp);
        }
    }
}

fn hex4(b: &[u8]) -> Option<u32> {
    b.iter()
        .try_fold(0u32, |acc, &d| Some(acc << 4 | char::from(d).to_digit(16)?))
}

// ---------------------------------------------------------------------------------------------
// dumps

/// `json.dumps` keyword arguments (those tinker-cookbook uses). `Default` is Python's defaults.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct DumpOptions {
    /// `ensure_ascii` (default true): escape everything outside printable ASCII.
    pub(crate) ensure_ascii: bool,
    /// `separators[0]` (default `", "`).
    pub(crate) item_sep: &'static str,
    /// `separators[1]` (default `": "`).
    pub(crate) key_sep: &'static str,
    /// `sort_keys` (default false): dict keys in code-point order.
    pub(crate) sort_keys: bool,
}

impl Default for DumpOptions {
    fn default() -> Self {
        DumpOptions {
            ensure_ascii: true,
            item_sep: ", ",
            key_sep: ": ",
            sort_keys: false,
        }
    }
}

/// Why [`dumps`] failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum EncodeError {
    /// With `ensure_ascii=False`, a string holds this lone surrogate: Python's result would not
    /// be encodable as UTF-8 ("surrogates not allowed" at its next `.encode()`).
    LoneSurrogate(u32),
    /// Nesting deeper than [`MAX_DEPTH`] (Python: `RecursionError`).
    TooDeep,
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EncodeError::LoneSurrogate(c) => {
                write!(
                    f,
                    "'utf-8' codec can't encode character '\\u{c:04x}': surrogates not allowed"
                )
            }
            EncodeError::TooDeep => {
                f.write_str("maximum recursion depth exceeded while encoding a JSON object")
            }
        }
    }
}

impl std::error::Error for EncodeError {}

/// `json.dumps(v, ensure_ascii=…, separators=(item_sep, key_sep), sort_keys=…)`.
///
/// Fails only with `ensure_ascii: false` on a lone surrogate, or beyond [`MAX_DEPTH`].
pub(crate) fn dumps(v: &Value, opts: &DumpOptions) -> Result<String, EncodeError> {
    let mut out = String::new();
    write_value(&mut out, v, opts, 0)?;
    Ok(out)
}

fn write_value(
    out: &mut String,
    v: &Value,
    opts: &DumpOptions,
    depth: usize,
) -> Result<(), EncodeError> {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Int(n) => out.push_str(n.as_str()),
        Value::Float(f) if f.is_nan() => out.push_str("NaN"),
        Value::Float(f) if f.is_infinite() => {
            out.push_str(if *f > 0.0 { "Infinity" } else { "-Infinity" })
        }
        Value::Float(f) => out.push_str(&py_repr_float(*f)),
        Value::Str(s) => write_str(out, s, opts.ensure_ascii)?,
        // Like CPython, an empty container counts towards the depth too.
        Value::Array(_) | Value::Object(_) if depth >= MAX_DEPTH => {
            return Err(EncodeError::TooDeep)
        }
        Value::Array(items) if items.is_empty() => out.push_str("[]"),
        Value::Object(pairs) if pairs.is_empty() => out.push_str("{}"),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(opts.item_sep);
                }
                write_value(out, item, opts, depth + 1)?;
            }
            out.push(']');
        }
        Value::Object(pairs) => {
            let mut pairs: Vec<&(PyStr, Value)> = pairs.iter().collect();
            if opts.sort_keys {
                pairs.sort_by(|a, b| a.0.cmp(&b.0));
            }
            out.push('{');
            for (i, (k, v)) in pairs.into_iter().enumerate() {
                if i > 0 {
                    out.push_str(opts.item_sep);
                }
                write_str(out, k, opts.ensure_ascii)?;
                out.push_str(opts.key_sep);
                write_value(out, v, opts, depth + 1)?;
            }
            out.push('}');
        }
    }
    Ok(())
}

/// `encode_basestring_ascii` / `encode_basestring`.
fn write_str(out: &mut String, s: &PyStr, ensure_ascii: bool) -> Result<(), EncodeError> {
    out.push('"');
    for c in s.code_points() {
        match c {
            0x22 => out.push_str("\\\""),
            0x5C => out.push_str("\\\\"),
            0x0A => out.push_str("\\n"),
            0x0D => out.push_str("\\r"),
            0x09 => out.push_str("\\t"),
            0x08 => out.push_str("\\b"),
            0x0C => out.push_str("\\f"),
            0x20..=0x7E => out.push(char::from(c as u8)),
            _ if c < 0x20 || ensure_ascii => {
                if c >= 0x10000 {
                    let v = c - 0x10000;
                    let _ = write!(
                        out,
                        "\\u{:04x}\\u{:04x}",
                        0xD800 + (v >> 10),
                        0xDC00 + (v & 0x3FF)
                    );
                } else {
                    let _ = write!(out, "\\u{c:04x}");
                }
            }
            _ => out.push(char::from_u32(c).ok_or(EncodeError::LoneSurrogate(c))?),
        }
    }
    out.push('"');
    Ok(())
}

/// Python's `repr(float)`: the shortest digits that round-trip, positional when the decimal
/// exponent is in `-4..16` (`100.0`, `0.0001`), scientific otherwise (`1e+16`, `1.5e-05`);
/// `nan`, `inf`, `-inf`.
pub(crate) fn py_repr_float(x: f64) -> String {
    if x.is_nan() {
        return "nan".to_owned();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf" } else { "-inf" }.to_owned();
    }
    if x == 0.0 {
        return if x.is_sign_negative() { "-0.0" } else { "0.0" }.to_owned();
    }
    let (digits, exp) = shortest_digits(x.abs());
    let mut out = String::with_capacity(digits.len() + 8);
    if x < 0.0 {
        out.push('-');
    }
    // Python's `decpt`: the value is 0.DIGITS × 10^decpt.
    let decpt = exp + 1;
    if !(-3..=16).contains(&decpt) {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        let _ = write!(
            out,
            "e{}{:02}",
            if exp < 0 { '-' } else { '+' },
            exp.unsigned_abs()
        );
    } else if decpt <= 0 {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', decpt.unsigned_abs() as usize));
        out.push_str(&digits);
    } else {
        let point = decpt as usize;
        if point < digits.len() {
            out.push_str(&digits[..point]);
            out.push('.');
            out.push_str(&digits[point..]);
        } else {
            out.push_str(&digits);
            out.extend(std::iter::repeat_n('0', point - digits.len()));
            out.push_str(".0");
        }
    }
    out
}

/// The digits and decimal exponent (of the first digit) of David Gay's shortest round-trip
/// representation of a finite `x > 0`, as `repr` uses (`_Py_dg_dtoa` mode 0).
///
/// Rust's `{:e}` gives the same shortest digit count and, when one candidate is closest, the same
/// digits; but when `x` lies exactly halfway between two shortest candidates that both round-trip
/// (e.g. 1744893476065202.25: `…202.2` or `…202.3`) it rounds up where Gay rounds to even.
fn shortest_digits(x: f64) -> (String, i32) {
    let sci = format!("{x:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let digits: String = mantissa.chars().filter(|&c| c != '.').collect();
    let exp: i32 = exp.parse().unwrap_or(0);
    // A tie needs the candidates' spacing (one unit in the last digit) to be below x's ulp
    // (~2.2e-16·x), so 16 or 17 digits.
    let n = digits.len();
    let Ok(d) = digits.parse::<u64>() else {
        return (digits, exp);
    };
    if n < 16 || d % 2 == 0 {
        return (digits, exp);
    }
    let last = exp - (n as i32 - 1); // decimal exponent of the last digit
    for other in [d - 1, d + 1] {
        let midpoint = 10 * d.min(other) + 5; // × 10^(last - 1)
        let text = other.to_string();
        if text.len() == n
            && !text.ends_with('0')
            && equals_decimal(x, midpoint, last - 1)
            && format!("{other}e{last}").parse::<f64>() == Ok(x)
        {
            return (text, exp);
        }
    }
    (digits, exp)
}

/// Whether the finite `x > 0` is exactly `m × 10^k`.
fn equals_decimal(x: f64, m: u64, k: i32) -> bool {
    // x = mant × 2^e exactly.
    let bits = x.to_bits();
    let biased = ((bits >> 52) & 0x7FF) as i32;
    let frac = bits & ((1 << 52) - 1);
    let (mant, e) = if biased == 0 {
        (frac, -1074)
    } else {
        (frac | 1 << 52, biased - 1075)
    };
    // Compare a × 2^sh with b (all integers), without overflow.
    let scaled_eq = |a: u128, sh: i32, b: u128| {
        if sh >= 0 {
            sh < 128 && (a << sh) >> sh == a && a << sh == b
        } else {
            let sh = sh.unsigned_abs();
            sh < 128 && a.trailing_zeros() >= sh && a >> sh == b
        }
    };
    if k >= 0 {
        // mant × 2^e == m × 5^k × 2^k
        let Some(b) = 5u128
            .checked_pow(k as u32)
            .and_then(|p| p.checked_mul(m.into()))
        else {
            return false;
        };
        scaled_eq(mant.into(), e - k, b)
    } else {
        // mant × 5^-k × 2^(e-k) == m
        let Some(a) = 5u128
            .checked_pow(k.unsigned_abs())
            .and_then(|p| p.checked_mul(mant.into()))
        else {
            return false;
        };
        scaled_eq(a, e - k, m.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const COMPACT_SORTED: DumpOptions = DumpOptions {
        ensure_ascii: true,
        item_sep: ",",
        key_sep: ":",
        sort_keys: true,
    };

    /// The four `dumps` settings of a [`CASES`] row, in order.
    fn dump_variants() -> [DumpOptions; 4] {
        let d = DumpOptions::default();
        [
            d,
            DumpOptions {
                ensure_ascii: false,
                ..d
            },
            COMPACT_SORTED,
            DumpOptions {
                ensure_ascii: false,
                ..COMPACT_SORTED
            },
        ]
    }

    /// Checks one row: `expected` is `["E " + str(exception)]`, or the four `dumps` outputs
    /// (`"SURROGATE"` where Python's result holds a lone surrogate).
    fn check(input: &str, expected: &[&str]) -> Result<(), String> {
        let got: Vec<String> = match loads(input) {
            Err(e) => vec![format!("E {e}")],
            Ok(v) => dump_variants()
                .iter()
                .map(|o| match dumps(&v, o) {
                    Ok(s) => s,
                    Err(EncodeError::LoneSurrogate(_)) => "SURROGATE".to_owned(),
                    Err(e) => format!("E {e}"),
                })
                .collect(),
        };
        if got == expected {
            Ok(())
        } else {
            Err(format!(
                "input {input:?}\n  python: {expected:?}\n  rust:   {got:?}"
            ))
        }
    }

    /// Rows computed by python3 3.11.7 (`json` with its C accelerator), for each input `s`:
    /// ```python
    /// try:
    ///     v = json.loads(s)
    /// except Exception as e:
    ///     row = ["E " + str(e)]
    /// else:
    ///     row = [json.dumps(v, **kw) for kw in ({}, {"ensure_ascii": False},
    ///            {"separators": (",", ":"), "sort_keys": True},
    ///            {"separators": (",", ":"), "sort_keys": True, "ensure_ascii": False})]
    ///     # an output that fails .encode("utf-8") (lone surrogate) is written "SURROGATE"
    /// ```
    #[rustfmt::skip]
    const CASES: &[(&str, &[&str])] = &[
        ("", &["E Expecting value: line 1 column 1 (char 0)"]),
        (" ", &["E Expecting value: line 1 column 2 (char 1)"]),
        ("\n", &["E Expecting value: line 2 column 1 (char 1)"]),
        ("[1,]", &["E Expecting value: line 1 column 4 (char 3)"]),
        ("{\"a\":1,}", &["E Expecting property name enclosed in double quotes: line 1 column 8 (char 7)"]),
        ("{", &["E Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"]),
        ("[", &["E Expecting value: line 1 column 2 (char 1)"]),
        ("[1", &["E Expecting ',' delimiter: line 1 column 3 (char 2)"]),
        ("[1,", &["E Expecting value: line 1 column 4 (char 3)"]),
        ("{\"a\"", &["E Expecting ':' delimiter: line 1 column 5 (char 4)"]),
        ("{\"a\":", &["E Expecting value: line 1 column 6 (char 5)"]),
        ("{\"a\":1", &["E Expecting ',' delimiter: line 1 column 7 (char 6)"]),
        ("\"abc", &["E Unterminated string starting at: line 1 column 1 (char 0)"]),
        ("\"\\", &["E Unterminated string starting at: line 1 column 1 (char 0)"]),
        ("\"\\u12", &["E Invalid \\uXXXX escape: line 1 column 3 (char 2)"]),
        ("\"\\u1234", &["E Invalid \\uXXXX escape: line 1 column 3 (char 2)"]),
        ("\"\\ud800\\udc00", &["E Invalid \\uXXXX escape: line 1 column 9 (char 8)"]),
        ("\"\\ud800\\u12\"", &["E Invalid \\uXXXX escape: line 1 column 9 (char 8)"]),
        ("\"\\ud800\\uzzzz\"", &["E Invalid \\uXXXX escape: line 1 column 9 (char 8)"]),
        ("\"\\x\"", &["E Invalid \\escape: line 1 column 2 (char 1)"]),
        ("\"\\u0x12\"", &["E Invalid \\uXXXX escape: line 1 column 3 (char 2)"]),
        ("\"\\u 123\"", &["E Invalid \\uXXXX escape: line 1 column 3 (char 2)"]),
        ("\"\\uD83D\\u\"", &["E Invalid \\uXXXX escape: line 1 column 9 (char 8)"]),
        ("\"a\u{1}\"", &["E Invalid control character at: line 1 column 3 (char 2)"]),
        ("\"a\u{1}", &["E Invalid control character at: line 1 column 3 (char 2)"]),
        ("\"\n\"", &["E Invalid control character at: line 1 column 2 (char 1)"]),
        ("\"\t\"", &["E Invalid control character at: line 1 column 2 (char 1)"]),
        ("\"\u{1f}\"", &["E Invalid control character at: line 1 column 2 (char 1)"]),
        ("-", &["E Expecting value: line 1 column 1 (char 0)"]),
        ("-a", &["E Expecting value: line 1 column 1 (char 0)"]),
        ("01", &["E Extra data: line 1 column 2 (char 1)"]),
        ("1.", &["E Extra data: line 1 column 2 (char 1)"]),
        ("1.e5", &["E Extra data: line 1 column 2 (char 1)"]),
        ("1e", &["E Extra data: line 1 column 2 (char 1)"]),
        ("1e+", &["E Extra data: line 1 column 2 (char 1)"]),
        ("-NaN", &["E Expecting value: line 1 column 1 (char 0)"]),
        ("infinity", &["E Expecting value: line 1 column 1 (char 0)"]),
        ("nul", &["E Expecting value: line 1 column 1 (char 0)"]),
        ("tru", &["E Expecting value: line 1 column 1 (char 0)"]),
        ("fals", &["E Expecting value: line 1 column 1 (char 0)"]),
        ("true x", &["E Extra data: line 1 column 6 (char 5)"]),
        ("\u{feff}1", &["E Unexpected UTF-8 BOM (decode using utf-8-sig): line 1 column 1 (char 0)"]),
        (" \u{feff}1", &["E Expecting value: line 1 column 2 (char 1)"]),
        ("\u{a0}1", &["E Expecting value: line 1 column 1 (char 0)"]),
        ("\u{c}[]", &["E Expecting value: line 1 column 1 (char 0)"]),
        ("[1 2]", &["E Expecting ',' delimiter: line 1 column 4 (char 3)"]),
        ("{\"a\" 1}", &["E Expecting ':' delimiter: line 1 column 6 (char 5)"]),
        ("{\"a\":}", &["E Expecting value: line 1 column 6 (char 5)"]),
        ("{1:2}", &["E Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"]),
        ("{'a':1}", &["E Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"]),
        ("{\"a\":1 \"b\":2}", &["E Expecting ',' delimiter: line 1 column 8 (char 7)"]),
        ("[1,\n2,\n x]", &["E Expecting value: line 3 column 2 (char 8)"]),
        ("1\n\n  x", &["E Extra data: line 3 column 3 (char 5)"]),
        ("\"\\U0041\"", &["E Invalid \\escape: line 1 column 2 (char 1)"]),
        ("[-]", &["E Expecting value: line 1 column 2 (char 1)"]),
        ("[--1]", &["E Expecting value: line 1 column 2 (char 1)"]),
        ("-01", &["E Extra data: line 1 column 3 (char 2)"]),
        ("0x1", &["E Extra data: line 1 column 2 (char 1)"]),
        ("1_000", &["E Extra data: line 1 column 2 (char 1)"]),
        ("١", &["E Expecting value: line 1 column 1 (char 0)"]),
        ("\"é\\\"x", &["E Unterminated string starting at: line 1 column 1 (char 0)"]),
        ("nan", &["E Expecting value: line 1 column 1 (char 0)"]),
        ("[1,2]]", &["E Extra data: line 1 column 6 (char 5)"]),
        ("{}}", &["E Extra data: line 1 column 3 (char 2)"]),
        ("[}", &["E Expecting value: line 1 column 2 (char 1)"]),
        ("{]", &["E Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"]),
        ("{\"a\":1,\"b\"}", &["E Expecting ':' delimiter: line 1 column 11 (char 10)"]),
        ("{\"a\":1,\"b\":}", &["E Expecting value: line 1 column 12 (char 11)"]),
        ("{\"a\":1, }", &["E Expecting property name enclosed in double quotes: line 1 column 9 (char 8)"]),
        ("[1, ]", &["E Expecting value: line 1 column 5 (char 4)"]),
        ("[,1]", &["E Expecting value: line 1 column 2 (char 1)"]),
        ("{,}", &["E Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"]),
        ("\"é\" ü", &["E Extra data: line 1 column 5 (char 4)"]),
        ("éé\n ü", &["E Expecting value: line 1 column 1 (char 0)"]),
        ("[\r\n\r\n  @]", &["E Expecting value: line 3 column 3 (char 7)"]),
        ("\"\\ud800\\udc0\"", &["E Invalid \\uXXXX escape: line 1 column 9 (char 8)"]),
        ("\"\\ud800\\\"", &["E Unterminated string starting at: line 1 column 1 (char 0)"]),
        ("\"\\ud800\\", &["E Unterminated string starting at: line 1 column 1 (char 0)"]),
        ("\"\\ud800\\u", &["E Invalid \\uXXXX escape: line 1 column 9 (char 8)"]),
        ("\"\\ud800\\ud", &["E Invalid \\uXXXX escape: line 1 column 9 (char 8)"]),
        ("\"𝄞\\q\"", &["E Invalid \\escape: line 1 column 3 (char 2)"]),
        ("𝄞", &["E Expecting value: line 1 column 1 (char 0)"]),
        ("[\"𝄞\", x]", &["E Expecting value: line 1 column 7 (char 6)"]),
        ("\"abc\\u00e9\u{0}\"", &["E Invalid control character at: line 1 column 11 (char 10)"]),
        ("[1]\u{0}", &["E Extra data: line 1 column 4 (char 3)"]),
        ("\"\\u00\"", &["E Invalid \\uXXXX escape: line 1 column 3 (char 2)"]),
        ("\"\\u00\"   ", &["E Invalid \\uXXXX escape: line 1 column 3 (char 2)"]),
        ("\"\\uDEAD", &["E Invalid \\uXXXX escape: line 1 column 3 (char 2)"]),
        ("+1", &["E Expecting value: line 1 column 1 (char 0)"]),
        (".5", &["E Expecting value: line 1 column 1 (char 0)"]),
        ("1.5.2", &["E Extra data: line 1 column 4 (char 3)"]),
        ("1e5e5", &["E Extra data: line 1 column 4 (char 3)"]),
        ("--", &["E Expecting value: line 1 column 1 (char 0)"]),
        ("Infinityy", &["E Extra data: line 1 column 9 (char 8)"]),
        ("-Infinityx", &["E Extra data: line 1 column 10 (char 9)"]),
        ("NaNa", &["E Extra data: line 1 column 4 (char 3)"]),
        ("0", &["0", "0", "0", "0"]),
        ("-0", &["0", "0", "0", "0"]),
        ("-0.0", &["-0.0", "-0.0", "-0.0", "-0.0"]),
        ("0.0", &["0.0", "0.0", "0.0", "0.0"]),
        ("1", &["1", "1", "1", "1"]),
        ("-1", &["-1", "-1", "-1", "-1"]),
        ("123456789012345678901234567890", &["123456789012345678901234567890", "123456789012345678901234567890", "123456789012345678901234567890", "123456789012345678901234567890"]),
        ("-98765432109876543210", &["-98765432109876543210", "-98765432109876543210", "-98765432109876543210", "-98765432109876543210"]),
        ("1.0", &["1.0", "1.0", "1.0", "1.0"]),
        ("1.5", &["1.5", "1.5", "1.5", "1.5"]),
        ("1E+5", &["100000.0", "100000.0", "100000.0", "100000.0"]),
        ("1e5", &["100000.0", "100000.0", "100000.0", "100000.0"]),
        ("1e-5", &["1e-05", "1e-05", "1e-05", "1e-05"]),
        ("1.5e-05", &["1.5e-05", "1.5e-05", "1.5e-05", "1.5e-05"]),
        ("2.5E-10", &["2.5e-10", "2.5e-10", "2.5e-10", "2.5e-10"]),
        ("1e16", &["1e+16", "1e+16", "1e+16", "1e+16"]),
        ("1e15", &["1000000000000000.0", "1000000000000000.0", "1000000000000000.0", "1000000000000000.0"]),
        ("1e400", &["Infinity", "Infinity", "Infinity", "Infinity"]),
        ("-1e400", &["-Infinity", "-Infinity", "-Infinity", "-Infinity"]),
        ("1e-400", &["0.0", "0.0", "0.0", "0.0"]),
        ("-1e-400", &["-0.0", "-0.0", "-0.0", "-0.0"]),
        ("0.1", &["0.1", "0.1", "0.1", "0.1"]),
        ("0.30000000000000004", &["0.30000000000000004", "0.30000000000000004", "0.30000000000000004", "0.30000000000000004"]),
        ("1.7976931348623157e308", &["1.7976931348623157e+308", "1.7976931348623157e+308", "1.7976931348623157e+308", "1.7976931348623157e+308"]),
        ("5e-324", &["5e-324", "5e-324", "5e-324", "5e-324"]),
        ("4.9e-324", &["5e-324", "5e-324", "5e-324", "5e-324"]),
        ("2.2250738585072014e-308", &["2.2250738585072014e-308", "2.2250738585072014e-308", "2.2250738585072014e-308", "2.2250738585072014e-308"]),
        ("9007199254740993", &["9007199254740993", "9007199254740993", "9007199254740993", "9007199254740993"]),
        ("9007199254740993.0", &["9007199254740992.0", "9007199254740992.0", "9007199254740992.0", "9007199254740992.0"]),
        ("123456789.123456789", &["123456789.12345679", "123456789.12345679", "123456789.12345679", "123456789.12345679"]),
        ("0.000123", &["0.000123", "0.000123", "0.000123", "0.000123"]),
        ("1234567890123456789.0", &["1.2345678901234568e+18", "1.2345678901234568e+18", "1.2345678901234568e+18", "1.2345678901234568e+18"]),
        ("NaN", &["NaN", "NaN", "NaN", "NaN"]),
        ("Infinity", &["Infinity", "Infinity", "Infinity", "Infinity"]),
        ("-Infinity", &["-Infinity", "-Infinity", "-Infinity", "-Infinity"]),
        ("[NaN,Infinity,-Infinity]", &["[NaN, Infinity, -Infinity]", "[NaN, Infinity, -Infinity]", "[NaN,Infinity,-Infinity]", "[NaN,Infinity,-Infinity]"]),
        ("true", &["true", "true", "true", "true"]),
        ("false", &["false", "false", "false", "false"]),
        ("null", &["null", "null", "null", "null"]),
        (" \t\r\n[]\t", &["[]", "[]", "[]", "[]"]),
        ("[]", &["[]", "[]", "[]", "[]"]),
        ("{}", &["{}", "{}", "{}", "{}"]),
        ("[ ]", &["[]", "[]", "[]", "[]"]),
        ("{ }", &["{}", "{}", "{}", "{}"]),
        ("[[]]", &["[[]]", "[[]]", "[[]]", "[[]]"]),
        ("[{}]", &["[{}]", "[{}]", "[{}]", "[{}]"]),
        ("{\"a\":{}}", &["{\"a\": {}}", "{\"a\": {}}", "{\"a\":{}}", "{\"a\":{}}"]),
        ("\"\\/\"", &["\"/\"", "\"/\"", "\"/\"", "\"/\""]),
        ("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", &["\"\\\"\\\\/\\b\\f\\n\\r\\t\"", "\"\\\"\\\\/\\b\\f\\n\\r\\t\"", "\"\\\"\\\\/\\b\\f\\n\\r\\t\"", "\"\\\"\\\\/\\b\\f\\n\\r\\t\""]),
        ("\"\\u0000\\u001f\\u007f\\u0080\\u00ff\"", &["\"\\u0000\\u001f\\u007f\\u0080\\u00ff\"", "\"\\u0000\\u001f\u{7f}ÿ\"", "\"\\u0000\\u001f\\u007f\\u0080\\u00ff\"", "\"\\u0000\\u001f\u{7f}ÿ\""]),
        ("\"\\u2028\\u2029\"", &["\"\\u2028\\u2029\"", "\"\u{2028} \"", "\"\\u2028\\u2029\"", "\"\u{2028} \""]),
        ("\"\\ud800\"", &["\"\\ud800\"", "SURROGATE", "\"\\ud800\"", "SURROGATE"]),
        ("\"\\udc00\"", &["\"\\udc00\"", "SURROGATE", "\"\\udc00\"", "SURROGATE"]),
        ("\"\\udc00\\ud800\"", &["\"\\udc00\\ud800\"", "SURROGATE", "\"\\udc00\\ud800\"", "SURROGATE"]),
        ("\"\\ud800\\ud800\\udc00\"", &["\"\\ud800\\ud800\\udc00\"", "SURROGATE", "\"\\ud800\\ud800\\udc00\"", "SURROGATE"]),
        ("\"\\ud800x\"", &["\"\\ud800x\"", "SURROGATE", "\"\\ud800x\"", "SURROGATE"]),
        ("\"\\ud800\\n\"", &["\"\\ud800\\n\"", "SURROGATE", "\"\\ud800\\n\"", "SURROGATE"]),
        ("\"\\ud83d\\ude00\"", &["\"\\ud83d\\ude00\"", "\"😀\"", "\"\\ud83d\\ude00\"", "\"😀\""]),
        ("\"\\uD83D\\uDE00\"", &["\"\\ud83d\\ude00\"", "\"😀\"", "\"\\ud83d\\ude00\"", "\"😀\""]),
        ("\"😀\"", &["\"\\ud83d\\ude00\"", "\"😀\"", "\"\\ud83d\\ude00\"", "\"😀\""]),
        ("\"\u{7f}\"", &["\"\\u007f\"", "\"\u{7f}\"", "\"\\u007f\"", "\"\u{7f}\""]),
        ("\"é ü 中文 𝄞\"", &["\"\\u00e9 \\u00fc \\u4e2d\\u6587 \\ud834\\udd1e\"", "\"é ü 中文 𝄞\"", "\"\\u00e9 \\u00fc \\u4e2d\\u6587 \\ud834\\udd1e\"", "\"é ü 中文 𝄞\""]),
        ("\"\u{2028}\"", &["\"\\u2028\"", "\"\u{2028}\"", "\"\\u2028\"", "\"\u{2028}\""]),
        ("\"\u{feff}\"", &["\"\\ufeff\"", "\"\u{feff}\"", "\"\\ufeff\"", "\"\u{feff}\""]),
        ("\" \\ud800 \"", &["\" \\ud800 \"", "SURROGATE", "\" \\ud800 \"", "SURROGATE"]),
        ("\"\\ud800\\u0041\"", &["\"\\ud800A\"", "SURROGATE", "\"\\ud800A\"", "SURROGATE"]),
        ("\"\\ud800\\udbff\\udfff\"", &["\"\\ud800\\udbff\\udfff\"", "SURROGATE", "\"\\ud800\\udbff\\udfff\"", "SURROGATE"]),
        ("{\"a\":1,\"a\":2,\"b\":3}", &["{\"a\": 2, \"b\": 3}", "{\"a\": 2, \"b\": 3}", "{\"a\":2,\"b\":3}", "{\"a\":2,\"b\":3}"]),
        ("{\"b\":1,\"a\":2,\"b\":3,\"a\":4}", &["{\"b\": 3, \"a\": 4}", "{\"b\": 3, \"a\": 4}", "{\"a\":4,\"b\":3}", "{\"a\":4,\"b\":3}"]),
        ("{\"z\":1,\"a\":{\"y\":2,\"b\":3},\"m\":[{\"k\":1,\"c\":2}]}", &["{\"z\": 1, \"a\": {\"y\": 2, \"b\": 3}, \"m\": [{\"k\": 1, \"c\": 2}]}", "{\"z\": 1, \"a\": {\"y\": 2, \"b\": 3}, \"m\": [{\"k\": 1, \"c\": 2}]}", "{\"a\":{\"b\":3,\"y\":2},\"m\":[{\"c\":2,\"k\":1}],\"z\":1}", "{\"a\":{\"b\":3,\"y\":2},\"m\":[{\"c\":2,\"k\":1}],\"z\":1}"]),
        ("{\"é\":1,\"e\":2,\"\\ud800\":3,\"\\ue000\":4,\"\\ud83d\\ude00\":5,\"\":6}", &["{\"\\u00e9\": 1, \"e\": 2, \"\\ud800\": 3, \"\\ue000\": 4, \"\\ud83d\\ude00\": 5, \"\": 6}", "SURROGATE", "{\"\":6,\"e\":2,\"\\u00e9\":1,\"\\ud800\":3,\"\\ue000\":4,\"\\ud83d\\ude00\":5}", "SURROGATE"]),
        ("{\"a\" : 1 , \"b\" :\n2}", &["{\"a\": 1, \"b\": 2}", "{\"a\": 1, \"b\": 2}", "{\"a\":1,\"b\":2}", "{\"a\":1,\"b\":2}"]),
        ("[1,2,3]", &["[1, 2, 3]", "[1, 2, 3]", "[1,2,3]", "[1,2,3]"]),
        ("[1, [2, [3, {\"x\": null}]], \"s\"]", &["[1, [2, [3, {\"x\": null}]], \"s\"]", "[1, [2, [3, {\"x\": null}]], \"s\"]", "[1,[2,[3,{\"x\":null}]],\"s\"]", "[1,[2,[3,{\"x\":null}]],\"s\"]"]),
        ("{\"name\": \"get_weather\", \"arguments\": {\"location\": \"Paris\", \"unit\": \"celsius\"}}", &["{\"name\": \"get_weather\", \"arguments\": {\"location\": \"Paris\", \"unit\": \"celsius\"}}", "{\"name\": \"get_weather\", \"arguments\": {\"location\": \"Paris\", \"unit\": \"celsius\"}}", "{\"arguments\":{\"location\":\"Paris\",\"unit\":\"celsius\"},\"name\":\"get_weather\"}", "{\"arguments\":{\"location\":\"Paris\",\"unit\":\"celsius\"},\"name\":\"get_weather\"}"]),
        ("  {\"k\":\"v\"}  ", &["{\"k\": \"v\"}", "{\"k\": \"v\"}", "{\"k\":\"v\"}", "{\"k\":\"v\"}"]),
        ("[true,false,null]", &["[true, false, null]", "[true, false, null]", "[true,false,null]", "[true,false,null]"]),
        ("[-0, -0.0, 0e0, 0E-0, 1e0]", &["[0, -0.0, 0.0, 0.0, 1.0]", "[0, -0.0, 0.0, 0.0, 1.0]", "[0,-0.0,0.0,0.0,1.0]", "[0,-0.0,0.0,0.0,1.0]"]),
        ("[1.0e+2, 1E2, 100]", &["[100.0, 100.0, 100]", "[100.0, 100.0, 100]", "[100.0,100.0,100]", "[100.0,100.0,100]"]),
    ];

    #[test]
    fn matches_python_on_fixed_cases() {
        let failures: Vec<String> = CASES
            .iter()
            .filter_map(|(i, e)| check(i, e).err())
            .collect();
        assert!(
            failures.is_empty(),
            "{} mismatches:\n{}",
            failures.len(),
            failures.join("\n")
        );
    }

    /// Rows written by `scripts/pyjson-vs-python.py` (one JSON array per line: the input, then
    /// the row as in [`CASES`]); run through that script.
    #[test]
    #[ignore = "needs PYJSON_CASES from scripts/pyjson-vs-python.py"]
    fn matches_python_on_generated_cases() {
        let path = std::env::var("PYJSON_CASES").expect("PYJSON_CASES");
        let text = std::fs::read_to_string(path).unwrap();
        let (mut n, mut failures) = (0, Vec::new());
        for line in text.lines() {
            let row: Vec<String> = serde_json::from_str(line).unwrap();
            let expected: Vec<&str> = row[1..].iter().map(String::as_str).collect();
            n += 1;
            if let Err(f) = check(&row[0], &expected) {
                failures.push(f);
            }
        }
        let shown: Vec<&String> = failures.iter().take(20).collect();
        assert!(
            failures.is_empty(),
            "{} of {n} mismatch, first ones:\n{shown:#?}",
            failures.len()
        );
        eprintln!("{n} generated cases match python3");
    }

    #[test]
    fn decode_error_fields_match_python() {
        // e = json.loads('{\n  "a": 1\n  "b": 2}') -> e.msg, e.pos, e.lineno, e.colno
        let e = loads("{\n  \"a\": 1\n  \"b\": 2}").unwrap_err();
        assert_eq!(
            (e.msg(), e.pos, e.lineno, e.colno),
            (Some("Expecting ',' delimiter"), 13, 3, 3)
        );
        // Positions count code points: json.loads('["é😀", x]') -> char 7, column 8.
        let e = loads("[\"é😀\", x]").unwrap_err();
        assert_eq!(e.to_string(), "Expecting value: line 1 column 8 (char 7)");
        // The tinker-cookbook rendering of a parse failure.
        let e = loads("{\"city\": \"Paris\" \"unit\": 1}").unwrap_err();
        assert_eq!(
            format!("Invalid JSON: {e}"),
            "Invalid JSON: Expecting ',' delimiter: line 1 column 18 (char 17)"
        );
    }

    #[test]
    fn int_digit_limit_is_a_value_error() {
        // json.loads('1' * 4300) works; '1' * 4301 (also with '-') raises ValueError.
        let ok = "7".repeat(4300);
        assert_eq!(
            dumps(&loads(&ok).unwrap(), &DumpOptions::default()).unwrap(),
            ok
        );
        assert!(loads(&format!("-{ok}")).is_ok());
        let e = loads(&format!("[-{ok}1]")).unwrap_err();
        assert_eq!(e.kind, DecodeErrorKind::IntTooLong { digits: 4301 });
        assert_eq!(e.msg(), None);
        assert_eq!(
            e.to_string(),
            "Exceeds the limit (4300 digits) for integer string conversion: value has 4301 digits; \
             use sys.set_int_max_str_digits() to increase the limit"
        );
        // Floats have no such limit: json.loads('1' * 4301 + '.0') == inf.
        assert_eq!(
            loads(&format!("{ok}1.0")).unwrap(),
            Value::Float(f64::INFINITY)
        );
    }

    #[test]
    fn nesting_limit_instead_of_stack_overflow() {
        // From a top-level python3 script: 995 levels decode and encode, 996 raise RecursionError.
        for (open, close, object) in [("[", "]", false), ("{\"a\":", "}", true)] {
            let deep = |n: usize| {
                format!(
                    "{}{}{}",
                    open.repeat(n - 1),
                    if object { "{}" } else { "[]" },
                    close.repeat(n - 1)
                )
            };
            let v = loads(&deep(MAX_DEPTH)).unwrap();
            let opts = DumpOptions {
                item_sep: ",",
                key_sep: ":",
                ..DumpOptions::default()
            };
            assert_eq!(dumps(&v, &opts).unwrap(), deep(MAX_DEPTH));
            let e = loads(&deep(MAX_DEPTH + 1)).unwrap_err();
            assert_eq!(e.kind, DecodeErrorKind::TooDeep { object });
            let what = if object { "object" } else { "array" };
            assert_eq!(e.to_string(), format!("maximum recursion depth exceeded while decoding a JSON {what} from a unicode string"));
            let v = Value::Array(vec![v]);
            assert_eq!(dumps(&v, &opts), Err(EncodeError::TooDeep));
        }
        // Hostile input: errors, no crash.
        assert!(loads(&"[".repeat(100_000)).is_err());
        assert!(loads(&"{\"\":".repeat(100_000)).is_err());
        // Errors before the limit is reached win, as in Python.
        assert_eq!(
            loads(&format!("[x{}", "[".repeat(2000)))
                .unwrap_err()
                .to_string(),
            "Expecting value: line 1 column 2 (char 1)"
        );
    }

    #[test]
    // The tie cases are written as their exact binary values, which is the point.
    #[allow(clippy::excessive_precision)]
    fn repr_float_matches_python() {
        // [repr(x) for x in (...)], python3 3.11.7
        let cases: &[(f64, &str)] = &[
            (1e16, "1e+16"),
            (1e15, "1000000000000000.0"),
            (123456789012345678.0, "1.2345678901234568e+17"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (1.5e-5, "1.5e-05"),
            (100.0, "100.0"),
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (5e-324, "5e-324"),
            (-5e-324, "-5e-324"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
            (0.1, "0.1"),
            (1.0 / 3.0, "0.3333333333333333"),
            (2.5e-10, "2.5e-10"),
            (1e22, "1e+22"),
            (1e-7, "1e-07"),
            (12345.678, "12345.678"),
            (9007199254740993.0, "9007199254740992.0"),
            (1e100, "1e+100"),
            (123e-20, "1.23e-18"),
            (-1.5, "-1.5"),
            (0.000123, "0.000123"),
            (9999999999999998.0, "9999999999999998.0"),
            // Exactly halfway between two shortest candidates: Python rounds to even.
            (1744893476065202.25, "1744893476065202.2"),
            (1744893476065202.75, "1744893476065202.8"),
            (-149198767253118.625, "-149198767253118.62"),
            (640230739022204.25, "640230739022204.2"),
            (1152921504606847232.0, "1.1529215046068472e+18"),
            (f64::NAN, "nan"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
        ];
        for &(x, want) in cases {
            assert_eq!(py_repr_float(x), want, "{x:e}");
        }
    }

    #[test]
    fn lone_surrogates_are_kept() {
        let v = loads("[\"a\\ud800b\", \"\\udc00\"]").unwrap();
        let Value::Array(items) = &v else {
            panic!("{v:?}")
        };
        let Value::Str(s) = &items[0] else {
            panic!("{v:?}")
        };
        assert_eq!(s.as_str(), None);
        assert_eq!(s.code_points().collect::<Vec<_>>(), [0x61, 0xD800, 0x62]);
        assert_eq!(s.to_string_lossy(), "a\u{fffd}b");
        let opts = DumpOptions {
            ensure_ascii: false,
            ..DumpOptions::default()
        };
        assert_eq!(dumps(&v, &opts), Err(EncodeError::LoneSurrogate(0xD800)));
        // Code-point order: '\ud800' < '\ue000' < '\U00010000' (UTF-16 order would differ).
        let keys = ["\\ud83d\\ude00", "\\ue000", "\\ud800", "a"];
        let doc = format!(
            "{{{}}}",
            keys.iter()
                .map(|k| format!("\"{k}\": 0"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        assert_eq!(
            dumps(&loads(&doc).unwrap(), &COMPACT_SORTED).unwrap(),
            r#"{"a":0,"\ud800":0,"\ue000":0,"\ud83d\ude00":0}"#
        );
    }

    #[test]
    fn object_keeps_first_position_and_last_value() {
        // json.loads('{"b":1,"a":2,"b":3}') == {'b': 3, 'a': 2}; same with 40 keys and repeats.
        let v = Value::object([
            ("b".into(), Value::Null),
            ("a".into(), Value::Bool(true)),
            ("b".into(), Value::Bool(false)),
        ]);
        assert_eq!(
            dumps(&v, &DumpOptions::default()).unwrap(),
            r#"{"b": false, "a": true}"#
        );
        assert_eq!(v.get("a"), Some(&Value::Bool(true)));
        assert_eq!(v.get("c"), None);
        let keys: Vec<String> = (0..40)
            .chain(0..40)
            .map(|i| format!("\"k{}\": {i}", i % 37))
            .collect();
        let v = loads(&format!("{{{}}}", keys.join(","))).unwrap();
        let Value::Object(pairs) = &v else { panic!() };
        assert_eq!(pairs.len(), 37);
        assert_eq!(pairs[0], ("k0".into(), Value::Int(37_i64.into())));
        assert_eq!(pairs[2], ("k2".into(), Value::Int(PyInt::from(39_i64))));
        assert_eq!(pairs[3], ("k3".into(), Value::Int(PyInt::from(3_i64))));
    }

    #[test]
    fn from_serde() {
        let s: serde_json::Value = serde_json::from_str(
            r#"{"b": [1, -2, 1.5, 18446744073709551615, "x", -0], "a": null}"#,
        )
        .unwrap();
        // Key order kept (preserve_order); `-0` is a float and u64::MAX fits. (Python's
        // json.dumps(json.loads(same text)) gives '{"b": [1, -2, 1.5, 18446744073709551615,
        // "x", 0], "a": null}'.)
        assert_eq!(
            dumps(&Value::from_serde(&s), &DumpOptions::default()).unwrap(),
            r#"{"b": [1, -2, 1.5, 18446744073709551615, "x", -0.0], "a": null}"#
        );
    }

    mod prop {
        use super::*;
        use proptest::prelude::*;

        fn py_str() -> impl Strategy<Value = PyStr> {
            prop_oneof![
                any::<String>().prop_map(PyStr::from),
                "[a-z\"\\\\\u{0}-\u{1f}\u{7f}é😀]{0,8}".prop_map(PyStr::from),
                // With lone surrogates, never a high one right before a low one (that pair is a
                // different Python string from the character it encodes; JSON cannot tell them
                // apart, so it does not round-trip in Python either).
                proptest::collection::vec(
                    prop_oneof![
                        Just(0x61u32),
                        Just(0xD800),
                        Just(0xDBFF),
                        Just(0xDC00),
                        Just(0x1F600)
                    ],
                    1..6
                )
                .prop_filter_map("high+low", |v| {
                    let paired = v.windows(2).any(|w| {
                        (0xD800..0xDC00).contains(&w[0]) && (0xDC00..0xE000).contains(&w[1])
                    });
                    let has_surrogate = v.iter().any(|c| (0xD800..0xE000).contains(c));
                    (!paired && has_surrogate).then_some(PyStr(Repr::CodePoints(v)))
                }),
            ]
        }

        fn value() -> impl Strategy<Value = Value> {
            let leaf = prop_oneof![
                Just(Value::Null),
                any::<bool>().prop_map(Value::Bool),
                any::<i64>().prop_map(|i| Value::Int(i.into())),
                "-?[1-9][0-9]{0,40}".prop_map(|s| Value::Int(PyInt::from_literal(&s))),
                any::<f64>().prop_map(Value::Float),
                py_str().prop_map(Value::Str),
            ];
            leaf.prop_recursive(4, 48, 6, |inner| {
                prop_oneof![
                    proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                    proptest::collection::vec((py_str(), inner), 0..6).prop_map(Value::object),
                ]
            })
        }

        /// Structural equality where NaN equals NaN and 0.0 differs from -0.0.
        fn same(a: &Value, b: &Value) -> bool {
            match (a, b) {
                (Value::Float(x), Value::Float(y)) => {
                    x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan())
                }
                (Value::Array(x), Value::Array(y)) => {
                    x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
                }
                (Value::Object(x), Value::Object(y)) => {
                    x.len() == y.len()
                        && x.iter()
                            .zip(y)
                            .all(|((ka, a), (kb, b))| ka == kb && same(a, b))
                }
                _ => a == b,
            }
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(512))]

            #[test]
            fn dumps_then_loads_round_trips(v in value()) {
                for opts in dump_variants() {
                    let text = match dumps(&v, &opts) {
                        Ok(text) => text,
                        Err(e) => {
                            prop_assert!(!opts.ensure_ascii, "{e}");
                            continue;
                        }
                    };
                    if opts.ensure_ascii {
                        prop_assert!(text.bytes().all(|b| (0x20..0x7f).contains(&b)), "{text}");
                    }
                    let back = loads(&text).map_err(|e| TestCaseError::fail(format!("{e}: {text}")))?;
                    let want = if opts.sort_keys { sorted(&v) } else { v.clone() };
                    prop_assert!(same(&back, &want), "{text}\n{back:?}\n{want:?}");
                    prop_assert_eq!(dumps(&back, &opts).unwrap(), text);
                }
            }

            #[test]
            fn arbitrary_text_never_panics(s in "[\\[\\]{}\",:0-9eE+.\\-\\\\u tnrfalsNIiy\u{0}\u{1f}é😀\u{feff}dD8C]{0,40}", t in any::<String>()) {
                for input in [s, t] {
                    match loads(&input) {
                        Ok(v) => {
                            let text = dumps(&v, &DumpOptions::default()).unwrap();
                            prop_assert!(same(&loads(&text).unwrap(), &v));
                        }
                        Err(e) => {
                            prop_assert!(e.pos <= input.chars().count());
                            prop_assert!(e.lineno >= 1 && e.colno >= 1);
                            let _ = e.to_string();
                        }
                    }
                }
            }
        }

        fn sorted(v: &Value) -> Value {
            match v {
                Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
                Value::Object(pairs) => {
                    let mut pairs: Vec<(PyStr, Value)> =
                        pairs.iter().map(|(k, v)| (k.clone(), sorted(v))).collect();
                    pairs.sort_by(|a, b| a.0.cmp(&b.0));
                    Value::Object(pairs)
                }
                other => other.clone(),
            }
        }
    }
}
