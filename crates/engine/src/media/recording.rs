//! A recording in progress: the session feeds it a frame per direction
//! each tick; a writer task owns the file, fed in one-second chunks over a
//! bounded queue, and rewrites the header when the recording ends.

use std::io::{Seek, SeekFrom, Write};
use std::path::PathBuf;

use media::frame::{Frame, SILENT_FRAME};
use media::mixer::sum;
use media::recorder::{Layout, WavRecorder};
use tokio::sync::mpsc;

use super::{LegId, MediaEvent, RecordMode, RecordSpec, RecordingId};

/// Frames gathered before a chunk goes to the writer (1 s).
const CHUNK_FRAMES: u64 = 50;
/// Chunks the writer may have queued (8 s).
const QUEUE: usize = 8;

enum Write_ {
    Data(Vec<u8>),
    Finish { header: Vec<u8>, duration_ms: u64 },
}

/// One recording.
pub(crate) struct Recording {
    id: RecordingId,
    legs: Vec<LegId>,
    recorder: WavRecorder,
    chunk: Vec<u8>,
    frames_in_chunk: u64,
    writer: mpsc::Sender<Write_>,
    lost_chunks: u64,
}

impl Recording {
    /// Starts the writer task on `file`.
    pub(crate) fn start(
        id: RecordingId,
        spec: RecordSpec,
        file: std::fs::File,
        events: mpsc::Sender<MediaEvent>,
    ) -> Self {
        let layout = match spec.mode {
            RecordMode::Mono => Layout::Mono,
            RecordMode::Stereo => Layout::Stereo,
        };
        let recorder = WavRecorder::new(layout);
        let (writer, rx) = mpsc::channel(QUEUE);
        let first = recorder.header().unwrap_or_default();
        tokio::spawn(write_file(id, spec.path, file, first, rx, events));
        Self { id, legs: spec.legs, recorder, chunk: Vec::new(), frames_in_chunk: 0, writer, lost_chunks: 0 }
    }

    pub(crate) fn id(&self) -> RecordingId {
        self.id
    }

    pub(crate) fn legs(&self) -> &[LegId] {
        &self.legs
    }

    /// Drops a removed leg; true when no leg is left.
    pub(crate) fn forget_leg(&mut self, leg: LegId) -> bool {
        self.legs.retain(|&l| l != leg);
        self.legs.is_empty()
    }

    /// Records this tick; `frames(leg)` gives what a leg said and heard.
    pub(crate) fn tick(&mut self, frames: impl Fn(LegId) -> Option<(Frame, Frame)>) {
        let (first, second) = match self.legs.as_slice() {
            [one] => frames(*one).unwrap_or((SILENT_FRAME, SILENT_FRAME)),
            [first, others @ ..] => {
                let a = frames(*first).map_or(SILENT_FRAME, |f| f.0);
                let said: Vec<Frame> = others.iter().filter_map(|&l| frames(l)).map(|f| f.0).collect();
                let refs: Vec<&Frame> = said.iter().collect();
                (a, sum(&refs))
            }
            [] => return,
        };
        self.recorder.push(&first, &second, &mut self.chunk);
        self.frames_in_chunk += 1;
        if self.frames_in_chunk >= CHUNK_FRAMES {
            self.flush();
        }
    }

    fn flush(&mut self) {
        self.frames_in_chunk = 0;
        let data = std::mem::take(&mut self.chunk);
        if !data.is_empty() && self.writer.try_send(Write_::Data(data)).is_err() {
            self.lost_chunks += 1;
            tracing::warn!(id = ?self.id, lost = self.lost_chunks, "recording writer is behind: a second of audio lost");
        }
    }

    /// Ends the recording: the rest of the audio and the final header go to
    /// the writer, which then reports [`MediaEvent::RecordingFinished`].
    pub(crate) fn finish(mut self) {
        self.flush();
        let header = self.recorder.header().unwrap_or_default();
        let duration_ms = self.recorder.duration_ms();
        let writer = self.writer.clone();
        // The queue may be full: wait for room outside the media task.
        tokio::spawn(async move {
            let _ = writer.send(Write_::Finish { header, duration_ms }).await;
        });
    }
}

async fn write_file(
    id: RecordingId,
    path: PathBuf,
    file: std::fs::File,
    first_header: Vec<u8>,
    mut rx: mpsc::Receiver<Write_>,
    events: mpsc::Sender<MediaEvent>,
) {
    let mut file = Some(file);
    let mut error: Option<String> = None;
    let mut duration = 0;
    let (f, r) = blocking(&mut file, Box::new(move |f| f.write_all(&first_header))).await;
    file = f;
    if let Err(e) = r {
        error = Some(e);
    }
    while let Some(msg) = rx.recv().await {
        match msg {
            Write_::Data(data) if error.is_none() => {
                let (f, r) = blocking(&mut file, Box::new(move |f| f.write_all(&data))).await;
                file = f;
                if let Err(e) = r {
                    error = Some(e);
                }
            }
            Write_::Data(_) => {}
            Write_::Finish { header, duration_ms } => {
                duration = duration_ms;
                if error.is_none() {
                    let (f, r) = blocking(
                        &mut file,
                        Box::new(move |f| {
                            f.seek(SeekFrom::Start(0))?;
                            f.write_all(&header)?;
                            f.sync_data()
                        }),
                    )
                    .await;
                    file = f;
                    if let Err(e) = r {
                        error = Some(e);
                    }
                }
                break;
            }
        }
    }
    drop(file);
    let _ = events.send(MediaEvent::RecordingFinished { id, path, duration_ms: duration, error }).await;
}

type FileOp = Box<dyn FnOnce(&mut std::fs::File) -> std::io::Result<()> + Send>;

/// Runs `op` on the file on a blocking thread; the file comes back unless
/// that thread was lost.
async fn blocking(
    file: &mut Option<std::fs::File>,
    op: FileOp,
) -> (Option<std::fs::File>, Result<(), String>) {
    let Some(mut f) = file.take() else { return (None, Err("file lost".to_string())) };
    match tokio::task::spawn_blocking(move || {
        let r = op(&mut f);
        (f, r)
    })
    .await
    {
        Ok((f, r)) => (Some(f), r.map_err(|e| e.to_string())),
        Err(e) => (None, Err(e.to_string())),
    }
}
