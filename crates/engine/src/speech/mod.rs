//! Speech engines behind one trait each: [`Tts`] (text and voice to mono
//! PCM at 8 or 16 kHz) and [`Stt`] (PCM and optional hints to text and a
//! confidence).
//!
//! The local engines run as subprocesses, so no GPL code is linked:
//! espeak-ng (the default) and flite for TTS, pocketsphinx for STT (hints
//! become a JSGF grammar). Each run has a timeout and an output cap; a
//! missing binary is [`SpeechError::EngineMissing`]. TTS output is cached
//! on disk ([`CachedTts`]) by engine, voice, rate and text, within a size
//! bound. [`Engines`] picks the engine and voice from an application's
//! `textToSpeech` / `speechToText` configuration.

mod cache;
mod config;
mod error;
mod process;
mod stt;
mod tts;

pub use cache::CachedTts;
pub use config::{Engines, EnginesConfig};
pub use error::SpeechError;
pub use process::MAX_PROCESSES;
pub use stt::{Pocketsphinx, Stt, Transcript};
pub use tts::{Espeak, Flite, Pcm, ProgramLimits, Tts, FLITE_VOICES, MAX_TEXT};
