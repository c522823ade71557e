//! A Hugging Face Hub stand-in on 127.0.0.1 for the tests: it serves repos of fixture files with
//! the Hub's headers and can be told to misbehave.
//!
//! `HEAD|GET /{repo}/resolve/{revision}/{file}` answers like huggingface.co:
//! - an LFS file: `302` to `/cdn/{sha256}` (an absolute URL, like the Hub's CDN redirect) with
//!   `X-Repo-Commit`, `X-Linked-Etag: "{sha256}"`, `X-Linked-Size`;
//! - a plain file: `200` with `X-Repo-Commit`, `ETag: "{40 hex}"`, `Content-Length`;
//! - no repo: `401` + `X-Error-Code: RepoNotFound` (what the Hub tells an anonymous client);
//!   a gated repo without the right `Authorization: Bearer`: `401`/`403` + `GatedRepo`;
//!   no revision: `404` + `RevisionNotFound`; no file: `404` + `EntryNotFound` + the commit.
//!
//! `GET /cdn/{sha256}` serves the bytes, honouring `Range: bytes=N-` with `206`.
//! Faults are queued with [`HubServer::fault`] and each is used by one matching request.
use crate::http;

use std::collections::HashMap;
use std::io::{BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sha2::{Digest, Sha256};

/// What to do to one request.
#[derive(Debug, Clone)]
pub enum Fault {
    /// Answer with this status (and an empty body).
    Status(u16),
    /// `429` with `Retry-After: {0}`.
    TooMany(u32),
    /// Send the headers and this many bytes of the body, then close the connection.
    DropAfter(usize),
    /// Wait this long before answering.
    Delay(Duration),
    /// Send the body slowly: this long between 1 KiB chunks.
    SlowBody(Duration),
    /// Ignore `Range` (answer `200` with the whole body).
    NoRange,
    /// Send a body of the right length with one byte changed.
    Corrupt,
}

/// One request, as the server saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub range: Option<String>,
    pub auth: Option<String>,
}

#[derive(Debug, Clone)]
pub struct RepoSpec {
    pub files: Vec<(String, Vec<u8>, bool)>,
    pub commit: String,
    pub branches: Vec<String>,
    /// Requests need `Authorization: Bearer {token}`.
    pub gated: Option<String>,
}

#[derive(Default)]
struct State {
    repos: HashMap<String, RepoSpec>,
    faults: Vec<(String, String, Fault)>,
    log: Vec<Seen>,
}

pub struct HubServer {
    pub url: String,
    state: Arc<Mutex<State>>,
}

pub fn sha256_hex(b: &[u8]) -> String {
    Sha256::digest(b)
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect()
}

/// The etag of a plain (non-LFS) file, as the real Hub gives it: the git blob sha1
/// (`sha1("blob {len}\0" + contents)`), which clients check the download against.
pub fn plain_etag(b: &[u8]) -> String {
    use sha1::Digest as _;
    let mut h = sha1::Sha1::new();
    h.update(format!("blob {}\0", b.len()).as_bytes());
    h.update(b);
    h.finalize().iter().map(|x| format!("{x:02x}")).collect()
}

impl RepoSpec {
    /// `tokenizer.json` (served as LFS) and, if given, `tokenizer_config.json` (plain), on `main`.
    pub fn tokenizer(tokenizer_json: &[u8], config: Option<&[u8]>, commit: &str) -> Self {
        let mut files = vec![("tokenizer.json".to_owned(), tokenizer_json.to_vec(), true)];
        if let Some(c) = config {
            files.push(("tokenizer_config.json".to_owned(), c.to_vec(), false));
        }
        RepoSpec {
            files,
            commit: commit.to_owned(),
            branches: vec!["main".to_owned()],
            gated: None,
        }
    }
}

impl HubServer {
    pub fn start() -> HubServer {
        // Two listeners: the Hub, and the "CDN" its LFS redirects point at (another origin, as
        // on huggingface.co, so the token must not follow the redirect).
        let hub = TcpListener::bind("127.0.0.1:0").expect("bind");
        // huggingface_hub compares host names, not ports: the CDN is 127.0.0.2 (all of 127/8 is
        // loopback on Linux), else `localhost`.
        let (cdn, cdn_url) = match TcpListener::bind("127.0.0.2:0") {
            Ok(l) => {
                let url = format!("http://{}", l.local_addr().unwrap());
                (l, url)
            }
            Err(_) => {
                let l = TcpListener::bind("127.0.0.1:0").expect("bind");
                let url = format!("http://localhost:{}", l.local_addr().unwrap().port());
                (l, url)
            }
        };
        let url = format!("http://{}", hub.local_addr().unwrap());
        let state = Arc::new(Mutex::new(State::default()));
        for listener in [hub, cdn] {
            let st = state.clone();
            let cdn_url = cdn_url.clone();
            std::thread::spawn(move || {
                for conn in listener.incoming() {
                    let Ok(conn) = conn else { continue };
                    let st = st.clone();
                    let cdn_url = cdn_url.clone();
                    std::thread::spawn(move || {
                        let _ = handle(conn, &st, &cdn_url);
                    });
                }
            });
        }
        HubServer { url, state }
    }

    pub fn add_repo(&self, id: &str, spec: RepoSpec) {
        self.state.lock().unwrap().repos.insert(id.to_owned(), spec);
    }

    /// The next `method` request whose path contains `path_part` gets `fault` ("" = any method).
    pub fn fault(&self, method: &str, path_part: &str, fault: Fault) {
        self.state
            .lock()
            .unwrap()
            .faults
            .push((method.to_owned(), path_part.to_owned(), fault));
    }

    pub fn log(&self) -> Vec<Seen> {
        self.state.lock().unwrap().log.clone()
    }

    pub fn clear_log(&self) {
        self.state.lock().unwrap().log.clear();
    }

    pub fn unused_faults(&self) -> usize {
        self.state.lock().unwrap().faults.len()
    }
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let hex = (b[i] == b'%' && i + 2 < b.len())
            .then(|| std::str::from_utf8(&b[i + 1..i + 3]).ok())
            .flatten()
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match hex {
            Some(v) => {
                out.push(v);
                i += 3;
            }
            None => {
                out.push(b[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

fn reply(status: u16) -> Reply {
    Reply {
        status,
        headers: Vec::new(),
        body: Vec::new(),
    }
}

impl Reply {
    fn h(mut self, k: &str, v: impl Into<String>) -> Self {
        self.headers.push((k.to_owned(), v.into()));
        self
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        206 => "Partial Content",
        302 => "Found",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        416 => "Range Not Satisfiable",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Whatever",
    }
}

fn handle(conn: TcpStream, state: &Mutex<State>, base: &str) -> std::io::Result<()> {
    let mut reader = BufReader::new(conn.try_clone()?);
    let http::Head {
        method,
        path,
        headers,
    } = http::read_head(&mut reader)?;
    let seen = Seen {
        method: method.clone(),
        path: path.clone(),
        range: headers.get("range").cloned(),
        auth: headers.get("authorization").cloned(),
    };
    let (fault, reply) = {
        let mut st = state.lock().unwrap();
        st.log.push(seen.clone());
        let i = st
            .faults
            .iter()
            .position(|(m, p, _)| (m.is_empty() || *m == method) && path.contains(p.as_str()));
        let fault = i.map(|i| st.faults.remove(i).2);
        let reply = route(&st, &seen, base, fault.as_ref());
        (fault, reply)
    };
    let mut out = conn;
    let mut reply = reply;
    let mut drop_after = None;
    let mut slow = None;
    match &fault {
        Some(Fault::Status(s)) => reply = reply_status(*s),
        Some(Fault::TooMany(secs)) => reply = reply_status(429).h("Retry-After", secs.to_string()),
        Some(Fault::Delay(d)) => std::thread::sleep(*d),
        Some(Fault::DropAfter(n)) => drop_after = Some(*n),
        Some(Fault::SlowBody(d)) => slow = Some(*d),
        Some(Fault::Corrupt) => {
            if let Some(b) = reply.body.last_mut() {
                *b ^= 0x20;
            }
        }
        Some(Fault::NoRange) | None => {}
    }
    let mut head = format!("HTTP/1.1 {} {}\r\n", reply.status, reason(reply.status));
    let has_len = reply
        .headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("content-length"));
    for (k, v) in &reply.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    if !has_len {
        head.push_str(&format!("Content-Length: {}\r\n", reply.body.len()));
    }
    head.push_str("Connection: close\r\n\r\n");
    out.write_all(head.as_bytes())?;
    if method == "HEAD" {
        return out.flush();
    }
    let body = match drop_after {
        Some(n) => &reply.body[..n.min(reply.body.len())],
        None => &reply.body[..],
    };
    match slow {
        Some(d) => {
            for chunk in body.chunks(1024) {
                out.write_all(chunk)?;
                out.flush()?;
                std::thread::sleep(d);
            }
        }
        None => out.write_all(body)?,
    }
    out.flush()?;
    if drop_after.is_some() {
        let _ = out.shutdown(std::net::Shutdown::Both);
    }
    Ok(())
}

fn reply_status(s: u16) -> Reply {
    reply(s)
}

fn route(st: &State, req: &Seen, base: &str, fault: Option<&Fault>) -> Reply {
    let path = req.path.split('?').next().unwrap_or("");
    if let Some(sha) = path.strip_prefix("/cdn/") {
        for repo in st.repos.values() {
            for (_, bytes, _) in &repo.files {
                if sha256_hex(bytes) == sha {
                    return serve_bytes(bytes, req, fault);
                }
            }
        }
        return reply(404);
    }
    let Some((repo_id, rest)) = path.trim_start_matches('/').split_once("/resolve/") else {
        return reply(404);
    };
    let Some((revision, file)) = rest.split_once('/') else {
        return reply(404);
    };
    let revision = percent_decode(revision);
    let Some(repo) = st.repos.get(repo_id) else {
        return reply(401)
            .h("X-Error-Code", "RepoNotFound")
            .h("X-Error-Message", "Repository not found");
    };
    if let Some(token) = &repo.gated {
        match &req.auth {
            Some(a) if *a == format!("Bearer {token}") => {}
            Some(_) => {
                return reply(403)
                    .h("X-Error-Code", "GatedRepo")
                    .h("X-Error-Message", "Access to this gated repo is restricted")
            }
            None => {
                return reply(401)
                    .h("X-Error-Code", "GatedRepo")
                    .h("X-Error-Message", "Access to this gated repo is restricted")
            }
        }
    }
    if revision != repo.commit && !repo.branches.contains(&revision) {
        return reply(404)
            .h("X-Error-Code", "RevisionNotFound")
            .h("X-Error-Message", "Invalid rev id");
    }
    let Some((_, bytes, lfs)) = repo.files.iter().find(|(n, _, _)| n == file) else {
        return reply(404)
            .h("X-Error-Code", "EntryNotFound")
            .h("X-Error-Message", "Entry not found")
            .h("X-Repo-Commit", repo.commit.clone());
    };
    if *lfs {
        let sha = sha256_hex(bytes);
        reply(302)
            .h("Location", format!("{base}/cdn/{sha}"))
            .h("X-Repo-Commit", repo.commit.clone())
            .h("X-Linked-Etag", format!("\"{sha}\""))
            .h("X-Linked-Size", bytes.len().to_string())
            .h("ETag", "\"not-the-blob\"")
    } else {
        let mut r = serve_bytes(bytes, req, fault);
        r.headers
            .push(("X-Repo-Commit".into(), repo.commit.clone()));
        r.headers
            .push(("ETag".into(), format!("\"{}\"", plain_etag(bytes))));
        r
    }
}

fn serve_bytes(bytes: &[u8], req: &Seen, fault: Option<&Fault>) -> Reply {
    let from = req
        .range
        .as_deref()
        .filter(|_| !matches!(fault, Some(Fault::NoRange)))
        .and_then(|r| r.strip_prefix("bytes="))
        .and_then(|r| r.strip_suffix('-'))
        .and_then(|n| n.parse::<usize>().ok());
    match from {
        Some(n) if n >= bytes.len() => reply(416),
        Some(n) => {
            let mut r = reply(206).h(
                "Content-Range",
                format!("bytes {n}-{}/{}", bytes.len() - 1, bytes.len()),
            );
            r.body = bytes[n..].to_vec();
            r
        }
        None => {
            let mut r = reply(200);
            r.body = bytes.to_vec();
            r
        }
    }
}
