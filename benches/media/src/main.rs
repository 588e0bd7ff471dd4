//! The media benchmark's programs (run by `benches/media/run`):
//!
//! - `gen`: one UDP socket that sends 172-byte G.711 RTP packets at a
//!   given rate, round-robin to a range of ports (each with its own
//!   sequence), and counts what comes back to it;
//! - `relay`: Calliope's media sessions, one per call, two connected legs
//!   each, both legs' peer being the generator's socket;
//! - `process`: one session per call with one leg that plays a WAV file
//!   to the generator and records what the generator sends, on the tick.
//!
//! Servers print `ready rss_kb=<n> base_rss_kb=<n>` once set up and
//! `done cpu_s=<n> rss_kb=<n> secs=<n>` when their time is over.

use std::collections::HashMap;
use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use engine::media::{
    LegId, LegStats, MediaSession, PortPool, RecordMode, RecordSpec, RemoteMedia, SessionConfig,
};

type Args = HashMap<String, String>;

fn args() -> (String, Args) {
    let mut it = std::env::args().skip(1);
    let mode = it.next().unwrap_or_default();
    let mut map = HashMap::new();
    while let Some(k) = it.next() {
        if let Some(k) = k.strip_prefix("--") {
            map.insert(k.to_string(), it.next().unwrap_or_default());
        }
    }
    (mode, map)
}

fn num(a: &Args, k: &str, default: u64) -> u64 {
    a.get(k).and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn main() {
    let (mode, a) = args();
    let r = match mode.as_str() {
        "gen" => gen(&a),
        "relay" | "process" => server(&mode, &a),
        _ => Err("usage: media-bench gen|relay|process --key value ...".to_string()),
    };
    if let Err(e) = r {
        eprintln!("media-bench: {e}");
        std::process::exit(1);
    }
}

/// Resident memory and CPU seconds of this process, from /proc.
fn rss_kb() -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

fn cpu_s() -> f64 {
    let s = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the ")" of the command name: utime and stime are 14 and 15.
    let rest = s.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = [11, 12].iter().filter_map(|&i| f.get(i)?.parse::<u64>().ok()).sum();
    ticks as f64 / 100.0
}

fn gen(a: &Args) -> Result<(), String> {
    let port = num(a, "port", 29000) as u16;
    let base = num(a, "base", 30000) as u16;
    let stride = num(a, "stride", 2) as u16;
    let ports = num(a, "ports", 2).max(1) as usize;
    let pps = num(a, "pps", 100) as f64;
    let secs = num(a, "secs", 3) as f64;
    let payload_type = num(a, "pt", 0) as u8;
    let threads = num(a, "threads", 2).clamp(1, 16) as usize;

    let received = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    // Sockets sharing the port (SO_REUSEPORT): each thread sends to its
    // share of the ports; replies spread over the sockets by the kernel.
    let mut sockets = Vec::new();
    for _ in 0..threads {
        let sock = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::DGRAM, None)
            .map_err(|e| e.to_string())?;
        let _ = sock.set_recv_buffer_size(4 << 20);
        let _ = sock.set_send_buffer_size(4 << 20);
        sock.set_reuse_port(true).map_err(|e| e.to_string())?;
        sock.bind(&addr.into()).map_err(|e| format!("bind {addr}: {e}"))?;
        let sock: UdpSocket = sock.into();
        sock.set_read_timeout(Some(Duration::from_millis(100))).map_err(|e| e.to_string())?;
        sockets.push(sock);
    }
    let mut counters = Vec::new();
    for sock in &sockets {
        let rx = sock.try_clone().map_err(|e| e.to_string())?;
        let (received, stop) = (received.clone(), stop.clone());
        counters.push(std::thread::spawn(move || {
            let mut buf = [0u8; 2048];
            loop {
                match rx.recv_from(&mut buf) {
                    Ok(_) => {
                        received.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(_) if stop.load(Ordering::Relaxed) => return,
                    Err(_) => {}
                }
            }
        }));
    }

    let targets: Vec<SocketAddr> =
        (0..ports).map(|i| SocketAddr::from(([127, 0, 0, 1], base + stride * i as u16))).collect();
    let t0 = Instant::now();
    let c0 = cpu_s();
    let senders: Vec<_> = sockets
        .into_iter()
        .enumerate()
        .map(|(t, sock)| {
            let mine: Vec<SocketAddr> = targets.iter().skip(t).step_by(threads).copied().collect();
            let rate = pps * mine.len() as f64 / ports as f64;
            std::thread::spawn(move || send_loop(&sock, &mine, rate, secs, payload_type, t0))
        })
        .collect();
    let (mut sent, mut errors) = (0u64, 0u64);
    for s in senders {
        let (a, b) = s.join().unwrap_or((0, 0));
        sent += a;
        errors += b;
    }
    let elapsed = t0.elapsed().as_secs_f64();
    let in_window = received.load(Ordering::Relaxed);
    std::thread::sleep(Duration::from_millis(500));
    stop.store(true, Ordering::Relaxed);
    for c in counters {
        let _ = c.join();
    }
    let got = received.load(Ordering::Relaxed);
    let loss = if sent == 0 { 0.0 } else { 100.0 * (sent as f64 - got as f64).max(0.0) / sent as f64 };
    println!(
        "gen sent={sent} send_errors={errors} received={got} loss_pct={loss:.4} secs={elapsed:.2} pps={:.0} target_pps={pps:.0} window_recv_pps={:.0} cpu_s={:.2}",
        sent as f64 / elapsed,
        in_window as f64 / elapsed,
        cpu_s() - c0
    );
    Ok(())
}

/// Sends to `targets` round-robin at `pps` for `secs`; (sent, errors).
fn send_loop(
    sock: &UdpSocket,
    targets: &[SocketAddr],
    pps: f64,
    secs: f64,
    pt: u8,
    t0: Instant,
) -> (u64, u64) {
    if targets.is_empty() {
        return (0, 0);
    }
    let mut seqs = vec![0u16; targets.len()];
    let mut packet = [0xFFu8; 172];
    packet[0] = 0x80;
    packet[1] = pt;
    packet[8..12].copy_from_slice(&0x1234_5678u32.to_be_bytes());
    let (mut sent, mut errors, mut next) = (0u64, 0u64, 0usize);
    loop {
        let t = t0.elapsed().as_secs_f64();
        if t >= secs {
            return (sent, errors);
        }
        let due = (t * pps) as u64;
        if sent + errors >= due {
            std::thread::sleep(Duration::from_micros(500));
            continue;
        }
        for _ in 0..(due - sent - errors).min(256) {
            let i = next % targets.len();
            next += 1;
            let seq = seqs[i];
            seqs[i] = seq.wrapping_add(1);
            packet[2..4].copy_from_slice(&seq.to_be_bytes());
            packet[4..8].copy_from_slice(&(u32::from(seq) * 160).to_be_bytes());
            match sock.send_to(&packet, targets[i]) {
                Ok(_) => sent += 1,
                Err(_) => errors += 1,
            }
        }
    }
}

fn server(mode: &str, a: &Args) -> Result<(), String> {
    let calls = num(a, "calls", 100) as usize;
    let base = num(a, "base", 30000) as u16;
    let peer: SocketAddr = ([127, 0, 0, 1], num(a, "peer", 29000) as u16).into();
    let secs = num(a, "secs", 5);
    let transcode = num(a, "transcode", 0) == 1;
    let workers = num(a, "workers", 0) as usize;
    let wav = a.get("wav").cloned().unwrap_or_default();
    let dir = std::path::PathBuf::from(a.get("dir").cloned().unwrap_or_else(|| "/tmp".into()));

    let mut rt = tokio::runtime::Builder::new_multi_thread();
    if workers > 0 {
        rt.worker_threads(workers);
    }
    let rt = rt.enable_all().build().map_err(|e| e.to_string())?;
    let process = mode == "process";
    rt.block_on(async move {
        let legs_per_call = if process { 1 } else { 2 };
        let pairs = calls * legs_per_call;
        let high = u16::try_from(usize::from(base) + 2 * pairs + 2).map_err(|_| "too many calls for the port range")?;
        let pool = PortPool::new(base, high);
        let config = SessionConfig { inactivity: None, ..SessionConfig::default() };
        let base_rss = rss_kb();
        let mut sessions = Vec::with_capacity(calls);
        let mut stats = Vec::with_capacity(calls * legs_per_call);
        let ip = [127, 0, 0, 1].into();
        let mut prompt = None;
        if process {
            let bytes = std::fs::read(&wav).map_err(|e| format!("{wav}: {e}"))?;
            prompt = Some(media::player::PcmSource::from_wav(&bytes).map_err(|e| e.to_string())?);
        }
        for k in 0..calls {
            let (media, events) = MediaSession::start(config);
            for leg in 0..legs_per_call {
                let ports = pool.bind(ip).await.ok_or("the port range is exhausted")?;
                let id = LegId(leg as u64);
                stats.push(media.add_leg(id, ports).await.map_err(|e| e.to_string())?.stats);
                let codec = if transcode && leg == 1 { 8 } else { 0 };
                media.set_remote(id, RemoteMedia::new(Some(peer), codec)).await.map_err(|e| e.to_string())?;
            }
            if process {
                let source = Box::new(prompt.clone().ok_or("no prompt")?);
                media.play(LegId(0), source).await.map_err(|e| e.to_string())?;
                let path = dir.join(format!("rec-{k}.wav"));
                let spec = RecordSpec { legs: vec![LegId(0)], mode: RecordMode::Mono, path };
                media.record(spec).await.map_err(|e| e.to_string())?;
            } else {
                media.connect(LegId(0), LegId(1)).await.map_err(|e| e.to_string())?;
            }
            sessions.push((media, events));
        }
        println!("ready rss_kb={} base_rss_kb={base_rss} calls={calls}", rss_kb());
        let c0 = cpu_s();
        tokio::time::sleep(Duration::from_secs(secs)).await;
        let cpu = cpu_s() - c0;
        let total = |f: fn(&LegStats) -> &std::sync::atomic::AtomicU64| -> u64 {
            stats.iter().map(|s| LegStats::get(f(s))).sum()
        };
        println!(
            "done cpu_s={cpu:.2} rss_kb={} secs={secs} rtp_in={} rtp_out={} send_errors={} strangers={} bad={}",
            rss_kb(),
            total(|s| &s.rtp_in),
            total(|s| &s.rtp_out),
            total(|s| &s.send_errors),
            total(|s| &s.strangers),
            total(|s| &s.bad_packets)
        );
        drop(sessions);
        Ok::<(), String>(())
    })
}
