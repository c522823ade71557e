//! What the loopback test servers share: reading an HTTP/1.1 request head.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::net::TcpStream;

/// The request line's method and path, and the headers (names lower-cased).
pub struct Head {
    pub method: String,
    pub path: String,
    pub headers: HashMap<String, String>,
}

/// Reads the request line and headers, up to the blank line.
pub fn read_head(reader: &mut BufReader<TcpStream>) -> std::io::Result<Head> {
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("").to_owned();
    let path = parts.next().unwrap_or("").to_owned();
    let mut headers = HashMap::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 || h.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
        }
    }
    Ok(Head {
        method,
        path,
        headers,
    })
}
