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

/// Who hears whom by name, beyond [`MemberFlags`]: NCCO `canSpeak` and
/// `canHear` as Vonage defines them, lists of leg (call) ids. `None` is
/// everybody (the default, and the cheap case: the room mixes with a
/// plain mix-minus while no member has a list).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Audience {
    /// NCCO `canSpeak`: the legs that hear this member; `None`: all.
    pub speak_to: Option<Vec<String>>,
    /// NCCO `canHear`: the legs this member hears; `None`: all.
    pub hear_from: Option<Vec<String>>,
}

impl Audience {
    /// Whether it names no legs (everybody hears it and it hears everybody).
    pub fn is_everybody(&self) -> bool {
        self.speak_to.is_none() && self.hear_from.is_none()
    }
}

/// Whether the listener (leg `listener`, with `heard_by` its audience)
/// hears the speaker (leg `speaker`, audience `speaks`) by their lists: the
/// speaker's `canSpeak` names the listener (or is everybody) and the
/// listener's `canHear` names the speaker (or is everybody). A member
/// without a leg id is heard, and hears, only where no list is given.
pub fn audible(speaker: Option<&str>, speaks: &Audience, listener: Option<&str>, hears: &Audience) -> bool {
    let names = |list: &Option<Vec<String>>, leg: Option<&str>| match list {
        None => true,
        Some(legs) => leg.is_some_and(|l| legs.iter().any(|x| x == l)),
    };
    names(&speaks.speak_to, listener) && names(&hears.hear_from, speaker)
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
    fn lists_name_who_hears_whom() {
        let all = Audience::default();
        assert!(audible(Some("a"), &all, Some("b"), &all));
        let to_b = Audience { speak_to: Some(vec!["b".into()]), hear_from: None };
        assert!(audible(Some("a"), &to_b, Some("b"), &all));
        assert!(!audible(Some("a"), &to_b, Some("c"), &all));
        assert!(!audible(Some("a"), &to_b, None, &all));
        let from_a = Audience { speak_to: None, hear_from: Some(vec!["a".into()]) };
        assert!(audible(Some("a"), &all, Some("c"), &from_a));
        assert!(!audible(Some("b"), &all, Some("c"), &from_a));
        assert!(!audible(None, &all, Some("c"), &from_a));
        // Both lists must agree.
        assert!(!audible(Some("a"), &to_b, Some("c"), &from_a));
    }

    #[test]
    fn the_room_ends_when_empty_or_at_end_on_exit() {
        assert!(ends_on_leave(&m(), 0));
        assert!(!ends_on_leave(&m(), 2));
        assert!(ends_on_leave(&MemberFlags { end_on_exit: true, ..m() }, 2));
    }
}
