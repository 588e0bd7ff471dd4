//! Router benchmark: routing decisions per second and snapshot rebuild
//! time on a workspace of 100k routes, 10k numbers and 1k lists.
//! `cargo bench -p engine --bench router` (see README.md next to it).

#![allow(clippy::field_reassign_with_default)]

use std::time::Instant;

use engine::router::{route, Inbound, Plan, Snapshot, Source, Tables};
use jiff::tz::TimeZone;
use store::{Record, Value};

const ROUTES: i64 = 100_000;
const NUMBERS: i64 = 10_000;
const LISTS: i64 = 1_000;
const LIST_NUMBERS: i64 = 20;
const CONTEXTS: i64 = 10;
const DECISIONS: usize = 1_000_000;

/// xorshift64: the same tables every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
    fn digits(&mut self, len: usize) -> String {
        (0..len).map(|_| char::from(b'0' + self.next(10) as u8)).collect()
    }
}

fn rec(id: i64, fields: Vec<(&'static str, Value)>) -> Record {
    Record {
        id,
        r#ref: String::new(),
        workspace_id: Some(1),
        created_at: 0,
        updated_at: 0,
        values: fields.into_iter().collect(),
    }
}

fn tables(rng: &mut Rng) -> Tables {
    let mut t = Tables::default();
    t.contexts = (1..=CONTEXTS).map(|c| rec(c, vec![("key", Value::from(format!("context-{c}")))])).collect();
    t.gateways = (1..=10)
        .map(|g| {
            rec(g, vec![("name", Value::from(format!("gw{g}"))), ("realm", Value::from("gw.example.com"))])
        })
        .collect();
    t.agents = (1..=1000).map(|a| rec(a, vec![("username", Value::from(format!("{}", 1000 + a)))])).collect();
    t.blacklists = (1..=LISTS)
        .map(|l| {
            rec(
                l,
                vec![
                    ("name", Value::from(format!("l{l}"))),
                    ("list_type", Value::Int(0)),
                    ("limit_user_type", Value::Int(2)),
                ],
            )
        })
        .collect();
    let mut pid = 0;
    for l in 1..=LISTS {
        for _ in 0..LIST_NUMBERS {
            pid += 1;
            let len = 4 + rng.next(6) as usize;
            t.params.push(rec(
                pid,
                vec![
                    ("realm", Value::from("BLACKLIST")),
                    ("ref_id", Value::Int(l)),
                    ("k", Value::from("n")),
                    ("v", Value::from(rng.digits(len))),
                ],
            ));
        }
    }
    for r in 1..=ROUTES {
        let len = 2 + rng.next(7) as usize;
        let mut fields = vec![
            ("name", Value::from(format!("r{r}"))),
            ("prefix", Value::from(rng.digits(len))),
            ("max_length", Value::Int(len as i64 + 4 + rng.next(8) as i64)),
            ("context", Value::from(format!("context-{}", 1 + rng.next(CONTEXTS as u64)))),
            ("dest_type", Value::from("FS_DEST_GATEWAY")),
            ("dest_uuid", Value::from(format!("{}", 1 + rng.next(10)))),
        ];
        if rng.next(2) == 0 {
            fields.push(("blacklist", Value::from(format!("{}", 1 + rng.next(LISTS as u64)))));
        }
        if rng.next(4) == 0 {
            fields.push(("dnc", Value::from("1:+86")));
        }
        t.routes.push(rec(r, fields));
        if r % 50 == 0 {
            t.time_recurrences.push(rec(
                r,
                vec![
                    ("route_id", Value::Int(r)),
                    ("time_recurrence", Value::from("20230102T180000|PT14H|daily||1|MO,TU,WE,TH,FR")),
                    ("dest_type", Value::from("FS_DEST_USER")),
                    ("dest_uuid", Value::from("1001")),
                ],
            ));
        }
        if r % 10 == 0 {
            pid += 1;
            t.params.push(rec(
                pid,
                vec![
                    ("realm", Value::from("ROUTE")),
                    ("ref_id", Value::Int(r)),
                    ("k", Value::from("set")),
                    ("v", Value::from("effective_caller_id_number=+15550000")),
                ],
            ));
        }
    }
    t.numbers = (1..=NUMBERS)
        .map(|n| {
            rec(
                n,
                vec![
                    ("line_number", Value::from(format!("+1555{:07}", n))),
                    ("agent_id", Value::Int(1 + n % 1000)),
                ],
            )
        })
        .collect();
    t
}

fn main() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let t0 = Instant::now();
    let tables = tables(&mut rng);
    println!(
        "generated {} routes, {} numbers, {} lists ({} list numbers) in {:.2?}",
        tables.routes.len(),
        tables.numbers.len(),
        tables.blacklists.len(),
        LISTS * LIST_NUMBERS,
        t0.elapsed()
    );

    let mut builds = Vec::new();
    let mut snapshot = None;
    for _ in 0..5 {
        let t = Instant::now();
        let s = Snapshot::build(1, &tables, TimeZone::UTC);
        builds.push(t.elapsed());
        snapshot = Some(s);
    }
    builds.sort();
    let Some(snapshot) = snapshot else { return };
    println!("snapshot build: median {:.1?}, best {:.1?} (5 runs)", builds[2], builds[0]);

    let calls: Vec<Inbound> = (0..100_000)
        .map(|k| {
            let len = 6 + rng.next(8) as usize;
            let callee = if k % 10 == 0 {
                format!("+1555{:07}", 1 + rng.next(NUMBERS as u64))
            } else {
                rng.digits(len)
            };
            let context = format!("context-{}", 1 + rng.next(CONTEXTS as u64));
            Inbound::new(Source::Agent(1), &context, &rng.digits(8), &callee)
        })
        .collect();
    let now = 1_704_103_200_000; // Monday 10:00 UTC
    let (mut routed, mut rejected) = (0usize, 0usize);
    let t = Instant::now();
    for k in 0..DECISIONS {
        match route(&snapshot, &calls[k % calls.len()], now + (k as i64 % 86_400) * 1000) {
            Plan::Route(_) => routed += 1,
            Plan::Reject(_) | Plan::Feature(_) => rejected += 1,
        }
    }
    let spent = t.elapsed();
    println!(
        "{DECISIONS} decisions in {spent:.2?}: {:.0} per second on one core ({routed} routed, {rejected} refused)",
        DECISIONS as f64 / spent.as_secs_f64()
    );
}
