//! IVR menus and blocks over the scripted call.

use std::collections::BTreeMap;

use store::{Record, Value};

use super::fake::{Ev, FakeCall, FakeScripts};
use crate::program::block::{self, BlockProgram};
use crate::program::ivr::{self, MenuAction, Menus};
use crate::program::{Limits, Outcome, ParseError, ProgramError, Verb};

fn record(id: i64, fields: &[(&'static str, Value)]) -> Record {
    Record {
        id,
        r#ref: format!("r{id}"),
        workspace_id: Some(1),
        created_at: 0,
        updated_at: 0,
        values: fields.iter().cloned().collect::<BTreeMap<_, _>>(),
    }
}

fn t(s: &str) -> Value {
    Value::Text(s.into())
}

fn action(id: i64, menu: i64, digits: &str, kind: &str, args: &str) -> Record {
    record(
        id,
        &[("ivr_menu_id", Value::Int(menu)), ("digits", t(digits)), ("action", t(kind)), ("args", t(args))],
    )
}

/// Menu 1: long and short greetings, an invalid sound; 1 enters menu 2,
/// 0 plays a beep. Menu 2: 9 goes up, 3 routes 1000, * goes home.
fn menus() -> Menus {
    let ivrs = [
        record(
            1,
            &[
                ("name", t("main")),
                (
                    "greet_long",
                    t(r#"{"media_id":130,"media_path":"/sounds/welcome.wav","media_type":"SYSTEM"}"#),
                ),
                ("greet_short", t("Press 1 for sales")),
                ("invalid_sound", t("tone_stream://%(200,0,400)")),
                ("exit_sound", t("Goodbye")),
                ("timeout", Value::Int(15000)),
                ("max_failures", Value::Int(3)),
                ("max_timeouts", Value::Int(2)),
                ("digit_len", Value::Int(1)),
                ("tts_voice", t("kal")),
            ],
        ),
        record(2, &[("name", t("sales")), ("greet_long", t("Sales menu")), ("digit_len", Value::Int(1))]),
    ];
    let actions = [
        action(10, 1, "1", "IVR_SUB", "2"),
        action(11, 1, "0", "IVR_PLAY", "tone_stream://%(1000,0,640)"),
        action(20, 2, "9", "IVR_TOP", ""),
        action(21, 2, "3", "IVR_ROUTE", "1000"),
        action(22, 2, "*", "IVR_BACK", ""),
    ];
    Menus::compile(&ivrs, &actions).expect("menus compile")
}

#[tokio::test]
async fn a_menu_with_a_sub_menu_a_bad_digit_and_a_timeout() {
    let menus = menus();
    let mut call = FakeCall::new(&[
        Ev::Press('7'), // not a key of menu 1: invalid sound, a failure
        Ev::Silence,    // a timeout
        Ev::Press('0'), // plays the beep, back to the menu
        Ev::Press('1'), // into menu 2
        Ev::Press('9'), // back up to menu 1
        Ev::Press('1'), // menu 2 again
        Ev::Press('3'), // route 1000
    ]);
    let outcome = ivr::run(&menus, 1, &mut call).await;
    assert_eq!(outcome, Outcome::Transfer { context: Some("context-1".into()), number: "1000".into() });
    assert_eq!(
        call.log,
        [
            "answer",
            "media:Some(130):/sounds/welcome.wav (stopped by 7)",
            "tone:tone_stream://%(200,0,400)",
            "say[kal]:Press 1 for sales",
            "say[kal]:Press 1 for sales (stopped by 0)",
            "tone:tone_stream://%(1000,0,640)",
            "say[kal]:Press 1 for sales (stopped by 1)",
            "say:Sales menu (stopped by 9)",
            "media:Some(130):/sounds/welcome.wav (stopped by 1)",
            "say:Sales menu (stopped by 3)",
        ]
    );
    // The first wait of a menu is its timeout (15 s for menu 1).
    assert_eq!(call.listens.len(), 1);
    assert_eq!(call.listens[0].timeout, std::time::Duration::from_secs(15));
}

#[tokio::test]
async fn too_many_bad_digits_play_the_exit_sound_and_hang_up() {
    let menus = menus();
    // A lone finish key is a miss too.
    let mut call = FakeCall::new(&[Ev::Press('5'), Ev::Press('#'), Ev::Press('8')]);
    let outcome = ivr::run(&menus, 1, &mut call).await;
    assert_eq!(outcome, Outcome::HungUp);
    assert_eq!(call.entries("tone:").len(), 3, "{:?}", call.log);
    assert_eq!(call.log[call.log.len() - 2..], ["say[kal]:Goodbye", "hangup"]);
}

#[tokio::test]
async fn too_many_timeouts_run_exec_on_max_timeouts() {
    let ivrs = [record(
        1,
        &[
            ("name", t("m")),
            ("max_timeouts", Value::Int(2)),
            ("exec_on_max_timeouts", t("IVR_EXTENSION 1000")),
        ],
    )];
    let menus = Menus::compile(&ivrs, &[]).unwrap();
    let mut call = FakeCall::new(&[Ev::Silence, Ev::Silence]);
    let outcome = ivr::run(&menus, 1, &mut call).await;
    assert_eq!(outcome, Outcome::Transfer { context: None, number: "1000".into() });
    // Handed on: not hung up.
    assert!(call.entries("hangup").is_empty());
}

#[tokio::test]
async fn text_sounds_use_the_menu_tts_engine_and_voice() {
    let ivrs = [record(
        1,
        &[
            ("name", t("m")),
            ("greet_long", t("Hello there")),
            ("tts_engine", t("flite")),
            ("tts_voice", t("slt")),
        ],
    )];
    let menus = Menus::compile(&ivrs, &[action(1, 1, "1", "IVR_EXIT", "")]).unwrap();
    let mut call = FakeCall::new(&[Ev::Press('1')]);
    assert_eq!(ivr::run(&menus, 1, &mut call).await, Outcome::HungUp);
    assert_eq!(call.log[1], "say{flite}[slt]:Hello there (stopped by 1)");
}

#[tokio::test]
async fn a_prefix_match_transfers_to_the_digits_entered() {
    let ivrs = [record(1, &[("name", t("dial by extension")), ("digit_len", Value::Int(4))])];
    let mut a = action(1, 1, "8", "IVR_EXTENSION", "");
    a.values.insert("match_prefix", Value::Int(1));
    let menus = Menus::compile(&ivrs, &[a, action(2, 1, "0", "IVR_EXIT", "")]).unwrap();
    let mut call = FakeCall::new(&[Ev::Press('8'), Ev::Press('0'), Ev::Press('0'), Ev::Press('1')]);
    assert_eq!(
        ivr::run(&menus, 1, &mut call).await,
        Outcome::Transfer { context: None, number: "8001".into() }
    );
    // Fewer digits then # also match; 0 alone is an exact match.
    let mut call = FakeCall::new(&[Ev::Press('0'), Ev::Press('#')]);
    assert_eq!(ivr::run(&menus, 1, &mut call).await, Outcome::HungUp);
}

#[tokio::test]
async fn the_pin_is_asked_first() {
    let ivrs = [record(
        1,
        &[
            ("name", t("m")),
            ("pin", t("42")),
            ("pin_file", t("Enter the PIN")),
            ("bad_pin_file", t("Wrong PIN")),
        ],
    )];
    let menus = Menus::compile(&ivrs, &[action(1, 1, "1", "IVR_EXTENSION", "2000")]).unwrap();
    let mut call =
        FakeCall::new(&[Ev::Press('1'), Ev::Press('2'), Ev::Press('4'), Ev::Press('2'), Ev::Press('1')]);
    let outcome = ivr::run(&menus, 1, &mut call).await;
    assert_eq!(outcome, Outcome::Transfer { context: None, number: "2000".into() });
    assert_eq!(call.entries("say:Wrong PIN").len(), 1);

    let mut call =
        FakeCall::new(&[Ev::Press('0'), Ev::Press('0'), Ev::Silence, Ev::Press('9'), Ev::Press('9')]);
    let outcome = ivr::run(&menus, 1, &mut call).await;
    let Outcome::Failed(e) = &outcome else { panic!("{outcome:?}") };
    assert_eq!(e.cause(), "ivr_failed");
    assert_eq!(call.log.last().map(String::as_str), Some("hangup"));
}

#[test]
fn the_seed_ivr_records_compile() {
    // GET /api/ivrs's second example, values as strings the way it shows them.
    let ivr = record(
        1,
        &[
            ("name", t("IVR示例1")),
            (
                "greet_long",
                t(
                    r#"{ "media_path": "$${sound_prefix}/ivr/ivr-generic_greeting.wav", "media_type": "SYSTEM", "media_id": 130 }"#,
                ),
            ),
            ("greet_short", t("")),
            ("timeout", t("15000")),
            ("max_failures", t("3")),
            ("max_timeouts", t("4")),
            ("digit_len", t("4")),
            ("inter_digit_timeout", t("3000")),
        ],
    );
    let ivr2 = record(2, &[("name", t("welcome_example2"))]);
    let actions = [
        record(
            7,
            &[
                ("ivr_menu_id", Value::Int(1)),
                ("action", t("IVR_PLAY")),
                ("args", t("tone_stream://%(1000,0,640)")),
                ("body", t("BEEP")),
                ("digits", t("0")),
                ("match_prefix", Value::Int(0)),
            ],
        ),
        record(
            8,
            &[
                ("ivr_menu_id", Value::Int(1)),
                ("action", t("IVR_SUB")),
                ("args", t("2")),
                ("body", t("welcome_example2")),
                ("digits", t("1")),
                ("match_prefix", Value::Int(0)),
            ],
        ),
        record(
            24,
            &[
                ("ivr_menu_id", Value::Int(2)),
                ("action", t("IVR_PLAY")),
                ("args", t("257")),
                ("digits", t("0")),
            ],
        ),
    ];
    let menus = Menus::compile(&[ivr, ivr2], &actions).unwrap();
    let m = menus.get(1).unwrap();
    assert_eq!((m.digit_len, m.max_timeouts, m.greet_short.is_none()), (4, 4, true));
    assert_eq!(m.entries[1].action, MenuAction::Sub(2));
    assert!(matches!(menus.get(2).unwrap().entries[0].action, MenuAction::Play(_)));
}

#[test]
fn unsupported_and_dangling_actions_are_refused_clearly() {
    let ivrs = [record(5, &[("name", t("m"))])];
    let err = Menus::compile(&ivrs, &[action(22, 5, "333", "IVR_QUEUE", "5")]).unwrap_err();
    assert_eq!(err, ParseError::invalid("ivr 5 action 22.action", "IVR_QUEUE is not supported yet"));
    let err = Menus::compile(&ivrs, &[action(1, 5, "1", "IVR_SUB", "99")]).unwrap_err();
    assert!(err.to_string().contains("IVR 99"), "{err}");
    let err = Menus::compile(&ivrs, &[action(1, 5, "1x", "IVR_EXIT", "")]).unwrap_err();
    assert!(err.to_string().contains("digits"), "{err}");
    let bad = [record(5, &[("name", t("m")), ("greet_long", t("tone_stream://%(nope)"))])];
    assert!(Menus::compile(&bad, &[]).is_err());
}

#[tokio::test]
async fn a_block_runs_its_verbs_then_its_ivr() {
    let xml = r#"<xml xmlns="https://developers.google.com/blockly/xml">
      <block type="answer" id="a" x="10" y="10"><next>
        <block type="say" id="b"><field name="TEXT">Welcome to the office</field><next>
          <block type="wait"><field name="MS">500</field><next>
            <block type="ivr"><field name="ID">1</field></block>
          </next></block>
        </next></block>
      </next></block>
    </xml>"#;
    let block_rec = record(3, &[("name", t("office")), ("xml", t(xml))]);
    let program = block::compile(&block_rec).unwrap();
    assert_eq!(program.then_ivr, Some(1));
    assert_eq!(program.verbs.len(), 3);
    let mut call = FakeCall::new(&[Ev::Press('1'), Ev::Press('3')]);
    let outcome =
        block::run(&program, &menus(), &mut call, &mut FakeScripts::default(), &Limits::default()).await;
    assert_eq!(outcome, Outcome::Transfer { context: Some("context-1".into()), number: "1000".into() });
    assert_eq!(call.log[..3], ["answer", "say:Welcome to the office", "silence:500ms"]);
}

#[tokio::test]
async fn a_block_with_only_an_ivr_and_a_missing_menu() {
    let program = block::compile(&record(4, &[("name", t("b")), ("ivr_menu_id", t("77"))])).unwrap();
    assert_eq!(program, BlockProgram { verbs: vec![], then_ivr: Some(77) });
    let mut call = FakeCall::default();
    let outcome =
        block::run(&program, &menus(), &mut call, &mut FakeScripts::default(), &Limits::default()).await;
    assert_eq!(outcome, Outcome::Failed(ProgramError::Menu("IVR 77 does not exist".into())));
}

#[test]
fn bad_blocks_are_refused_clearly() {
    let err = |xml: &str| block::parse_xml(xml.as_bytes()).unwrap_err().to_string();
    assert_eq!(err(r#"<xml><block type="fly"/></xml>"#), "block 1 (fly): unknown verb \"fly\"");
    assert!(err(r#"<xml><block type="say"/></xml>"#).contains("TEXT: is required"));
    assert!(err(r#"<xml><block type="answer"/><block type="hangup"/></xml>"#).contains("more than one stack"));
    assert!(err(r#"<xml><block type="wait"><field name="MS">soon</field></block></xml>"#)
        .contains("milliseconds"));
    assert!(err(r#"<xml><block type="ivr"><field name="ID">1</field><next><block type="hangup"/></next></block></xml>"#)
        .contains("nothing may follow"));
    assert!(err(r#"<xml><block type="say"><value name="TEXT"/></block></xml>"#)
        .contains("inputs are not supported"));
    assert!(err("<html/>").contains("not <xml>"));
    assert!(block::compile(&record(9, &[("name", t("empty"))])).is_err());
    let ok = block::parse_xml(
        br#"<xml><block type="dial"><field name="DEST">sip:bob@example.com</field></block></xml>"#,
    )
    .unwrap();
    assert!(matches!(&ok.verbs[0], Verb::Dial(d) if d.timeout == std::time::Duration::from_secs(30)));
}

#[tokio::test]
async fn a_conference_action_asks_the_rooms_pin_then_joins_and_hangs_up_after() {
    let ivrs = [record(5, &[("name", t("m")), ("digit_len", Value::Int(1)), ("greet_long", t("Press 2"))])];
    let mut conf = action(30, 5, "2", "IVR_CONFERENCE", "sales");
    conf.values.insert("body", t("pin=12;flags=endconf"));
    let menus = Menus::compile(&ivrs, &[conf]).unwrap();
    let MenuAction::Conference(c) = &menus.get(5).unwrap().entries[0].action else { panic!() };
    assert_eq!((c.name.as_str(), c.pin.as_deref(), c.end_on_exit), ("sales", Some("12"), true));
    let mut call = FakeCall::new(&[Ev::Press('2'), Ev::Press('1'), Ev::Press('2')]);
    let outcome = ivr::run(&menus, 5, &mut call).await;
    assert_eq!(outcome, Outcome::HungUp, "{:?}", call.log);
    assert_eq!(call.entries("conference:"), ["conference:sales endOnExit"], "{:?}", call.log);
    assert_eq!(call.log.last().map(String::as_str), Some("hangup"));
    let bad = action(31, 5, "3", "IVR_CONFERENCE_ROOM", "x");
    let mut bad_body = bad.clone();
    bad_body.values.insert("body", t("flags=dance"));
    assert!(Menus::compile(&ivrs, &[bad_body]).unwrap_err().to_string().contains("body.flags"));
}
