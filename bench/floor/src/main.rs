//! `floor KEY.pem PORT`: answers every HTTP/1.1 request on 127.0.0.1:PORT with a fresh RS256
//! signature over a 900-byte payload (the size of a Keycloak access token's claims) in a
//! ~1.5 KB JSON body. No routing, form parsing, claims or JSON library: what is left is the
//! kernel's TCP, the async runtime and the signature, which is the floor under mockidp's
//! client-credentials path on the same machine.

use std::io::{Error, ErrorKind};
use std::sync::Arc;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

fn main() -> Result<(), Error> {
    let mut args = std::env::args().skip(1);
    let (Some(pem), Some(port)) = (args.next(), args.next()) else {
        return Err(Error::new(ErrorKind::InvalidInput, "usage: floor KEY.pem PORT"));
    };
    let port: u16 = port.parse().map_err(|_| Error::new(ErrorKind::InvalidInput, "bad port"))?;
    let der = pem_body(&std::fs::read_to_string(pem)?)?;
    let key = RsaKeyPair::from_pkcs8(&der)
        .map_err(|e| Error::new(ErrorKind::InvalidData, e.to_string()))?;
    let key = Arc::new(key);
    // As many workers as mockidp's actix server starts: one per core.
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_io()
        .build()?;
    runtime.block_on(async move {
        let listener = TcpListener::bind(("127.0.0.1", port)).await?;
        loop {
            let (socket, _) = listener.accept().await?;
            tokio::spawn(serve(socket, key.clone()));
        }
    })
}

/// Answers the requests of one keep-alive connection until it closes.
async fn serve(mut socket: TcpStream, key: Arc<RsaKeyPair>) {
    let rng = SystemRandom::new();
    let mut buf = vec![0u8; 16 * 1024];
    let (mut have, mut served) = (0, 0u64);
    let mut payload = [b'a'; 900];
    let mut sig = vec![0u8; key.public_modulus_len()];
    loop {
        match socket.read(&mut buf[have..]).await {
            Ok(0) | Err(_) => return,
            Ok(n) => have += n,
        }
        while let Some(len) = request_len(&buf[..have]) {
            served += 1;
            payload[..20].copy_from_slice(format!("{served:020}").as_bytes());
            if key.sign(&RSA_PKCS1_SHA256, &rng, &payload, &mut sig).is_err() {
                return;
            }
            let body = format!("{{\"access_token\":\"{}.{}\"}}", hex(&payload[..600]), hex(&sig));
            let answer = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                body.len()
            );
            if socket.write_all(answer.as_bytes()).await.is_err() {
                return;
            }
            buf.copy_within(len..have, 0);
            have -= len;
        }
        if have == buf.len() {
            return; // a request larger than the buffer: not from the benchmark
        }
    }
}

/// The length of the first complete request in `buf` (head and `Content-Length` body).
fn request_len(buf: &[u8]) -> Option<usize> {
    let head_end = buf.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let head = std::str::from_utf8(&buf[..head_end]).ok()?;
    let body_len = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-length").then(|| value.trim().parse().ok())?
        })
        .unwrap_or(0);
    (buf.len() >= head_end + body_len).then_some(head_end + body_len)
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    bytes
        .iter()
        .flat_map(|b| [DIGITS[usize::from(b >> 4)], DIGITS[usize::from(b & 15)]])
        .map(char::from)
        .collect()
}

/// The DER inside a PEM file.
fn pem_body(pem: &str) -> Result<Vec<u8>, Error> {
    let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let mut out = Vec::with_capacity(b64.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0);
    for c in b64.bytes().filter(|&c| c != b'=') {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return Err(Error::new(ErrorKind::InvalidData, "not a PEM file")),
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Ok(out)
}
