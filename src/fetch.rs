//! A minimal, bounded HTTP/1.1 GET over plain TCP: enough to fetch a trusted issuer's JWKS on
//! loopback and for `mockidp health`, without an HTTP client dependency.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

/// Largest response read.
const MAX_RESPONSE: u64 = 1024 * 1024;

/// GETs an `http://` URL within `timeout` overall (connect, send and every read together);
/// returns the status and the body.
pub fn get(url: &str, timeout: Duration) -> Result<(u16, String), String> {
    let deadline = Instant::now() + timeout;
    let left = || {
        deadline
            .checked_duration_since(Instant::now())
            .filter(|d| !d.is_zero())
            .ok_or_else(|| format!("no complete answer within {timeout:?}"))
    };
    let rest = url
        .strip_prefix("http://")
        .ok_or("only http:// URLs can be fetched")?;
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let path = if path.is_empty() { "/" } else { path };
    let authority = if host.contains(':') {
        host.to_string()
    } else {
        format!("{host}:80")
    };
    let addr = authority
        .to_socket_addrs()
        .map_err(|e| e.to_string())?
        .next()
        .ok_or("no address")?;
    let mut stream = TcpStream::connect_timeout(&addr, left()?).map_err(|e| e.to_string())?;
    stream
        .set_write_timeout(Some(left()?))
        .map_err(|e| e.to_string())?;
    // One write: `write!` on the socket would send each formatted piece as its own segment,
    // and a server that answers the first one and closes makes the rest fail (EPIPE).
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept: application/json\r\nConnection: close\r\n\r\n"
    );
    stream
        .write_all(request.as_bytes())
        .map_err(|e| e.to_string())?;
    let mut raw = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        stream
            .set_read_timeout(Some(left()?))
            .map_err(|e| e.to_string())?;
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => raw.extend_from_slice(&buf[..n]),
            Err(e) => return Err(e.to_string()),
        }
        if raw.len() as u64 > MAX_RESPONSE {
            return Err(format!("the answer is over {MAX_RESPONSE} bytes"));
        }
    }
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("malformed response")?;
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let body = &raw[split + 4..];
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or("malformed status line")?;
    let chunked = head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked");
    let body = if chunked {
        dechunk(body)
    } else {
        body.to_vec()
    };
    Ok((status, String::from_utf8_lossy(&body).to_string()))
}

/// Joins an HTTP/1.1 chunked body, on bytes (chunks may split characters).
fn dechunk(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut rest = body;
    while let Some(eol) = rest.windows(2).position(|w| w == b"\r\n") {
        let size = std::str::from_utf8(&rest[..eol]).unwrap_or("");
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        let data = &rest[eol + 2..];
        if n == 0 || data.len() < n {
            break;
        }
        out.extend_from_slice(&data[..n]);
        rest = data[n..].strip_prefix(b"\r\n").unwrap_or(&data[n..]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunked_bodies_join() {
        assert_eq!(
            dechunk(b"4\r\n{\"a\"\r\n3\r\n:1}\r\n0\r\n\r\n"),
            b"{\"a\":1}"
        );
        // A chunk boundary inside a multibyte character.
        let text = "é".as_bytes();
        let chunked = [
            b"1\r\n",
            &text[..1],
            b"\r\n1\r\n",
            &text[1..],
            b"\r\n0\r\n\r\n",
        ]
        .concat();
        assert_eq!(dechunk(&chunked), text);
        assert_eq!(dechunk(b"zz\r\n"), b"");
    }

    #[test]
    fn refuses_other_schemes() {
        assert!(get("https://example.test/", Duration::from_millis(10)).is_err());
    }
}
