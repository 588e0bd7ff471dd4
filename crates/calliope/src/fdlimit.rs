//! The process's file descriptor limit (`RLIMIT_NOFILE`): its soft limit
//! raised to the hard one at start, since every anchored call holds four
//! sockets and the default soft limit (often 1024) runs out long before
//! the hard one.
//!
//! The hard limit is left as it is, even when the process could raise it
//! (root, `CAP_SYS_RESOURCE`, up to `fs.nr_open`): it is the ceiling the
//! operator set (systemd's `LimitNOFILE=`, `prlimit`, a container's
//! `--ulimit`), and a server lifting it would make that setting useless,
//! to those who run it as root most of all (`tests/overload.rs` runs it
//! under `prlimit --nofile=116:116` as root, to see calls refused). Under
//! a hard limit too low for the load, calls are refused with 503 and
//! Retry-After and a warning names the limit; the fix is the
//! service's: `LimitNOFILE=1048576` in its unit, as FreeSWITCH's has (the
//! kernel grows a process's table only as descriptors are opened, so a
//! high limit costs nothing idle). `benches/sip/run` starts Calliope so.

use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};

/// The soft limit tried when the hard one is unlimited (Linux refuses
/// more than `fs.nr_open`, 1 048 576 by default).
const UNLIMITED_TRY: u64 = 1 << 20;

/// What raising the limit did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Raised {
    /// The soft limit before.
    pub was: Option<u64>,
    /// The soft limit now in force (`None`: unlimited).
    pub now: Option<u64>,
    /// The hard limit.
    pub hard: Option<u64>,
}

impl Raised {
    /// The limit new calls are admitted against (`None`: unlimited).
    pub fn limit(&self) -> Option<usize> {
        self.now.map(|n| usize::try_from(n).unwrap_or(usize::MAX))
    }
}

/// Raises the soft limit to the hard limit (or as high as the kernel
/// allows when the hard one is unlimited) and says what it is now.
pub fn raise() -> Raised {
    let before = getrlimit(Resource::Nofile);
    let target = before.maximum.unwrap_or(UNLIMITED_TRY);
    if before.current.is_some_and(|soft| soft < target) {
        let raised = setrlimit(Resource::Nofile, Rlimit { current: Some(target), maximum: before.maximum });
        if let Err(e) = raised {
            tracing::warn!(error = %e, target, "cannot raise the file descriptor limit");
        }
    }
    let after = getrlimit(Resource::Nofile);
    Raised { was: before.current, now: after.current, hard: after.maximum }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_soft_limit_ends_at_the_hard_one() {
        let r = raise();
        assert!(r.now >= r.was || r.now.is_none(), "{r:?}");
        if let (Some(now), Some(hard)) = (r.now, r.hard) {
            assert_eq!(now, hard, "{r:?}");
        }
        assert_eq!(raise().now, r.now, "a second raise changes nothing");
    }
}
