//! IVR menus and their actions, replaying the PBX seed's IVR section in
//! its order, then bad input of every kind.
#![allow(missing_docs, clippy::unwrap_used)]

mod media_support;
mod support;

use api::Settings;
use media_support::uploaded;
use serde_json::{json, Value};
use support::{Auth, Backend, Server};

on_both_stores!(ivrs_replay_the_seed, ivrs_refuse_bad_input, ivr_actions_refuse_bad_input);

async fn create(s: &Server, pbx: &Auth, path: &str, body: Value) -> i64 {
    let (st, body) = s.post(path, body, pbx).await;
    assert_eq!(st, 200, "{path}: {body}");
    assert_eq!((body["code"].clone(), body["message"].clone()), (json!(200), json!("success")));
    body["data"].as_i64().unwrap_or_else(|| panic!("{body}"))
}

fn assert_ok(st: u16, body: &Value, data: Value) {
    assert_eq!(st, 200, "{body}");
    assert_eq!(body, &json!({"code": 200, "message": "success", "data": data}));
}

fn assert_bad(st: u16, body: &Value, mentions: &str) {
    assert_eq!((st, body["code"].clone(), body["data"].clone()), (400, json!(400), json!("{}")), "{body}");
    assert!(body["message"].as_str().unwrap().contains(mentions), "{mentions}: {body}");
}

async fn ivrs_replay_the_seed(b: Backend) {
    let Some(s) = Server::start(b, Settings::default()).await else { return };
    let pbx = s.pbx().await;

    // What the seed's first examples assume: two IVRs, the first with a
    // tone and a submenu action, the second with one action.
    let ivr1 = create(
        &s,
        &pbx,
        "/api/ivrs",
        json!({"name": "IVR示例1", "description": "欢迎致电,请直拨分机号,查号请拨0", "digit_len": "4",
               "greet_long": "{\"media_id\":130,\"media_path\":\"$${sound_prefix}/ivr/ivr-generic_greeting.wav\",\"media_type\":\"SYSTEM\"}"}),
    )
    .await;
    let ivr2 = create(
        &s,
        &pbx,
        "/api/ivrs",
        json!({"name": "IVR示例2", "description": "欢迎致电,销售请按1,客服请按2,技术支持请按3",
               "greet_long": {"media_path": "phrase:welcome@xui", "media_type": "SYSTEM", "media_id": 204},
               "greet_short": {"media_path": "phrase:welcome_short@xui", "media_type": "SYSTEM", "media_id": 205}}),
    )
    .await;
    let play = create(
        &s,
        &pbx,
        &format!("/api/ivrs/{ivr1}/actions"),
        json!({"digits": "0", "action": "IVR_PLAY", "args": "tone_stream://%(1000,0,640)", "body": "BEEP"}),
    )
    .await;
    let sub = create(
        &s,
        &pbx,
        &format!("/api/ivrs/{ivr1}/actions"),
        json!({"digits": "1", "action": "IVR_SUB", "args": ivr2.to_string(), "body": "welcome_example2", "match_prefix": 0}),
    )
    .await;
    let only = create(
        &s,
        &pbx,
        &format!("/api/ivrs/{ivr2}/actions"),
        json!({"digits": "1", "action": "IVR_EXTENSION", "match_prefix": "1"}),
    )
    .await;

    // GET /api/ivrs
    let (st, list) = s.get("/api/ivrs", &pbx).await;
    assert_eq!(st, 200, "{list}");
    assert_eq!(
        (list["page"].clone(), list["pageCount"].clone(), list["rowCount"].clone()),
        (json!(1), json!(1), json!(2))
    );
    let first = &list["data"][0];
    assert_eq!(first["id"], json!(ivr1));
    assert_eq!(first["key"], json!(format!("ivr-{ivr1}")));
    assert_eq!(first["count_actions"], json!(2));
    assert_eq!(first["digit_len"], json!(4));
    assert_eq!(first["timeout"], json!(15000));
    assert_eq!(first["max_failures"], json!(3));
    assert_eq!(first["max_timeouts"], json!(4));
    assert_eq!(first["inter_digit_timeout"], json!(3000));
    assert_eq!(
        first["greet_long"],
        json!({"media_id": 130, "media_path": "$${sound_prefix}/ivr/ivr-generic_greeting.wav", "media_type": "SYSTEM"})
    );
    for empty in [
        "greet_short",
        "invalid_sound",
        "exit_sound",
        "transfer_sound",
        "pin",
        "pin_file",
        "bad_pin_file",
        "exec_on_max_failures",
        "exec_on_max_timeouts",
        "confirm_key",
        "confirm_macro",
        "tts_engine",
        "tts_voice",
        "confirm_attempts",
        "deleted_at",
    ] {
        assert_eq!(first[empty], "", "{empty}: {first}");
    }
    let second = &list["data"][1];
    assert_eq!(second["count_actions"], json!(1));
    assert_eq!(second["greet_short"]["media_path"], "phrase:welcome_short@xui");
    assert_eq!(second["greet_long"]["media_id"], json!(204));
    assert_eq!(second["name"], "IVR示例2");

    // GET /api/ivrs/$id
    let (st, one) = s.get(&format!("/api/ivrs/{ivr2}"), &pbx).await;
    assert_eq!(st, 200, "{one}");
    assert_eq!(
        (one["id"].clone(), one["key"].clone(), one["digit_len"].clone()),
        (json!(ivr2), json!(format!("ivr-{ivr2}")), json!(1))
    );
    assert_eq!(
        one["greet_long"],
        json!({"media_path": "phrase:welcome@xui", "media_type": "SYSTEM", "media_id": 204})
    );
    assert_eq!(one["created_at"].as_str().unwrap().len(), 19);

    // GET /api/ivrs/$id/actions: a bare array.
    let (st, actions) = s.get(&format!("/api/ivrs/{ivr1}/actions"), &pbx).await;
    assert_eq!(st, 200, "{actions}");
    let actions = actions.as_array().unwrap();
    assert_eq!(actions.len(), 2);
    assert_eq!(actions[0]["id"], json!(play));
    assert_eq!(actions[0]["ivr_menu_id"], json!(ivr1));
    assert_eq!(actions[0]["action"], "IVR_PLAY");
    assert_eq!(actions[0]["args"], "tone_stream://%(1000,0,640)");
    assert_eq!(actions[0]["body"], "BEEP");
    assert_eq!(actions[0]["digits"], "0");
    assert_eq!(actions[0]["match_prefix"], json!(0));
    assert_eq!(actions[0]["deleted_at"], "");
    assert_eq!((actions[1]["id"].clone(), actions[1]["args"].clone()), (json!(sub), json!(ivr2.to_string())));

    // GET /api/ivrs/$id/actions/$action_id: an array of one.
    let (st, one) = s.get(&format!("/api/ivrs/{ivr1}/actions/{play}"), &pbx).await;
    assert_eq!(st, 200, "{one}");
    assert_eq!(one.as_array().unwrap().len(), 1);
    assert_eq!(one[0], actions[0]);

    // POST /api/ivrs {"name":"welcome"}
    let ivr3 = create(&s, &pbx, "/api/ivrs", json!({"name": "welcome"})).await;
    let (_, welcome) = s.get(&format!("/api/ivrs/{ivr3}"), &pbx).await;
    assert_eq!(welcome["timeout"], json!(15000));
    assert_eq!(welcome["count_actions"], json!(0));

    // PUT each sound with an uploaded file, as a JSON string.
    let (media, path) = uploaded(&s, &pbx).await;
    for field in ["greet_long", "greet_short", "invalid_sound", "exit_sound", "transfer_sound"] {
        let sound = json!({"media_id": media, "media_path": path, "media_type": "UPLOAD"}).to_string();
        let (st, body) = s.put(&format!("/api/ivrs/{ivr3}"), json!({"id": "5", field: sound}), &pbx).await;
        assert_ok(st, &body, json!(ivr3.to_string()));
    }
    let (_, welcome) = s.get(&format!("/api/ivrs/{ivr3}"), &pbx).await;
    for field in ["greet_long", "greet_short", "invalid_sound", "exit_sound", "transfer_sound"] {
        assert_eq!(
            welcome[field],
            json!({"media_id": media, "media_path": path, "media_type": "UPLOAD"}),
            "{field}"
        );
    }
    // The stored path wins over the one given.
    let sound = json!({"media_id": media, "media_path": "/usr/local/freeswitch/storage/upload/x.wav", "media_type": "UPLOAD"});
    let (st, _) = s
        .put(
            &format!("/api/ivrs/{ivr3}"),
            json!({"pin_file": sound.to_string(), "bad_pin_file": "tone_stream://%(500,0,480)"}),
            &pbx,
        )
        .await;
    assert_eq!(st, 200);
    let (_, welcome) = s.get(&format!("/api/ivrs/{ivr3}"), &pbx).await;
    assert_eq!(welcome["pin_file"]["media_path"], json!(path));
    assert_eq!(welcome["bad_pin_file"], "tone_stream://%(500,0,480)");

    // POST /api/ivrs/$id/actions (the body's ivr_menu_id is the path's).
    let queue = create(
        &s,
        &pbx,
        &format!("/api/ivrs/{ivr3}/actions"),
        json!({"digits": "333", "match_prefix": "0", "action": "IVR_QUEUE", "args": "5", "ivr_menu_id": "5"}),
    )
    .await;
    let (_, one) = s.get(&format!("/api/ivrs/{ivr3}/actions/{queue}"), &pbx).await;
    assert_eq!((one[0]["ivr_menu_id"].clone(), one[0]["args"].clone()), (json!(ivr3), json!("5")));

    // PUT /api/ivrs/$id/actions/$action_id with a media id as a number.
    let (st, body) = s
        .put(
            &format!("/api/ivrs/{ivr3}/actions/{queue}"),
            json!({"digits": "0", "match_prefix": "0", "action": "IVR_PLAY", "args": media, "id": 24}),
            &pbx,
        )
        .await;
    assert_ok(st, &body, json!(queue.to_string()));
    let (_, one) = s.get(&format!("/api/ivrs/{ivr3}/actions/{queue}"), &pbx).await;
    assert_eq!(
        (one[0]["action"].clone(), one[0]["args"].clone(), one[0]["digits"].clone()),
        (json!("IVR_PLAY"), json!(media.to_string()), json!("0"))
    );

    // DELETE /api/ivrs/$id: its actions go with it.
    let (st, body) = s.delete(&format!("/api/ivrs/{ivr3}"), &pbx).await;
    assert_ok(st, &body, json!(ivr3.to_string()));
    let (st, _) = s.get(&format!("/api/ivrs/{ivr3}"), &pbx).await;
    assert_eq!(st, 404);
    let (st, _) = s.get(&format!("/api/ivrs/{ivr3}/actions/{queue}"), &pbx).await;
    assert_eq!(st, 404);
    let (st, body) = s.delete(&format!("/api/media/{media}"), &pbx).await;
    assert_eq!(st, 200, "the deleted IVR's sounds and actions no longer hold the file: {body}");

    // DELETE /api/ivrs/$id/actions/$action_id
    let (st, body) = s.delete(&format!("/api/ivrs/{ivr2}/actions/{only}"), &pbx).await;
    assert_ok(st, &body, json!(only.to_string()));
    let (_, actions) = s.get(&format!("/api/ivrs/{ivr2}/actions"), &pbx).await;
    assert_eq!(actions, json!([]));
}

async fn ivrs_refuse_bad_input(b: Backend) {
    let Some(s) = Server::start(b, Settings::default()).await else { return };
    let pbx = s.pbx().await;
    let ivr = create(&s, &pbx, "/api/ivrs", json!({"name": "main"})).await;
    let (_, before) = s.get(&format!("/api/ivrs/{ivr}"), &pbx).await;

    let cases = [
        (json!({"description": "no name"}), "name"),
        (json!({"name": ""}), "name"),
        (json!({"name": 5}), "name"),
        (json!({"name": "x", "timeout": "soon"}), "timeout"),
        (json!({"name": "x", "timeout": -1}), "timeout"),
        (json!({"name": "x", "digit_len": 0}), "digit_len"),
        (json!({"name": "x", "max_failures": 1000}), "max_failures"),
        (json!({"name": "x", "greet_long": 5}), "greet_long"),
        (json!({"name": "x", "greet_long": "{not json"}), "greet_long"),
        (
            json!({"name": "x", "greet_long": "{\"media_id\":99999,\"media_path\":\"/x.wav\",\"media_type\":\"UPLOAD\"}"}),
            "greet_long",
        ),
        (
            json!({"name": "x", "greet_short": {"media_id": 1, "media_path": "/x.wav", "media_type": "REMOTE"}}),
            "greet_short",
        ),
        (json!({"name": "x", "invalid_sound": {"media_type": "SYSTEM"}}), "invalid_sound"),
        (json!({"name": "x", "exit_sound": {"media_id": "abc", "media_type": "UPLOAD"}}), "exit_sound"),
        (json!({"name": "x", "confirm_key": "12"}), "confirm_key"),
        (json!({"name": "x", "pin": "12ab"}), "pin"),
    ];
    for (i, (body, field)) in cases.into_iter().enumerate() {
        let (st, answer) = s.post("/api/ivrs", body.clone(), &pbx).await;
        assert_bad(st, &answer, field);
        if i > 0 {
            // The same on update (where a name is not required).
            let (st, answer) = s.put(&format!("/api/ivrs/{ivr}"), body, &pbx).await;
            assert_bad(st, &answer, field);
        }
    }
    let (_, list) = s.get("/api/ivrs", &pbx).await;
    assert_eq!(list["rowCount"], 1, "nothing was created: {list}");
    let (st, body) = s.put(&format!("/api/ivrs/{ivr}"), json!({"timeout": "soon"}), &pbx).await;
    assert_bad(st, &body, "timeout");
    let (st, body) = s.put(&format!("/api/ivrs/{ivr}"), json!({"greet_long": [1]}), &pbx).await;
    assert_bad(st, &body, "greet_long");
    let (st, body) = s.put(&format!("/api/ivrs/{ivr}"), json!({"name": ""}), &pbx).await;
    assert_bad(st, &body, "name");
    let (_, after) = s.get(&format!("/api/ivrs/{ivr}"), &pbx).await;
    assert_eq!(before, after, "nothing was changed");

    let (st, body) = s.post("/api/ivrs", json!([{"name": "x"}]), &pbx).await;
    assert_eq!(st, 400, "{body}");
    for path in ["/api/ivrs/99999", "/api/ivrs/abc"] {
        let (st, body) = s.get(path, &pbx).await;
        assert_eq!((st, body["code"].clone()), (404, json!(404)), "{body}");
        let (st, _) = s.put(path, json!({"name": "y"}), &pbx).await;
        assert_eq!(st, 404);
        let (st, _) = s.delete(path, &pbx).await;
        assert_eq!(st, 404);
    }

    // An IVR a route sends calls to, or another IVR's submenu, stays.
    let sub = create(&s, &pbx, "/api/ivrs", json!({"name": "sub"})).await;
    create(
        &s,
        &pbx,
        &format!("/api/ivrs/{ivr}/actions"),
        json!({"digits": "9", "action": "IVR_SUB", "args": sub.to_string()}),
    )
    .await;
    let (st, body) = s.delete(&format!("/api/ivrs/{sub}"), &pbx).await;
    assert_eq!((st, body["code"].clone()), (409, json!(409)), "{body}");
    let (st, _) = s.get(&format!("/api/ivrs/{sub}"), &pbx).await;
    assert_eq!(st, 200);
    let (st, body) = s.get("/api/ivrs", &Auth::None).await;
    assert_eq!(st, 401, "{body}");
}

async fn ivr_actions_refuse_bad_input(b: Backend) {
    let Some(s) = Server::start(b, Settings::default()).await else { return };
    let pbx = s.pbx().await;
    let ivr = create(&s, &pbx, "/api/ivrs", json!({"name": "main"})).await;
    let other = create(&s, &pbx, "/api/ivrs", json!({"name": "other"})).await;
    let base = format!("/api/ivrs/{ivr}/actions");
    let action = create(&s, &pbx, &base, json!({"digits": "1", "action": "IVR_EXIT"})).await;

    let cases = [
        (json!({"action": "IVR_EXIT"}), "digits"),
        (json!({"digits": "2"}), "action"),
        (json!({"digits": "2", "action": "IVR_DANCE"}), "action"),
        (json!({"digits": "2x", "action": "IVR_EXIT"}), "digits"),
        (json!({"digits": "2", "action": "IVR_EXIT", "match_prefix": "maybe"}), "match_prefix"),
        (json!({"digits": "2", "action": "IVR_EXIT", "args": [1]}), "args"),
        (json!({"digits": "2", "action": "IVR_SUB", "args": "99999"}), "args"),
        (json!({"digits": "2", "action": "IVR_SUB", "args": "abc"}), "args"),
        (json!({"digits": "2", "action": "IVR_SUB"}), "args"),
        (json!({"digits": "2", "action": "IVR_SUB", "args": ivr.to_string()}), "args"),
        (json!({"digits": "2", "action": "IVR_PLAY", "args": 99999}), "args"),
        (json!({"digits": "2", "action": "IVR_PLAY"}), "args"),
    ];
    for (body, field) in cases {
        let (st, answer) = s.post(&base, body, &pbx).await;
        assert_bad(st, &answer, field);
    }
    let (st, body) = s.post(&base, json!({"digits": "1", "action": "IVR_TOP"}), &pbx).await;
    assert_eq!((st, body["code"].clone()), (409, json!(409)), "digits repeat: {body}");
    let (_, actions) = s.get(&base, &pbx).await;
    assert_eq!(actions.as_array().unwrap().len(), 1, "nothing was created: {actions}");

    let item = format!("{base}/{action}");
    let (_, before) = s.get(&item, &pbx).await;
    let (st, body) = s.put(&item, json!({"action": "IVR_SUB", "args": "99999"}), &pbx).await;
    assert_bad(st, &body, "args");
    let (st, body) = s.put(&item, json!({"action": "IVR_PLAY"}), &pbx).await;
    assert_bad(st, &body, "args");
    let (st, body) = s.put(&item, json!({"action": "nope"}), &pbx).await;
    assert_bad(st, &body, "action");
    let (_, after) = s.get(&item, &pbx).await;
    assert_eq!(before, after, "nothing was changed");
    let (st, body) = s.put(&item, json!({"action": "IVR_SUB", "args": other}), &pbx).await;
    assert_eq!(st, 200, "{body}");

    // Another IVR's action is not found under this one; unknown ones 404.
    let elsewhere =
        create(&s, &pbx, &format!("/api/ivrs/{other}/actions"), json!({"digits": "5", "action": "IVR_BACK"}))
            .await;
    for path in [format!("{base}/{elsewhere}"), format!("{base}/99999"), format!("{base}/abc")] {
        let (st, _) = s.get(&path, &pbx).await;
        assert_eq!(st, 404, "{path}");
        let (st, _) = s.put(&path, json!({"digits": "7"}), &pbx).await;
        assert_eq!(st, 404, "{path}");
        let (st, _) = s.delete(&path, &pbx).await;
        assert_eq!(st, 404, "{path}");
    }
    for path in ["/api/ivrs/99999/actions", "/api/ivrs/abc/actions"] {
        let (st, _) = s.get(path, &pbx).await;
        assert_eq!(st, 404);
        let (st, _) = s.post(path, json!({"digits": "1", "action": "IVR_EXIT"}), &pbx).await;
        assert_eq!(st, 404);
    }
}
