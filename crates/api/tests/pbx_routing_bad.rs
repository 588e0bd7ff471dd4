//! The PBX dial plan refusing bad input: wrong types, out-of-range values,
//! unknown enum values, dangling references, duplicates, malformed time
//! recurrence strings and missing records, each answered in the PBX shape
//! with nothing changed.
#![allow(missing_docs, clippy::unwrap_used)]

mod support;

use api::Settings;
use serde_json::{json, Value};
use store::schema::{GATEWAYS, IVRS, ROUTES, TIME_RECURRENCES, TRUNK_GROUPS, WORKSPACES};
use store::{Filter, Scope};
use support::{Auth, Backend, Server};

on_both_stores!(bad_routes, bad_route_params_and_windows, bad_templates, bad_contexts_and_codes);

async fn scope(s: &Server) -> Scope {
    let ws = s
        .state
        .db
        .find(&WORKSPACES, Scope::Global, &[Filter::eq("access_key_id", s.workspace.as_str())])
        .await;
    Scope::Workspace(ws.unwrap().unwrap().id)
}

async fn make(s: &Server, res: &store::Resource, values: store::Values) -> i64 {
    let scope = scope(s).await;
    s.state.db.insert(res, scope, values, s.state.now()).await.unwrap().id
}

async fn count(s: &Server, res: &store::Resource) -> u64 {
    s.state.db.count(res, scope(s).await, &[]).await.unwrap()
}

/// A PBX error: the HTTP status, `code` equal to it, `data` "{}", and a
/// message mentioning `about`.
fn refused(st: u16, body: &Value, status: u16, about: &str) {
    assert_eq!(st, status, "{body}");
    assert_eq!((body["code"].clone(), body["data"].clone()), (json!(status), json!("{}")), "{body}");
    let message = body["message"].as_str().unwrap_or_default();
    assert!(message.contains(about), "'{message}' should mention '{about}'");
}

fn route(name: &str, prefix: &str, max: i64) -> Value {
    json!({"name": name, "prefix": prefix, "max_length": max, "context": "context-1", "dest_type": "FS_DEST_USER"})
}

fn with(mut base: Value, key: &str, value: Value) -> Value {
    base[key] = value;
    base
}

async fn bad_routes(b: Backend) {
    let Some(s) = Server::start(b, Settings::default()).await else { return };
    let pbx = s.pbx().await;
    let gw = make(&s, &GATEWAYS, vec![("name", "gw".into()), ("realm", "example.com".into())]).await;
    let (st, body) = s.post("/api/routes", route("base", "1", 12), &pbx).await;
    assert_eq!(st, 200, "{body}");
    let base = body["data"]["id"].as_i64().unwrap();

    let good = route("new", "2", 12);
    let mut no_name = good.clone();
    no_name.as_object_mut().unwrap().remove("name");
    let mut no_context = good.clone();
    no_context.as_object_mut().unwrap().remove("context");
    let mut no_max = good.clone();
    no_max.as_object_mut().unwrap().remove("max_length");
    let cases: Vec<(Value, u16, &str)> = vec![
        (no_name, 400, "name"),
        (no_context, 400, "context"),
        (no_max, 400, "max_length"),
        (with(good.clone(), "name", json!("")), 400, "name"),
        (with(good.clone(), "name", json!(5)), 400, "name"),
        (with(good.clone(), "max_length", json!("abc")), 400, "max_length"),
        (with(good.clone(), "max_length", json!(0)), 400, "max_length"),
        (with(good.clone(), "max_length", json!(100)), 400, "max_length"),
        (with(good.clone(), "max_length", json!(1.5)), 400, "max_length"),
        (with(good.clone(), "dest_type", json!("FS_DEST_NOWHERE")), 400, "dest_type"),
        (with(good.clone(), "dest_type", json!(3)), 400, "dest_type"),
        (with(good.clone(), "context", json!("context-9")), 400, "context"),
        (with(good.clone(), "prefix", json!("1234567890123")), 400, "prefix"),
        (with(good.clone(), "prefix", json!("1 2")), 400, "prefix"),
        (with(good.clone(), "prefix", json!({"a": 1})), 400, "prefix"),
        (with(good.clone(), "route_type", json!(9)), 400, "route_type"),
        (with(good.clone(), "auto_record", json!("maybe")), 400, "auto_record"),
        (with(good.clone(), "proxy_media", json!(2)), 400, "proxy_media"),
        (with(good.clone(), "media_codec", json!(5)), 400, "media_codec"),
        (with(good.clone(), "media_codec", json!(["PCMU", 7])), 400, "media_codec"),
        (with(good.clone(), "bill_rate", json!("-1")), 400, "bill_rate"),
        (with(good.clone(), "bill_rate", json!("cheap")), 400, "bill_rate"),
        (with(good.clone(), "blacklist", json!("99999")), 400, "blacklist"),
        (with(good.clone(), "dest_type", json!("FS_DEST_GATEWAY")), 400, "dest_uuid"),
        (
            with(with(good.clone(), "dest_type", json!("FS_DEST_GATEWAY")), "dest_uuid", json!("99999")),
            400,
            "dest_uuid",
        ),
        (
            with(with(good.clone(), "dest_type", json!("FS_DEST_IVR")), "dest_uuid", json!("abc")),
            400,
            "dest_uuid",
        ),
        (
            with(with(good.clone(), "dest_type", json!("FS_DEST_IVRBLOCK")), "dest_uuid", json!(99999)),
            400,
            "dest_uuid",
        ),
        (
            with(with(good.clone(), "dest_type", json!("FS_DEST_SCRIPT")), "dest_uuid", json!("99999")),
            400,
            "dest_uuid",
        ),
        (
            with(
                with(good.clone(), "dest_type", json!("FS_DEST_CLUSTER_TRUNK_GROUP")),
                "dest_uuid",
                json!("99999"),
            ),
            400,
            "dest_uuid",
        ),
        (with(good.clone(), "name", json!("base")), 409, "name"),
        (route("other", "1", 12), 409, "prefix"),
        (json!([good.clone()]), 400, "object"),
        (json!("route"), 400, "object"),
    ];
    for (body, status, about) in cases {
        let (st, answer) = s.post("/api/routes", body.clone(), &pbx).await;
        refused(st, &answer, status, about);
    }
    let (st, answer) = s.send(pbx.apply(s.req(reqwest::Method::POST, "/api/routes")).body("{not json")).await;
    refused(st, &answer, 400, "JSON");
    assert_eq!(count(&s, &ROUTES).await, 1, "nothing was created");

    // The same prefix and length in another context, or another length,
    // are different routes.
    let (st, _) =
        s.post("/api/routes", with(route("other", "1", 12), "context", json!("context-2")), &pbx).await;
    assert_eq!(st, 200);
    let (st, body) = s.post("/api/routes", route("longer", "1", 13), &pbx).await;
    assert_eq!(st, 200);
    let longer = body["data"]["id"].as_i64().unwrap();
    let (st, _) = s
        .post(
            "/api/routes",
            with(with(route("gw", "9", 12), "dest_type", json!("FS_DEST_GATEWAY")), "dest_uuid", json!(gw)),
            &pbx,
        )
        .await;
    assert_eq!(st, 200);

    // Updates.
    let one = |id: i64| format!("/api/routes/{id}");
    let (st, body) = s.put(&one(longer), json!({"max_length": 12}), &pbx).await;
    refused(st, &body, 409, "prefix");
    let (st, body) = s.put(&one(longer), json!({"name": "base"}), &pbx).await;
    refused(st, &body, 409, "name");
    let (st, body) = s.put(&one(longer), json!({"dest_type": "FS_DEST_IVR"}), &pbx).await;
    refused(st, &body, 400, "dest_uuid");
    let (st, body) =
        s.put(&one(longer), json!({"dest_type": "FS_DEST_IVR", "dest_uuid": "424242"}), &pbx).await;
    refused(st, &body, 400, "dest_uuid");
    let (st, body) = s.put(&one(longer), json!({"dest_type": "NOPE"}), &pbx).await;
    refused(st, &body, 400, "dest_type");
    let (st, body) = s.put(&one(longer), json!({"context": "nowhere"}), &pbx).await;
    refused(st, &body, 400, "context");
    let (st, body) = s.put(&one(longer), json!({"prefix": "12345678901234"}), &pbx).await;
    refused(st, &body, 400, "prefix");
    let (st, body) = s.put(&one(longer), json!({"max_length": -1}), &pbx).await;
    refused(st, &body, 400, "max_length");
    let (st, body) = s.put(&one(999_999), json!({"name": "x"}), &pbx).await;
    refused(st, &body, 404, "route");
    let (st, body) = s.put("/api/routes/abc", json!({"name": "x"}), &pbx).await;
    refused(st, &body, 404, "route");
    let (st, body) = s.get(&one(999_999), &pbx).await;
    assert_eq!((st, body), (404, json!({"code": 404, "message": "route not found", "data": "{}"})));
    let (st, body) = s.delete(&one(999_999), &pbx).await;
    refused(st, &body, 404, "route");
    let (_, now) = s.get(&one(longer), &pbx).await;
    assert_eq!(
        (now["max_length"].clone(), now["name"].clone(), now["dest_type"].clone()),
        (json!(13), json!("longer"), json!("FS_DEST_USER"))
    );

    // Batch updates: only the listed fields, existing routes, all or none.
    let batch_cases: Vec<(Value, u16, &str)> = vec![
        (json!({"name": "x", "route": [base]}), 400, "name"),
        (json!({"auto_record": 1}), 400, "route"),
        (json!({"auto_record": 1, "route": []}), 400, "route"),
        (json!({"auto_record": 1, "route": "1"}), 400, "route"),
        (json!({"auto_record": 1, "route": ["x"]}), 400, "route"),
        (json!({"route": [base]}), 400, "nothing"),
        (json!({"auto_record": "maybe", "route": [base]}), 400, "auto_record"),
        (json!({"route_type": 7, "route": [base]}), 400, "route_type"),
        (json!({"media_codec": {"a": 1}, "route": [base]}), 400, "media_codec"),
        (json!({"bill_rate": "x", "route": [base]}), 400, "bill_rate"),
        (json!({"blacklist": "777", "route": [base]}), 400, "blacklist"),
        (json!({"auto_record": 1, "route": [base, 999_999]}), 404, "999999"),
        (json!([1, 2]), 400, "object"),
    ];
    for (body, status, about) in batch_cases {
        let (st, answer) = s.put("/api/routes", body, &pbx).await;
        refused(st, &answer, status, about);
    }
    let (_, now) = s.get(&one(base), &pbx).await;
    assert_eq!((now["auto_record"].clone(), now["media_codec"].clone()), (json!(0), json!("")));

    // Queries.
    let (st, body) = s.get("/api/routes?destType=FS_DEST_BOGUS", &pbx).await;
    refused(st, &body, 400, "destType");
    let (st, body) = s.get("/api/routes?destNumber=77&context=context-1", &pbx).await;
    refused(st, &body, 404, "77");
    let (st, body) = s.get("/api/routes?destNumber=1001&context=context-1&destType=FS_DEST_IVR", &pbx).await;
    refused(st, &body, 404, "1001");
    let (st, body) = s.get("/api/routes?sortField=nope", &pbx).await;
    refused(st, &body, 400, "nope");

    // The dictionary.
    let (st, body) = s.get("/api/dicts?realm=NOPE", &pbx).await;
    refused(st, &body, 404, "NOPE");
    let (st, body) = s.get("/api/dicts", &pbx).await;
    refused(st, &body, 400, "realm");

    // No credentials: 401 in the PBX shape.
    let (st, body) = s.get("/api/routes", &Auth::None).await;
    assert_eq!((st, body["code"].clone()), (401, json!(401)));
    let (st, _) = s.post("/api/routes", route("anon", "5", 5), &Auth::None).await;
    assert_eq!(st, 401);
}

async fn bad_route_params_and_windows(b: Backend) {
    let Some(s) = Server::start(b, Settings::default()).await else { return };
    let pbx = s.pbx().await;
    let ivr = make(&s, &IVRS, vec![("name", "menu".into())]).await;
    let (_, body) = s.post("/api/routes", route("a", "1", 12), &pbx).await;
    let a = body["data"]["id"].as_i64().unwrap();
    let (_, body) = s.post("/api/routes", route("b", "2", 12), &pbx).await;
    let b2 = body["data"]["id"].as_i64().unwrap();

    // Params.
    let (st, body) = s.get("/api/routes/999999/params", &pbx).await;
    refused(st, &body, 404, "route");
    let (st, body) = s.post("/api/routes/999999/params", json!({"k": "set", "v": "a=1"}), &pbx).await;
    refused(st, &body, 404, "route");
    let (st, body) = s.post(&format!("/api/routes/{a}/params"), json!({"v": "a=1"}), &pbx).await;
    refused(st, &body, 400, "k");
    let (st, body) = s.post(&format!("/api/routes/{a}/params"), json!({"k": 5, "v": "a=1"}), &pbx).await;
    refused(st, &body, 400, "k");
    let (st, body) = s.post(&format!("/api/routes/{a}/params"), json!({"k": "set", "v": ["a"]}), &pbx).await;
    refused(st, &body, 400, "v");
    let (st, body) =
        s.post(&format!("/api/routes/{a}/params"), json!({"k": "set", "disabled": "x"}), &pbx).await;
    refused(st, &body, 400, "disabled");
    let (_, body) = s.post(&format!("/api/routes/{a}/params"), json!({"k": "set", "v": "a=1"}), &pbx).await;
    let param = body["data"].as_i64().unwrap();
    let (st, body) = s.put(&format!("/api/routes/{b2}/params/{param}"), json!({"v": "a=2"}), &pbx).await;
    refused(st, &body, 404, "param");
    let (st, body) = s.put(&format!("/api/routes/{a}/params/{param}"), json!({"k": ""}), &pbx).await;
    refused(st, &body, 400, "k");
    let (st, body) = s.put(&format!("/api/routes/{a}/params"), json!({"v": "a=2"}), &pbx).await;
    refused(st, &body, 400, "id");
    let (st, body) = s.delete(&format!("/api/routes/{b2}/param/{param}"), &pbx).await;
    refused(st, &body, 404, "param");
    let (st, body) = s.delete(&format!("/api/routes/{a}/param/999999"), &pbx).await;
    refused(st, &body, 404, "param");
    let (_, list) = s.get(&format!("/api/routes/{a}/params"), &pbx).await;
    assert_eq!((list[0]["v"].clone(), list.as_array().unwrap().len()), (json!("a=1"), 1));

    // Time windows: malformed strings.
    let window = |tr: Value| json!({"dest_type": "FS_DEST_USER", "route_id": a, "time_recurrence": tr});
    for garbage in [
        json!("garbage"),
        json!(""),
        json!("20230305T170000"),
        json!("2023-03-05 17:00|PT1H|daily"),
        json!("20231305T170000|PT1H|daily"),
        json!("20230305T170000|6 hours|daily"),
        json!("20230305T170000|PT0S|daily"),
        json!("20230305T170000|PT1H|fortnightly"),
        json!("20230305T170000|PT1H|daily|soon"),
        json!("20230305T170000|PT1H|daily||0"),
        json!("20230305T170000|PT1H|daily||1|XX"),
        json!("20230305T170000|PT1H|daily||1|MO|more"),
        json!(20230305),
    ] {
        let (st, body) = s.post("/api/time_recurrence", json!([window(garbage.clone())]), &pbx).await;
        refused(st, &body, 400, "time_recurrence");
    }
    let mut no_dest = window(json!("20220502T000000|PT1H|daily"));
    no_dest.as_object_mut().unwrap().remove("dest_type");
    let mut no_route = window(json!("20220502T000000|PT1H|daily"));
    no_route.as_object_mut().unwrap().remove("route_id");
    let ok_row = window(json!("20220502T000000|PT1H|daily"));
    let cases: Vec<(Value, &str)> = vec![
        (json!([no_dest]), "dest_type"),
        (json!([no_route]), "route_id"),
        (json!([with(ok_row.clone(), "dest_type", json!("FS_DEST_BOGUS"))]), "dest_type"),
        (json!([with(ok_row.clone(), "route_id", json!(999_999))]), "route"),
        (json!([with(ok_row.clone(), "route_id", json!("abc"))]), "route_id"),
        (json!([with(ok_row.clone(), "dest_type", json!("FS_DEST_IVR"))]), "dest_uuid"),
        (
            json!([with(
                with(ok_row.clone(), "dest_type", json!("FS_DEST_IVR")),
                "dest_uuid",
                json!("31337")
            )]),
            "dest_uuid",
        ),
        (json!([ok_row.clone(), with(ok_row.clone(), "time_recurrence", json!("bad"))]), "row 2"),
        (json!([ok_row.clone(), with(ok_row.clone(), "route_id", json!(999_999))]), "row 2"),
        (json!([]), "rows"),
        (json!([1]), "row 1"),
        (json!("x"), "array"),
    ];
    for (body, about) in cases {
        let (st, answer) = s.post("/api/time_recurrence", body, &pbx).await;
        refused(st, &answer, 400, about);
    }
    assert_eq!(count(&s, &TIME_RECURRENCES).await, 0, "no window was created");

    let (_, made) = s.post("/api/time_recurrence", json!([ok_row.clone(), ok_row.clone()]), &pbx).await;
    let (w1, w2) = (made[0]["id"].as_i64().unwrap(), made[1]["id"].as_i64().unwrap());
    let put_cases: Vec<(Value, u16, &str)> = vec![
        (json!([{"time_recurrence": "20220502T000000|PT2H|daily"}]), 400, "id"),
        (json!([{"id": "x", "time_recurrence": "20220502T000000|PT2H|daily"}]), 400, "id"),
        (json!([{"id": 999_999, "time_recurrence": "20220502T000000|PT2H|daily"}]), 404, "row 1"),
        (
            json!([{"id": w1, "time_recurrence": "20220502T000000|PT2H|daily"}, {"id": w2, "time_recurrence": "nope"}]),
            400,
            "row 2",
        ),
        (
            json!([{"id": w1, "time_recurrence": "20220502T000000|PT2H|daily"}, {"id": w2, "dest_type": "FS_DEST_IVR"}]),
            400,
            "row 2",
        ),
        (
            json!([{"id": w1, "time_recurrence": "20220502T000000|PT2H|daily"}, {"id": w2, "route_id": 999_999}]),
            400,
            "row 2",
        ),
        (
            json!([{"id": w1, "time_recurrence": "20220502T000000|PT2H|daily"}, {"id": w1, "body": "x"}]),
            400,
            "row 2",
        ),
    ];
    for (body, status, about) in put_cases {
        let (st, answer) = s.put("/api/time_recurrence", body, &pbx).await;
        refused(st, &answer, status, about);
    }
    let (_, list) = s.get(&format!("/api/time_recurrence/route/{a}"), &pbx).await;
    assert_eq!(list["data"][0]["time_recurrence"], "20220502T000000|PT1H|daily", "nothing was changed");
    // A window may send its destination to an IVR, which then cannot go.
    let (st, _) = s
        .put("/api/time_recurrence", json!([{"id": w2, "dest_type": "FS_DEST_IVR", "dest_uuid": ivr}]), &pbx)
        .await;
    assert_eq!(st, 200);
    let err = s.state.db.delete(&IVRS, scope(&s).await, &store::Key::Id(ivr)).await.unwrap_err();
    assert_eq!(api::ApiError::from(err).kind.status().as_u16(), 409);

    let (st, body) = s.get("/api/time_recurrence/route/999999", &pbx).await;
    refused(st, &body, 404, "route");
    let (st, body) = s.delete("/api/time_recurrence/route/999999", &pbx).await;
    refused(st, &body, 404, "route");
    let (st, body) = s.delete("/api/time_recurrence/999999", &pbx).await;
    refused(st, &body, 404, "time recurrence");
}

async fn bad_templates(b: Backend) {
    let Some(s) = Server::start(b, Settings::default()).await else { return };
    let pbx = s.pbx().await;
    const T: &str = "/api/time_recurrence/templates";
    const W: &str = "/api/time_recurrence/templates/time_recurrences";
    let (_, body) = s.post(T, json!([{"name": "work"}, {"name": "holidays"}]), &pbx).await;
    let (work, holidays) = (body["data"][0]["id"].as_i64().unwrap(), body["data"][1]["id"].as_i64().unwrap());

    let cases: Vec<(Value, u16, &str)> = vec![
        (json!([]), 400, "rows"),
        (json!([{"description": "no name"}]), 400, "name"),
        (json!([{"name": ""}]), 400, "name"),
        (json!([{"name": 7}]), 400, "name"),
        (json!([{"name": "work"}]), 409, "name"),
        (json!([{"name": "x"}, {"name": "x"}]), 409, "row 2"),
        (json!(3), 400, "array"),
    ];
    for (body, status, about) in cases {
        let (st, answer) = s.post(T, body, &pbx).await;
        refused(st, &answer, status, about);
    }
    let (_, list) = s.get(T, &pbx).await;
    assert_eq!(list["data"]["rowCount"], 2, "nothing was created");

    let put_cases: Vec<(Value, u16, &str)> = vec![
        (json!([{"name": "x"}]), 400, "id"),
        (json!([{"id": 999_999, "name": "x"}]), 404, "row 1"),
        (json!([{"id": work, "name": "holidays"}]), 409, "name"),
        (json!([{"id": work, "name": "same"}, {"id": holidays, "name": "same"}]), 409, "row 2"),
        (json!([{"id": work, "name": "renamed"}, {"id": holidays, "name": ""}]), 400, "row 2"),
    ];
    for (body, status, about) in put_cases {
        let (st, answer) = s.put(T, body, &pbx).await;
        refused(st, &answer, status, about);
    }
    let (_, one) = s.get(&format!("{T}/{work}"), &pbx).await;
    assert_eq!(one["data"]["name"], "work", "nothing was renamed");

    for (body, status, about) in [
        (json!([work, 999_999]), 404, "999999"),
        (json!(["x"]), 400, "id"),
        (json!([]), 400, "ids"),
        (json!({"id": work}), 400, "array"),
    ] {
        let (st, answer) = s.delete_with(T, body, &pbx).await;
        refused(st, &answer, status, about);
    }
    let (st, _) = s.get(&format!("{T}/{work}"), &pbx).await;
    assert_eq!(st, 200, "a refused delete deletes nothing");
    let (st, body) = s.get(&format!("{T}/999999"), &pbx).await;
    refused(st, &body, 404, "time template");

    // Windows.
    let cases: Vec<(Value, u16, &str)> = vec![
        (
            json!([{"template_id": work, "time_recurrence": "20100101T010101|PT10H|sometimes"}]),
            400,
            "time_recurrence",
        ),
        (json!([{"template_id": work, "time_recurrence": "20100101T010101"}]), 400, "time_recurrence"),
        (json!([{"template_id": work}]), 400, "time_recurrence"),
        (json!([{"time_recurrence": "20100101T010101|PT10H||daily"}]), 400, "template_id"),
        (
            json!([{"template_id": 999_999, "time_recurrence": "20100101T010101|PT10H||daily"}]),
            400,
            "template",
        ),
        (
            json!([{"template_id": work, "time_recurrence": "20100101T010101|PT10H||daily"}, {"template_id": work, "time_recurrence": "x"}]),
            400,
            "row 2",
        ),
    ];
    for (body, status, about) in cases {
        let (st, answer) = s.post(W, body, &pbx).await;
        refused(st, &answer, status, about);
    }
    let (_, one) = s.get(&format!("{T}/{work}"), &pbx).await;
    assert_eq!(one["data"]["time_recurrences"], json!([]), "no window was created");
    let (_, made) = s
        .post(W, json!([{"template_id": work, "time_recurrence": "20100101T010101|PT10H||daily"}]), &pbx)
        .await;
    let w: i64 = made["data"][0]["time_recurrences"][0]["id"].as_str().unwrap().parse().unwrap();
    for (body, status, about) in [
        (json!([{"id": w, "time_recurrence": "P1D"}]), 400, "time_recurrence"),
        (json!([{"id": w, "template_id": 999_999}]), 400, "template"),
        (json!([{"id": 999_999, "time_recurrence": "20100101T010101|PT10H||daily"}]), 404, "row 1"),
    ] {
        let (st, answer) = s.put(W, body, &pbx).await;
        refused(st, &answer, status, about);
    }
    let (st, body) = s.delete(&format!("{W}/999999"), &pbx).await;
    refused(st, &body, 404, "template time recurrence");
    let (st, body) = s.delete_with(W, json!([w, 999_999]), &pbx).await;
    refused(st, &body, 404, "999999");
    let (_, one) = s.get(&format!("{T}/{work}"), &pbx).await;
    assert_eq!(one["data"]["time_recurrences"][0]["time_recurrence"], "20100101T010101|PT10H||daily");
}

async fn bad_contexts_and_codes(b: Backend) {
    let Some(s) = Server::start(b, Settings::default()).await else { return };
    let pbx = s.pbx().await;

    // Contexts.
    let (st, body) = s.post("/api/contexts", json!({"name": "分机"}), &pbx).await;
    refused(st, &body, 409, "name");
    let (st, body) = s.post("/api/contexts", json!({"description": "x"}), &pbx).await;
    refused(st, &body, 400, "name");
    let (st, body) = s.post("/api/contexts", json!({"name": "x", "hotline_enabled": "perhaps"}), &pbx).await;
    refused(st, &body, 400, "hotline_enabled");
    let (_, list) = s.get("/api/contexts", &pbx).await;
    assert_eq!(list["rowCount"], 2);
    let c1 = list["data"][0]["id"].as_i64().unwrap();
    let (st, body) = s.put(&format!("/api/contexts/{c1}"), json!({"name": "外部"}), &pbx).await;
    refused(st, &body, 409, "name");
    let (st, body) = s.get("/api/contexts/999999", &pbx).await;
    refused(st, &body, 404, "context");
    let (st, body) = s.delete("/api/contexts/999999", &pbx).await;
    refused(st, &body, 404, "context");
    let (_, made) = s.post("/api/routes", route("ext", "1", 12), &pbx).await;
    let (st, body) = s.delete(&format!("/api/contexts/{c1}"), &pbx).await;
    refused(st, &body, 409, &format!("route {}", made["data"]["id"]));

    // Route codes.
    let tg = make(&s, &TRUNK_GROUPS, vec![("name", "g".into()), ("strategy", "RR".into())]).await;
    let (st, _) = s.post("/api/route_codes", json!({"code": "code1", "tg_id": tg}), &pbx).await;
    assert_eq!(st, 200);
    let cases: Vec<(Value, u16, &str)> = vec![
        (json!({"code": "toolong99", "tg_id": tg}), 400, "code"),
        (json!({"code": "", "tg_id": tg}), 400, "code"),
        (json!({"code": "a b", "tg_id": tg}), 400, "code"),
        (json!({"tg_id": tg}), 400, "code"),
        (json!({"code": "c2"}), 400, "tg_id"),
        (json!({"code": "c2", "tg_id": 999_999}), 400, "tg_id"),
        (json!({"code": "c2", "tg_id": "abc"}), 400, "tg_id"),
        (json!({"code": "code1", "tg_id": tg}), 409, "code"),
    ];
    for (body, status, about) in cases {
        let (st, answer) = s.post("/api/route_codes", body, &pbx).await;
        refused(st, &answer, status, about);
    }
    let (_, list) = s.get("/api/route_codes", &pbx).await;
    assert_eq!(list["rowCount"], 1);
    let code = list["data"][0]["id"].as_i64().unwrap();
    let (st, body) = s.put(&format!("/api/route_codes/{code}"), json!({"code": "123456789"}), &pbx).await;
    refused(st, &body, 400, "code");
    let (st, body) = s.put(&format!("/api/route_codes/{code}"), json!({"tg_id": 999_999}), &pbx).await;
    refused(st, &body, 400, "tg_id");
    for path in ["/api/route_codes/999999", "/api/route_codes/abc"] {
        let (st, body) = s.get(path, &pbx).await;
        refused(st, &body, 404, "route code");
        let (st, body) = s.delete(path, &pbx).await;
        refused(st, &body, 404, "route code");
    }
    // A trunk group a route code names cannot be deleted.
    let err = s.state.db.delete(&TRUNK_GROUPS, scope(&s).await, &store::Key::Id(tg)).await.unwrap_err();
    assert_eq!(api::ApiError::from(err).kind.status().as_u16(), 409);

    // Feature codes.
    let (st, body) = s
        .post("/api/func_code", json!({"func_code": "*72", "func_type": "FS_DEST_FUNC_CALL_DND"}), &pbx)
        .await;
    assert_eq!(st, 200);
    let fc = body["data"].as_i64().unwrap();
    let cases: Vec<(Value, u16, &str)> = vec![
        (json!({"func_code": "*73", "func_type": "FS_DEST_FUNC_TELEPORT"}), 400, "func_type"),
        (json!({"func_code": "*73"}), 400, "func_type"),
        (json!({"func_type": "FS_DEST_MCASTS"}), 400, "func_code"),
        (json!({"func_code": 73, "func_type": "FS_DEST_MCASTS"}), 400, "func_code"),
        (json!({"func_code": "* 73", "func_type": "FS_DEST_MCASTS"}), 400, "func_code"),
        (json!({"func_code": "*72", "func_type": "FS_DEST_MCASTS"}), 409, "func_code"),
        (json!({"func_code": "*74", "func_type": "FS_DEST_MCASTS", "action": "toggle"}), 400, "action"),
    ];
    for (body, status, about) in cases {
        let (st, answer) = s.post("/api/func_code", body, &pbx).await;
        refused(st, &answer, status, about);
    }
    for (body, status, about) in [
        (json!({"action": "explode"}), 400, "action"),
        (json!({"action": 1}), 400, "action"),
        (json!({"func_type": "NOPE"}), 400, "func_type"),
    ] {
        let (st, answer) = s.put(&format!("/api/func_code/{fc}"), body, &pbx).await;
        refused(st, &answer, status, about);
    }
    let (_, one) = s.get(&format!("/api/func_code/{fc}"), &pbx).await;
    assert_eq!(
        (one["disabled"].clone(), one["func_type"].clone()),
        (json!(0), json!("FS_DEST_FUNC_CALL_DND"))
    );
    let (st, body) = s.put("/api/func_code/999999", json!({"action": "toggle"}), &pbx).await;
    refused(st, &body, 404, "feature code");
    let (_, list) = s.get("/api/func_code", &pbx).await;
    assert_eq!(list["rowCount"], 1);
}
