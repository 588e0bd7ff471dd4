//! The conference mixer's benchmark (issue 13): the real room tick
//! (`engine::conference::bench::BenchRoom`: mix-minus, tones, each
//! member's queues) for one room of 100 members and for 100 rooms of 3,
//! timed per 20 ms tick on one core (and both again with NCCO `canSpeak`
//! / `canHear` lists, which route voices per listener); and, beside it, the G.711 work each
//! member's own media session does per tick (decode what it said, encode
//! what it hears), which runs in the member's call task, not the room's.
//!
//! Each tick is measured twice: by the wall clock, and by the CPU time
//! of the benchmark's own thread (`CLOCK_THREAD_CPUTIME_ID`). On a busy
//! machine the wall time also counts the time other processes held the
//! core; the thread's CPU time does not, so it is the figure that holds
//! there. Their difference is shown as the time the thread waited.
//!
//! `cargo run --release -p media-bench --bin conference-bench [-- --ticks N]`

use std::time::{Duration, Instant};

use engine::conference::bench::BenchRoom;
use engine::conference::Audience;
use media::g711::Law;
use rustix::time::{clock_gettime, ClockId};

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

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

/// The CPU time the calling thread has used so far (zero if the clock
/// cannot be read, which Linux never does for this clock).
fn thread_cpu() -> Duration {
    Duration::try_from(clock_gettime(ClockId::ThreadCPUTime)).unwrap_or_default()
}

/// The wall time and the thread's CPU time `work` takes. The CPU clock is
/// read inside the wall clock's span, so that the wall time is never the
/// shorter of the two by the clocks' own reading.
fn timed(work: impl FnOnce()) -> (Duration, Duration) {
    let wall = Instant::now();
    let cpu = thread_cpu();
    work();
    let cpu = thread_cpu().saturating_sub(cpu);
    (wall.elapsed(), cpu)
}

/// A voice frame: a 440 Hz tone at about -16 dBFS.
fn voice() -> [i16; 160] {
    let mut f = [0i16; 160];
    for (i, s) in f.iter_mut().enumerate() {
        *s = ((i as f32 * 2.0 * std::f32::consts::PI * 440.0 / 8000.0).sin() * 5000.0) as i16;
    }
    f
}

/// A room of `members` with NCCO lists: member 0 is heard by leg 1 alone
/// (`canSpeak`), and member 1 hears leg 0 alone (`canHear`): every other
/// listener misses one voice, and member 1 hears one.
fn whisper_room(members: usize) -> BenchRoom {
    BenchRoom::with_audience(members, |i| match i {
        0 => Audience { speak_to: Some(vec!["leg-1".into()]), hear_from: None },
        1 => Audience { speak_to: None, hear_from: Some(vec!["leg-0".into()]) },
        _ => Audience::default(),
    })
}

fn run(rooms: usize, members: usize, ticks: usize) {
    run_rooms(rooms, members, ticks, "", BenchRoom::new);
}

fn run_rooms(rooms: usize, members: usize, ticks: usize, what: &str, make: fn(usize) -> BenchRoom) {
    let mut all: Vec<BenchRoom> = (0..rooms).map(|_| make(members)).collect();
    let frame = voice();
    let (mut walls, mut cpus) = (Vec::with_capacity(ticks), Vec::with_capacity(ticks));
    let mut given = 0usize;
    for t in 0..ticks + 50 {
        for r in &mut all {
            r.speak(&frame);
        }
        let (wall, cpu) = timed(|| {
            for r in &mut all {
                r.tick();
            }
        });
        for r in &mut all {
            given += r.drain();
        }
        // The first 50 ticks warm the caches up.
        if t >= 50 {
            walls.push(wall);
            cpus.push(cpu);
        }
    }
    let (wall, cpu) = (figures(walls), figures(cpus));
    let n = (rooms * members) as f64;
    println!("{rooms} room(s) of {members}{what}, mixing per 20 ms tick:");
    println!(
        "  CPU time of the thread: mean {:.1} us, p99 {:.1} us, max {:.1} us; {:.2} us per member; \
         {:.2}% of one core",
        us(cpu.mean),
        us(cpu.p99),
        us(cpu.max),
        us(cpu.mean) / n,
        cpu.mean.as_secs_f64() / 0.020 * 100.0,
    );
    println!(
        "  wall time:              mean {:.1} us, p99 {:.1} us, max {:.1} us; {:.2} us per member; \
         waited (wall - CPU) mean {:.1} us",
        us(wall.mean),
        us(wall.p99),
        us(wall.max),
        us(wall.mean) / n,
        us(wall.mean.saturating_sub(cpu.mean)),
    );
    println!("  frames given {given}");
}

/// The per-member G.711 work of its session each tick (decode 160
/// samples in, encode 160 out).
fn g711(ticks: usize) {
    let frame = voice();
    let law = Law::Ulaw;
    let coded: Vec<u8> = frame.iter().map(|&s| law.encode(s)).collect();
    let mut sink = 0i64;
    let (wall, cpu) = timed(|| {
        for _ in 0..ticks {
            for &b in &coded {
                sink += i64::from(law.decode(b));
            }
            for &s in &frame {
                sink += i64::from(law.encode(s));
            }
        }
    });
    let per = |d: Duration| us(d) / ticks as f64;
    println!(
        "G.711 decode + encode of one member's 20 ms: CPU {:.2} us, wall {:.2} us ({sink})",
        per(cpu),
        per(wall)
    );
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
    run_rooms(1, 100, ticks, " (canSpeak / canHear lists)", whisper_room);
    run_rooms(100, 3, ticks, " (canSpeak / canHear lists)", whisper_room);
    g711(ticks * 10);
}
