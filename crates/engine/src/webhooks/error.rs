//! The one error type of outgoing HTTP.

/// Why an outgoing request gave no usable answer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WebhookError {
    /// The URL is not an absolute http(s) URL.
    #[error("webhook URL {0:?} is not an absolute http(s) URL")]
    BadUrl(String),
    /// No connection could be made, or it broke before an answer.
    #[error("webhook {url}: network error: {detail}")]
    Network {
        /// The URL requested.
        url: String,
        /// What the transport said.
        detail: String,
    },
    /// No complete answer within the timeout.
    #[error("webhook {url}: no answer within {ms} ms")]
    Timeout {
        /// The URL requested.
        url: String,
        /// The timeout that passed.
        ms: u64,
    },
    /// More redirects than the client follows (a loop ends here).
    #[error("webhook {url}: more than {max} redirects")]
    TooManyRedirects {
        /// The URL requested.
        url: String,
        /// The redirects followed at most.
        max: usize,
    },
    /// The server answered with a status other than 2xx.
    #[error("webhook {url}: HTTP status {status}")]
    Status {
        /// The URL requested.
        url: String,
        /// The status code.
        status: u16,
    },
    /// The answer's body is larger than the cap.
    #[error("webhook {url}: answer larger than {limit} bytes")]
    TooLarge {
        /// The URL requested.
        url: String,
        /// The cap in bytes.
        limit: usize,
    },
    /// The answer's Content-Type is not one a script is read from.
    #[error("webhook {url}: content type {content_type:?} is not a script (JSON or XML)")]
    NotAScript {
        /// The URL requested.
        url: String,
        /// The Content-Type it gave (empty when none).
        content_type: String,
    },
    /// The answer is JSON or XML but not a script of any dialect.
    #[error("webhook {url}: malformed answer: {detail}")]
    Malformed {
        /// The URL requested.
        url: String,
        /// What is wrong with it.
        detail: String,
    },
    /// Too many distinct hosts are being talked to at once.
    #[error("webhook {url}: too many hosts in use")]
    Busy {
        /// The URL requested.
        url: String,
    },
    /// Audio fetched by URL is not a WAV file this player reads.
    #[error("{url}: not a playable WAV file: {detail}")]
    NotWav {
        /// The URL fetched.
        url: String,
        /// What is wrong with it.
        detail: String,
    },
    /// The answer URL failed and so did the fallback answer URL.
    #[error("answer URL failed ({answer}); fallback answer URL failed ({fallback})")]
    FallbackFailed {
        /// Why the answer URL failed.
        answer: Box<WebhookError>,
        /// Why the fallback failed.
        fallback: Box<WebhookError>,
    },
}

impl WebhookError {
    /// A stable short cause for events and CDRs, e.g. `WEBHOOK_TIMEOUT`.
    /// For a failed fallback it is the fallback's cause.
    pub fn cause(&self) -> &'static str {
        match self {
            WebhookError::BadUrl(_) => "WEBHOOK_BAD_URL",
            WebhookError::Network { .. } => "WEBHOOK_NETWORK_ERROR",
            WebhookError::Timeout { .. } => "WEBHOOK_TIMEOUT",
            WebhookError::TooManyRedirects { .. } => "WEBHOOK_REDIRECT_LOOP",
            WebhookError::Status { .. } => "WEBHOOK_HTTP_ERROR",
            WebhookError::TooLarge { .. } => "WEBHOOK_ANSWER_TOO_LARGE",
            WebhookError::NotAScript { .. } => "WEBHOOK_NOT_A_SCRIPT",
            WebhookError::Malformed { .. } => "WEBHOOK_MALFORMED_ANSWER",
            WebhookError::Busy { .. } => "WEBHOOK_BUSY",
            WebhookError::NotWav { .. } => "AUDIO_NOT_WAV",
            WebhookError::FallbackFailed { fallback, .. } => fallback.cause(),
        }
    }

    /// Whether an event request that failed this way is worth another try:
    /// network errors, timeouts, 408, 429 and 5xx.
    pub fn is_transient(&self) -> bool {
        match self {
            WebhookError::Network { .. } | WebhookError::Timeout { .. } | WebhookError::Busy { .. } => true,
            WebhookError::Status { status, .. } => *status == 408 || *status == 429 || *status >= 500,
            _ => false,
        }
    }
}
