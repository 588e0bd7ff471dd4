//! Trunk-group member selection: which member a call tries first and the
//! order of failover, as a pure function of a counter or a random value.

use super::snapshot::{Member, Strategy};

/// The order in which a call tries `members` (indices into it): the first
/// chosen by `strategy`, then the others by priority. `RR` starts at
/// `counter % n` and goes round; `WEIGHT` takes `random % total weight` to
/// pick the first in proportion to the weights (members of weight 0 are
/// only tried after the others). Empty when there are no members.
pub fn pick_members(members: &[Member], strategy: Strategy, counter: u64, random: u64) -> Vec<usize> {
    let n = members.len();
    if n == 0 {
        return Vec::new();
    }
    let first = match strategy {
        Strategy::RoundRobin => (counter % n as u64) as usize,
        Strategy::Weight => {
            let total: u64 = members.iter().map(|m| u64::from(m.weight)).sum();
            if total == 0 {
                0
            } else {
                let mut left = random % total;
                members
                    .iter()
                    .position(|m| {
                        let w = u64::from(m.weight);
                        if left < w {
                            true
                        } else {
                            left -= w;
                            false
                        }
                    })
                    .unwrap_or(0)
            }
        }
    };
    match strategy {
        Strategy::RoundRobin => (0..n).map(|i| (first + i) % n).collect(),
        Strategy::Weight => {
            let mut order = vec![first];
            let (heavy, light): (Vec<usize>, Vec<usize>) =
                (0..n).filter(|i| *i != first).partition(|i| members[*i].weight > 0);
            order.extend(heavy);
            order.extend(light);
            order
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(trunk_id: i64, weight: u32) -> Member {
        Member { trunk_id, weight, priority: 0 }
    }

    #[test]
    fn round_robin_spreads_evenly_and_fails_over_in_turn() {
        let ms = [m(1, 1), m(2, 1), m(3, 1)];
        let mut firsts = [0usize; 3];
        for counter in 0..300 {
            let order = pick_members(&ms, Strategy::RoundRobin, counter, 0);
            assert_eq!(order.len(), 3);
            firsts[order[0]] += 1;
        }
        assert_eq!(firsts, [100, 100, 100]);
        assert_eq!(pick_members(&ms, Strategy::RoundRobin, 4, 0), [1, 2, 0]);
        assert!(pick_members(&[], Strategy::RoundRobin, 4, 0).is_empty());
    }

    #[test]
    fn weights_give_proportions() {
        let ms = [m(1, 1), m(2, 3), m(3, 0)];
        let mut firsts = [0usize; 3];
        for random in 0..4000u64 {
            let order = pick_members(&ms, Strategy::Weight, 0, random.wrapping_mul(2_654_435_761));
            firsts[order[0]] += 1;
            assert_eq!(order.last(), Some(&2), "weight 0 last");
        }
        assert_eq!(firsts[2], 0, "weight 0 is never first");
        assert!((900..=1100).contains(&firsts[0]), "{firsts:?}");
        assert!((2900..=3100).contains(&firsts[1]), "{firsts:?}");
        let zero = [m(1, 0), m(2, 0)];
        assert_eq!(pick_members(&zero, Strategy::Weight, 0, 7), [0, 1]);
    }
}
