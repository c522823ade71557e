//! Kimi K2.5's tool declarations: the tool list written as a TypeScript `namespace functions`,
//! character for character as tinker-cookbook 0.6.1's
//! `renderers/kimi_k2_5_tool_declaration_ts.py` (`encode_tools_to_typescript_style`, itself
//! copied from Moonshot's `tool_declaration_ts.py`) writes it:
//!
//! ```text
//! # Tools
//!
//! ## functions
//! namespace functions {
//! // Get the weather
//! type get_weather = (_: {
//!   city: string,
//!   // Default: "c"
//!   units?: "c" | "f"
//! }) => any;
//! }
//! ```
//!
//! The Python code walks any JSON value it is given and relies on Python's dynamic behaviour, so
//! schemas the code did not anticipate still produce text (a non-string `type` is printed with
//! `str()`, a string `required` is a set of its characters, …) or raise an exception. Both are
//! reproduced here: the same text, or `Err` with the exception's message (`AttributeError`,
//! `TypeError`, `ValueError`, `KeyError`: the part after `ExcClass: `). The structure follows the
//! Python classes (parse a schema into a type, then print it) because the order of the two
//! phases decides which exception a broken schema raises.
//!
//! Where the result differs from Python (always an `Err`, never other text):
//! * A lone surrogate (`"\ud800"` in the JSON) printed into the text: Python returns a `str` that
//!   cannot be encoded as UTF-8 (the tokenizer fails later); a Rust `String` cannot hold it, so
//!   this returns `'utf-8' codec can't encode character '\ud800': surrogates not allowed`
//!   (Python's later `UnicodeEncodeError` says `… in position N …`). An error message that
//!   quotes such a string has U+FFFD in its place.
//! * Deep nesting: Python raises `RecursionError` when its stack runs out, which depends on how
//!   deep the caller's stack already is (called from a top-level script it manages 329 nested
//!   `items` schemas, 246 nested object properties). Here a schema or printed value whose estimated
//!   Python stack use exceeds [`FRAME_BUDGET`] fails with `maximum recursion depth exceeded`
//!   (from 245 nested `items`, 184 nested properties), which leaves room for a caller 250 frames
//!   deep. Python's own message has a suffix (`while calling a Python object`, …) that varies
//!   with where it ran out.
//! * Python also logs a warning for a `false` schema; nothing is logged here.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use super::pyjson::{self, DumpOptions, EncodeError, PyStr, Value};
use super::pyrepr::{py_str, truthy, type_name, write_repr};

/// `_TS_INDENT`.
const INDENT: &str = "  ";

/// The Python stack frames the cookbook's module may use here: CPython's recursion limit is
/// 1000, and the rest is left for its caller.
const FRAME_BUDGET: usize = 750;

/// Python 3.11 frames a nested schema adds (measured): `_parse_parameter_type` → the type's
/// `__init__` (2: through `type.__call__`) → `_parse_parameter_type`, plus the list
/// comprehension for a property or an `anyOf` member. Printing recurses less deeply.
const ITEM_FRAMES: usize = 3;
const MEMBER_FRAMES: usize = 4;
/// The frames of `_parse_parameter_type` for the root (`encode_tools_to_typescript_style` →
/// `_openai_function_to_typescript_style` → `_ParameterTypeObject(parameters)`), counted so
/// that its properties are at `+ MEMBER_FRAMES`.
const ROOT_FRAMES: usize = 2;
/// Frames on top of a schema's: its constructor's calls, or `repr` / `json.dumps` before they
/// recurse into a value (which adds one a nesting level).
const EXTRA_FRAMES: usize = 10;

/// `encode_tools_to_typescript_style(tools)`: each tool a dict `{"type": "function", "function":
/// spec}`. `Err` is the text of the exception Python raises (without the class name), e.g.
/// `Reference not found: #/$defs/X`.
pub(crate) fn encode_tools_to_typescript_style(tools: &[Value]) -> Result<String, String> {
    encode(tools).map_err(|e| e.message)
}

/// The exception Python raises; `kind` is its class name.
#[derive(Debug)]
struct PyErr {
    // Only the message reaches callers; the tests check the class too.
    #[cfg_attr(not(test), allow(dead_code))]
    kind: &'static str,
    message: String,
}

type PyResult<T> = Result<T, PyErr>;

fn err<T>(kind: &'static str, message: String) -> PyResult<T> {
    Err(PyErr { kind, message })
}

/// `v.attr` on a value that is not a dict.
fn no_attribute<T>(v: &Value, attr: &str) -> PyResult<T> {
    err(
        "AttributeError",
        format!("'{}' object has no attribute '{attr}'", type_name(v)),
    )
}

fn recursion<T>() -> PyResult<T> {
    err(
        "RecursionError",
        "maximum recursion depth exceeded".to_owned(),
    )
}

type Dict = [(PyStr, Value)];

/// `v` as a dict, or the AttributeError of calling `v.attr(…)`.
fn dict<'a>(v: &'a Value, attr: &str) -> PyResult<&'a Dict> {
    match v {
        Value::Object(d) => Ok(d),
        _ => no_attribute(v, attr),
    }
}

fn get<'a>(d: &'a Dict, key: &str) -> Option<&'a Value> {
    d.iter().find(|(k, _)| *k == *key).map(|(_, v)| v)
}

fn is_str(v: &Value, s: &str) -> bool {
    matches!(v, Value::Str(t) if *t == *s)
}

/// The whole call: Python's text, or its exception; a lone surrogate in text Python would
/// return is an error here (module doc).
fn encode(tools: &[Value]) -> PyResult<String> {
    let mut cx = Cx::default();
    let text = encode_tools(tools, &mut cx)?;
    match cx.surrogate {
        Some(c) => err(
            "UnicodeEncodeError",
            EncodeError::LoneSurrogate(c).to_string(),
        ),
        None => Ok(text),
    }
}

/// State of one call: the first lone surrogate written into the text. Python goes on and may
/// still raise, so this only decides the result once everything else succeeded.
#[derive(Default)]
struct Cx {
    surrogate: Option<u32>,
}

impl Cx {
    /// A Python `str` as text.
    fn text<'s>(&mut self, s: &'s PyStr) -> Cow<'s, str> {
        if s.as_str().is_none() {
            self.note(s.code_points().find(|c| char::from_u32(*c).is_none()));
        }
        s.to_string_lossy()
    }

    fn note(&mut self, surrogate: Option<u32>) {
        if self.surrogate.is_none() {
            self.surrogate = surrogate;
        }
    }

    /// `str(v)` (an f-string field) of a value in a schema parsed `frames` deep.
    fn str_of(&mut self, v: &Value, frames: usize) -> PyResult<String> {
        check_value_depth(frames, v)?;
        Ok(match v {
            Value::Str(s) => self.text(s).into_owned(),
            _ => py_str(v),
        })
    }

    /// `str(item)` of one item of `iter(v)`.
    fn item_str(&mut self, item: &Item<'_>, frames: usize) -> PyResult<String> {
        match *item {
            Item::Val(v) => self.str_of(v, frames),
            Item::Key(s) => Ok(self.text(s).into_owned()),
            Item::Char(c) => Ok(self.char(c).to_string()),
        }
    }

    fn char(&mut self, c: u32) -> char {
        char::from_u32(c).unwrap_or_else(|| {
            self.note(Some(c));
            char::REPLACEMENT_CHARACTER
        })
    }

    /// `repr(default)` for an int/float/bool (bool is an int in Python), else
    /// `json.dumps(default, ensure_ascii=False)`.
    fn default_repr(&mut self, v: &Value, frames: usize) -> PyResult<String> {
        check_value_depth(frames, v)?;
        if matches!(v, Value::Int(_) | Value::Float(_) | Value::Bool(_)) {
            return Ok(py_str(v));
        }
        let opts = DumpOptions {
            ensure_ascii: false,
            ..DumpOptions::default()
        };
        match pyjson::dumps(v, &opts) {
            Ok(s) => Ok(s),
            Err(EncodeError::LoneSurrogate(c)) => {
                // Python's result would hold the surrogate; the text no longer matters.
                self.note(Some(c));
                Ok(String::new())
            }
            Err(EncodeError::TooDeep) => recursion(),
        }
    }
}

/// Fails where Python's stack could run out printing `v` (`repr`, `json.dumps`: a frame a
/// nesting level) from a schema parsed `frames` deep.
fn check_value_depth(frames: usize, v: &Value) -> PyResult<()> {
    let budget = FRAME_BUDGET.saturating_sub(frames + EXTRA_FRAMES);
    // Iterative, so a hostile value cannot overflow the Rust stack here.
    let mut stack = vec![(v, 0usize)];
    while let Some((v, depth)) = stack.pop() {
        match v {
            Value::Array(items) => {
                if depth + 1 > budget {
                    return recursion();
                }
                stack.extend(items.iter().map(|x| (x, depth + 1)));
            }
            Value::Object(pairs) => {
                if depth + 1 > budget {
                    return recursion();
                }
                stack.extend(pairs.iter().map(|(_, x)| (x, depth + 1)));
            }
            _ => {}
        }
    }
    Ok(())
}

/// One item of Python's `iter(v)`: a list's item, a dict's key, a string's character.
enum Item<'a> {
    Val(&'a Value),
    Key(&'a PyStr),
    Char(u32),
}

impl Item<'_> {
    /// `isinstance(item, str)`.
    fn is_str(&self) -> bool {
        match self {
            Item::Val(v) => matches!(v, Value::Str(_)),
            Item::Key(_) | Item::Char(_) => true,
        }
    }
}

fn py_iter(v: &Value) -> PyResult<Vec<Item<'_>>> {
    match v {
        Value::Array(items) => Ok(items.iter().map(Item::Val).collect()),
        Value::Object(pairs) => Ok(pairs.iter().map(|(k, _)| Item::Key(k)).collect()),
        Value::Str(s) => Ok(s.code_points().map(Item::Char).collect()),
        _ => err(
            "TypeError",
            format!("'{}' object is not iterable", type_name(v)),
        ),
    }
}

// ---------------------------------------------------------------------------------------------
// The $ref registry

/// `_SchemaRegistry`: the `$defs` seen so far, in the order Python's dict keeps them (a name
/// registered again keeps its place and takes the new schema).
#[derive(Default)]
struct Registry<'a> {
    /// Name, schema, and the frames to parse it with (the stack estimate).
    definitions: Vec<(&'a PyStr, &'a Value, usize)>,
    index: HashMap<&'a PyStr, usize>,
    has_self_ref: bool,
}

/// What a `$ref` resolved to.
enum Resolved<'a> {
    /// `#`: the root parameters (`{"$self_ref": True}` in Python).
    SelfRef,
    /// A `#/$defs/NAME` reference: the schema, and the reference.
    Definition(&'a Value, &'a PyStr),
}

impl<'a> Registry<'a> {
    /// `register_definitions(defs)`, from a schema parsed `frames` deep (Python parses the
    /// definitions later, less deep: an overestimate).
    fn register(&mut self, defs: &'a Value, frames: usize) -> PyResult<()> {
        if !truthy(defs) {
            return Ok(());
        }
        for (name, schema) in dict(defs, "items")? {
            match self.index.get(name) {
                Some(&i) => self.definitions[i] = (name, schema, frames),
                None => {
                    self.index.insert(name, self.definitions.len());
                    self.definitions.push((name, schema, frames));
                }
            }
        }
        Ok(())
    }

    fn lookup(&self, name: &[u32]) -> Option<&'a Value> {
        match name
            .iter()
            .map(|&c| char::from_u32(c))
            .collect::<Option<String>>()
        {
            Some(s) => self
                .index
                .get(&PyStr::from(s))
                .map(|&i| self.definitions[i].1),
            // A name with a lone surrogate: rare enough for a scan.
            None => self
                .definitions
                .iter()
                .find(|(k, _, _)| k.code_points().eq(name.iter().copied()))
                .map(|d| d.1),
        }
    }

    /// `resolve_ref(ref)`.
    fn resolve(&mut self, reference: &'a Value, cx: &mut Cx) -> PyResult<Resolved<'a>> {
        if is_str(reference, "#") {
            self.has_self_ref = true;
            return Ok(Resolved::SelfRef);
        }
        let Value::Str(s) = reference else {
            return no_attribute(reference, "startswith");
        };
        let cps: Vec<u32> = s.code_points().collect();
        if !cps
            .iter()
            .copied()
            .take(8)
            .eq("#/$defs/".chars().map(u32::from))
        {
            return err(
                "ValueError",
                format!("Unsupported reference format: {}", cx.text(s)),
            );
        }
        match self.lookup(last_segment(&cps)) {
            Some(schema) => Ok(Resolved::Definition(schema, s)),
            None => err("ValueError", format!("Reference not found: {}", cx.text(s))),
        }
    }
}

/// `s.split("/")[-1]`.
fn last_segment(cps: &[u32]) -> &[u32] {
    let start = cps
        .iter()
        .rposition(|&c| c == u32::from('/'))
        .map_or(0, |i| i + 1);
    &cps[start..]
}

// ---------------------------------------------------------------------------------------------
// Parsing: `_parse_parameter_type` and the `_ParameterType*` constructors

/// `_BaseType`'s fields: the description (any value; printed only if truthy) and the
/// constraints the type allows, as `(key, value)` in the schema's order.
#[derive(Default)]
struct Base<'a> {
    description: Option<&'a Value>,
    constraints: Vec<(&'a str, &'a Value)>,
}

impl<'a> Base<'a> {
    fn new(d: &'a Dict, allowed: &[&str]) -> Self {
        let mut constraints = Vec::new();
        for (k, v) in d {
            if let Some(k) = k.as_str().filter(|k| allowed.contains(k)) {
                constraints.push((k, v));
            }
        }
        Base {
            description: get(d, "description"),
            constraints,
        }
    }
}

/// A parsed schema, and how deep Python parsed it (the stack estimate).
struct Ty<'a> {
    base: Base<'a>,
    kind: Kind<'a>,
    frames: usize,
}

enum Kind<'a> {
    /// `_ParameterTypeScalar`.
    Scalar(Scalar<'a>),
    /// `_ParameterTypeObject`.
    Object(Object<'a>),
    /// `_ParameterTypeArray`: the item type.
    Array(Box<Ty<'a>>),
    /// `_ParameterTypeEnum`: the `enum` value as given (iterated when printed).
    Enum(&'a Value),
    /// `_ParameterTypeAnyOf`.
    AnyOf(Vec<Ty<'a>>),
    /// `_ParameterTypeUnion`: the mapped type names.
    Union(Vec<&'static str>),
    /// `_ParameterTypeRef`: `None` for `parameters` (the root), else the `$ref` string.
    Ref(Option<&'a PyStr>),
}

enum Scalar<'a> {
    Any,
    Null,
    /// The schema's `type`, whatever value it is.
    Named(&'a Value),
}

/// `_ParameterTypeObject`.
#[derive(Default)]
struct Object<'a> {
    properties: Vec<Param<'a>>,
    additional: Option<Additional<'a>>,
}

/// A non-null `additionalProperties`.
enum Additional<'a> {
    Bool(bool),
    Schema(Box<Ty<'a>>),
    /// Anything else: a ValueError once printed.
    Other(&'a Value),
}

/// `_Parameter`: a property.
struct Param<'a> {
    name: &'a PyStr,
    ty: Ty<'a>,
    optional: bool,
    /// A non-null `default`.
    default: Option<&'a Value>,
}

fn ty<'a>(base: Base<'a>, kind: Kind<'a>, frames: usize) -> Ty<'a> {
    Ty { base, kind, frames }
}

/// `_parse_parameter_type(v, registry)`, called `frames` deep.
fn parse<'a>(v: &'a Value, frames: usize, reg: &mut Registry<'a>, cx: &mut Cx) -> PyResult<Ty<'a>> {
    if frames + EXTRA_FRAMES > FRAME_BUDGET {
        return recursion();
    }
    let d = match v {
        Value::Bool(b) => {
            let scalar = if *b { Scalar::Any } else { Scalar::Null };
            return Ok(ty(Base::default(), Kind::Scalar(scalar), frames));
        }
        Value::Object(d) => d,
        Value::Str(s) => return Err(str_schema_error(&cx.text(s))),
        Value::Array(items) => {
            // `key in list` compares items; every constructor then calls `list.get`.
            let has = |k: &str| items.iter().any(|x| is_str(x, k));
            if has("$ref") || has("anyOf") || has("enum") {
                return no_attribute(v, "get");
            }
            if has("type") {
                return err(
                    "TypeError",
                    "list indices must be integers or slices, not str".to_owned(),
                );
            }
            let repr = cx.str_of(v, frames)?;
            return err("ValueError", format!("Invalid JSON Schema object: {repr}"));
        }
        _ => {
            return err(
                "TypeError",
                format!("argument of type '{}' is not iterable", type_name(v)),
            )
        }
    };
    if let Some(reference) = get(d, "$ref") {
        let base = Base::new(d, &[]);
        let name = match reg.resolve(reference, cx)? {
            Resolved::SelfRef => None,
            // `resolved_schema.get("$self_ref", False)`: a definition may say it is the root.
            Resolved::Definition(schema, s) => match get(dict(schema, "get")?, "$self_ref") {
                Some(flag) if truthy(flag) => None,
                _ => Some(s),
            },
        };
        return Ok(ty(base, Kind::Ref(name), frames));
    }
    if let Some(any_of) = get(d, "anyOf") {
        let base = Base::new(d, &[]);
        let mut types = Vec::new();
        for item in py_iter(any_of)? {
            types.push(match item {
                Item::Val(t) => parse(t, frames + MEMBER_FRAMES, reg, cx)?,
                Item::Key(s) => return Err(str_schema_error(&cx.text(s))),
                Item::Char(c) => return Err(str_schema_error(&cx.char(c).to_string())),
            });
        }
        return Ok(ty(base, Kind::AnyOf(types), frames));
    }
    if let Some(values) = get(d, "enum") {
        check_enum(d, values, frames, cx)?;
        return Ok(ty(Base::new(d, &[]), Kind::Enum(values), frames));
    }
    if let Some(t) = get(d, "type") {
        return match t {
            Value::Array(names) => {
                let mut types = Vec::new();
                for name in names {
                    types.push(union_name(name)?);
                }
                Ok(ty(Base::new(d, &[]), Kind::Union(types), frames))
            }
            _ if is_str(t, "object") => {
                let object = parse_object(d, frames, reg, cx)?;
                Ok(ty(Base::new(d, &[]), Kind::Object(object), frames))
            }
            _ if is_str(t, "array") => {
                let base = Base::new(d, &["minItems", "maxItems"]);
                let item = match get(d, "items").filter(|i| truthy(i)) {
                    Some(items) => parse(items, frames + ITEM_FRAMES, reg, cx)?,
                    None => ty(Base::default(), Kind::Scalar(Scalar::Any), frames),
                };
                Ok(ty(base, Kind::Array(Box::new(item)), frames))
            }
            _ => {
                let allowed: &[&str] = if is_str(t, "string") {
                    &["maxLength", "minLength", "pattern"]
                } else if is_str(t, "number") || is_str(t, "integer") {
                    &["maximum", "minimum"]
                } else {
                    &[]
                };
                Ok(ty(
                    Base::new(d, allowed),
                    Kind::Scalar(Scalar::Named(t)),
                    frames,
                ))
            }
        };
    }
    if d.is_empty() {
        return Ok(ty(Base::default(), Kind::Scalar(Scalar::Any), frames));
    }
    let repr = cx.str_of(v, frames)?;
    err("ValueError", format!("Invalid JSON Schema object: {repr}"))
}

/// What `_parse_parameter_type` raises for a string: `"$ref" in s` etc. test substrings, the
/// constructors call `s.get`, `s["type"]` indexes a string.
fn str_schema_error(s: &str) -> PyErr {
    if s.contains("$ref") || s.contains("anyOf") || s.contains("enum") {
        PyErr {
            kind: "AttributeError",
            message: "'str' object has no attribute 'get'".to_owned(),
        }
    } else if s.contains("type") {
        PyErr {
            kind: "TypeError",
            message: "string indices must be integers, not 'str'".to_owned(),
        }
    } else {
        PyErr {
            kind: "ValueError",
            message: format!("Invalid JSON Schema object: {s}"),
        }
    }
}

/// `_ParameterTypeUnion`'s `mapping[t]`.
fn union_name(t: &Value) -> PyResult<&'static str> {
    let found = match t {
        Value::Str(s) => match s.as_str() {
            Some("string") => Some("string"),
            Some("number" | "integer") => Some("number"),
            Some("boolean") => Some("boolean"),
            Some("null") => Some("null"),
            Some("object") => Some("{}"),
            Some("array") => Some("Array<any>"),
            _ => None,
        },
        Value::Array(_) | Value::Object(_) => {
            return err("TypeError", format!("unhashable type: '{}'", type_name(t)))
        }
        _ => None,
    };
    match found {
        Some(name) => Ok(name),
        None => {
            // str(KeyError(t)) is repr(t).
            let mut message = String::new();
            write_repr(&mut message, t);
            err("KeyError", message)
        }
    }
}

/// `_ParameterTypeEnum.__init__`'s check of the values against a declared `type` (a schema at
/// `frames` deep).
fn check_enum(d: &Dict, values: &Value, frames: usize, cx: &mut Cx) -> PyResult<()> {
    let Some(declared) = get(d, "type") else {
        return Ok(());
    };
    // A list of one type, or of a type and "null", names that type.
    let typ = match declared {
        Value::Array(types) => match types.as_slice() {
            [t] => t,
            [a, b] if types.iter().any(|t| is_str(t, "null")) => {
                if is_str(a, "null") {
                    b
                } else {
                    a
                }
            }
            _ => {
                let shown = cx.str_of(declared, frames)?;
                return err("ValueError", format!("Enum type {shown} is not supported"));
            }
        },
        t => t,
    };
    // Iterated whatever the type, so a value that is not iterable raises here.
    let items = py_iter(values)?;
    let expected = [
        ("string", "a string"),
        ("number", "a number"),
        ("integer", "an integer"),
        ("boolean", "a boolean"),
    ]
    .into_iter()
    .find(|(t, _)| is_str(typ, t));
    let Some((t, what)) = expected else {
        return Ok(());
    };
    for val in items {
        // isinstance checks; bool is an int in Python.
        let ok = match (&val, t) {
            (Item::Val(Value::Null), _) => continue,
            (Item::Val(v), "string") => matches!(v, Value::Str(_)),
            (Item::Val(v), "number") => {
                matches!(v, Value::Int(_) | Value::Float(_) | Value::Bool(_))
            }
            (Item::Val(v), "integer") => matches!(v, Value::Int(_) | Value::Bool(_)),
            (Item::Val(v), _) => matches!(v, Value::Bool(_)),
            // A dict's keys and a string's characters are strings.
            (_, t) => t == "string",
        };
        if !ok {
            let shown = cx.item_str(&val, frames)?;
            return err("ValueError", format!("Enum value {shown} is not {what}"));
        }
    }
    Ok(())
}

/// `set(required)`: the names it makes required. Only strings can equal a property name.
#[derive(Default)]
struct Required<'a> {
    names: HashSet<&'a PyStr>,
    chars: HashSet<u32>,
}

impl Required<'_> {
    fn contains(&self, name: &PyStr) -> bool {
        if self.names.contains(name) {
            return true;
        }
        let mut cps = name.code_points();
        match (cps.next(), cps.next()) {
            (Some(c), None) => self.chars.contains(&c),
            _ => false,
        }
    }
}

/// `_ParameterTypeObject.__init__` of a dict parsed `frames` deep.
fn parse_object<'a>(
    d: &'a Dict,
    frames: usize,
    reg: &mut Registry<'a>,
    cx: &mut Cx,
) -> PyResult<Object<'a>> {
    let mut object = Object::default();
    if d.is_empty() {
        return Ok(object);
    }
    if let Some(defs) = get(d, "$defs") {
        reg.register(defs, frames)?;
    }
    object.additional = match get(d, "additionalProperties") {
        None | Some(Value::Null) => None,
        Some(Value::Bool(b)) => Some(Additional::Bool(*b)),
        Some(schema @ Value::Object(_)) => Some(Additional::Schema(Box::new(parse(
            schema,
            frames + ITEM_FRAMES,
            reg,
            cx,
        )?))),
        Some(other) => Some(Additional::Other(other)),
    };
    let Some(properties) = get(d, "properties") else {
        return Ok(object);
    };
    let properties = dict(properties, "keys")?;
    let mut required = Required::default();
    if let Some(names) = get(d, "required") {
        for item in py_iter(names)? {
            match item {
                Item::Val(Value::Str(s)) | Item::Key(s) => {
                    required.names.insert(s);
                }
                Item::Char(c) => {
                    required.chars.insert(c);
                }
                Item::Val(v @ (Value::Array(_) | Value::Object(_))) => {
                    return err("TypeError", format!("unhashable type: '{}'", type_name(v)))
                }
                Item::Val(_) => {}
            }
        }
    }
    for (name, prop) in properties {
        let ty = parse(prop, frames + MEMBER_FRAMES, reg, cx)?;
        let default = match prop {
            Value::Object(p) => get(p, "default").filter(|v| !matches!(v, Value::Null)),
            _ => None,
        };
        object.properties.push(Param {
            name,
            ty,
            optional: !required.contains(name),
            default,
        });
    }
    Ok(object)
}

// ---------------------------------------------------------------------------------------------
// Printing: `to_typescript_style` and `format_docstring`

/// What `to_typescript_style` returns: text, or a scalar's `type` that is not a string (Python
/// returns it as it is, and whoever uses it decides: an f-string prints `str()` of it, `+` and
/// `join` raise TypeError).
enum Ts<'a> {
    Text(String),
    Raw(&'a Value),
}

impl Ts<'_> {
    /// As an f-string field.
    fn format(self, frames: usize, cx: &mut Cx) -> PyResult<String> {
        match self {
            Ts::Text(s) => Ok(s),
            Ts::Raw(v) => cx.str_of(v, frames),
        }
    }
}

/// `_format_description(description, indent)`.
fn format_description(description: &str, indent: &str) -> String {
    description
        .split('\n')
        .map(|line| {
            if line.is_empty() {
                String::new()
            } else {
                format!("{indent}// {line}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// `description and _format_description(description, indent)`: a truthy description must be a
/// string (`.split`).
fn description_text(
    description: Option<&Value>,
    indent: &str,
    cx: &mut Cx,
) -> PyResult<Option<String>> {
    match description {
        Some(v) if truthy(v) => match v {
            Value::Str(s) => Ok(Some(format_description(&cx.text(s), indent))),
            _ => no_attribute(v, "split"),
        },
        _ => Ok(None),
    }
}

/// `format_docstring(indent)`: the description and the constraints as comment lines.
fn docstring(t: &Ty<'_>, indent: &str, cx: &mut Cx) -> PyResult<String> {
    let mut out = String::new();
    if let Some(text) = description_text(t.base.description, indent, cx)? {
        out.push_str(&text);
        out.push('\n');
    }
    if !t.base.constraints.is_empty() {
        let mut constraints: Vec<_> = t.base.constraints.iter().collect();
        constraints.sort_by_key(|(k, _)| *k);
        let mut parts = Vec::new();
        for (k, v) in constraints {
            parts.push(format!("{k}: {}", cx.str_of(v, t.frames)?));
        }
        out.push_str(&format!("{indent}// {}\n", parts.join(", ")));
    }
    Ok(out)
}

/// `to_typescript_style(indent)`.
fn render<'a>(t: &Ty<'a>, indent: &str, cx: &mut Cx) -> PyResult<Ts<'a>> {
    let text = match &t.kind {
        Kind::Scalar(Scalar::Any) => "any".to_owned(),
        Kind::Scalar(Scalar::Null) => "null".to_owned(),
        Kind::Scalar(Scalar::Named(Value::Str(s))) if *s == "integer" => "number".to_owned(),
        Kind::Scalar(Scalar::Named(Value::Str(s))) => cx.text(s).into_owned(),
        Kind::Scalar(Scalar::Named(v)) => return Ok(Ts::Raw(v)),
        Kind::Object(o) => render_object(o, indent, t.frames, cx)?,
        Kind::Array(item) => {
            let inner = format!("{indent}{INDENT}");
            let item_doc = docstring(item, &inner, cx)?;
            if item_doc.is_empty() {
                let item_ts = render(item, indent, cx)?.format(item.frames, cx)?;
                format!("Array<{item_ts}>")
            } else {
                match render(item, &inner, cx)? {
                    Ts::Text(item_ts) => format!("Array<\n{item_doc}{inner}{item_ts}\n{indent}>"),
                    Ts::Raw(v) => {
                        return err(
                            "TypeError",
                            format!("can only concatenate str (not \"{}\") to str", type_name(v)),
                        )
                    }
                }
            }
        }
        Kind::Enum(values) => {
            let mut parts = Vec::new();
            for e in py_iter(values)? {
                let s = cx.item_str(&e, t.frames)?;
                parts.push(if e.is_str() { format!("\"{s}\"") } else { s });
            }
            parts.join(" | ")
        }
        Kind::AnyOf(types) => {
            let mut parts = Vec::new();
            for member in types {
                parts.push(render(member, indent, cx)?);
            }
            let mut texts = Vec::new();
            for (i, part) in parts.into_iter().enumerate() {
                match part {
                    Ts::Text(s) => texts.push(s),
                    Ts::Raw(v) => {
                        return err(
                            "TypeError",
                            format!(
                                "sequence item {i}: expected str instance, {} found",
                                type_name(v)
                            ),
                        )
                    }
                }
            }
            texts.join(" | ")
        }
        Kind::Union(types) => types.join(" | "),
        Kind::Ref(None) => "parameters".to_owned(),
        Kind::Ref(Some(reference)) => {
            let cps: Vec<u32> = reference.code_points().collect();
            last_segment(&cps).iter().map(|&c| cx.char(c)).collect()
        }
    };
    Ok(Ts::Text(text))
}

/// `_Parameter.to_typescript_style(indent)`.
fn render_param(p: &Param<'_>, indent: &str, cx: &mut Cx) -> PyResult<String> {
    let mut out = docstring(&p.ty, indent, cx)?;
    if let Some(default) = p.default {
        let shown = cx.default_repr(default, p.ty.frames)?;
        out.push_str(&format!("{indent}// Default: {shown}\n"));
    }
    let name = cx.text(p.name);
    let optional = if p.optional { "?" } else { "" };
    let t = render(&p.ty, indent, cx)?.format(p.ty.frames, cx)?;
    out.push_str(&format!("{indent}{name}{optional}: {t}"));
    Ok(out)
}

/// `_ParameterTypeObject.to_typescript_style(indent)`: required properties first, then the
/// optional ones, each by name; then `additionalProperties`.
fn render_object(o: &Object<'_>, indent: &str, frames: usize, cx: &mut Cx) -> PyResult<String> {
    let mut params: Vec<&Param<'_>> = o.properties.iter().filter(|p| !p.optional).collect();
    let mut optional: Vec<&Param<'_>> = o.properties.iter().filter(|p| p.optional).collect();
    // Python compares strings by code point, as PyStr's Ord does.
    params.sort_by(|a, b| a.name.cmp(b.name));
    optional.sort_by(|a, b| a.name.cmp(b.name));
    params.extend(optional);
    let inner = format!("{indent}{INDENT}");
    let mut fields = Vec::new();
    for p in params {
        fields.push(render_param(p, &inner, cx)?);
    }
    if let Some(additional) = &o.additional {
        let shown = match additional {
            Additional::Bool(true) => "any".to_owned(),
            Additional::Bool(false) => "never".to_owned(),
            Additional::Schema(t) => render(t, &inner, cx)?.format(t.frames, cx)?,
            Additional::Other(v) => {
                let shown = cx.str_of(v, frames)?;
                return err(
                    "ValueError",
                    format!("Unknown additionalProperties: {shown}"),
                );
            }
        };
        fields.push(format!("{inner}[k: string]: {shown}"));
    }
    if fields.is_empty() {
        return Ok("{}".to_owned());
    }
    Ok(format!("{{\n{}\n{indent}}}", fields.join(",\n")))
}

// ---------------------------------------------------------------------------------------------
// Functions and the tool list

/// `_openai_function_to_typescript_style(function)`; `function` is at JSON depth 2.
fn function_ts(function: &Value, cx: &mut Cx) -> PyResult<String> {
    let f = dict(function, "get")?;
    let mut reg = Registry::default();
    // `function.get("parameters") or {}`, then `_ParameterTypeObject(parameters)`, whose base
    // class reads `parameters.get("description")`.
    let root = match get(f, "parameters").filter(|p| truthy(p)) {
        None => Object::default(),
        Some(p) => parse_object(dict(p, "get")?, ROOT_FRAMES, &mut reg, cx)?,
    };

    let mut interfaces = Vec::new();
    let self_ref = reg.has_self_ref;
    if self_ref {
        // The root's properties in their own order, without additionalProperties.
        let mut fields = Vec::new();
        for p in &root.properties {
            fields.push(render_param(p, INDENT, cx)?);
        }
        let body = if fields.is_empty() {
            String::new()
        } else {
            format!("\n{}\n", fields.join(",\n"))
        };
        interfaces.push(format!("interface parameters {{{body}}}"));
    }

    // A snapshot: definitions registered while these are parsed are resolvable but not printed.
    let definitions = reg.definitions.clone();
    for (name, schema, frames) in definitions {
        let t = parse(schema, frames, &mut reg, cx)?;
        let body = render(&t, "", cx)?.format(frames, cx)?;
        let description = get(dict(schema, "get")?, "description");
        let description = match description_text(description, "", cx)? {
            Some(text) => text + "\n",
            None => String::new(),
        };
        let name = cx.text(name);
        interfaces.push(format!("{description}interface {name} {body}"));
    }

    let interface_str = interfaces.join("\n");
    let name = match get(f, "name") {
        Some(v) => Cow::Owned(cx.str_of(v, ROOT_FRAMES)?),
        None => Cow::Borrowed("function"),
    };
    let type_def = if self_ref {
        format!("type {name} = (_: parameters) => any;")
    } else {
        let body = render_object(&root, "", ROOT_FRAMES, cx)?;
        format!("type {name} = (_: {body}) => any;")
    };
    let description = description_text(get(f, "description"), "", cx)?.unwrap_or_default();
    let parts = [interface_str, description, type_def];
    Ok(parts
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("\n"))
}

/// `encode_tools_to_typescript_style(tools)`.
fn encode_tools(tools: &[Value], cx: &mut Cx) -> PyResult<String> {
    let mut functions = Vec::new();
    for tool in tools {
        let tool = dict(tool, "get")?;
        // Other tool types (e.g. "_plugin") are skipped, and so is an empty function.
        if !get(tool, "type").is_some_and(|t| is_str(t, "function")) {
            continue;
        }
        match get(tool, "function") {
            Some(f) if truthy(f) => functions.push(function_ts(f, cx)?),
            _ => {}
        }
    }
    if functions.is_empty() {
        return Ok(String::new());
    }
    Ok(format!(
        "# Tools\n\n## functions\nnamespace functions {{\n{}\n}}\n",
        functions.join("\n")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::pyjson::loads;

    /// The result for one function spec (JSON text), wrapped as the renderer wraps it; errors as
    /// `ExcClass: message`.
    fn one(function: &str) -> Result<String, String> {
        let tools = loads(&format!(
            r#"[{{"type": "function", "function": {function}}}]"#
        ))
        .unwrap_or_else(|e| panic!("{function}: {e}"));
        let Value::Array(tools) = tools else {
            unreachable!()
        };
        encode(&tools).map_err(|e| format!("{}: {}", e.kind, e.message))
    }

    fn wrap(body: &str) -> String {
        format!("# Tools\n\n## functions\nnamespace functions {{\n{body}\n}}\n")
    }

    // The expected strings below are what the cookbook module returned for the same input
    // (python3.11, the file loaded with importlib, the spec wrapped as the renderer wraps it).

    #[test]
    fn a_typical_tool() {
        let spec = r#"{"name": "get_weather", "description": "Get the weather\n\nin a city",
            "parameters": {"type": "object", "properties": {
                "units": {"type": "string", "enum": ["c", "f"], "default": "c"},
                "city": {"type": "string", "description": "City name", "maxLength": 100, "minLength": 1},
                "days": {"type": "integer", "minimum": 1, "maximum": 1e16, "default": 3},
                "tags": {"type": "array", "items": {"type": "string", "pattern": "^a"}, "maxItems": 3},
                "flags": {"type": ["boolean", "null", "integer"]}},
            "required": ["city", "missing"], "additionalProperties": false}}"#;
        let body = "// Get the weather\n\n// in a city\ntype get_weather = (_: {\n  \
            // City name\n  // maxLength: 100, minLength: 1\n  city: string,\n  \
            // maximum: 1e+16, minimum: 1\n  // Default: 3\n  days?: number,\n  \
            flags?: boolean | null | number,\n  // maxItems: 3\n  tags?: Array<\n    \
            // pattern: ^a\n    string\n  >,\n  // Default: \"c\"\n  units?: \"c\" | \"f\",\n  \
            [k: string]: never\n}) => any;";
        assert_eq!(one(spec), Ok(wrap(body)));
        // The crate-facing function gives the same text.
        let tools = loads(&format!(r#"[{{"type": "function", "function": {spec}}}]"#)).unwrap();
        let Value::Array(tools) = tools else {
            unreachable!()
        };
        assert_eq!(encode_tools_to_typescript_style(&tools), Ok(wrap(body)));
    }

    #[test]
    fn definitions_and_references() {
        // The `#` inside the definition is only seen after the root was printed, so the root
        // stays inline; a self reference is still printed as `parameters`.
        let spec = r##"{"name": "tree", "parameters": {"type": "object",
            "$defs": {"Node": {"type": "object", "description": "A node", "properties": {
                "children": {"type": "array", "items": {"$ref": "#/$defs/Node"}},
                "parent": {"$ref": "#"}}}},
            "properties": {"root": {"$ref": "#/$defs/Node"},
                "meta": {"type": "object", "additionalProperties": {"type": "number"},
                         "default": {"a": [1, 0.1, null]}},
                "x": {"anyOf": [{"type": "string"}, {"type": "null"}, true]}}}}"##;
        let body =
            "// A node\ninterface Node {\n  children?: Array<Node>,\n  parent?: parameters\n}\n\
            type tree = (_: {\n  // Default: {\"a\": [1, 0.1, null]}\n  meta?: {\n    \
            [k: string]: number\n  },\n  root?: Node,\n  x?: string | null | any\n}) => any;";
        assert_eq!(one(spec), Ok(wrap(body)));
        // A `#` in the root's own properties makes the root an interface, printed in its own order.
        let spec = r##"{"name": "f", "parameters": {"properties": {"z": {"type": "string"},
            "a": {"$ref": "#"}}, "required": ["z"]}}"##;
        let body = "interface parameters {\n  z: string,\n  a?: parameters\n}\n\
            type f = (_: parameters) => any;";
        assert_eq!(one(spec), Ok(wrap(body)));
    }

    #[test]
    fn values_are_printed_with_python_str() {
        let spec = r#"{"parameters": {"properties": {"a": {"type": 5},
            "b": {"type": "array", "items": {"type": null}},
            "c": {"type": "string", "pattern": true, "maxLength": 1.0, "default": false},
            "d": {"enum": [1, 2.5, null, true, "x", [1, "a"], {"k": "v"}]}}, "required": "ab"}}"#;
        let body = "type function = (_: {\n  a: 5,\n  b: Array<None>,\n  \
            // maxLength: 1.0, pattern: True\n  // Default: False\n  c?: string,\n  \
            d?: 1 | 2.5 | None | True | \"x\" | [1, 'a'] | {'k': 'v'}\n}) => any;";
        assert_eq!(one(spec), Ok(wrap(body)));
    }

    #[test]
    fn python_exceptions() {
        for (spec, want) in [
            (
                r#"{"name": "f", "parameters": {"properties": {"a": {"type": "array", "items": {"type": 5, "description": "d"}}}}}"#,
                r#"TypeError: can only concatenate str (not "int") to str"#,
            ),
            (
                r#"{"name": "f", "parameters": {"properties": {"a": {"anyOf": [{"type": "string"}, {"type": 1.5}]}}}}"#,
                "TypeError: sequence item 1: expected str instance, float found",
            ),
            (
                r##"{"name": "f", "parameters": {"properties": {"a": {"$ref": "#/$defs/X"}}}}"##,
                "ValueError: Reference not found: #/$defs/X",
            ),
            (
                r#"{"name": "f", "parameters": {"properties": {"a": {"type": ["string", "date"]}}}}"#,
                "KeyError: 'date'",
            ),
            (
                r#"{"name": "f", "parameters": {"properties": {"a": {"type": "object", "additionalProperties": [1]}}}}"#,
                "ValueError: Unknown additionalProperties: [1]",
            ),
            (
                r#"{"name": "f", "parameters": {"properties": {"a": {"description": "no type"}}}}"#,
                "ValueError: Invalid JSON Schema object: {'description': 'no type'}",
            ),
            (
                r#"{"name": "f", "description": 5}"#,
                "AttributeError: 'int' object has no attribute 'split'",
            ),
            (
                r#"{"name": "f", "parameters": [1]}"#,
                "AttributeError: 'list' object has no attribute 'get'",
            ),
            (
                r#"{"name": "f", "parameters": {"$defs": [1], "type": "object"}}"#,
                "AttributeError: 'list' object has no attribute 'items'",
            ),
            (
                r#"{"name": "f", "parameters": {"properties": {"a": {"enum": [1], "type": "string"}}}}"#,
                "ValueError: Enum value 1 is not a string",
            ),
        ] {
            assert_eq!(one(spec), Err(want.to_owned()), "{spec}");
        }
    }

    #[test]
    fn skipped_tools_and_non_dict_tools() {
        let tools = loads(
            r#"[{"type": "_plugin"}, {"type": "function", "function": {}},
            {"type": "function"}, {"function": {"name": "f"}}]"#,
        )
        .unwrap();
        let Value::Array(tools) = tools else {
            unreachable!()
        };
        assert_eq!(encode_tools_to_typescript_style(&tools), Ok(String::new()));
        assert_eq!(encode_tools_to_typescript_style(&[]), Ok(String::new()));
        assert_eq!(
            encode_tools_to_typescript_style(&[Value::Array(Vec::new())]),
            Err("'list' object has no attribute 'get'".to_owned())
        );
    }

    #[test]
    fn a_lone_surrogate_in_the_text_is_an_error() {
        assert_eq!(
            one(r#"{"name": "f\ud800"}"#),
            Err(
                "UnicodeEncodeError: 'utf-8' codec can't encode character '\\ud800': \
                 surrogates not allowed"
                    .to_owned()
            )
        );
        // In a repr it is escaped, as Python escapes it.
        assert_eq!(
            one(r#"{"name": "f", "parameters": {"properties": {"a": {"enum": [["\ud800"]]}}}}"#),
            Ok(wrap("type f = (_: {\n  a?: ['\\ud800']\n}) => any;"))
        );
    }

    #[test]
    fn deep_nesting_is_refused_before_python_would_run_out_of_stack() {
        let nested = |n: usize, outer: &str| {
            let mut s = r#"{"type": "string", "default": [[1]]}"#.to_owned();
            for _ in 0..n {
                s = outer.replace('S', &s);
            }
            format!(r#"{{"name": "f", "parameters": {{"properties": {{"p": {s}}}}}}}"#)
        };
        // Python, called from a top-level script, manages 329 `items` and 246 properties
        // (python3.11); the budget keeps about 250 frames for the caller.
        let recursion = Err("RecursionError: maximum recursion depth exceeded".to_owned());
        let items = r#"{"type": "array", "items": S}"#;
        let text = one(&nested(244, items)).unwrap();
        assert!(text.contains(&format!(
            "{}string{}",
            "Array<".repeat(244),
            ">".repeat(244)
        )));
        assert_eq!(one(&nested(245, items)), recursion);
        let property = r#"{"type": "object", "properties": {"p": S}}"#;
        assert!(one(&nested(183, property)).is_ok());
        assert_eq!(one(&nested(184, property)), recursion);
        // The deepest the Rust side recurses, on a test thread's stack.
        let additional = r#"{"type": "object", "additionalProperties": S}"#;
        assert!(one(&nested(244, additional)).is_ok());
        let any_of = r#"{"anyOf": [S, {"type": "null"}]}"#;
        assert!(one(&nested(183, any_of)).is_ok());
        // A printed value: a frame a level on top of its schema's.
        let deep_default = |n: usize| {
            let value = format!("{}1{}", "[".repeat(n), "]".repeat(n));
            format!(
                r#"{{"parameters": {{"properties": {{"p": {{"type": "string", "default": {value}}}}}}}}}"#
            )
        };
        assert!(one(&deep_default(734)).is_ok());
        assert_eq!(one(&deep_default(735)), recursion);
    }

    /// Each line of `cases`: `{"tools": [...], "ts": TEXT}` or `{"tools": [...], "error":
    /// "ExcClass: message"}` from `scripts/kimi_ts_oracle.py`. Read with [`loads`], so big ints,
    /// floats and lone surrogates arrive as Python had them. Returns (cases, mismatches).
    fn check_cases(cases: &str) -> (usize, Vec<String>) {
        let mut failures = Vec::new();
        let mut n = 0;
        for (i, line) in cases.lines().enumerate() {
            let row = loads(line).unwrap_or_else(|e| panic!("line {}: {e}", i + 1));
            let Some(Value::Array(tools)) = row.get("tools") else {
                panic!("line {}: no tools", i + 1)
            };
            n += 1;
            let got = encode(tools).map_err(|e| (e.kind, e.message));
            let ok = match (row.get("ts"), row.get("error"), &got) {
                (Some(Value::Str(want)), _, Ok(text)) => *want == **text,
                // Python's text holds a lone surrogate: an error here (module doc).
                (Some(Value::Str(want)), _, Err((kind, _))) => {
                    want.as_str().is_none() && *kind == "UnicodeEncodeError"
                }
                (_, Some(Value::Str(want)), Err((kind, message))) => {
                    want.to_string_lossy() == format!("{kind}: {message}")
                }
                _ => false,
            };
            if !ok {
                failures.push(format!("line {}: {line}\n  got {got:?}", i + 1));
            }
        }
        (n, failures)
    }

    fn assert_cases(cases: &str) {
        let (n, failures) = check_cases(cases);
        let shown: Vec<&String> = failures.iter().take(10).collect();
        assert!(
            failures.is_empty(),
            "{} of {n} differ from the cookbook, first ones:\n{shown:#?}",
            failures.len()
        );
        eprintln!("{n} cases match the cookbook");
    }

    #[test]
    fn matches_the_cookbook_on_random_and_edge_tools() {
        // tests/data/chat/PROVENANCE.md: scripts/kimi_ts_oracle.py 1 3000, and its
        // hand-written cases (--edge).
        for name in ["kimi_ts.jsonl.zst", "kimi_ts_edge.jsonl.zst"] {
            let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/data/chat")
                .join(name);
            let cases = String::from_utf8(crate::testing::read_zst(&path)).unwrap();
            assert_cases(&cases);
        }
    }

    /// A held-out run: `python3 scripts/kimi_ts_oracle.py SEED N > $TMPDIR/kimi_ts_heldout.jsonl`
    /// (`/tmp` by default), then `cargo test -p tinkex --lib kimi_ts -- --ignored`.
    #[test]
    #[ignore = "needs kimi_ts_heldout.jsonl in the temp directory, from scripts/kimi_ts_oracle.py"]
    fn matches_the_cookbook_on_held_out_tools() {
        let path = std::env::temp_dir().join("kimi_ts_heldout.jsonl");
        let cases =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_cases(&cases);
    }
}
