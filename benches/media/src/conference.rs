//! The conference mixer's benchmark (issue 13): the real room tick
//! (`engine::conference::bench::BenchRoom`: mix-minus, tones, each
//! member's queues) for one room of 100 members and for 100 rooms of 3,
//! timed per 20 ms tick on one core; and, beside it, the G.711 work each
//! member's own media session does per tick (decode what it said, encode
//! what it hears), which runs in the member's call task, not the room's.
//!
//! `cargo run --release -p media-bench --bin conference-bench [-- --ticks N]`

use std::time::{Duration, Instant};

use engine::conference::bench::BenchRoom;
use media::g711::Law;

/// One tick's figures over a run.
struct Figures {
    mean: Duration,
    p99: Duration,
    max: Duration,
}

fn figures(mut samples: Vec<Duration>) -> Figures {
    samples.sort();
    let n = samples.len().max(1);
    let total: Duration = samples.iter().sum();
    Figures {
        mean: total / n as u32,
        p99: samples.get(n * 99 / 100).copied().unwrap_or_default(),
        max: samples.last().copied().unwrap_or_default(),
    }
}

/// A voice frame: a 440 Hz tone at about -16 dBFS.
fn voice() -> [i16; 160] {
    let mut f = [0i16; 160];
    for (i, s) in f.iter_mut().enumerate() {
        *s = ((i as f32 * 2.0 * std::f32::consts::PI * 440.0 / 8000.0).sin() * 5000.0) as i16;
    }
    f
}

fn run(rooms: usize, members: usize, ticks: usize) {
    let mut all: Vec<BenchRoom> = (0..rooms).map(|_| BenchRoom::new(members)).collect();
    let frame = voice();
    let mut times = Vec::with_capacity(ticks);
    let mut given = 0usize;
    for t in 0..ticks + 50 {
        for r in &mut all {
            r.speak(&frame);
        }
        let start = Instant::now();
        for r in &mut all {
            r.tick();
        }
        let took = start.elapsed();
        for r in &mut all {
            given += r.drain();
        }
        // The first 50 ticks warm the caches up.
        if t >= 50 {
            times.push(took);
        }
    }
    let f = figures(times);
    let n = (rooms * members) as f64;
    let per_member_us = f.mean.as_secs_f64() * 1e6 / n;
    println!(
        "{rooms} room(s) of {members}: mixing per 20 ms tick mean {:.1} us, p99 {:.1} us, max {:.1} us; \
         {per_member_us:.2} us per member per tick; {:.2}% of one core; frames given {given}",
        f.mean.as_secs_f64() * 1e6,
        f.p99.as_secs_f64() * 1e6,
        f.max.as_secs_f64() * 1e6,
        f.mean.as_secs_f64() / 0.020 * 100.0,
    );
}

/// The per-member G.711 work of its session each tick (decode 160
/// samples in, encode 160 out).
fn g711(ticks: usize) {
    let frame = voice();
    let law = Law::Ulaw;
    let coded: Vec<u8> = frame.iter().map(|&s| law.encode(s)).collect();
    let start = Instant::now();
    let mut sink = 0i64;
    for _ in 0..ticks {
        for &b in &coded {
            sink += i64::from(law.decode(b));
        }
        for &s in &frame {
            sink += i64::from(law.encode(s));
        }
    }
    let per = start.elapsed().as_secs_f64() * 1e6 / ticks as f64;
    println!("G.711 decode + encode of one member's 20 ms: {per:.2} us ({sink})");
}

fn main() {
    let mut ticks = 3000usize;
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        if a == "--ticks" {
            ticks = it.next().and_then(|v| v.parse().ok()).unwrap_or(ticks);
        }
    }
    run(1, 100, ticks);
    run(100, 3, ticks);
    g711(ticks * 10);
}
