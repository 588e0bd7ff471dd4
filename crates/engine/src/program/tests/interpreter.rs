//! The interpreter's logic: branching on digits, replacement of the rest
//! of the script, barge-in, loops, caps and errors.

use super::fake::{Ev, FakeCall, FakeScripts};
use crate::program::*;

fn fonoster(s: &str) -> Vec<Verb> {
    fonoster::parse(s.as_bytes()).expect("valid commands")
}
fn ncco(s: &str) -> Vec<Verb> {
    ncco::parse(s.as_bytes()).expect("valid NCCO")
}
fn twiml(s: &str) -> Vec<Verb> {
    twiml::parse(s.as_bytes()).expect("valid TwiML")
}

fn digits(r: &Report) -> &str {
    match &r.result {
        VerbResult::Input(c) => &c.digits,
        other => panic!("not input: {other:?}"),
    }
}

#[tokio::test]
async fn gathered_digits_reach_the_hook_and_its_answer_replaces_the_rest() {
    let program = fonoster(
        r#"{"commands":[{"say":{"text":"Enter two digits"}},{"gather":{"source":"dtmf","maxDigits":2}},
            {"say":{"text":"never heard"}}]}"#,
    );
    let next = fonoster(r#"{"commands":[{"play":{"url":"https://example.com/a.wav"}},{"hangup":{}}]}"#);
    let mut call = FakeCall::new(&[Ev::Press('4'), Ev::Press('2')]);
    let mut scripts = FakeScripts::new(vec![Ok(Next::Replace(next))]);
    let outcome = run(program, &mut call, &mut scripts).await;
    assert_eq!(outcome, Outcome::HungUp);
    // `say` has no barge-in: both keys are read by the gather after it.
    assert_eq!(call.log, ["answer", "say:Enter two digits", "url:https://example.com/a.wav", "hangup"]);
    assert_eq!(scripts.reports.len(), 1);
    assert_eq!(scripts.reports[0].verb, "gather");
    assert_eq!(scripts.reports[0].hook, Hook::post(None));
    assert_eq!(digits(&scripts.reports[0]), "42");
}

#[tokio::test]
async fn an_answer_without_a_program_lets_the_script_go_on() {
    let program =
        fonoster(r#"{"commands":[{"gather":{"source":"dtmf","maxDigits":1}},{"say":{"text":"after"}}]}"#);
    let mut call = FakeCall::new(&[Ev::Press('1')]);
    let mut scripts = FakeScripts::new(vec![Ok(Next::Continue)]);
    let outcome = run(program, &mut call, &mut scripts).await;
    assert_eq!(outcome, Outcome::Completed);
    assert_eq!(call.log, ["answer", "say:after", "hangup"]);
}

#[tokio::test]
async fn a_digit_barges_into_talk_and_is_the_first_digit_of_the_input() {
    let program = ncco(
        r#"[{"action":"talk","text":"Press 1 for sales","bargeIn":true,"loop":3},
            {"action":"input","type":["dtmf"],"dtmf":{"maxDigits":2}}]"#,
    );
    let mut call = FakeCall::new(&[Ev::Press('1'), Ev::Press('7')]);
    let mut scripts = FakeScripts::default();
    run(program, &mut call, &mut scripts).await;
    // One (interrupted) play of three; the key counts.
    assert_eq!(call.entries("say:"), ["say:Press 1 for sales (stopped by 1)"]);
    assert_eq!(digits(&scripts.reports[0]), "17");
}

#[tokio::test]
async fn without_barge_in_the_prompt_plays_through() {
    let program = ncco(
        r#"[{"action":"talk","text":"Listen","loop":2},
            {"action":"input","type":["dtmf"],"dtmf":{"maxDigits":2}}]"#,
    );
    let mut call = FakeCall::new(&[Ev::Press('1'), Ev::Press('7')]);
    let mut scripts = FakeScripts::default();
    run(program, &mut call, &mut scripts).await;
    assert_eq!(call.entries("say:"), ["say:Listen", "say:Listen"]);
    assert_eq!(digits(&scripts.reports[0]), "17");
}

#[tokio::test]
async fn a_barged_digit_is_dropped_when_no_gather_follows() {
    let program = ncco(
        r#"[{"action":"talk","text":"one","bargeIn":true},{"action":"talk","text":"two"},
            {"action":"input","type":["dtmf"],"dtmf":{"maxDigits":1,"timeOut":2}}]"#,
    );
    let mut call = FakeCall::new(&[Ev::Press('5')]);
    let mut scripts = FakeScripts::default();
    run(program, &mut call, &mut scripts).await;
    let VerbResult::Input(c) = &scripts.reports[0].result else { panic!() };
    assert_eq!((c.digits.as_str(), c.timed_out), ("", true));
}

#[tokio::test]
async fn twiml_gather_prompts_stop_on_a_key_and_finish_key_ends_input() {
    let program = twiml(
        r#"<Response><Gather action="/next"><Say>first</Say><Say>second</Say></Gather><Say>fallthrough</Say></Response>"#,
    );
    let mut call = FakeCall::new(&[Ev::Press('1'), Ev::Press('2'), Ev::Press('#'), Ev::Press('3')]);
    let mut scripts = FakeScripts::new(vec![Ok(Next::Replace(vec![Verb::Hangup]))]);
    let outcome = run(program, &mut call, &mut scripts).await;
    assert_eq!(outcome, Outcome::HungUp);
    assert_eq!(call.entries("say:"), ["say:first (stopped by 1)"]);
    let VerbResult::Input(c) = &scripts.reports[0].result else { panic!() };
    assert_eq!((c.digits.as_str(), c.finished_on_key), ("12", Some('#')));
    assert_eq!(scripts.reports[0].hook.url.as_deref(), Some("/next"));
    // The key after the finish key is still unread.
    assert_eq!(call.events.front(), Some(&Ev::Press('3')));
}

#[tokio::test]
async fn twiml_gather_without_input_falls_through_without_a_request() {
    let program =
        twiml(r#"<Response><Gather timeout="3"><Say>menu</Say></Gather><Say>Goodbye</Say></Response>"#);
    let mut call = FakeCall::new(&[Ev::Silence]);
    let mut scripts = FakeScripts::default();
    let outcome = run(program, &mut call, &mut scripts).await;
    assert_eq!(outcome, Outcome::Completed);
    assert!(scripts.reports.is_empty());
    assert_eq!(call.log, ["answer", "say:menu", "say:Goodbye", "hangup"]);
    assert_eq!(call.listens[0].timeout, std::time::Duration::from_secs(3));
}

#[tokio::test]
async fn inter_digit_timeout_applies_after_the_first_digit() {
    let program = ncco(r#"[{"action":"input","type":["dtmf"],"dtmf":{"timeOut":2}}]"#);
    let mut call = FakeCall::new(&[Ev::Press('9'), Ev::Silence]);
    let mut scripts = FakeScripts::default();
    run(program, &mut call, &mut scripts).await;
    let VerbResult::Input(c) = &scripts.reports[0].result else { panic!() };
    assert_eq!((c.digits.as_str(), c.timed_out), ("9", true));
    assert_eq!(call.listens.len(), 2);
    assert_eq!(call.listens[1].timeout, std::time::Duration::from_secs(2));
}

#[tokio::test]
async fn speech_is_recognised_with_the_hints() {
    let program = fonoster(r#"{"commands":[{"gather":{"source":"speech","hints":["sales","support"]}}]}"#);
    let mut call = FakeCall::new(&[Ev::Speak("sales")]);
    let mut scripts = FakeScripts::default();
    run(program, &mut call, &mut scripts).await;
    let VerbResult::Input(c) = &scripts.reports[0].result else { panic!() };
    assert_eq!(c.speech.as_deref(), Some("sales"));
    let speech = call.listens[0].speech.as_ref().expect("listened for speech");
    assert_eq!(speech.hints, ["sales", "support"]);
    assert!(!call.listens[0].dtmf);
}

#[tokio::test]
async fn digits_after_the_first_stop_listening_for_speech() {
    let program = fonoster(r#"{"commands":[{"gather":{"maxDigits":3}}]}"#);
    let mut call = FakeCall::new(&[Ev::Press('1'), Ev::Press('2'), Ev::Press('3')]);
    let mut scripts = FakeScripts::default();
    run(program, &mut call, &mut scripts).await;
    assert!(call.listens[0].speech.is_some());
    assert!(call.listens[1].speech.is_none());
    assert_eq!(digits(&scripts.reports[0]), "123");
}

#[tokio::test]
async fn a_redirect_loop_is_capped_and_the_call_hung_up() {
    let redirect = Verb::Redirect(Hook::post(Some("http://127.0.0.1/loop".into())));
    let mut call = FakeCall::default();
    let mut scripts =
        FakeScripts { forever: Some(Next::Replace(vec![redirect.clone()])), ..Default::default() };
    let outcome = run(vec![redirect], &mut call, &mut scripts).await;
    let Outcome::Failed(e) = &outcome else { panic!("{outcome:?}") };
    assert_eq!(e.cause(), "program_limit");
    assert_eq!(scripts.reports.len(), Limits::default().max_chain);
    assert_eq!(call.log, ["hangup"]);
}

#[tokio::test]
async fn a_redirect_without_a_program_ends_the_script() {
    let program = twiml("<Response><Redirect>http://127.0.0.1/x</Redirect><Say>never</Say></Response>");
    let mut call = FakeCall::default();
    let mut scripts = FakeScripts::default();
    assert_eq!(run(program, &mut call, &mut scripts).await, Outcome::Completed);
    assert!(call.entries("say").is_empty());
    assert_eq!(scripts.reports[0].result, VerbResult::Redirect);
}

#[tokio::test]
async fn loop_forever_is_capped() {
    let program = ncco(r#"[{"action":"stream","streamUrl":["https://example.com/hold.wav"],"loop":0}]"#);
    let mut call = FakeCall::default();
    let limits = Limits { max_repeat: 5, ..Limits::default() };
    run_with(program, &mut call, &mut FakeScripts::default(), &limits).await;
    assert_eq!(call.entries("url:").len(), 5);
}

#[tokio::test]
async fn a_script_that_never_ends_hits_the_step_cap() {
    let wait = Verb::Wait(std::time::Duration::from_millis(100));
    let mut call = FakeCall::default();
    let mut scripts = FakeScripts::default();
    let limits = Limits { max_steps: 3, ..Limits::default() };
    let outcome = run_with(vec![wait; 5], &mut call, &mut scripts, &limits).await;
    assert_eq!(outcome, Outcome::Failed(ProgramError::Limit("too many verbs in one call")));
    assert_eq!(call.entries("silence").len(), 3);
}

#[tokio::test]
async fn webhook_polling_forever_hits_the_fetch_cap() {
    // Each answer plays something (so it is no redirect loop) and asks again.
    let again = ncco(
        r#"[{"action":"talk","text":"again"},{"action":"notify","payload":{},"eventUrl":["http://127.0.0.1/n"]}]"#,
    );
    let mut call = FakeCall::default();
    let mut scripts = FakeScripts { forever: Some(Next::Replace(again.clone())), ..Default::default() };
    let limits = Limits { max_fetches: 7, ..Limits::default() };
    let outcome = run_with(again, &mut call, &mut scripts, &limits).await;
    assert_eq!(
        outcome.clone(),
        Outcome::Failed(ProgramError::Limit("too many webhook requests in one call"))
    );
    assert_eq!(scripts.reports.len(), 7);
}

#[tokio::test]
async fn a_failed_action_webhook_ends_the_call_with_its_cause() {
    let program =
        fonoster(r#"{"commands":[{"gather":{"source":"dtmf","maxDigits":1}},{"say":{"text":"x"}}]}"#);
    let mut call = FakeCall::new(&[Ev::Press('1')]);
    let mut scripts = FakeScripts::new(vec![Err(ScriptError::Fetch("connection refused".into()))]);
    let outcome = run(program, &mut call, &mut scripts).await;
    let Outcome::Failed(e) = &outcome else { panic!("{outcome:?}") };
    assert_eq!(e.cause(), "webhook_failed");
    assert_eq!(e.to_string(), "gather: webhook failed: connection refused");
    assert_eq!(call.log, ["answer", "hangup"]);
}

#[tokio::test]
async fn a_failed_event_webhook_does_not_stop_the_script() {
    let program = ncco(
        r##"[{"action":"record","endOnKey":"#","eventUrl":["http://127.0.0.1/rec"]},{"action":"talk","text":"thanks"}]"##,
    );
    let mut call = FakeCall::new(&[Ev::Press('#')]);
    let mut scripts = FakeScripts::new(vec![Err(ScriptError::Fetch("timeout".into()))]);
    let outcome = run(program, &mut call, &mut scripts).await;
    assert_eq!(outcome, Outcome::Completed);
    assert_eq!(call.entries("say:"), ["say:thanks"]);
    let VerbResult::Record(r) = &scripts.reports[0].result else { panic!() };
    assert_eq!(r.ended_by, RecordEnd::Key('#'));
}

#[tokio::test]
async fn record_beeps_first_and_posts_the_recording() {
    let program = fonoster(r#"{"commands":[{"record":{"maxDuration":20000}}]}"#);
    let mut call = FakeCall::default();
    let mut scripts = FakeScripts::new(vec![Ok(Next::Replace(vec![Verb::Hangup]))]);
    let outcome = run(program, &mut call, &mut scripts).await;
    assert_eq!(outcome, Outcome::HungUp);
    assert_eq!(call.log, ["answer", format!("tone:{BEEP}").as_str(), "record:20s", "hangup"]);
    let VerbResult::Record(r) = &scripts.reports[0].result else { panic!() };
    assert_eq!(r.url, "http://127.0.0.1/recordings/r1");
}

#[tokio::test]
async fn a_synchronous_connect_posts_its_status_and_takes_the_answer() {
    let program = ncco(
        r#"[{"action":"connect","eventType":"synchronous","eventUrl":["http://127.0.0.1/ev"],
             "endpoint":[{"type":"app","user":"alice"}]},{"action":"talk","text":"skipped"}]"#,
    );
    let mut call = FakeCall { dial_status: Some(DialStatus::Busy), ..Default::default() };
    let mut scripts =
        FakeScripts::new(vec![Ok(Next::Replace(ncco(r#"[{"action":"talk","text":"She is busy"}]"#)))]);
    run(program, &mut call, &mut scripts).await;
    assert_eq!(call.log, ["answer", "dial:agent alice", "say:She is busy", "hangup"]);
    let VerbResult::Dial(d) = &scripts.reports[0].result else { panic!() };
    assert_eq!(d.status, DialStatus::Busy);
}

#[tokio::test]
async fn twiml_dial_without_action_goes_on() {
    let program = twiml("<Response><Dial>+15550001</Dial><Say>after the call</Say></Response>");
    let mut call = FakeCall::default();
    let mut scripts = FakeScripts::default();
    run(program, &mut call, &mut scripts).await;
    assert!(scripts.reports.is_empty());
    assert_eq!(call.log, ["answer", "dial:+15550001", "say:after the call", "hangup"]);
}

#[tokio::test]
async fn the_caller_hanging_up_ends_the_program_without_a_hangup() {
    let program = fonoster(r#"{"commands":[{"say":{"text":"hello"}},{"gather":{}}]}"#);
    let mut call = FakeCall::new(&[Ev::HangUp]);
    let outcome = run(program, &mut call, &mut FakeScripts::default()).await;
    assert_eq!(outcome, Outcome::CallerHungUp);
    assert!(call.entries("hangup").is_empty());
}

#[tokio::test]
async fn a_missing_tts_engine_is_a_clear_failure() {
    let program = fonoster(r#"{"commands":[{"say":{"text":"hello"}}]}"#);
    let mut call = FakeCall { no_tts: true, ..Default::default() };
    let outcome = run(program, &mut call, &mut FakeScripts::default()).await;
    let Outcome::Failed(e) = &outcome else { panic!("{outcome:?}") };
    assert_eq!(e.cause(), "tts_unavailable");
    assert!(e.to_string().contains("espeak-ng"), "{e}");
    assert_eq!(call.log, ["answer", "hangup"]);
}

#[tokio::test]
async fn reject_before_answer_and_not_after() {
    let mut call = FakeCall::default();
    let outcome =
        run(twiml(r#"<Response><Reject reason="busy"/></Response>"#), &mut call, &mut FakeScripts::default())
            .await;
    assert_eq!(outcome, Outcome::Rejected(RejectReason::Busy));
    assert_eq!(call.log, ["reject:Busy"]);

    let mut call = FakeCall::default();
    let program = twiml("<Response><Say>hi</Say><Reject/></Response>");
    let outcome = run(program, &mut call, &mut FakeScripts::default()).await;
    assert_eq!(outcome, Outcome::Failed(ProgramError::AfterAnswer("reject")));
}

#[tokio::test]
async fn a_conversation_answers_and_joins_its_room_with_its_switches() {
    let mut call = FakeCall::default();
    let program = ncco(
        r#"[{"action":"conversation","name":"room","endOnExit":true,"startOnEnter":false,"canHear":[],"record":true}]"#,
    );
    let outcome = run(program, &mut call, &mut FakeScripts::default()).await;
    assert_eq!(outcome, Outcome::Completed);
    assert_eq!(call.log, ["answer", "conference:room endOnExit waits unhearing record", "hangup"]);
}

#[test]
fn conversation_leg_lists_are_kept_and_bad_ones_named() {
    let parsed = crate::program::ncco::parse(
        br#"[{"action":"conversation","name":"r","canSpeak":["leg-1","leg-2"],"canHear":["leg-3"]}]"#,
    )
    .unwrap();
    let [Verb::Conversation(c)] = parsed.as_slice() else { panic!("{parsed:?}") };
    assert!(c.can_speak && c.can_hear);
    assert_eq!(c.speak_to, Some(vec!["leg-1".to_owned(), "leg-2".to_owned()]));
    assert_eq!(c.hear_from, Some(vec!["leg-3".to_owned()]));
    let parsed =
        crate::program::ncco::parse(br#"[{"action":"conversation","name":"r","canSpeak":[]}]"#).unwrap();
    let [Verb::Conversation(c)] = parsed.as_slice() else { panic!("{parsed:?}") };
    assert!(!c.can_speak && c.speak_to.is_none() && c.hear_from.is_none());
    for (bad, at) in [
        (r#"{"action":"conversation","name":"r","canHear":[7]}"#, "canHear[0]"),
        (r#"{"action":"conversation","name":"r","canSpeak":[""]}"#, "canSpeak[0]"),
        (r#"{"action":"conversation","name":"r","canSpeak":"leg"}"#, "canSpeak"),
    ] {
        let e = crate::program::ncco::parse(format!("[{bad}]").as_bytes()).unwrap_err().to_string();
        assert!(e.contains(at), "{bad}: {e}");
    }
}

fn pinned(pin: &str) -> Vec<Verb> {
    let mut c = Conversation::named("board");
    c.pin = Some(pin.into());
    vec![Verb::Conversation(c)]
}

#[tokio::test]
async fn a_wrong_pin_is_told_and_the_right_one_joins() {
    let keys =
        [Ev::Press('1'), Ev::Press('1'), Ev::Press('#'), Ev::Press('4'), Ev::Press('3'), Ev::Press('2')];
    let mut call = FakeCall::new(&keys);
    let outcome = run(pinned("432"), &mut call, &mut FakeScripts::default()).await;
    assert_eq!(outcome, Outcome::Completed);
    let said = call.entries("say:");
    assert_eq!(said.len(), 3, "{:?}", call.log);
    assert!(said[0].contains("(stopped by 1)") && said[0].contains("PIN"), "{said:?}");
    assert!(said[1].contains("not correct"), "{said:?}");
    assert!(said[2].contains("(stopped by 4)"), "{said:?}");
    assert_eq!(call.entries("conference:"), ["conference:board"], "{:?}", call.log);
}

#[tokio::test]
async fn three_wrong_pins_hang_up_with_a_clear_cause_and_never_join() {
    let keys: Vec<Ev> = "12#34#56#".chars().map(Ev::Press).collect();
    let mut call = FakeCall::new(&keys);
    call.no_tts = true;
    let outcome = run(pinned("999"), &mut call, &mut FakeScripts::default()).await;
    let Outcome::Failed(e) = &outcome else { panic!("{outcome:?}") };
    assert_eq!(e.cause(), "wrong_pin");
    assert!(call.entries("conference:").is_empty(), "{:?}", call.log);
    // Without speech the prompts are tones: a prompt and a buzz per try,
    // and a last buzz before the hang-up.
    assert_eq!(call.entries("tone:").len(), 7, "{:?}", call.log);
    assert_eq!(call.log.last().map(String::as_str), Some("hangup"));
}

#[tokio::test]
async fn ring_mute_stream_and_dtmf_reach_the_channel() {
    let program = vec![
        Verb::Ring,
        Verb::Mute(Direction::In),
        Verb::PlayDtmf { digits: "12#".into() },
        Verb::Unmute(Direction::In),
        Verb::Stream(Stream {
            url: "ws://127.0.0.1:9/s".into(),
            sample_rate: 16000,
            metadata: serde_json::Value::Null,
            background: true,
        }),
    ];
    let mut call = FakeCall::default();
    run(program, &mut call, &mut FakeScripts::default()).await;
    assert_eq!(
        call.log,
        ["ring", "mute:In", "answer", "dtmf:12#", "unmute:In", "stream:ws://127.0.0.1:9/s", "hangup"]
    );
}

#[tokio::test]
async fn the_say_gather_play_record_flow_in_twiml_with_twilio_fields() {
    let first = twiml(
        r#"<Response><Gather numDigits="1" action="/menu"><Say>Press 1 to leave a message</Say></Gather></Response>"#,
    );
    let second = twiml(
        r#"<Response><Play>https://example.com/prompt.wav</Play><Record maxLength="30" action="/saved"/><Hangup/></Response>"#,
    );
    let mut call = FakeCall::new(&[Ev::Press('1'), Ev::Press('#')]);
    let mut scripts = FakeScripts::new(vec![Ok(Next::Replace(second)), Ok(Next::Continue)]);
    let outcome = run(first, &mut call, &mut scripts).await;
    assert_eq!(outcome, Outcome::HungUp);
    assert_eq!(
        call.log,
        [
            "answer",
            "say:Press 1 to leave a message (stopped by 1)",
            "url:https://example.com/prompt.wav",
            format!("tone:{BEEP}").as_str(),
            "record:30s",
            "hangup"
        ]
    );
    let info =
        CallInfo { call_id: "CA1".into(), from: "+1555".into(), to: "+1666".into(), ..Default::default() };
    let Body::Form(gathered) = encode(Dialect::Twiml, &scripts.reports[0], &info) else { panic!() };
    assert!(gathered.contains(&("Digits".into(), "1".into())), "{gathered:?}");
    let Body::Form(saved) = encode(Dialect::Twiml, &scripts.reports[1], &info) else { panic!() };
    assert_eq!(scripts.reports[1].hook.url.as_deref(), Some("/saved"));
    assert!(saved.contains(&("RecordingUrl".into(), "http://127.0.0.1/recordings/r1".into())), "{saved:?}");
    assert!(saved.contains(&("Digits".into(), "#".into())), "{saved:?}");
}
