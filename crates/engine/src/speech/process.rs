//! Running an engine's program: arguments without a shell, input on stdin,
//! stdout read up to a cap, the end of stderr kept for the error, and the
//! process killed (and reaped) on timeout or overflow. A run first takes a
//! slot of its engine's semaphore (within its timeout), so the processes
//! running at once are bounded.

use std::ffi::OsString;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::process::Command;

use super::SpeechError;

/// Engine processes running at once, by default, per set of slots.
pub const MAX_PROCESSES: usize = 8;

/// How much of stderr is kept for an error message.
const STDERR_TAIL: usize = 1024;

/// One run of an engine.
pub(crate) struct Run<'a> {
    pub engine: &'static str,
    pub program: &'a Path,
    pub args: Vec<OsString>,
    pub stdin: Vec<u8>,
    pub timeout: Duration,
    pub max_stdout: usize,
    pub slots: &'a tokio::sync::Semaphore,
}

async fn read_capped(
    mut r: impl AsyncRead + Unpin,
    cap: usize,
    engine: &'static str,
) -> Result<Vec<u8>, SpeechError> {
    let mut out = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = r.read(&mut buf).await.map_err(|e| SpeechError::Io(format!("{engine} stdout: {e}")))?;
        if n == 0 {
            return Ok(out);
        }
        if out.len() + n > cap {
            return Err(SpeechError::TooLarge { engine, limit: cap });
        }
        out.extend_from_slice(buf.get(..n).unwrap_or_default());
    }
}

async fn read_tail(mut r: impl AsyncRead + Unpin) -> Vec<u8> {
    let mut tail = Vec::new();
    let mut buf = vec![0u8; 8 * 1024];
    while let Ok(n) = r.read(&mut buf).await {
        if n == 0 {
            break;
        }
        tail.extend_from_slice(buf.get(..n).unwrap_or_default());
        if tail.len() > STDERR_TAIL {
            tail.drain(..tail.len() - STDERR_TAIL);
        }
    }
    tail
}

/// Runs `run` and gives its stdout when it exits with success.
pub(crate) async fn run(run: Run<'_>) -> Result<Vec<u8>, SpeechError> {
    let engine = run.engine;
    let timed_out = || SpeechError::Timeout { engine, ms: run.timeout.as_millis() as u64 };
    let started = tokio::time::Instant::now();
    let _slot = tokio::time::timeout(run.timeout, run.slots.acquire())
        .await
        .map_err(|_| timed_out())?
        .map_err(|_| SpeechError::Io(format!("{engine}: no process slots")))?;
    let left = run.timeout.saturating_sub(started.elapsed());
    let mut child = Command::new(run.program)
        .args(&run.args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound | std::io::ErrorKind::PermissionDenied => {
                SpeechError::EngineMissing { engine, path: run.program.display().to_string() }
            }
            _ => SpeechError::Io(format!("{engine}: {e}")),
        })?;
    let (Some(mut stdin), Some(stdout), Some(stderr)) =
        (child.stdin.take(), child.stdout.take(), child.stderr.take())
    else {
        return Err(SpeechError::Io(format!("{engine}: no pipes")));
    };
    let input = run.stdin;
    let work = async {
        let write = async move {
            // An engine that exits without reading all of it is judged by
            // its exit status, not by the broken pipe.
            let _ = stdin.write_all(&input).await;
            drop(stdin);
            Ok::<(), SpeechError>(())
        };
        let err = async { Ok::<Vec<u8>, SpeechError>(read_tail(stderr).await) };
        let ((), out, err) = tokio::try_join!(write, read_capped(stdout, run.max_stdout, engine), err)?;
        let status = child.wait().await.map_err(|e| SpeechError::Io(format!("{engine}: {e}")))?;
        Ok::<_, SpeechError>((status, out, err))
    };
    let result = tokio::time::timeout(left, work).await;
    let outcome = match result {
        Err(_) => Err(timed_out()),
        Ok(Err(e)) => Err(e),
        Ok(Ok((status, out, err))) => {
            if status.success() {
                return Ok(out);
            }
            Err(SpeechError::Failed {
                engine,
                status: status.to_string(),
                stderr: String::from_utf8_lossy(&err).trim().to_owned(),
            })
        }
    };
    // Timed out or overflowed: kill and reap before reporting.
    let _ = child.start_kill();
    let _ = child.wait().await;
    outcome
}
