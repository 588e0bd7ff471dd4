//! What the server counts, as Prometheus families (`GET /metrics`).
//!
//! Recorded through the `metrics` facade: the binary installs the
//! Prometheus recorder before anything starts and the API renders it;
//! without a recorder (unit tests, the library alone) every handle is a
//! no-op. Each family's name is written once, here; hot paths keep a
//! handle (an atomic) rather than looking the name up per packet.

use std::sync::LazyLock;
use std::time::Duration;

use metrics::{
    counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram, Counter, Unit,
};

/// Live calls.
pub const CALLS_LIVE: &str = "calliope_calls_live";
/// Live call legs.
pub const LEGS_LIVE: &str = "calliope_legs_live";
/// Calls admitted (INVITEs taken and calls placed from the API).
pub const CALL_SETUPS: &str = "calliope_call_setups_total";
/// Call legs ended, by hangup cause.
pub const CALLS_ENDED: &str = "calliope_calls_ended_total";
/// Calls refused before admission (limits, draining), by reason.
pub const CALLS_REFUSED: &str = "calliope_calls_refused_total";
/// File descriptors in use (estimated: see `calls::descriptors`).
pub const FDS_OPEN: &str = "calliope_fds_open";
/// The process's file descriptor limit (soft `RLIMIT_NOFILE`).
pub const FDS_LIMIT: &str = "calliope_fds_limit";
/// REGISTER requests by outcome.
pub const REGISTRATIONS: &str = "calliope_registrations_total";
/// SIP transactions in progress.
pub const TRANSACTIONS_LIVE: &str = "calliope_sip_transactions_live";
/// Ended server transactions kept to absorb retransmissions.
pub const TRANSACTIONS_RETAINED: &str = "calliope_sip_transactions_retained";
/// SIP messages received that did not parse.
pub const SIP_UNPARSABLE: &str = "calliope_sip_unparsable_total";
/// RTP packets sent to call legs.
pub const RTP_SENT: &str = "calliope_rtp_packets_sent_total";
/// RTP packets received from call legs.
pub const RTP_RECEIVED: &str = "calliope_rtp_packets_received_total";
/// RTP packets dropped, by reason.
pub const RTP_DROPPED: &str = "calliope_rtp_packets_dropped_total";
/// RTP packets that came after their playout time.
pub const RTP_LATE: &str = "calliope_rtp_packets_late_total";
/// Media ticks (20 ms frames generated or mixed).
pub const MEDIA_TICKS: &str = "calliope_media_ticks_total";
/// Media ticks that ran more than 10 ms after their time.
pub const MEDIA_TICKS_LATE: &str = "calliope_media_ticks_late_total";
/// Webhook requests, by outcome.
pub const WEBHOOKS: &str = "calliope_webhook_requests_total";
/// Webhook round trips.
pub const WEBHOOK_SECONDS: &str = "calliope_webhook_duration_seconds";
/// Batches waiting for the store writer.
pub const STORE_QUEUE: &str = "calliope_store_queue_depth";
/// Store writer batches (call records, registrations).
pub const STORE_BATCH_SECONDS: &str = "calliope_store_batch_duration_seconds";
/// Records lost because the store writer's queue was full.
pub const STORE_LOST: &str = "calliope_store_records_lost_total";
/// HTTP requests answered, by status.
pub const HTTP_REQUESTS: &str = "calliope_http_requests_total";
/// Events a subscriber did not get (it fell behind), by subscriber.
pub const EVENTS_LOST: &str = "calliope_events_lost_total";

/// Gives every family its help text; call once after installing the
/// recorder.
pub fn describe() {
    describe_gauge!(CALLS_LIVE, "Live calls.");
    describe_gauge!(LEGS_LIVE, "Live call legs.");
    describe_counter!(CALL_SETUPS, "Calls admitted: INVITEs taken and calls placed from the API.");
    describe_counter!(CALLS_ENDED, "Call legs ended, by hangup cause.");
    describe_counter!(CALLS_REFUSED, "Calls refused before admission, by reason.");
    describe_gauge!(FDS_OPEN, "File descriptors in use: counted once a second, media sockets exactly.");
    describe_gauge!(FDS_LIMIT, "The file descriptor limit new calls are admitted against.");
    describe_counter!(REGISTRATIONS, "REGISTER requests, by outcome.");
    describe_gauge!(TRANSACTIONS_LIVE, "SIP transactions in progress.");
    describe_gauge!(TRANSACTIONS_RETAINED, "Ended SIP server transactions kept for retransmissions.");
    describe_counter!(SIP_UNPARSABLE, "SIP messages received that did not parse.");
    describe_counter!(RTP_SENT, "RTP packets sent to call legs.");
    describe_counter!(RTP_RECEIVED, "RTP packets accepted from call legs.");
    describe_counter!(RTP_DROPPED, "RTP packets dropped, by reason.");
    describe_counter!(RTP_LATE, "RTP packets that arrived after their playout time.");
    describe_counter!(MEDIA_TICKS, "Media ticks: 20 ms frames generated or mixed per call.");
    describe_counter!(MEDIA_TICKS_LATE, "Media ticks that ran more than 10 ms late.");
    describe_counter!(WEBHOOKS, "Webhook requests, by outcome.");
    describe_histogram!(WEBHOOK_SECONDS, Unit::Seconds, "Webhook round trips.");
    describe_gauge!(STORE_QUEUE, "Batches waiting for the store writer.");
    describe_histogram!(STORE_BATCH_SECONDS, Unit::Seconds, "Store writer batches.");
    describe_counter!(
        STORE_LOST,
        "Records lost: the store writer's queue was full, or the store refused them."
    );
    describe_counter!(HTTP_REQUESTS, "HTTP requests answered, by status.");
    describe_counter!(EVENTS_LOST, "Events a subscriber fell too far behind to get, by subscriber.");
}

/// Counts `n` events that the subscriber `who` (`websocket`,
/// `post_event`...) did not get.
pub fn events_lost(who: &'static str, n: u64) {
    counter!(EVENTS_LOST, "subscriber" => who).increment(n);
}

/// Handles of the media counters, taken once (the per-packet paths).
pub(crate) struct Media {
    pub sent: Counter,
    pub received: Counter,
    pub strangers: Counter,
    pub bad: Counter,
    pub send_errors: Counter,
    pub late: Counter,
    pub ticks: Counter,
    pub ticks_late: Counter,
}

/// The media counters.
pub(crate) static MEDIA: LazyLock<Media> = LazyLock::new(|| Media {
    sent: counter!(RTP_SENT),
    received: counter!(RTP_RECEIVED),
    strangers: counter!(RTP_DROPPED, "reason" => "stranger"),
    bad: counter!(RTP_DROPPED, "reason" => "malformed"),
    send_errors: counter!(RTP_DROPPED, "reason" => "send_error"),
    late: counter!(RTP_LATE),
    ticks: counter!(MEDIA_TICKS),
    ticks_late: counter!(MEDIA_TICKS_LATE),
});

/// Counts a call leg that ended with `cause`.
pub(crate) fn call_ended(cause: &str) {
    counter!(CALLS_ENDED, "cause" => cause.to_owned()).increment(1);
}

/// Counts a REGISTER that ended in `outcome` (`ok`, `challenged`,
/// `refused`, `unbound`).
pub(crate) fn registration(outcome: &'static str) {
    /// Handles taken once: a lookup in the registry per REGISTER hashed
    /// and compared the labels each time.
    static BY_OUTCOME: LazyLock<[(&str, Counter); 4]> = LazyLock::new(|| {
        ["ok", "challenged", "refused", "unbound"]
            .map(|outcome| (outcome, counter!(REGISTRATIONS, "outcome" => outcome)))
    });
    match BY_OUTCOME.iter().find(|(o, _)| *o == outcome) {
        Some((_, counter)) => counter.increment(1),
        None => counter!(REGISTRATIONS, "outcome" => outcome).increment(1),
    }
}

/// Counts a webhook request that took `took` and ended in `outcome`
/// (`ok` or its failure cause).
pub(crate) fn webhook(outcome: &str, took: Duration) {
    counter!(WEBHOOKS, "outcome" => outcome.to_owned()).increment(1);
    histogram!(WEBHOOK_SECONDS).record(took.as_secs_f64());
}

/// Counts a store batch that took `took`, of `kind` (`cdrs`,
/// `registrations`).
pub(crate) fn store_batch(kind: &'static str, took: Duration) {
    histogram!(STORE_BATCH_SECONDS, "kind" => kind).record(took.as_secs_f64());
}

/// Sets the store writer's queue depth.
pub(crate) fn store_queue(depth: usize) {
    gauge!(STORE_QUEUE).set(depth as f64);
}

/// Sets the live call and leg gauges.
pub fn calls_live(calls: usize, legs: usize) {
    gauge!(CALLS_LIVE).set(calls as f64);
    gauge!(LEGS_LIVE).set(legs as f64);
}
