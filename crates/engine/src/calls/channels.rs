//! The live legs ("channels") by leg id, with the legs of each call beside
//! them, so that what a call does to its own legs (a state change, the
//! codec, its end) costs the size of that call, not a scan of every leg
//! live: under load each call did that several times over thousands of
//! legs. Both maps give back the room a burst of calls grew them to once
//! they are mostly empty.

use std::collections::HashMap;

use sip::Shrink;

use super::registry::Channel;

/// The legs, by id and by call.
#[derive(Debug, Default)]
pub(super) struct Channels {
    by_uuid: HashMap<String, Channel>,
    /// The ids of each call's legs (`Channel::call_uuid`).
    by_call: HashMap<String, Vec<String>>,
}

impl Channels {
    /// How many legs.
    pub(super) fn len(&self) -> usize {
        self.by_uuid.len()
    }

    /// The leg with id `uuid`.
    pub(super) fn get(&self, uuid: &str) -> Option<&Channel> {
        self.by_uuid.get(uuid)
    }

    /// Every leg, in no order.
    pub(super) fn values(&self) -> impl Iterator<Item = &Channel> {
        self.by_uuid.values()
    }

    /// Adds a leg, or replaces the one with its id.
    pub(super) fn insert(&mut self, channel: Channel) {
        let (uuid, call) = (channel.uuid.clone(), channel.call_uuid.clone());
        if let Some(old) = self.by_uuid.insert(uuid.clone(), channel) {
            self.unindex(&old.call_uuid, &uuid);
        }
        self.by_call.entry(call).or_default().push(uuid);
    }

    /// Removes the leg with id `uuid`.
    pub(super) fn remove(&mut self, uuid: &str) {
        if let Some(old) = self.by_uuid.remove(uuid) {
            self.unindex(&old.call_uuid, uuid);
        }
        self.shrink_when_sparse();
    }

    /// Applies `change` to every leg of call `call`.
    pub(super) fn update_call(&mut self, call: &str, mut change: impl FnMut(&mut Channel)) {
        let Channels { by_uuid, by_call } = self;
        let Some(ids) = by_call.get(call) else { return };
        let mut moved = Vec::new();
        for id in ids {
            if let Some(leg) = by_uuid.get_mut(id) {
                change(leg);
                if leg.call_uuid != call {
                    moved.push((id.clone(), leg.call_uuid.clone()));
                }
            }
        }
        // A change that gives a leg to another call keeps the index true.
        for (id, to) in moved {
            self.unindex(call, &id);
            self.by_call.entry(to).or_default().push(id);
        }
    }

    /// Removes every leg of call `call`.
    pub(super) fn remove_call(&mut self, call: &str) {
        for id in self.by_call.remove(call).unwrap_or_default() {
            self.by_uuid.remove(&id);
        }
        self.shrink_when_sparse();
    }

    fn shrink_when_sparse(&mut self) {
        self.by_uuid.shrink_when_sparse();
        self.by_call.shrink_when_sparse();
    }

    fn unindex(&mut self, call: &str, uuid: &str) {
        if let Some(ids) = self.by_call.get_mut(call) {
            ids.retain(|i| i != uuid);
            if ids.is_empty() {
                self.by_call.remove(call);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leg(uuid: &str, call: &str) -> Channel {
        Channel {
            uuid: uuid.into(),
            call_uuid: call.into(),
            workspace_id: 1,
            direction: "inbound",
            created_ms: 1,
            callstate: "RINGING",
            ..Channel::default()
        }
    }

    fn states(c: &Channels) -> Vec<(String, String, &'static str)> {
        let mut v: Vec<_> = c.values().map(|l| (l.uuid.clone(), l.call_uuid.clone(), l.callstate)).collect();
        v.sort();
        v
    }

    #[test]
    fn a_call_changes_and_removes_only_its_own_legs() {
        let mut c = Channels::default();
        c.insert(leg("a", "a"));
        c.insert(leg("b", "a"));
        c.insert(leg("x", "x"));
        c.update_call("a", |l| l.callstate = "ACTIVE");
        assert_eq!(c.get("x").map(|l| l.callstate), Some("RINGING"));
        assert_eq!(c.get("b").map(|l| l.callstate), Some("ACTIVE"));
        c.remove("b");
        c.insert(leg("b2", "a"));
        // Replacing a leg under another call moves it.
        c.insert(leg("x", "a"));
        c.update_call("a", |l| l.codec = "PCMA".into());
        assert!(c.values().all(|l| l.codec == "PCMA"));
        c.remove_call("a");
        assert_eq!(c.len(), 0);
        assert!(c.by_call.is_empty());
    }

    #[test]
    fn a_change_that_moves_a_leg_keeps_the_index_true() {
        let mut c = Channels::default();
        c.insert(leg("a", "a"));
        c.insert(leg("b", "a"));
        c.update_call("a", |l| {
            if l.uuid == "b" {
                l.call_uuid = "other".into();
            }
        });
        c.remove_call("a");
        assert_eq!(states(&c), vec![("b".into(), "other".into(), "RINGING")]);
        c.remove_call("other");
        assert_eq!(c.len(), 0);
    }

    #[test]
    fn the_maps_give_back_the_room_of_a_burst() {
        let mut c = Channels::default();
        for i in 0..10_000 {
            c.insert(leg(&format!("a{i}"), &format!("call{i}")));
            c.insert(leg(&format!("b{i}"), &format!("call{i}")));
        }
        let peak = (c.by_uuid.capacity(), c.by_call.capacity());
        for i in 0..9_990 {
            c.remove(&format!("a{i}"));
            c.remove_call(&format!("call{i}"));
        }
        assert_eq!(c.len(), 20);
        assert!(c.by_uuid.capacity() <= 1024 && c.by_uuid.capacity() < peak.0 / 8, "{peak:?}");
        assert!(c.by_call.capacity() <= 1024 && c.by_call.capacity() < peak.1 / 8, "{peak:?}");
        assert!(c.get("a9995").is_some() && c.get("b9999").is_some(), "the rest kept");
    }
}
