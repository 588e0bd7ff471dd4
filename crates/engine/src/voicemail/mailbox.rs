//! The mailbox rules, without I/O: an agent's voicemail settings, the
//! cap on a mailbox, the prompts, the PIN and the listening menu's keys.

use std::time::Duration;

use store::Record;

/// How many wrong PINs end a listening call.
pub const PIN_TRIES: u32 = 3;

/// The caps the server configuration sets on every mailbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Messages a mailbox holds at most (new and saved); a full mailbox
    /// takes no more.
    pub max_messages: u64,
    /// The longest message; the recording stops there.
    pub max_message: Duration,
    /// Silence that ends a message.
    pub silence: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits { max_messages: 100, max_message: Duration::from_secs(180), silence: Duration::from_secs(5) }
    }
}

impl Limits {
    /// Whether a mailbox holding `count` messages takes one more.
    pub fn has_room(&self, count: u64) -> bool {
        count < self.max_messages
    }
}

/// An agent's voicemail settings, from its record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// The agent.
    pub agent_id: i64,
    /// Its extension.
    pub extension: String,
    /// Voicemail on.
    pub enabled: bool,
    /// The PIN (empty: none asked).
    pub pin: String,
    /// The uploaded greeting (a media record), if one.
    pub greeting_id: Option<i64>,
    /// The greeting's text, spoken when no media is set.
    pub greeting_text: String,
}

impl Settings {
    /// The settings of the agent `record`.
    pub fn from_record(record: &Record) -> Settings {
        Settings {
            agent_id: record.id,
            extension: record.text("username").to_owned(),
            enabled: record.int("voicemail_enabled").unwrap_or(0) != 0,
            pin: record.text("voicemail_pin").trim().to_owned(),
            greeting_id: record.int("voicemail_greeting_id"),
            greeting_text: record.text("voicemail_greeting_text").trim().to_owned(),
        }
    }

    /// The text spoken as the greeting when no media file is set.
    pub fn greeting(&self) -> String {
        if self.greeting_text.is_empty() {
            standard_greeting(&self.extension)
        } else {
            self.greeting_text.clone()
        }
    }

    /// Whether `entered` opens the mailbox.
    pub fn pin_matches(&self, entered: &str) -> bool {
        self.pin.is_empty() || self.pin == entered
    }
}

/// The standard greeting of extension `extension`.
pub fn standard_greeting(extension: &str) -> String {
    let spaced: Vec<String> = extension.chars().map(String::from).collect();
    format!(
        "The person at extension {} is not available, please leave a message after the tone.",
        spaced.join(" ")
    )
}

/// The tone before the recording: 1 kHz for 500 ms.
pub const BEEP: &str = "tone_stream://%(500,0,1000)";

/// What a full mailbox tells the caller.
pub const FULL: &str = "The mailbox is full and cannot take a message. Goodbye.";
/// Asking the PIN.
pub const ENTER_PIN: &str = "Please enter your PIN, then press the hash key.";
/// A wrong PIN.
pub const WRONG_PIN: &str = "That PIN is not right.";
/// Leaving.
pub const GOODBYE: &str = "Goodbye.";
/// The keys while a message plays or after it.
pub const MENU: &str = "Press 7 to delete, 9 to save, or hash for the next message.";
/// After the last message.
pub const NO_MORE: &str = "No more messages. Goodbye.";

/// "You have N new messages" (and the saved ones).
pub fn count_prompt(new: u64, saved: u64) -> String {
    let plural = |n: u64, what: &str| format!("{n} {what} message{}", if n == 1 { "" } else { "s" });
    if saved == 0 {
        format!("You have {}.", plural(new, "new"))
    } else {
        format!("You have {} and {}.", plural(new, "new"), plural(saved, "saved"))
    }
}

/// What a key does to the message just played.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// 7: delete it.
    Delete,
    /// 9: keep it as saved.
    Save,
    /// #: the next message (a new one becomes saved: it was heard).
    Next,
    /// Anything else: the menu again.
    Other,
}

impl Key {
    /// The action of digit `d`.
    pub fn of(d: char) -> Key {
        match d {
            '7' => Key::Delete,
            '9' => Key::Save,
            '#' => Key::Next,
            _ => Key::Other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_counts_messages() {
        let l = Limits { max_messages: 2, ..Limits::default() };
        assert!(l.has_room(0) && l.has_room(1) && !l.has_room(2) && !l.has_room(9));
    }

    #[test]
    fn greetings_prompts_and_keys() {
        assert_eq!(
            standard_greeting("2002"),
            "The person at extension 2 0 0 2 is not available, please leave a message after the tone."
        );
        let mut s = Settings {
            agent_id: 1,
            extension: "2002".into(),
            enabled: true,
            pin: "1234".into(),
            greeting_id: None,
            greeting_text: String::new(),
        };
        assert!(s.greeting().contains("2 0 0 2"));
        s.greeting_text = "Hi, leave a message".into();
        assert_eq!(s.greeting(), "Hi, leave a message");
        assert!(s.pin_matches("1234") && !s.pin_matches("1235") && !s.pin_matches(""));
        s.pin.clear();
        assert!(s.pin_matches(""), "no PIN set: none asked");
        assert_eq!(count_prompt(1, 0), "You have 1 new message.");
        assert_eq!(count_prompt(0, 2), "You have 0 new messages and 2 saved messages.");
        assert_eq!(
            [Key::of('7'), Key::of('9'), Key::of('#'), Key::of('1')],
            [Key::Delete, Key::Save, Key::Next, Key::Other]
        );
    }
}
