//! PBX DID hotlines and DOD numbers (with import): every request example
//! of the seed's 热线号码 and DOD sections in order, then bad input.
#![allow(missing_docs, clippy::unwrap_used)]

mod support;

use api::Settings;
use serde_json::{json, Value};
use store::schema::{AGENTS, GATEWAYS, NUMBERS, WORKSPACES};
use store::{Filter, Key, Scope};
use support::{assert_success, keys, set, Auth, Backend, Server};

on_both_stores!(
    hotlines_replay_the_seed,
    hotlines_refuse_bad_input,
    dods_replay_the_seed,
    dods_refuse_bad_input
);

async fn scope(s: &Server) -> Scope {
    let ws = s
        .state
        .db
        .find(&WORKSPACES, Scope::Global, &[Filter::eq("access_key_id", s.workspace.as_str())])
        .await
        .unwrap()
        .unwrap();
    Scope::Workspace(ws.id)
}

async fn count(s: &Server, path: &str, auth: &Auth) -> u64 {
    let (st, list) = s.get(path, auth).await;
    assert_eq!(st, 200, "{list}");
    list["rowCount"].as_u64().unwrap()
}

const HOTLINE_KEYS: &[&str] = &[
    "ref_id",
    "deleted_at",
    "numbers",
    "updated_at",
    "description",
    "id",
    "created_at",
    "line_number",
    "type",
];

async fn hotlines_replay_the_seed(b: Backend) {
    let Some(s) = Server::start(b, Settings::default()).await else { return };
    let pbx = s.pbx().await;

    // The list's example row, then 新建热线号码.
    let (st, body) =
        s.post("/api/hotlines", json!({"numbers": "1001", "line_number": "6753997"}), &pbx).await;
    assert_eq!(st, 200, "{body}");
    let first = body["data"].as_i64().unwrap();
    let (st, body) =
        s.post("/api/hotlines", json!({"numbers": "1005", "line_number": "6553998"}), &pbx).await;
    assert_eq!(st, 200, "{body}");
    let id = body["data"].as_i64().expect("the seed answers the id as a number");
    assert_success(st, &body, json!(id));

    // 获取热线号码: paged, by extension, by line number, by id.
    let (st, list) = s.get("/api/hotlines?page=1&perPage=1000", &pbx).await;
    assert_eq!(st, 200);
    assert_eq!(
        (list["page"].clone(), list["pageCount"].clone(), list["rowCount"].clone()),
        (json!(1), json!(1), json!(2))
    );
    let row = &list["data"][0];
    assert_eq!(keys(row), set(HOTLINE_KEYS), "{row}");
    for (k, v) in [
        ("ref_id", json!("")),
        ("deleted_at", json!("")),
        ("numbers", json!("1001")),
        ("description", json!("")),
        ("id", json!(first)),
        ("line_number", json!("6753997")),
        ("type", json!("")),
    ] {
        assert_eq!(row[k], v, "{k}");
    }
    let (_, by_ext) = s.get("/api/hotlines?numbers=1001", &pbx).await;
    assert_eq!((by_ext["rowCount"].clone(), by_ext["data"][0]["id"].clone()), (json!(1), json!(first)));
    let (_, by_line) = s.get("/api/hotlines?page=1&perPage=10&line_number=12345", &pbx).await;
    assert_eq!((by_line["rowCount"].clone(), by_line["data"].clone()), (json!(0), json!([])));
    let (_, by_line) = s.get("/api/hotlines?page=1&perPage=10&line_number=6553998", &pbx).await;
    assert_eq!(by_line["data"][0]["numbers"], "1005");
    let (st, one) = s.get(&format!("/api/hotlines/{id}"), &pbx).await;
    assert_eq!(st, 200);
    assert_eq!(keys(&one), set(HOTLINE_KEYS));
    assert_eq!((one["numbers"].clone(), one["line_number"].clone()), (json!("1005"), json!("6553998")));

    // The hotline is a number of the shared table (the Fonoster dialect's).
    let rec = s.state.db.get(&NUMBERS, scope(&s).await, &Key::Id(id)).await.unwrap();
    assert_eq!(rec.text("line_number"), "6553998");

    // 修改热线号码.
    let (st, body) = s
        .put(&format!("/api/hotlines/{id}"), json!({"numbers": "1009", "line_number": "6553998"}), &pbx)
        .await;
    assert_success(st, &body, json!(id.to_string()));
    let (_, one) = s.get(&format!("/api/hotlines/{id}"), &pbx).await;
    assert_eq!(one["numbers"], "1009");

    // 删除热线号码.
    let (st, body) = s.delete(&format!("/api/hotlines/{id}"), &pbx).await;
    assert_success(st, &body, json!(id.to_string()));
    let (st, body) = s.get(&format!("/api/hotlines/{id}"), &pbx).await;
    assert_eq!((st, body), (404, json!({"code": 404, "message": "number not found", "data": "{}"})));
}

async fn hotlines_refuse_bad_input(b: Backend) {
    let mut settings = Settings::default();
    settings.quotas.insert("numbers".into(), 2);
    let Some(s) = Server::start(b, settings).await else { return };
    let pbx = s.pbx().await;
    let (st, body) =
        s.post("/api/hotlines", json!({"numbers": "1001,1002", "line_number": "+8675512345"}), &pbx).await;
    assert_eq!(st, 200, "{body}");
    let id = body["data"].as_i64().unwrap();

    let bad: Vec<(Value, u16, &str)> = vec![
        (json!({"numbers": "1001"}), 400, "line_number"),
        (json!({"line_number": ""}), 400, "line_number"),
        (json!({"line_number": "phone"}), 400, "line_number"),
        (json!({"line_number": 12345}), 400, "line_number"),
        (json!({"line_number": "12345", "numbers": "10 01"}), 400, "numbers"),
        (json!({"line_number": "12345", "numbers": "1001,,1002"}), 400, "numbers"),
        (json!({"line_number": "12345", "description": 5}), 400, "description"),
        (json!({"line_number": "+8675512345"}), 409, "line_number"),
        (json!("6553998"), 400, "object"),
    ];
    for (body, status, says) in bad {
        let (st, answer) = s.post("/api/hotlines", body.clone(), &pbx).await;
        assert_eq!((st, answer["code"].clone()), (status, json!(status)), "{body}: {answer}");
        assert!(answer["message"].as_str().unwrap().contains(says), "{says}: {answer}");
    }
    assert_eq!(count(&s, "/api/hotlines", &pbx).await, 1);

    // The numbers quota applies.
    let (st, _) = s.post("/api/hotlines", json!({"line_number": "2000"}), &pbx).await;
    assert_eq!(st, 200);
    let (st, body) = s.post("/api/hotlines", json!({"line_number": "3000"}), &pbx).await;
    assert_eq!((st, body["code"].clone()), (429, json!(429)), "{body}");
    assert!(body["message"].as_str().unwrap().contains("numbers"), "{body}");

    // Updates: a line number taken by another is a 409; bad values a 400.
    let (st, _) = s.put(&format!("/api/hotlines/{id}"), json!({"line_number": "2000"}), &pbx).await;
    assert_eq!(st, 409);
    let (st, _) = s.put(&format!("/api/hotlines/{id}"), json!({"numbers": "a b"}), &pbx).await;
    assert_eq!(st, 400);
    let (_, one) = s.get(&format!("/api/hotlines/{id}"), &pbx).await;
    assert_eq!(
        (one["line_number"].clone(), one["numbers"].clone()),
        (json!("+8675512345"), json!("1001,1002"))
    );
    for path in ["/api/hotlines/99999", "/api/hotlines/one"] {
        let (st, _) = s.get(path, &pbx).await;
        assert_eq!(st, 404);
        let (st, _) = s.put(path, json!({"numbers": "1"}), &pbx).await;
        assert_eq!(st, 404);
        let (st, _) = s.delete(path, &pbx).await;
        assert_eq!(st, 404);
    }
}

/// Gateways and agents (extensions) the DOD examples name.
async fn prerequisites(s: &Server) -> (i64, i64, Vec<(String, i64)>) {
    let scope = scope(s).await;
    let mut gateways = Vec::new();
    for name in ["example", "gw2"] {
        let values = vec![("name", name.into()), ("realm", "example.com".into())];
        gateways.push(s.state.db.insert(&GATEWAYS, scope, values, 0).await.unwrap().id);
    }
    let mut agents = Vec::new();
    for ext in ["1000", "1001", "1005"] {
        let values = vec![("name", format!("Agent {ext}").into()), ("username", ext.into())];
        agents.push((ext.to_owned(), s.state.db.insert(&AGENTS, scope, values, 0).await.unwrap().id));
    }
    (gateways[0], gateways[1], agents)
}

const DOD_KEYS: &[&str] = &[
    "name",
    "id",
    "type",
    "extn_id",
    "created_at",
    "line_number",
    "updated_at",
    "deleted_at",
    "extn",
    "ref_id",
];

async fn dods_replay_the_seed(b: Backend) {
    let Some(s) = Server::start(b, Settings::default()).await else { return };
    let pbx = s.pbx().await;
    let (example, gw2, agents) = prerequisites(&s).await;
    let agent = |ext: &str| agents.iter().find(|(e, _)| e == ext).unwrap().1;

    // The list's example row first, then 新建 DOD 号码.
    let (st, body) = s
        .post(
            "/api/dods",
            json!({"line_number": "86201858", "extn": "1001", "type": "GATEWAY", "name": "example"}),
            &pbx,
        )
        .await;
    assert_eq!(st, 200, "{body}");
    let first = body["data"].as_i64().unwrap();
    let (st, body) = s
        .post(
            "/api/dods",
            json!({"line_number": "6553998", "extn": "1005", "type": "GATEWAY", "name": "example"}),
            &pbx,
        )
        .await;
    assert_eq!(st, 200, "{body}");
    let id = body["data"].as_i64().expect("the seed answers the id as a number");
    assert_success(st, &body, json!(id));

    // 获取 DOD 列表: all, by extension, by line number, by id.
    let (st, list) = s.get("/api/dods", &pbx).await;
    assert_eq!(st, 200);
    assert_eq!(
        (list["page"].clone(), list["rowCount"].clone(), list["pageCount"].clone()),
        (json!(1), json!(2), json!(1))
    );
    let row = &list["data"][0];
    assert_eq!(keys(row), set(DOD_KEYS), "{row}");
    for (k, v) in [
        ("name", json!("example")),
        ("id", json!(first)),
        ("type", json!("GATEWAY")),
        ("extn_id", json!(agent("1001"))),
        ("line_number", json!("86201858")),
        ("deleted_at", json!("")),
        ("extn", json!("1001")),
        ("ref_id", json!(example)),
    ] {
        assert_eq!(row[k], v, "{k}");
    }
    let (_, by_ext) = s.get("/api/dods?extn=1001", &pbx).await;
    assert_eq!((by_ext["rowCount"].clone(), by_ext["data"][0]["id"].clone()), (json!(1), json!(first)));
    let (_, by_line) = s.get("/api/dods?page=1&perPage=10&line_number=12345", &pbx).await;
    assert_eq!(by_line["rowCount"], 0);
    let (st, one) = s.get(&format!("/api/dods/{id}"), &pbx).await;
    assert_eq!(st, 200);
    assert_eq!(keys(&one), set(DOD_KEYS));
    assert_eq!((one["extn_id"].clone(), one["ref_id"].clone()), (json!(agent("1005")), json!(example)));

    // 批量导入DOD.
    let import = json!({"dods": [
        {"分机": "1001", "线路号码": "12345688", "资源类型": "GATEWAY", "资源名": "example"},
        {"分机": "1000", "线路号码": "56799999", "资源类型": "GATEWAY", "资源名": "example"}
    ]});
    let (st, body) = s.post("/api/dods/import", import, &pbx).await;
    assert_eq!(
        (st, body["code"].clone(), body["message"].clone()),
        (200, json!(200), json!("success")),
        "{body}"
    );
    let rows = body["data"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    for (row, (ext, line)) in rows.iter().zip([("1001", "12345688"), ("1000", "56799999")]) {
        assert_eq!(keys(row), set(DOD_KEYS), "{row}");
        assert_eq!(
            (row["type"].clone(), row["extn"].clone(), row["extn_id"].clone(), row["line_number"].clone()),
            (json!("GATEWAY"), json!(ext), json!(agent(ext)), json!(line))
        );
        assert_eq!((row["ref_id"].clone(), row["name"].clone()), (json!(example), json!("example")));
        assert!(row["id"].is_i64());
    }
    assert_eq!(count(&s, "/api/dods", &pbx).await, 4);

    // 修改 DOD 号码: the gateway's name is resolved again.
    let (st, body) = s.put(&format!("/api/dods/{id}"), json!({"name": "gw2"}), &pbx).await;
    assert_success(st, &body, json!(id.to_string()));
    let (_, one) = s.get(&format!("/api/dods/{id}"), &pbx).await;
    assert_eq!(
        (one["name"].clone(), one["ref_id"].clone(), one["extn"].clone()),
        (json!("gw2"), json!(gw2), json!("1005"))
    );
    let (st, _) = s.put(&format!("/api/dods/{id}"), json!({"extn": "1000"}), &pbx).await;
    assert_eq!(st, 200);
    let (_, one) = s.get(&format!("/api/dods/{id}"), &pbx).await;
    assert_eq!((one["extn_id"].clone(), one["ref_id"].clone()), (json!(agent("1000")), json!(gw2)));

    // 删除 DOD 号码.
    let (st, body) = s.delete(&format!("/api/dods/{id}"), &pbx).await;
    assert_success(st, &body, json!(id.to_string()));
    let (st, _) = s.get(&format!("/api/dods/{id}"), &pbx).await;
    assert_eq!(st, 404);
}

async fn dods_refuse_bad_input(b: Backend) {
    let Some(s) = Server::start(b, Settings::default()).await else { return };
    let pbx = s.pbx().await;
    let (example, _, agents) = prerequisites(&s).await;
    let good = json!({"line_number": "6553998", "extn": "1005", "type": "GATEWAY", "name": "example"});
    let (st, body) = s.post("/api/dods", good.clone(), &pbx).await;
    assert_eq!(st, 200, "{body}");
    let id = body["data"].as_i64().unwrap();

    let with = |k: &str, v: Value| {
        let mut b = good.clone();
        b[k] = v;
        b
    };
    let without = |k: &str| {
        let mut b = good.clone();
        b.as_object_mut().unwrap().remove(k);
        b
    };
    let bad: Vec<(Value, &str)> = vec![
        (with("extn", json!("9999")), "extn"),
        (with("extn", json!(1005)), "extn"),
        (without("extn"), "extn"),
        (with("name", json!("nowhere")), "name"),
        (without("name"), "name"),
        (with("type", json!("FOO")), "type"),
        (without("type"), "type"),
        (with("type", json!("DISTRIBUTORS")), "name"),
        (with("line_number", json!("abc")), "line_number"),
        (without("line_number"), "line_number"),
    ];
    for (body, says) in bad {
        let (st, answer) = s.post("/api/dods", body.clone(), &pbx).await;
        assert_eq!((st, answer["code"].clone()), (400, json!(400)), "{body}: {answer}");
        assert!(answer["message"].as_str().unwrap().contains(says), "{says}: {answer}");
    }
    assert_eq!(count(&s, "/api/dods", &pbx).await, 1);

    for body in [
        json!({"name": "nowhere"}),
        json!({"extn": "4242"}),
        json!({"type": "DISTRIBUTORS"}),
        json!({"name": ""}),
    ] {
        let (st, answer) = s.put(&format!("/api/dods/{id}"), body.clone(), &pbx).await;
        assert_eq!(st, 400, "{body}: {answer}");
    }
    let (_, one) = s.get(&format!("/api/dods/{id}"), &pbx).await;
    assert_eq!(
        (one["name"].clone(), one["ref_id"].clone(), one["type"].clone()),
        (json!("example"), json!(example), json!("GATEWAY"))
    );
    for path in ["/api/dods/99999", "/api/dods/x"] {
        let (st, _) = s.put(path, json!({"name": "example"}), &pbx).await;
        assert_eq!(st, 404);
        let (st, _) = s.delete(path, &pbx).await;
        assert_eq!(st, 404);
    }

    // Imports: one bad row and nothing is imported; the row is named.
    let row = |ext: &str, gw: &str| json!({"分机": ext, "线路号码": "12345688", "资源类型": "GATEWAY", "资源名": gw});
    let cases: Vec<(Value, &str)> = vec![
        (json!({"dods": [row("1001", "example"), row("4242", "example")]}), "row 2: 分机"),
        (json!({"dods": [row("1001", "example"), row("1000", "nowhere")]}), "row 2: 资源名"),
        (
            json!({"dods": [row("1001", "example"), {"分机": "1000", "线路号码": "1", "资源类型": "PHONE", "资源名": "example"}]}),
            "row 2: 资源类型",
        ),
        (
            json!({"dods": [{"分机": "1000", "线路号码": "x1", "资源类型": "GATEWAY", "资源名": "example"}]}),
            "row 1: 线路号码",
        ),
        (json!({"dods": []}), "dods"),
        (json!({"trunks": [row("1001", "example")]}), "dods"),
    ];
    for (body, says) in cases {
        let (st, answer) = s.post("/api/dods/import", body.clone(), &pbx).await;
        assert_eq!((st, answer["code"].clone()), (400, json!(400)), "{body}: {answer}");
        assert!(answer["message"].as_str().unwrap().contains(says), "{says}: {answer}");
    }
    assert_eq!(count(&s, "/api/dods", &pbx).await, 1, "no import left a row behind");
    // Spreadsheet cells holding numbers are read as text.
    let (st, body) = s
        .post("/api/dods/import", json!({"dods": [{"分机": 1000, "线路号码": 56799999, "资源类型": "GATEWAY", "资源名": "example"}]}), &pbx)
        .await;
    assert_eq!(st, 200, "{body}");
    assert_eq!(
        (body["data"][0]["extn"].clone(), body["data"][0]["line_number"].clone()),
        (json!("1000"), json!("56799999"))
    );

    // The gateway and the extension a DOD names cannot be deleted under it.
    let scope = scope(&s).await;
    let err = s.state.db.delete(&GATEWAYS, scope, &Key::Id(example)).await.unwrap_err();
    assert!(err.to_string().contains("DOD"), "{err}");
    let agent = agents.iter().find(|(e, _)| e == "1005").unwrap().1;
    let err = s.state.db.delete(&AGENTS, scope, &Key::Id(agent)).await.unwrap_err();
    assert!(err.to_string().contains("DOD"), "{err}");
}
