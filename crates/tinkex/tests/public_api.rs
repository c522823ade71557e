//! The public API, listed and compared with the committed `public-api.txt`, so the surface
//! changes only on purpose. (`cargo public-api` needs nightly rustdoc JSON; this reads the
//! sources with `syn` instead.)
//!
//! The listing starts at `src/lib.rs` and follows `pub mod` (not `pub(crate)`/private ones) and
//! `pub use` (resolved to the item it names, wherever it is defined). Each public item is one
//! line, `path: signature`, bodies, docs and attributes other than `#[non_exhaustive]` left out;
//! a struct shows its `pub` fields; inherent `pub fn`s and trait impls of a public type are
//! listed under the type, wherever the `impl` is. Items under `#[cfg(test)]` or
//! `#[doc(hidden)]` are left out.
//!
//! After a deliberate change: `TINKEX_BLESS=1 cargo test -p tinkex --test public_api`, and
//! commit `crates/tinkex/public-api.txt` with the change.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use quote::ToTokens;
use syn::{Item, UseTree, Visibility};

/// Every module of the crate (public or not) by path, with its items.
struct Crate {
    modules: BTreeMap<String, Vec<Item>>,
    /// `module path → is public` (reachable from the root through `pub mod`s).
    public: BTreeSet<String>,
}

fn is_test_or_hidden(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        let s = a.to_token_stream().to_string().replace(' ', "");
        s == "#[cfg(test)]" || s.starts_with("#[doc(hidden")
    })
}

fn is_pub(v: &Visibility) -> bool {
    matches!(v, Visibility::Public(_))
}

fn load(file: &Path, path: &str, dir: &Path, public: bool, c: &mut Crate) {
    let text = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let parsed = syn::parse_file(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    load_items(parsed.items, path, dir, public, c);
}

fn load_items(items: Vec<Item>, path: &str, dir: &Path, public: bool, c: &mut Crate) {
    if public {
        c.public.insert(path.to_owned());
    }
    let mut keep = Vec::new();
    for item in items {
        if let Item::Mod(m) = &item {
            if is_test_or_hidden(&m.attrs) {
                continue;
            }
            let name = m.ident.to_string();
            let sub = format!("{path}::{name}");
            let sub_public = public && is_pub(&m.vis);
            match &m.content {
                Some((_, inner)) => {
                    load_items(inner.clone(), &sub, &dir.join(&name), sub_public, c)
                }
                None => {
                    let flat = dir.join(format!("{name}.rs"));
                    let (file, subdir) = if flat.exists() {
                        (flat, dir.join(&name))
                    } else {
                        (dir.join(&name).join("mod.rs"), dir.join(&name))
                    };
                    load(&file, &sub, &subdir, sub_public, c);
                }
            }
            continue;
        }
        keep.push(item);
    }
    c.modules.entry(path.to_owned()).or_default().extend(keep);
}

fn attrs_of(item: &Item) -> &[syn::Attribute] {
    match item {
        Item::Const(i) => &i.attrs,
        Item::Enum(i) => &i.attrs,
        Item::Fn(i) => &i.attrs,
        Item::Impl(i) => &i.attrs,
        Item::Static(i) => &i.attrs,
        Item::Struct(i) => &i.attrs,
        Item::Trait(i) => &i.attrs,
        Item::Type(i) => &i.attrs,
        Item::Use(i) => &i.attrs,
        Item::Macro(i) => &i.attrs,
        _ => &[],
    }
}

fn name_of(item: &Item) -> Option<String> {
    Some(match item {
        Item::Const(i) if is_pub(&i.vis) => i.ident.to_string(),
        Item::Enum(i) if is_pub(&i.vis) => i.ident.to_string(),
        Item::Fn(i) if is_pub(&i.vis) => i.sig.ident.to_string(),
        Item::Static(i) if is_pub(&i.vis) => i.ident.to_string(),
        Item::Struct(i) if is_pub(&i.vis) => i.ident.to_string(),
        Item::Trait(i) if is_pub(&i.vis) => i.ident.to_string(),
        Item::Type(i) if is_pub(&i.vis) => i.ident.to_string(),
        _ => return None,
    })
}

/// Only `#[non_exhaustive]` is part of the promise.
fn keep_attrs(attrs: &mut Vec<syn::Attribute>) {
    attrs.retain(|a| a.path().is_ident("non_exhaustive"));
}

fn tidy(tokens: String) -> String {
    let mut s = tokens;
    for (from, to) in [
        (" :: ", "::"),
        (":: ", "::"),
        (" ::", "::"),
        (" ,", ","),
        (" ;", ";"),
        ("( ", "("),
        (" )", ")"),
        (" < ", "<"),
        ("< ", "<"),
        (" >", ">"),
        ("& ", "&"),
        (" :", ":"),
        ("# [", "#["),
        (" !", "!"),
        ("' ", "'"),
        ("[ ", "["),
        (" ]", "]"),
    ] {
        while s.contains(from) {
            s = s.replace(from, to);
        }
    }
    s
}

/// The signature line of a public item (no body, no docs).
fn signature(item: &Item) -> String {
    let mut item = item.clone();
    match &mut item {
        Item::Fn(f) => {
            keep_attrs(&mut f.attrs);
            return tidy(format!("pub {}", f.sig.to_token_stream()));
        }
        Item::Struct(s) => {
            keep_attrs(&mut s.attrs);
            let mut hidden = false;
            if let syn::Fields::Named(named) = &mut s.fields {
                let all = std::mem::take(&mut named.named);
                for mut f in all {
                    if is_pub(&f.vis) {
                        f.attrs.clear();
                        named.named.push(f);
                    } else {
                        hidden = true;
                    }
                }
            }
            if let syn::Fields::Unnamed(unnamed) = &mut s.fields {
                for f in unnamed.unnamed.iter_mut() {
                    if !is_pub(&f.vis) {
                        hidden = true;
                        f.ty = syn::parse_quote!(_);
                    }
                    f.attrs.clear();
                }
            }
            let mut out = tidy(s.to_token_stream().to_string());
            if hidden {
                out.push_str(" /* private fields */");
            }
            return out;
        }
        Item::Enum(e) => {
            keep_attrs(&mut e.attrs);
            for v in e.variants.iter_mut() {
                v.attrs.retain(|a| a.path().is_ident("non_exhaustive"));
                for f in v.fields.iter_mut() {
                    f.attrs.clear();
                }
            }
        }
        Item::Trait(t) => {
            keep_attrs(&mut t.attrs);
            for i in t.items.iter_mut() {
                match i {
                    syn::TraitItem::Fn(f) => {
                        f.attrs.clear();
                        f.default = None;
                        f.semi_token = Some(Default::default());
                    }
                    syn::TraitItem::Const(c) => c.attrs.clear(),
                    syn::TraitItem::Type(t) => t.attrs.clear(),
                    _ => {}
                }
            }
        }
        Item::Const(c) => {
            keep_attrs(&mut c.attrs);
            return tidy(format!("pub const {}: {}", c.ident, c.ty.to_token_stream()));
        }
        Item::Static(s) => {
            keep_attrs(&mut s.attrs);
            return tidy(format!(
                "pub static {}: {}",
                s.ident,
                s.ty.to_token_stream()
            ));
        }
        Item::Type(t) => keep_attrs(&mut t.attrs),
        _ => {}
    }
    tidy(item.to_token_stream().to_string())
}

/// The item `name` defined in module `module` (following that module's own `pub use`s).
fn find<'c>(c: &'c Crate, module: &str, name: &str, depth: u32) -> Vec<(&'c Item, String)> {
    if depth > 8 {
        return Vec::new();
    }
    let Some(items) = c.modules.get(module) else {
        return Vec::new();
    };
    let mut out: Vec<(&Item, String)> = items
        .iter()
        .filter(|i| !is_test_or_hidden(attrs_of(i)) && name_of(i).as_deref() == Some(name))
        .map(|i| (i, module.to_owned()))
        .collect();
    if out.is_empty() {
        for i in items {
            if let Item::Use(u) = i {
                if is_pub(&u.vis) {
                    for (src_module, leaf, alias) in use_leaves(&u.tree, module, &[]) {
                        if alias == name {
                            out.extend(find(c, &src_module, &leaf, depth + 1));
                        }
                    }
                }
            }
        }
    }
    out
}

/// `(module the item is in, its name there, the name it is re-exported as)` for each leaf of a
/// use tree written in `module`.
fn use_leaves(tree: &UseTree, module: &str, prefix: &[String]) -> Vec<(String, String, String)> {
    match tree {
        UseTree::Path(p) => {
            let mut v = prefix.to_vec();
            v.push(p.ident.to_string());
            use_leaves(&p.tree, module, &v)
        }
        UseTree::Name(n) => {
            let name = n.ident.to_string();
            vec![(absolute(prefix, module), name.clone(), name)]
        }
        UseTree::Rename(r) => vec![(
            absolute(prefix, module),
            r.ident.to_string(),
            r.rename.to_string(),
        )],
        UseTree::Group(g) => g
            .items
            .iter()
            .flat_map(|t| use_leaves(t, module, prefix))
            .collect(),
        UseTree::Glob(_) => vec![(absolute(prefix, module), "*".into(), "*".into())],
    }
}

/// A use path's module, made absolute (`crate::x` → `tinkex::x`, `self`/`super`/relative).
fn absolute(prefix: &[String], module: &str) -> String {
    let mut parts: Vec<String> = module.split("::").map(str::to_owned).collect();
    let mut rest = prefix;
    match prefix.first().map(String::as_str) {
        Some("crate") => {
            parts = vec!["tinkex".into()];
            rest = &prefix[1..];
        }
        Some("self") => rest = &prefix[1..],
        _ => {}
    }
    for p in rest {
        if p == "super" {
            parts.pop();
        } else {
            parts.push(p.clone());
        }
    }
    parts.join("::")
}

fn self_type_name(ty: &syn::Type) -> Option<String> {
    match ty {
        syn::Type::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
        _ => None,
    }
}

fn listing() -> (Vec<String>, Vec<String>) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut c = Crate {
        modules: BTreeMap::new(),
        public: BTreeSet::new(),
    };
    load(&src.join("lib.rs"), "tinkex", &src, true, &mut c);

    // Public items: (public path, item, defining module).
    let mut public: Vec<(String, &Item, String)> = Vec::new();
    for module in &c.public {
        for item in &c.modules[module] {
            if is_test_or_hidden(attrs_of(item)) {
                continue;
            }
            if let Some(name) = name_of(item) {
                public.push((format!("{module}::{name}"), item, module.clone()));
            }
            if let Item::Use(u) = item {
                if !is_pub(&u.vis) {
                    continue;
                }
                for (from, leaf, alias) in use_leaves(&u.tree, module, &[]) {
                    if leaf == "*" {
                        public.push((format!("{module}::*"), item, from));
                        continue;
                    }
                    for (found, defined_in) in find(&c, &from, &leaf, 0) {
                        public.push((format!("{module}::{alias}"), found, defined_in));
                    }
                }
            }
        }
    }

    // Impls anywhere in the crate, by self-type name.
    let mut impls: BTreeMap<String, Vec<&syn::ItemImpl>> = BTreeMap::new();
    for items in c.modules.values() {
        for item in items {
            if let Item::Impl(i) = item {
                if is_test_or_hidden(&i.attrs) {
                    continue;
                }
                if let Some(n) = self_type_name(&i.self_ty) {
                    impls.entry(n).or_default().push(i);
                }
            }
        }
    }

    let mut lines = BTreeSet::new();
    let mut problems = Vec::new();
    for (path, item, defined_in) in &public {
        let line = format!("{path}: {}", signature(item));
        check_no_pinned_types(&c, defined_in, &line, &mut problems);
        lines.insert(line);
        let type_name = match item {
            Item::Struct(s) => Some(s.ident.to_string()),
            Item::Enum(e) => Some(e.ident.to_string()),
            _ => None,
        };
        let Some(type_name) = type_name else { continue };
        for imp in impls.get(&type_name).into_iter().flatten() {
            if let Some((_, trait_path, _)) = &imp.trait_ {
                let line = format!(
                    "{path}: impl{} {} for {}",
                    tidy(imp.generics.to_token_stream().to_string()),
                    tidy(trait_path.to_token_stream().to_string()),
                    tidy(imp.self_ty.to_token_stream().to_string())
                );
                lines.insert(line);
                continue;
            }
            for i in &imp.items {
                if let syn::ImplItem::Fn(f) = i {
                    if is_pub(&f.vis) && !is_test_or_hidden(&f.attrs) {
                        let line = format!(
                            "{path}::{}: pub {}",
                            f.sig.ident,
                            tidy(f.sig.to_token_stream().to_string())
                        );
                        check_no_pinned_types(&c, defined_in, &line, &mut problems);
                        lines.insert(line);
                    }
                }
                if let syn::ImplItem::Const(k) = i {
                    if is_pub(&k.vis) {
                        lines.insert(format!(
                            "{path}::{}: pub const {}: {}",
                            k.ident,
                            k.ident,
                            tidy(k.ty.to_token_stream().to_string())
                        ));
                    }
                }
            }
        }
    }
    (lines.into_iter().collect(), problems)
}

/// No public signature names a type of the pinned pre-release `tokenizers`: neither by path nor
/// by a name its defining file imports from it.
fn check_no_pinned_types(c: &Crate, module: &str, line: &str, problems: &mut Vec<String>) {
    if line.contains("tokenizers::") {
        problems.push(format!("names a `tokenizers` path: {line}"));
    }
    for item in c.modules.get(module).into_iter().flatten() {
        if let Item::Use(u) = item {
            let leaves = use_leaves(&u.tree, module, &[]);
            for (from, _, alias) in leaves {
                let from_pinned = from.starts_with(&format!("{module}::tokenizers"))
                    || from == "tokenizers"
                    || from.starts_with("tokenizers::")
                    || from.contains("::tokenizers::pipeline");
                let word = line
                    .split(|ch: char| !(ch.is_alphanumeric() || ch == '_'))
                    .any(|w| w == alias);
                if from_pinned && alias != "*" && word {
                    problems.push(format!("names `{alias}` (from `tokenizers`): {line}"));
                }
            }
        }
    }
}

fn committed_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("public-api.txt")
}

#[test]
fn public_api_is_the_committed_one() {
    let (lines, _) = listing();
    let mut text = String::from(
        "# The public API of tinkex, one item a line (tests/public_api.rs writes and checks it).\n\
         # Bless a deliberate change: TINKEX_BLESS=1 cargo test -p tinkex --test public_api\n",
    );
    for l in &lines {
        text.push_str(l);
        text.push('\n');
    }
    let path = committed_path();
    if std::env::var_os("TINKEX_BLESS").is_some_and(|v| v == "1") {
        std::fs::write(&path, &text).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    if committed == text {
        return;
    }
    let old: BTreeSet<&str> = committed.lines().filter(|l| !l.starts_with('#')).collect();
    let new: BTreeSet<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
    let mut diff = String::new();
    for l in old.difference(&new) {
        diff.push_str(&format!("- {l}\n"));
    }
    for l in new.difference(&old) {
        diff.push_str(&format!("+ {l}\n"));
    }
    panic!(
        "the public API differs from {} (- committed, + now):\n{diff}\nIf the change is \
         deliberate, bless it: TINKEX_BLESS=1 cargo test -p tinkex --test public_api, and \
         commit the file.",
        path.display()
    );
}

#[test]
fn no_public_signature_names_a_pinned_prerelease_type() {
    let (lines, problems) = listing();
    assert!(!lines.is_empty());
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_listing_sees_the_surface_and_not_the_internals() {
    let (lines, _) = listing();
    let has = |prefix: &str| lines.iter().any(|l| l.starts_with(prefix));
    // Reached through `pub mod`, `pub use` of a private module, and an impl in another file.
    assert!(has("tinkex::Tokenizer::encode: pub fn encode ("));
    assert!(has("tinkex::tokenizer::get_or_load_tokenizer: pub fn"));
    assert!(has("tinkex::cache::TokenizerCache::global: pub fn global"));
    assert!(has("tinkex::hub::CachedRepo: #[non_exhaustive] pub struct"));
    // Not reached: private and pub(crate) modules, pub(crate) items.
    assert!(!has("tinkex::load"));
    assert!(!has("tinkex::source"));
    assert!(!has("tinkex::hub::layout"));
    assert!(!has("tinkex::tokenizer::TokenBytes"));
}
