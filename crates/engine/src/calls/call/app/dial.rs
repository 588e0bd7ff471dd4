//! Dialling from a program: ring targets and bridge the first that answers.

use super::AppChannel;
use crate::program::{self, ChannelError, DialResult};

impl AppChannel<'_> {
    /// Dialling from a program: ring targets and bridge the first that answers.
    pub(super) async fn dial_out(&mut self, dial: &program::Dial) -> Result<DialResult, ChannelError> {
        let _ = dial;
        Err(ChannelError::Unsupported("dial from a program is not wired to calls yet".into()))
    }
}
