//! Signed outgoing HTTP: one [`Client`] for every request an application
//! causes (answer URLs and their fallbacks, action and event URLs, audio
//! fetched by URL).
//!
//! The pieces, each usable alone:
//! - [`sign`]: the `X-Calliope-Signature` scheme (HMAC-SHA256 over a
//!   timestamp and the body) and its verification;
//! - [`secret`]: where each application's signing secret comes from;
//! - [`shapes`]: the requests of each dialect (Fonoster JSON, Vonage answer
//!   and event, Twilio form parameters) as [`Outgoing`] values;
//! - [`client`]: timeouts, per-host concurrency, size cap, redirect cap,
//!   retries for events only, the fallback answer URL;
//! - [`answer`]: an answer read by its Content-Type into a [`Script`];
//! - [`app`]: an application's webhooks from its record, and the
//!   requests of a call for its first script and status events;
//! - [`scripts`]: [`WebhookScripts`], the `program::Scripts` of a call:
//!   its first program, then each result sent and the next program read;
//! - [`audio`]: a WAV fetched by URL into a player source, cached.
//!
//! Every failure is a [`WebhookError`] with a stable [`WebhookError::cause`]
//! that a call records as its event and CDR cause.

pub mod answer;
pub mod app;
pub mod audio;
pub mod channel_state;
pub mod client;
mod error;
pub mod scripts;
pub mod secret;
pub mod shapes;
pub mod sign;

pub use answer::Script;
pub use app::{AppHooks, AppUrl};
pub use audio::AudioCache;
pub use client::{Answer, Client, Config, Reply};
pub use error::WebhookError;
pub use scripts::{Failure, WebhookScripts};
pub use secret::{Secret, SecretKeeper, SecretKeyError};
pub use shapes::{Body, CallDirection, CallFacts, HttpMethod, Outgoing, VonageStatus};
pub use sign::{sign, verify, SignatureError, HEADER};
