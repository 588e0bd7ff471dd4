//! Voicemail calls, over the program channel ([`AppChannel`]):
//!
//! - leaving a message: a caller whose call to an agent ended busy or
//!   unanswered, when the agent has voicemail on, is answered, hears the
//!   greeting (the agent's uploaded sound, else its text or the standard
//!   text spoken) and a beep, and is recorded until silence, `#`, the
//!   longest message or hang-up; the message is kept and the agent's
//!   phones told (MWI). A full mailbox says so and records nothing.
//! - listening (the voicemail feature code): the PIN (three wrong ones
//!   end the call), "you have N new messages", then each message, new
//!   first: 7 deletes it, 9 saves it, `#` goes on (a new message heard is
//!   kept as saved).

use std::path::PathBuf;
use std::time::Duration;

use serde_json::json;
use store::schema::{AGENTS, MEDIA};
use store::{Key, Record, Scope};

use super::app::{AppChannel, Opened};
use super::inbound::{Caller, Parties};
use super::{Call, Ending};
use crate::accounts::Account;
use crate::program::{
    Audio, BargeIn, Channel, ChannelError, Input as Heard, Listen, MediaRef, Outcome, Played, RecordEnd,
    RecordSpec, Sound,
};
use crate::voicemail::mailbox::{self, Key as MenuKey, Settings};
use crate::voicemail::messages::{self, NewMessage};

/// How long the PIN and the menu keys are waited for.
const KEY_WAIT: Duration = Duration::from_secs(6);
/// The longest PIN read.
const MAX_PIN: usize = 16;
/// A message shorter than this is not kept (a caller who hung up at the beep).
const SHORTEST_MESSAGE_MS: i64 = 300;

impl Call {
    /// Where the data dir is (the recordings folder's parent).
    fn data_dir(&self) -> Option<PathBuf> {
        self.sw.config.recordings.as_ref().and_then(|r| r.parent()).map(std::path::Path::to_path_buf)
    }

    /// The voicemail settings of agent `agent_id`, when it has voicemail on.
    async fn voicemail_of(&self, workspace_id: i64, agent_id: i64) -> Option<Settings> {
        match self.sw.db.get(&AGENTS, Scope::Workspace(workspace_id), &Key::Id(agent_id)).await {
            Ok(record) => Some(Settings::from_record(&record)),
            Err(e) => {
                tracing::warn!(error = %e, agent = agent_id, "cannot read the agent's voicemail settings");
                None
            }
        }
    }

    /// After ringing ended with `failure`: when it is busy or no answer and
    /// the called agent has voicemail on, the caller leaves a message and
    /// the call's ending is returned; `None` leaves the failure to the
    /// caller.
    pub(super) async fn leave_voicemail(
        &mut self,
        a: &Caller,
        p: &mut Parties,
        failure: Ending,
    ) -> Option<Ending> {
        if !matches!(failure.status, 486 | 600 | 408 | 480) {
            return None;
        }
        let agent_id = p.callee_id?;
        let settings = self.voicemail_of(p.workspace_id, agent_id).await.filter(|s| s.enabled)?;
        let Some(data_dir) = self.data_dir() else {
            tracing::warn!("voicemail is on, but there is no data folder to keep messages in");
            return None;
        };
        let held = match messages::list(&self.sw.db, p.workspace_id, agent_id).await {
            Ok(all) => all.len() as u64,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the mailbox");
                return None;
            }
        };
        let limits = self.sw.config.voicemail;
        let room = limits.has_room(held);
        let greeting = self.greeting(p.workspace_id, &settings).await;
        tracing::info!(call = %p.uuid_a, agent = %settings.extension, status = failure.status, room, "the call goes to voicemail");
        self.publish("call.voicemail", json!({"agent": settings.extension, "full": !room}));
        let Opened { mut media, sdp_a, late } = match self.open_media(a, p, false).await {
            Ok(opened) => opened,
            Err(ending) => return Some(ending),
        };
        let mut ch = AppChannel::new(self, Some(a), p, &mut media, sdp_a, late, None);
        let outcome = match deposit(&mut ch, &settings, greeting, room, &data_dir).await {
            Ok(()) => Outcome::Completed,
            Err(ChannelError::HungUp) => Outcome::CallerHungUp,
            Err(e) => Outcome::Failed(crate::program::ProgramError::Channel { verb: "voicemail", error: e }),
        };
        Some(ch.close(outcome).await)
    }

    /// The greeting: the agent's uploaded sound, else its text spoken.
    async fn greeting(&self, workspace_id: i64, settings: &Settings) -> Audio {
        if let Some(id) = settings.greeting_id {
            match self.sw.db.get(&MEDIA, Scope::Workspace(workspace_id), &Key::Id(id)).await {
                Ok(m) if !m.text("media_path").is_empty() => {
                    return Audio::Sound(Sound::Media(MediaRef {
                        id: Some(id),
                        path: m.text("media_path").to_owned(),
                        kind: m.text("media_type").to_owned(),
                    }))
                }
                Ok(_) => tracing::info!(media = id, "the voicemail greeting has no file: the text is spoken"),
                Err(e) => {
                    tracing::info!(media = id, error = %e, "the voicemail greeting is gone: the text is spoken")
                }
            }
        }
        say(&settings.greeting())
    }

    /// The voicemail feature code dialled by `caller`: it listens to its
    /// own mailbox. The call's record is written here.
    pub(super) async fn listen_voicemail(&mut self, a: &Caller, caller: &Account) {
        let dialled = a.invite.uri.user().unwrap_or_default().to_owned();
        let mut p = Parties {
            workspace_id: caller.workspace_id,
            caller: caller.extension.clone(),
            caller_id: Some(caller.agent_id),
            callee: dialled,
            callee_id: None,
            context: caller.context.clone(),
            direction: "INTRA_COMPANY",
            kind: "AGENT",
            uuid_a: self.uuid(),
            uuid_b: String::new(),
            start: self.now(),
            answer: None,
            codec: String::new(),
            route_id: None,
            recording: None,
            caller_dialled: caller.extension.clone(),
            callee_dialled: a.invite.uri.user().unwrap_or_default().to_owned(),
            application_id: None,
            application_ref: String::new(),
        };
        let ending = match (self.voicemail_of(caller.workspace_id, caller.agent_id).await, self.data_dir()) {
            (Some(settings), Some(data_dir)) => match self.open_media(a, &mut p, true).await {
                Ok(Opened { mut media, sdp_a, late }) => {
                    let mut ch = AppChannel::new(self, Some(a), &mut p, &mut media, sdp_a, late, None);
                    let outcome = match listen(&mut ch, &settings, &data_dir).await {
                        Ok(()) => Outcome::Completed,
                        Err(ChannelError::HungUp) => Outcome::CallerHungUp,
                        Err(e) => Outcome::Failed(crate::program::ProgramError::Channel {
                            verb: "voicemail",
                            error: e,
                        }),
                    };
                    ch.close(outcome).await
                }
                Err(ending) => ending,
            },
            _ => {
                let w = super::inbound::warning(399, "the mailbox cannot be opened");
                self.refuse(a, sip::StatusCode::SERVICE_UNAVAILABLE, Some(w));
                Ending::new(503, "NORMAL_TEMPORARY_FAILURE")
            }
        };
        self.finish(&p, ending);
    }
}

fn say(text: &str) -> Audio {
    Audio::Say { text: text.to_owned(), voice: None, language: None, engine: None }
}

/// Plays `audio`; a failure other than a hang-up is logged and skipped
/// (a missing TTS engine does not lose the message).
async fn play(ch: &mut AppChannel<'_>, audio: &Audio, barge_in: BargeIn) -> Result<Played, ChannelError> {
    match ch.play(audio, barge_in).await {
        Err(ChannelError::HungUp) => Err(ChannelError::HungUp),
        Err(e) => {
            tracing::warn!(error = %e, "a voicemail prompt could not be played");
            Ok(Played::Finished)
        }
        ok => ok,
    }
}

const DTMF: BargeIn = BargeIn { dtmf: true, speech: false };

/// Leaving a message.
async fn deposit(
    ch: &mut AppChannel<'_>,
    settings: &Settings,
    greeting: Audio,
    room: bool,
    data_dir: &std::path::Path,
) -> Result<(), ChannelError> {
    ch.answer().await?;
    if !room {
        tracing::info!(agent = %settings.extension, "the mailbox is full: no message is taken");
        play(ch, &say(mailbox::FULL), BargeIn::NONE).await?;
        return Ok(());
    }
    play(ch, &greeting, BargeIn::NONE).await?;
    play(ch, &Audio::Sound(Sound::Tone(mailbox::BEEP.to_owned())), BargeIn::NONE).await?;
    let limits = ch.call.sw.config.voicemail;
    let spec = RecordSpec {
        max_duration: limits.max_message,
        max_silence: Some(limits.silence),
        finish_on_key: "#".into(),
        background: false,
    };
    let recording = ch.record(&spec).await?;
    // The recording is the message's, not the call's.
    ch.p.recording = None;
    let workspace_id = ch.p.workspace_id;
    let recorded =
        ch.call.sw.config.recordings.as_ref().map(|r| r.join(workspace_id.to_string()).join(&recording.id));
    let duration_ms = i64::try_from(recording.duration.as_millis()).unwrap_or(i64::MAX);
    if let Some(from) = recorded {
        if duration_ms < SHORTEST_MESSAGE_MS {
            let _ = std::fs::remove_file(&from);
        } else {
            keep(ch, settings, &from, duration_ms, data_dir).await;
        }
    }
    if recording.ended_by != RecordEnd::HungUp {
        play(ch, &say(mailbox::GOODBYE), BargeIn::NONE).await?;
    }
    Ok(())
}

/// Moves the recorded file into the mailbox, stores the message and tells
/// the agent's phones.
async fn keep(
    ch: &mut AppChannel<'_>,
    settings: &Settings,
    from: &std::path::Path,
    duration_ms: i64,
    data_dir: &std::path::Path,
) {
    let workspace_id = ch.p.workspace_id;
    let dir = messages::folder(data_dir, workspace_id);
    let name = format!("{}.wav", ch.p.uuid_a);
    let to = dir.join(&name);
    let moved = std::fs::create_dir_all(&dir).and_then(|_| {
        std::fs::rename(from, &to)
            .or_else(|_| std::fs::copy(from, &to).and_then(|_| std::fs::remove_file(from)))
    });
    if let Err(e) = moved {
        tracing::error!(error = %e, to = %to.display(), "the voicemail message could not be kept");
        return;
    }
    let size = std::fs::metadata(&to).map_or(0, |m| i64::try_from(m.len()).unwrap_or(i64::MAX));
    let caller_name = ch.caller_display();
    let message = NewMessage {
        agent_id: settings.agent_id,
        caller: ch.p.caller.clone(),
        caller_name,
        call_ref: ch.p.uuid_a.clone(),
        duration_ms,
        size,
        file: name,
    };
    let sw = ch.call.sw.clone();
    match messages::add(&sw.db, workspace_id, message, ch.call.now()).await {
        Ok(r) => {
            tracing::info!(agent = %settings.extension, message = r.id, duration_ms, "a voicemail message was left");
            ch.call.publish(
                "voicemail.left",
                json!({"agent": settings.extension, "messageId": r.id, "durationMs": duration_ms}),
            );
            let extension = settings.extension.clone();
            let agent_id = settings.agent_id;
            tokio::spawn(async move {
                crate::voicemail::mwi::mailbox_changed(&sw, workspace_id, agent_id, &extension).await;
            });
        }
        Err(e) => {
            tracing::error!(error = %e, "the voicemail message could not be stored");
            let _ = std::fs::remove_file(&to);
        }
    }
}

/// Reads keys until `#`, a pause, or `max` of them (`first` is one
/// already pressed).
async fn read_digits(
    ch: &mut AppChannel<'_>,
    first: Option<char>,
    max: usize,
) -> Result<String, ChannelError> {
    let mut digits = String::new();
    if let Some(d) = first {
        if d == '#' {
            return Ok(digits);
        }
        digits.push(d);
    }
    let listen = Listen { timeout: KEY_WAIT, dtmf: true, speech: None };
    while digits.len() < max {
        match ch.input(&listen).await? {
            Heard::Digit('#') | Heard::Timeout => break,
            Heard::Digit(d) => digits.push(d),
            Heard::Speech { .. } => {}
        }
    }
    Ok(digits)
}

/// Listening to one's mailbox.
async fn listen(
    ch: &mut AppChannel<'_>,
    settings: &Settings,
    data_dir: &std::path::Path,
) -> Result<(), ChannelError> {
    ch.answer().await?;
    if !settings.pin.is_empty() {
        let mut tries = 0;
        loop {
            let first = match play(ch, &say(mailbox::ENTER_PIN), DTMF).await? {
                Played::Digit(d) => Some(d),
                _ => None,
            };
            let entered = read_digits(ch, first, settings.pin.len().clamp(1, MAX_PIN)).await?;
            if settings.pin_matches(&entered) {
                break;
            }
            tries += 1;
            tracing::info!(agent = %settings.extension, tries, "a wrong voicemail PIN");
            play(ch, &say(mailbox::WRONG_PIN), BargeIn::NONE).await?;
            if tries >= mailbox::PIN_TRIES {
                play(ch, &say(mailbox::GOODBYE), BargeIn::NONE).await?;
                return Ok(());
            }
        }
    }
    let workspace_id = ch.p.workspace_id;
    let sw = ch.call.sw.clone();
    let all = messages::list(&sw.db, workspace_id, settings.agent_id)
        .await
        .map_err(|e| ChannelError::Failed(format!("the mailbox cannot be read: {e}")))?;
    let (mut queue, saved): (Vec<Record>, Vec<Record>) = all.into_iter().partition(messages::is_new);
    let new = queue.len() as u64;
    play(ch, &say(&mailbox::count_prompt(new, saved.len() as u64)), BargeIn::NONE).await?;
    queue.extend(saved);
    let mut changed = false;
    let result = async {
        for message in &queue {
            let Some(path) = messages::file_path(data_dir, workspace_id, message) else { continue };
            let sound = Audio::Sound(Sound::Media(MediaRef {
                id: Some(message.id),
                path: path.display().to_string(),
                kind: "VOICEMAIL".into(),
            }));
            let played = play(ch, &sound, DTMF).await?;
            tracing::debug!(message = message.id, played = ?played, "a voicemail message was played");
            let mut key = match played {
                Played::Digit(d) => Some(d),
                _ => None,
            };
            let mut rounds = 0;
            let action = loop {
                if let Some(d) = key.take() {
                    match MenuKey::of(d) {
                        MenuKey::Other if rounds < 3 => {}
                        MenuKey::Other => break MenuKey::Next,
                        k => break k,
                    }
                }
                rounds += 1;
                key = match play(ch, &say(mailbox::MENU), DTMF).await? {
                    Played::Digit(d) => Some(d),
                    _ => match ch.input(&Listen { timeout: KEY_WAIT, dtmf: true, speech: None }).await? {
                        Heard::Digit(d) => Some(d),
                        _ => None,
                    },
                };
                if key.is_none() {
                    break MenuKey::Next;
                }
            };
            tracing::info!(agent = %settings.extension, message = message.id, action = ?action, "a voicemail message was heard");
            let now = ch.call.now();
            let stored = match action {
                MenuKey::Delete => {
                    let done = messages::remove(&sw.db, data_dir, workspace_id, &Key::Id(message.id)).await;
                    if done.is_ok() {
                        play(ch, &say("Message deleted."), BargeIn::NONE).await?;
                    }
                    done.map(|_| ())
                }
                MenuKey::Save => {
                    let done = messages::save(&sw.db, workspace_id, message.id, now).await;
                    if done.is_ok() {
                        play(ch, &say("Message saved."), BargeIn::NONE).await?;
                    }
                    done
                }
                _ if messages::is_new(message) => messages::save(&sw.db, workspace_id, message.id, now).await,
                _ => Ok(()),
            };
            match stored {
                Ok(()) => changed = true,
                Err(e) => tracing::warn!(error = %e, message = message.id, "a voicemail change was not stored"),
            }
        }
        play(ch, &say(mailbox::NO_MORE), BargeIn::NONE).await?;
        Ok(())
    }
    .await;
    if changed {
        crate::voicemail::mwi::mailbox_changed(&sw, workspace_id, settings.agent_id, &settings.extension)
            .await;
    }
    result
}
