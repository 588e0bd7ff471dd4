//! Gateways with their params and variables, control and status,
//! replaying the PBX seed's gateway section in its order, then bad input.
#![allow(missing_docs, clippy::unwrap_used)]

mod support;

use api::Settings;
use serde_json::{json, Value};
use store::schema::{DODS, GATEWAYS, GATEWAY_VARIABLES, PARAMS, ROUTES};
use store::{Filter, Key, Scope};
use support::{Auth, Backend, Server};

on_both_stores!(
    gateways_replay_the_seed,
    gateways_refuse_bad_input,
    gateway_parts_refuse_bad_input,
    gateway_control_and_status
);

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

async fn workspace(s: &Server) -> Scope {
    let ws = s
        .state
        .db
        .find(&store::schema::WORKSPACES, Scope::Global, &[Filter::eq("access_key_id", s.workspace.as_str())])
        .await
        .unwrap()
        .unwrap();
    Scope::Workspace(ws.id)
}

async fn gateways_replay_the_seed(b: Backend) {
    let Some(s) = Server::start(b, Settings::default()).await else { return };
    let pbx = s.pbx().await;
    // The gateway the seed's later examples show.
    let example = create(
        &s,
        &pbx,
        "/api/gateways",
        json!({"name": "example", "realm": "example.com", "username": "admin", "profile_id": 2, "register": "no"}),
    )
    .await;

    // 创建网关
    let gw = create(
        &s,
        &pbx,
        "/api/gateways",
        json!({"name": "test123", "realm": "192.168.1.100:7000", "username": "test", "password": "$VeryGoodPassw0rd",
               "description": "", "profile_id": "1", "register": "yes", "template": "default"}),
    )
    .await;
    let curl = create(
        &s,
        &pbx,
        "/api/gateways",
        json!({"realm": "192.168.1.100:7000", "name": "test", "username": "1001", "password": "$VeryGoodPassw0rd"}),
    )
    .await;
    let stored = s.state.db.get(&GATEWAYS, Scope::Global, &Key::Id(gw)).await.unwrap();
    let sealed = stored.text("password_enc");
    assert!(!sealed.is_empty() && !sealed.contains("VeryGood"), "{sealed}");
    assert_eq!(s.state.sealer.open(sealed).unwrap(), "$VeryGoodPassw0rd");

    // 创建网关参数
    let param = create(
        &s,
        &pbx,
        &format!("/api/gateways/{gw}/params"),
        json!({"k": "auth-username", "v": "cluecon", "disabled": "0"}),
    )
    .await;
    // 创建网关变量 (direction as a number and as a name)
    let var = create(
        &s,
        &pbx,
        &format!("/api/gateways/{gw}/variables"),
        json!({"k": "test_var", "v": "xui", "disabled": "0", "direction": "1"}),
    )
    .await;
    let inbound = create(
        &s,
        &pbx,
        &format!("/api/gateways/{gw}/variables"),
        json!({"k": "test", "v": "xyt", "disabled": "0", "direction": "inbound"}),
    )
    .await;

    // 删除网关 (with its params and variables)
    create(&s, &pbx, &format!("/api/gateways/{curl}/params"), json!({"k": "ping", "v": "25"})).await;
    create(&s, &pbx, &format!("/api/gateways/{curl}/variables"), json!({"k": "x", "v": "y"})).await;
    let (st, body) = s.delete(&format!("/api/gateways/{curl}"), &pbx).await;
    assert_ok(st, &body, json!(curl.to_string()));
    let left = s.state.db.count(&PARAMS, Scope::Global, &[Filter::eq("ref_id", curl)]).await.unwrap();
    assert_eq!(left, 0);
    let left =
        s.state.db.count(&GATEWAY_VARIABLES, Scope::Global, &[Filter::eq("gateway_id", curl)]).await.unwrap();
    assert_eq!(left, 0);

    // 删除网关参数 / 删除网关变量: answer the number deleted.
    let extra =
        create(&s, &pbx, &format!("/api/gateways/{gw}/params"), json!({"k": "retry-seconds", "v": "30"}))
            .await;
    let (st, body) = s.delete(&format!("/api/gateways/{gw}/param/{extra}"), &pbx).await;
    assert_ok(st, &body, json!(1));
    let extra =
        create(&s, &pbx, &format!("/api/gateways/{gw}/variables"), json!({"k": "extra", "v": "1"})).await;
    let (st, body) = s.delete(&format!("/api/gateways/{gw}/variable/{extra}"), &pbx).await;
    assert_ok(st, &body, json!(1));

    // 修改网关
    let (st, body) = s
        .put(
            &format!("/api/gateways/{gw}"),
            json!({"realm": "192.168.1.100:7000", "username": "1005", "password": "$VeryGoodPassw0rd2"}),
            &pbx,
        )
        .await;
    assert_ok(st, &body, json!(gw.to_string()));
    let stored = s.state.db.get(&GATEWAYS, Scope::Global, &Key::Id(gw)).await.unwrap();
    assert_eq!(s.state.sealer.open(stored.text("password_enc")).unwrap(), "$VeryGoodPassw0rd2");

    // 修改网关参数: answers the whole param.
    let (st, body) = s
        .put(
            &format!("/api/gateways/{gw}/params/{param}"),
            json!({"k": "auth-username", "v": "clueconn"}),
            &pbx,
        )
        .await;
    assert_eq!(
        (st, body["code"].clone(), body["message"].clone()),
        (200, json!(200), json!("success")),
        "{body}"
    );
    let p = &body["data"];
    assert_eq!(
        (p["id"].clone(), p["ref_id"].clone(), p["realm"].clone()),
        (json!(param), json!(gw), json!("GATEWAY"))
    );
    assert_eq!(
        (p["k"].clone(), p["v"].clone(), p["disabled"].clone(), p["deleted_at"].clone()),
        (json!("auth-username"), json!("clueconn"), json!(0), json!(""))
    );
    assert_eq!(p["updated_at"].as_str().unwrap().len(), 19);

    // 修改网关变量: answers the whole variable.
    let (st, body) = s
        .put(&format!("/api/gateways/{gw}/variables/{var}"), json!({"k": "test_var", "v": "xui"}), &pbx)
        .await;
    assert_eq!(st, 200, "{body}");
    let v = &body["data"];
    assert_eq!(
        (v["id"].clone(), v["gateway_id"].clone(), v["k"].clone(), v["v"].clone()),
        (json!(var), json!(gw), json!("test_var"), json!("xui"))
    );
    assert_eq!(
        (v["disabled"].clone(), v["direction"].clone(), v["deleted_at"].clone()),
        (json!(0), json!(1), json!(""))
    );

    // 查看网关: the list shows no password.
    let (st, list) = s.get("/api/gateways", &pbx).await;
    assert_eq!(st, 200, "{list}");
    assert_eq!(
        (list["page"].clone(), list["pageCount"].clone(), list["rowCount"].clone()),
        (json!(1), json!(1), json!(2))
    );
    let row = &list["data"][0];
    assert_eq!(row["id"], json!(example));
    assert_eq!(row["password"], "");
    assert_eq!(
        (row["profile_id"].clone(), row["realm"].clone(), row["username"].clone()),
        (json!(2), json!("example.com"), json!("admin"))
    );
    assert_eq!(
        (row["register"].clone(), row["name"].clone(), row["description"].clone(), row["deleted_at"].clone()),
        (json!("no"), json!("example"), json!(""), json!(""))
    );
    assert!(list.to_string().find("VeryGood").is_none() && list.to_string().find("password_enc").is_none());
    assert_eq!(list["data"][1]["username"], "1005");

    // 查看指定网关: with params and variables.
    let (st, one) = s.get(&format!("/api/gateways/{gw}"), &pbx).await;
    assert_eq!(st, 200, "{one}");
    assert_eq!(
        (one["id"].clone(), one["name"].clone(), one["profile_id"].clone(), one["register"].clone()),
        (json!(gw), json!("test123"), json!(1), json!("yes"))
    );
    assert_eq!(one["params"].as_array().unwrap().len(), 1);
    assert_eq!(one["params"][0]["k"], "auth-username");
    assert_eq!(one["params"][0]["realm"], "GATEWAY");
    let vars = one["variables"].as_array().unwrap();
    assert_eq!(vars.len(), 2);
    assert_eq!((vars[1]["id"].clone(), vars[1]["direction"].clone()), (json!(inbound), json!(1)));
    assert!(one.to_string().find("VeryGood").is_none());

    // 查看网关状态
    let (st, status) = s.get("/api/gateways/list1", &pbx).await;
    assert_eq!(st, 200, "{status}");
    assert_eq!(
        status,
        json!([
            {"gateway_status": "UP", "name": "example", "gateway_state": "NOREG"},
            {"gateway_status": "UP", "name": "test123", "gateway_state": "TRYING"}
        ])
    );

    // 查看某网关参数 / 某个网关下变量: bare arrays.
    let (st, params) = s.get(&format!("/api/gateways/params/{gw}"), &pbx).await;
    assert_eq!(st, 200);
    assert_eq!(params, one["params"]);
    let (st, variables) = s.get(&format!("/api/gateways/variables/{gw}"), &pbx).await;
    assert_eq!(st, 200);
    assert_eq!(variables, one["variables"]);

    // 按网关名称控制网关状态: in the body, then in the query string.
    let (st, body) =
        s.put("/api/gateways/control", json!({"action": "start", "gwname": "example"}), &pbx).await;
    assert_ok(st, &body, json!({}));
    let rb = pbx
        .apply(s.req(reqwest::Method::PUT, "/api/gateways/control?gwname=example&action=start"))
        .header("content-type", "application/json");
    let (st, body) = s.send(rb).await;
    assert_ok(st, &body, json!({}));

    // 按网关 ID 控制网关状态
    let (st, body) =
        s.put(&format!("/api/gateways/{example}/control"), json!({"action": "start"}), &pbx).await;
    assert_ok(st, &body, json!(example.to_string()));
}

async fn gateways_refuse_bad_input(b: Backend) {
    let Some(s) = Server::start(b, Settings::default()).await else { return };
    let pbx = s.pbx().await;
    let gw = create(&s, &pbx, "/api/gateways", json!({"name": "gw1", "realm": "sip.example.com"})).await;
    let (_, before) = s.get(&format!("/api/gateways/{gw}"), &pbx).await;

    let cases = [
        (json!({"realm": "a.example.com"}), "name"),
        (json!({"name": "gw2"}), "realm"),
        (json!({"name": "gw2", "realm": ""}), "realm"),
        (json!({"name": "gw 2", "realm": "a.example.com"}), "name"),
        (json!({"name": "gw2", "realm": "bad realm"}), "realm"),
        (json!({"name": "gw2", "realm": "a.example.com:99999"}), "realm"),
        (json!({"name": "gw2", "realm": "a.example.com", "register": "maybe"}), "register"),
        (json!({"name": "gw2", "realm": "a.example.com", "profile_id": "one"}), "profile_id"),
        (json!({"name": "gw2", "realm": "a.example.com", "profile_id": 0}), "profile_id"),
        (json!({"name": "gw2", "realm": "a.example.com", "password": 1234}), "password"),
        (json!({"name": "gw2", "realm": "a.example.com", "username": ["u"]}), "username"),
    ];
    for (i, (body, field)) in cases.into_iter().enumerate() {
        let (st, answer) = s.post("/api/gateways", body.clone(), &pbx).await;
        assert_bad(st, &answer, field);
        if i > 1 {
            let (st, answer) = s.put(&format!("/api/gateways/{gw}"), body, &pbx).await;
            assert_bad(st, &answer, field);
        }
    }
    let (st, body) = s.post("/api/gateways", json!({"name": "gw1", "realm": "b.example.com"}), &pbx).await;
    assert_eq!((st, body["code"].clone()), (409, json!(409)), "{body}");
    let other = create(&s, &pbx, "/api/gateways", json!({"name": "gw2", "realm": "b.example.com"})).await;
    let (st, body) = s.put(&format!("/api/gateways/{other}"), json!({"name": "gw1"}), &pbx).await;
    assert_eq!((st, body["code"].clone()), (409, json!(409)), "{body}");
    let (_, after) = s.get(&format!("/api/gateways/{gw}"), &pbx).await;
    assert_eq!(before, after, "nothing was changed");
    let (_, list) = s.get("/api/gateways", &pbx).await;
    assert_eq!(list["rowCount"], 2, "{list}");

    for path in ["/api/gateways/99999", "/api/gateways/abc"] {
        let (st, body) = s.get(path, &pbx).await;
        assert_eq!((st, body["code"].clone()), (404, json!(404)), "{body}");
        let (st, _) = s.put(path, json!({"realm": "c.example.com"}), &pbx).await;
        assert_eq!(st, 404);
        let (st, _) = s.delete(path, &pbx).await;
        assert_eq!(st, 404);
    }

    // A gateway a route or a DOD number uses stays.
    let scope = workspace(&s).await;
    let now = 1_700_000_000_000;
    let route = s
        .state
        .db
        .insert(
            &ROUTES,
            scope,
            vec![
                ("name", "out".into()),
                ("max_length", 12.into()),
                ("context", "context-1".into()),
                ("dest_type", "FS_DEST_GATEWAY".into()),
                ("dest_uuid", gw.to_string().into()),
            ],
            now,
        )
        .await
        .unwrap();
    let (st, body) = s.delete(&format!("/api/gateways/{gw}"), &pbx).await;
    assert_eq!((st, body["code"].clone()), (409, json!(409)), "{body}");
    assert!(body["message"].as_str().unwrap().contains("route"), "{body}");
    s.state.db.delete(&ROUTES, scope, &Key::Id(route.id)).await.unwrap();
    s.state
        .db
        .insert(
            &DODS,
            scope,
            vec![
                ("extn", "1000".into()),
                ("line_number", "6553998".into()),
                ("type", "GATEWAY".into()),
                ("ref_id", gw.into()),
            ],
            now,
        )
        .await
        .unwrap();
    let (st, body) = s.delete(&format!("/api/gateways/{gw}"), &pbx).await;
    assert_eq!((st, body["code"].clone()), (409, json!(409)), "{body}");
    let (st, _) = s.get(&format!("/api/gateways/{gw}"), &pbx).await;
    assert_eq!(st, 200);
    let (st, _) = s.get("/api/gateways", &Auth::None).await;
    assert_eq!(st, 401);
}

async fn gateway_parts_refuse_bad_input(b: Backend) {
    let Some(s) = Server::start(b, Settings::default()).await else { return };
    let pbx = s.pbx().await;
    let gw = create(&s, &pbx, "/api/gateways", json!({"name": "gw1", "realm": "sip.example.com"})).await;
    let other = create(&s, &pbx, "/api/gateways", json!({"name": "gw2", "realm": "sip.example.com"})).await;
    let param =
        create(&s, &pbx, &format!("/api/gateways/{gw}/params"), json!({"k": "ping", "v": "25"})).await;
    let var = create(&s, &pbx, &format!("/api/gateways/{gw}/variables"), json!({"k": "a", "v": "b"})).await;

    let params = format!("/api/gateways/{gw}/params");
    for (body, field) in [
        (json!({"v": "x"}), "k"),
        (json!({"k": ""}), "k"),
        (json!({"k": "x", "disabled": "maybe"}), "disabled"),
        (json!({"k": "x", "v": 5}), "v"),
    ] {
        let (st, answer) = s.post(&params, body, &pbx).await;
        assert_bad(st, &answer, field);
    }
    let (st, body) = s.post(&params, json!({"k": "ping", "v": "30"}), &pbx).await;
    assert_eq!((st, body["code"].clone()), (409, json!(409)), "{body}");
    let variables = format!("/api/gateways/{gw}/variables");
    for (body, field) in [
        (json!({"v": "x"}), "k"),
        (json!({"k": "x", "direction": 3}), "direction"),
        (json!({"k": "x", "direction": "sideways"}), "direction"),
        (json!({"k": "x", "direction": [1]}), "direction"),
    ] {
        let (st, answer) = s.post(&variables, body, &pbx).await;
        assert_bad(st, &answer, field);
    }
    let (st, answer) = s.put(&format!("{variables}/{var}"), json!({"direction": -1}), &pbx).await;
    assert_bad(st, &answer, "direction");
    let (st, answer) = s.put(&format!("{params}/{param}"), json!({"disabled": "x"}), &pbx).await;
    assert_bad(st, &answer, "disabled");
    let (_, one) = s.get(&format!("/api/gateways/{gw}"), &pbx).await;
    assert_eq!(
        (one["params"].as_array().unwrap().len(), one["variables"].as_array().unwrap().len()),
        (1, 1),
        "{one}"
    );
    let (st, body) = s.put(&format!("{variables}/{var}"), json!({"direction": "outbound"}), &pbx).await;
    assert_eq!((st, body["data"]["direction"].clone()), (200, json!(2)), "{body}");

    // Through another gateway, or unknown: 404.
    for (method, path) in [
        ("put", format!("/api/gateways/{other}/params/{param}")),
        ("delete", format!("/api/gateways/{other}/param/{param}")),
        ("put", format!("/api/gateways/{other}/variables/{var}")),
        ("delete", format!("/api/gateways/{other}/variable/{var}")),
        ("delete", format!("/api/gateways/{gw}/param/99999")),
        ("delete", format!("/api/gateways/{gw}/variable/abc")),
        ("post", "/api/gateways/99999/params".to_owned()),
        ("post", "/api/gateways/99999/variables".to_owned()),
        ("get", "/api/gateways/params/99999".to_owned()),
        ("get", "/api/gateways/variables/abc".to_owned()),
    ] {
        let (st, body) = match method {
            "put" => s.put(&path, json!({"v": "1"}), &pbx).await,
            "post" => s.post(&path, json!({"k": "x"}), &pbx).await,
            "delete" => s.delete(&path, &pbx).await,
            _ => s.get(&path, &pbx).await,
        };
        assert_eq!((st, body["code"].clone()), (404, json!(404)), "{method} {path}: {body}");
    }
    let (_, params) = s.get(&format!("/api/gateways/params/{other}"), &pbx).await;
    assert_eq!(params, json!([]));
}

async fn gateway_control_and_status(b: Backend) {
    let Some(s) = Server::start(b, Settings::default()).await else { return };
    let pbx = s.pbx().await;
    let gw = create(
        &s,
        &pbx,
        "/api/gateways",
        json!({"name": "example", "realm": "sip.example.com", "register": "yes"}),
    )
    .await;
    let state = |v: Value| v[0]["gateway_state"].clone();

    for (action, want) in
        [("unregister", "NOREG"), ("register", "TRYING"), ("unregister", "NOREG"), ("start", "TRYING")]
    {
        let (st, body) =
            s.put("/api/gateways/control", json!({"action": action, "gwname": "example"}), &pbx).await;
        assert_ok(st, &body, json!({}));
        let (_, status) = s.get("/api/gateways/list1", &pbx).await;
        assert_eq!(state(status), json!(want), "{action}");
    }
    let (st, body) = s.put(&format!("/api/gateways/{gw}/control"), json!({"action": "killgw"}), &pbx).await;
    assert_ok(st, &body, json!(gw.to_string()));
    let (_, status) = s.get("/api/gateways/list1", &pbx).await;
    assert_eq!(status, json!([]), "a stopped gateway is not in use");
    let (_, one) = s.get(&format!("/api/gateways/{gw}"), &pbx).await;
    assert_eq!(one["state"], "STOPPED");
    let (st, _) = s.put(&format!("/api/gateways/{gw}"), json!({"register": "no"}), &pbx).await;
    assert_eq!(st, 200);
    let (_, one) = s.get(&format!("/api/gateways/{gw}"), &pbx).await;
    assert_eq!(one["state"], "STOPPED", "an update does not restart a stopped gateway");
    let (st, _) = s.put(&format!("/api/gateways/{gw}/control?action=start"), json!({}), &pbx).await;
    assert_eq!(st, 200);
    let (_, status) = s.get("/api/gateways/list1", &pbx).await;
    assert_eq!(status, json!([{"gateway_status": "UP", "name": "example", "gateway_state": "NOREG"}]));

    let (st, body) =
        s.put("/api/gateways/control", json!({"action": "reboot", "gwname": "example"}), &pbx).await;
    assert_bad(st, &body, "action");
    let (st, body) = s.put("/api/gateways/control", json!({"gwname": "example"}), &pbx).await;
    assert_bad(st, &body, "action");
    let (st, body) = s.put("/api/gateways/control", json!({"action": "start"}), &pbx).await;
    assert_bad(st, &body, "gwname");
    let (st, body) = s.put("/api/gateways/control", json!({"action": 1, "gwname": "example"}), &pbx).await;
    assert_bad(st, &body, "action");
    let (st, body) = s.put(&format!("/api/gateways/{gw}/control"), json!({"action": "pause"}), &pbx).await;
    assert_bad(st, &body, "action");
    let rb = pbx.apply(s.req(reqwest::Method::PUT, "/api/gateways/control")).body("{not json");
    let (st, body) = s.send(rb).await;
    assert_eq!((st, body["code"].clone()), (400, json!(400)), "{body}");
    let (st, body) = s.put("/api/gateways/control", json!({"action": "start", "gwname": "nope"}), &pbx).await;
    assert_eq!((st, body["code"].clone()), (404, json!(404)), "{body}");
    let (st, body) = s.put("/api/gateways/99999/control", json!({"action": "start"}), &pbx).await;
    assert_eq!((st, body["code"].clone()), (404, json!(404)), "{body}");
    let (_, status) = s.get("/api/gateways/list1", &pbx).await;
    assert_eq!(state(status), json!("NOREG"), "nothing was changed");
    let (st, _) =
        s.put("/api/gateways/control", json!({"action": "start", "gwname": "example"}), &Auth::None).await;
    assert_eq!(st, 401);
}
