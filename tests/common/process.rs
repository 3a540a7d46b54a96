//! The `numberpool` binary as a child process: run a verb and read its answer or its one-line
//! error, start `serve` or `demo` and find the address it printed, stop it with SIGTERM, and a
//! bare HTTP/1.1 GET for what a started server answers.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Output, Stdio};

use serde_json::Value;

use super::Must;

/// The binary with no `NUMBERPOOL_*` setting from the environment (the tests choose every
/// setting themselves), logging warnings only.
pub fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_numberpool"));
    for (k, _) in std::env::vars() {
        if k.starts_with("NUMBERPOOL_") {
            c.env_remove(k);
        }
    }
    c.env("NUMBERPOOL_LOG_LEVEL", "warn");
    c
}

/// How a verb ended.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// A command line as its arguments: split at white space, except that a part in single quotes
/// is one argument as it stands (`' '` is a lone space, `'+1 415 555 0100'` one number).
pub fn argv(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = line.trim_start();
    while !rest.is_empty() {
        let (arg, next) = match rest.strip_prefix('\'') {
            Some(quoted) => quoted.split_once('\'').must("a closing quote"),
            None => rest.split_once(char::is_whitespace).unwrap_or((rest, "")),
        };
        out.push(arg.to_string());
        rest = next.trim_start();
    }
    out
}

/// Runs the command line `line` (see `argv`) on the database `db`, with `stdin` as its
/// standard input.
pub fn run(db: &str, line: &str, stdin: Option<&str>) -> Run {
    let mut cmd = bin();
    cmd.arg("--database-url").arg(db).args(argv(line));
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().must("spawn");
    if let Some(input) = stdin
        && let Some(mut s) = child.stdin.take()
    {
        s.write_all(input.as_bytes()).must("stdin");
    }
    drop(child.stdin.take());
    let out: Output = child.wait_with_output().must("wait");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs `line`, which must succeed, and parses the first line it printed as JSON.
pub fn ok_json(db: &str, line: &str) -> Value {
    let r = run(db, line, None);
    assert_eq!(r.code, 0, "{line} failed: {}", r.stderr);
    serde_json::from_str(r.stdout.lines().next().unwrap_or(""))
        .unwrap_or_else(|e| panic!("{line}: not JSON ({e}): {}", r.stdout))
}

/// Runs `line`, which must fail with a one-line error and no panic; returns that line.
pub fn err(db: &str, line: &str) -> String {
    let r = run(db, line, None);
    assert_ne!(r.code, 0, "{line} should fail, printed {}", r.stdout);
    assert!(
        !r.stderr.contains("panicked"),
        "{line} panicked: {}",
        r.stderr
    );
    let lines: Vec<_> = r.stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(
        lines.len(),
        1,
        "{line}: expected a one-line error, got {}",
        r.stderr
    );
    lines[0].to_string()
}

/// Runs `line`, which must fail with a one-line error that names every one of `needles`.
#[track_caller]
pub fn refused(db: &str, line: &str, needles: &[&str]) {
    let e = err(db, line);
    for n in needles {
        assert!(e.contains(n), "{line}: {n:?} not in the error: {e}");
    }
}

/// Every line a `--json` listing printed, each one JSON value.
pub fn json_lines(stdout: &str) -> Vec<Value> {
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

/// The string `k` of a JSON object.
pub fn s(v: &Value, k: &str) -> String {
    v[k].as_str()
        .unwrap_or_else(|| panic!("no string {k} in {v}"))
        .to_string()
}

/// The address after `http://` in a line the server printed, if the line has one.
pub fn address_in(line: &str) -> Option<String> {
    let i = line.find("http://")?;
    Some(
        line[i + 7..]
            .chars()
            .take_while(|c| !c.is_whitespace() && *c != '"')
            .collect(),
    )
}

/// Reads stdout lines until one contains `http://`, returning the address after it and the
/// lines so far.
pub fn wait_for_url(child: &mut Child) -> (String, Vec<String>) {
    let out = child.stdout.take().must("stdout");
    let mut lines = Vec::new();
    for line in BufReader::new(out).lines() {
        let line = line.must("read stdout");
        lines.push(line.clone());
        if let Some(addr) = address_in(&line) {
            return (addr, lines);
        }
    }
    panic!("the server printed no URL: {lines:?}");
}

/// Stops the child the way an operator does, with SIGTERM, and returns its exit code.
pub fn terminate(child: &mut Child) -> i32 {
    let pid = child.id().to_string();
    let st = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .must("kill");
    assert!(st.success(), "kill -TERM");
    child.wait().must("wait").code().unwrap_or(-1)
}

/// `GET path` on `addr`: the status and the body.
pub fn http_get(addr: &str, path: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap_or_else(|e| panic!("connect {addr}: {e}"));
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .must("write the request");
    let mut buf = String::new();
    s.read_to_string(&mut buf).must("read the response");
    let status = buf
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = buf.split("\r\n\r\n").nth(1).unwrap_or("").to_string();
    (status, body)
}
