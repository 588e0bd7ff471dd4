//! PBX trunks (with import), trunk groups, their members and status:
//! every request example of the seed's 中继管理 and 中继组管理 sections in
//! order, then bad input of every kind.
#![allow(missing_docs, clippy::unwrap_used)]

mod support;

use api::Settings;
use serde_json::{json, Value};
use store::schema::{ROUTES, ROUTE_CODES, WORKSPACES};
use store::{Filter, Scope};
use support::{assert_success, keys, set, Auth, Backend, Server};

on_both_stores!(
    trunks_replay_the_seed,
    trunks_refuse_bad_input,
    trunk_groups_replay_the_seed,
    trunk_groups_members_and_status,
    trunk_groups_refuse_bad_input
);

pub async fn scope(s: &Server) -> Scope {
    let ws = s
        .state
        .db
        .find(&WORKSPACES, Scope::Global, &[Filter::eq("access_key_id", s.workspace.as_str())])
        .await
        .unwrap()
        .unwrap();
    Scope::Workspace(ws.id)
}

const TRUNK_KEYS: &[&str] = &[
    "description",
    "params",
    "updated_at",
    "enabled",
    "id",
    "type",
    "register",
    "deleted_at",
    "name",
    "media_codec",
    "local_addr",
    "remote_addr",
    "created_at",
    "protocol",
    "source",
];

async fn count(s: &Server, path: &str, auth: &Auth) -> u64 {
    let (st, list) = s.get(path, auth).await;
    assert_eq!(st, 200, "{list}");
    list["rowCount"].as_u64().unwrap()
}

async fn trunks_replay_the_seed(b: Backend) {
    let Some(s) = Server::start(b, Settings::default()).await else { return };
    let pbx = s.pbx().await;

    // 新建中继 (created first: the list and get examples show it).
    let seed = json!({"name": "trunk_111", "description": "123", "remote_addr": "1.2.3.4", "local_addr": "5.5.5.5", "type": "INOUT", "protocol": "UDP", "source": "context-2"});
    let (st, body) = s.post("/api/trunks", seed, &pbx).await;
    assert_eq!(st, 200, "{body}");
    let id: i64 = body["data"].as_str().expect("the seed answers the id as a string").parse().unwrap();
    assert_success(st, &body, json!(id.to_string()));

    // 获取中继: the list.
    let (st, list) = s.get("/api/trunks", &pbx).await;
    assert_eq!(st, 200);
    assert_eq!(
        (list["page"].clone(), list["pageCount"].clone(), list["rowCount"].clone()),
        (json!(1), json!(1), json!(1))
    );
    let row = &list["data"][0];
    assert_eq!(keys(row), set(TRUNK_KEYS), "{row}");
    for (k, v) in [
        ("description", json!("123")),
        ("params", json!("")),
        ("enabled", json!(true)),
        ("id", json!(id)),
        ("type", json!("INOUT")),
        ("register", json!(false)),
        ("deleted_at", json!("")),
        ("name", json!("trunk_111")),
        ("media_codec", json!("")),
        ("local_addr", json!("5.5.5.5")),
        ("remote_addr", json!("1.2.3.4")),
        ("protocol", json!("UDP")),
        ("source", json!("context-2")),
    ] {
        assert_eq!(row[k], v, "{k}");
    }
    assert_eq!(row["created_at"].as_str().unwrap().len(), 19);

    // The list's query parameters.
    let (st, page) = s
        .get(
            "/api/trunks?page=1&perPage=10&sortField=name&sortOrder=desc&searchField=name&searchKey=trunk_1",
            &pbx,
        )
        .await;
    assert_eq!(
        (st, page["rowCount"].clone(), page["data"][0]["name"].clone()),
        (200, json!(1), json!("trunk_111"))
    );
    let (st, page) = s.get("/api/trunks?searchField=name&searchKey=nothing", &pbx).await;
    assert_eq!((st, page["rowCount"].clone()), (200, json!(0)));

    // 获取中继 by id: with trunk_groups.
    let (st, one) = s.get(&format!("/api/trunks/{id}"), &pbx).await;
    assert_eq!(st, 200, "{one}");
    let mut with_groups = set(TRUNK_KEYS);
    with_groups.insert("trunk_groups".into());
    assert_eq!(keys(&one), with_groups);
    assert_eq!(
        (one["trunk_groups"].clone(), one["enabled"].clone(), one["id"].clone()),
        (json!([]), json!(true), json!(id))
    );
    let (st, body) = s.get("/api/trunks/99999", &pbx).await;
    assert_eq!((st, body), (404, json!({"code": 404, "message": "trunk not found", "data": "{}"})));

    // 新建中继: the curl example, with sip: URIs.
    let curl = json!({"name": "test", "type": "INOUT", "protocol": "UDP", "description": "test", "remote_addr": "sip:192.168.1.100:8081", "local_addr": "sip:192.168.1.200:8081"});
    let (st, body) = s.post("/api/trunks", curl, &pbx).await;
    assert_eq!(st, 200, "{body}");
    let other: i64 = body["data"].as_str().unwrap().parse().unwrap();

    // 删除中继.
    let (st, body) = s.delete(&format!("/api/trunks/{other}"), &pbx).await;
    assert_success(st, &body, json!(other.to_string()));
    let (st, _) = s.get(&format!("/api/trunks/{other}"), &pbx).await;
    assert_eq!(st, 404);

    // 修改中继: the body example, then the curl example.
    let seed = json!({"name": "trunk_111", "description": "12355", "local_addr": "5.5.5.5", "remote_addr": "1.2.3.4", "type": "INOUT", "protocol": "UDP", "source": "context-2"});
    let (st, body) = s.put(&format!("/api/trunks/{id}"), seed, &pbx).await;
    assert_success(st, &body, json!(id.to_string()));
    let curl = json!({"name": "trunk_111", "description": "12355", "local_addr": "5.5.5.5", "remote_addr": "1.2.3.4", "type": "INOUT", "protocol": "UDP"});
    let (st, body) = s.put(&format!("/api/trunks/{id}"), curl, &pbx).await;
    assert_success(st, &body, json!(id.to_string()));
    let (_, one) = s.get(&format!("/api/trunks/{id}"), &pbx).await;
    assert_eq!((one["description"].clone(), one["source"].clone()), (json!("12355"), json!("context-2")));
    let (st, _) = s.put(&format!("/api/trunks/{id}"), json!({"enabled": false, "register": "t"}), &pbx).await;
    assert_eq!(st, 200);
    let (_, one) = s.get(&format!("/api/trunks/{id}"), &pbx).await;
    assert_eq!((one["enabled"].clone(), one["register"].clone()), (json!(false), json!(true)));

    // 导入中继.
    let import = json!({"trunks": [{"中继名称": "trunk_import", "描述": "import desc", "类型": "INOUT", "本地地址": "", "远端地址": "1.2.3.4:9999", "协议": "UDP", "是否注册": "f", "呼叫源": "code:from", "是否启用": "t", "参数": "{}"}]});
    let (st, body) = s.post("/api/trunks/import", import, &pbx).await;
    assert_eq!(
        (st, body["code"].clone(), body["message"].clone()),
        (200, json!(200), json!("success")),
        "{body}"
    );
    let rows = body["data"].as_array().unwrap();
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    assert_eq!(keys(row), set(TRUNK_KEYS), "{row}");
    for (k, v) in [
        ("params", json!("{}")),
        ("deleted_at", json!("")),
        ("enabled", json!("t")),
        ("name", json!("trunk_import")),
        ("type", json!("INOUT")),
        ("register", json!("f")),
        ("protocol", json!("UDP")),
        ("media_codec", json!("")),
        ("source", json!("code:from")),
        ("remote_addr", json!("1.2.3.4:9999")),
        ("description", json!("import desc")),
        ("local_addr", json!("")),
    ] {
        assert_eq!(row[k], v, "{k}");
    }
    let imported: i64 = row["id"].as_str().expect("the import shows ids as text").parse().unwrap();
    let (_, one) = s.get(&format!("/api/trunks/{imported}"), &pbx).await;
    assert_eq!((one["enabled"].clone(), one["register"].clone()), (json!(true), json!(false)));
    assert_eq!(count(&s, "/api/trunks", &pbx).await, 2);
}

async fn trunks_refuse_bad_input(b: Backend) {
    let Some(s) = Server::start(b, Settings::default()).await else { return };
    let pbx = s.pbx().await;
    let good = json!({"name": "t1", "remote_addr": "1.2.3.4", "protocol": "udp", "type": "inout"});
    let (st, body) = s.post("/api/trunks", good, &pbx).await;
    assert_eq!(st, 200, "{body}");
    let id = body["data"].as_str().unwrap().to_owned();
    let (_, one) = s.get(&format!("/api/trunks/{id}"), &pbx).await;
    assert_eq!(
        (one["protocol"].clone(), one["type"].clone()),
        (json!("UDP"), json!("INOUT")),
        "lower case accepted"
    );

    let bad: Vec<(Value, &str)> = vec![
        (json!({"description": "no name"}), "name"),
        (json!({"name": 123}), "name"),
        (json!({"name": ""}), "name"),
        (json!({"name": "x", "protocol": "SCTP"}), "protocol"),
        (json!({"name": "x", "protocol": 5}), "protocol"),
        (json!({"name": "x", "type": "SIDEWAYS"}), "type"),
        (json!({"name": "x", "remote_addr": "1.2.3.4:99999"}), "remote_addr"),
        (json!({"name": "x", "remote_addr": "not an address"}), "remote_addr"),
        (json!({"name": "x", "remote_addr": "1.2.3.999"}), "remote_addr"),
        (json!({"name": "x", "local_addr": "sip:@host"}), "local_addr"),
        (json!({"name": "x", "local_addr": ["5.5.5.5"]}), "local_addr"),
        (json!({"name": "x", "register": "maybe"}), "register"),
        (json!({"name": "x", "enabled": 7}), "enabled"),
        (json!({"name": "x", "params": "k=v"}), "params"),
        (json!({"name": "x", "media_codec": "PCMU;PCMA"}), "media_codec"),
        (json!({"name": "x", "source": "context 2"}), "source"),
        (json!({"name": "x", "trunk_groups": [99999]}), "trunk_groups[0]"),
        (json!({"name": "x", "trunk_groups": "1"}), "trunk_groups"),
        (json!({"name": "x", "trunk_groups": ["abc"]}), "trunk_groups[0]"),
        (json!([1, 2]), "object"),
    ];
    for (body, field) in bad {
        let (st, answer) = s.post("/api/trunks", body.clone(), &pbx).await;
        assert_eq!(
            (st, answer["code"].clone(), answer["data"].clone()),
            (400, json!(400), json!("{}")),
            "{body}: {answer}"
        );
        assert!(answer["message"].as_str().unwrap().contains(field), "{body}: {answer}");
    }
    let (st, body) = s.post("/api/trunks", json!({"name": "t1"}), &pbx).await;
    assert_eq!((st, body["code"].clone()), (409, json!(409)), "{body}");
    let resp = s.req(reqwest::Method::POST, "/api/trunks");
    let (st, body) =
        s.send(pbx.apply(resp).header("content-type", "application/json").body("{not json")).await;
    assert_eq!((st, body["code"].clone()), (400, json!(400)));
    assert_eq!(count(&s, "/api/trunks", &pbx).await, 1, "nothing bad was created");

    // Updates: bad values change nothing; missing trunks are 404.
    let (st, _) = s
        .put(&format!("/api/trunks/{id}"), json!({"remote_addr": "a b", "description": "changed"}), &pbx)
        .await;
    assert_eq!(st, 400);
    let (st, _) = s
        .put(&format!("/api/trunks/{id}"), json!({"trunk_groups": [424242], "description": "changed"}), &pbx)
        .await;
    assert_eq!(st, 400);
    let (_, one) = s.get(&format!("/api/trunks/{id}"), &pbx).await;
    assert_eq!((one["remote_addr"].clone(), one["description"].clone()), (json!("1.2.3.4"), json!("")));
    for path in ["/api/trunks/99999", "/api/trunks/abc"] {
        let (st, body) = s.put(path, json!({"description": "x"}), &pbx).await;
        assert_eq!((st, body["code"].clone()), (404, json!(404)));
        let (st, _) = s.delete(path, &pbx).await;
        assert_eq!(st, 404);
    }

    // Imports: all or nothing, naming the row.
    let row = |name: &str, remote: &str| json!({"中继名称": name, "类型": "INOUT", "远端地址": remote, "协议": "UDP", "是否注册": "f", "是否启用": "t", "参数": "{}"});
    let cases: Vec<(Value, u16, &str)> = vec![
        (json!({"trunks": [row("a", "1.1.1.1"), row("b", "1.1.1.1:0")]}), 400, "row 2: 远端地址"),
        (json!({"trunks": [row("a", "1.1.1.1"), row("a", "2.2.2.2")]}), 409, "row 2"),
        (json!({"trunks": [row("t1", "1.1.1.1")]}), 409, "row 1"),
        (json!({"trunks": [row("a", "1.1.1.1"), {"中继名称": "c", "协议": "FTP"}]}), 400, "row 2: 协议"),
        (
            json!({"trunks": [row("a", "1.1.1.1"), {"中继名称": "c", "是否启用": "perhaps"}]}),
            400,
            "row 2: 是否启用",
        ),
        (json!({"trunks": [row("a", "1.1.1.1"), {"描述": "no name"}]}), 400, "row 2: 中继名称"),
        (json!({"trunks": [row("a", "1.1.1.1"), "not a row"]}), 400, "row 2"),
        (json!({"trunks": []}), 400, "trunks"),
        (json!({"trunks": {"中继名称": "x"}}), 400, "trunks"),
        (json!({"rows": [row("a", "1.1.1.1")]}), 400, "trunks"),
    ];
    for (body, status, says) in cases {
        let (st, answer) = s.post("/api/trunks/import", body.clone(), &pbx).await;
        assert_eq!((st, answer["code"].clone()), (status, json!(status)), "{body}: {answer}");
        assert!(answer["message"].as_str().unwrap().contains(says), "{says}: {answer}");
    }
    assert_eq!(count(&s, "/api/trunks", &pbx).await, 1, "no import left a trunk behind");

    // Without credentials.
    let (st, body) = s.get("/api/trunks", &Auth::None).await;
    assert_eq!((st, body["code"].clone()), (401, json!(401)));
}

const GROUP_KEYS: &[&str] =
    &["strategy", "created_at", "description", "id", "params", "updated_at", "deleted_at", "name"];

async fn trunk_groups_replay_the_seed(b: Backend) {
    let Some(s) = Server::start(b, Settings::default()).await else { return };
    let pbx = s.pbx().await;

    // 新建中继组 first: the list and get examples show it.
    let (st, body) = s
        .post("/api/trunk_groups", json!({"name": "t_group9", "description": "desc", "strategy": "RR"}), &pbx)
        .await;
    assert_eq!(st, 200, "{body}");
    let id: i64 = body["data"].as_str().expect("the seed answers the id as a string").parse().unwrap();
    assert_success(st, &body, json!(id.to_string()));

    // 获取中继组.
    let (st, list) = s.get("/api/trunk_groups", &pbx).await;
    assert_eq!(st, 200);
    assert_eq!(
        (list["page"].clone(), list["pageCount"].clone(), list["rowCount"].clone()),
        (json!(1), json!(1), json!(1))
    );
    let row = &list["data"][0];
    assert_eq!(keys(row), set(GROUP_KEYS), "{row}");
    assert_eq!(
        (
            row["strategy"].clone(),
            row["description"].clone(),
            row["id"].clone(),
            row["params"].clone(),
            row["name"].clone()
        ),
        (json!("RR"), json!("desc"), json!(id), json!(""), json!("t_group9"))
    );
    let (st, page) = s
        .get(
            "/api/trunk_groups?page=1&perPage=5&sortField=id&sortOrder=asc&searchField=name&searchKey=group",
            &pbx,
        )
        .await;
    assert_eq!((st, page["rowCount"].clone()), (200, json!(1)));

    // 获取指定中继组.
    let (st, one) = s.get(&format!("/api/trunk_groups/{id}"), &pbx).await;
    assert_eq!(st, 200, "{one}");
    let mut shown = set(GROUP_KEYS);
    shown.extend(["route_codes".to_owned(), "trunks".to_owned()]);
    assert_eq!(keys(&one), shown);
    assert_eq!((one["route_codes"].clone(), one["trunks"].clone()), (json!([]), json!([])));
    let (st, body) = s.get("/api/trunk_groups/99999", &pbx).await;
    assert_eq!((st, body), (404, json!({"code": 404, "message": "trunk group not found", "data": "{}"})));

    // 获取中继状态: no members yet.
    let (st, status) = s.get("/api/trunk_groups/status", &pbx).await;
    assert_eq!(st, 200, "{status}");
    assert_eq!(status, json!({"page": 1, "pageCount": 0, "rowCount": 0, "data": []}));

    // A route code of the group shows in its GET.
    let scope = scope(&s).await;
    let code = vec![("code", "9".into()), ("tg_id", id.into()), ("description", "out".into())];
    s.state.db.insert(&ROUTE_CODES, scope, code, 0).await.unwrap();
    let (_, one) = s.get(&format!("/api/trunk_groups/{id}"), &pbx).await;
    assert_eq!(
        (one["route_codes"][0]["code"].clone(), one["route_codes"][0]["tg_id"].clone()),
        (json!("9"), json!(id))
    );

    // 修改中继组: answers the bare {"id": ...}.
    let seed =
        json!({"name": "trunk goup2", "description": "gggggggggggggggggg", "strategy": "WEIGHT", "id": "22"});
    let (st, body) = s.put(&format!("/api/trunk_groups/{id}"), seed, &pbx).await;
    assert_eq!((st, body), (200, json!({"id": id.to_string()})));
    let (_, one) = s.get(&format!("/api/trunk_groups/{id}"), &pbx).await;
    assert_eq!((one["name"].clone(), one["strategy"].clone()), (json!("trunk goup2"), json!("WEIGHT")));

    // 删除中继组 (its route code goes first: it still names the group).
    let (st, body) = s.delete(&format!("/api/trunk_groups/{id}"), &pbx).await;
    assert_eq!((st, body["code"].clone()), (409, json!(409)), "{body}");
    assert!(body["message"].as_str().unwrap().contains("route code"), "{body}");
    let codes = s.state.db.list(&ROUTE_CODES, scope, &store::Query::default()).await.unwrap();
    s.state.db.delete(&ROUTE_CODES, scope, &store::Key::Id(codes.records[0].id)).await.unwrap();
    let (st, body) = s.delete(&format!("/api/trunk_groups/{id}"), &pbx).await;
    assert_success(st, &body, json!(id.to_string()));
    let (st, _) = s.get(&format!("/api/trunk_groups/{id}"), &pbx).await;
    assert_eq!(st, 404);
}

async fn new_trunk(s: &Server, pbx: &Auth, body: Value) -> i64 {
    let (st, answer) = s.post("/api/trunks", body, pbx).await;
    assert_eq!(st, 200, "{answer}");
    answer["data"].as_str().unwrap().parse().unwrap()
}

async fn trunk_groups_members_and_status(b: Backend) {
    let Some(s) = Server::start(b, Settings::default()).await else { return };
    let pbx = s.pbx().await;
    let a = new_trunk(&s, &pbx, json!({"name": "a", "remote_addr": "10.11.244.46"})).await;
    let c =
        new_trunk(&s, &pbx, json!({"name": "c", "remote_addr": "sip:10.11.120.168:5061", "protocol": "tcp"}))
            .await;
    let (st, body) = s
        .post(
            "/api/trunk_groups",
            json!({"name": "avaya", "strategy": "rr", "trunks": [a, {"id": c.to_string(), "priority": "1"}]}),
            &pbx,
        )
        .await;
    assert_eq!(st, 200, "{body}");
    let g: i64 = body["data"].as_str().unwrap().parse().unwrap();
    let (_, one) = s.get(&format!("/api/trunk_groups/{g}"), &pbx).await;
    assert_eq!(one["strategy"], "RR");
    assert_eq!(
        one["trunks"],
        json!([{"id": a, "name": "a", "weight": 0, "priority": 0}, {"id": c, "name": "c", "weight": 0, "priority": 1}])
    );

    // A trunk joins a group from its own side; its GET shows its groups.
    let d = new_trunk(
        &s,
        &pbx,
        json!({"name": "d", "remote_addr": "10.0.0.9", "enabled": "f", "trunk_groups": [g]}),
    )
    .await;
    let v6 =
        new_trunk(&s, &pbx, json!({"name": "v6", "remote_addr": "2001:db8::7", "trunk_groups": [g]})).await;
    let (_, status) = s.get("/api/trunk_groups/status", &pbx).await;
    assert_eq!(status["data"][3]["remote_addr"], "sip:[2001:db8::7];transport=UDP", "{status}");
    let (st, _) = s.delete(&format!("/api/trunks/{v6}"), &pbx).await;
    assert_eq!(st, 200);
    let (_, trunk) = s.get(&format!("/api/trunks/{d}"), &pbx).await;
    assert_eq!(
        trunk["trunk_groups"],
        json!([{"id": g, "name": "avaya", "strategy": "RR", "weight": 0, "priority": 0}])
    );

    let (st, status) = s.get("/api/trunk_groups/status", &pbx).await;
    assert_eq!(st, 200, "{status}");
    assert_eq!((status["rowCount"].clone(), status["pageCount"].clone()), (json!(3), json!(1)));
    let row = |addr: &str, status: &str, dflags: &str, priority: &str| {
        json!({"description": "", "group_name": "avaya", "status": status, "group_id": g.to_string(), "priority": priority,
               "remote_addr": addr, "dflags": dflags, "ping": "disabled", "flags": "0", "attrs": "cc=1;"})
    };
    assert_eq!(
        status["data"],
        json!([
            row("sip:10.11.244.46;transport=UDP", "Active", "AX", "0"),
            row("sip:10.11.120.168:5061;transport=TCP", "Active", "AX", "1"),
            row("sip:10.0.0.9;transport=UDP", "disabled", "DX", "0"),
        ])
    );
    let (_, second) = s.get("/api/trunk_groups/status?page=2&perPage=1", &pbx).await;
    assert_eq!(
        (second["page"].clone(), second["pageCount"].clone(), second["rowCount"].clone()),
        (json!(2), json!(3), json!(3))
    );
    assert_eq!(second["data"][0]["priority"], "1");

    // Update replaces the members; weights show in a WEIGHT group's attrs.
    let (st, body) = s
        .put(
            &format!("/api/trunk_groups/{g}"),
            json!({"strategy": "WEIGHT", "trunks": [{"id": a, "weight": 30}, d]}),
            &pbx,
        )
        .await;
    assert_eq!((st, body), (200, json!({"id": g.to_string()})));
    let (_, status) = s.get("/api/trunk_groups/status", &pbx).await;
    let attrs: Vec<&str> =
        status["data"].as_array().unwrap().iter().map(|r| r["attrs"].as_str().unwrap()).collect();
    assert_eq!(attrs, ["cc=1;weight=30;", "cc=1;weight=0;"]);
    let (_, trunk) = s.get(&format!("/api/trunks/{c}"), &pbx).await;
    assert_eq!(trunk["trunk_groups"], json!([]));
    // A body without the key keeps the members.
    let (st, _) = s.put(&format!("/api/trunk_groups/{g}"), json!({"description": "kept"}), &pbx).await;
    assert_eq!(st, 200);
    assert_eq!(count(&s, "/api/trunk_groups/status", &pbx).await, 2);
    // A trunk leaving all its groups.
    let (st, _) = s.put(&format!("/api/trunks/{d}"), json!({"trunk_groups": []}), &pbx).await;
    assert_eq!(st, 200);
    assert_eq!(count(&s, "/api/trunk_groups/status", &pbx).await, 1);

    // Deleting a trunk or a group takes its memberships with it.
    let (st, _) = s.delete(&format!("/api/trunks/{a}"), &pbx).await;
    assert_eq!(st, 200);
    assert_eq!(count(&s, "/api/trunk_groups/status", &pbx).await, 0);
    let (st, _) = s.put(&format!("/api/trunk_groups/{g}"), json!({"trunks": [c]}), &pbx).await;
    assert_eq!(st, 200);
    let (st, _) = s.delete(&format!("/api/trunk_groups/{g}"), &pbx).await;
    assert_eq!(st, 200);
    let (_, trunk) = s.get(&format!("/api/trunks/{c}"), &pbx).await;
    assert_eq!(trunk["trunk_groups"], json!([]));
}

async fn trunk_groups_refuse_bad_input(b: Backend) {
    let Some(s) = Server::start(b, Settings::default()).await else { return };
    let pbx = s.pbx().await;
    let t = new_trunk(&s, &pbx, json!({"name": "t", "remote_addr": "1.2.3.4"})).await;
    let (st, body) = s.post("/api/trunk_groups", json!({"name": "g", "strategy": "RR"}), &pbx).await;
    assert_eq!(st, 200);
    let g: i64 = body["data"].as_str().unwrap().parse().unwrap();

    let bad: Vec<(Value, u16, &str)> = vec![
        (json!({"name": "x", "strategy": "RANDOM"}), 400, "strategy"),
        (json!({"name": "x"}), 400, "strategy"),
        (json!({"strategy": "RR"}), 400, "name"),
        (json!({"name": "x", "strategy": 1}), 400, "strategy"),
        (json!({"name": "x", "strategy": "RR", "params": "nope"}), 400, "params"),
        (json!({"name": "x", "strategy": "RR", "trunks": [99999]}), 400, "trunks[0]"),
        (json!({"name": "x", "strategy": "RR", "trunks": [t, t]}), 400, "trunks[1]"),
        (
            json!({"name": "x", "strategy": "RR", "trunks": [{"id": t, "weight": 5000}]}),
            400,
            "trunks[0].weight",
        ),
        (
            json!({"name": "x", "strategy": "RR", "trunks": [{"id": t, "priority": "high"}]}),
            400,
            "trunks[0].priority",
        ),
        (json!({"name": "x", "strategy": "RR", "trunks": [{"weight": 1}]}), 400, "trunks[0].id"),
        (json!({"name": "x", "strategy": "RR", "trunks": {"id": t}}), 400, "trunks"),
        (json!({"name": "g", "strategy": "RR"}), 409, "name"),
    ];
    for (body, status, says) in bad {
        let (st, answer) = s.post("/api/trunk_groups", body.clone(), &pbx).await;
        assert_eq!((st, answer["code"].clone()), (status, json!(status)), "{body}: {answer}");
        assert!(answer["message"].as_str().unwrap().contains(says), "{says}: {answer}");
    }
    assert_eq!(count(&s, "/api/trunk_groups", &pbx).await, 1, "nothing bad was created");

    let (st, _) = s.put(&format!("/api/trunk_groups/{g}"), json!({"strategy": "FASTEST"}), &pbx).await;
    assert_eq!(st, 400);
    let (st, _) = s
        .put(&format!("/api/trunk_groups/{g}"), json!({"description": "x", "trunks": [t, 4242]}), &pbx)
        .await;
    assert_eq!(st, 400);
    let (_, one) = s.get(&format!("/api/trunk_groups/{g}"), &pbx).await;
    assert_eq!(
        (one["strategy"].clone(), one["description"].clone(), one["trunks"].clone()),
        (json!("RR"), json!(""), json!([]))
    );
    for path in ["/api/trunk_groups/99999", "/api/trunk_groups/x"] {
        let (st, _) = s.put(path, json!({"description": "x"}), &pbx).await;
        assert_eq!(st, 404);
        let (st, _) = s.delete(path, &pbx).await;
        assert_eq!(st, 404);
    }
    let (st, body) = s.get("/api/trunk_groups?sortField=nope", &pbx).await;
    assert_eq!((st, body["code"].clone()), (400, json!(400)));

    // A route that sends calls to the group or the trunk keeps them.
    let scope = scope(&s).await;
    for (dest_type, target, path) in [
        ("FS_DEST_CLUSTER_TRUNK_GROUP", g, format!("/api/trunk_groups/{g}")),
        ("FS_DEST_CLUSTER_TRUNK", t, format!("/api/trunks/{t}")),
    ] {
        let route = vec![
            ("name", format!("to {dest_type}").into()),
            ("max_length", 20.into()),
            ("context", "context-1".into()),
            ("dest_type", dest_type.into()),
            ("dest_uuid", target.to_string().into()),
        ];
        s.state.db.insert(&ROUTES, scope, route, 0).await.unwrap();
        let (st, body) = s.delete(&path, &pbx).await;
        assert_eq!((st, body["code"].clone()), (409, json!(409)), "{body}");
        assert!(body["message"].as_str().unwrap().contains("route"), "{body}");
    }
}
