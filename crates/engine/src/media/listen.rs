//! What a leg's detectors hear of its decoded audio: in-band DTMF and
//! voice activity. A concealed frame (audio that never arrived) is skipped,
//! not heard as silence, so a packet or two missing in the middle of a key
//! press does not make it two presses; the detectors' own limits (100 ms)
//! release a press or end speech when the stream stays away.

use media::detect::DtmfDetector;
use media::dtmf::Digit;
use media::frame::FRAME_SAMPLES;
use media::vad::{VadEvent, VoiceDetector};

use super::decode::Decoded;

/// Feeds one tick's frame to the detectors a leg has on; returns the
/// presses found and the change of voice activity, if any.
pub(crate) fn listen(
    decoded: &Decoded,
    inband: Option<&mut DtmfDetector>,
    vad: Option<&mut VoiceDetector>,
) -> (Vec<Digit>, Option<VadEvent>) {
    let mut digits = Vec::new();
    if let Some(det) = inband {
        if decoded.concealed {
            det.process_missing(FRAME_SAMPLES);
        } else {
            digits = det.process(&decoded.frame);
        }
    }
    let voice =
        vad.and_then(|v| if decoded.concealed { v.process_missing() } else { v.process(&decoded.frame) });
    (digits, voice)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::media::decode::Decoder;
    use media::g711::Law;
    use media::tone::{beep, dtmf_tone, silence};

    /// What a session hears of `audio` sent by a phone as 20 ms PCMA
    /// packets: packet k arrives at `arrival(k)` ms (`None`: lost), ticks
    /// come every 20 ms (5 ms past the packets' pace) and the decoder
    /// delays by 40 ms, as in a session. `heard_as_silence` feeds concealed
    /// frames to the detectors as if they were audio, as before they were
    /// flagged. Returns the digits, the voice events by tick and which
    /// ticks were concealed.
    fn hear(
        audio: &[i16],
        arrival: impl Fn(u64) -> Option<u64>,
        heard_as_silence: bool,
    ) -> (String, Vec<(u64, VadEvent)>, Vec<u64>) {
        let law = Law::Alaw;
        let packets: Vec<Vec<u8>> = audio.chunks(FRAME_SAMPLES).map(|c| law.encode_slice(c)).collect();
        let mut sends: Vec<(u64, u16)> =
            (0..packets.len() as u64).filter_map(|k| Some((arrival(k)?, k as u16))).collect();
        sends.sort();
        let mut decoder = Decoder::new(40);
        let (mut inband, mut vad) = (DtmfDetector::default(), VoiceDetector::default());
        let (mut digits, mut voice, mut concealed) = (String::new(), Vec::new(), Vec::new());
        let mut next = sends.iter().peekable();
        for tick in 0..packets.len() as u64 + 40 {
            let now = tick * 20 + 5;
            while let Some((_, seq)) = next.next_if(|(at, _)| *at <= now) {
                decoder.push(law, *seq, &packets[usize::from(*seq)], now);
            }
            let mut d = decoder.frame(now);
            if d.concealed {
                concealed.push(tick);
                if heard_as_silence {
                    d.concealed = false;
                }
            }
            let (found, event) = listen(&d, Some(&mut inband), Some(&mut vad));
            digits.extend(found.iter().map(|d| d.as_char()));
            voice.extend(event.map(|e| (tick, e)));
        }
        (digits, voice, concealed)
    }

    /// The flaky session test's audio: "19#", 120 ms each, 100 ms apart.
    fn presses() -> Vec<i16> {
        let mut audio = silence(8000, 60);
        for c in "19#".chars() {
            audio.extend(dtmf_tone(8000, Digit::from_char(c).unwrap(), 120, 7000.0));
            audio.extend(silence(8000, 100));
        }
        audio
    }

    #[test]
    fn a_steady_stream_is_heard_without_concealment() {
        let (digits, _, concealed) = hear(&presses(), |k| Some(k * 20), false);
        assert_eq!(digits, "19#");
        // Packet k plays at tick k + 2: only the ticks before the first one
        // and after the last one (35) are concealed.
        assert_eq!(concealed, [0, 1].into_iter().chain(38..76).collect::<Vec<u64>>());
    }

    #[test]
    fn a_sender_falling_behind_in_a_press_gives_one_digit() {
        // The flake: packets 6 and 7, in the middle of the "1" (packets
        // 3..9), come 40 ms late with packet 8, so two ticks have nothing
        // to play.
        let late = |k| Some(if k == 6 || k == 7 { 160 } else { k * 20 });
        let (digits, _, concealed) = hear(&presses(), late, false);
        assert_eq!(concealed[2..4], [8, 9]);
        assert_eq!(digits, "19#");
        assert_eq!(hear(&presses(), late, true).0, "119#", "heard as silence: the flake");
        // One packet late alike.
        let late = |k| Some(if k == 6 { 140 } else { k * 20 });
        assert_eq!(hear(&presses(), late, false).0, "19#");
        assert_eq!(hear(&presses(), late, true).0, "119#");
    }

    #[test]
    fn packets_lost_in_a_press_give_one_digit() {
        // A 200 ms "5" (packets 3..13) loses packets 7 and 8.
        let mut audio = silence(8000, 60);
        audio.extend(dtmf_tone(8000, Digit::from_char('5').unwrap(), 200, 7000.0));
        audio.extend(silence(8000, 100));
        let lost = |k| (k != 7 && k != 8).then_some(k * 20);
        let (digits, _, concealed) = hear(&audio, lost, false);
        assert_eq!(concealed[2..4], [9, 10]);
        assert_eq!(digits, "5");
        assert_eq!(hear(&audio, lost, true).0, "55", "heard as silence");
        // The stream stops in the middle of the press: released, and the
        // same key afterwards is a new press.
        let stopped = |k| (!(7..=30).contains(&k)).then_some(k * 20);
        let mut audio = silence(8000, 60);
        audio.extend(dtmf_tone(8000, Digit::from_char('5').unwrap(), 800, 7000.0));
        assert_eq!(hear(&audio, stopped, false).0, "55");
    }

    #[test]
    fn a_short_word_cut_by_a_late_packet_is_still_speech() {
        // 60 ms of voice (packets 10..13); packet 11 comes 20 ms late.
        let mut audio = silence(8000, 200);
        audio.extend(beep(8000, 200.0, 60, 6000.0));
        audio.extend(silence(8000, 800));
        let late = |k| Some(if k == 11 { 240 } else { k * 20 });
        let (_, voice, _) = hear(&audio, late, false);
        assert_eq!(voice, [(15, VadEvent::SpeechStarted), (40, VadEvent::SpeechEnded)]);
        assert!(hear(&audio, late, true).1.is_empty(), "heard as silence: no speech");
        // Speech, then the stream stops: it ends 100 ms + 500 ms later.
        let mut audio = silence(8000, 200);
        audio.extend(beep(8000, 200.0, 400, 6000.0));
        let (_, voice, _) = hear(&audio, |k| Some(k * 20), false);
        assert_eq!(voice, [(14, VadEvent::SpeechStarted), (61, VadEvent::SpeechEnded)]);
    }
}
