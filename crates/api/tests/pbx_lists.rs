//! PBX black/white lists and their numbers (both imports, multimodify)
//! and the IP blacklist: every request example of the seed's 黑白名单 and
//! IP黑名单 sections in order, then bad input.
#![allow(missing_docs, clippy::unwrap_used)]

mod support;

use api::Settings;
use serde_json::{json, Value};
use store::schema::{PARAMS, ROUTES, WORKSPACES};
use store::{Filter, Scope};
use support::{assert_success, keys, set, Auth, Backend, Server};

on_both_stores!(
    blacklists_replay_the_seed,
    blacklists_refuse_bad_input,
    list_numbers_refuse_bad_input,
    iptables_replay_the_seed,
    iptables_refuse_bad_input
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

async fn numbers_of(s: &Server, list: i64) -> Vec<(String, String)> {
    let filters = vec![Filter::eq("realm", "BLACKLIST"), Filter::eq("ref_id", list)];
    let query = store::Query { filters, ..store::Query::default() };
    let page = s.state.db.list(&PARAMS, scope(s).await, &query).await.unwrap();
    page.records.iter().map(|r| (r.text("k").to_owned(), r.text("v").to_owned())).collect()
}

async fn new_list(s: &Server, pbx: &Auth, body: Value) -> i64 {
    let (st, answer) = s.post("/api/blacklists", body, pbx).await;
    assert_eq!(st, 200, "{answer}");
    answer["data"].as_i64().unwrap()
}

const LIST_KEYS: &[&str] =
    &["name", "limit_user_type", "id", "created_at", "description", "deleted_at", "updated_at", "list_type"];
const NUMBER_KEYS: &[&str] =
    &["id", "created_at", "v", "k", "deleted_at", "realm", "updated_at", "ref_id", "disabled"];

async fn blacklists_replay_the_seed(b: Backend) {
    let Some(s) = Server::start(b, Settings::default()).await else { return };
    let pbx = s.pbx().await;

    // The list example's two lists.
    let bai = new_list(&s, &pbx, json!({"name": "bai", "list_type": "1", "limit_user_type": "0"})).await;
    let hei = new_list(&s, &pbx, json!({"name": "hei", "list_type": 0, "limit_user_type": 1})).await;

    // 获取黑白名单.
    let (st, list) = s.get("/api/blacklists", &pbx).await;
    assert_eq!(st, 200);
    assert_eq!(
        (list["page"].clone(), list["rowCount"].clone(), list["pageCount"].clone()),
        (json!(1), json!(2), json!(1))
    );
    let row = &list["data"][1];
    assert_eq!(keys(row), set(LIST_KEYS), "{row}");
    assert_eq!(
        (
            row["name"].clone(),
            row["limit_user_type"].clone(),
            row["id"].clone(),
            row["list_type"].clone(),
            row["description"].clone()
        ),
        (json!("hei"), json!(1), json!(hei), json!(0), json!(""))
    );
    let (st, one) = s.get(&format!("/api/blacklists/{bai}"), &pbx).await;
    assert_eq!(st, 200);
    assert_eq!(keys(&one), set(LIST_KEYS));
    assert_eq!(
        (one["name"].clone(), one["list_type"].clone(), one["limit_user_type"].clone()),
        (json!("bai"), json!(1), json!(0))
    );

    // 新建黑白名单.
    let (st, body) = s
        .post(
            "/api/blacklists",
            json!({"name": "test", "description": "test", "limit_user_type": "1", "list_type": "1"}),
            &pbx,
        )
        .await;
    assert_eq!(st, 200, "{body}");
    let test = body["data"].as_i64().expect("the seed answers the id as a number");
    assert_success(st, &body, json!(test));

    // 新建名单号码列表.
    let (st, body) =
        s.post(&format!("/api/blacklists/{bai}/lists"), json!({"k": "test", "v": "test"}), &pbx).await;
    assert_eq!(st, 200, "{body}");
    let first = body["data"].as_i64().expect("the seed answers the id as a number");
    assert_success(st, &body, json!(first));

    // 指定黑白名单下批量新建号码列表.
    let import =
        json!({"data": [{"k": "lili", "v": "1008"}, {"k": "lisi", "v": "1009"}, {"k": "1012", "v": "1012"}]});
    let (st, body) = s.post(&format!("/api/blacklists/{test}/import"), import, &pbx).await;
    assert_eq!(
        (st, body["code"].clone(), body["message"].clone()),
        (200, json!(200), json!("success")),
        "{body}"
    );
    let rows = body["data"].as_array().unwrap();
    assert_eq!(rows.len(), 3);
    for (row, (k, v)) in rows.iter().zip([("lili", "1008"), ("lisi", "1009"), ("1012", "1012")]) {
        assert_eq!(keys(row), set(NUMBER_KEYS), "{row}");
        assert_eq!(
            (
                row["k"].clone(),
                row["v"].clone(),
                row["realm"].clone(),
                row["ref_id"].clone(),
                row["disabled"].clone(),
                row["deleted_at"].clone()
            ),
            (json!(k), json!(v), json!("BLACKLIST"), json!(test), json!(0), json!(""))
        );
        assert!(row["id"].is_i64());
    }
    let imported: Vec<i64> = rows.iter().map(|r| r["id"].as_i64().unwrap()).collect();
    let (st, numbers) = s.get(&format!("/api/blacklists/{test}/lists"), &pbx).await;
    assert_eq!((st, numbers["rowCount"].clone()), (200, json!(3)));
    assert_eq!(keys(&numbers["data"][0]), set(NUMBER_KEYS));

    // 直接导入黑白名单号码数据.
    let import = json!({"lists": [
        {"名称": "import_1", "名单类型": 1, "限制用户类型": 1, "号码名称": "hello", "起始号码": "123"},
        {"名称": "import_1", "名单类型": 1, "限制用户类型": 1, "号码名称": "hello1", "起始号码": "12345"}
    ]});
    let (st, body) = s.post("/api/blacklists/import", import, &pbx).await;
    assert_eq!(st, 200, "{body}");
    let made = body["data"][0]["id"].as_i64().unwrap();
    assert_success(
        st,
        &body,
        json!([{"list_type": 1, "name": "import_1", "limit_user_type": 1, "description": "", "id": made}]),
    );
    assert_eq!(
        numbers_of(&s, made).await,
        [("hello".into(), "123".into()), ("hello1".into(), "12345".into())]
    );
    // Importing into a list of that name again adds to it.
    let again = json!({"lists": [{"名称": "import_1", "名单类型": 1, "限制用户类型": 1, "号码名称": "more", "起始号码": "999"}]});
    let (st, body) = s.post("/api/blacklists/import", again, &pbx).await;
    assert_eq!((st, body["data"][0]["id"].clone()), (200, json!(made)), "{body}");
    assert_eq!(numbers_of(&s, made).await.len(), 3);
    assert_eq!(count(&s, "/api/blacklists", &pbx).await, 4);

    // 修改黑白名单: the body example, then the curl example.
    let seed = json!({"name": "test01", "id": "2", "limit_user_type": "1", "list_type": "1", "description": "test01"});
    let (st, body) = s.put(&format!("/api/blacklists/{hei}"), seed, &pbx).await;
    assert_success(st, &body, json!(hei.to_string()));
    let (_, one) = s.get(&format!("/api/blacklists/{hei}"), &pbx).await;
    assert_eq!(
        (one["name"].clone(), one["list_type"].clone(), one["description"].clone()),
        (json!("test01"), json!(1), json!("test01"))
    );
    let (st, body) = s
        .put(
            &format!("/api/blacklists/{test}"),
            json!({"name": "test", "description": "test", "id": "1"}),
            &pbx,
        )
        .await;
    assert_success(st, &body, json!(test.to_string()));

    // 修改号码列表.
    let (st, body) = s
        .put(
            &format!("/api/blacklists/{test}/lists/{}", imported[0]),
            json!({"k": "test", "v": "1008"}),
            &pbx,
        )
        .await;
    assert_success(st, &body, json!(imported[0].to_string()));

    // 批量修改名单下的号码列表: answers the last row as changed.
    let multi = json!({"data": [{"k": "xiaoyang", "v": "1003", "id": imported[0]}, {"k": "xiaoyang1", "v": "1004", "id": imported[1]}]});
    let (st, body) = s.put(&format!("/api/blacklists/{test}/multimodify"), multi, &pbx).await;
    assert_eq!(
        (st, body["code"].clone(), body["message"].clone()),
        (200, json!(200), json!("success")),
        "{body}"
    );
    let last = &body["data"];
    assert_eq!(keys(last), set(NUMBER_KEYS), "{last}");
    assert_eq!(
        (
            last["id"].clone(),
            last["k"].clone(),
            last["v"].clone(),
            last["ref_id"].clone(),
            last["realm"].clone(),
            last["disabled"].clone()
        ),
        (json!(imported[1]), json!("xiaoyang1"), json!("1004"), json!(test), json!("BLACKLIST"), json!(0))
    );
    assert_eq!(
        numbers_of(&s, test).await,
        [
            ("xiaoyang".into(), "1003".into()),
            ("xiaoyang1".into(), "1004".into()),
            ("1012".into(), "1012".into())
        ]
    );
    // The curl example sends no ids, which the table says are required.
    let curl = json!({"data": [{"k": "lili", "v": "1001"}, {"k": "xiaoyang", "v": "1003"}]});
    let (st, body) = s.put(&format!("/api/blacklists/{test}/multimodify"), curl, &pbx).await;
    assert_eq!((st, body["code"].clone()), (400, json!(400)));
    assert!(body["message"].as_str().unwrap().contains("row 1: id"), "{body}");

    // 删除黑白名单: its numbers go with it.
    let (st, body) = s.delete(&format!("/api/blacklists/{test}"), &pbx).await;
    assert_success(st, &body, json!(test.to_string()));
    assert!(numbers_of(&s, test).await.is_empty());
    let (st, body) = s.get(&format!("/api/blacklists/{test}"), &pbx).await;
    assert_eq!(
        (st, body),
        (404, json!({"code": 404, "message": "black/white list not found", "data": "{}"}))
    );

    // 删除号码列表.
    let (st, body) = s.delete(&format!("/api/blacklists/{bai}/lists/{first}"), &pbx).await;
    assert_success(st, &body, json!(first.to_string()));
    assert!(numbers_of(&s, bai).await.is_empty());
}

async fn blacklists_refuse_bad_input(b: Backend) {
    let Some(s) = Server::start(b, Settings::default()).await else { return };
    let pbx = s.pbx().await;
    let id = new_list(&s, &pbx, json!({"name": "black", "list_type": 0, "limit_user_type": 2})).await;

    let bad: Vec<(Value, u16, &str)> = vec![
        (json!({"name": "x", "list_type": 2, "limit_user_type": 0}), 400, "list_type"),
        (json!({"name": "x", "list_type": "white", "limit_user_type": 0}), 400, "list_type"),
        (json!({"name": "x", "list_type": 0, "limit_user_type": 3}), 400, "limit_user_type"),
        (json!({"name": "x", "list_type": 0, "limit_user_type": -1}), 400, "limit_user_type"),
        (json!({"name": "x", "list_type": 0}), 400, "limit_user_type"),
        (json!({"list_type": 0, "limit_user_type": 0}), 400, "name"),
        (json!({"name": ["x"], "list_type": 0, "limit_user_type": 0}), 400, "name"),
        (json!({"name": "black", "list_type": 0, "limit_user_type": 0}), 409, "name"),
    ];
    for (body, status, says) in bad {
        let (st, answer) = s.post("/api/blacklists", body.clone(), &pbx).await;
        assert_eq!((st, answer["code"].clone()), (status, json!(status)), "{body}: {answer}");
        assert!(answer["message"].as_str().unwrap().contains(says), "{says}: {answer}");
    }
    let (st, _) = s.put(&format!("/api/blacklists/{id}"), json!({"list_type": 7}), &pbx).await;
    assert_eq!(st, 400);
    for path in ["/api/blacklists/99999", "/api/blacklists/x"] {
        let (st, _) = s.get(path, &pbx).await;
        assert_eq!(st, 404);
        let (st, _) = s.put(path, json!({"name": "y"}), &pbx).await;
        assert_eq!(st, 404);
        let (st, _) = s.delete(path, &pbx).await;
        assert_eq!(st, 404);
    }

    // Imports of lists: one bad row and nothing at all is made.
    let row = |name: &str, list_type: Value, v: Value| json!({"名称": name, "名单类型": list_type, "限制用户类型": 1, "号码名称": "n", "起始号码": v});
    let cases: Vec<(Value, &str)> = vec![
        (
            json!({"lists": [row("new1", json!(1), json!("1")), row("new2", json!(5), json!("2"))]}),
            "row 2: 名单类型",
        ),
        (
            json!({"lists": [row("new1", json!(1), json!("1")), row("new1", json!(0), json!("2"))]}),
            "row 2: 名单类型",
        ),
        (
            json!({"lists": [row("new1", json!(1), json!("1")), row("black", json!(1), json!("2"))]}),
            "row 2: 名单类型",
        ),
        (
            json!({"lists": [row("new1", json!(1), json!("1")), row("new2", json!(1), json!("1 2"))]}),
            "row 2: 起始号码",
        ),
        (
            json!({"lists": [row("new1", json!(1), json!("1")), {"名单类型": 1, "限制用户类型": 1}]}),
            "row 2: 名称",
        ),
        (
            json!({"lists": [row("new1", json!(1), json!("1")), {"名称": "new3", "限制用户类型": 1}]}),
            "row 2: 名单类型",
        ),
        (
            json!({"lists": [{"名称": "new1", "名单类型": 1, "限制用户类型": 1, "号码名称": "only a name"}]}),
            "row 1: 起始号码",
        ),
        (json!({"lists": []}), "lists"),
        (json!({"data": []}), "lists"),
    ];
    for (body, says) in cases {
        let (st, answer) = s.post("/api/blacklists/import", body.clone(), &pbx).await;
        assert_eq!((st, answer["code"].clone()), (400, json!(400)), "{body}: {answer}");
        assert!(answer["message"].as_str().unwrap().contains(says), "{says}: {answer}");
    }
    assert_eq!(count(&s, "/api/blacklists", &pbx).await, 1, "no import made a list");
    assert!(numbers_of(&s, id).await.is_empty(), "no import added a number");
    // A list with no number, and numbers given as spreadsheet numbers.
    let fine = json!({"lists": [{"名称": "empty", "名单类型": "0", "限制用户类型": "0"}, {"名称": "black", "起始号码": 8613}]});
    let (st, body) = s.post("/api/blacklists/import", fine, &pbx).await;
    assert_eq!(st, 200, "{body}");
    assert_eq!(body["data"].as_array().unwrap().len(), 2);
    assert_eq!(numbers_of(&s, id).await, [("8613".into(), "8613".into())]);

    // A list a route still uses cannot go.
    let route = vec![
        ("name", "guarded".into()),
        ("max_length", 20.into()),
        ("context", "context-1".into()),
        ("dest_type", "FS_DEST_USER".into()),
        ("blacklist", id.to_string().into()),
    ];
    s.state.db.insert(&ROUTES, scope(&s).await, route, 0).await.unwrap();
    let (st, body) = s.delete(&format!("/api/blacklists/{id}"), &pbx).await;
    assert_eq!((st, body["code"].clone()), (409, json!(409)), "{body}");
    assert!(body["message"].as_str().unwrap().contains("route"), "{body}");
    assert_eq!(numbers_of(&s, id).await.len(), 1, "the refused delete kept the numbers");
}

async fn list_numbers_refuse_bad_input(b: Backend) {
    let Some(s) = Server::start(b, Settings::default()).await else { return };
    let pbx = s.pbx().await;
    let a = new_list(&s, &pbx, json!({"name": "a", "list_type": 0, "limit_user_type": 0})).await;
    let other = new_list(&s, &pbx, json!({"name": "b", "list_type": 1, "limit_user_type": 1})).await;
    let (st, body) =
        s.post(&format!("/api/blacklists/{a}/lists"), json!({"k": "boss", "v": "1001"}), &pbx).await;
    assert_eq!(st, 200, "{body}");
    let n = body["data"].as_i64().unwrap();
    let (_, body) =
        s.post(&format!("/api/blacklists/{other}/lists"), json!({"k": "x", "v": "2002"}), &pbx).await;
    let foreign = body["data"].as_i64().unwrap();

    let bad: Vec<(Value, &str)> = vec![
        (json!({"k": "no number"}), "v"),
        (json!({"k": "x", "v": ""}), "v"),
        (json!({"k": "x", "v": "10 01"}), "v"),
        (json!({"k": "x", "v": 1001}), "v"),
        (json!({"v": "1001"}), "k"),
        (json!({"k": 5, "v": "1001"}), "k"),
    ];
    for (body, says) in bad {
        let (st, answer) = s.post(&format!("/api/blacklists/{a}/lists"), body.clone(), &pbx).await;
        assert_eq!((st, answer["code"].clone()), (400, json!(400)), "{body}: {answer}");
        assert!(answer["message"].as_str().unwrap().contains(says), "{says}: {answer}");
    }
    let (st, _) = s.post("/api/blacklists/99999/lists", json!({"k": "x", "v": "1"}), &pbx).await;
    assert_eq!(st, 404);
    let (st, _) = s.get("/api/blacklists/99999/lists", &pbx).await;
    assert_eq!(st, 404);
    // A number is reached only through its own list.
    for path in [
        format!("/api/blacklists/{a}/lists/{foreign}"),
        format!("/api/blacklists/{a}/lists/99999"),
        format!("/api/blacklists/{a}/lists/z"),
    ] {
        let (st, body) = s.put(&path, json!({"v": "3"}), &pbx).await;
        assert_eq!((st, body["code"].clone()), (404, json!(404)), "{path}");
        let (st, _) = s.delete(&path, &pbx).await;
        assert_eq!(st, 404, "{path}");
    }
    let (st, _) = s.put(&format!("/api/blacklists/{a}/lists/{n}"), json!({"v": "bad number"}), &pbx).await;
    assert_eq!(st, 400);
    let (st, _) = s.put(&format!("/api/blacklists/{a}/lists/{n}"), json!({"v": null}), &pbx).await;
    assert_eq!(st, 400);
    assert_eq!(numbers_of(&s, a).await, [("boss".into(), "1001".into())]);

    // Import into a list: all or nothing.
    let cases: Vec<(Value, &str)> = vec![
        (json!({"data": [{"k": "a", "v": "1"}, {"k": "b", "v": "2 2"}]}), "row 2: v"),
        (json!({"data": [{"k": "a", "v": "1"}, {"v": "2"}]}), "row 2: k"),
        (json!({"data": [{"k": "a", "v": "1"}, 7]}), "row 2"),
        (json!({"data": []}), "data"),
        (json!({"rows": [{"k": "a", "v": "1"}]}), "data"),
    ];
    for (body, says) in cases {
        let (st, answer) = s.post(&format!("/api/blacklists/{a}/import"), body.clone(), &pbx).await;
        assert_eq!((st, answer["code"].clone()), (400, json!(400)), "{body}: {answer}");
        assert!(answer["message"].as_str().unwrap().contains(says), "{says}: {answer}");
    }
    let (st, _) = s.post("/api/blacklists/99999/import", json!({"data": [{"k": "a", "v": "1"}]}), &pbx).await;
    assert_eq!(st, 404);
    assert_eq!(numbers_of(&s, a).await.len(), 1);

    // Multimodify: every id of this list, once, or nothing changes.
    let cases: Vec<(Value, &str)> = vec![
        (json!({"data": [{"id": n, "k": "c", "v": "5"}, {"id": foreign, "k": "d", "v": "6"}]}), "row 2: id"),
        (json!({"data": [{"id": n, "k": "c", "v": "5"}, {"id": n, "k": "d", "v": "6"}]}), "row 2: id"),
        (json!({"data": [{"id": n, "k": "c", "v": "5"}, {"id": "x", "v": "6"}]}), "row 2: id"),
        (json!({"data": [{"id": n, "k": "c", "v": "5 5"}]}), "row 1: v"),
        (json!({"data": [{"id": n, "k": "", "v": "5"}]}), "row 1: k"),
        (json!({"data": []}), "data"),
        (json!({"data": {"id": n}}), "data"),
    ];
    for (body, says) in cases {
        let (st, answer) = s.put(&format!("/api/blacklists/{a}/multimodify"), body.clone(), &pbx).await;
        assert_eq!((st, answer["code"].clone()), (400, json!(400)), "{body}: {answer}");
        assert!(answer["message"].as_str().unwrap().contains(says), "{says}: {answer}");
    }
    assert_eq!(numbers_of(&s, a).await, [("boss".into(), "1001".into())], "nothing changed");
    assert_eq!(numbers_of(&s, other).await, [("x".into(), "2002".into())], "nothing changed");
}

async fn iptables_replay_the_seed(b: Backend) {
    let Some(s) = Server::start(b, Settings::default()).await else { return };
    let pbx = s.pbx().await;
    let (st, body) = s.get("/api/iptables", &pbx).await;
    assert_success(st, &body, json!([]));

    // 新建IP黑名单, and the list example's second rule.
    let seed = json!({"target_ip": "1.1.21.12", "target_name": "test", "target_port": "21345", "target_protocol": "udp"});
    let (st, body) = s.post("/api/iptables/add_rule", seed.clone(), &pbx).await;
    assert_success(st, &body, json!(true));
    let second = json!({"target_ip": "1.1.1.12", "target_name": "test", "target_port": 2345, "target_protocol": "udp"});
    let (st, body) = s.post("/api/iptables/add_rule", second, &pbx).await;
    assert_success(st, &body, json!(true));

    // 获取IP黑名单: exactly the seed's answer.
    let (st, body) = s.get("/api/iptables", &pbx).await;
    assert_eq!(st, 200);
    assert_eq!(
        body,
        json!({"code": 200, "message": "success", "data": [
            {"chain": "-A", "rule_spec": "INPUT -s 1.1.21.12/32 -p udp -m udp --dport 21345 -m comment --comment test -j DROP"},
            {"chain": "-A", "rule_spec": "INPUT -s 1.1.1.12/32 -p udp -m udp --dport 2345 -m comment --comment test -j DROP"}
        ]})
    );

    // Adding a rule again changes nothing (idempotent).
    let (st, body) = s.post("/api/iptables/add_rule", seed.clone(), &pbx).await;
    assert_success(st, &body, json!(true));
    let (_, body) = s.get("/api/iptables", &pbx).await;
    assert_eq!(body["data"].as_array().unwrap().len(), 2);

    // 删除IP黑名单.
    let (st, body) = s.post("/api/iptables/clean_drop_rule", seed.clone(), &pbx).await;
    assert_success(st, &body, json!(true));
    let (_, body) = s.get("/api/iptables", &pbx).await;
    assert_eq!(
        body["data"],
        json!([{"chain": "-A", "rule_spec": "INPUT -s 1.1.1.12/32 -p udp -m udp --dport 2345 -m comment --comment test -j DROP"}])
    );

    // A CIDR block for every protocol and port, and both protocols on one port.
    let (st, _) = s
        .post("/api/iptables/add_rule", json!({"target_ip": "10.9.8.7/8", "target_name": "lab net"}), &pbx)
        .await;
    assert_eq!(st, 200);
    let (st, _) = s
        .post(
            "/api/iptables/add_rule",
            json!({"target_ip": "2001:db8::1", "target_port": "5060", "target_protocol": "ALL"}),
            &pbx,
        )
        .await;
    assert_eq!(st, 200);
    let (_, body) = s.get("/api/iptables", &pbx).await;
    let specs: Vec<&str> =
        body["data"].as_array().unwrap().iter().map(|r| r["rule_spec"].as_str().unwrap()).collect();
    assert_eq!(
        specs,
        [
            "INPUT -s 1.1.1.12/32 -p udp -m udp --dport 2345 -m comment --comment test -j DROP",
            "INPUT -s 10.0.0.0/8 -m comment --comment \"lab net\" -j DROP",
            "INPUT -s 2001:db8::1/128 -p udp -m udp --dport 5060 -j DROP",
            "INPUT -s 2001:db8::1/128 -p tcp -m tcp --dport 5060 -j DROP",
        ]
    );
    // The block is the same one whether named by its address or its block.
    let (st, body) = s.post("/api/iptables/clean_drop_rule", json!({"target_ip": "10.1.1.1/8"}), &pbx).await;
    assert_success(st, &body, json!(true));
}

async fn iptables_refuse_bad_input(b: Backend) {
    let Some(s) = Server::start(b, Settings::default()).await else { return };
    let pbx = s.pbx().await;
    let base = json!({"target_ip": "1.1.21.12", "target_name": "test", "target_port": "21345", "target_protocol": "udp"});
    let with = |k: &str, v: Value| {
        let mut b = base.clone();
        b[k] = v;
        b
    };
    let bad: Vec<(Value, &str)> = vec![
        (with("target_ip", json!("1.1.1.256")), "target_ip"),
        (with("target_ip", json!("example.com")), "target_ip"),
        (with("target_ip", json!("1.1.1.1/40")), "target_ip"),
        (with("target_ip", json!(11112)), "target_ip"),
        (with("target_ip", json!("")), "target_ip"),
        (json!({"target_port": "5060"}), "target_ip"),
        (with("target_port", json!("0")), "target_port"),
        (with("target_port", json!(65536)), "target_port"),
        (with("target_port", json!("http")), "target_port"),
        (with("target_port", json!(true)), "target_port"),
        (with("target_protocol", json!("icmp")), "target_protocol"),
        (with("target_protocol", json!(17)), "target_protocol"),
        (with("target_name", json!("x".repeat(300))), "target_name"),
        (json!(["1.1.1.1"]), "object"),
    ];
    for (body, says) in bad {
        for path in ["/api/iptables/add_rule", "/api/iptables/clean_drop_rule"] {
            let (st, answer) = s.post(path, body.clone(), &pbx).await;
            assert_eq!((st, answer["code"].clone()), (400, json!(400)), "{path} {body}: {answer}");
            assert!(answer["message"].as_str().unwrap().contains(says), "{says}: {answer}");
        }
    }
    let (_, body) = s.get("/api/iptables", &pbx).await;
    assert_eq!(body["data"], json!([]), "nothing bad was added");

    // Removing a rule that is not there is a 404; another port or protocol
    // is another rule.
    let (st, body) = s.post("/api/iptables/clean_drop_rule", base.clone(), &pbx).await;
    assert_eq!((st, body["code"].clone()), (404, json!(404)), "{body}");
    let (st, _) = s.post("/api/iptables/add_rule", base.clone(), &pbx).await;
    assert_eq!(st, 200);
    for other in [
        with("target_port", json!("21346")),
        with("target_protocol", json!("tcp")),
        with("target_ip", json!("1.1.21.13")),
    ] {
        let (st, _) = s.post("/api/iptables/clean_drop_rule", other, &pbx).await;
        assert_eq!(st, 404);
    }
    let (st, body) = s.get("/api/iptables", &Auth::None).await;
    assert_eq!((st, body["code"].clone()), (401, json!(401)));
}
