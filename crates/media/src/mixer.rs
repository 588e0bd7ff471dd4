//! An N-party mixer, the basis of conferences: each party hears the sum of
//! everyone else but itself, saturating at the 16-bit limits.

use crate::frame::{Frame, FRAME_SAMPLES, SILENT_FRAME};

/// Mixes one 20 ms frame of every party: `inputs[i]` is what party i said
/// (`None`: nothing, e.g. muted or no packet); the result's `i`th frame is
/// what party i hears. Written into `outputs`, which is resized to match.
pub fn mix_minus(inputs: &[Option<Frame>], outputs: &mut Vec<Frame>) {
    let mut total = [0i32; FRAME_SAMPLES];
    for f in inputs.iter().flatten() {
        for (t, &s) in total.iter_mut().zip(f) {
            *t += i32::from(s);
        }
    }
    outputs.clear();
    outputs.extend(inputs.iter().map(|own| {
        let mut out = SILENT_FRAME;
        for (k, o) in out.iter_mut().enumerate() {
            let mine = own.as_ref().map_or(0, |f| i32::from(f[k]));
            *o = (total[k] - mine).clamp(i32::from(i16::MIN), i32::from(i16::MAX)) as i16;
        }
        out
    }));
}

/// The sum of `frames`, saturating.
pub fn sum(frames: &[&Frame]) -> Frame {
    let mut out = SILENT_FRAME;
    for (k, o) in out.iter_mut().enumerate() {
        let t: i32 = frames.iter().map(|f| i32::from(f[k])).sum();
        *o = t.clamp(i32::from(i16::MIN), i32::from(i16::MAX)) as i16;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(v: i16) -> Frame {
        [v; FRAME_SAMPLES]
    }

    #[test]
    fn each_hears_the_others_but_not_itself() {
        let mut out = Vec::new();
        mix_minus(&[Some(frame(100)), Some(frame(20)), None, Some(frame(-5))], &mut out);
        assert_eq!(out.len(), 4);
        assert_eq!(out[0], frame(15));
        assert_eq!(out[1], frame(95));
        assert_eq!(out[2], frame(115));
        assert_eq!(out[3], frame(120));
    }

    #[test]
    fn sums_saturate() {
        let mut out = Vec::new();
        mix_minus(&[Some(frame(30000)), Some(frame(30000)), Some(frame(30000))], &mut out);
        assert_eq!(out[0], frame(i16::MAX));
        mix_minus(&[Some(frame(-30000)), Some(frame(-30000)), Some(frame(-30000))], &mut out);
        assert_eq!(out[2], frame(i16::MIN));
        // Alone: silence.
        mix_minus(&[Some(frame(1234))], &mut out);
        assert_eq!(out[0], SILENT_FRAME);
        assert_eq!(sum(&[&frame(20000), &frame(20000)]), frame(i16::MAX));
    }
}
