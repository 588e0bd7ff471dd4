//! Speech input on a live call: the caller's voice to the speech recogniser.

use super::AppChannel;
use crate::program::{ChannelError, Input as Heard, Listen};

impl AppChannel<'_> {
    /// Speech input on a live call: the caller's voice to the speech recogniser.
    pub(super) async fn listen_speech(&mut self, listen: &Listen) -> Result<Heard, ChannelError> {
        let _ = listen;
        Err(ChannelError::Unsupported("speech input is not available on calls yet".into()))
    }
}
