//! Number translation tables and their numbers, replaying the PBX seed's
//! section in its order, then bad input.
#![allow(missing_docs, clippy::unwrap_used)]

mod support;

use api::Settings;
use serde_json::{json, Value};
use store::schema::NTS_NUMBERS;
use store::{Filter, Scope};
use support::{Auth, Backend, Server};

on_both_stores!(translation_replays_the_seed, translation_refuses_bad_input);

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

async fn translation_replays_the_seed(b: Backend) {
    let Some(s) = Server::start(b, Settings::default()).await else { return };
    let pbx = s.pbx().await;
    let base = "/api/number_translation";
    // What the seed's first examples assume.
    let test1 =
        create(&s, &pbx, base, json!({"name": "test1", "type": "prefix", "description": "test"})).await;
    let test2 = create(&s, &pbx, base, json!({"name": "test2", "type": "exact"})).await;
    let n1 = create(
        &s,
        &pbx,
        &format!("{base}/{test2}/numbers"),
        json!({"original_number": "1001", "nts_number": "91001"}),
    )
    .await;
    let n2 = create(
        &s,
        &pbx,
        &format!("{base}/{test2}/numbers"),
        json!({"original_number": "1002", "nts_number": "81002"}),
    )
    .await;

    // 获取号码变换表
    let (st, list) = s.get(base, &pbx).await;
    assert_eq!(st, 200, "{list}");
    assert_eq!(
        (list["page"].clone(), list["rowCount"].clone(), list["pageCount"].clone()),
        (json!(1), json!(2), json!(1))
    );
    let row = &list["data"][0];
    assert_eq!(
        (row["id"].clone(), row["name"].clone(), row["type"].clone(), row["description"].clone()),
        (json!(test1), json!("test1"), json!("prefix"), json!("test"))
    );
    assert_eq!(row["deleted_at"], "");
    assert_eq!(list["data"][1]["description"], "");
    let (st, one) = s.get(&format!("{base}/{test2}"), &pbx).await;
    assert_eq!((st, one["name"].clone(), one["type"].clone()), (200, json!("test2"), json!("exact")));

    // 获取指定号码变换表下号码信息
    let (st, numbers) = s.get(&format!("{base}/{test2}/numbers"), &pbx).await;
    assert_eq!(st, 200, "{numbers}");
    let page = &numbers["nts_numbers"];
    assert_eq!(
        (page["rowCount"].clone(), page["pageCount"].clone(), page["page"].clone()),
        (json!(2), json!(1), json!(1))
    );
    assert_eq!(
        (
            page["data"][0]["id"].clone(),
            page["data"][0]["original_number"].clone(),
            page["data"][0]["nts_number"].clone()
        ),
        (json!(n1), json!("1001"), json!("91001"))
    );
    assert_eq!(
        (page["data"][1]["id"].clone(), page["data"][1]["nts_number"].clone()),
        (json!(n2), json!("81002"))
    );
    assert_eq!(page["data"][0]["deleted_at"], "");
    assert_eq!(
        numbers["number_translation_info"],
        json!([{"name": "test2", "description": "", "type": "exact"}])
    );
    let (_, paged) = s.get(&format!("{base}/{test2}/numbers?page=2&perPage=1"), &pbx).await;
    assert_eq!(
        (paged["nts_numbers"]["pageCount"].clone(), paged["nts_numbers"]["data"][0]["id"].clone()),
        (json!(2), json!(n2))
    );

    // 新建号码变换表
    let table = create(&s, &pbx, base, json!({"name": "test", "type": "exact"})).await;
    // 新建号码列表
    let number = create(
        &s,
        &pbx,
        &format!("{base}/{table}/numbers"),
        json!({"original_number": "10001", "nts_number": "901001"}),
    )
    .await;
    // 指定号码变换表下批量新建号码列表: answers the table's id.
    let (st, body) = s
        .post(&format!("{base}/{table}/import"), json!([{"nts_number": "10001", "original_number": "901001"}, {"nts_number": "1002", "original_number": "811002"}]), &pbx)
        .await;
    assert_ok(st, &body, json!(table));
    let (_, numbers) = s.get(&format!("{base}/{table}/numbers"), &pbx).await;
    assert_eq!(numbers["nts_numbers"]["rowCount"], 3, "{numbers}");
    assert_eq!(numbers["nts_numbers"]["data"][2]["original_number"], "811002");

    // 修改号码变换表: name and description only.
    let (st, body) =
        s.put(&format!("{base}/{table}"), json!({"name": "test01", "description": "test01"}), &pbx).await;
    assert_ok(st, &body, json!(table.to_string()));
    let (st, body) = s
        .put(&format!("{base}/{table}"), json!({"name": "test", "description": "test", "id": "1"}), &pbx)
        .await;
    assert_ok(st, &body, json!(table.to_string()));
    let (_, one) = s.get(&format!("{base}/{table}"), &pbx).await;
    assert_eq!(
        (one["name"].clone(), one["description"].clone(), one["type"].clone()),
        (json!("test"), json!("test"), json!("exact"))
    );

    // 修改变换表中变换号码数值
    let (st, body) = s
        .put(
            &format!("{base}/{table}/{number}"),
            json!({"nts_number": "1112", "original_number": "1004"}),
            &pbx,
        )
        .await;
    assert_ok(st, &body, json!(number.to_string()));
    let (st, body) =
        s.put(&format!("{base}/{table}/{number}"), json!({"k": "test", "v": "1008"}), &pbx).await;
    assert_ok(st, &body, json!(number.to_string()));
    let (_, numbers) = s.get(&format!("{base}/{table}/numbers"), &pbx).await;
    assert_eq!(
        (
            numbers["nts_numbers"]["data"][0]["original_number"].clone(),
            numbers["nts_numbers"]["data"][0]["nts_number"].clone()
        ),
        (json!("1004"), json!("1112"))
    );

    // 删除号码变换表: with its numbers.
    let (st, body) = s.delete(&format!("{base}/{table}"), &pbx).await;
    assert_ok(st, &body, json!(table.to_string()));
    let (st, _) = s.get(&format!("{base}/{table}"), &pbx).await;
    assert_eq!(st, 404);
    let left =
        s.state.db.count(&NTS_NUMBERS, Scope::Global, &[Filter::eq("translation_id", table)]).await.unwrap();
    assert_eq!(left, 0);

    // 删除号码变换表中某号码
    let (st, body) = s.delete(&format!("{base}/{test2}/{n2}"), &pbx).await;
    assert_ok(st, &body, json!(n2.to_string()));
    let (_, numbers) = s.get(&format!("{base}/{test2}/numbers"), &pbx).await;
    assert_eq!(numbers["nts_numbers"]["rowCount"], 1);
}

async fn translation_refuses_bad_input(b: Backend) {
    let Some(s) = Server::start(b, Settings::default()).await else { return };
    let pbx = s.pbx().await;
    let base = "/api/number_translation";
    let table = create(&s, &pbx, base, json!({"name": "t1", "type": "prefix"})).await;
    let other = create(&s, &pbx, base, json!({"name": "t2", "type": "exact"})).await;
    let number = create(
        &s,
        &pbx,
        &format!("{base}/{table}/numbers"),
        json!({"original_number": "0086", "nts_number": "+86"}),
    )
    .await;

    for (body, field) in [
        (json!({"type": "exact"}), "name"),
        (json!({"name": "t3"}), "type"),
        (json!({"name": "t3", "type": "fuzzy"}), "type"),
        (json!({"name": 3, "type": "exact"}), "name"),
    ] {
        let (st, answer) = s.post(base, body, &pbx).await;
        assert_bad(st, &answer, field);
    }
    let (st, body) = s.post(base, json!({"name": "t1", "type": "exact"}), &pbx).await;
    assert_eq!((st, body["code"].clone()), (409, json!(409)), "{body}");
    let (st, body) = s.put(&format!("{base}/{other}"), json!({"name": "t1"}), &pbx).await;
    assert_eq!((st, body["code"].clone()), (409, json!(409)), "{body}");
    let (st, body) = s.put(&format!("{base}/{other}"), json!({"type": "prefix"}), &pbx).await;
    assert_bad(st, &body, "type");
    let (st, body) = s.put(&format!("{base}/{other}"), json!({"name": ""}), &pbx).await;
    assert_bad(st, &body, "name");
    let (_, list) = s.get(base, &pbx).await;
    assert_eq!(list["rowCount"], 2);
    assert_eq!(
        (list["data"][1]["name"].clone(), list["data"][1]["type"].clone()),
        (json!("t2"), json!("exact"))
    );

    let numbers = format!("{base}/{table}/numbers");
    for (body, field) in [
        (json!({"nts_number": "1"}), "original_number"),
        (json!({"original_number": "1"}), "nts_number"),
        (json!({"original_number": "12a", "nts_number": "1"}), "original_number"),
        (json!({"original_number": "1", "nts_number": "1 2"}), "nts_number"),
        (json!({"original_number": 1, "nts_number": "1"}), "original_number"),
    ] {
        let (st, answer) = s.post(&numbers, body, &pbx).await;
        assert_bad(st, &answer, field);
    }
    let (st, body) = s.post(&numbers, json!({"original_number": "0086", "nts_number": "1"}), &pbx).await;
    assert_eq!((st, body["code"].clone()), (409, json!(409)), "{body}");
    let (st, body) = s.put(&format!("{base}/{table}/{number}"), json!({"nts_number": "x"}), &pbx).await;
    assert_bad(st, &body, "nts_number");

    // Imports are all or nothing, naming the bad row.
    let import = format!("{base}/{table}/import");
    let good = json!({"original_number": "1", "nts_number": "2"});
    for (body, status, mentions) in [
        (json!({"original_number": "1"}), 400, "array"),
        (json!([]), 400, "empty"),
        (json!([good, {"original_number": "1x", "nts_number": "2"}]), 400, "row 2"),
        (json!([good, {"nts_number": "2"}]), 400, "row 2"),
        (json!([good, good]), 409, "row 2"),
        (json!([{"original_number": "0086", "nts_number": "2"}]), 409, "row 1"),
        (json!([good, "1"]), 400, "row 2"),
    ] {
        let (st, answer) = s.post(&import, body.clone(), &pbx).await;
        assert_eq!((st, answer["code"].clone()), (status, json!(status)), "{body}: {answer}");
        assert!(answer["message"].as_str().unwrap().contains(mentions), "{mentions}: {answer}");
    }
    let (_, page) = s.get(&numbers, &pbx).await;
    assert_eq!(page["nts_numbers"]["rowCount"], 1, "nothing was imported: {page}");

    for (method, path) in [
        ("get", format!("{base}/99999")),
        ("get", format!("{base}/abc/numbers")),
        ("post", format!("{base}/99999/numbers")),
        ("post", format!("{base}/99999/import")),
        ("put", format!("{base}/{other}/{number}")),
        ("delete", format!("{base}/{other}/{number}")),
        ("delete", format!("{base}/{table}/99999")),
        ("delete", format!("{base}/99999")),
    ] {
        let (st, body) = match method {
            "put" => s.put(&path, json!({"nts_number": "1"}), &pbx).await,
            "post" => s.post(&path, json!([{"original_number": "5", "nts_number": "6"}]), &pbx).await,
            "delete" => s.delete(&path, &pbx).await,
            _ => s.get(&path, &pbx).await,
        };
        assert_eq!((st, body["code"].clone()), (404, json!(404)), "{method} {path}: {body}");
    }
    let (st, _) = s.get(base, &Auth::None).await;
    assert_eq!(st, 401);
}
