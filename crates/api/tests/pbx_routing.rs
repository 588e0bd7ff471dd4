//! The PBX dial plan replayed from the seed, in its order: the
//! destination type dictionary, routes (create, delete, update, batch
//! update, list, match) and their params, route time windows, time
//! templates, contexts, route codes and feature codes.
#![allow(missing_docs, clippy::unwrap_used)]

mod support;

use api::Settings;
use serde_json::{json, Value};
use store::schema::{GATEWAYS, IVRS, TRUNK_GROUPS, WORKSPACES};
use store::{Filter, Scope};
use support::{Auth, Backend, Server};

on_both_stores!(
    dicts_and_routes,
    route_params,
    route_time_windows,
    time_templates,
    contexts,
    route_and_feature_codes
);

/// The default workspace's scope, for rows made through the store.
pub async fn scope(s: &Server) -> Scope {
    let ws = s
        .state
        .db
        .find(&WORKSPACES, Scope::Global, &[Filter::eq("access_key_id", s.workspace.as_str())])
        .await;
    Scope::Workspace(ws.unwrap().unwrap().id)
}

/// A row made through the store (for tables other helpers serve).
pub async fn make(s: &Server, res: &store::Resource, values: store::Values) -> i64 {
    let scope = scope(s).await;
    s.state.db.insert(res, scope, values, s.state.now()).await.unwrap().id
}

fn success(body: &Value) {
    assert_eq!((body["code"].clone(), body["message"].clone()), (json!(200), json!("success")), "{body}");
}

fn is_time(v: &Value) -> bool {
    v.as_str().is_some_and(|t| t.len() == 19 && &t[4..5] == "-" && &t[10..11] == " ")
}

/// The keys every route object of the seed shows.
const ROUTE_KEYS: &[&str] = &[
    "outdest_type",
    "bill_rate",
    "id",
    "proxy_media",
    "updated_at",
    "dest_type",
    "deleted_at",
    "blacklist",
    "created_at",
    "disabled",
    "auto_record",
    "media_codec",
    "body",
    "sdnc",
    "prefix",
    "max_length",
    "context",
    "cid_number",
    "description",
    "dest_uuid",
    "name",
    "dnc",
    "route_type",
];

fn route_shape(r: &Value) {
    for k in ROUTE_KEYS {
        assert!(r.get(*k).is_some(), "route lacks {k}: {r}");
    }
    assert!(r["id"].is_i64() && r["max_length"].is_i64() && r["route_type"].is_i64(), "{r}");
    assert!(r["proxy_media"].is_i64() && r["disabled"].is_i64() && r["auto_record"].is_i64(), "{r}");
    assert!(r["dest_uuid"].is_string() && r["bill_rate"].is_string() && r["prefix"].is_string(), "{r}");
    assert!(is_time(&r["created_at"]) && is_time(&r["updated_at"]), "{r}");
    assert_eq!(r["deleted_at"], "");
}

async fn dicts_and_routes(b: Backend) {
    let Some(s) = Server::start(b, Settings::default()).await else { return };
    let pbx = s.pbx().await;

    // 查询路由目的类型所有值
    let (st, dicts) = s.get("/api/dicts?realm=DEST", &pbx).await;
    assert_eq!(st, 200, "{dicts}");
    let dicts = dicts.as_array().unwrap();
    assert_eq!(dicts.len(), store::schema::DEST_TYPES.len());
    assert_eq!(
        (dicts[0]["k"].clone(), dicts[0]["v"].clone(), dicts[0]["o"].clone()),
        (json!("FS_DEST_USER"), json!("USER"), json!(1))
    );
    assert_eq!(
        (dicts[1]["k"].clone(), dicts[1]["v"].clone(), dicts[1]["o"].clone()),
        (json!("FS_DEST_RING_EXTNS"), json!("RING_ALL_EXTN"), json!(2))
    );
    for d in dicts {
        assert!(d["id"].is_i64() && d["o"].is_i64(), "{d}");
        assert_eq!(
            (d["realm"].clone(), d["d"].clone(), d["deleted_at"].clone()),
            (json!("DEST"), json!(""), json!(""))
        );
        assert!(
            is_time(&d["created_at"])
                && is_time(&d["updated_at"])
                && d["v"].as_str().is_some_and(|v| !v.is_empty())
        );
    }
    for t in store::schema::DEST_TYPES {
        assert!(dicts.iter().any(|d| d["k"] == *t), "{t} missing");
    }

    // Destinations the seed's routes name.
    let ivr = make(&s, &IVRS, vec![("name", "IVR示例1".into())]).await;
    let gw = make(&s, &GATEWAYS, vec![("name", "example".into()), ("realm", "example.com".into())]).await;

    // 创建路由: IVR
    let (st, body) = s
        .post(
            "/api/routes",
            json!({"context": "context-1", "dest_type": "FS_DEST_IVR", "max_length": "11", "name": "IVR test", "prefix": "1", "dest_uuid": ivr.to_string()}),
            &pbx,
        )
        .await;
    assert_eq!(st, 200, "{body}");
    success(&body);
    let r = &body["data"];
    route_shape(r);
    let ivr_route = r["id"].as_i64().unwrap();
    assert_eq!(r["name"], "IVR test");
    assert_eq!(r["max_length"], 11);
    assert_eq!(
        (r["proxy_media"].clone(), r["route_type"].clone(), r["disabled"].clone(), r["auto_record"].clone()),
        (json!(1), json!(4), json!(0), json!(0))
    );
    assert_eq!(
        (r["bill_rate"].clone(), r["body"].clone(), r["dest_uuid"].clone()),
        (json!("0.00"), json!("IVR示例1"), json!(ivr.to_string()))
    );
    assert_eq!(
        (r["context"].clone(), r["prefix"].clone(), r["media_codec"].clone()),
        (json!("context-1"), json!("1"), json!(""))
    );

    // curl form of the same body (a new name, the same destination).
    let (st, body) = s
        .post(
            "/api/routes",
            json!({"name": "IVR test 2","prefix": "1","max_length": "13", "context": "context-1","dest_type": "FS_DEST_IVR","dest_uuid": ivr}),
            &pbx,
        )
        .await;
    assert_eq!(st, 200, "{body}");
    let ivr_route2 = body["data"]["id"].as_i64().unwrap();

    // 临时会议
    let (st, body) = s
        .post(
            "/api/routes",
            json!({"context": "context-1", "dest_type": "FS_DEST_USER_CONFERENCE", "dest_uuid": "1", "max_length": "12", "name": "cccc", "prefix": "5"}),
            &pbx,
        )
        .await;
    assert_eq!(st, 200, "{body}");
    route_shape(&body["data"]);
    assert_eq!((body["data"]["body"].clone(), body["data"]["dest_uuid"].clone()), (json!(""), json!("1")));
    let conf_route = body["data"]["id"].as_i64().unwrap();

    // 网关路由
    let (st, body) = s
        .post(
            "/api/routes",
            json!({"name": "qing", "prefix": "78900", "max_length": "12", "context": "context-1", "dest_type": "FS_DEST_GATEWAY", "dest_uuid": gw.to_string()}),
            &pbx,
        )
        .await;
    assert_eq!(st, 200, "{body}");
    route_shape(&body["data"]);
    assert_eq!(
        (body["data"]["body"].clone(), body["data"]["max_length"].clone()),
        (json!("example"), json!(12))
    );
    let gw_route = body["data"]["id"].as_i64().unwrap();

    // 删除路由
    let (st, body) = s.delete(&format!("/api/routes/{gw_route}"), &pbx).await;
    assert_eq!(
        (st, body.clone()),
        (200, json!({"message": "success", "code": 200, "data": gw_route.to_string()}))
    );
    let (st, body) = s.get(&format!("/api/routes/{gw_route}"), &pbx).await;
    assert_eq!((st, body["code"].clone(), body["data"].clone()), (404, json!(404), json!("{}")));

    // 修改指定路由
    let (st, body) = s
        .put(
            &format!("/api/routes/{conf_route}"),
            json!({"auto_record": "1", "context": "context-1", "description": "1", "dest_type": "FS_DEST_GATEWAY", "dest_uuid": gw.to_string(), "max_length": 12, "name": "test", "prefix": "78900", "route_type": "4"}),
            &pbx,
        )
        .await;
    assert_eq!(
        (st, body.clone()),
        (200, json!({"message": "success", "data": conf_route.to_string(), "code": 200}))
    );
    let (_, one) = s.get(&format!("/api/routes/{conf_route}"), &pbx).await;
    assert_eq!(
        (one["name"].clone(), one["auto_record"].clone(), one["body"].clone(), one["prefix"].clone()),
        (json!("test"), json!(1), json!("example"), json!("78900"))
    );
    let (st, body) = s
        .put(
            &format!("/api/routes/{conf_route}"),
            json!({"auto_record":"1","context":"context-1","description":"test dialplan","dest_type":"FS_DEST_CONFERENCE","dest_uuid":"2","max_length":"10","name": "test","prefix": "32432","route_type": "4"}),
            &pbx,
        )
        .await;
    assert_eq!((st, body["data"].clone()), (200, json!(conf_route.to_string())), "{body}");
    let (_, one) = s.get(&format!("/api/routes/{conf_route}"), &pbx).await;
    assert_eq!(
        (
            one["dest_type"].clone(),
            one["dest_uuid"].clone(),
            one["max_length"].clone(),
            one["description"].clone()
        ),
        (json!("FS_DEST_CONFERENCE"), json!("2"), json!(10), json!("test dialplan"))
    );
    assert_eq!(one["body"], "", "the gateway's name no longer applies");

    // 批量修改路由
    let (st, body) = s
        .put("/api/routes", json!({"auto_record": "1", "media_codec": ["PCMU","PCMA"], "route": [ivr_route.to_string(), conf_route.to_string()]}), &pbx)
        .await;
    assert_eq!((st, body.clone()), (200, json!({"data": [], "code": 200, "message": "update rows 2"})));
    for id in [ivr_route, conf_route] {
        let (_, one) = s.get(&format!("/api/routes/{id}"), &pbx).await;
        assert_eq!(
            (one["auto_record"].clone(), one["media_codec"].clone()),
            (json!(1), json!("PCMU,PCMA")),
            "{one}"
        );
    }
    let (_, untouched) = s.get(&format!("/api/routes/{ivr_route2}"), &pbx).await;
    assert_eq!((untouched["auto_record"].clone(), untouched["media_codec"].clone()), (json!(0), json!("")));
    let (st, body) = s
        .put("/api/routes", json!({"media_codec": "PCMA, G729", "route_type": 3, "proxy_media": "0", "bill_rate": "0.15", "did_enabled": true, "blacklist": 0, "route": [ivr_route2]}), &pbx)
        .await;
    assert_eq!((st, body["message"].clone()), (200, json!("update rows 1")), "{body}");
    let (_, one) = s.get(&format!("/api/routes/{ivr_route2}"), &pbx).await;
    assert_eq!(
        (
            one["media_codec"].clone(),
            one["route_type"].clone(),
            one["proxy_media"].clone(),
            one["bill_rate"].clone()
        ),
        (json!("PCMA,G729"), json!(3), json!(0), json!("0.15"))
    );

    // 查询路由
    let (st, list) = s.get("/api/routes", &pbx).await;
    assert_eq!(st, 200);
    assert_eq!(
        (list["page"].clone(), list["rowCount"].clone(), list["pageCount"].clone()),
        (json!(1), json!(3), json!(1))
    );
    for r in list["data"].as_array().unwrap() {
        route_shape(r);
    }
    let (st, page) = s.get("/api/routes?perPage=2&page=2", &pbx).await;
    assert_eq!(
        (st, page["page"].clone(), page["pageCount"].clone(), page["data"].as_array().unwrap().len()),
        (200, json!(2), json!(2), 1)
    );
    let (st, none) =
        s.get("/api/routes?destNumber=15666&context=context-1&destType=FS_DEST_USER&dest=xx", &pbx).await;
    assert_eq!((st, none["code"].clone(), none["data"].clone()), (404, json!(404), json!("{}")), "{none}");
    let (st, by_type) = s.get("/api/routes?destType=FS_DEST_IVR", &pbx).await;
    assert_eq!((st, by_type["rowCount"].clone()), (200, json!(2)));
    let (st, by_dest) = s.get("/api/routes?dest=2&context=context-1", &pbx).await;
    assert_eq!(
        (st, by_dest["rowCount"].clone(), by_dest["data"][0]["id"].clone()),
        (200, json!(1), json!(conf_route))
    );
    let (st, one) = s.get(&format!("/api/routes/{ivr_route}"), &pbx).await;
    assert_eq!(st, 200);
    route_shape(&one);
    assert_eq!((one["id"].clone(), one["name"].clone()), (json!(ivr_route), json!("IVR test")));

    // 验证路由是否正确: the seed's "User" route for context-1.
    let (st, body) = s
        .post(
            "/api/routes",
            json!({"name": "User", "description": "本地分机", "prefix": "1", "max_length": "12", "context": "context-1", "dest_type": "FS_DEST_USER"}),
            &pbx,
        )
        .await;
    assert_eq!(st, 200, "{body}");
    let user_route = body["data"]["id"].as_i64().unwrap();
    // "IVR test" (prefix 1, at most 11 digits) is narrower and wins a tie
    // on prefix; disabled, it no longer matches.
    let (st, m) = s.get("/api/routes?destNumber=1001&context=context-1", &pbx).await;
    assert_eq!((st, m["data"][0]["id"].clone()), (200, json!(ivr_route)), "{m}");
    let (st, _) = s.put(&format!("/api/routes/{ivr_route}"), json!({"disabled": "1"}), &pbx).await;
    assert_eq!(st, 200);
    let (st, m) = s.get("/api/routes?destNumber=1001&context=context-1", &pbx).await;
    assert_eq!(st, 200, "{m}");
    assert_eq!(
        (m["page"].clone(), m["pageCount"].clone(), m["rowCount"].clone()),
        (json!(1), json!(1), json!(1))
    );
    let r = &m["data"][0];
    route_shape(r);
    assert_eq!(
        (r["id"].clone(), r["name"].clone(), r["dest_type"].clone(), r["description"].clone()),
        (json!(user_route), json!("User"), json!("FS_DEST_USER"), json!("本地分机"))
    );
    for extra in ["outdest_uuid", "outbody", "work_time"] {
        assert_eq!(r[extra], "", "{r}");
    }
    // The longest prefix wins; too long a number matches nothing here.
    let (_, m) = s.get("/api/routes?destNumber=32432123&context=context-1", &pbx).await;
    assert_eq!(m["data"][0]["id"], conf_route);
    let (st, _) = s.get("/api/routes?destNumber=12345678901234&context=context-1", &pbx).await;
    assert_eq!(st, 404);
    let (st, _) = s.get("/api/routes?destNumber=1001&context=context-2", &pbx).await;
    assert_eq!(st, 404);
    // destNumber alone: every route that admits the number.
    let (st, m) = s.get("/api/routes?destNumber=1001", &pbx).await;
    assert_eq!((st, m["rowCount"].clone()), (200, json!(2)), "{m}");

    // Routes a gateway or IVR still names keep it (409 naming the route).
    let err = s.state.db.delete(&IVRS, scope(&s).await, &store::Key::Id(ivr)).await.unwrap_err();
    let api_err = api::ApiError::from(err);
    assert_eq!(api_err.kind.status().as_u16(), 409);
    assert!(api_err.message.contains("route"), "{}", api_err.message);
    let (st, _) = s
        .put(
            &format!("/api/routes/{conf_route}"),
            json!({"dest_type": "FS_DEST_GATEWAY", "dest_uuid": gw}),
            &pbx,
        )
        .await;
    assert_eq!(st, 200);
    let err = s.state.db.delete(&GATEWAYS, scope(&s).await, &store::Key::Id(gw)).await.unwrap_err();
    let api_err = api::ApiError::from(err);
    assert_eq!(api_err.kind.status().as_u16(), 409);
    assert!(api_err.message.contains(&format!("route {conf_route}")), "{}", api_err.message);
}

async fn route_params(b: Backend) {
    let Some(s) = Server::start(b, Settings::default()).await else { return };
    let pbx = s.pbx().await;
    let (_, body) = s
        .post("/api/routes", json!({"name": "User", "prefix": "1", "max_length": 12, "context": "context-1", "dest_type": "FS_DEST_USER"}), &pbx)
        .await;
    let route = body["data"]["id"].as_i64().unwrap();
    let base = format!("/api/routes/{route}/params");

    let (st, list) = s.get(&base, &pbx).await;
    assert_eq!((st, list), (200, json!([])));

    // 路由中添加参数
    let (st, body) = s.post(&base, json!({"k": "set", "v": "a=2222"}), &pbx).await;
    assert_eq!(st, 200, "{body}");
    success(&body);
    let param = body["data"].as_i64().unwrap();
    let (_, body) =
        s.post(&base, json!({"k": "set", "v": "effective_caller_id_number=1xxx", "o": 2}), &pbx).await;
    let second = body["data"].as_i64().unwrap();

    // 查询指定路由下的参数
    let (st, list) = s.get(&base, &pbx).await;
    assert_eq!(st, 200);
    let items = list.as_array().unwrap();
    assert_eq!(items.len(), 2);
    let p = &items[0];
    assert_eq!(
        (p["id"].clone(), p["realm"].clone(), p["k"].clone(), p["v"].clone()),
        (json!(param), json!("ROUTE"), json!("set"), json!("a=2222"))
    );
    assert_eq!(
        (p["ref_id"].clone(), p["o"].clone(), p["disabled"].clone(), p["deleted_at"].clone()),
        (json!(route), json!(1), json!(0), json!(""))
    );
    assert!(is_time(&p["created_at"]) && is_time(&p["updated_at"]));

    // 编辑参数
    let (st, body) = s.put(&format!("{base}/{param}"), json!({"k": "set", "v": "a=3333"}), &pbx).await;
    assert_eq!(st, 200, "{body}");
    success(&body);
    let p = &body["data"];
    assert_eq!(
        (
            p["id"].clone(),
            p["v"].clone(),
            p["realm"].clone(),
            p["ref_id"].clone(),
            p["o"].clone(),
            p["disabled"].clone()
        ),
        (json!(param), json!("a=3333"), json!("ROUTE"), json!(route), json!(1), json!(0))
    );
    // The curl form: the param's id in the body.
    let (st, body) =
        s.put(&base, json!({"id": second, "k": "set", "v": "a=4444", "disabled": "1"}), &pbx).await;
    assert_eq!(
        (st, body["data"]["v"].clone(), body["data"]["disabled"].clone()),
        (200, json!("a=4444"), json!(1)),
        "{body}"
    );

    // 删除路由中参数
    let (st, body) = s.delete(&format!("/api/routes/{route}/param/{param}"), &pbx).await;
    assert_eq!((st, body), (200, json!({"message": "success", "data": 1, "code": 200})));
    let (_, list) = s.get(&base, &pbx).await;
    assert_eq!(list.as_array().unwrap().len(), 1);

    // Deleting the route deletes its params.
    let (st, _) = s.delete(&format!("/api/routes/{route}"), &pbx).await;
    assert_eq!(st, 200);
    let (st, _) = s.get(&base, &pbx).await;
    assert_eq!(st, 404);
    let left = s.state.db.count(&store::schema::PARAMS, scope(&s).await, &[]).await.unwrap();
    assert_eq!(left, 0);
}

async fn route_time_windows(b: Backend) {
    let Some(s) = Server::start(b, Settings::default()).await else { return };
    let pbx = s.pbx().await;
    let ivr = make(&s, &IVRS, vec![("name", "IVR示例1".into())]).await;
    let (_, body) = s
        .post("/api/routes", json!({"name": "User", "prefix": "1", "max_length": 12, "context": "context-1", "dest_type": "FS_DEST_USER"}), &pbx)
        .await;
    let route = body["data"]["id"].as_i64().unwrap();

    // 获取路由的时间段信息 (none yet)
    let (st, body) = s.get(&format!("/api/time_recurrence/route/{route}"), &pbx).await;
    assert_eq!((st, body), (200, json!({"data": [], "message": "ok", "code": 200})));

    // 增加路由时间段信息: the array body, then the curl's single object.
    let (st, body) = s
        .post(
            "/api/time_recurrence",
            json!([{"dest_type": "FS_DEST_USER", "dest_uuid": "", "route_id": route.to_string(), "time_recurrence": "20220502T000000|PT59M59.696S|daily||1|MO"}]),
            &pbx,
        )
        .await;
    assert_eq!(st, 200, "{body}");
    let first = body[0]["id"].as_i64().unwrap();
    assert_eq!(body, json!([{"id": first}]));
    let (st, body) = s
        .post(
            "/api/time_recurrence",
            json!({"dest_type": "FS_DEST_USER","dest_uuid": "","route_id": route.to_string(),"time_recurrence":"20220502T000000|PT59M59.696S|daily||1|MO"}),
            &pbx,
        )
        .await;
    assert_eq!(st, 200, "{body}");
    let second = body[0]["id"].as_i64().unwrap();
    let (st, body) = s
        .post(
            "/api/time_recurrence",
            json!([{"dest_type": "FS_DEST_IVR", "dest_uuid": ivr.to_string(), "route_id": route, "time_recurrence": "20230305T170000|PT6H0.06S|daily||1|MO,TU,WE,TH,FR"}]),
            &pbx,
        )
        .await;
    assert_eq!(st, 200, "{body}");
    let third = body[0]["id"].as_i64().unwrap();

    let (st, body) = s.get(&format!("/api/time_recurrence/route/{route}"), &pbx).await;
    assert_eq!((st, body["code"].clone(), body["message"].clone()), (200, json!(200), json!("ok")));
    let items = body["data"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    let w = &items[2];
    assert_eq!(
        (
            w["id"].clone(),
            w["route_id"].clone(),
            w["dest_type"].clone(),
            w["dest_uuid"].clone(),
            w["body"].clone()
        ),
        (json!(third), json!(route), json!("FS_DEST_IVR"), json!(ivr.to_string()), json!("IVR示例1"))
    );
    assert_eq!(w["time_recurrence"], "20230305T170000|PT6H0.06S|daily||1|MO,TU,WE,TH,FR");
    assert!(is_time(&w["created_at"]) && is_time(&w["updated_at"]) && w["deleted_at"] == "");

    // 更新时间段信息: the array (ids as sent), then the curl's object.
    let (st, body) = s
        .put(
            "/api/time_recurrence",
            json!([{"dest_type": "FS_DEST_USER", "dest_uuid": "", "route_id": route.to_string(), "time_recurrence": "20220502T000000|PT1H59M59S|daily||1|MO", "id": first.to_string()}]),
            &pbx,
        )
        .await;
    assert_eq!((st, body), (200, json!([{"id": first.to_string()}])));
    let (st, body) = s
        .put(
            "/api/time_recurrence",
            json!({"dest_type":"FS_DEST_USER","dest_uuid":"","route_id":route.to_string(),"time_recurrence":"20220502T000000|PT1H59M59S|daily||1|MO","id":second.to_string()}),
            &pbx,
        )
        .await;
    assert_eq!((st, body), (200, json!([{"id": second.to_string()}])));
    let (_, body) = s.get(&format!("/api/time_recurrence/route/{route}"), &pbx).await;
    assert_eq!(body["data"][0]["time_recurrence"], "20220502T000000|PT1H59M59S|daily||1|MO");
    assert_eq!(body["data"][1]["time_recurrence"], "20220502T000000|PT1H59M59S|daily||1|MO");

    // 删除指定时间段信息
    let (st, body) = s.delete(&format!("/api/time_recurrence/{first}"), &pbx).await;
    assert_eq!((st, body), (200, json!({"id": first.to_string()})));
    let (st, _) = s.delete(&format!("/api/time_recurrence/{first}"), &pbx).await;
    assert_eq!(st, 404);

    // 删除指定路由时间段信息
    let (st, body) = s.delete(&format!("/api/time_recurrence/route/{route}"), &pbx).await;
    assert_eq!((st, body), (200, json!({"id": route.to_string()})));
    let (_, body) = s.get(&format!("/api/time_recurrence/route/{route}"), &pbx).await;
    assert_eq!(body["data"], json!([]));

    // Deleting a route deletes its windows.
    let (_, _) = s
        .post("/api/time_recurrence", json!([{"dest_type": "FS_DEST_USER", "route_id": route, "time_recurrence": "20220502T000000|PT1H|daily"}]), &pbx)
        .await;
    let (st, _) = s.delete(&format!("/api/routes/{route}"), &pbx).await;
    assert_eq!(st, 200);
    let left = s.state.db.count(&store::schema::TIME_RECURRENCES, scope(&s).await, &[]).await.unwrap();
    assert_eq!(left, 0);
}

async fn time_templates(b: Backend) {
    let Some(s) = Server::start(b, Settings::default()).await else { return };
    let pbx = s.pbx().await;

    // 获取时间段模板
    let (st, body) = s.get("/api/time_recurrence/templates?perPage=100", &pbx).await;
    assert_eq!(
        (st, body),
        (
            200,
            json!({"data": {"pageCount": 0, "rowCount": 0, "data": [], "page": 1}, "code": 200, "message": "ok"})
        )
    );

    // 创建时间段模板
    let (st, body) = s
        .post(
            "/api/time_recurrence/templates",
            json!([{"name": "template_11", "description": "desc 1"}]),
            &pbx,
        )
        .await;
    assert_eq!((st, body["code"].clone(), body["message"].clone()), (200, json!(200), json!("ok")), "{body}");
    let t = &body["data"][0];
    assert_eq!(
        (t["name"].clone(), t["description"].clone(), t["deleted_at"].clone()),
        (json!("template_11"), json!("desc 1"), json!(""))
    );
    assert!(is_time(&t["created_at"]) && is_time(&t["updated_at"]));
    let template = t["id"].as_i64().unwrap();

    // 创建时间模板时间数据
    let (st, body) = s
        .post(
            "/api/time_recurrence/templates/time_recurrences",
            json!([{"template_id": template, "time_recurrence": "20100101T010101|PT10H||daily"}, {"template_id": template, "time_recurrence": "20100102T010101|PT10H||daily"}]),
            &pbx,
        )
        .await;
    assert_eq!(st, 200, "{body}");
    assert_eq!((body["code"].clone(), body["message"].clone()), (json!(200), json!("ok")));
    let group = &body["data"][0];
    assert_eq!((body["data"].as_array().unwrap().len(), group["id"].clone()), (1, json!(template)));
    let windows = group["time_recurrences"].as_array().unwrap();
    assert_eq!(windows.len(), 2);
    assert_eq!(windows[1]["time_recurrence"], "20100102T010101|PT10H||daily");
    let w1: i64 = windows[0]["id"].as_str().unwrap().parse().unwrap();
    let w2: i64 = windows[1]["id"].as_str().unwrap().parse().unwrap();

    // 更新时间段模板
    let (st, body) = s
        .put(
            "/api/time_recurrence/templates",
            json!([{"id": template, "name": "tempalte_333", "description": "desc333"}]),
            &pbx,
        )
        .await;
    assert_eq!((st, body), (200, json!({"data": [{"id": template}], "code": 200, "message": "ok"})));

    // 更新时间段模板字符串数据 (one row: one {"id"}, as sent)
    let (st, body) = s
        .put(
            "/api/time_recurrence/templates/time_recurrences",
            json!([{"id": w1.to_string(), "time_recurrence": "20770101T010101|PT10H||daily"}]),
            &pbx,
        )
        .await;
    assert_eq!((st, body), (200, json!({"message": "ok", "code": 200, "data": {"id": w1.to_string()}})));

    // 删除时间段模板
    let (_, body) = s
        .post("/api/time_recurrence/templates", json!([{"name": "a"}, {"name": "b"}, {"name": "c"}]), &pbx)
        .await;
    let ids: Vec<i64> = body["data"].as_array().unwrap().iter().map(|t| t["id"].as_i64().unwrap()).collect();
    let (st, body) = s.delete_with("/api/time_recurrence/templates", json!(ids), &pbx).await;
    let expect: Vec<Value> = ids.iter().map(|id| json!({"id": id})).collect();
    assert_eq!((st, body), (200, json!({"data": expect, "code": 200, "message": "ok"})));

    // 获取指定 id 的时间段模板详细信息
    let (st, body) = s.get(&format!("/api/time_recurrence/templates/{template}"), &pbx).await;
    assert_eq!((st, body["code"].clone(), body["message"].clone()), (200, json!(200), json!("ok")));
    let t = &body["data"];
    assert_eq!(
        (t["id"].clone(), t["name"].clone(), t["description"].clone(), t["deleted_at"].clone()),
        (json!(template), json!("tempalte_333"), json!("desc333"), json!(""))
    );
    assert_eq!(
        t["time_recurrences"],
        json!([{"id": w1, "time_recurrence": "20770101T010101|PT10H||daily"}, {"id": w2, "time_recurrence": "20100102T010101|PT10H||daily"}])
    );

    // 删除单条模板字符串数据
    let (st, body) = s.delete(&format!("/api/time_recurrence/templates/time_recurrences/{w1}"), &pbx).await;
    assert_eq!((st, body), (200, json!({"data": {"id": w1.to_string()}, "code": 200, "message": "ok"})));
    // 删除多条模板字符串数据
    let (st, body) =
        s.delete_with("/api/time_recurrence/templates/time_recurrences", json!([w2]), &pbx).await;
    assert_eq!((st, body), (200, json!({"message": "ok", "data": [{"id": w2}], "code": 200})));

    // 时间管理: the same endpoints again with the section's examples.
    let (st, body) = s.get("/api/time_recurrence/templates", &pbx).await;
    assert_eq!(
        (
            st,
            body["data"]["rowCount"].clone(),
            body["data"]["page"].clone(),
            body["data"]["pageCount"].clone()
        ),
        (200, json!(1), json!(1), json!(1))
    );
    assert_eq!(body["data"]["data"][0]["name"], "tempalte_333");
    let (st, body) =
        s.post("/api/time_recurrence/templates", json!([{"name": "asd", "description": "test"}]), &pbx).await;
    assert_eq!(
        (st, body["data"][0]["name"].clone(), body["data"][0]["description"].clone()),
        (200, json!("asd"), json!("test"))
    );
    let asd = body["data"][0]["id"].as_i64().unwrap();
    let (st, body) =
        s.post("/api/time_recurrence/templates", json!({"name": "test", "description": "test"}), &pbx).await;
    assert_eq!((st, body["data"][0]["name"].clone()), (200, json!("test")), "{body}");
    let test = body["data"][0]["id"].as_i64().unwrap();
    let (st, body) = s
        .put(
            "/api/time_recurrence/templates",
            json!([{"name": "test", "id": test, "description": "test"}]),
            &pbx,
        )
        .await;
    assert_eq!((st, body), (200, json!({"code": 200, "data": [{"id": test}], "message": "ok"})));
    let (st, body) = s
        .put(
            "/api/time_recurrence/templates",
            json!({"name": "test", "description": "test", "id": test.to_string()}),
            &pbx,
        )
        .await;
    assert_eq!((st, body["data"].clone()), (200, json!([{"id": test.to_string()}])));
    let (st, body) = s.delete_with("/api/time_recurrence/templates", json!([test]), &pbx).await;
    assert_eq!((st, body), (200, json!({"code": 200, "message": "ok", "data": [{"id": test}]})));

    // 创建工作日和节假日
    let (st, body) = s
        .post(
            "/api/time_recurrence/templates/time_recurrences",
            json!([{"template_id": asd.to_string(), "time_recurrence": "20220503T070000|PT59M59.464S|daily||1|SU"}, {"template_id": asd.to_string(), "time_recurrence": "20220511T000000|PT119H59M59S|yearly||1|"}]),
            &pbx,
        )
        .await;
    assert_eq!(st, 200, "{body}");
    assert_eq!(body["data"][0]["id"], json!(asd.to_string()));
    let ws = body["data"][0]["time_recurrences"].as_array().unwrap();
    assert_eq!(ws[1]["time_recurrence"], "20220511T000000|PT119H59M59S|yearly||1|");
    let (a, b2) = (
        ws[0]["id"].as_str().unwrap().parse::<i64>().unwrap(),
        ws[1]["id"].as_str().unwrap().parse::<i64>().unwrap(),
    );

    // 修改工作日和节假日 (several rows: an array)
    let (st, body) = s
        .put(
            "/api/time_recurrence/templates/time_recurrences",
            json!([{"template_id": asd.to_string(), "time_recurrence": "20220503T070000|PT2H|daily||1|SU", "id": a}, {"template_id": asd.to_string(), "time_recurrence": "20220511T000000|PT119H59M59S|yearly||1|", "id": b2}]),
            &pbx,
        )
        .await;
    assert_eq!((st, body), (200, json!({"code": 200, "message": "ok", "data": [{"id": a}, {"id": b2}]})));
    let (_, body) = s.get(&format!("/api/time_recurrence/templates/{asd}"), &pbx).await;
    assert_eq!(
        body["data"]["time_recurrences"][0],
        json!({"id": a, "time_recurrence": "20220503T070000|PT2H|daily||1|SU"})
    );

    // 删除工作日或节假日
    let (st, body) = s.delete(&format!("/api/time_recurrence/templates/time_recurrences/{b2}"), &pbx).await;
    assert_eq!((st, body), (200, json!({"code": 200, "message": "ok", "data": {"id": b2.to_string()}})));

    // Deleting a template deletes its windows.
    let (st, _) = s.delete_with("/api/time_recurrence/templates", json!([asd]), &pbx).await;
    assert_eq!(st, 200);
    let left = s.state.db.count(&store::schema::TEMPLATE_RECURRENCES, scope(&s).await, &[]).await.unwrap();
    assert_eq!(left, 0);
}

async fn contexts(b: Backend) {
    let Some(s) = Server::start(b, Settings::default()).await else { return };
    let pbx = s.pbx().await;

    // 查看呼叫源列表: every workspace starts with context-1 and context-2.
    let (st, list) = s.get("/api/contexts", &pbx).await;
    assert_eq!(st, 200);
    assert_eq!(
        (list["page"].clone(), list["pageCount"].clone(), list["rowCount"].clone()),
        (json!(1), json!(1), json!(2))
    );
    let c1 = &list["data"][0];
    assert_eq!(
        (c1["key"].clone(), c1["name"].clone(), c1["description"].clone()),
        (json!("context-1"), json!("分机"), json!("本地分机发起的呼叫"))
    );
    assert_eq!(
        (c1["hotline_enabled"].clone(), c1["domain"].clone(), c1["deleted_at"].clone()),
        (json!(0), json!(""), json!(""))
    );
    assert!(is_time(&c1["created_at"]) && is_time(&c1["updated_at"]) && c1["id"].is_i64());
    let c2 = &list["data"][1];
    assert_eq!(
        (c2["key"].clone(), c2["name"].clone(), c2["description"].clone()),
        (json!("context-2"), json!("外部"), json!("外部中继发起的呼叫"))
    );

    // 查看指定呼叫源
    let id1 = c1["id"].as_i64().unwrap();
    let (st, one) = s.get(&format!("/api/contexts/{id1}"), &pbx).await;
    assert_eq!((st, one), (200, c1.clone()));

    // 创建新的呼叫源
    let (st, body) = s.post("/api/contexts", json!({"name": "test", "description": "测试"}), &pbx).await;
    assert_eq!(st, 200, "{body}");
    success(&body);
    let id = body["data"].as_i64().unwrap();
    let (_, one) = s.get(&format!("/api/contexts/{id}"), &pbx).await;
    assert_eq!(
        (one["key"].clone(), one["name"].clone(), one["description"].clone(), one["hotline_enabled"].clone()),
        (json!("context-3"), json!("test"), json!("测试"), json!(0))
    );

    // 修改指定呼叫源配置
    let (st, body) = s
        .put(
            &format!("/api/contexts/{id}"),
            json!({"description": "For Internal Call", "hotline_enabled": "1"}),
            &pbx,
        )
        .await;
    assert_eq!((st, body), (200, json!({"data": id.to_string(), "message": "success", "code": 200})));
    let (_, one) = s.get(&format!("/api/contexts/{id}"), &pbx).await;
    assert_eq!(
        (one["description"].clone(), one["hotline_enabled"].clone(), one["key"].clone()),
        (json!("For Internal Call"), json!(1), json!("context-3"))
    );

    // A route in the new context keeps it; deleting is refused, naming it.
    let (st, body) = s
        .post("/api/routes", json!({"name": "in3", "prefix": "8", "max_length": 4, "context": "context-3", "dest_type": "FS_DEST_USER"}), &pbx)
        .await;
    assert_eq!(st, 200, "{body}");
    let route = body["data"]["id"].as_i64().unwrap();
    let (st, body) = s.delete(&format!("/api/contexts/{id}"), &pbx).await;
    assert_eq!((st, body["code"].clone(), body["data"].clone()), (409, json!(409), json!("{}")));
    assert!(body["message"].as_str().unwrap().contains(&format!("route {route}")), "{body}");
    s.delete(&format!("/api/routes/{route}"), &pbx).await;

    // 删除指定呼叫源
    let (st, body) = s.delete(&format!("/api/contexts/{id}"), &pbx).await;
    assert_eq!((st, body), (200, json!({"data": id.to_string(), "message": "success", "code": 200})));
    let (st, body) = s.get(&format!("/api/contexts/{id}"), &pbx).await;
    assert_eq!((st, body), (404, json!({"code": 404, "message": "context not found", "data": "{}"})));
    // A new key follows the highest one left.
    let (_, body) = s.post("/api/contexts", json!({"name": "销售部"}), &pbx).await;
    let (_, one) = s.get(&format!("/api/contexts/{}", body["data"]), &pbx).await;
    assert_eq!(one["key"], "context-3");
}

async fn route_and_feature_codes(b: Backend) {
    let Some(s) = Server::start(b, Settings::default()).await else { return };
    let pbx = s.pbx().await;
    let tg = make(&s, &TRUNK_GROUPS, vec![("name", "t_group9".into()), ("strategy", "RR".into())]).await;

    // 增加单个路由码 (made first: the seed's reads assume one exists)
    let (st, body) =
        s.post("/api/route_codes", json!({"tg_id": tg, "code": "code1", "description": "des1"}), &pbx).await;
    assert_eq!(st, 200, "{body}");
    success(&body);
    let code = body["data"].as_str().unwrap().parse::<i64>().unwrap();
    // The curl repeats code1: a duplicate.
    let (st, body) = s
        .post(
            "/api/route_codes",
            json!({"code": "code1", "description": "desc1", "tg_id": tg.to_string()}),
            &pbx,
        )
        .await;
    assert_eq!((st, body["code"].clone()), (409, json!(409)), "{body}");

    // 获取路由码
    let (st, list) = s.get("/api/route_codes?perPage=10&page=1", &pbx).await;
    assert_eq!(
        (st, list),
        (
            200,
            json!({"pageCount": 1, "page": 1, "data": [{"code": "code1", "description": "des1", "id": code, "tg_id": tg}], "rowCount": 1})
        )
    );
    let (st, one) = s.get(&format!("/api/route_codes/{code}"), &pbx).await;
    assert_eq!((st, one), (200, json!({"description": "des1", "id": code, "tg_id": tg, "code": "code1"})));

    // 更新路由码
    let (st, body) = s
        .put(
            &format!("/api/route_codes/{code}"),
            json!({"description": "des00", "tg_id": tg.to_string(), "code": "code00"}),
            &pbx,
        )
        .await;
    assert_eq!((st, body), (200, json!({"message": "success", "data": code.to_string(), "code": 200})));
    let (st, body) = s
        .put(
            &format!("/api/route_codes/{code}"),
            json!({"code": "testcode", "description": "test", "tg_id": tg.to_string()}),
            &pbx,
        )
        .await;
    assert_eq!((st, body["data"].clone()), (200, json!(code.to_string())));
    let (_, one) = s.get(&format!("/api/route_codes/{code}"), &pbx).await;
    assert_eq!((one["code"].clone(), one["description"].clone()), (json!("testcode"), json!("test")));

    // 删除路由码: one, then all.
    let (st, body) = s.delete(&format!("/api/route_codes/{code}"), &pbx).await;
    assert_eq!((st, body), (200, json!({"message": "success", "data": code.to_string(), "code": 200})));
    for c in ["a1", "a2"] {
        let (st, _) = s.post("/api/route_codes", json!({"code": c, "tg_id": tg}), &pbx).await;
        assert_eq!(st, 200);
    }
    // A route names a trunk group by one of its route codes; a code that
    // does not exist is refused.
    let by_code = |code: &str| {
        json!({"context": "context-1", "dest_type": "FS_DEST_CLUSTER_TRUNK_GROUP", "max_length": "11",
               "name": format!("via {code}"), "prefix": format!("9{}", code.len()), "dest_uuid": code})
    };
    let (st, body) = s.post("/api/routes", by_code("a1"), &pbx).await;
    assert_eq!(st, 200, "{body}");
    assert_eq!(
        (body["data"]["dest_uuid"].clone(), body["data"]["body"].clone()),
        (json!("a1"), json!("t_group9"))
    );
    let (st, body) = s.post("/api/routes", by_code("nope"), &pbx).await;
    assert_eq!(st, 400, "{body}");
    let (st, body) = s.delete("/api/route_codes", &pbx).await;
    assert_eq!((st, body), (200, json!({"code": 200, "data": "2", "message": "success"})));
    let (_, list) = s.get("/api/route_codes", &pbx).await;
    assert_eq!(list["rowCount"], 0);

    // 创建功能码
    let (st, body) = s
        .post(
            "/api/func_code",
            json!({"func_code": "*123", "func_type": "FS_DEST_FUNC_CALL_FORWARDING", "description": "test"}),
            &pbx,
        )
        .await;
    assert_eq!(st, 200, "{body}");
    success(&body);
    let fc = body["data"].as_i64().unwrap();
    let (st, _) = s
        .post(
            "/api/func_code",
            json!({"func_code": "*79", "func_type": "FS_DEST_MCASTS", "description": "组播"}),
            &pbx,
        )
        .await;
    assert_eq!(st, 200);

    // 查看功能码
    let (st, list) = s.get("/api/func_code", &pbx).await;
    assert_eq!(
        (st, list["rowCount"].clone(), list["page"].clone(), list["pageCount"].clone()),
        (200, json!(2), json!(1), json!(1))
    );
    let f = &list["data"][0];
    assert_eq!(
        (
            f["id"].clone(),
            f["func_code"].clone(),
            f["func_type"].clone(),
            f["description"].clone(),
            f["disabled"].clone()
        ),
        (json!(fc), json!("*123"), json!("FS_DEST_FUNC_CALL_FORWARDING"), json!("test"), json!(0))
    );
    let (st, one) = s.get(&format!("/api/func_code/{fc}"), &pbx).await;
    assert_eq!(
        (st, one["id"].clone(), one["disabled"].clone(), one["deleted_at"].clone()),
        (200, json!(fc), json!(0), json!(""))
    );
    assert!(is_time(&one["created_at"]) && is_time(&one["updated_at"]));
    let (st, only) = s.get("/api/func_code?func_type=FS_DEST_MCASTS", &pbx).await;
    assert_eq!((st, only["rowCount"].clone()), (200, json!(1)));

    // 修改指定 ID 的功能码: toggle, then the fields.
    let (st, body) = s.put(&format!("/api/func_code/{fc}"), json!({"action": "toggle"}), &pbx).await;
    assert_eq!((st, body), (200, json!({"code": 200, "data": fc.to_string(), "message": "success"})));
    let (_, one) = s.get(&format!("/api/func_code/{fc}"), &pbx).await;
    assert_eq!((one["disabled"].clone(), one["func_code"].clone()), (json!(1), json!("*123")));
    s.put(&format!("/api/func_code/{fc}"), json!({"action": "toggle"}), &pbx).await;
    let (_, one) = s.get(&format!("/api/func_code/{fc}"), &pbx).await;
    assert_eq!(one["disabled"], 0);
    let (st, body) = s
        .put(
            &format!("/api/func_code/{fc}"),
            json!({"func_code": "$VeryGoodPassw0rd", "func_type": "FS_DEST_MCASTS", "description": "test1"}),
            &pbx,
        )
        .await;
    assert_eq!((st, body["data"].clone()), (200, json!(fc.to_string())), "{body}");
    let (st, body) = s
        .put(
            &format!("/api/func_code/{fc}"),
            json!({"func_code": "*1234", "func_type": "FS_DEST_MCASTS", "description": "test1"}),
            &pbx,
        )
        .await;
    assert_eq!((st, body["data"].clone()), (200, json!(fc.to_string())));
    let (_, one) = s.get(&format!("/api/func_code/{fc}"), &pbx).await;
    assert_eq!(
        (one["func_code"].clone(), one["func_type"].clone(), one["description"].clone()),
        (json!("*1234"), json!("FS_DEST_MCASTS"), json!("test1"))
    );

    // 删除指定 ID 的功能码
    let (st, body) = s.delete(&format!("/api/func_code/{fc}"), &pbx).await;
    assert_eq!((st, body), (200, json!({"code": 200, "message": "success", "data": fc.to_string()})));
    let (st, _) = s.get(&format!("/api/func_code/{fc}"), &pbx).await;
    assert_eq!(st, 404);
    let _ = Auth::None;
}
