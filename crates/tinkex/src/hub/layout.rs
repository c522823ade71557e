//! The huggingface_hub cache layout, read and written exactly as the Python library does, so one
//! download serves both:
//!
//! ```text
//! {cache}/models--{org}--{name}/blobs/{etag}                  the file contents
//! {cache}/models--{org}--{name}/blobs/{etag}.incomplete       a download in progress
//! {cache}/models--{org}--{name}/refs/{revision}               the commit hash, no newline
//! {cache}/models--{org}--{name}/snapshots/{commit}/{file}     symlink → ../../blobs/{etag}
//! {cache}/models--{org}--{name}/.no_exist/{commit}/{file}     empty: the repo lacks {file}
//! {cache}/.locks/models--{org}--{name}/{etag}.lock            per-blob lock (flock; holds the pid)
//! ```
//!
//! The etag is the Hub's `X-Linked-Etag` (sha256 of an LFS file) or `ETag` (git blob sha1),
//! without quotes or `W/`. Writers hold the blob's lock while writing `{etag}.incomplete` and
//! renaming it to `{etag}`, so a blob is either absent or complete.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, Write};
use std::path::{Component, Path, PathBuf};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use crate::error::{Error, IoOp, Result};

/// How long [`BlobLock::acquire`] waits for another process's download of the same blob.
pub const LOCK_TIMEOUT: Duration = Duration::from_secs(600);

/// True for a 40-hex-digit commit hash.
pub fn is_commit_hash(s: &str) -> bool {
    s.len() == 40 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// True for an etag that is a sha256 (64 hex digits), i.e. the digest of the contents.
pub fn is_sha256(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// True for a git object id (40 hex digits): the Hub's etag of a file kept in git, not LFS.
pub fn is_git_sha1(s: &str) -> bool {
    is_commit_hash(s)
}

/// Checks a repo id as the Hub does (huggingface_hub's `validate_repo_id`): `name` or
/// `namespace/name`, each made of ASCII letters, digits, `-`, `_` and `.`, starting and ending
/// with a letter, digit or `_`, the name at most 96 characters, no `--` or `..`, not ending in
/// `.git`. A valid id needs no escaping in a URL or the cache's folder names.
pub fn check_repo_id(repo_id: &str) -> Result<()> {
    let invalid = |reason: String| {
        Err(Error::InvalidId {
            what: "repo id",
            value: repo_id.to_owned(),
            reason,
        })
    };
    let parts: Vec<&str> = repo_id.split('/').collect();
    if parts.len() > 2 {
        return invalid("a repo id is `name` or `namespace/name`, with one `/` at most".into());
    }
    for part in &parts {
        if part.is_empty() {
            return invalid("the namespace and the name must not be empty".into());
        }
        if let Some(c) = part
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        {
            return invalid(format!(
                "`{c}` is not allowed (only letters, digits, `-`, `_` and `.`)"
            ));
        }
        let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
        if !part.starts_with(word) || !part.ends_with(word) {
            return invalid(format!(
                "`{part}` must start and end with a letter, digit or `_`"
            ));
        }
    }
    let name = parts[parts.len() - 1];
    if name.len() > 96 {
        return invalid(format!(
            "the name is {} characters, at most 96 are allowed",
            name.len()
        ));
    }
    if repo_id.contains("--") || repo_id.contains("..") {
        return invalid("`--` and `..` are not allowed".into());
    }
    if repo_id.ends_with(".git") {
        return invalid("a repo id does not end in `.git`".into());
    }
    Ok(())
}

/// `models--{org}--{name}` for repo id `org/name`.
pub fn repo_folder_name(repo_id: &str) -> String {
    format!("models--{}", repo_id.replace('/', "--"))
}

/// The repo id of a `models--{org}--{name}` folder, if it is one.
pub fn repo_id_of_folder(folder: &str) -> Option<String> {
    let rest = folder.strip_prefix("models--")?;
    (!rest.is_empty()).then(|| rest.split("--").collect::<Vec<_>>().join("/"))
}

/// A relative path made only of normal components (no `..`, no root): safe to join.
fn is_plain_relative(s: &str) -> bool {
    !s.is_empty()
        && !s.contains('\\')
        && Path::new(s)
            .components()
            .all(|c| matches!(c, Component::Normal(_)))
}

/// Checks a revision before it becomes a path under `refs/`.
pub fn check_revision(revision: &str) -> Result<()> {
    if is_plain_relative(revision) && !revision.chars().any(char::is_control) {
        Ok(())
    } else {
        Err(Error::InvalidInput(format!(
            "revision `{revision}` is not a branch, tag or commit name"
        )))
    }
}

/// One repo's folder in a hub cache.
#[derive(Debug, Clone)]
pub struct RepoDir {
    cache: PathBuf,
    folder: String,
    dir: PathBuf,
}

fn io_err(op: IoOp, path: &Path) -> impl FnOnce(io::Error) -> Error + '_ {
    move |e| Error::io_op(op, path, e)
}

fn create_parent(path: &Path) -> Result<()> {
    match path.parent() {
        Some(p) => fs::create_dir_all(p).map_err(io_err(IoOp::Create, p)),
        None => Ok(()),
    }
}

impl RepoDir {
    /// The folder of `repo_id` in `cache` (it need not exist).
    pub fn new(cache: &Path, repo_id: &str) -> RepoDir {
        let folder = repo_folder_name(repo_id);
        RepoDir {
            cache: cache.to_path_buf(),
            dir: cache.join(&folder),
            folder,
        }
    }

    /// `{cache}/models--{org}--{name}`.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// `blobs/{etag}`.
    pub fn blob(&self, etag: &str) -> PathBuf {
        self.dir.join("blobs").join(etag)
    }

    /// `blobs/{etag}.incomplete`.
    pub fn incomplete(&self, etag: &str) -> PathBuf {
        self.dir.join("blobs").join(format!("{etag}.incomplete"))
    }

    /// `{cache}/.locks/models--{org}--{name}/{etag}.lock`.
    pub fn lock_path(&self, etag: &str) -> PathBuf {
        self.cache
            .join(".locks")
            .join(&self.folder)
            .join(format!("{etag}.lock"))
    }

    /// `snapshots/{commit}`.
    pub fn snapshot(&self, commit: &str) -> PathBuf {
        self.dir.join("snapshots").join(commit)
    }

    /// `snapshots/{commit}/{file}`.
    pub fn pointer(&self, commit: &str, file: &str) -> PathBuf {
        self.snapshot(commit).join(file)
    }

    /// `.no_exist/{commit}/{file}`.
    pub fn no_exist(&self, commit: &str, file: &str) -> PathBuf {
        self.dir.join(".no_exist").join(commit).join(file)
    }

    /// The commit `revision` refers to in the cache: the revision itself when it is a commit
    /// hash, else the contents of `refs/{revision}`.
    pub fn commit_for(&self, revision: &str) -> Option<String> {
        if is_commit_hash(revision) {
            return Some(revision.to_owned());
        }
        if check_revision(revision).is_err() {
            return None;
        }
        let r = fs::read_to_string(self.dir.join("refs").join(revision)).ok()?;
        let r = r.trim();
        is_commit_hash(r).then(|| r.to_owned())
    }

    /// Records that `revision` is at `commit` (nothing to do when the revision is the commit, or
    /// the ref already says so). Written atomically.
    pub fn write_ref(&self, revision: &str, commit: &str) -> Result<()> {
        check_revision(revision)?;
        if revision == commit || self.commit_for(revision).as_deref() == Some(commit) {
            return Ok(());
        }
        let path = self.dir.join("refs").join(revision);
        create_parent(&path)?;
        crate::fs::write_atomic(&path, |w| w.write_all(commit.as_bytes()))
    }

    /// Points `snapshots/{commit}/{file}` at `blobs/{etag}` with a relative symlink, as
    /// huggingface_hub does (`../../blobs/{etag}`, one more `../` per directory in `file`).
    /// Replaces an existing pointer atomically. Where a symlink cannot be made (Windows without
    /// the privilege, some network file systems) the blob is copied instead, as
    /// huggingface_hub does.
    pub fn link(&self, commit: &str, file: &str, etag: &str) -> Result<()> {
        self.link_with(commit, file, etag, symlink)
    }

    fn link_with(
        &self,
        commit: &str,
        file: &str,
        etag: &str,
        make_symlink: impl Fn(&Path, &Path) -> io::Result<()>,
    ) -> Result<()> {
        let pointer = self.pointer(commit, file);
        create_parent(&pointer)?;
        let depth = Path::new(file).components().count() + 1; // + snapshots/{commit}
        let mut target = PathBuf::new();
        for _ in 0..depth {
            target.push("..");
        }
        target.push("blobs");
        target.push(etag);
        let tmp = crate::fs::temp_sibling(&pointer);
        if make_symlink(&target, &tmp).is_err() {
            let blob = self.blob(etag);
            fs::copy(&blob, &tmp).map_err(|e| {
                let _ = fs::remove_file(&tmp);
                Error::io_op(IoOp::Create, &tmp, e)
            })?;
        }
        crate::fs::persist(&tmp, &pointer)
    }

    /// Records that the repo has no `file` at `commit`.
    pub fn mark_missing(&self, commit: &str, file: &str) -> Result<()> {
        let path = self.no_exist(commit, file);
        create_parent(&path)?;
        File::create(&path)
            .map(drop)
            .map_err(io_err(IoOp::Create, &path))
    }

    /// Whether the cache knows `file` is absent at `commit`.
    pub fn is_missing(&self, commit: &str, file: &str) -> bool {
        self.no_exist(commit, file).is_file()
    }
}

#[cfg(unix)]
fn symlink(target: &Path, link: &Path) -> io::Result<()> {
    std::os::unix::fs::symlink(target, link)
}

#[cfg(windows)]
fn symlink(target: &Path, link: &Path) -> io::Result<()> {
    std::os::windows::fs::symlink_file(target, link)
}

/// An exclusive lock on a blob (an `flock` on its `.lock` file, the lock huggingface_hub's
/// `filelock` takes), released on drop. Two processes — tinkex or Python — downloading the same
/// blob take turns; the second finds the blob complete. The holder writes `pid {pid}` into the
/// file so a waiter that gives up can say who holds it.
#[derive(Debug)]
pub struct BlobLock {
    _file: File,
}

impl BlobLock {
    /// Waits up to [`LOCK_TIMEOUT`] for the lock at `path`.
    pub fn acquire(path: &Path) -> Result<BlobLock> {
        Self::acquire_within(path, LOCK_TIMEOUT)
    }

    /// Waits up to `timeout` for the lock at `path`; then [`Error::Locked`] naming the holder.
    pub fn acquire_within(path: &Path, timeout: Duration) -> Result<BlobLock> {
        create_parent(path)?;
        let mut file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(path)
            .map_err(io_err(IoOp::Create, path))?;
        let started = Instant::now();
        let mut pause = Duration::from_millis(10);
        loop {
            match file.try_lock() {
                Ok(()) => break,
                Err(fs::TryLockError::WouldBlock) => {}
                Err(fs::TryLockError::Error(e)) => return Err(Error::io_op(IoOp::Lock, path, e)),
            }
            let waited = started.elapsed();
            if waited >= timeout {
                let holder = fs::read_to_string(path)
                    .ok()
                    .map(|s| s.trim().to_owned())
                    .filter(|s| !s.is_empty());
                return Err(Error::Locked {
                    path: path.to_path_buf(),
                    holder,
                    waited,
                });
            }
            std::thread::sleep(pause.min(timeout - waited));
            pause = (pause * 2).min(Duration::from_millis(500));
        }
        // Best effort: the lock holds whether or not the note is written.
        let note = format!("pid {}", std::process::id());
        if file.set_len(0).is_ok() && file.rewind().is_ok() {
            let _ = file.write_all(note.as_bytes());
        }
        Ok(BlobLock { _file: file })
    }
}

/// The sha256 of a file, as lowercase hex.
pub fn sha256_file(path: &Path) -> Result<String> {
    let mut h = Sha256::new();
    digest_file(path, |b| h.update(b))?;
    Ok(crate::fs::hex(&h.finalize()))
}

/// The git blob id of a file: the sha1 of `blob {len}\0` and the contents, as lowercase hex
/// (the Hub's etag of a file kept in git).
pub fn git_sha1_file(path: &Path) -> Result<String> {
    let len = fs::metadata(path).map_err(io_err(IoOp::Read, path))?.len();
    let mut h = sha1::Sha1::new();
    h.update(format!("blob {len}\0").as_bytes());
    digest_file(path, |b| h.update(b))?;
    Ok(crate::fs::hex(&h.finalize()))
}

fn digest_file(path: &Path, mut update: impl FnMut(&[u8])) -> Result<()> {
    let mut f = File::open(path).map_err(io_err(IoOp::Read, path))?;
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf).map_err(io_err(IoOp::Read, path))?;
        if n == 0 {
            return Ok(());
        }
        update(&buf[..n]);
    }
}

/// Checks a snapshot file read back from the cache: when it is a symlink to a blob named by a
/// sha256, the contents must have that digest. `Err` says what is wrong.
pub fn verify_pointer(pointer: &Path) -> std::result::Result<(), String> {
    let Ok(target) = fs::read_link(pointer) else {
        return Ok(()); // a plain file (copied cache, or no symlinks): nothing to check against
    };
    let Some(etag) = target.file_name().and_then(|n| n.to_str()) else {
        return Ok(());
    };
    if !is_sha256(etag) {
        return Ok(());
    }
    match sha256_file(pointer) {
        Ok(d) if d.eq_ignore_ascii_case(etag) => Ok(()),
        Ok(d) => Err(format!(
            "{} has sha256 {d}, not the {etag} it is named by (truncated or corrupt)",
            pointer.display()
        )),
        Err(e) => Err(e.to_string()),
    }
}

/// One file of a cached snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CachedFile {
    /// The path inside the repo, `/`-separated.
    pub name: String,
    /// Its size in bytes (of the blob it points to); 0 for a dangling pointer.
    pub size: u64,
    /// The blob (etag) it points to, when it is a symlink.
    pub blob: Option<String>,
}

/// One snapshot (commit) of a cached repo.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CachedSnapshot {
    /// The commit hash.
    pub commit: String,
    /// Its files, sorted by name.
    pub files: Vec<CachedFile>,
}

/// One model repo in a hub cache.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CachedRepo {
    /// The repo id, `org/name`.
    pub repo_id: String,
    /// Its folder.
    pub path: PathBuf,
    /// Bytes of its blobs (each counted once).
    pub size: u64,
    /// `(revision, commit)` pairs from `refs/`, sorted.
    pub refs: Vec<(String, String)>,
    /// Its snapshots, sorted by commit.
    pub snapshots: Vec<CachedSnapshot>,
}

fn walk_files(dir: &Path, prefix: &str, out: &mut Vec<(String, PathBuf)>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let rel = if prefix.is_empty() {
            name
        } else {
            format!("{prefix}/{name}")
        };
        let path = e.path();
        match e.file_type() {
            Ok(t) if t.is_dir() => walk_files(&path, &rel, out),
            Ok(_) => out.push((rel, path)),
            Err(_) => {}
        }
    }
}

/// Every model repo in the hub cache `cache`, sorted by repo id (an absent cache is empty).
pub fn list(cache: &Path) -> Result<Vec<CachedRepo>> {
    let entries = match fs::read_dir(cache) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io(cache, e)),
    };
    let mut repos = Vec::new();
    for entry in entries.flatten() {
        let folder = entry.file_name().to_string_lossy().into_owned();
        let Some(repo_id) = repo_id_of_folder(&folder) else {
            continue;
        };
        let dir = entry.path();
        if !dir.is_dir() {
            continue;
        }
        let size = fs::read_dir(dir.join("blobs"))
            .map(|it| {
                it.flatten()
                    .filter(|e| !e.file_name().to_string_lossy().ends_with(".incomplete"))
                    .filter_map(|e| e.metadata().ok())
                    .filter(|m| m.is_file())
                    .map(|m| m.len())
                    .sum()
            })
            .unwrap_or(0);
        let mut refs = Vec::new();
        let mut ref_files = Vec::new();
        walk_files(&dir.join("refs"), "", &mut ref_files);
        for (name, path) in ref_files {
            if let Ok(c) = fs::read_to_string(&path) {
                refs.push((name, c.trim().to_owned()));
            }
        }
        refs.sort();
        let mut snapshots = Vec::new();
        if let Ok(it) = fs::read_dir(dir.join("snapshots")) {
            for s in it.flatten() {
                let commit = s.file_name().to_string_lossy().into_owned();
                let mut files = Vec::new();
                walk_files(&s.path(), "", &mut files);
                let mut files: Vec<CachedFile> = files
                    .into_iter()
                    .map(|(name, path)| CachedFile {
                        name,
                        size: fs::metadata(&path).map(|m| m.len()).unwrap_or(0),
                        blob: fs::read_link(&path)
                            .ok()
                            .and_then(|t| t.file_name().map(|n| n.to_string_lossy().into_owned())),
                    })
                    .collect();
                files.sort_by(|a, b| a.name.cmp(&b.name));
                snapshots.push(CachedSnapshot { commit, files });
            }
        }
        snapshots.sort_by(|a, b| a.commit.cmp(&b.commit));
        repos.push(CachedRepo {
            repo_id,
            path: dir,
            size,
            refs,
            snapshots,
        });
    }
    repos.sort_by(|a, b| a.repo_id.cmp(&b.repo_id));
    Ok(repos)
}

/// What [`remove`](crate::hub::remove) removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Removed {
    /// Snapshot pointers and `.no_exist` markers removed.
    pub pointers: usize,
    /// Blobs removed (those no remaining pointer used).
    pub blobs: usize,
    /// Bytes freed by removing blobs.
    pub bytes: u64,
    /// Refs removed (their snapshot became empty).
    pub refs: usize,
}

fn remove_empty_dirs(dir: &Path) {
    // Children first; `remove_dir` only succeeds on empty directories.
    if let Ok(it) = fs::read_dir(dir) {
        for e in it.flatten() {
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                remove_empty_dirs(&e.path());
            }
        }
    }
    let _ = fs::remove_dir(dir);
}

/// Removes `files` (e.g. `tokenizer.json`) of `repo_id` from every snapshot, with their
/// `.no_exist` markers, the blobs no other pointer uses (each under its lock), the refs whose
/// snapshot became empty, and the folders left empty. Other files of the repo (weights another
/// program downloaded) are left alone.
pub fn remove_files(cache: &Path, repo_id: &str, files: &[&str]) -> Result<Removed> {
    let repo = RepoDir::new(cache, repo_id);
    let mut removed = Removed::default();
    if !repo.path().is_dir() {
        return Ok(removed);
    }
    let mut blobs = Vec::new();
    for base in ["snapshots", ".no_exist"] {
        let Ok(it) = fs::read_dir(repo.path().join(base)) else {
            continue;
        };
        for s in it.flatten() {
            for file in files {
                let p = s.path().join(file);
                if fs::symlink_metadata(&p).is_err() {
                    continue;
                }
                if let Some(etag) = fs::read_link(&p)
                    .ok()
                    .and_then(|t| t.file_name().map(|n| n.to_string_lossy().into_owned()))
                {
                    blobs.push(etag);
                }
                fs::remove_file(&p).map_err(io_err(IoOp::Remove, &p))?;
                removed.pointers += 1;
            }
        }
    }
    // Blobs still pointed at by some other snapshot file stay.
    let mut remaining = Vec::new();
    walk_files(&repo.path().join("snapshots"), "", &mut remaining);
    let in_use: Vec<String> = remaining
        .iter()
        .filter_map(|(_, p)| fs::read_link(p).ok())
        .filter_map(|t| t.file_name().map(|n| n.to_string_lossy().into_owned()))
        .collect();
    blobs.sort();
    blobs.dedup();
    for etag in blobs.iter().filter(|b| !in_use.contains(b)) {
        if check_revision(etag).is_err() {
            continue; // not a plain name: not ours to delete
        }
        let lock_path = repo.lock_path(etag);
        let lock = BlobLock::acquire(&lock_path)?;
        let blob = repo.blob(etag);
        if let Ok(m) = fs::metadata(&blob) {
            fs::remove_file(&blob).map_err(io_err(IoOp::Remove, &blob))?;
            removed.blobs += 1;
            removed.bytes += m.len();
        }
        let _ = fs::remove_file(repo.incomplete(etag));
        // The blob is gone: its lock file goes too (removed while held, so a process that
        // opens it afterwards makes a new one and finds no blob).
        let _ = fs::remove_file(&lock_path);
        drop(lock);
    }
    if let Some(locks) = repo.lock_path("x").parent() {
        let _ = fs::remove_dir(locks);
    }
    remove_empty_dirs(&repo.path().join("snapshots"));
    remove_empty_dirs(&repo.path().join(".no_exist"));
    let mut refs = Vec::new();
    walk_files(&repo.path().join("refs"), "", &mut refs);
    for (name, path) in refs {
        let commit = fs::read_to_string(&path).unwrap_or_default();
        if !repo.snapshot(commit.trim()).is_dir() && check_revision(&name).is_ok() {
            fs::remove_file(&path).map_err(io_err(IoOp::Remove, &path))?;
            removed.refs += 1;
        }
    }
    remove_empty_dirs(repo.path());
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(repo_folder_name("Qwen/Qwen3-8B"), "models--Qwen--Qwen3-8B");
        assert_eq!(
            repo_id_of_folder("models--Qwen--Qwen3-8B").as_deref(),
            Some("Qwen/Qwen3-8B")
        );
        assert_eq!(repo_id_of_folder("models--gpt2").as_deref(), Some("gpt2"));
        assert_eq!(repo_id_of_folder("datasets--x--y"), None);
        assert!(check_revision("refs/pr/1").is_ok());
        assert!(check_revision("../x").is_err());
        assert!(check_revision("/abs").is_err());
        assert!(check_revision("a/../b").is_err());
        assert!(check_revision("").is_err());
    }

    #[cfg(unix)]
    #[test]
    fn link_is_relative_like_huggingface_hub() {
        let tmp = tempfile::tempdir().unwrap();
        let repo = RepoDir::new(tmp.path(), "a/b");
        let commit = "0123456789abcdef0123456789abcdef01234567";
        repo.link(commit, "tokenizer.json", "e1").unwrap();
        repo.link(commit, "sub/x.json", "e2").unwrap();
        assert_eq!(
            fs::read_link(repo.pointer(commit, "tokenizer.json")).unwrap(),
            Path::new("../../blobs/e1")
        );
        assert_eq!(
            fs::read_link(repo.pointer(commit, "sub/x.json")).unwrap(),
            Path::new("../../../blobs/e2")
        );
        repo.write_ref("main", commit).unwrap();
        assert_eq!(
            fs::read_to_string(repo.path().join("refs/main")).unwrap(),
            commit
        );
        assert_eq!(repo.commit_for("main").as_deref(), Some(commit));
    }

    #[test]
    fn repo_ids_follow_the_hubs_rules() {
        for ok in [
            "gpt2",
            "Qwen/Qwen3-8B",
            "thinkingmachineslabinc/meta-llama-3-instruct-tokenizer",
            "a_b/c.d-e",
            &"x".repeat(96),
        ] {
            assert!(check_repo_id(ok).is_ok(), "{ok}");
        }
        let too_long = format!("org/{}", "x".repeat(97));
        for (bad, why) in [
            ("a#b/c?d", "`#` is not allowed"),
            ("a/b/c", "one `/` at most"),
            ("a b", "` ` is not allowed"),
            ("/x", "must not be empty"),
            ("x/", "must not be empty"),
            ("-x/y", "must start and end"),
            ("x/y.", "must start and end"),
            ("a--b/c", "`--`"),
            ("a/b..c", "`..`"),
            ("a/b.git", "`.git`"),
            (too_long.as_str(), "at most 96"),
            ("", "must not be empty"),
        ] {
            match check_repo_id(bad) {
                Err(Error::InvalidId { what, reason, .. }) => {
                    assert_eq!(what, "repo id");
                    assert!(reason.contains(why), "{bad}: {reason}");
                }
                other => panic!("{bad}: {other:?}"),
            }
        }
    }

    #[test]
    fn a_held_lock_times_out_naming_its_holder() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join(".locks/models--a--b/e1.lock");
        let held = BlobLock::acquire_within(&path, Duration::from_secs(1)).unwrap();
        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            format!("pid {}", std::process::id())
        );
        // A second open file description conflicts with the first, even in one process.
        match BlobLock::acquire_within(&path, Duration::from_millis(50)) {
            Err(Error::Locked { holder, waited, .. }) => {
                assert_eq!(holder, Some(format!("pid {}", std::process::id())));
                assert!(waited >= Duration::from_millis(50));
            }
            other => panic!("{other:?}"),
        }
        drop(held);
        assert!(BlobLock::acquire_within(&path, Duration::from_millis(50)).is_ok());
    }

    #[test]
    fn without_symlinks_the_blob_is_copied() {
        let tmp = tempfile::tempdir().unwrap();
        let repo = RepoDir::new(tmp.path(), "a/b");
        let commit = "0123456789abcdef0123456789abcdef01234567";
        fs::create_dir_all(repo.blob("e1").parent().unwrap()).unwrap();
        fs::write(repo.blob("e1"), b"contents").unwrap();
        repo.link_with(commit, "sub/x.json", "e1", |_, _| {
            Err(io::Error::from(io::ErrorKind::PermissionDenied))
        })
        .unwrap();
        let pointer = repo.pointer(commit, "sub/x.json");
        assert!(fs::read_link(&pointer).is_err(), "a plain file");
        assert_eq!(fs::read(&pointer).unwrap(), b"contents");
        // No temporary file left beside it.
        assert_eq!(fs::read_dir(pointer.parent().unwrap()).unwrap().count(), 1);
    }

    #[test]
    fn git_blob_ids_match_git() {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().join("f");
        // `printf 'hello\n' | git hash-object --stdin`
        fs::write(&p, b"hello\n").unwrap();
        assert_eq!(
            git_sha1_file(&p).unwrap(),
            "ce013625030ba8dba906f756967f9e9ca394464a"
        );
        // The empty blob.
        fs::write(&p, b"").unwrap();
        assert_eq!(
            git_sha1_file(&p).unwrap(),
            "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"
        );
    }

    #[cfg(unix)]
    #[test]
    fn removing_a_blob_removes_its_lock_file() {
        let tmp = tempfile::tempdir().unwrap();
        let repo = RepoDir::new(tmp.path(), "a/b");
        let commit = "0123456789abcdef0123456789abcdef01234567";
        fs::create_dir_all(repo.blob("e1").parent().unwrap()).unwrap();
        fs::write(repo.blob("e1"), b"{}").unwrap();
        drop(BlobLock::acquire(&repo.lock_path("e1")).unwrap());
        repo.link(commit, "tokenizer.json", "e1").unwrap();
        let removed = remove_files(tmp.path(), "a/b", &["tokenizer.json"]).unwrap();
        assert_eq!((removed.pointers, removed.blobs), (1, 1));
        assert!(!repo.lock_path("e1").exists());
        assert!(!tmp.path().join(".locks/models--a--b").exists());
    }
}
