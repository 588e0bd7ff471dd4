//! Feature codes (`*72...`): which dialled numbers are a feature rather
//! than a destination, with the default codes a workspace has until it
//! configures its own.

use store::Record;

use super::plan::Feature;
use super::prefix::PrefixMap;

/// Call forwarding unconditional (CFU): set (the number follows the code).
pub const CFU_SET: &str = "FS_DEST_FUNC_CALL_FORWARDING";
/// Call forwarding unconditional: cancel.
pub const CFU_CANCEL: &str = "FS_DEST_FUNC_CALL_FORWARDING_CANCEL";
/// Call forwarding on busy: set.
pub const BUSY_SET: &str = "FS_DEST_FUNC_CALL_FORWARD_BUSY";
/// Call forwarding on busy: cancel.
pub const BUSY_CANCEL: &str = "FS_DEST_FUNC_CALL_FORWARD_BUSY_CANCEL";
/// Call forwarding on no answer: set.
pub const NO_ANSWER_SET: &str = "FS_DEST_FUNC_CALL_FORWARD_WITHOUT_RESPONSE";
/// Call forwarding on no answer: cancel.
pub const NO_ANSWER_CANCEL: &str = "FS_DEST_FUNC_CALL_FORWARD_WITHOUT_RESPONSE_CANCEL";
/// Do-not-disturb: on.
pub const DND_ON: &str = "FS_DEST_FUNC_CALL_DND";
/// Do-not-disturb: off.
pub const DND_OFF: &str = "FS_DEST_FUNC_CALL_DND_CANCEL";

/// Listen to an extension's live call unheard (the extension follows).
pub const EAVESDROP: &str = "FS_DEST_EAVESDROP";
/// Speak to an extension in a live call, unheard by the other party
/// (Calliope's own type; the extension follows).
pub const WHISPER: &str = "FS_DEST_WHISPER";
/// Join an extension's live call as a third party (barge).
pub const FORCE_INSERT: &str = "FS_DEST_FORCE_INSERT";
/// Hang up an extension's live call.
pub const FORCE_BREAKDOWN: &str = "FS_DEST_FORCE_BREAKDOWN";
/// Answer the call ringing an agent of the caller's pickup group.
pub const GROUP_PICKUP: &str = "FS_DEST_LAST_INTERCEPT";
/// Answer the call ringing the extension that follows.
pub const DIRECTED_PICKUP: &str = "FS_DEST_DEST_INTERCEPT";
/// Start or stop recording the caller's own live call.
pub const RECORD: &str = "FS_DEST_FUNC_CALL_RECORD";
/// Voicemail: listen to one's own mailbox.
pub const VOICEMAIL: &str = "FS_DEST_FUNC_CALL_VOICEMAIL";

/// The codes a workspace has for the routing features until it stores a
/// code of that type (the codes Asterisk/FreePBX phones users know).
pub const DEFAULT_CODES: &[(&str, &str)] = &[
    ("*72", CFU_SET),
    ("*73", CFU_CANCEL),
    ("*90", BUSY_SET),
    ("*91", BUSY_CANCEL),
    ("*52", NO_ANSWER_SET),
    ("*53", NO_ANSWER_CANCEL),
    ("*78", DND_ON),
    ("*79", DND_OFF),
    ("*33", EAVESDROP),
    ("*34", WHISPER),
    ("*35", FORCE_INSERT),
    ("*36", FORCE_BREAKDOWN),
    ("*8", GROUP_PICKUP),
    ("**", DIRECTED_PICKUP),
    ("*1", RECORD),
    ("*97", VOICEMAIL),
];

/// Whether a feature of type `func_type` is followed by digits (a number
/// to forward to, an extension): its code then starts the dialled number;
/// codes of the other routing features must be dialled alone.
pub fn takes_argument(func_type: &str) -> bool {
    !matches!(
        func_type,
        CFU_CANCEL | BUSY_CANCEL | NO_ANSWER_CANCEL | DND_ON | DND_OFF | GROUP_PICKUP | RECORD | VOICEMAIL
    )
}

/// A workspace's enabled feature codes, by code.
#[derive(Debug, Clone, Default)]
pub struct Features {
    codes: PrefixMap<String>,
}

impl Features {
    /// The codes of `rows` (`func_codes`) that are not disabled, and the
    /// default code of every routing feature for which `rows` hold no code
    /// of that type and no row uses the default's digits. A disabled row
    /// switches its feature off: its digits route as dialled.
    pub fn build(rows: &[Record]) -> Features {
        let mut codes = PrefixMap::default();
        for row in rows {
            let code = row.text("func_code").trim();
            if code.is_empty() || super::snapshot::flag(row, "disabled", false) {
                continue;
            }
            codes.entry(code, || row.text("func_type").to_owned());
        }
        for (code, kind) in DEFAULT_CODES {
            let taken =
                rows.iter().any(|r| r.text("func_type") == *kind || r.text("func_code").trim() == *code);
            if !taken {
                codes.entry(code, || (*kind).to_owned());
            }
        }
        Features { codes }
    }

    /// The feature `dialled` invokes: the longest enabled code that starts
    /// it (or equals it, for features without an argument), with the
    /// digits after the code.
    pub fn feature(&self, dialled: &str) -> Option<Feature> {
        self.codes.matches(dialled).find_map(|(code, kind)| {
            let arg = &dialled[code.len()..];
            (arg.is_empty() || takes_argument(kind))
                .then(|| Feature { func_type: kind.clone(), arg: arg.to_owned() })
        })
    }

    /// How many codes are in effect.
    pub fn len(&self) -> usize {
        self.codes.len()
    }

    /// Whether no code is in effect.
    pub fn is_empty(&self) -> bool {
        self.codes.len() == 0
    }
}
