//! The pure membership rules of a room: who is heard, what each member
//! hears, when the room starts and ends.

/// A member's switches, from the NCCO (`canSpeak`, `canHear`, `mute`,
/// `startOnEnter`, `endOnExit`) and the API (mute, deaf).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemberFlags {
    /// Muted by the API or the NCCO's `mute`: nobody hears it.
    pub muted: bool,
    /// Deafened by the API: it hears nothing.
    pub deaf: bool,
    /// NCCO `canSpeak` (false: never heard, whatever `muted` says).
    pub can_speak: bool,
    /// NCCO `canHear` (false: never hears, whatever `deaf` says).
    pub can_hear: bool,
    /// NCCO `startOnEnter`: the room starts when this member joins.
    pub start_on_enter: bool,
    /// NCCO `endOnExit`: the room ends when this member leaves.
    pub end_on_exit: bool,
}

impl Default for MemberFlags {
    fn default() -> Self {
        Self {
            muted: false,
            deaf: false,
            can_speak: true,
            can_hear: true,
            start_on_enter: true,
            end_on_exit: false,
        }
    }
}

impl MemberFlags {
    /// Whether the others hear this member (once the room has started).
    pub fn speaks(&self) -> bool {
        self.can_speak && !self.muted
    }

    /// Whether this member hears anything at all.
    pub fn hears(&self) -> bool {
        self.can_hear && !self.deaf
    }
}

/// What one member hears this tick.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hears {
    /// The mix of every other speaking member (and the room's tones).
    Mix,
    /// Music on hold: it is alone, or the room waits for a member with
    /// `startOnEnter` (and the room's tones).
    Hold,
    /// Silence: deaf or `canHear` false.
    Nothing,
}

/// Whether a room with these members has started: some member has
/// `startOnEnter`.
pub fn started<'a>(members: impl IntoIterator<Item = &'a MemberFlags>) -> bool {
    members.into_iter().any(|m| m.start_on_enter)
}

/// What a member hears in a room of `count` members that has `started`
/// or not.
pub fn hears(member: &MemberFlags, count: usize, started: bool) -> Hears {
    if !member.hears() {
        Hears::Nothing
    } else if !started || count <= 1 {
        Hears::Hold
    } else {
        Hears::Mix
    }
}

/// Whether a member's voice goes into the mix this tick.
pub fn in_mix(member: &MemberFlags, started: bool) -> bool {
    started && member.speaks()
}

/// Whether the room ends when `leaving` leaves and `remaining` members
/// stay.
pub fn ends_on_leave(leaving: &MemberFlags, remaining: usize) -> bool {
    remaining == 0 || leaving.end_on_exit
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m() -> MemberFlags {
        MemberFlags::default()
    }

    #[test]
    fn alone_hears_hold_then_the_mix() {
        assert_eq!(hears(&m(), 1, true), Hears::Hold);
        assert_eq!(hears(&m(), 2, true), Hears::Mix);
    }

    #[test]
    fn deaf_or_cannot_hear_hears_nothing_and_still_speaks() {
        let deaf = MemberFlags { deaf: true, ..m() };
        assert_eq!(hears(&deaf, 3, true), Hears::Nothing);
        assert!(in_mix(&deaf, true));
        let no_hear = MemberFlags { can_hear: false, ..m() };
        assert_eq!(hears(&no_hear, 1, false), Hears::Nothing);
    }

    #[test]
    fn muted_or_cannot_speak_is_unheard_but_hears() {
        let muted = MemberFlags { muted: true, ..m() };
        assert!(!in_mix(&muted, true));
        assert_eq!(hears(&muted, 2, true), Hears::Mix);
        let silent = MemberFlags { can_speak: false, ..m() };
        assert!(!in_mix(&silent, true));
    }

    #[test]
    fn a_room_waits_for_a_member_with_start_on_enter() {
        let waiting = MemberFlags { start_on_enter: false, ..m() };
        assert!(!started([&waiting, &waiting]));
        assert_eq!(hears(&waiting, 2, false), Hears::Hold);
        assert!(!in_mix(&waiting, false));
        assert!(started([&waiting, &m()]));
    }

    #[test]
    fn the_room_ends_when_empty_or_at_end_on_exit() {
        assert!(ends_on_leave(&m(), 0));
        assert!(!ends_on_leave(&m(), 2));
        assert!(ends_on_leave(&MemberFlags { end_on_exit: true, ..m() }, 2));
    }
}
