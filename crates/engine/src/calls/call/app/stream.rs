//! Media streams from a program: the call's audio both ways over a WebSocket.

use super::AppChannel;
use crate::program::{self, ChannelError};

impl AppChannel<'_> {
    /// Media streams from a program: the call's audio both ways over a WebSocket.
    pub(super) async fn stream_media(&mut self, stream: &program::Stream) -> Result<(), ChannelError> {
        let _ = stream;
        Err(ChannelError::Unsupported("media streams are not wired to calls yet".into()))
    }
}
